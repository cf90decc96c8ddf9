"""The bundled local server as a child process, started on first need.

``python -m kling_studio serve-local --port 0`` prints its base URL as the first stdout line;
we read that line, keep draining stdout so the child never blocks on a full pipe, and stop the
process with the engine. Jobs sent here are recorded with backend ``"local"``: a restarted app
sends them to whichever local server is running then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence

log = logging.getLogger("kling_studio.local_backend")

LOCAL = "local"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


class LocalBackendError(RuntimeError):
    """The local server did not start; ``str()`` says why."""


class LocalBackend:
    """One ``serve-local`` subprocess. ``ensure_started`` is safe to call from many tasks at once."""

    def __init__(
        self,
        *,
        task_seconds: float = 4.0,
        faults: str | None = None,
        python: str = sys.executable,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.task_seconds = task_seconds
        self.faults = faults
        self._python = python
        self._extra_args = tuple(extra_args)
        self._proc: asyncio.subprocess.Process | None = None
        self._base_url: str | None = None
        self._lock = asyncio.Lock()
        self._drain: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str | None:
        return self._base_url

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def command(self) -> list[str]:
        cmd = [self._python, "-m", "kling_studio", "serve-local", "--port", "0", "--exit-with-parent"]
        cmd += ["--task-seconds", repr(float(self.task_seconds))]
        if self.faults:
            cmd += ["--faults", self.faults]
        return cmd + list(self._extra_args)

    async def ensure_started(self) -> str:
        """The base URL of a running local server (starting one if needed)."""
        async with self._lock:
            if self.running and self._base_url:
                return self._base_url
            await self._terminate()
            return await self._start()

    async def _start(self) -> str:
        cmd = self.command()
        log.info("starting the local server: %s", " ".join(cmd))
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:
            raise LocalBackendError(f"The local server could not be started ({exc}).") from None
        self._proc = proc
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT)
        except TimeoutError:
            await self._terminate()
            raise LocalBackendError(
                f"The local server did not report its address within {START_TIMEOUT:.0f} s."
            ) from None
        url = line.decode("utf-8", "replace").strip()
        if not url.startswith(("http://", "https://")):
            await self._terminate()
            raise LocalBackendError(f"The local server did not start (it printed {url[:200]!r}).")
        self._base_url = url.rstrip("/")
        self._drain = asyncio.create_task(self._drain_stdout(proc), name="local-backend-stdout")
        return self._base_url

    @staticmethod
    async def _drain_stdout(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while await proc.stdout.read(65536):
            pass

    async def stop(self) -> None:
        async with self._lock:
            await self._terminate()

    async def _terminate(self) -> None:
        proc, self._proc, self._base_url = self._proc, None, None
        drain, self._drain = self._drain, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
