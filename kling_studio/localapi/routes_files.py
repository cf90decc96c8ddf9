"""Image uploads and the file routes that serve uploads and finished videos (with Range)."""

from __future__ import annotations

import hmac
import io
import os
import secrets
import time
from pathlib import PurePath

from PIL import Image, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from kling_studio.domain.limits import KLING_3_TURBO, MB
from kling_studio.localapi.auth import require_auth
from kling_studio.localapi.errors import ApiError
from kling_studio.localapi.render_jobs import SAFE_NAME, UPLOAD_ROUTE
from kling_studio.localapi.routes_api import base_url
from kling_studio.localapi.state import ServerState, Upload

# Pillow format → (content type, file extension) for the formats the upload route takes.
UPLOAD_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
}


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.local
    return state


def _too_large(size: int | None = None) -> ApiError:
    limit = KLING_3_TURBO.upload_max_bytes
    measured = f" is {size / MB:.1f} MB, which" if size is not None else ""
    return ApiError(
        413,
        f"The image{measured} is larger than the {limit // MB} MB upload limit. Send a smaller image.",
        param="file",
        headers={"Connection": "close"},
    )


def _sniff(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        image_format = ""
    if image_format not in UPLOAD_FORMATS:
        raise ApiError(400, "the file must be a JPEG, PNG, WebP or GIF image", param="file")
    return image_format


async def upload_image(request: Request) -> Response:
    state = _state(request)
    require_auth(request, state.config.api_key)
    limit = KLING_3_TURBO.upload_max_bytes
    # The body guard has already refused a declared or streamed body over the limit, counting
    # the bytes as they arrive, so the multipart parser never spools more than that to disk.
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiError(400, "send the image as multipart/form-data in the field 'file'", param="file")
    try:
        form = await request.form(max_files=4, max_fields=16)
    except ApiError:
        raise
    except Exception as exc:  # malformed multipart: the parser's own exception types vary
        raise ApiError(400, f"could not read the multipart body: {exc}", param="file") from None
    try:
        item = form.get("file")
        if not isinstance(item, UploadFile):
            raise ApiError(400, "the multipart field 'file' is missing", param="file")
        data = await item.read(limit + 1)
        # A name is only echoed back: make sure it can be (no lone surrogates, no control bytes).
        original = PurePath(item.filename or "").name.encode("utf-8", "replace").decode("utf-8")
        original = "".join(ch for ch in original if ch.isprintable())[:255]
    finally:
        await form.close()
    if len(data) > limit:
        raise _too_large()
    if not data:
        raise ApiError(400, "the uploaded file is empty", param="file")
    image_format = await run_in_threadpool(_sniff, data)
    content_type, extension = UPLOAD_FORMATS[image_format]
    # The name is the link's secret (as a CDN's signed URL): the file route needs no API key.
    name = f"img_{secrets.token_urlsafe(24)}{extension}"
    path = state.uploads_dir / name
    await run_in_threadpool(_write, path, data)
    upload = Upload(name, path, original or name, content_type, len(data), int(time.time()))
    state.uploads[name] = upload
    return JSONResponse(
        {
            "url": f"{base_url(request)}{UPLOAD_ROUTE}{name}",
            "filename": upload.filename,
            "content_type": content_type,
            "bytes": upload.bytes,
            "created_at": upload.created_at,
        }
    )


def _write(path: os.PathLike[str], data: bytes) -> None:
    tmp = f"{os.fspath(path)}.part"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


async def uploaded_file(request: Request) -> Response:
    name = request.path_params["name"]
    upload = _state(request).uploads.get(name) if SAFE_NAME.fullmatch(name) else None
    if upload is None:
        raise ApiError(404, f"no uploaded file {name!r}")
    return FileResponse(upload.path, media_type=upload.content_type)


async def video_file(request: Request) -> Response:
    """The result MP4 once its task completed; 403 "expired" after the link's lifetime.

    The path carries the task's secret token, so the link works without the API key (as a
    CDN's signed link does) and cannot be guessed from the task id.
    """
    token: str = request.path_params["token"]
    name: str = request.path_params["name"]
    task = _state(request).tasks.get(name.removesuffix(".mp4"))
    if task is None or not hmac.compare_digest(token.encode(), task.file_token.encode()):
        raise ApiError(404, f"no video at {name!r}")
    now = time.time()
    completed = task.completed_at(now)
    if completed is None:
        raise ApiError(404, f"no video at {name!r} yet")
    expires = completed + task.link_lifetime_s
    if now >= expires:
        raise ApiError(
            403, f"the result link expired at {int(expires)} (it lived {task.link_lifetime_s:g} s)", "expired"
        )
    return FileResponse(task.video_path, media_type="video/mp4", headers={"Accept-Ranges": "bytes"})
