"""Download throughput and memory of ``KlingClient.download`` against curl, over loopback.

Serves a generated MP4-looking file (default 200 MB) from ``python -m http.server`` in a child
process on 127.0.0.1, downloads it with the client (streamed to disk, fsynced, renamed) and with
``curl -o FILE`` + ``sync FILE`` (the same work), and prints MB/s (10^6 bytes per second) and this
process's memory growth.

Both sides get the same conditions: the served file is made durable before the first run (else
its own writeback competes with whichever side runs first), one untimed round of each warms up
(the first request imports httpx's network backend; curl's binary is already in the page cache),
``sync`` runs untimed before every timed download (no dirty pages left by the other side), and
the order alternates run by run (ours first, then curl first). Both are timed by wall clock from
the start of the request to the durable file: curl's figure includes starting ``curl`` and
``sync`` (a few ms), ours excludes building the ``KlingClient`` (the app has one already).

    .venv/bin/python benchmarks/download_bench.py [--size-mb 200] [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import report

from kling_studio.services.api_client import KlingClient

MB = 1_000_000
_PAGE = os.sysconf("SC_PAGE_SIZE")


def current_rss() -> int:
    """Resident bytes now (Linux /proc), for sampling during the download."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE


def peak_rss() -> int:
    """High-water resident bytes of this process (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_file(folder: Path, size: int) -> Path:
    path = folder / "result.mp4"
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
        written = 24
        while written < size:
            piece = block[: min(len(block), size - written)]
            fh.write(piece)
            written += len(piece)
        fh.flush()
        os.fsync(fh.fileno())  # durable now: its writeback must not land inside a timed run
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the file server did not start")


async def client_run(url: str, dest: Path, samples: list[int]) -> float:
    last = [0]

    def sample(done: int, total: int | None) -> None:
        # Every ~8 MB is plenty to see growth; /proc reads cost little.
        if done - last[0] >= 8 * MB or done == total:
            last[0] = done
            samples.append(current_rss())

    async with KlingClient(None, url.rsplit("/", 1)[0]) as client:
        started = time.perf_counter()
        await client.download(url, dest, on_progress=sample)
        return time.perf_counter() - started


def curl_run(url: str, dest: Path) -> float | None:
    """The floor doing the same work: ``curl -o FILE`` then ``sync FILE``; seconds, wall clock."""
    if shutil.which("curl") is None:
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(["curl", "-s", "-o", str(dest), url], check=True)
    subprocess.run(["sync", str(dest)], check=True)
    seconds = time.perf_counter() - started
    dest.unlink()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    size = args.size_mb * MB

    with tempfile.TemporaryDirectory(prefix="kling-bench-") as tmp:
        folder = Path(tmp)
        serve = folder / "serve"
        serve.mkdir()
        source = make_file(serve, size)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(serve)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            url = f"http://127.0.0.1:{port}/{source.name}"
            rss_before = current_rss()
            peak_before = peak_rss()
            samples: list[int] = []
            client_speeds: list[float] = []
            curl_speeds: list[float] = []

            def ours(run: int) -> None:
                dest = folder / "out" / f"clip-{run}.mp4"
                os.sync()
                seconds = asyncio.run(client_run(url, dest, samples))
                if dest.stat().st_size != size:
                    raise SystemExit(f"download size mismatch: {dest.stat().st_size} != {size}")
                dest.unlink()
                if run >= 0:
                    client_speeds.append(size / MB / seconds)

            def theirs(run: int) -> None:
                os.sync()
                curl_seconds = curl_run(url, folder / "out" / f"curl-{run}.mp4")
                if curl_seconds is not None and run >= 0:
                    curl_speeds.append(size / MB / curl_seconds)

            ours(-1)  # warm-up round, untimed
            theirs(-1)
            for run in range(args.runs):
                for side in (ours, theirs) if run % 2 == 0 else (theirs, ours):
                    side(run)
            peak_after = peak_rss()
        finally:
            server.terminate()
            server.wait(timeout=10)

    print(
        f"file: {args.size_mb} MB over http://127.0.0.1 (python -m http.server), "
        f"{args.runs} runs each after a warm-up, order alternating"
    )
    print(
        f"KlingClient.download : median {statistics.median(client_speeds):8.1f} MB/s"
        f"  (runs: {', '.join(f'{s:.1f}' for s in client_speeds)}; writes to disk + fsync + rename)"
    )
    if curl_speeds:
        print(
            f"curl -o FILE + sync  : median {statistics.median(curl_speeds):8.1f} MB/s"
            f"  (runs: {', '.join(f'{s:.1f}' for s in curl_speeds)})"
        )
    else:
        print("curl                 : not installed, skipped")
    print(f"peak RSS increase (ru_maxrss)        : {(peak_after - peak_before) / MB:6.1f} MB")
    print(f"largest RSS growth seen during runs  : {(max(samples) - rss_before) / MB:6.1f} MB")
    if curl_speeds:
        report(
            f"download of a {args.size_mb} MB result (MB/s)",
            statistics.median(client_speeds),
            "MB/s",
            0.8,
            0.95,
            floor=statistics.median(curl_speeds),
            better="higher",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
