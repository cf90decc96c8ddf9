"""FCPXML 1.8 for one take: a format, an asset, and a project whose spine holds the take with a
plain marker on the first frame of every shot.

Written with ElementTree rather than OTIO's fcpx adapter: the adapter names the format with
``ffprobe`` (so the file changed with what was installed) and cannot write 23.976. Every time is
a whole number of frames written as Final Cut writes it (``frameDuration`` × frames, ``"Ns"``
for whole seconds); the format is named the way Final Cut names its own (``FFVideoFormat1080p2997``)
only for the sizes it has names for, otherwise it carries width and height alone. The element
order and attributes follow the FCPXML 1.8 DTD; the tests validate with ``xmllint --dtdvalid``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from kling_studio.services.editor_export import STANDARD_RATES, EditorExportError, TakePlan, is_drop_frame, marker_name

FCPXML_VERSION = "1.8"
# Final Cut writes a frame as 100/2400s at whole rates and 1001/24000s at NTSC rates.
_FRAME_DURATION = {
    rate: (1001, rate.numerator) if rate.denominator == 1001 else (100, 100 * int(rate)) for rate in STANDARD_RATES
}
# Frame sizes Final Cut has named formats for (FFVideoFormat720p24, FFVideoFormat1080p2997, …).
_NAMED_SIZES = {(1280, 720): "720", (1920, 1080): "1080"}
_AUDIO_RATES = {32000: "32k", 44100: "44.1k", 48000: "48k", 88200: "88.2k", 96000: "96k"}


def rate_label(rate: Fraction) -> str:
    """``2398``, ``24``, ``2997``, ``5994``: the rate as Final Cut spells it in format names."""
    if rate.denominator == 1001:
        return {24000: "2398", 30000: "2997", 60000: "5994"}[rate.numerator]
    return str(int(rate))


def format_name(width: int | None, height: int | None, rate: Fraction) -> str | None:
    """Final Cut's name for a progressive format, or None when it has none for that size."""
    size = _NAMED_SIZES.get((width or 0, height or 0))
    if size is None or rate not in _FRAME_DURATION:
        return None
    return f"FFVideoFormat{size}p{rate_label(rate)}"


def fcp_time(frames: int, rate: Fraction) -> str:
    """``frames`` as FCPXML rational seconds: ``0s``, ``3s``, ``3003/1000s`` → ``3003/1000s``."""
    num, den = _FRAME_DURATION[rate]
    value = Fraction(frames * num, den)
    if value.denominator == 1:
        return f"{value.numerator}s"
    return f"{frames * num}/{den}s"


def fcpxml_text(plan: TakePlan) -> str:
    rate = plan.rate
    if rate not in _FRAME_DURATION:
        raise EditorExportError(
            f"Final Cut Pro XML cannot describe {float(rate):.3f} fps (it knows 23.976, 24, 25, 29.97, 30, "
            "50, 59.94 and 60); export .otio or .edl instead."
        )
    duration = fcp_time(plan.frames, rate)
    tc_format = "DF" if is_drop_frame(rate) else "NDF"
    root = ET.Element("fcpxml", version=FCPXML_VERSION)
    resources = ET.SubElement(root, "resources")
    fmt = ET.SubElement(resources, "format", id="r1")
    name = format_name(plan.width, plan.height, rate)
    if name is not None:
        fmt.set("name", name)
    fmt.set("frameDuration", fcp_time(1, rate))
    if plan.width and plan.height:
        fmt.set("width", str(plan.width))
        fmt.set("height", str(plan.height))
    asset = ET.SubElement(
        resources,
        "asset",
        id="r2",
        name=plan.video.name,
        src=plan.video.as_uri(),
        start="0s",
        duration=duration,
        hasVideo="1",
        format="r1",
    )
    if plan.has_audio:
        asset.set("hasAudio", "1")
        asset.set("audioSources", "1")
        asset.set("audioChannels", str(plan.audio_channels or 2))
        asset.set("audioRate", str(plan.audio_rate or 48000))
    library = ET.SubElement(root, "library")
    event = ET.SubElement(library, "event", name="Kling Studio")
    project = ET.SubElement(event, "project", name=plan.title)
    sequence = ET.SubElement(project, "sequence", format="r1", duration=duration, tcStart="0s", tcFormat=tc_format)
    if plan.has_audio:
        sequence.set("audioLayout", "stereo" if (plan.audio_channels or 2) >= 2 else "mono")
        sequence.set("audioRate", _AUDIO_RATES.get(plan.audio_rate or 48000, "48k"))
    spine = ET.SubElement(sequence, "spine")
    clip = ET.SubElement(
        spine,
        "asset-clip",
        ref="r2",
        offset="0s",
        name=plan.video.name,
        start="0s",
        duration=duration,
        format="r1",
        tcFormat=tc_format,
    )
    for shot in plan.shots:
        # No ``completed`` attribute: with one a marker becomes a to-do item.
        ET.SubElement(
            clip,
            "marker",
            start=fcp_time(shot.frame, rate),
            duration=fcp_time(1, rate),
            value=marker_name(shot.number, shot.text),
        )
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n' + body + "\n"
