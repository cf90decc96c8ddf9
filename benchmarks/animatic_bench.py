"""How fast the animatic renderer is: a 15 s, 6-shot storyboard with a first frame.

Prints render time and the multiple of real time at 720p and 1080p. The local server renders
every task with this code, so 720p must stay at least 5× faster than real time.

    .venv/bin/python benchmarks/animatic_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.localapi.animatic import DEFAULT_FPS, animatic_size, render_animatic

REQUIRED_AT_720P = 5.0
SECONDS = (3, 2, 3, 2, 3, 2)


def _shot_text(n: int) -> str:
    base = f"Shot {n}: a girl walks toward a rain-streaked window while thunder rolls over the valley, "
    text = (base * 10)[: KLING_3_TURBO.max_shot_chars]
    assert len(text) == KLING_3_TURBO.max_shot_chars
    return text


def _first_frame() -> Image.Image:
    image = Image.new("RGB", (1920, 1080), (70, 90, 120))
    draw = ImageDraw.Draw(image)
    for x in range(0, 1920, 60):
        draw.rectangle((x, 0, x + 20, 1080), fill=(200, 160, 60))
    return image


def main() -> int:
    shots = [(_shot_text(i), seconds) for i, seconds in enumerate(SECONDS, start=1)]
    total = sum(SECONDS)
    first_frame = _first_frame()
    multiples: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for resolution in KLING_3_TURBO.resolutions:
            width, height = animatic_size(resolution, "16:9", first_frame.size)
            out = Path(folder) / f"bench_{resolution}.mp4"
            start = time.perf_counter()
            render_animatic(shots, out, width=width, height=height, first_frame=first_frame, title="Benchmark")
            elapsed = time.perf_counter() - start
            multiples[resolution] = total / elapsed
            print(
                f"{resolution:>5} {width}x{height} {len(shots)} shots {total} s @ {DEFAULT_FPS} fps: "
                f"{elapsed:.2f} s render, {multiples[resolution]:.1f}x real time, "
                f"{out.stat().st_size / 1e6:.1f} MB"
            )
    if multiples["720p"] < REQUIRED_AT_720P:
        print(f"FAIL: 720p renders at {multiples['720p']:.1f}x real time; needs {REQUIRED_AT_720P}x", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
