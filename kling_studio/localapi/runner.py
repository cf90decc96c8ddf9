"""Running the local server in-process: uvicorn on a daemon thread with its own event loop.

with LocalServer(LocalServerConfig(task_seconds=0.5)) as server:
    httpx.get(f"{server.base_url}/v1/tasks/…", headers={"Authorization": "Bearer x"})
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from kling_studio.localapi.connections import TrackingH11Protocol
from kling_studio.localapi.faults import FaultSpec
from kling_studio.localapi.server import LocalServerConfig, create_app
from kling_studio.localapi.state import ServerState

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def format_base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


class LocalServer:
    def __init__(self, config: LocalServerConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or LocalServerConfig()
        self.host = host
        self.port = port
        self.app: Starlette = create_app(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    @property
    def state(self) -> ServerState:
        state: ServerState = self.app.state.local
        return state

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._base_url

    def set_faults(self, spec: str | FaultSpec | None) -> None:
        """Replace the faults in force (their counters start afresh)."""
        self.state.faults = spec if spec is not None else FaultSpec()

    def start(self, timeout: float = 15.0) -> str:
        """Start serving and return the base URL once connections are accepted."""
        if self._base_url is not None:
            return self._base_url
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            http=TrackingH11Protocol,
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="kling-local-server", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local server did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = int(server.servers[0].sockets[0].getsockname()[1])
        # A wildcard bind is reachable on loopback; that is the URL worth printing.
        shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        self._base_url = format_base_url(shown, self.port)
        return self._base_url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, finish or cancel renders and remove a temporary data folder."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout)
        self._server = self._thread = None
        self._base_url = None
        self.state.close()

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
