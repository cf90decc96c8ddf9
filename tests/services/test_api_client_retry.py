"""Retry rules of contract §4, with the sleeps recorded instead of waited."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import (
    KlingAPIError,
    NetworkError,
    ServerError,
    parse_retry_after,
)
from kling_studio.services.retry import RetryPolicy
from tests.services.test_api_client_support import (
    Script,
    Sleeps,
    error_body,
    fail,
    json_of,
    make_client,
    reply,
    task_body,
)

REQUEST = {"model": "kling-3.0-turbo", "prompt": "a lighthouse at dusk", "resolution": "1080p", "duration": 7}
SUBMITTED = reply(200, {"code": 200, "data": [{"status": "submitted", "task_id": "task_OK"}]})
RETRYABLE_READ = [
    reply(408, error_body(408, "request timeout", "timeout")),
    reply(429, error_body(429, "rate limited", "rate_limit_error")),
    reply(500, error_body(500, "boom", "server_error")),
    reply(502, content=b"<html>bad gateway</html>", headers={"Content-Type": "text/html"}),
    reply(503, error_body(503, "unavailable", "server_error")),
    reply(504, error_body(504, "gateway timeout", "server_error")),
    fail(httpx.ConnectError("refused")),
    fail(httpx.ConnectTimeout("connect timeout")),
    fail(httpx.ReadTimeout("read timeout")),
    fail(httpx.RemoteProtocolError("Server disconnected without sending a response.")),
]


async def test_get_task_retries_every_transient_failure_then_succeeds() -> None:
    script = Script(*RETRYABLE_READ, reply(200, task_body(status="processing", progress=5)))
    sleeps = Sleeps()
    async with make_client(script, sleeps, attempts=len(RETRYABLE_READ) + 1) as client:
        status = await client.get_task("task_01")
    assert status.progress == 5
    assert len(script.requests) == len(RETRYABLE_READ) + 1
    assert len(sleeps.calls) == len(RETRYABLE_READ)
    assert all(r.url.path == "/v1/tasks/task_01" for r in script.requests)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422])
async def test_get_task_never_retries_a_client_error(status: int) -> None:
    script = Script(reply(status, error_body(status, "no")), reply(200, task_body(status="pending")))
    sleeps = Sleeps()
    async with make_client(script, sleeps) as client:
        with pytest.raises(KlingAPIError) as info:
            await client.get_task("task_01")
    assert info.value.status == status
    assert len(script.requests) == 1
    assert sleeps.calls == []


async def test_exhausted_retries_raise_the_last_typed_error() -> None:
    script = Script(
        fail(httpx.ConnectError("refused")),
        reply(502, error_body(502, "bad gateway", "bad_gateway")),
        reply(503, error_body(503, "still down", "server_error")),
    )
    sleeps = Sleeps()
    async with make_client(script, sleeps, attempts=3) as client:
        with pytest.raises(ServerError, match="still down") as info:
            await client.get_task("task_01")
    assert info.value.status == 503
    assert len(script.requests) == 3
    assert len(sleeps.calls) == 2


async def test_model_schema_and_upload_retry_like_reads(tmp_path: Path) -> None:
    script = Script(
        reply(503, error_body(503, "down", "server_error")),
        fail(httpx.ReadError("reset")),
        reply(200, {"url": "https://upload.apimart.ai/f/image/a.png"}),
    )
    async with make_client(script) as client:
        url = await client.upload_image(tmp_path / "a.png", data=b"\x89PNG\r\n\x1a\n" + b"1" * 32)
    assert url.endswith("a.png")
    assert len(script.requests) == 3
    assert script.requests[0].content.replace(
        script.requests[0].headers["Content-Type"].split("boundary=")[1].encode(), b""
    ) == script.requests[2].content.replace(
        script.requests[2].headers["Content-Type"].split("boundary=")[1].encode(), b""
    )

    script = Script(reply(429, error_body(429, "slow")), reply(200, {"model": "kling-3.0-turbo", "input_schema": {}}))
    async with make_client(script) as client:
        assert (await client.model_schema())["model"] == "kling-3.0-turbo"
    assert len(script.requests) == 2


# ------------------------------------------------------------------ submit


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404])
async def test_never_resubmit_on_400_401_402_403_404(status: int) -> None:
    script = Script(reply(status, error_body(status, "refused")), SUBMITTED)
    sleeps = Sleeps()
    async with make_client(script, sleeps) as client:
        with pytest.raises(KlingAPIError) as info:
            await client.submit(REQUEST, "idem-1")
    assert info.value.status == status
    assert not info.value.retryable
    assert len(script.requests) == 1
    assert sleeps.calls == []


async def test_no_resubmit_on_500() -> None:
    # A 500 may come after the task was created: sending again could pay twice.
    script = Script(reply(500, error_body(500, "internal error", "server_error")), SUBMITTED)
    sleeps = Sleeps()
    async with make_client(script, sleeps) as client:
        with pytest.raises(ServerError) as info:
            await client.submit(REQUEST, "idem-1")
    assert info.value.status == 500
    assert len(script.requests) == 1
    assert sleeps.calls == []


async def test_same_idempotency_key_on_every_retried_submit() -> None:
    script = Script(
        fail(httpx.ConnectError("refused")),
        reply(408, error_body(408, "timeout")),
        reply(429, error_body(429, "rate", "rate_limit_error")),
        reply(502, error_body(502, "bad gateway", "bad_gateway")),
        reply(503, error_body(503, "unavailable", "server_error")),
        reply(504, error_body(504, "gateway timeout", "server_error")),
        SUBMITTED,
    )
    sleeps = Sleeps()
    async with make_client(script, sleeps, attempts=7) as client:
        assert await client.submit(REQUEST, "idem-77") == "task_OK"
    assert len(script.requests) == 7
    assert {r.headers["Idempotency-Key"] for r in script.requests} == {"idem-77"}
    assert all(json_of(r) == REQUEST for r in script.requests)
    assert len({r.content for r in script.requests}) == 1
    assert len(sleeps.calls) == 6


async def test_submit_gives_up_after_max_attempts_with_the_last_error() -> None:
    script = Script(reply(503, error_body(503, "unavailable", "server_error")))
    async with make_client(script, attempts=4) as client:
        with pytest.raises(ServerError):
            await client.submit(REQUEST, "idem-1")
    assert len(script.requests) == 4


async def test_a_submit_read_timeout_is_not_resent_and_marked_unknown() -> None:
    # The request went out and the service is slow: its outcome is unknown, so the engine
    # must check the job rather than have the client send it again.
    script = Script(fail(httpx.ReadTimeout("read timed out")), SUBMITTED)
    async with make_client(script) as client:
        with pytest.raises(NetworkError) as info:
            await client.submit(REQUEST, "idem-1")
    assert info.value.outcome_unknown
    assert len(script.requests) == 1


# ------------------------------------------------------------------ waiting


async def test_retry_after_seconds_is_honoured() -> None:
    script = Script(
        reply(429, error_body(429, "slow down", "rate_limit_error"), headers={"Retry-After": "7"}),
        reply(503, error_body(503, "busy", "server_error"), headers={"Retry-After": "2"}),
        reply(200, task_body(status="pending")),
    )
    sleeps = Sleeps()
    async with make_client(script, sleeps) as client:
        await client.get_task("task_01")
    assert sleeps.calls == [7.0, 2.0]


async def test_retry_after_on_submit_is_honoured() -> None:
    script = Script(reply(429, error_body(429, "slow down"), headers={"Retry-After": "3"}), SUBMITTED)
    sleeps = Sleeps()
    async with make_client(script, sleeps) as client:
        await client.submit(REQUEST, "idem-1")
    assert sleeps.calls == [3.0]


async def test_retry_after_as_an_http_date_and_capped() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    script = Script(
        reply(503, error_body(503, "busy"), headers={"Retry-After": when}),
        reply(503, error_body(503, "busy"), headers={"Retry-After": "86400"}),
        reply(200, task_body(status="pending")),
    )
    sleeps = Sleeps()
    async with make_client(script, sleeps) as client:
        await client.get_task("task_01")
    assert 30.0 <= sleeps.calls[0] <= 40.0
    assert sleeps.calls[1] == RetryPolicy().max_retry_after


def test_parse_retry_after_variants() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


async def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    script = Script(reply(503, error_body(503, "busy")))
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=9, base_delay=0.5, max_delay=4.0, rng=random.Random(3))
    async with KlingClient(None, transport=script.transport, retry=policy, sleep=sleeps) as client:
        with pytest.raises(ServerError):
            await client.get_task("task_01")
    ceilings = [min(4.0, 0.5 * 2**n) for n in range(8)]
    assert len(sleeps.calls) == 8
    assert all(0.0 <= s <= c for s, c in zip(sleeps.calls, ceilings, strict=True))
    assert len(set(sleeps.calls)) > 1  # jittered, not a fixed schedule


def test_retry_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay) == (6, 0.5, 30.0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
