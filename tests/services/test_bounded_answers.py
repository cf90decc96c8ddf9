"""API answers are read with a cap, requests have a deadline, and every httpx failure is typed.

Each attack runs against a hostile server on 127.0.0.1. The memory checks run the client in a
child process and compare its peak RSS (``ru_maxrss``) before and after the call: the attack
used to drive it to gigabytes (a 1 MB gzip status → 3.2 GB; an endless chunked body grew
120 MB/s).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import (
    AnswerTooLarge,
    KlingAPIError,
    NetworkError,
    ProtocolError,
    ServerError,
    request_error,
)
from kling_studio.services.retry import Deadlines, RetryPolicy
from tests.services.test_hostile_support import (
    SUBMITTED,
    HostileServer,
    Request,
    endless_chunked,
    gzip_bomb,
    head,
    send_json,
    trickle,
)

ROOT = Path(__file__).resolve().parents[2]
REQUEST = {"model": "kling-3.0-turbo", "prompt": "a lighthouse at dusk", "duration": 5}

_CHILD = """
import asyncio, json, resource, sys
from kling_studio.services.api_client import KlingClient
from kling_studio.services.retry import Deadlines, RetryPolicy

async def main(url, call):
    async with KlingClient("sk-child", url, retry=RetryPolicy(max_attempts=1), deadlines=Deadlines(api=30)) as client:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            if call == "status":
                await client.get_task("task_1")
            elif call == "schema":
                await client.model_schema()
            else:
                await client.submit({"model": "kling-3.0-turbo", "prompt": "x", "duration": 5}, "idem-1")
            out = {"error": None}
        except Exception as exc:
            out = {"error": type(exc).__name__, "message": str(exc)}
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out["grew_mb"] = (after - before) / 1024
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def run_child(url: str, call: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, url, call, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_a_gzip_bomb_status_is_refused_without_inflating_it() -> None:
    async def bomb(request: Request, writer: asyncio.StreamWriter) -> None:
        await gzip_bomb(writer, inflated_mib=1024)  # ~1 MB on the wire, 1 GiB inflated

    async with HostileServer(bomb) as server:
        result = await run_child(server.url, "status")
    assert result["error"] == "AnswerTooLarge", result
    assert "larger than 1024 KiB" in result["message"]
    assert result["grew_mb"] < 100, result


@pytest.mark.parametrize("call", ["status", "submit", "schema"])
async def test_an_endless_chunked_answer_is_refused_and_memory_stays_flat(call: str) -> None:
    async def endless(request: Request, writer: asyncio.StreamWriter) -> None:
        await endless_chunked(writer)

    async with HostileServer(endless) as server:
        result = await run_child(server.url, call)
    assert result["error"] == "AnswerTooLarge", result
    assert result["grew_mb"] < 100, result


async def test_an_endless_error_answer_keeps_only_its_start() -> None:
    async def endless(request: Request, writer: asyncio.StreamWriter) -> None:
        await endless_chunked(writer, status=503)

    async with (
        HostileServer(endless) as server,
        KlingClient("k", server.url, retry=RetryPolicy(max_attempts=1)) as client,
    ):
        with pytest.raises(ServerError):
            await asyncio.wait_for(client.get_task("task_1"), 30)


async def test_an_upload_answer_over_the_cap_is_refused(tmp_path: Path) -> None:
    async def endless(request: Request, writer: asyncio.StreamWriter) -> None:
        await endless_chunked(writer)

    async with (
        HostileServer(endless) as server,
        KlingClient("k", server.url, retry=RetryPolicy(max_attempts=1)) as client,
    ):
        with pytest.raises(AnswerTooLarge):
            await asyncio.wait_for(client.upload_image(tmp_path / "f.png", data=b"\x89PNG\r\n\x1a\n"), 30)


async def test_a_small_gzip_answer_is_still_read() -> None:
    import gzip

    async def gzipped(request: Request, writer: asyncio.StreamWriter) -> None:
        body = gzip.compress(json.dumps({"code": 200, "data": {"id": "t", "status": "processing"}}).encode())
        writer.write(head(200, {"Content-Encoding": "gzip", "Content-Length": str(len(body))}) + body)

    async with HostileServer(gzipped) as server, KlingClient("k", server.url) as client:
        status = await client.get_task("t")
    assert status.status == "processing"
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_broken_gzip_answer_is_a_typed_protocol_error() -> None:
    async def broken(request: Request, writer: asyncio.StreamWriter) -> None:
        body = b"\x1f\x8b\x08\x00 this is not gzip at all"
        writer.write(head(200, {"Content-Encoding": "gzip", "Content-Length": str(len(body))}) + body)

    async with (
        HostileServer(broken) as server,
        KlingClient("k", server.url, retry=RetryPolicy(max_attempts=2, base_delay=0)) as client,
    ):
        with pytest.raises(ProtocolError, match="encoding is broken"):
            await client.get_task("t")
    assert len(server.requests) == 2  # worth one more try, then reported


async def test_deeply_nested_json_is_a_protocol_error_not_a_crash() -> None:
    async def nested(request: Request, writer: asyncio.StreamWriter) -> None:
        body = b"[" * 200_000 + b"]" * 200_000
        writer.write(head(200, {"Content-Length": str(len(body))}) + body)

    async with (
        HostileServer(nested) as server,
        KlingClient("k", server.url, retry=RetryPolicy(max_attempts=1)) as client,
    ):
        with pytest.raises(ProtocolError):
            await client.get_task("t")


# Deadlines: one byte a second never trips the per-read timeout, only the overall deadline.


async def test_a_trickling_submit_hits_the_deadline_and_is_an_unknown_outcome_sent_once() -> None:
    async def slow(request: Request, writer: asyncio.StreamWriter) -> None:
        await trickle(writer, json.dumps(SUBMITTED).encode(), every=0.5)

    async with HostileServer(slow) as server:
        client = KlingClient("k", server.url, retry=RetryPolicy(max_attempts=4), deadlines=Deadlines(api=1.5))
        async with client:
            with pytest.raises(NetworkError, match=r"longer than 1\.5 s") as info:
                await asyncio.wait_for(client.submit(REQUEST, "idem-1"), 30)
    assert info.value.outcome_unknown
    assert len(server.requests) == 1  # never sent again by itself: the task may exist


async def test_a_trickling_status_hits_the_deadline_and_is_retried() -> None:
    async def slow(request: Request, writer: asyncio.StreamWriter) -> None:
        await trickle(writer, json.dumps({"code": 200, "data": {"id": "t", "status": "processing"}}).encode())

    async with HostileServer(slow) as server:
        policy = RetryPolicy(max_attempts=2, base_delay=0)
        async with KlingClient("k", server.url, retry=policy, deadlines=Deadlines(api=1.0)) as client:
            with pytest.raises(NetworkError) as info:
                await asyncio.wait_for(client.get_task("t"), 30)
    assert info.value.retryable and not info.value.outcome_unknown
    assert len(server.requests) == 2


# Every httpx failure maps to a typed error (never an unexpected crash).


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (httpx.TooManyRedirects("Exceeded maximum allowed redirects."), ProtocolError, False),
        (httpx.DecodingError("Error -3 while decompressing data"), ProtocolError, True),
        (httpx.InvalidURL("Invalid non-printable ASCII character in URL"), ProtocolError, False),
        (httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."), ProtocolError, False),
        (httpx.LocalProtocolError("Illegal header value b'a\\nb'"), ProtocolError, False),
        (httpx.RemoteProtocolError("illegal status line: bytearray(b'HTTP/1.1 abc')"), NetworkError, True),
        (httpx.ReadError("connection reset"), NetworkError, True),
        (httpx.ProxyError("proxy refused"), NetworkError, True),
    ],
)
def test_every_httpx_failure_maps_to_a_typed_error(exc: Exception, kind: type, retryable: bool) -> None:
    error = request_error(exc, what="check task t", host="api.example")
    assert type(error) is kind
    assert isinstance(error, KlingAPIError)
    assert error.retryable == retryable
    assert error.message.startswith("Could not check task t")


async def test_a_garbled_status_line_is_a_network_error() -> None:
    async def garbled(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 abc nonsense\r\n\r\n")

    async with (
        HostileServer(garbled) as server,
        KlingClient("k", server.url, retry=RetryPolicy(max_attempts=1)) as client,
    ):
        with pytest.raises(NetworkError, match="broke the HTTP exchange"):
            await client.get_task("t")


async def test_the_submit_answer_over_the_cap_is_not_resent(tmp_path: Path) -> None:
    calls: list[str] = []

    async def answer(request: Request, writer: asyncio.StreamWriter) -> None:
        calls.append(request.headers.get("idempotency-key", ""))
        if len(calls) == 1:
            await endless_chunked(writer)
        else:
            await send_json(writer, SUBMITTED)

    async with (
        HostileServer(answer) as server,
        KlingClient("k", server.url, retry=RetryPolicy(max_attempts=3, base_delay=0)) as client,
    ):
        with pytest.raises(AnswerTooLarge):
            await asyncio.wait_for(client.submit(REQUEST, "idem-1"), 30)
    assert calls == ["idem-1"]
