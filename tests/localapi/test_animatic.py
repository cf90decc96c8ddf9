"""The animatic renderer, checked by opening its MP4 files with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.storyboard import Shot
from kling_studio.localapi.animatic import animatic_size, render_animatic

FPS = 24


def _frames(path: Path) -> list[Image.Image]:
    with av.open(str(path)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


def _difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


@pytest.fixture(scope="module")
def three_shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("animatic") / "three.mp4"
    width, height = animatic_size("720p", "16:9")
    shots = [("a girl walks toward a rain-streaked window", 1), ("close-up of her reflection", 1), ("the street", 1)]
    render_animatic(shots, out, width=width, height=height, fps=FPS, title="Rain")
    return out


def test_stream_is_h264_at_the_exact_size_and_length(three_shots: Path) -> None:
    with av.open(str(three_shots)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (1280, 720)
        assert stream.average_rate == FPS
        duration = float(stream.duration * stream.time_base)
        assert abs(duration - 3) <= 1 / FPS
    assert len(_frames(three_shots)) == 3 * FPS


def test_moov_atom_comes_first_for_streaming(three_shots: Path) -> None:
    data = three_shots.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")


def test_cuts_fall_exactly_on_the_planned_boundaries(three_shots: Path) -> None:
    frames = _frames(three_shots)
    for cut in (FPS, 2 * FPS):
        assert _difference(frames[cut - 1], frames[cut]) > 20, f"no visible cut at frame {cut}"
    for start in (0, FPS, 2 * FPS):
        assert _difference(frames[start + 2], frames[start + FPS - 2]) < 2


def test_shot_objects_and_uneven_lengths(tmp_path: Path) -> None:
    out = render_animatic(
        [Shot("one", 2), Shot("two", 1)], tmp_path / "o.mp4", width=640, height=360, fps=12, on_progress=None
    )
    frames = _frames(out)
    assert len(frames) == 36
    assert _difference(frames[23], frames[24]) > 20


@pytest.mark.parametrize("resolution", KLING_3_TURBO.resolutions)
@pytest.mark.parametrize("ratio", KLING_3_TURBO.aspect_ratios)
def test_text_to_video_sizes_come_from_the_profile(resolution: str, ratio: str) -> None:
    assert animatic_size(resolution, ratio) == KLING_3_TURBO.output_size(resolution, ratio)


@pytest.mark.parametrize(
    ("image", "resolution", "expected"),
    [
        ((1600, 900), "720p", (1280, 720)),
        ((900, 1600), "1080p", (1080, 1920)),
        ((1000, 701), "720p", (1028, 720)),
        ((333, 1000), "720p", (720, 1800)),  # beyond 1:2.5 is held at 1:2.5
        ((500, 500), "1080p", (1440, 1440)),  # a table ratio gets the table's size
        ((500, 500), "720p", (960, 960)),
        ((1366, 768), "720p", (1280, 720)),
        ((768, 1366), "1080p", (1080, 1920)),
        ((800, 600), "720p", (960, 720)),
    ],
)
def test_image_to_video_follows_the_image_ratio(
    image: tuple[int, int], resolution: str, expected: tuple[int, int]
) -> None:
    width, height = animatic_size(resolution, "16:9", image)
    assert (width, height) == expected
    assert width % 2 == 0 and height % 2 == 0


@pytest.mark.parametrize("resolution", KLING_3_TURBO.resolutions)
@pytest.mark.parametrize("ratio", KLING_3_TURBO.aspect_ratios)
def test_an_image_of_a_table_ratio_gets_the_contract_size(resolution: str, ratio: str) -> None:
    table = KLING_3_TURBO.output_size(resolution, ratio)
    image = (table[0] // 4, table[1] // 4)
    assert animatic_size(resolution, "16:9", image) == table


def test_first_frame_opens_shot_one_with_a_push_in(tmp_path: Path) -> None:
    picture = Image.new("RGB", (700, 500), (240, 200, 30))
    for x in range(0, 700, 50):  # stripes make the zoom visible
        picture.paste((20, 20, 20), (x, 0, x + 10, 500))
    picture_path = tmp_path / "first.png"
    picture.save(picture_path)
    size = animatic_size("720p", "16:9", picture.size)
    out = render_animatic(
        [("the field", 1), ("the sky", 1)],
        tmp_path / "i2v.mp4",
        width=size[0],
        height=size[1],
        first_frame=picture_path,
    )
    frames = _frames(out)
    assert frames[0].size == size == (1008, 720)
    top = (0, 0, size[0], size[1] // 3)  # above the caption band
    colours = ImageStat.Stat(frames[0].crop(top)).mean
    assert abs(colours[0] - 200) < 50 and colours[2] < 100
    assert _difference(frames[0].crop(top), frames[FPS - 1].crop(top)) > 3  # it moves
    assert _difference(frames[FPS - 1], frames[FPS]) > 20


def test_progress_and_atomic_output(tmp_path: Path) -> None:
    seen: list[float] = []
    out = render_animatic([("x", 2)], tmp_path / "p.mp4", width=320, height=240, fps=10, on_progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


@pytest.mark.parametrize(
    ("shots", "width", "height"),
    [([], 320, 240), ([("x", 0)], 320, 240), ([("x", 1)], 321, 240), ([("x", 1)], 0, 240)],
)
def test_bad_input_is_refused_and_leaves_no_file(
    tmp_path: Path, shots: list[tuple[str, int]], width: int, height: int
) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        render_animatic(shots, tmp_path / "bad.mp4", width=width, height=height)
    assert list(tmp_path.iterdir()) == []


def test_long_and_unspaced_text_still_renders(tmp_path: Path) -> None:
    text = "雨" * 512
    out = render_animatic([(text, 1), ("w" * 600, 1)], tmp_path / "cjk.mp4", width=720, height=1280, fps=4)
    assert len(_frames(out)) == 8


def test_audio_track_is_aac_as_long_as_the_picture_with_a_click_at_each_cut(three_shots: Path) -> None:
    import array

    with av.open(str(three_shots)) as container:
        audio = container.streams.audio[0]
        video = container.streams.video[0]
        assert audio.codec_context.name == "aac"
        assert (audio.codec_context.sample_rate, audio.codec_context.channels) == (48000, 2)
        assert audio.duration is not None and audio.time_base is not None
        assert video.duration is not None and video.time_base is not None
        assert float(audio.duration * audio.time_base) == pytest.approx(
            float(video.duration * video.time_base), abs=0.03
        )
        loud: list[float] = []
        for frame in container.decode(audio=0):
            samples = array.array("f", bytes(frame.planes[0]))[: frame.samples]
            if max(abs(x) for x in samples) > 0.02:
                assert frame.time is not None
                loud.append(frame.time)
    # Sound only around the three cuts (0 s, 1 s, 2 s); silence in between.
    assert loud
    assert all(min(abs(t - cut) for cut in (0.0, 1.0, 2.0)) < 0.05 for t in loud), loud
    assert {min((0.0, 1.0, 2.0), key=lambda cut: abs(t - cut)) for t in loud} == {0.0, 1.0, 2.0}


def test_cjk_shot_text_is_drawn_with_real_glyphs_not_boxes() -> None:
    from kling_studio.localapi.cards import CardInfo, cjk_font_path, draw_card

    if cjk_font_path() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-droid-fallback; make test installs it)")

    def card(text: str) -> Image.Image:
        return draw_card((640, 360), CardInfo(1, 1, 3, 0, 3, text))

    # Missing glyphs would all be the same empty box, so two different words would look alike.
    assert _difference(card("東京の夜景"), card("大阪の朝日")) > 0.1
    # Latin text next to CJK text keeps DejaVu's glyphs: the English part is drawn identically.
    left = card("Night city 東京").crop((0, 90, 60, 150))
    assert _difference(left, card("Night city 大阪").crop((0, 90, 60, 150))) == 0
