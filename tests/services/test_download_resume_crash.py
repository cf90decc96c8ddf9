"""A process SIGKILLed mid-download leaves its ``.part``; ``resume`` continues it with a Range.

The CLI runs in a child process against ``FakeKling`` on 127.0.0.1 (served by this test's
loop); the test hook ``KLING_STUDIO_TEST_CRASH_AT=mid_download`` kills it after the first bytes
reached the partial file. The resumed download must ask for the rest only and end with a file
identical to the served one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from kling_studio.services.job_engine import POLL_SCALE_ENV
from kling_studio.services.job_steps import CRASH_ENV
from tests.services.test_hostile_support import FakeKling, HostileServer, make_mp4, serve_file
from tests.test_cli_jobs import write_project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


async def run_cli(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kling_studio", *args, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, err.decode(errors="replace")


def part_sizes(folder: Path) -> list[int]:
    return [p.stat().st_size for p in folder.glob(".*.part")]


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


async def test_a_download_killed_midway_resumes_from_its_part_file(tmp_path: Path) -> None:
    video = make_mp4(tmp_path / "src.mp4", 3, size=(320, 240))
    fake = FakeKling(video=serve_file(video))
    home, out = tmp_path / "home", tmp_path / "takes"
    project = write_project(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "KLING_STUDIO_API_KEY"}
    env.update(
        KLING_STUDIO_HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        **{POLL_SCALE_ENV: "0.02"},
    )
    async with HostileServer(fake) as server:
        fake.base = server.url
        code, err = await run_cli(
            ["submit", str(project), "--wait", "--out", str(out), "--base-url", server.url],
            {**env, CRASH_ENV: "mid_download"},
        )
        assert code == -signal.SIGKILL, err
        (kept,) = part_sizes(out)
        assert 0 < kept < len(video)

        code, err = await run_cli(["resume", "--wait", "--base-url", server.url], env)
        assert code == 0, err
    videos = [r for r in server.requests if r.path == fake.video_path]
    assert len(videos) == 2
    assert "range" not in videos[0].headers
    assert videos[1].headers["range"] == f"bytes={kept}-"
    (saved,) = out.glob("*.mp4")
    assert read_bytes(saved) == video
    assert part_sizes(out) == []
