"""A small H.264 MP4 with one coloured card per shot, for screenshots, demos and tests.

PyAV carries FFmpeg with libx264, so no system ffmpeg is needed; frame sizes must be even for
yuv420p, and the encoder is flushed before the file is closed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

_CARD_COLOURS = ("#1e3a8a", "#065f46", "#7c2d12", "#581c87", "#134e4a", "#713f12")


def write_sample_video(
    path: str | Path,
    shot_seconds: tuple[int, ...] = (2, 3),
    *,
    size: tuple[int, int] = (320, 180),
    fps: int = 24,
) -> Path:
    """Blocking. Writes ``path`` and returns it."""
    import av

    width, height = (size[0] // 2 * 2, size[1] // 2 * 2)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "tune": "stillimage"}
        frame_index = 0
        for shot, seconds in enumerate(shot_seconds):
            frames = seconds * fps
            for i in range(frames):
                image = _card(width, height, shot, i / max(1, frames - 1))
                frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
                frame.pts = frame_index
                frame_index += 1
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out


def _card(width: int, height: int, shot: int, t: float) -> Image.Image:
    image = Image.new("RGB", (width, height), _CARD_COLOURS[shot % len(_CARD_COLOURS)])
    draw = ImageDraw.Draw(image)
    bar = max(2, height // 30)
    draw.rectangle((0, height - bar, int(width * t), height), fill="#f8fafc")  # moving bar: frames differ
    draw.text((width // 12, height // 3), f"Shot {shot + 1}", fill="#f8fafc", font_size=max(10, height // 6))
    return image
