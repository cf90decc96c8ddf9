"""Shared pieces for the engine tests: a quick local server, fast policies, storyboards.

(A module of helpers named like a test file, because only ``test_engine_*`` files are ours.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.api_client import KlingClient
from kling_studio.services.job_engine import JobEngine
from kling_studio.services.polling import PollPolicy
from kling_studio.services.retry import RetryPolicy
from kling_studio.services.settings import AppSettings

FAST_POLL = PollPolicy(
    first_delay=0.05,
    max_interval=0.2,
    near_interval=0.05,
    near_window=0.0,
    min_interval=0.01,
    status_rate=200.0,
    status_burst=50.0,
    download_retry=0.05,
    download_retry_max=0.2,
)
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05, max_retry_after=0.05)


def storyboard(title: str = "Rain", seconds: int = 3, first_frame: str | None = None) -> Storyboard:
    return Storyboard(
        title=title,
        shots=(Shot(text=f"{title}: rain runs down a window at night", duration=seconds),),
        settings=GenerationSettings(resolution="720p"),
        first_frame=FirstFrame(path=first_frame) if first_frame else None,
    )


@contextmanager
def local_server(task_seconds: float = 0.2, faults: str | None = None) -> Iterator[LocalServer]:
    config = LocalServerConfig(task_seconds=task_seconds, retry_after=0.05)
    if faults:
        config.faults = faults
    with LocalServer(config) as server:
        yield server


def fast_client(url: str, key: str | None) -> KlingClient:
    return KlingClient(key, url, retry=FAST_RETRY)


def make_engine(url: str, tmp_path: Path, *, concurrency: int = 3, **kwargs: Any) -> JobEngine:
    settings_args: dict[str, Any] = {"concurrency": concurrency, "library_dir": str(tmp_path / "library")}
    for name in ("inline_images",):
        if name in kwargs:
            settings_args[name] = kwargs.pop(name)
    kwargs.setdefault("client_factory", fast_client)
    kwargs.setdefault("poll_policy", FAST_POLL)
    return JobEngine(AppSettings(**settings_args), base_url=url, **kwargs)


async def wait_done(engine: JobEngine, ids: list[str], limit: float = 60.0) -> list[JobRecord]:
    return await asyncio.wait_for(engine.wait_for(ids), limit)


async def wait_until(
    engine: JobEngine, job_id: str, predicate: Callable[[JobRecord], bool], limit: float = 60.0
) -> list[JobRecord]:
    return await asyncio.wait_for(engine.wait_for([job_id], predicate), limit)


# Small blocking file reads, kept out of the async test bodies.


def file_head(path: str | Path | None, size: int = 8) -> bytes:
    with open(str(path), "rb") as fh:
        return fh.read(size)


def read_text(path: str | Path | None) -> str:
    return Path(str(path)).read_text(encoding="utf-8")


def exists(path: str | Path | None) -> bool:
    return path is not None and Path(path).exists()


def store_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("jobs.sqlite3*")))
