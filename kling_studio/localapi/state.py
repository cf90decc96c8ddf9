"""Everything one local server remembers: tasks, uploads, idempotent answers, counters, faults.

Tests read the counters directly (``state.submissions_by_key``, ``state.tasks_created_by_key``)
or over HTTP (``GET /_local/stats``) from another process.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kling_studio.localapi.config import LocalServerConfig
from kling_studio.localapi.executor import DaemonExecutor
from kling_studio.localapi.faults import FaultSpec
from kling_studio.localapi.tasks import Task


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer given for an Idempotency-Key.

    An error is replayed byte for byte. A created task is kept as its id and request id, so a
    replay answers in the shape the replaying request asks for (list or object) — byte for byte
    the same when it asks for the same shape.
    """

    status: int
    body: bytes
    media_type: str
    task_id: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Upload:
    name: str
    path: Path
    filename: str
    content_type: str
    bytes: int
    created_at: int


class ServerState:
    def __init__(self, config: LocalServerConfig) -> None:
        self.config = config
        self._owns_data_dir = config.data_dir is None
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="kling-local-")) if config.data_dir is None else Path(config.data_dir)
        )
        self.videos_dir = self.data_dir / "videos"
        self.uploads_dir = self.data_dir / "uploads"
        self.videos_dir.mkdir(parents=True, exist_ok=True)
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        self.tasks: dict[str, Task] = {}
        self.created_tasks: list[str] = []  # task ids in creation order
        self.uploads: dict[str, Upload] = {}
        self.idempotent_answers: dict[str, StoredAnswer] = {}
        self.submissions_by_key: dict[str, int] = {}
        self.tasks_created_by_key: dict[str, int] = {}
        self.submissions = 0
        self.requests_by_route: dict[str, int] = {}
        self.executor = DaemonExecutor(workers=2)
        self.stopping = threading.Event()  # running renders check it and give up
        self._faults = config.faults if isinstance(config.faults, FaultSpec) else FaultSpec.parse(config.faults)
        self._lock = threading.Lock()
        self._closed = False

    @property
    def faults(self) -> FaultSpec:
        return self._faults

    @faults.setter
    def faults(self, spec: FaultSpec | str | None) -> None:
        self._faults = spec if isinstance(spec, FaultSpec) else FaultSpec.parse(spec)

    @property
    def retry_after(self) -> float:
        spec_value = self._faults.retry_after
        return self.config.retry_after if spec_value is None else spec_value

    def count_request(self, route: str, idempotency_key: str | None) -> None:
        """Every request seen, before any fault: submissions are counted per key here."""
        with self._lock:
            self.requests_by_route[route] = self.requests_by_route.get(route, 0) + 1
            if route == "submit":
                self.submissions += 1
                if idempotency_key is not None:
                    self.submissions_by_key[idempotency_key] = self.submissions_by_key.get(idempotency_key, 0) + 1

    def add_task(self, task: Task) -> None:
        with self._lock:
            self.tasks[task.id] = task
            self.created_tasks.append(task.id)
            if task.idempotency_key is not None:
                key = task.idempotency_key
                self.tasks_created_by_key[key] = self.tasks_created_by_key.get(key, 0) + 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "submissions": self.submissions,
                "submissions_by_key": dict(self.submissions_by_key),
                "tasks_created": len(self.created_tasks),
                "tasks_created_by_key": dict(self.tasks_created_by_key),
                "tasks": list(self.created_tasks),
                "uploads": len(self.uploads),
                "requests_by_route": dict(self.requests_by_route),
                "faults": str(self._faults),
            }

    def close(self) -> None:
        """Stop the render threads and remove the data folder when it was a temporary one."""
        if self._closed:
            return
        self._closed = True
        self.stopping.set()
        self.executor.shutdown()
        if self._owns_data_dir:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.data_dir, ignore_errors=True)
