"""The compiler's exact output and every rule at its boundary."""

from __future__ import annotations

import pytest

from kling_studio.domain.compiler import compile_storyboard, sanitize_shot_text
from kling_studio.domain.first_frame import FirstFrameCheck, ImageFacts
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard


def board(*shots: tuple[str, int], first_frame: FirstFrame | None = None, **settings: object) -> Storyboard:
    return Storyboard(
        title="t",
        shots=tuple(Shot(t, d) for t, d in shots),
        settings=GenerationSettings(**settings),  # type: ignore[arg-type]
        first_frame=first_frame,
    )


def codes(items: tuple[object, ...]) -> list[str]:
    return [d.code for d in items]  # type: ignore[attr-defined]


def test_single_shot_is_the_trimmed_text() -> None:
    c = compile_storyboard(board(("  A fox runs; fast\n", 5)))
    assert c.text == "A fox runs; fast"
    assert c.ok and c.mode == "text-to-video"
    assert c.request == {
        "model": "kling-3.0-turbo",
        "prompt": "A fox runs; fast",
        "resolution": "720p",
        "duration": 5,
        "aspect_ratio": "16:9",
    }


def test_multi_shot_exact_format() -> None:
    c = compile_storyboard(
        board(
            ("a girl walks toward a rain-streaked window", 3),
            ("close-up of her reflection as thunder flashes", 4),
            ("wide view of the empty street below", 3),
        )
    )
    assert c.text == (
        "shot 1, 3, a girl walks toward a rain-streaked window; "
        "shot 2, 4, close-up of her reflection as thunder flashes; "
        "shot 3, 3, wide view of the empty street below;"
    )
    assert c.length == len(c.text)
    assert c.request["duration"] == 10 and isinstance(c.request["duration"], int)
    assert c.ok and not c.warnings


def test_sanitising_folds_whitespace_and_replaces_semicolons_with_a_warning() -> None:
    c = compile_storyboard(board(("one;\ttwo\n\nthree  ；four ", 2), ("five", 1)))
    assert c.text == "shot 1, 2, one, two three ,four; shot 2, 1, five;"
    assert codes(c.warnings) == ["text_sanitized"]
    assert c.warnings[0].shot == 1
    # The highlighted spans point at the commas that replaced the separators.
    assert [c.text[s:e] for s, e in c.sanitized_spans] == [",", ","]
    assert c.sanitized_spans[0][0] == len("shot 1, 2, one")


def test_line_breaks_alone_do_not_warn() -> None:
    c = compile_storyboard(board(("a\nb", 2), ("c", 1)))
    assert c.text == "shot 1, 2, a b; shot 2, 1, c;"
    assert not c.warnings


def test_nfc_normalisation_and_code_point_length() -> None:
    decomposed = "cafe\u0301"  # e + combining acute
    c = compile_storyboard(board((decomposed, 2), ("雨の街 🌧️", 1)))
    assert "café" in c.text
    assert c.length == len(c.text)
    assert c.shot_texts == ("café", "雨の街 🌧️")


@pytest.mark.parametrize(("total", "ok"), [(2, False), (3, True), (15, True), (16, False)])
def test_total_duration_boundaries(total: int, ok: bool) -> None:
    c = compile_storyboard(board(("a", total - 1), ("b", 1)))
    assert ("total_duration_out_of_range" in codes(c.errors)) is not ok


def test_single_shot_duration_boundaries() -> None:
    assert compile_storyboard(board(("a", 3))).ok
    assert compile_storyboard(board(("a", 15))).ok
    assert codes(compile_storyboard(board(("a", 16))).errors) == ["total_duration_out_of_range"]


@pytest.mark.parametrize(("count", "ok"), [(6, True), (7, False)])
def test_shot_count_boundaries(count: int, ok: bool) -> None:
    c = compile_storyboard(board(*[("x", 2)] * count))
    assert ("too_many_shots" in codes(c.errors)) is not ok


def test_no_shots() -> None:
    c = compile_storyboard(board())
    assert codes(c.errors) == ["no_shots"]
    assert c.estimated_cost_usd == 0.0


@pytest.mark.parametrize("duration", [0, -1, 2.5, "3", True, None])
def test_invalid_shot_duration(duration: object) -> None:
    c = compile_storyboard(board(("a", duration), ("b", 3)))  # type: ignore[arg-type]
    assert "shot_duration_invalid" in codes(c.errors)
    assert next(d for d in c.errors if d.code == "shot_duration_invalid").shot == 1
    assert c.estimated_cost_usd is None


@pytest.mark.parametrize(("length", "ok"), [(512, True), (513, False)])
def test_shot_text_limit(length: int, ok: bool) -> None:
    c = compile_storyboard(board(("a" * length, 2), ("b", 2)))
    assert ("shot_text_too_long" in codes(c.errors)) is not ok
    if not ok:
        assert c.errors[0].shot == 1 and "513" in c.errors[0].message


def test_shot_text_limit_counts_code_points_after_sanitising() -> None:
    # 512 emoji are 512 code points; whitespace runs fold before counting.
    assert compile_storyboard(board(("😀" * 512, 2), ("b", 2))).ok
    assert compile_storyboard(board(("a" * 511 + "   \n b"[-1:], 2), ("b", 2))).ok


