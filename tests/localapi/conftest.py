"""Fixtures for the local server tests: a real server on a loopback port, a plain httpx client."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig

AUTH = {"Authorization": "Bearer test-key"}
MODEL = "kling-3.0-turbo"


@pytest.fixture
def make_server() -> Iterator[Callable[..., LocalServer]]:
    servers: list[LocalServer] = []

    def make(**config: Any) -> LocalServer:
        config.setdefault("task_seconds", 0.2)
        server = LocalServer(LocalServerConfig(**config))
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., LocalServer]) -> LocalServer:
    return make_server()


@pytest.fixture
def client(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=20) as c:
        yield c


def body(**fields: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"model": MODEL, "prompt": "a lighthouse at dusk", "duration": 3}
    request.update(fields)
    return request


def submit(client: httpx.Client, **fields: Any) -> str:
    response = client.post("/v1/videos/generations", json=body(**fields))
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"][0]["task_id"]
    return task_id


def wait_for(
    client: httpx.Client, task_id: str, statuses: tuple[str, ...] = ("completed",), timeout: float = 30
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        data = client.get(f"/v1/tasks/{task_id}").json()["data"]
        if data["status"] in statuses or data["status"] in ("completed", "failed"):
            return data
        assert time.monotonic() < deadline, f"task stuck in {data}"
        time.sleep(0.05)


def png_bytes(size: tuple[int, int], colour: tuple[int, int, int] = (220, 180, 40), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()
