"""Time to compile a 6-shot storyboard with 512-character shots (median and p99).

Run: .venv/bin/python benchmarks/compile_bench.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import time

from kling_studio.domain.compiler import compile_storyboard
from kling_studio.domain.storyboard import Shot, Storyboard


def main(runs: int = 20_000) -> None:
    text = ("Rain on neon; a courier weaves through traffic, 雨 and light 🌧 " * 10)[:512]
    board = Storyboard(title="bench", shots=tuple(Shot(text, 2) for _ in range(6)))
    for _ in range(200):  # warm-up
        compile_storyboard(board)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        compile_storyboard(board)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    samples.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"compile 6 shots × 512 chars, {runs} runs: median {statistics.median(samples):.3f} ms, p99 {p99:.3f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
