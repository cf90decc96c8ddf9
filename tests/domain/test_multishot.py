"""The multi-shot parser, and the property that parse(compile(s)) gives back the shots."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kling_studio.domain.compiler import compile_storyboard, sanitize_shot_text
from kling_studio.domain.multishot import (
    MultiShotParseError,
    ParsedShot,
    check_request_prompt,
    looks_multishot,
    parse_multishot,
)
from kling_studio.domain.storyboard import Shot, Storyboard


def test_parse_compiler_output() -> None:
    text = "shot 1, 3, a girl walks; shot 2, 4, close-up, thunder; shot 3, 3, wide view;"
    assert parse_multishot(text) == [
        ParsedShot(1, 3, "a girl walks"),
        ParsedShot(2, 4, "close-up, thunder"),
        ParsedShot(3, 3, "wide view"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Shot 1, 2, a; SHOT 2, 1, b;",
        "镜头1，2，a；镜头2，1，b",
        "shot 1,2,a;shot 2,1,b",
    ],
)
def test_parse_accepts_keyword_variants(text: str) -> None:
    assert [(s.number, s.duration, s.text) for s in parse_multishot(text)] == [(1, 2, "a"), (2, 1, "b")]


@pytest.mark.parametrize("text", ["shot one, 2, a;", "shot 1, 2, a; garbage", "shot 1 2 a;", ""])
def test_parse_rejects_broken_text(text: str) -> None:
    with pytest.raises(MultiShotParseError):
        parse_multishot(text)


def test_looks_multishot() -> None:
    assert looks_multishot("shot 1, 3, x;")
    assert not looks_multishot("a shot of a fox")


def test_request_prompt_checks() -> None:
    ok = "shot 1, 2, a; shot 2, 3, b;"
    assert check_request_prompt(ok, 5, has_first_frame=False) == []
    assert [d.code for d in check_request_prompt(ok, 6, has_first_frame=False)] == ["invalid_duration"]
    assert [d.code for d in check_request_prompt("shot 2, 2, a; shot 1, 3, b;", 5, has_first_frame=False)] == [
        "invalid_multishot_prompt",
        "invalid_multishot_prompt",
    ]
    assert [d.code for d in check_request_prompt("", 5, has_first_frame=False)] == ["prompt_required"]
    assert check_request_prompt("", 5, has_first_frame=True) == []
    assert [d.code for d in check_request_prompt("x" * 3073, 5, has_first_frame=False)] == ["prompt_too_long"]


# Shot texts: any printable text, including CJK, emoji, combining marks, semicolons and line breaks.
shot_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="") | st.sampled_from(";；\n\t "),
    min_size=1,
    max_size=60,
).filter(lambda t: sanitize_shot_text(t)[0] != "")


@st.composite
def valid_storyboards(draw: st.DrawFn) -> Storyboard:
    n = draw(st.integers(min_value=2, max_value=6))
    durations = draw(st.lists(st.integers(min_value=1, max_value=5), min_size=n, max_size=n))
    if not 3 <= sum(durations) <= 15:
        durations = [1] * (n - 1) + [max(1, 3 - (n - 1))]
        durations = durations if sum(durations) <= 15 else [1] * n
    texts = draw(st.lists(shot_text, min_size=n, max_size=n))
    return Storyboard(title="p", shots=tuple(Shot(t, d) for t, d in zip(texts, durations, strict=True)))


@settings(max_examples=300, deadline=None)
@given(valid_storyboards())
def test_parse_of_compile_gives_back_the_shots(storyboard: Storyboard) -> None:
    compiled = compile_storyboard(storyboard)
    assert compiled.ok, compiled.errors
    parsed = parse_multishot(compiled.text)
    assert [(p.number, p.duration) for p in parsed] == [(i, s.duration) for i, s in enumerate(storyboard.shots, 1)]
    assert [p.text for p in parsed] == [sanitize_shot_text(s.text)[0] for s in storyboard.shots]
    assert check_request_prompt(compiled.text, storyboard.total_duration, has_first_frame=False) == []


# One-shot texts built from pieces of the shot syntax, so many of them look like a storyboard.
syntax_piece = st.sampled_from(
    ["shot ", "Shot ", "SHOT ", "镜头", "1", "2", "3", "0", ", ", "，", "; ", "；", "a fox", " ", "\n"]
)
syntax_like_text = st.lists(syntax_piece, min_size=1, max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(syntax_like_text, st.integers(min_value=3, max_value=15))
def test_compiler_and_server_agree_on_one_shot_prompts(text: str, seconds: int) -> None:
    """What compiles clean is accepted by the server's check, and what it refuses never compiles clean."""
    compiled = compile_storyboard(Storyboard(title="p", shots=(Shot(text, seconds),)))
    server = check_request_prompt(compiled.text, compiled.request["duration"], has_first_frame=False)
    if compiled.ok:
        assert server == []
    if server:
        assert not compiled.ok
        assert {d.code for d in server} <= {d.code for d in compiled.errors}
