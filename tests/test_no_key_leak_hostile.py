"""Issue 11 §4: the key never reaches disk or the terminal, even when a server echoes it.

A hostile server on 127.0.0.1 puts the ``Authorization`` header it received into every kind of
answer: the submit error, a failed task's error, the task id, the result URL, a 4xx body, a
non-JSON body, a status field, a download error. Each kind runs submit → poll → download through
the CLI (a subprocess) and through the engine in-process with DEBUG logging; then every file under
the data, config, state, cache, log, library and output folders, and the captured stdout/stderr,
are searched for the key: no hit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kling_studio.domain.project_file import dumps_project
from kling_studio.domain.storyboard import GenerationSettings, Shot, Storyboard
from kling_studio.localapi.animatic import render_animatic
from kling_studio.services.job_core import settled
from kling_studio.services.job_engine import POLL_SCALE_ENV, JobEngine
from kling_studio.services.logging_setup import setup_logging, shutdown_logging
from kling_studio.services.polling import PollPolicy
from kling_studio.services.project_io import load_project
from kling_studio.services.secrets import ENV_VAR
from kling_studio.services.settings import BACKEND_REMOTE, AppSettings, save_settings

MARK = "HostileEcho"
KEY = f"sk-{MARK}-7f3a9c1e5b2d4f6a8c0e"
KINDS = (
    "submit_error",  # 400 JSON error whose message, type and param echo the header
    "non_json",  # submit answers 400 text/html echoing the header
    "task_id",  # the task id is built from the key
    "task_error",  # the task fails with the header in error.message and error.type
    "status_field",  # the status word itself (and an extra field) carry the header, then completed
    "result_url",  # the result link carries the key in its query
    "status_4xx",  # status answers 403 {"success": false, "message": "…<header>…"}
    "download_error",  # the result file answers 403 with the header in a text body
)


def write_project(folder: Path, name: str, seconds: int) -> Path:
    board = Storyboard(title=name, shots=(Shot(text="rain", duration=seconds),), settings=GenerationSettings())
    path = folder / f"{name}.kling.json"
    path.write_text(dumps_project(board, str(folder)), encoding="utf-8")
    return path


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, kind: str, video: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.kind = kind
        self.video = video
        self.polls = 0
        self.echoed = 0  # answers that really carried the header back

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HostileServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, value: Any) -> None:
        self._send(code, json.dumps(value).encode())

    def _auth(self) -> str:
        auth = self.headers.get("Authorization", "")
        if KEY in auth:
            self.server.echoed += 1
        return auth

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth, kind = self._auth(), self.server.kind
        if kind == "submit_error":
            error = {"code": 400, "message": f"refused, you sent {auth}", "type": auth, "param": auth}
            return self._json(400, {"error": error})
        if kind == "non_json":
            return self._send(
                400, f"<html><body>Bad request. Authorization: {auth}</body></html>".encode(), "text/html"
            )
        task = f"task_{auth.split()[-1]}" if kind == "task_id" else "task_01HOSTILE"
        self._json(200, {"code": 200, "data": [{"status": "submitted", "task_id": task, "echo": auth}]})

    def do_GET(self) -> None:
        auth, kind = self._auth(), self.server.kind
        if self.path.startswith("/files/"):
            if kind == "download_error":
                return self._send(403, f"denied: {auth}".encode(), "text/plain")
            return self._send(200, self.server.video, "video/mp4")
        if not self.path.startswith("/v1/tasks/"):
            return self._json(404, {"error": {"code": 404, "message": f"no route for {auth}"}})
        self.server.polls += 1
        task_id = self.path.split("/")[3].split("?")[0]
        if kind == "status_4xx":
            return self._json(403, {"success": False, "message": f"forbidden for {auth}"})
        data: dict[str, Any] = {"id": task_id, "created": int(time.time()), "echo": auth}
        if kind == "task_error":
            data.update(
                status="failed", progress=0, error={"code": 500, "message": f"render failed: {auth}", "type": auth}
            )
        elif kind == "status_field" and self.server.polls == 1:
            data.update(status=f"queued {auth}", progress=10)
        else:
            url = f"{self.server.base_url}/files/take.mp4"
            if kind == "result_url":
                url += f"?sig={auth.split()[-1]}&auth={auth.replace(' ', '%20')}"
            videos = [{"url": [url], "expires_at": int(time.time()) + 3600}]
            data.update(status="completed", progress=100, completed=int(time.time()), result={"videos": videos})
        self._json(200, {"code": 200, "data": data})


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = render_animatic([("rain", 3)], tmp_path_factory.mktemp("video") / "take.mp4", width=320, height=180)
    return path.read_bytes()


@pytest.fixture
def hostile(request: pytest.FixtureRequest, video: bytes) -> Iterator[HostileServer]:
    server = HostileServer(request.param, video)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _files_with_key(*roots: Path) -> list[str]:
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and (KEY.encode() in (data := path.read_bytes()) or MARK.encode() in data):
                hits.append(str(path))
    return hits


def _everything(tmp_path: Path) -> list[Path]:
    """The suite's isolated HOME holds the XDG config/data/state/cache folders and
    KLING_STUDIO_HOME (config, data, logs, cache, library); tmp_path holds the project and --out."""
    return [Path(os.environ["HOME"]), tmp_path]


@pytest.mark.parametrize("hostile", KINDS, indirect=True)
def test_the_cli_never_writes_or_prints_an_echoed_key(hostile: HostileServer, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()}
    env.update({ENV_VAR: KEY, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", POLL_SCALE_ENV: "0.01"})
    project = write_project(tmp_path, "Hostile", seconds=3)
    out = tmp_path / "takes"
    outputs: list[str] = []
    for args in (
        ["submit", str(project), "--wait", "--out", str(out), "--base-url", hostile.base_url],
        ["resume", "--wait", "--base-url", hostile.base_url],
        ["jobs", "--json"],
        ["jobs"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "kling_studio", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        outputs += [done.stdout, done.stderr]
    assert hostile.echoed > 0  # the attack really happened
    jobs = json.loads(outputs[4])
    assert len(jobs) == 1 and jobs[0]["state"] in ("done", "failed", "needs_attention")
    printed = "\n".join(outputs)
    assert KEY not in printed and MARK not in printed, printed
    assert _files_with_key(*_everything(tmp_path)) == []


@pytest.mark.parametrize("hostile", KINDS, indirect=True)
async def test_the_engine_never_stores_or_logs_an_echoed_key(
    hostile: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_VAR, KEY)
    log_file = setup_logging(level=logging.DEBUG)
    try:
        settings = AppSettings(backend=BACKEND_REMOTE, base_url=hostile.base_url)
        save_settings(settings)
        engine = JobEngine(settings, poll_policy=PollPolicy().scaled(0.01))
        await engine.start()
        try:
            job = await engine.submit_storyboard(
                load_project(write_project(tmp_path, "Engine", seconds=3)), out_dir=str(tmp_path / "takes")
            )
            async with asyncio.timeout(60):
                (record,) = await engine.wait_for([job.id], settled)
            shown = [record.error_message or "", record.remote_status or "", record.task_id or "", *record.result_urls]
        finally:
            await engine.stop()
    finally:
        shutdown_logging()
    assert hostile.echoed > 0
    assert "HTTP Request: POST" in log_file.read_text(encoding="utf-8")  # DEBUG logging really ran
    # What the queue shows and an error dialog would say is scrubbed too, not only what is on disk.
    assert not any(KEY in text or MARK in text for text in shown), shown
    captured = capsys.readouterr()
    assert MARK not in captured.out + captured.err
    assert _files_with_key(*_everything(tmp_path)) == []
