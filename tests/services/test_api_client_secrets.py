"""The API key never shows: not in logs, error text, tracebacks nor ``repr``, on any error path.

Every server answer here echoes the key back (as a careless gateway might), so the client has
to remove it, not merely avoid adding it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import KlingAPIError
from kling_studio.services.video_probe import probe_video
from tests.services.test_api_client_support import (
    API_KEY,
    DroppingStream,
    Script,
    error_body,
    fail,
    make_client,
    mp4_bytes,
    reply,
)

ECHO = f"invalid key {API_KEY} (Bearer {API_KEY})"
CDN = "https://upload.apimart.ai/f/video/task_01.mp4"

ANSWERS = {
    "400": reply(400, error_body(400, ECHO, param=API_KEY)),
    "401": reply(401, error_body(401, ECHO, "authentication_error")),
    "402": reply(402, error_body(402, ECHO, "payment_required")),
    "403": reply(403, error_body(403, ECHO, "permission_error")),
    "404": reply(404, {"message": ECHO}),
    "408": reply(408, content=ECHO.encode()),
    "429": reply(429, error_body(429, ECHO, "rate_limit_error"), headers={"Retry-After": "1"}),
    "500": reply(500, {"success": False, "message": ECHO}),
    "502": reply(502, content=f"<html><body>{ECHO}</body></html>".encode(), headers={"Content-Type": "text/html"}),
    "503": reply(503, error_body(503, ECHO, "server_error")),
    "200-success-false": reply(200, {"success": False, "message": ECHO}),
    "200-error": reply(200, error_body(401, ECHO)),
    "200-no-data": reply(200, {"code": 200, "message": ECHO}),
    "200-string-error": reply(200, {"error": ECHO}),
    "200-html": reply(200, content=f"<html>{ECHO}</html>".encode()),
    "connect": fail(httpx.ConnectError("[Errno 111] Connection refused")),
    "timeout": fail(httpx.ReadTimeout("timed out")),
}


def _download_drop(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"Content-Length": "999999"}, stream=DroppingStream(mp4_bytes(5000)))


Call = Callable[[KlingClient, Path], Awaitable[object]]
CALLS: dict[str, Call] = {
    "submit": lambda c, d: c.submit({"model": "kling-3.0-turbo", "prompt": API_KEY, "duration": 5}, "idem-1"),
    "get_task": lambda c, d: c.get_task("task_01"),
    "upload": lambda c, d: c.upload_image(d / "f.png", data=b"\x89PNG\r\n\x1a\n"),
    "schema": lambda c, d: c.model_schema(),
    "download": lambda c, d: c.download("https://api.apimart.ai/v1/files/x.mp4", d / "x.mp4", verify=probe_video),
}


def assert_no_key(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    logging.getLogger("kling_studio.api").error("job failed", exc_info=exc)
    texts = [str(exc), repr(exc), *map(str, exc.args), "".join(traceback.format_exception(exc))]
    if isinstance(exc, KlingAPIError):
        texts += [exc.message, exc.next_step, repr(vars(exc))]
    texts += [r.getMessage() for r in caplog.records]
    texts += [caplog.text]
    for text in texts:
        assert API_KEY not in text


@pytest.mark.parametrize("answer", list(ANSWERS))
@pytest.mark.parametrize("call", list(CALLS))
async def test_no_error_path_shows_the_key(
    call: str, answer: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(ANSWERS[answer])
    async with make_client(script, attempts=2) as client:
        with pytest.raises(Exception) as info:  # noqa: PT011 - every kind of failure is checked the same way
            await CALLS[call](client, tmp_path)
        assert API_KEY not in repr(client) and API_KEY not in str(client)
    assert isinstance(info.value, KlingAPIError)
    assert_no_key(info.value, caplog)


@pytest.mark.parametrize(
    "answer",
    [
        reply(200, content=f"{API_KEY} is not a video".encode()),
        reply(401, content=ECHO.encode()),
        _download_drop,
    ],
)
async def test_download_failures_do_not_show_the_key(
    answer: Callable[[httpx.Request], httpx.Response], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_client(Script(answer), attempts=2) as client:
        with pytest.raises(KlingAPIError) as info:
            await client.download(CDN, tmp_path / "x.mp4", verify=probe_video)
    assert_no_key(info.value, caplog)


def test_repr_and_bad_key_messages_hide_the_key() -> None:
    client = KlingClient(API_KEY)
    assert API_KEY not in repr(client)
    assert "api_key=set" in repr(client)
    assert API_KEY not in repr(vars(client))
    bad = API_KEY + " with space"
    with pytest.raises(ValueError, match="API key") as info:
        KlingClient(bad)
    assert bad not in str(info.value)
    assert API_KEY not in str(info.value)


async def test_a_request_with_the_key_in_its_headers_never_logs_them(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(reply(200, {"code": 200, "data": [{"status": "submitted", "task_id": "task_1"}]}))
    async with make_client(script) as client:
        await client.submit({"model": "kling-3.0-turbo", "prompt": "x", "duration": 5}, "idem-1")
    assert script.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(script.requests[0].headers)
