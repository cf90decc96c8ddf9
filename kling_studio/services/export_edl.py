"""CMX 3600 EDL for one take: one event, a ``* LOC:`` locator on the first frame of every shot.

Written here rather than by OTIO's cmx_3600 writer, which has no ``FCM:`` line, takes the reel
from the file name and lets comment lines run past 80 columns. What this file promises:

- ``FCM: NON-DROP FRAME``, or ``FCM: DROP FRAME`` with ``;`` timecodes at 29.97 and 59.94;
- the reel is ``K`` + the first 7 characters of the job id (unique per take, not the date the
  file names share);
- every line within 80 columns and plain ASCII: shot text in other scripts is transliterated
  with ``anyascii`` (``東京の夜景`` → ``Dong Jing no Ye Jing``), never dropped;
- the event carries the take's audio (channel ``B``) when it has a sound track.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from anyascii import anyascii

from kling_studio.services.editor_export import TakePlan, is_drop_frame

EDL_COLUMNS = 80
REEL_CHARS = 8
_LOC_PREFIX = "* LOC: "
_COLOUR = "RED"


def to_ascii(text: str) -> str:
    """One line of ASCII: each wide (CJK, kana) character becomes its own spaced syllable."""
    parts: list[str] = []
    for ch in " ".join(text.split()).replace("…", "..."):
        if ord(ch) < 128:
            parts.append(ch)
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            parts.append(f" {anyascii(ch)} ")
        else:
            parts.append(anyascii(ch))
    return " ".join("".join(parts).split())


def fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: width - 3].rstrip() + "..."


def reel_name(reel_id: str) -> str:
    """``K`` + the id's first letters and digits, 8 characters; a name with too few gets a hash."""
    clean = re.sub(r"[^A-Za-z0-9]", "", reel_id).upper()
    if len(clean) < REEL_CHARS - 1:
        clean = hashlib.sha1(reel_id.encode("utf-8")).hexdigest().upper()
    return ("K" + clean)[:REEL_CHARS]


def timecode(plan: TakePlan, frame: int) -> str:
    text: str = plan.time(frame).to_timecode(plan.float_rate, is_drop_frame(plan.rate))
    return text


def edl_text(plan: TakePlan) -> str:
    fcm = "DROP FRAME" if is_drop_frame(plan.rate) else "NON-DROP FRAME"
    start, end = timecode(plan, 0), timecode(plan, plan.frames)
    channel = "B" if plan.has_audio else "V"
    lines = [
        fit(f"TITLE: {to_ascii(plan.title)}", EDL_COLUMNS),
        f"FCM: {fcm}",
        "",
        f"001  {reel_name(plan.reel_id):8} {channel:5} C        {start} {end} {start} {end}",
        fit(f"* FROM CLIP NAME:  {to_ascii(plan.video.name)}", EDL_COLUMNS),
    ]
    for shot in plan.shots:
        head = f"{_LOC_PREFIX}{timecode(plan, shot.frame)} {_COLOUR:7} "
        text = to_ascii(shot.text)
        lines.append(fit(f"{head}Shot {shot.number}: {text}" if text else f"{head}Shot {shot.number}", EDL_COLUMNS))
    return "\n".join(lines) + "\n"
