"""The JSON routes: submit, task status, model schema, and the local stats."""

from __future__ import annotations

import time
from typing import Any

from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.localapi.animatic import animatic_size
from kling_studio.localapi.auth import require_auth
from kling_studio.localapi.errors import ApiError
from kling_studio.localapi.guards import (
    LIST_RESPONSE_VERSION,
    OBJECT_RESPONSE_VERSION,
    RESPONSE_VERSION_HEADER,
    wants_object_version,
)
from kling_studio.localapi.remote_frames import RemoteFrame
from kling_studio.localapi.render_jobs import VIDEO_ROUTE, find_upload, image_info, note_render_outcome, render_task
from kling_studio.localapi.schema import OPERATION, model_schema
from kling_studio.localapi.state import ServerState, StoredAnswer
from kling_studio.localapi.tasks import Task, new_task_id, new_ulid
from kling_studio.localapi.validation import (
    check_first_frame,
    check_idempotency_key,
    parse_json_body,
    validate_generation,
)

LANGUAGES = ("en", "zh", "ko", "ja")
INJECTED_FAILURE = {
    "code": 400,
    "message": "the generation failed (injected fault)",
    "type": "generation_failed",
}


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.local
    return state


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def video_url(request: Request, task: Task) -> str:
    """The result link: the task's secret token in the path stands in for the API key."""
    return f"{base_url(request)}{VIDEO_ROUTE}{task.file_token}/{task.id}.mp4"


def _wants_object(request: Request, state: ServerState) -> bool:
    if wants_object_version(request.headers.get(RESPONSE_VERSION_HEADER)):
        return True
    return state.faults.fires("object", "submit")


def _submit_answer(request: Request, state: ServerState, task_id: str, request_id: str) -> JSONResponse:
    """A task's submit answer in the shape *this* request asks for (a replay may ask another)."""
    if _wants_object(request, state):
        body: dict[str, Any] = {
            "code": 200,
            "request_id": request_id,
            "data": {"id": task_id, "object": "generation.task", "status": "pending"},
        }
        version = OBJECT_RESPONSE_VERSION
    else:
        body = {"code": 200, "data": [{"status": "submitted", "task_id": task_id}]}
        version = LIST_RESPONSE_VERSION
    return JSONResponse(body, headers={RESPONSE_VERSION_HEADER: version})


async def submit(request: Request) -> Response:
    state = _state(request)
    require_auth(request, state.config.api_key)
    key = check_idempotency_key(request.headers.get("idempotency-key"))
    raw = await request.body()  # capped at 1 MiB by the body guard before it is buffered
    # From here to storing the answer nothing awaits, so two requests with one key cannot both
    # create a task.
    if key is not None and key in state.idempotent_answers:
        stored = state.idempotent_answers[key]
        if stored.task_id is not None:
            response: Response = _submit_answer(request, state, stored.task_id, stored.request_id or "")
        else:
            response = Response(stored.body, stored.status, media_type=stored.media_type)
        response.headers["idempotency-replayed"] = "true"
        return response
    try:
        task = _create_task(request, state, raw, key)
    except ApiError as exc:
        if key is not None:
            state.idempotent_answers[key] = StoredAnswer(exc.status, bytes(exc.response().body), "application/json")
        return exc.response()
    request_id = f"req_{new_ulid()}"
    if key is not None:
        state.idempotent_answers[key] = StoredAnswer(200, b"", "application/json", task.id, request_id)
    return _submit_answer(request, state, task.id, request_id)


def _create_task(request: Request, state: ServerState, raw: bytes, key: str | None) -> Task:
    config = state.config
    req = validate_generation(parse_json_body(raw))
    first_frame: Image.Image | str | RemoteFrame | None = req.image
    size = req.image_size
    if req.image is None and req.first_frame_image is not None:
        upload = find_upload(state, req.first_frame_image)
        if upload is not None:  # our own upload route: judged now, from the stored file
            image_format, size = image_info(upload.path)
            check_first_frame(image_format, size, upload.bytes)
            first_frame = str(upload.path)
        else:  # someone else's URL: fetched on the render thread; if that fails, so does the task
            first_frame = RemoteFrame(req.first_frame_image, state.uploads_dir / "pending", config.fetch_timeout_s)
    width, height = animatic_size(req.resolution, req.aspect_ratio, size)
    faults = state.faults
    lifetime = faults.link_lifetime()
    now = time.time()
    task = Task(
        id=new_task_id(),
        created_at=now,
        duration=req.duration,
        resolution=req.resolution,
        aspect_ratio=req.aspect_ratio,
        prompt=req.prompt,
        shots=req.shots,
        width=width,
        height=height,
        task_seconds=max(0.0, float(config.task_seconds)),
        link_lifetime_s=float(config.link_lifetime_s if lifetime is None else lifetime),
        video_path=state.videos_dir / "pending.mp4",
        first_frame_image=req.first_frame_image,
        watermark=req.watermark,
        idempotency_key=key,
        failure=dict(INJECTED_FAILURE) if faults.fires("fail", "submit") else None,
    )
    task.video_path = state.videos_dir / f"{task.id}.mp4"
    if isinstance(first_frame, RemoteFrame):
        first_frame = RemoteFrame(first_frame.url, state.uploads_dir / f"fetched_{task.id}", first_frame.timeout_s)
    state.add_task(task)
    if task.failure is None:
        future = state.executor.submit(render_task, task, first_frame, config.fps, state.stopping)
        future.add_done_callback(lambda done: note_render_outcome(task, done))
    return task


async def task_status(request: Request) -> Response:
    state = _state(request)
    require_auth(request, state.config.api_key)
    task_id = request.path_params["task_id"]
    task = state.tasks.get(task_id)
    if task is None:
        raise ApiError(404, f"task {task_id!r} not found", param="task_id")
    language = request.query_params.get("language")
    if language is not None and language not in LANGUAGES:
        raise ApiError(400, f"language must be one of {', '.join(LANGUAGES)}", param="language")
    return JSONResponse({"code": 200, "data": task.snapshot(time.time(), video_url(request, task))})


async def schema(request: Request) -> Response:
    state = _state(request)
    require_auth(request, state.config.api_key)
    model = request.query_params.get("model", KLING_3_TURBO.model)
    if model != KLING_3_TURBO.model:
        raise ApiError(404, f"no schema for model {model!r}", param="model")
    operation = request.query_params.get("operation", OPERATION)
    if operation != OPERATION:
        raise ApiError(404, f"no schema for operation {operation!r} of {model}", param="operation")
    return JSONResponse(model_schema(KLING_3_TURBO))


async def stats(request: Request) -> Response:
    """Counters for tests and tools. It lists every task and idempotency key, so with a
    configured key it wants that key like the API routes (without one it stays open)."""
    state = _state(request)
    if state.config.api_key is not None:
        require_auth(request, state.config.api_key)
    return JSONResponse(state.stats())
