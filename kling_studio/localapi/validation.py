"""Checking a generation request body field by field, against the shared limits profile.

The multi-shot prompt is judged by the domain's own parser (``check_request_prompt``), so a
prompt the compiler produces is accepted and a broken one is refused naming the rule.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from kling_studio.domain.first_frame import ImageFacts, check_image_facts, check_pixel_count
from kling_studio.domain.limits import KLING_3_TURBO, LimitsProfile
from kling_studio.domain.multishot import check_request_prompt, looks_multishot, parse_multishot
from kling_studio.domain.project_file import MAX_NESTING, find_lone_surrogate, nesting_depth
from kling_studio.localapi.errors import ApiError

_DATA_URI = re.compile(r"data:image/(png|jpeg|jpg);base64,(.*)", re.IGNORECASE | re.DOTALL)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,191}")
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)  # EXIF orientations that turn the picture by 90°


@dataclass(frozen=True)
class GenerationRequest:
    """A valid request. ``image`` holds a decoded ``data:`` first frame; ``shots`` the plan."""

    model: str
    prompt: str
    duration: int
    resolution: str
    aspect_ratio: str
    watermark: bool | None
    first_frame_image: str | None
    shots: tuple[tuple[str, int], ...]
    image: Image.Image | None = None
    image_size: tuple[int, int] | None = None  # of ``image`` as displayed (EXIF orientation applied)


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image
    format: str  # Pillow's name: "PNG", "JPEG", "WEBP", ...
    size: tuple[int, int]  # as displayed (EXIF orientation applied)
    file_bytes: int


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 invalid_request_error — for deep nesting, integers
    beyond Python's 4300-digit limit, NaN and lone surrogates too (never a 500)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the request body is not UTF-8 text (byte {exc.start + 1})") from None
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        raise ApiError(400, f"the request body is nested {depth} levels deep; at most {MAX_NESTING} are allowed")
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"the request body is not valid JSON ({exc})") from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"the request body is not valid JSON ({str(exc).split(';')[0]})") from None
    where = find_lone_surrogate(body)
    if where is not None:
        raise ApiError(400, f"the request body holds a lone surrogate (\\ud800–\\udfff) in {where}; it is not text")
    if not isinstance(body, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ApiError(400, "Idempotency-Key must be 1–191 visible ASCII characters", param="Idempotency-Key")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or value not in allowed:
        raise ApiError(400, f"{name} must be one of {', '.join(allowed)}; got {json.dumps(value)}", param=name)
    return value


def _duration(body: dict[str, Any], profile: LimitsProfile) -> int:
    value = body.get("duration", profile.default_duration)
    low, high = profile.min_total_seconds, profile.max_total_seconds
    if not _is_int(value):
        raise ApiError(
            400,
            f"duration must be a JSON integer from {low} to {high}; got {json.dumps(value)} "
            f"({'a string' if isinstance(value, str) else type(value).__name__})",
            "invalid_duration",
            "duration",
        )
    if not low <= value <= high:
        raise ApiError(
            400, f"duration must be from {low} to {high} seconds; got {value}", "invalid_duration", "duration"
        )
    return int(value)


def _first_frame(body: dict[str, Any]) -> tuple[str | None, DecodedImage | None]:
    value = body.get("first_frame_image")
    if value is None:
        return None, None
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "first_frame_image must be an http(s) URL or a data:image/… URI", param="first_frame_image")
    data = _DATA_URI.fullmatch(value.strip())
    if data is not None:
        return value, decode_data_image(data.group(2))
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ApiError(
            400,
            f"first_frame_image must be an http(s) URL or a data:image/(png|jpeg);base64 URI; got {value[:60]!r}",
            param="first_frame_image",
        )
    return value.strip(), None


def decode_data_image(payload: str) -> DecodedImage:
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "first_frame_image: the base64 data is not valid", param="first_frame_image") from None
    return open_image_bytes(raw, "first_frame_image")


def displayed_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as shown, after the EXIF orientation (which may turn the picture by 90°)."""
    width, height = image.size
    if check_pixel_count(width, height, KLING_3_TURBO) is not None:
        return width, height  # refused anyway, and reading a PNG's EXIF would decode all of it
    if image.getexif().get(0x0112) in _SWAPPING_ORIENTATIONS:
        return height, width
    return width, height


