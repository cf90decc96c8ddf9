"""An embedded local server never outlives the app that started it, even after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

PARENT = """
import subprocess, sys
child = subprocess.Popen(
    [sys.executable, "-m", "kling_studio", "serve-local", "--port", "0", "--exit-with-parent"],
    stdout=subprocess.PIPE, text=True,
)
print(child.pid, child.stdout.readline().strip(), flush=True)
import time
time.sleep(120)
"""


def test_server_exits_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid_text, url = parent.stdout.readline().split()
        child_pid = int(pid_text)
        assert httpx.get(f"{url}/_local/stats", timeout=10).status_code == 200
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(child_pid, 0)
            except ProcessLookupError:
                break
            # The orphan is reaped by init (or a subreaper); until then it may linger as a zombie.
            try:
                with open(f"/proc/{child_pid}/stat") as fh:
                    if fh.read().split()[2] == "Z":
                        break
            except FileNotFoundError:
                break
            time.sleep(0.2)
        else:
            os.kill(child_pid, signal.SIGKILL)
            raise AssertionError("serve-local kept running after its parent died")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
