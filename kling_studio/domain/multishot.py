"""Reading the multi-shot prompt format back, and judging a raw request prompt.

The local server uses these to hold requests to the same rules the compiler enforces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kling_studio.domain.diagnostics import Diagnostic
from kling_studio.domain.limits import KLING_3_TURBO, LimitsProfile

# ``shot 1, 3, text;`` with ``shot``/``Shot``/``镜头``; full-width separators are tolerated on input.
_HEAD = re.compile(r"\s*(?:shot|镜头)\s*(\d+)\s*[,，]\s*(\d+)\s*[,，]\s*", re.IGNORECASE)
_STARTS_MULTISHOT = re.compile(r"\s*(?:shot|镜头)\s*\d+\s*[,，]\s*\d+\s*[,，]", re.IGNORECASE)
_SEPARATOR = re.compile(r"[;；]")


class MultiShotParseError(ValueError):
    """The text claims to be multi-shot but does not follow the format."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class ParsedShot:
    number: int
    duration: int
    text: str


def looks_multishot(text: str) -> bool:
    """True when the text starts like ``shot 1, 3,``."""
    return _STARTS_MULTISHOT.match(text) is not None


def parse_multishot(text: str) -> list[ParsedShot]:
    """Parse ``shot {n}, {seconds}, {text};`` segments. The last ``;`` may be missing."""
    shots: list[ParsedShot] = []
    pos = 0
    end = len(text)
    while pos < end:
        if not text[pos:].strip():
            break
        head = _HEAD.match(text, pos)
        if head is None:
            raise MultiShotParseError(f"expected 'shot <number>, <seconds>, <text>;' at character {pos + 1}", pos)
        sep = _SEPARATOR.search(text, head.end())
        body_end = sep.start() if sep else end
        shots.append(ParsedShot(int(head.group(1)), int(head.group(2)), text[head.end() : body_end].strip()))
        pos = sep.end() if sep else end
    if not shots:
        raise MultiShotParseError("no shots found", 0)
    return shots


def check_request_prompt(
    prompt: str,
    duration: int,
    *,
    has_first_frame: bool,
    profile: LimitsProfile = KLING_3_TURBO,
) -> list[Diagnostic]:
    """The rules a raw request's prompt must follow, as the server sees them."""
    problems: list[Diagnostic] = []
    if len(prompt) > profile.max_prompt_chars:
        problems.append(
            Diagnostic(
                "prompt_too_long",
                f"prompt is {len(prompt)} characters; the limit is {profile.max_prompt_chars}",
            )
        )
    if not prompt.strip():
        if not has_first_frame:
            problems.append(Diagnostic("prompt_required", "prompt is required for text-to-video"))
        return problems
    if not looks_multishot(prompt):
        return problems
    return [*problems, *check_multishot_text(prompt, duration, profile)]


def check_multishot_text(text: str, duration: int | None, profile: LimitsProfile = KLING_3_TURBO) -> list[Diagnostic]:
    """The storyboard rules for text written in the shot syntax (what the model will read as shots).

    One function for both sides: the server judges a request's prompt with it and the compiler
    judges a single shot's text with it, so a prompt never compiles clean and is then refused.
    ``duration`` is the request's seconds (``None``: not known, the sum is not checked).
    """
    try:
        shots = parse_multishot(text)
    except MultiShotParseError as exc:
        return [Diagnostic("invalid_multishot_prompt", f"multi-shot prompt: {exc}")]
    problems: list[Diagnostic] = []
    if len(shots) > profile.max_shots:
        problems.append(
            Diagnostic("too_many_shots", f"multi-shot prompt has {len(shots)} shots; at most {profile.max_shots}")
        )
    for i, shot in enumerate(shots, start=1):
        if shot.number != i:
            problems.append(
                Diagnostic(
                    "invalid_multishot_prompt",
                    f"shot numbers must count from 1 in order; found {shot.number} at position {i}",
                    i,
                )
            )
        if shot.duration < profile.min_shot_seconds:
            problems.append(
                Diagnostic(
                    "shot_duration_invalid",
                    f"shot {i} lasts {shot.duration} s; at least {profile.min_shot_seconds}",
                    i,
                )
            )
        if not shot.text:
            problems.append(Diagnostic("shot_text_empty", f"shot {i} has no text", i))
        elif len(shot.text) > profile.max_shot_chars:
            problems.append(
                Diagnostic(
                    "shot_text_too_long",
                    f"shot {i} has {len(shot.text)} characters; at most {profile.max_shot_chars}",
                    i,
                )
            )
    total = sum(s.duration for s in shots)
    if duration is not None and total != duration:
        problems.append(Diagnostic("invalid_duration", f"the shots add up to {total} s but duration is {duration}"))
    return problems