def open_image_bytes(raw: bytes, param: str) -> DecodedImage:
    try:
        with Image.open(io.BytesIO(raw)) as image:
            too_many = check_pixel_count(*image.size, KLING_3_TURBO)
            if too_many is not None:  # judged from the header, before anything is decoded
                raise ApiError(400, f"{too_many.code}: {too_many.message}", param=param)
            image.load()
            return DecodedImage(image.copy(), image.format or "", displayed_size(image), len(raw))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise ApiError(400, f"{param}: not a readable image", param=param) from None


def check_first_frame(
    image_format: str, size: tuple[int, int], file_bytes: int, profile: LimitsProfile = KLING_3_TURBO
) -> None:
    """The model's first-frame rules (contract §3): format, smallest side, ratio, file size.

    Judged by the domain's own checker, so the server refuses exactly what the app refuses;
    where the app would convert (a WebP, say), the model itself takes only JPEG and PNG.
    """
    width, height = size
    errors, _ = check_image_facts(ImageFacts(image_format, width, height, file_bytes), profile)
    if errors:
        raise ApiError(400, f"{errors[0].code}: {errors[0].message}", param="first_frame_image")
    if image_format not in profile.first_frame_formats:
        allowed = " or ".join(profile.first_frame_formats)
        raise ApiError(
            400,
            f"first_frame_format: the first frame is {image_format or 'an unknown format'}; "
            f"{profile.model} takes {allowed} images only",
            param="first_frame_image",
        )


def validate_generation(body: dict[str, Any], profile: LimitsProfile = KLING_3_TURBO) -> GenerationRequest:
    """Every field of contract §1, in order; the first problem becomes the 400 answer."""
    model = body.get("model")
    if model is None:
        raise ApiError(400, "model is required", param="model")
    if model != profile.model:
        raise ApiError(400, f"model must be {profile.model!r}; got {json.dumps(model)}", param="model")
    prompt = body.get("prompt", "")
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        raise ApiError(400, f"prompt must be a string; got {type(prompt).__name__}", param="prompt")
    duration = _duration(body, profile)
    resolution = _choice(body, "resolution", profile.resolutions, profile.default_resolution)
    aspect_ratio = _choice(body, "aspect_ratio", profile.aspect_ratios, profile.default_aspect_ratio)
    watermark = body.get("watermark")
    if "watermark" in body and not isinstance(watermark, bool):
        raise ApiError(400, f"watermark must be true or false; got {json.dumps(watermark)}", param="watermark")
    first_frame, decoded = _first_frame(body)
    if decoded is not None:
        check_first_frame(decoded.format, decoded.size, decoded.file_bytes, profile)
    problems = check_request_prompt(prompt, duration, has_first_frame=first_frame is not None, profile=profile)
    if problems:
        first = problems[0]
        type_ = "invalid_duration" if first.code == "invalid_duration" else "invalid_request_error"
        raise ApiError(400, f"{first.code}: {first.message}", type_, "prompt")
    return GenerationRequest(
        model=model,
        prompt=prompt,
        duration=duration,
        resolution=resolution,
        aspect_ratio=aspect_ratio,
        watermark=watermark,
        first_frame_image=first_frame,
        shots=plan_shots(prompt, duration),
        image=None if decoded is None else decoded.image,
        image_size=None if decoded is None else decoded.size,
    )


def plan_shots(prompt: str, duration: int) -> tuple[tuple[str, int], ...]:
    """The shots to draw: the parsed multi-shot plan, or the whole prompt as one shot."""
    if looks_multishot(prompt):
        return tuple((shot.text, shot.duration) for shot in parse_multishot(prompt))
    return ((prompt.strip(), duration),)