def test_empty_shot_text_in_multishot() -> None:
    c = compile_storyboard(board(("  \n ", 2), ("b", 2)))
    assert codes(c.errors) == ["shot_text_empty"]
    assert c.errors[0].shot == 1


def test_prompt_required_for_text_to_video_only() -> None:
    assert codes(compile_storyboard(board(("   ", 5))).errors) == ["prompt_required"]
    c = compile_storyboard(board(("", 5), first_frame=FirstFrame(url="https://example.com/a.png")))
    assert c.ok and c.request["prompt"] == ""


def _prompt_of_length(n: int) -> Storyboard:
    # Six shots: fixed heads "shot k, 2, " (11 chars) + ";" and 5 joining spaces.
    overhead = 6 * 12 + 5
    body = n - overhead
    sizes = [body // 6 + (1 if i < body % 6 else 0) for i in range(6)]
    return board(*[("x" * s, 2) for s in sizes])


@pytest.mark.parametrize(("length", "error", "warning"), [(2500, False, False), (2501, False, True)])
def test_recommended_length_boundary(length: int, error: bool, warning: bool) -> None:
    c = compile_storyboard(_prompt_of_length(length))
    assert c.length == length
    assert ("prompt_over_recommended" in codes(c.warnings)) is warning
    assert c.ok is not error


@pytest.mark.parametrize(("length", "ok"), [(3072, True), (3073, False)])
def test_prompt_limit_boundary(length: int, ok: bool) -> None:
    c = compile_storyboard(_prompt_of_length(length))
    assert c.length == length
    assert c.ok is ok
    assert codes(c.errors) == ([] if ok else ["prompt_too_long"])
    if ok:
        assert codes(c.warnings) == ["prompt_over_recommended"]


@pytest.mark.parametrize(
    ("length", "errors", "warnings"),
    [
        (512, [], []),
        (513, [], []),  # the 512 of a storyboard's shot does not hold for a plain prompt
        (1500, [], []),
        (2500, [], []),
        (2501, [], ["prompt_over_recommended"]),
        (3072, [], ["prompt_over_recommended"]),
        (3073, ["prompt_too_long"], []),
    ],
)
def test_single_shot_is_a_plain_prompt_with_the_prompt_limit(
    length: int, errors: list[str], warnings: list[str]
) -> None:
    c = compile_storyboard(board(("  " + "a" * length + "\n", 5)))
    assert c.text == "a" * length and c.length == length
    assert codes(c.errors) == errors
    assert codes(c.warnings) == warnings
    assert "shot_text_too_long" not in codes(c.errors)


def test_single_shot_over_the_limit_says_to_shorten_the_text() -> None:
    [error] = compile_storyboard(board(("b" * 3073, 5))).errors
    assert error.message == "The prompt is 3073 characters; the limit is 3072. Shorten the text."


def test_single_shot_keeps_line_breaks_and_semicolons() -> None:
    # A plain prompt is sent as written (trimmed): no shot syntax to protect, nothing sanitised.
    c = compile_storyboard(board(("a fox;\nthen rain", 5)))
    assert c.text == "a fox;\nthen rain" and c.ok and c.warnings == ()


@pytest.mark.parametrize(
    "text",
    [
        "shot 1, 2, a; shot 2, 3, b;",
        "Shot 1, 2, a; SHOT 2, 3, b",
        "  镜头1，2，a；镜头2，3，b；",
        "shot 1, 5, one shot;",
    ],
)
def test_single_shot_written_as_a_valid_storyboard_warns(text: str) -> None:
    c = compile_storyboard(board((text, 5)))
    assert c.ok and c.text == text.strip()
    assert codes(c.warnings) == ["storyboard_in_text"]
    assert c.warnings[0].shot == 1 and "Split into Shots" in c.warnings[0].message


@pytest.mark.parametrize(
    ("text", "seconds", "code"),
    [
        ("shot 1, 2, a; shot 2, 3, b;", 4, "invalid_duration"),  # the sum must be the shot's seconds
        ("shot 1, 3, a; shot 2, 0, b;", 3, "shot_duration_invalid"),
        ("shot 1, 2, a; shot 3, 3, b;", 5, "invalid_multishot_prompt"),  # numbering
        ("shot 1, 3, a; and then rain", 3, "invalid_multishot_prompt"),  # the parser's rule
        ("shot 1, 2, a; shot 2, 3, ;", 5, "shot_text_empty"),
        (f"shot 1, 2, {'x' * 513}; shot 2, 3, b;", 5, "shot_text_too_long"),
        ("".join(f"shot {i}, 1, s{i}; " for i in range(1, 8)), 7, "too_many_shots"),
    ],
)
def test_single_shot_written_as_a_broken_storyboard_is_an_error(text: str, seconds: int, code: str) -> None:
    c = compile_storyboard(board((text, seconds)))
    assert not c.ok
    assert codes(c.errors) == [code]
    assert c.errors[0].shot == 1
    assert c.errors[0].message.startswith("Shot 1 is written in the multi-shot format")
    assert "storyboard_in_text" not in codes(c.warnings)


def test_embedded_sum_message_names_both_figures() -> None:
    [error] = compile_storyboard(board(("shot 1, 2, a; shot 2, 3, b;", 4))).errors
    assert "add up to 5 s but the shot lasts 4 s" in error.message


def test_shot_syntax_inside_plain_text_is_plain() -> None:
    # Only text that starts like "shot 1, 2," is read as a storyboard (as the server reads it).
    c = compile_storyboard(board(("A long take. shot 1, 2, a; shot 2, 3, b;", 4)))
    assert c.ok and c.warnings == ()


def test_six_full_shots_overflow_the_prompt_limit() -> None:
    # Each shot within 512 does not make the whole prompt fit: 6 × 524 + 5 > 3072.
    c = compile_storyboard(board(*[("z" * 512, 2)] * 6))
    assert c.length == 6 * (512 + 12) + 5
    assert codes(c.errors) == ["prompt_too_long"]


def test_invalid_settings() -> None:
    c = compile_storyboard(board(("a", 5), resolution="4k", aspect_ratio="4:3"))
    assert codes(c.errors) == ["invalid_resolution", "invalid_aspect_ratio"]
    assert c.estimated_cost_usd is None


def test_image_to_video_request_rules() -> None:
    ff = FirstFrame(url="https://cdn.example.com/f.png")
    c = compile_storyboard(board(("a", 5), first_frame=ff, aspect_ratio="9:16", watermark=False))
    assert c.mode == "image-to-video"
    assert c.request == {
        "model": "kling-3.0-turbo",
        "prompt": "a",
        "resolution": "720p",
        "duration": 5,
        "first_frame_image": "https://cdn.example.com/f.png",
        "watermark": False,
    }
    assert codes(c.warnings) == ["aspect_ratio_ignored"]


def test_default_ratio_with_first_frame_does_not_warn() -> None:
    c = compile_storyboard(board(("a", 5), first_frame=FirstFrame(url="https://x.example/f.png")))
    assert not c.warnings


def test_watermark_only_when_set() -> None:
    assert "watermark" not in compile_storyboard(board(("a", 5))).request
    assert compile_storyboard(board(("a", 5), watermark=True)).request["watermark"] is True


def test_first_frame_url_must_be_https() -> None:
    c = compile_storyboard(board(("a", 5), first_frame=FirstFrame(url="http://x.example/f.png")))
    assert codes(c.errors) == ["first_frame_url_invalid"]


def test_first_frame_facts_are_judged() -> None:
    ff = FirstFrame(path="/tmp/f.png")
    small = FirstFrameCheck(facts=ImageFacts("PNG", 200, 200, 1000))
    c = compile_storyboard(board(("a", 5), first_frame=ff), first_frame_check=small)
    assert codes(c.errors) == ["first_frame_too_small"]
    assert "200×200" in c.errors[0].message and "300" in c.errors[0].message
    wide = FirstFrameCheck(facts=ImageFacts("PNG", 2600, 1000, 1000))
    c = compile_storyboard(board(("a", 5), first_frame=ff), first_frame_check=wide)
    assert codes(c.errors) == ["first_frame_aspect_ratio"] and "2.60:1" in c.errors[0].message
    edge = FirstFrameCheck(facts=ImageFacts("JPEG", 2500, 1000, 1000))
    assert compile_storyboard(board(("a", 5), first_frame=ff), first_frame_check=edge).ok
    webp = FirstFrameCheck(facts=ImageFacts("WEBP", 1000, 1000, 1000))
    c = compile_storyboard(board(("a", 5), first_frame=ff), first_frame_check=webp)
    assert c.ok and codes(c.warnings) == ["first_frame_converted"]
    huge = FirstFrameCheck(facts=ImageFacts("PNG", 1000, 1000, 50 * 1024 * 1024 + 1))
    c = compile_storyboard(board(("a", 5), first_frame=ff), first_frame_check=huge)
    assert codes(c.errors) == ["first_frame_too_large"]


def test_cost_estimate_uses_the_price_table() -> None:
    assert compile_storyboard(board(("a", 5))).estimated_cost_usd == 0.56
    assert compile_storyboard(board(("a", 10), resolution="1080p")).estimated_cost_usd == 1.4
    assert compile_storyboard(board(("a", 3)), prices={"720p": "0.2"}).estimated_cost_usd == 0.6


def test_sanitize_is_idempotent() -> None:
    once, _ = sanitize_shot_text(" a;b\n c ")
    assert sanitize_shot_text(once) == (once, [])


def test_limits_live_in_the_profile() -> None:
    assert KLING_3_TURBO.max_shots == 6
    assert KLING_3_TURBO.output_size("1080p", "1:1") == (1440, 1440)


def test_to_json_shape() -> None:
    data = compile_storyboard(board(("a;", 2), ("b", 1))).to_json()
    assert set(data) == {"ok", "prompt", "length", "mode", "request", "errors", "warnings", "estimated_cost_usd"}
    assert data["warnings"][0] == {"code": "text_sanitized", "shot": 1, "message": data["warnings"][0]["message"]}
