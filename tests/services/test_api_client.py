"""KlingClient over httpx.MockTransport: the bytes it sends and how it reads every answer."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import (
    AuthError,
    KlingAPIError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from kling_studio.services.api_models import TaskStatus
from tests.services.test_api_client_support import (
    API_KEY,
    Script,
    error_body,
    fail,
    json_of,
    make_client,
    reply,
    task_body,
)

REQUEST = {
    "model": "kling-3.0-turbo",
    "prompt": "shot 1, 3, a girl walks toward a window; shot 2, 3, close-up of her reflection;",
    "resolution": "720p",
    "duration": 6,
    "aspect_ratio": "16:9",
}
LIST_SHAPE = {"code": 200, "data": [{"status": "submitted", "task_id": "task_01KBS40K78KGHZ9SDBWQSGSXRK"}]}


# ------------------------------------------------------------------ submit


async def test_submit_sends_the_exact_request_and_reads_the_list_shape() -> None:
    script = Script(reply(200, LIST_SHAPE))
    async with make_client(script) as client:
        task_id = await client.submit(REQUEST, "5b0f6c1e-4a4f-4c53-9a53-0d1c2f1e9a10")
    assert task_id == "task_01KBS40K78KGHZ9SDBWQSGSXRK"
    (sent,) = script.requests
    assert sent.method == "POST"
    assert sent.url.scheme == "https"
    assert sent.url.host == "api.apimart.ai"
    assert sent.url.path == "/v1/videos/generations"
    assert sent.url.query == b""
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["Idempotency-Key"] == "5b0f6c1e-4a4f-4c53-9a53-0d1c2f1e9a10"
    assert sent.headers["Content-Type"] == "application/json"
    assert "X-APIMart-Response-Version" not in sent.headers
    body = json_of(sent)
    assert body == REQUEST
    assert type(body["duration"]) is int
    assert b'"duration":6' in sent.content


async def test_submit_keeps_unicode_and_watermark_as_given() -> None:
    script = Script(reply(200, LIST_SHAPE))
    request = {"model": "kling-3.0-turbo", "prompt": "镜头 — rain", "duration": 5, "watermark": False}
    async with make_client(script) as client:
        await client.submit(request, "k")
    assert json_of(script.requests[0]) == request
    assert "镜头".encode() in script.requests[0].content


async def test_submit_reads_the_object_shape_and_sends_the_response_version() -> None:
    body = {"code": 200, "request_id": "r1", "data": {"id": "task_X", "object": "generation.task", "status": "pending"}}
    script = Script(reply(200, body))
    async with make_client(script, response_version="2026-07-27") as client:
        assert await client.submit(REQUEST, "key-1") == "task_X"
    assert script.requests[0].headers["X-APIMart-Response-Version"] == "2026-07-27"


@pytest.mark.parametrize(
    "answer",
    [
        reply(200, {"code": 200, "data": []}),
        reply(200, {"code": 200, "data": [{"status": "submitted"}]}),
        reply(200, {"data": {"object": "generation.task"}}),
        reply(200, {"task_id": "task_1"}),
        reply(200, ["task_1"]),
        reply(200, {"success": False, "message": "quota exhausted"}),
        reply(200, content=b"<html><body>Bad gateway</body></html>", headers={"Content-Type": "text/html"}),
        reply(200, content=b""),
    ],
)
async def test_submit_refuses_unknown_success_shapes(answer: object) -> None:
    script = Script(answer)  # type: ignore[arg-type]
    async with make_client(script) as client:
        with pytest.raises(ProtocolError) as info:
            await client.submit(REQUEST, "key-1")
    assert len(script.requests) == 1
    assert info.value.next_step in str(info.value)


async def test_success_false_body_quotes_the_service() -> None:
    script = Script(reply(200, {"success": False, "message": "quota exhausted"}))
    async with make_client(script) as client:
        with pytest.raises(ProtocolError, match="quota exhausted"):
            await client.submit(REQUEST, "key-1")


@pytest.mark.parametrize("key", ["", " ", "has space", "a" * 192, "tab\tkey", "clé", "new\nline"])
async def test_submit_refuses_a_bad_idempotency_key_before_sending(key: str) -> None:
    script = Script(reply(200, LIST_SHAPE))
    async with make_client(script) as client:
        with pytest.raises(ValueError, match="Idempotency-Key"):
            await client.submit(REQUEST, key)
    assert script.requests == []


async def test_submit_accepts_the_longest_idempotency_key() -> None:
    script = Script(reply(200, LIST_SHAPE))
    key = "~" + "A" * 189 + "!"
    async with make_client(script) as client:
        await client.submit(REQUEST, key)
    assert script.requests[0].headers["Idempotency-Key"] == key


async def test_no_key_means_no_authorization_header() -> None:
    script = Script(reply(200, LIST_SHAPE))
    async with make_client(script, api_key=None) as client:
        await client.submit(REQUEST, "k")
    assert "Authorization" not in script.requests[0].headers


async def test_timeouts_are_ten_seconds_to_connect_thirty_to_read() -> None:
    script = Script(reply(200, LIST_SHAPE))
    async with make_client(script) as client:
        await client.submit(REQUEST, "k")
    timeout = script.requests[0].extensions["timeout"]
    assert timeout["connect"] == 10.0
    assert timeout["read"] == 30.0


async def test_context_manager_closes_the_client() -> None:
    async with make_client(Script(reply(200, LIST_SHAPE))) as client:
        assert not client.is_closed
    assert client.is_closed


# ------------------------------------------------------------------ base URL


@pytest.mark.parametrize(
    "url",
    [
        "https://api.apimart.ai",
        "https://gateway.example.com/prefix",
        "http://127.0.0.1:8765",
        "http://127.3.2.1",
        "http://localhost:9000",
        "http://[::1]:9000",
    ],
)
def test_base_url_accepts_https_and_loopback_http(url: str) -> None:
    KlingClient(API_KEY, url)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.apimart.ai",
        "http://10.0.0.5:8000",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com",
        "ftp://api.apimart.ai",
        "file:///etc/passwd",
        "api.apimart.ai",
    ],
)
def test_base_url_refuses_anything_else(url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        KlingClient(API_KEY, url)


async def test_a_base_url_prefix_is_kept() -> None:
    script = Script(reply(200, task_body(status="pending")))
    client = KlingClient(API_KEY, "https://gw.example.com/apimart", transport=script.transport)
    async with client:
        await client.get_task("task_01")
    assert script.requests[0].url.path == "/apimart/v1/tasks/task_01"


# ------------------------------------------------------------------ task status


async def test_get_task_sends_a_get_with_language_and_parses_completed() -> None:
    body = {
        "code": 200,
        "data": {
            "id": "task_01",
            "status": "completed",
            "progress": 100,
            "result": {"videos": [{"url": ["https://upload.apimart.ai/f/video/a.mp4"], "expires_at": 1765087446}]},
            "created": 1765000891,
            "completed": 1765001046,
            "estimated_time": 600,
            "actual_time": 155,
        },
    }
    script = Script(reply(200, body))
    async with make_client(script) as client:
        status = await client.get_task("task_01")
    (sent,) = script.requests
    assert sent.method == "GET"
    assert sent.url.path == "/v1/tasks/task_01"
    assert sent.url.query == b"language=en"
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert status == TaskStatus(
        task_id="task_01",
        status="completed",
        progress=100,
        created=1765000891.0,
        completed=1765001046.0,
        estimated_time=600.0,
        actual_time=155.0,
        video_urls=("https://upload.apimart.ai/f/video/a.mp4",),
        expires_at=1765087446.0,
    )
    assert status.is_terminal
    assert status.raw == body


async def test_get_task_quotes_the_task_id_into_one_path_segment() -> None:
    script = Script(reply(200, task_body(status="pending")))
    async with make_client(script) as client:
        await client.get_task("../v1/uploads")
    assert script.requests[0].url.raw_path.startswith(b"/v1/tasks/..%2Fv1%2Fuploads")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"status": "completed", "result": {"videos": [{"url": "https://cdn/x.mp4"}]}}, ("https://cdn/x.mp4",)),
        (
            {"status": "completed", "result": {"videos": [{"url": ["https://cdn/a.mp4", "https://cdn/b.mp4"]}]}},
            ("https://cdn/a.mp4", "https://cdn/b.mp4"),
        ),
        (
            {
                "status": "completed",
                "result": {"videos": [{"url": "https://cdn/a.mp4"}, {"url": ["https://cdn/b.mp4"]}]},
            },
            ("https://cdn/a.mp4", "https://cdn/b.mp4"),
        ),
        ({"status": "processing", "progress": 91}, ()),
        ({"status": "completed", "result": {}}, ()),
        ({"status": "completed", "result": None}, ()),
    ],
)
def test_video_urls_accept_a_list_or_a_string(data: dict[str, object], expected: tuple[str, ...]) -> None:
    assert TaskStatus.from_response(task_body(**data)).video_urls == expected


@pytest.mark.parametrize(
    ("progress", "status", "expected"),
    [(91, "processing", 91), ("91", "processing", 91), ("42%", "processing", 42), (55.6, "processing", 56),
     (None, "processing", 0), (None, "completed", 100), ("soon", "processing", 0), (250, "processing", 100),
     (-3, "processing", 0)],
)  # fmt: skip
def test_progress_is_tolerant(progress: object, status: str, expected: int) -> None:
    data = {"status": status} if progress is None else {"status": status, "progress": progress}
    assert TaskStatus.from_response(task_body(**data)).progress == expected


@pytest.mark.parametrize(
    ("fields", "cost"),
    [({"cost": 0.56}, 0.56), ({"cost": "0.56"}, 0.56), ({"credits_cost": 12}, 12.0),
     ({"credits_cost": "12.5"}, 12.5), ({}, None), ({"cost": "n/a"}, None), ({"cost": True}, None)],
)  # fmt: skip
def test_cost_reads_numbers_or_numeric_strings(fields: dict[str, object], cost: float | None) -> None:
    assert TaskStatus.from_response(task_body(status="completed", **fields)).cost == cost


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (
            {"code": 400, "message": "prompt refused by safety check", "type": "content"},
            400,
            "prompt refused by safety check",
        ),
        ({"code": "E_SAFETY", "type": "content"}, "E_SAFETY", '{"code": "E_SAFETY", "type": "content"}'),
        ("render node crashed", None, "render node crashed"),
    ],
)
def test_failed_task_error_reads_message_or_the_whole_error(error: object, code: object, message: str) -> None:
    status = TaskStatus.from_response(task_body(status="failed", progress=0, error=error))
    assert status.is_terminal
    assert status.error_code == code
    assert status.error_message == message


def test_numbers_as_strings_are_read() -> None:
    status = TaskStatus.from_response(
        task_body(status="processing", created="1765000891", estimated_time="600", actual_time=None)
    )
    assert status.created == 1765000891.0
    assert status.estimated_time == 600.0
    assert status.actual_time is None
    assert status.completed is None


@pytest.mark.parametrize(
    ("status", "terminal"),
    [("completed", True), ("failed", True), ("cancelled", True), ("submitted", False), ("pending", False),
     ("processing", False)],
)  # fmt: skip
def test_terminal_statuses(status: str, terminal: bool) -> None:
    assert TaskStatus.from_response(task_body(status=status)).is_terminal is terminal


async def test_an_unknown_status_keeps_polling_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kling_studio.api")
    script = Script(reply(200, task_body(status="queued_for_gpu_zz")), reply(200, task_body(status="upscaling_zz")))
    async with make_client(script) as client:
        first = await client.get_task("task_01")
        second = await client.get_task("task_01")
        again = await client.get_task("task_01")
    assert first.status == "queued_for_gpu_zz"
    assert not first.is_terminal and not second.is_terminal and not again.is_terminal
    unknown = [r.getMessage() for r in caplog.records if "unknown task status" in r.getMessage()]
    assert len(unknown) == 2
    assert "queued_for_gpu_zz" in unknown[0]
    assert "upscaling_zz" in unknown[1]


@pytest.mark.parametrize("body", [{"code": 200}, {"code": 200, "data": {"id": "task_01"}}, {"data": "done"}])
async def test_a_task_answer_without_a_status_is_a_protocol_error(body: object) -> None:
    async with make_client(Script(reply(200, body))) as client:
        with pytest.raises(ProtocolError):
            await client.get_task("task_01")


# ------------------------------------------------------------------ upload and schema


async def test_upload_sends_multipart_field_file_and_returns_the_url(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    image = tmp_path / "frame.png"
    image.write_bytes(png)
    answer = {"url": "https://upload.apimart.ai/f/image/frame.png", "filename": "frame.png", "bytes": len(png)}
    script = Script(reply(200, answer))
    async with make_client(script) as client:
        url = await client.upload_image(image)
    assert url == answer["url"]
    (sent,) = script.requests
    assert sent.method == "POST"
    assert sent.url.path == "/v1/uploads/images"
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'Content-Disposition: form-data; name="file"; filename="frame.png"' in sent.content
    assert b"Content-Type: image/png" in sent.content
    assert png in sent.content


async def test_upload_of_prepared_bytes_uses_the_given_name_and_type(tmp_path: Path) -> None:
    script = Script(reply(200, {"url": "https://upload.apimart.ai/f/image/x.jpg"}))
    async with make_client(script) as client:
        await client.upload_image(tmp_path / "ignored.webp", data=b"\xff\xd8\xffjpeg", filename="x.jpg")
    content = script.requests[0].content
    assert b'filename="x.jpg"' in content
    assert b"Content-Type: image/jpeg" in content


async def test_upload_answer_without_url_is_a_protocol_error(tmp_path: Path) -> None:
    script = Script(reply(200, {"filename": "x.png"}))
    async with make_client(script) as client:
        with pytest.raises(ProtocolError):
            await client.upload_image(tmp_path / "x.png", data=b"\x89PNG\r\n\x1a\n")


async def test_model_schema_asks_for_turbo_video_generation() -> None:
    schema = {"model": "kling-3.0-turbo", "operation": "video_generation", "input_schema": {"type": "object"}}
    script = Script(reply(200, schema))
    async with make_client(script) as client:
        assert await client.model_schema() == schema
    (sent,) = script.requests
    assert sent.method == "GET"
    assert sent.url.path == "/v1/model-schema"
    assert sent.url.query == b"model=kling-3.0-turbo&operation=video_generation"


# ------------------------------------------------------------------ error mapping


@pytest.mark.parametrize(
    ("status", "etype", "kind", "retryable"),
    [
        (400, "invalid_request_error", ValidationError, False),
        (401, "authentication_error", AuthError, False),
        (402, "payment_required", PaymentRequiredError, False),
        (403, "permission_error", PermissionDeniedError, False),
        (404, "not_found", NotFoundError, False),
        (408, "timeout", NetworkError, True),
        (429, "rate_limit_error", RateLimitError, True),
        (500, "server_error", ServerError, True),
        (502, "bad_gateway", ServerError, True),
        (503, "server_error", ServerError, True),
        (504, "server_error", ServerError, True),
    ],
)
async def test_error_statuses_become_typed_errors(
    status: int, etype: str, kind: type[KlingAPIError], retryable: bool
) -> None:
    script = Script(reply(status, error_body(status, "the server's own words", etype)))
    async with make_client(script, attempts=1) as client:
        with pytest.raises(kind) as info:
            await client.get_task("task_01")
    err = info.value
    assert isinstance(err, KlingAPIError)
    assert err.status == status
    assert err.retryable is retryable
    assert err.error_type == etype
    assert "the server's own words" in err.message
    assert err.next_step
    assert err.message in str(err) and err.next_step in str(err)


async def test_validation_error_carries_param_and_type() -> None:
    body = error_body(400, "duration must be an integer between 3 and 15", "invalid_duration", param="duration")
    script = Script(reply(400, body))
    async with make_client(script) as client:
        with pytest.raises(ValidationError) as info:
            await client.submit(REQUEST, "k")
    assert info.value.param == "duration"
    assert info.value.error_type == "invalid_duration"
    assert "duration must be an integer" in str(info.value)


async def test_rate_limit_error_carries_retry_after() -> None:
    script = Script(reply(429, error_body(429, "slow down", "rate_limit_error"), headers={"Retry-After": "12"}))
    async with make_client(script, attempts=1) as client:
        with pytest.raises(RateLimitError) as info:
            await client.get_task("task_01")
    assert info.value.retry_after == 12.0


@pytest.mark.parametrize(("status", "kind"), [(502, ServerError), (403, PermissionDeniedError), (400, ValidationError)])
async def test_an_html_error_page_keeps_its_status_mapping(status: int, kind: type[KlingAPIError]) -> None:
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    script = Script(reply(status, content=page, headers={"Content-Type": "text/html"}))
    async with make_client(script, attempts=1) as client:
        with pytest.raises(kind, match="web page"):
            await client.get_task("task_01")


async def test_success_false_and_plain_message_error_bodies() -> None:
    script = Script(reply(400, {"success": False, "message": "prompt too long"}))
    async with make_client(script) as client:
        with pytest.raises(ValidationError, match="prompt too long"):
            await client.submit(REQUEST, "k")


async def test_an_error_inside_a_200_answer_is_mapped_by_its_code() -> None:
    script = Script(reply(200, error_body(401, "invalid token", "authentication_error")))
    async with make_client(script) as client:
        with pytest.raises(AuthError, match="invalid token"):
            await client.get_task("task_01")


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("[Errno 111] Connection refused"), httpx.ReadTimeout("timed out"),
     httpx.RemoteProtocolError("Server disconnected without sending a response.")],
)  # fmt: skip
async def test_connection_failures_become_network_errors(exc: Exception) -> None:
    async with make_client(Script(fail(exc)), attempts=1) as client:
        with pytest.raises(NetworkError) as info:
            await client.get_task("task_01")
    assert info.value.status is None
    assert info.value.retryable
    assert "api.apimart.ai" in info.value.message
    assert info.value.next_step in str(info.value)


async def test_not_found_on_a_task_is_permanent_for_that_job() -> None:
    script = Script(reply(404, error_body(404, "task not found", "not_found")))
    async with make_client(script) as client:
        with pytest.raises(NotFoundError) as info:
            await client.get_task("task_gone")
    assert len(script.requests) == 1
    assert "task_gone" in info.value.message
