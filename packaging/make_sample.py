"""Draw the sample project's first frame (a sunrise over the sea) and write the sample project.

Everything is generated here with Pillow, so the sample carries no third-party artwork.
Deterministic: running it again gives the same picture. Run from the repository root:

    .venv/bin/python packaging/make_sample.py
"""

from __future__ import annotations

import itertools
import math
import random
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "resources" / "sample"
FRAME = SAMPLE_DIR / "frames" / "first-frame.png"
PROJECT = SAMPLE_DIR / "sample.kling.json"
WIDTH, HEIGHT = 1280, 720
HORIZON = int(HEIGHT * 0.6)
SUN = (int(WIDTH * 0.62), HORIZON - 70, 62)  # centre x, centre y, radius

SHOTS = [
    (
        "Wide view: the sun rises over a calm sea, warm light spreads across the water "
        "and a small sailboat drifts near the far headland.",
        4,
    ),
    ("A fisherman on the wooden pier coils a rope and looks up at the brightening sky.", 4),
    ("Close-up of gulls lifting off the rail of the pier, wings catching the golden light.", 3),
    ("Slow aerial pull-back: the pier, the boat and the whole glittering bay, the sun now clear of the horizon.", 4),
]


def lerp(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def vertical_gradient(size: tuple[int, int], stops: list[tuple[float, tuple[int, int, int]]]) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / max(h - 1, 1)
        for (t0, c0), (t1, c1) in itertools.pairwise(stops):
            if t0 <= t <= t1:
                draw.line([(0, y), (w, y)], fill=lerp(c0, c1, (t - t0) / (t1 - t0)))
                break
    return img


def draw_scene() -> Image.Image:
    sky = vertical_gradient(
        (WIDTH, HORIZON),
        [(0.0, (32, 46, 102)), (0.45, (122, 92, 150)), (0.8, (244, 150, 112)), (1.0, (255, 204, 140))],
    )
    sea = vertical_gradient(
        (WIDTH, HEIGHT - HORIZON),
        [(0.0, (214, 146, 120)), (0.25, (92, 86, 128)), (1.0, (18, 34, 66))],
    )
    img = Image.new("RGB", (WIDTH, HEIGHT))
    img.paste(sky, (0, 0))
    img.paste(sea, (0, HORIZON))

    cx, cy, r = SUN
    # Glow: a blurred disc screened over the sky.
    glow = Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0))
    ImageDraw.Draw(glow).ellipse([cx - r * 3, cy - r * 3, cx + r * 3, cy + r * 3], fill=(150, 90, 40))
    glow = glow.filter(ImageFilter.GaussianBlur(90))
    img = ImageChops.screen(img, glow)
    draw = ImageDraw.Draw(img)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 236, 180))

    # Soft clouds: a few long, low-opacity ellipses, blurred.
    clouds = Image.new("L", (WIDTH, HEIGHT), 0)
    cdraw = ImageDraw.Draw(clouds)
    for x, y, w, h in [(140, 120, 420, 26), (520, 200, 360, 18), (820, 90, 380, 22), (980, 240, 260, 14)]:
        cdraw.ellipse([x, y, x + w, y + h], fill=120)
    clouds = clouds.filter(ImageFilter.GaussianBlur(10))
    img = Image.composite(Image.new("RGB", img.size, (255, 214, 200)), img, clouds)
    draw = ImageDraw.Draw(img)

    # Distant headlands sitting on the horizon.
    draw.polygon(
        [(0, HORIZON), (0, HORIZON - 48), (90, HORIZON - 62), (210, HORIZON - 40), (330, HORIZON - 12), (380, HORIZON)],
        fill=(70, 60, 104),
    )
    draw.polygon(
        [(1000, HORIZON), (1080, HORIZON - 26), (1180, HORIZON - 38), (1280, HORIZON - 30), (1280, HORIZON)],
        fill=(84, 68, 112),
    )

    # The sun's path on the water: short bright dashes, denser near the sun's column.
    rng = random.Random(7)
    for _ in range(700):
        depth = rng.random() ** 1.6
        y = HORIZON + 3 + depth * (HEIGHT - HORIZON - 6)
        spread = 30 + depth * 210
        x = cx + rng.gauss(0, spread / 2)
        length = 6 + depth * 46
        alpha = max(0.0, 1 - abs(x - cx) / (spread * 1.4))
        colour = lerp((120, 90, 110), (255, 222, 160), alpha)
        draw.line([(x - length / 2, y), (x + length / 2, y)], fill=colour, width=1 + int(depth * 3))

    # A small sailboat on the left, and a few gulls.
    bx, by = 300, HORIZON + 36
    draw.polygon([(bx - 34, by), (bx + 36, by), (bx + 24, by + 12), (bx - 24, by + 12)], fill=(36, 30, 52))
    draw.line([(bx, by), (bx, by - 74)], fill=(36, 30, 52), width=3)
    draw.polygon([(bx + 3, by - 72), (bx + 3, by - 6), (bx + 44, by - 6)], fill=(250, 226, 206))
    draw.polygon([(bx - 3, by - 60), (bx - 3, by - 6), (bx - 30, by - 6)], fill=(232, 200, 190))
    for gx, gy, span in [(520, 150, 22), (566, 172, 16), (610, 140, 18), (900, 110, 14)]:
        wing = [(gx - span, gy - span * 0.35), (gx - span * 0.4, gy - span * 0.1), (gx, gy)]
        draw.line(wing, fill=(44, 36, 70), width=3, joint="curve")
        draw.line([(2 * gx - px, py) for px, py in wing], fill=(44, 36, 70), width=3, joint="curve")

    # A gentle vignette keeps the eye in the middle.
    vignette = Image.new("L", (WIDTH, HEIGHT), 0)
    vdraw = ImageDraw.Draw(vignette)
    for i in range(40):
        inset = i * 6
        vdraw.rectangle([inset, inset, WIDTH - inset, HEIGHT - inset], outline=int(70 * (1 - i / 40) ** 2))
    vignette = vignette.filter(ImageFilter.GaussianBlur(30))
    img = Image.composite(Image.new("RGB", img.size, (10, 10, 30)), img, vignette)
    return img


def write_project() -> None:
    sys.path.insert(0, str(ROOT))
    from kling_studio.domain.project_file import dumps_project
    from kling_studio.domain.storyboard import FirstFrame, Shot, Storyboard

    storyboard = Storyboard(
        title="Sunrise over the bay",
        shots=tuple(Shot(text, seconds) for text, seconds in SHOTS),
        first_frame=FirstFrame(path=str(FRAME)),
    )
    PROJECT.write_text(dumps_project(storyboard, str(SAMPLE_DIR)), encoding="utf-8")


def main() -> int:
    FRAME.parent.mkdir(parents=True, exist_ok=True)
    draw_scene().save(FRAME, optimize=True)
    write_project()
    print(
        f"wrote {FRAME.relative_to(ROOT)} ({math.ceil(FRAME.stat().st_size / 1024)} KiB) and {PROJECT.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
