"""``GET /v1/models`` and ``GET /v1/model-docs``: what APIMart's own client asks before it works.

Shapes follow that client's checks: the model list is OpenAI-style
(``{"object": "list", "data": [{"id": …, "object": "model", …}]}``) and the docs answer is a
``model.documentation`` object whose ``markdown`` is the model's parameter reference — written
here from the same limits profile the compiler and the validator read, so it cannot drift.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from kling_studio.domain.limits import KLING_3_TURBO, PROFILES, LimitsProfile
from kling_studio.localapi.auth import require_auth
from kling_studio.localapi.errors import ApiError
from kling_studio.localapi.schema import OPERATION
from kling_studio.localapi.state import ServerState

DOCS_ROUTE = "/v1/model-docs"
DOCS_MARKDOWN_ROUTE = "/v1/model-docs.md"
DOCS_CACHE_TTL_S = 3600
_STARTED = int(time.time())


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.local
    return state


def _profile(request: Request) -> LimitsProfile:
    model = request.query_params.get("model", "").strip()
    if not model:
        raise ApiError(400, "model is required: /v1/model-docs?model=<id>", param="model")
    profile = PROFILES.get(model)
    if profile is None:
        raise ApiError(
            404, f"no documentation for model {model!r}; this server knows {KLING_3_TURBO.model!r}", param="model"
        )
    return profile


async def models(request: Request) -> Response:
    require_auth(request, _state(request).config.api_key)
    data = [
        {
            "id": profile.model,
            "object": "model",
            "created": _STARTED,
            "owned_by": "kling",
            "operations": [OPERATION],
        }
        for profile in PROFILES.values()
    ]
    return JSONResponse({"object": "list", "data": data})


async def model_docs(request: Request) -> Response:
    require_auth(request, _state(request).config.api_key)
    profile = _profile(request)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "object": "model.documentation",
            "model": profile.model,
            "doc_url": f"{base}{DOCS_ROUTE}?model={profile.model}",
            "markdown_url": f"{base}{DOCS_MARKDOWN_ROUTE}?model={profile.model}",
            "markdown": model_markdown(profile),
            "fetched_at": int(time.time()),
            "cache_ttl_seconds": DOCS_CACHE_TTL_S,
            "stale": False,
        }
    )


async def model_docs_markdown(request: Request) -> Response:
    require_auth(request, _state(request).config.api_key)
    return PlainTextResponse(model_markdown(_profile(request)), media_type="text/markdown; charset=utf-8")


def model_markdown(profile: LimitsProfile) -> str:
    keywords = " / ".join(f"`{k}`" for k in profile.shot_keywords)
    ratios = ", ".join(f"`{r}`" for r in profile.aspect_ratios)
    resolutions = ", ".join(f"`{r}`" for r in profile.resolutions)
    sizes = "; ".join(f"{res} {ratio}: {w}×{h}" for (res, ratio), (w, h) in sorted(profile.output_sizes.items()))
    prices = ", ".join(f"{res} ${price}/s" for res, price in profile.price_per_second_usd.items())
    formats = " or ".join(profile.first_frame_formats)
    return f"""# {profile.model}

Text-to-video and image-to-video. `POST /v1/videos/generations`, then poll
`GET /v1/tasks/{{task_id}}` until `completed`, `failed` or `cancelled`.

## Parameters

| field | type | default | rule |
|---|---|---|---|
| `model` | string | required | `{profile.model}` |
| `prompt` | string | — | at most {profile.max_prompt_chars} characters (recommended {profile.recommended_prompt_chars}); required without a first frame |
| `first_frame_image` | string | — | an https image URL (see `POST /v1/uploads/images`); present ⇒ image-to-video |
| `aspect_ratio` | string | `{profile.default_aspect_ratio}` | {ratios}; text-to-video only |
| `resolution` | string | `{profile.default_resolution}` | {resolutions} |
| `duration` | integer | {profile.default_duration} | whole seconds, {profile.min_total_seconds} to {profile.max_total_seconds} |
| `watermark` | boolean | absent | forwarded only when sent |

Output sizes: {sizes}.

## Multi-shot prompts

`shot {{n}}, {{seconds}}, {{text}};` for 2 to {profile.max_shots} shots, joined by one space
(keyword {keywords}, any case). Each shot lasts a whole number of seconds, at least
{profile.min_shot_seconds}; the shots add up to `duration`; each text has at most
{profile.max_shot_chars} characters.

## First frame

{formats}; width and height at least {profile.first_frame_min_side} px; aspect ratio between
1:{profile.first_frame_max_ratio} and {profile.first_frame_max_ratio}:1; at most
{profile.upload_max_bytes // (1024 * 1024)} MB through the upload endpoint. A URL that cannot be
fetched makes the task fail with the reason.

## Price

Billed by the requested duration: {prices}. Failed tasks are not billed.
"""
