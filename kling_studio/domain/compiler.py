"""The storyboard compiler: a Storyboard in, the exact prompt and request body out.

Output format (the contract's §5 decision):
- one shot: the prompt is that shot's text, trimmed; a plain prompt with the prompt's limit
  (3072, advisory 2500), unless the text is itself in the shot syntax (then storyboard rules);
- two to six shots: ``shot {n}, {seconds}, {text};`` per shot, joined by one space.
Multi-shot text is normalised first (NFC, whitespace folded, ``;``/``；`` turned into ``,``),
and every semicolon change is reported as a ``text_sanitized`` warning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from kling_studio.domain.diagnostics import Diagnostic
from kling_studio.domain.first_frame import FirstFrameCheck, check_first_frame_url, check_image_facts
from kling_studio.domain.limits import KLING_3_TURBO, LimitsProfile, get_profile
from kling_studio.domain.multishot import check_multishot_text, looks_multishot, parse_multishot
from kling_studio.domain.storyboard import Shot, Storyboard

TEXT_TO_VIDEO = "text-to-video"
IMAGE_TO_VIDEO = "image-to-video"

_WHITESPACE_RUN = re.compile(r"\s+")
_SEPARATORS = (";", "；")


@dataclass(frozen=True)
class CompiledPrompt:
    """Everything the UI, the CLI and the engine need to know about a storyboard."""

    text: str
    length: int
    mode: str
    request: dict[str, Any]
    errors: tuple[Diagnostic, ...]
    warnings: tuple[Diagnostic, ...]
    estimated_cost_usd: float | None
    shot_texts: tuple[str, ...] = ()
    # (start, end) code-point spans in ``text`` where a separator was replaced.
    sanitized_spans: tuple[tuple[int, int], ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "prompt": self.text,
            "length": self.length,
            "mode": self.mode,
            "request": self.request,
            "errors": [d.to_json() for d in self.errors],
            "warnings": [d.to_json() for d in self.warnings],
            "estimated_cost_usd": self.estimated_cost_usd,
        }


def sanitize_shot_text(text: str) -> tuple[str, list[int]]:
    """Normalise one shot's text for the multi-shot format.

    Returns the clean text and the positions (code points, in the clean text) of the
    separators that were turned into commas.
    """
    clean, positions = _sanitized(text)
    return clean, list(positions)


@lru_cache(maxsize=64)
def _sanitized(text: str) -> tuple[str, tuple[int, ...]]:
    # The editor recompiles on every keystroke, and only one shot's text changed: the other
    # shots' results come from here instead of being normalised again.
    text = unicodedata.normalize("NFC", text)
    text = _WHITESPACE_RUN.sub(" ", text).strip()
    positions: list[int] = []
    for sep in _SEPARATORS:  # str.find: C speed, not a Python loop over every character
        at = text.find(sep)
        while at >= 0:
            positions.append(at)
            at = text.find(sep, at + 1)
        text = text.replace(sep, ",")
    return text, tuple(sorted(positions))


def is_whole_seconds(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def estimate_cost_usd(
    seconds: int, resolution: str, prices: Mapping[str, Decimal | float | str] | None = None
) -> float | None:
    """Price of a request billed by its duration; None when the resolution has no price."""
    table = prices if prices is not None else KLING_3_TURBO.price_per_second_usd
    if resolution not in table:
        return None
    return float(round(Decimal(str(table[resolution])) * seconds, 4))


def compile_storyboard(
    storyboard: Storyboard,
    *,
    first_frame_check: FirstFrameCheck | None = None,
    prices: Mapping[str, Decimal | float | str] | None = None,
) -> CompiledPrompt:
    """Compile a storyboard. Never raises for bad content: problems become diagnostics.

    ``first_frame_check`` carries what ``services.image_prep`` measured of a local first frame;
    without it a local image is not judged here (the domain does no I/O).
    """
    settings = storyboard.settings
    profile = get_profile(settings.model)
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    if profile is None:
        errors.append(
            Diagnostic(
                "unsupported_model",
                f"Unknown model {settings.model!r}; Kling Studio supports {KLING_3_TURBO.model!r}.",
            )
        )
        profile = KLING_3_TURBO

    shots = storyboard.shots
    mode = IMAGE_TO_VIDEO if storyboard.first_frame is not None else TEXT_TO_VIDEO
    _check_shot_count(shots, profile, errors)
    durations_ok = _check_durations(shots, profile, errors)
    total = storyboard.total_duration
    if durations_ok and shots and not profile.min_total_seconds <= total <= profile.max_total_seconds:
        errors.append(
            Diagnostic(
                "total_duration_out_of_range",
                f"The shots add up to {total} s; the total must be {profile.total_range_text()}.",
            )
        )

    text, shot_texts, spans = _build_prompt(shots, profile, errors, warnings)
    length = len(text)
    if not text and mode == TEXT_TO_VIDEO and shots:
        errors.append(
            Diagnostic(
                "prompt_required",
                "Text-to-video needs a prompt: write what happens, or attach a first frame.",
            )
        )
    if length > profile.max_prompt_chars:
        errors.append(
            Diagnostic(
                "prompt_too_long",
                f"The prompt is {length} characters; the limit is {profile.max_prompt_chars}. "
                + ("Shorten the shots." if len(shots) > 1 else "Shorten the text."),
            )
        )
    elif length > profile.recommended_prompt_chars:
        warnings.append(
            Diagnostic(
                "prompt_over_recommended",
                f"The prompt is {length} characters; APIMart recommends at most "
                f"{profile.recommended_prompt_chars} (the limit is {profile.max_prompt_chars}).",
            )
        )

    if settings.resolution not in profile.resolutions:
        errors.append(
            Diagnostic(
                "invalid_resolution",
                f"Resolution {settings.resolution!r} is not offered; choose {' or '.join(profile.resolutions)}.",
            )
        )
    if settings.aspect_ratio not in profile.aspect_ratios:
        errors.append(
            Diagnostic(
                "invalid_aspect_ratio",
                f"Aspect ratio {settings.aspect_ratio!r} is not offered; choose one of {', '.join(profile.aspect_ratios)}.",
            )
        )
    elif mode == IMAGE_TO_VIDEO and settings.aspect_ratio != profile.default_aspect_ratio:
        warnings.append(
            Diagnostic(
                "aspect_ratio_ignored",
                f"Aspect ratio {settings.aspect_ratio} is ignored with a first frame: the video follows the image's ratio.",
            )
        )

    _check_first_frame(storyboard, first_frame_check, profile, errors, warnings)

    request: dict[str, Any] = {
        "model": settings.model,
        "prompt": text,
        "resolution": settings.resolution,
        "duration": total,
    }
    if mode == TEXT_TO_VIDEO:
        request["aspect_ratio"] = settings.aspect_ratio
    else:
        assert storyboard.first_frame is not None
        request["first_frame_image"] = storyboard.first_frame.reference
    if settings.watermark is not None:
        request["watermark"] = bool(settings.watermark)

    cost = estimate_cost_usd(total, settings.resolution, prices) if durations_ok else None
    return CompiledPrompt(
        text=text,
        length=length,
        mode=mode,
        request=request,
        errors=tuple(errors),
        warnings=tuple(warnings),
        estimated_cost_usd=cost,
        shot_texts=tuple(shot_texts),
        sanitized_spans=tuple(spans),
    )


def _check_shot_count(shots: tuple[Shot, ...], profile: LimitsProfile, errors: list[Diagnostic]) -> None:
    if not shots:
        errors.append(Diagnostic("no_shots", "The storyboard has no shots; add at least one."))
    elif len(shots) > profile.max_shots:
        errors.append(
            Diagnostic(
                "too_many_shots",
                f"The storyboard has {len(shots)} shots; the model takes at most {profile.max_shots}. "
                "Merge or delete shots.",
            )
        )


def _check_durations(shots: tuple[Shot, ...], profile: LimitsProfile, errors: list[Diagnostic]) -> bool:
    ok = True
    for n, shot in enumerate(shots, start=1):
        if not is_whole_seconds(shot.duration) or shot.duration < profile.min_shot_seconds:
            ok = False
            errors.append(
                Diagnostic(
                    "shot_duration_invalid",
                    f"Shot {n} lasts {shot.duration!r} s; each shot needs a whole number of seconds, "
                    f"at least {profile.min_shot_seconds}.",
                    n,
                )
            )
    return ok


def _build_prompt(
    shots: tuple[Shot, ...],
    profile: LimitsProfile,
    errors: list[Diagnostic],
    warnings: list[Diagnostic],
) -> tuple[str, list[str], list[tuple[int, int]]]:
    if not shots:
        return "", [], []
    if len(shots) == 1:
        # A single shot is sent as a plain prompt (no shot syntax, no sanitising): its limit is
        # the prompt's, checked by the caller. Only when the text is itself written in the shot
        # syntax will the model read a storyboard, so then it is held to the storyboard's rules.
        text = shots[0].text.strip()
        if looks_multishot(text):
            _check_embedded_storyboard(text, shots[0].duration, profile, errors, warnings)
        return text, [text], []

    parts: list[str] = []
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for n, shot in enumerate(shots, start=1):
        clean, positions = _sanitized(shot.text)
        texts.append(clean)
        if positions:
            warnings.append(
                Diagnostic(
                    "text_sanitized",
                    f"Shot {n}: {len(positions)} semicolon(s) replaced by commas; the semicolon "
                    "separates shots in the prompt.",
                    n,
                )
            )
        if not clean:
            errors.append(Diagnostic("shot_text_empty", f"Shot {n} has no text; describe what happens in it.", n))
        else:
            _check_shot_length(n, clean, profile, errors)
        duration = shot.duration if is_whole_seconds(shot.duration) else 0
        head = f"shot {n}, {duration}, "
        part = f"{head}{clean};"
        start = offset + len(head)
        spans.extend((start + p, start + p + 1) for p in positions)
        parts.append(part)
        offset += len(part) + 1  # the joining space
    return " ".join(parts), texts, spans


def _check_embedded_storyboard(
    text: str,
    duration: object,
    profile: LimitsProfile,
    errors: list[Diagnostic],
    warnings: list[Diagnostic],
) -> None:
    """One shot whose text is written as ``shot 1, 2, …; shot 2, 3, …;``.

    Judged by the same function the local server uses on a request's prompt, so the two agree;
    each broken rule keeps the parser's code and names shot 1, the shot that holds the text.
    """
    seconds = duration if isinstance(duration, int) and not isinstance(duration, bool) else None
    problems = check_multishot_text(text, seconds, profile)
    lead = "Shot 1 is written in the multi-shot format (shot 1, 2, …;), so the model reads it as a storyboard"
    fix = "Use Edit → Split into Shots, or rewrite it as plain text."
    for problem in problems:
        if problem.code == "invalid_duration":
            total = sum(s.duration for s in parse_multishot(text))
            detail = f"its shots add up to {total} s but the shot lasts {seconds} s"
        else:
            detail = problem.message.removeprefix("multi-shot prompt: ").replace("multi-shot prompt has", "it has")
            if detail.startswith("shot "):
                detail = f"its {detail}"  # its shot 2, not the storyboard's shot 2
        errors.append(Diagnostic(problem.code, f"{lead}: {detail}. {fix}", 1))
    if not problems:
        count = len(parse_multishot(text))
        warnings.append(
            Diagnostic(
                "storyboard_in_text",
                f"Shot 1 is written as a storyboard of {count} shot{'s' if count != 1 else ''} (shot 1, 2, …;); "
                "the model reads it that way. Edit → Split into Shots turns it into real shots you can edit.",
                1,
            )
        )


def _check_shot_length(n: int, text: str, profile: LimitsProfile, errors: list[Diagnostic]) -> None:
    if len(text) > profile.max_shot_chars:
        errors.append(
            Diagnostic(
                "shot_text_too_long",
                f"Shot {n} has {len(text)} characters; each shot takes at most {profile.max_shot_chars}.",
                n,
            )
        )


def _check_first_frame(
    storyboard: Storyboard,
    check: FirstFrameCheck | None,
    profile: LimitsProfile,
    errors: list[Diagnostic],
    warnings: list[Diagnostic],
) -> None:
    first_frame = storyboard.first_frame
    if first_frame is None:
        return
    if first_frame.url is not None:
        problem = check_first_frame_url(first_frame.url)
        if problem is not None:
            errors.append(problem)
        return
    if check is None:
        return
    if check.read_error is not None:
        errors.append(check.read_error)
    elif check.facts is not None:
        image_errors, image_warnings = check_image_facts(check.facts, profile)
        errors.extend(image_errors)
        warnings.extend(image_warnings)
