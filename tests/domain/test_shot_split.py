"""Split into Shots: the shot syntax and pasted shot lists become shots, or a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kling_studio.domain.compiler import compile_storyboard, sanitize_shot_text
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.multishot import looks_multishot
from kling_studio.domain.shot_split import ShotSplitError, offers_split, split_shot, split_text
from kling_studio.domain.storyboard import Shot, Storyboard


def pairs(shots: list[Shot]) -> list[tuple[str, int]]:
    return [(s.text, s.duration) for s in shots]


@pytest.mark.parametrize(
    "text",
    [
        "shot 1, 2, a girl; shot 2, 3, a dog;",
        "Shot 1, 2, a girl; SHOT 2, 3, a dog",
        "镜头1，2，a girl；镜头2，3，a dog；",
    ],
)
def test_the_shot_syntax_gives_its_shots_and_seconds(text: str) -> None:
    assert offers_split(text)
    assert pairs(split_text(text, 9)) == [("a girl", 2), ("a dog", 3)]


def test_syntax_over_several_lines() -> None:
    text = "shot 1, 2, a girl walks;\nshot 2, 3, close-up;\n"
    assert pairs(split_text(text, 5)) == [("a girl walks", 2), ("close-up", 3)]


def test_a_shot_list_with_leading_and_trailing_seconds() -> None:
    text = "3s  A girl walks toward the window\n\n   \nClose-up of her reflection 4 s\n(2s) Wide view of the street\nThunder (1 sec)."
    assert pairs(split_text(text, 5)) == [
        ("A girl walks toward the window", 3),
        ("Close-up of her reflection", 4),
        ("Wide view of the street", 2),
        ("Thunder", 1),
    ]


def test_list_markers_and_shot_labels_are_dropped() -> None:
    text = "1. A girl walks 3s\n2) Shot 2: a dog barks\n- Shot 3 - 2 s - rain\n• 镜头4：sunset"
    assert pairs(split_text(text, 8)) == [("A girl walks", 3), ("a dog barks", 2), ("rain", 2), ("sunset", 1)]


def test_lines_without_seconds_share_what_is_left_of_the_total() -> None:
    assert pairs(split_text("a\nb\nc", 8)) == [("a", 3), ("b", 3), ("c", 2)]
    assert pairs(split_text("a 4s\nb\nc", 8)) == [("a", 4), ("b", 2), ("c", 2)]
    # Too little left: each line without seconds gets the minimum, never zero.
    assert pairs(split_text("a 5s\nb\nc", 5)) == [("a", 5), ("b", 1), ("c", 1)]


def test_words_that_only_look_like_seconds_stay_text() -> None:
    assert pairs(split_text("MP3s play loud\n3 seconds later she runs\nsheep 3 sheep", 6)) == [
        ("MP3s play loud", 2),
        ("3 seconds later she runs", 2),
        ("sheep 3 sheep", 2),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\nb\nc\nd\ne\nf\ng", "describes 7 shots; a storyboard holds at most 6"),
        ("2.5s a girl\nb", "Line 1 gives 2.5 s; shots last whole seconds"),
        ("a girl\n0s b", "Line 2 gives 0 s; each shot needs at least 1 s"),
        ("3s\nb", "Line 1 gives seconds but no text"),
        ("shot 1, 0, a; shot 2, 3, b;", "Shot 1 lasts 0 s"),
        ("shot 1, 2, a; then rain", "does not follow it: expected 'shot <number>, <seconds>, <text>;'"),
        ("".join(f"shot {i}, 1, s{i}; " for i in range(1, 8)), "describes 7 shots"),
    ],
)
def test_problems_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(ShotSplitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        split_text(text, 5)


def test_offers_split_only_for_shot_like_text() -> None:
    assert not offers_split("A single long prompt about a lighthouse at dusk. " * 30)
    assert not offers_split("  \n one line \n\n")
    assert offers_split("one\ntwo")
    assert offers_split("shot 1, 5, a fox;")


def test_split_shot_replaces_the_shot_in_place_and_keeps_the_others() -> None:
    sb = Storyboard(shots=(Shot("first", 2), Shot("a\nb", 4, {"note": "kept"}), Shot("last", 3)))
    out = split_shot(sb, 1)
    assert pairs(list(out.shots)) == [("first", 2), ("a", 2), ("b", 2), ("last", 3)]
    assert out.shots[1].extra == {"note": "kept"}
    assert out.total_duration == sb.total_duration
    assert sb.shots[1].text == "a\nb"  # the original value is untouched


def test_split_shot_refuses_to_pass_the_shot_limit() -> None:
    sb = Storyboard(shots=(Shot("a", 1), Shot("b", 1), Shot("c", 1), Shot("d", 1), Shot("e\nf\ng", 3)))
    with pytest.raises(ShotSplitError, match="would make 7; a storyboard holds at most 6"):
        split_shot(sb, 4)


def test_split_shot_with_nothing_to_split() -> None:
    with pytest.raises(ShotSplitError, match="Nothing to split"):
        split_shot(Storyboard(shots=(Shot("a fox", 5),)), 0)
    with pytest.raises(ShotSplitError, match="Select a shot"):
        split_shot(Storyboard(shots=(Shot("a fox", 5),)), 3)


line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\r\n\x1c\x1d\x1e\x85"),
    min_size=1,
    max_size=40,
).map(lambda t: f"w {t} w")  # words at both ends: the seconds a test writes are the only ones


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(line_text, st.integers(min_value=1, max_value=5), st.booleans()), min_size=1, max_size=6),
)
def test_a_written_shot_list_round_trips(lines: list[tuple[str, int, bool]]) -> None:
    text = "\n".join(f"{s}s  {t}" if lead else f"{t} {s} s" for t, s, lead in lines)
    if not offers_split(text):
        return  # a single line is not offered
    assert pairs(split_text(text, 5)) == [(t.strip(), s) for t, s, _ in lines]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.integers(min_value=0, max_value=15))
def test_any_text_gives_valid_shots_or_a_split_error(text: str, total: int) -> None:
    try:
        shots = split_text(text, total)
    except ShotSplitError as exc:
        message = str(exc)
        assert message.endswith(".") and "Traceback" not in message  # a sentence for people
        return
    assert 1 <= len(shots) <= KLING_3_TURBO.max_shots
    assert all(isinstance(s.duration, int) and s.duration >= KLING_3_TURBO.min_shot_seconds for s in shots)
    assert all(s.text for s in shots) or looks_multishot(text)  # the syntax may leave a shot empty


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(alphabet="abc xyz,.!", min_size=1, max_size=30).filter(str.strip), st.integers(1, 3)),
        min_size=2,
        max_size=6,
    )
)
def test_split_of_a_compiled_prompt_gives_back_the_storyboard(shots: list[tuple[str, int]]) -> None:
    sb = Storyboard(shots=tuple(Shot(t, s) for t, s in shots))
    compiled = compile_storyboard(sb).text
    assert pairs(split_text(compiled, 0)) == [(sanitize_shot_text(t)[0], s) for t, s in shots]
