"""Split into Shots: text written elsewhere becomes real shots.

Two shapes are understood:
- the multi-shot syntax the model reads (``shot 1, 2, a girl walks; shot 2, 3, …;``, any case,
  ``Shot``/``镜头``): its shots with their seconds, in the order written;
- a pasted shot list: one shot per non-blank line, each with optional seconds written ``3s`` or
  ``3 s`` (also ``3 sec``, ``3秒``) at the start or the end of the line, e.g.
  ``3s  A girl walks…`` or ``A girl walks… (3 s)``. List markers (``1.``, ``-``, ``•``) and a
  leading ``Shot 2:`` are dropped.

Lines without seconds share what the explicit seconds leave of the shot's own length (so the
total, and the price, stay as they were when they can); when too little is left each gets the
minimum. Problems raise ``ShotSplitError`` with a sentence for people; nothing is half-split.
"""

from __future__ import annotations

import re
from dataclasses import replace

from kling_studio.domain.limits import KLING_3_TURBO, LimitsProfile
from kling_studio.domain.multishot import MultiShotParseError, looks_multishot, parse_multishot
from kling_studio.domain.storyboard import Shot, Storyboard

_UNIT = r"(?:secs?|s|秒)(?![a-z])"
_NUMBER = r"(\d+(?:[.,]\d+)?)"
# Seconds at the start: "3s A girl", "3 s: A girl", "(3s) A girl", "3 sec – A girl".
_LEADING = re.compile(rf"^[(\[]?{_NUMBER}\s*{_UNIT}[)\]]?[\s:.,;–—-]*", re.IGNORECASE)
# Seconds at the end, after a space or a dash: "A girl walks 3s", "A girl walks (3 s).", "… – 3 sec".
_TRAILING = re.compile(rf"(?:^|[\s,;:–—-]+)[(\[]?{_NUMBER}\s*{_UNIT}[)\]]?[.;]?$", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^(?:[-*•·]|\d+[.)])\s+")
_SHOT_LABEL = re.compile(r"^(?:shot|镜头)\s*\d+\s*[:：.)–—-]\s*", re.IGNORECASE)


class ShotSplitError(ValueError):
    """The text cannot become shots; the message says why, in words."""


def offers_split(text: str) -> bool:
    """True when the text looks like shots: the multi-shot syntax, or two or more non-blank lines."""
    if looks_multishot(text):
        return True
    return sum(1 for line in text.splitlines() if line.strip()) >= 2


def split_text(text: str, total_seconds: int, profile: LimitsProfile = KLING_3_TURBO) -> list[Shot]:
    """The shots ``text`` describes. ``total_seconds`` is shared among lines without seconds."""
    shots = _from_syntax(text, profile) if looks_multishot(text) else _from_lines(text, total_seconds, profile)
    if len(shots) > profile.max_shots:
        raise ShotSplitError(
            f"The text describes {len(shots)} shots; a storyboard holds at most {profile.max_shots}. "
            "Merge some lines first."
        )
    return shots


def split_shot(storyboard: Storyboard, index: int, profile: LimitsProfile = KLING_3_TURBO) -> Storyboard:
    """The storyboard with shot ``index`` replaced by the shots its text describes."""
    if not 0 <= index < len(storyboard.shots):
        raise ShotSplitError("Select a shot to split first.")
    shot = storyboard.shots[index]
    if not offers_split(shot.text):
        raise ShotSplitError(
            "Nothing to split: write one shot per line (optionally with seconds, like 3s), "
            "or use the form shot 1, 2, …; shot 2, 3, …;"
        )
    total = shot.duration if isinstance(shot.duration, int) and not isinstance(shot.duration, bool) else 0
    parts = split_text(shot.text, total, profile)
    count = len(storyboard.shots) - 1 + len(parts)
    if count > profile.max_shots:
        raise ShotSplitError(
            f"Splitting shot {index + 1} into {len(parts)} shots would make {count}; a storyboard holds at most "
            f"{profile.max_shots}. Delete or merge shots first."
        )
    # The first new shot keeps whatever else the original carried (unknown project-file keys).
    parts[0] = replace(parts[0], extra=dict(shot.extra))
    shots = [*storyboard.shots[:index], *parts, *storyboard.shots[index + 1 :]]
    return storyboard.with_shots(shots)


def _from_syntax(text: str, profile: LimitsProfile) -> list[Shot]:
    try:
        parsed = parse_multishot(text)
    except MultiShotParseError as exc:
        raise ShotSplitError(f"The text starts like shot 1, 2, …; but does not follow it: {exc}.") from None
    shots: list[Shot] = []
    for n, item in enumerate(parsed, start=1):
        if item.duration < profile.min_shot_seconds:
            raise ShotSplitError(
                f"Shot {n} lasts {item.duration} s; each shot needs at least {profile.min_shot_seconds} s."
            )
        shots.append(Shot(item.text, item.duration))
    return shots


def _from_lines(text: str, total_seconds: int, profile: LimitsProfile) -> list[Shot]:
    texts: list[str] = []
    seconds: list[int | None] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        line = _SHOT_LABEL.sub("", _LIST_MARKER.sub("", line, count=1), count=1)
        body, value = _line_seconds(line, number, profile)
        if not body:
            raise ShotSplitError(f"Line {number} gives seconds but no text; write what happens in that shot.")
        texts.append(body)
        seconds.append(value)
    if not texts:
        raise ShotSplitError("There is no text to split.")
    return [Shot(t, s) for t, s in zip(texts, _fill_seconds(seconds, total_seconds, profile), strict=True)]


def _line_seconds(line: str, number: int, profile: LimitsProfile) -> tuple[str, int | None]:
    """The line without its seconds, and the seconds (None when the line gives none)."""
    match = _LEADING.search(line)
    if match is not None:
        rest = line[match.end() :]
    else:
        match = _TRAILING.search(line)
        if match is None:
            return line, None
        rest = line[: match.start()]
    written = match.group(1)
    if not written.isdigit():
        raise ShotSplitError(f"Line {number} gives {written} s; shots last whole seconds (e.g. 3s).")
    value = int(written)
    if value < profile.min_shot_seconds:
        raise ShotSplitError(f"Line {number} gives {value} s; each shot needs at least {profile.min_shot_seconds} s.")
    return rest.strip(), value


def _fill_seconds(seconds: list[int | None], total: int, profile: LimitsProfile) -> list[int]:
    """Lines without seconds share what is left of ``total``; each gets at least the minimum."""
    missing = [i for i, s in enumerate(seconds) if s is None]
    left = total - sum(s for s in seconds if s is not None)
    minimum = profile.min_shot_seconds
    filled = [s if s is not None else minimum for s in seconds]
    if missing and left >= minimum * len(missing):
        share, extra = divmod(left, len(missing))
        for k, i in enumerate(missing):
            filled[i] = share + (1 if k < extra else 0)
    return filled
