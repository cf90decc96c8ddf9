"""``GET /v1/model-schema``: the JSON Schema of a generation body, built from the limits profile."""

from __future__ import annotations

from typing import Any

from kling_studio.domain.limits import KLING_3_TURBO, LimitsProfile

OPERATION = "video_generation"


def input_schema(profile: LimitsProfile = KLING_3_TURBO) -> dict[str, Any]:
    keywords = "/".join(profile.shot_keywords)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["model"],
        # Text-to-video needs a prompt; image-to-video may go without.
        "anyOf": [{"required": ["prompt"]}, {"required": ["first_frame_image"]}],
        "properties": {
            "model": {"type": "string", "const": profile.model},
            "prompt": {
                "type": "string",
                "maxLength": profile.max_prompt_chars,
                "description": (
                    f"At most {profile.max_prompt_chars} characters (recommended {profile.recommended_prompt_chars}). "
                    f"Multi-shot: '{keywords} {{n}}, {{seconds}}, {{text}};' for 2–{profile.max_shots} shots, "
                    f"each text at most {profile.max_shot_chars} characters, seconds adding up to duration."
                ),
                "x-max-shots": profile.max_shots,
                "x-max-shot-chars": profile.max_shot_chars,
                "x-recommended-max-length": profile.recommended_prompt_chars,
            },
            "first_frame_image": {
                "type": "string",
                "description": "An http(s) image URL (see /v1/uploads/images) or a data:image/(png|jpeg);base64 URI.",
                "pattern": "^(https?://|data:image/(png|jpeg);base64,)",
            },
            "aspect_ratio": {
                "type": "string",
                "enum": list(profile.aspect_ratios),
                "default": profile.default_aspect_ratio,
                "description": "Text-to-video only; image-to-video follows the image.",
            },
            "resolution": {
                "type": "string",
                "enum": list(profile.resolutions),
                "default": profile.default_resolution,
            },
            "duration": {
                "type": "integer",
                "minimum": profile.min_total_seconds,
                "maximum": profile.max_total_seconds,
                "default": profile.default_duration,
            },
            "watermark": {"type": "boolean"},
        },
    }


def model_schema(profile: LimitsProfile = KLING_3_TURBO) -> dict[str, Any]:
    return {"model": profile.model, "operation": OPERATION, "input_schema": input_schema(profile)}
