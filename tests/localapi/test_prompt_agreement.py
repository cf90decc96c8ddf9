"""The local server accepts every prompt the compiler passes, over real HTTP on loopback,
and refuses the one-shot storyboards the compiler refuses, naming the same rule."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_studio.domain.compiler import compile_storyboard
from kling_studio.domain.storyboard import Shot, Storyboard

SUBMIT = "/v1/videos/generations"
SENTENCE = "A lighthouse keeper climbs the spiral stairs at dusk, lantern swinging, gulls wheeling outside. "


def prose(length: int) -> str:
    return (SENTENCE * (length // len(SENTENCE) + 1))[: length - 1] + "."


def board(*shots: tuple[str, int]) -> Storyboard:
    return Storyboard(title="t", shots=tuple(Shot(t, d) for t, d in shots))


GOOD = [
    board((prose(1500), 5)),
    board((prose(2500), 3)),
    board((prose(3072), 15)),
    board(("雨" * 3072, 5)),
    board(("shot 1, 2, a girl; shot 2, 3, a dog;", 5)),
    board(("Shot 1, 2, a; SHOT 2, 1, b", 3)),
    board(("镜头1，2，a；镜头2，3，b；", 5)),
    board(("a; b\nc", 2), ("d", 3)),
    board(*[("z" * 500, 2)] * 5),
]
BAD = [
    board((prose(3073), 5)),
    board(("shot 1, 2, a girl; shot 2, 3, a dog;", 4)),
    board(("shot 1, 2, a; shot 3, 3, b;", 5)),
    board((f"shot 1, 2, {'x' * 513}; shot 2, 3, b;", 5)),
    board(("shot 1, 3, a; shot 2, 0, b;", 3)),
    board(("".join(f"shot {i}, 1, s{i}; " for i in range(1, 8)), 7)),
]


def post(client: httpx.Client, storyboard: Storyboard) -> httpx.Response:
    return client.post(SUBMIT, json=compile_storyboard(storyboard).request)


@pytest.mark.parametrize("storyboard", GOOD, ids=lambda b: b.shots[0].text[:24])
def test_what_compiles_is_accepted(client: httpx.Client, storyboard: Storyboard) -> None:
    assert compile_storyboard(storyboard).ok
    response = post(client, storyboard)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("storyboard", BAD, ids=lambda b: b.shots[0].text[:24])
def test_what_the_compiler_refuses_the_server_refuses_by_the_same_rule(
    client: httpx.Client, storyboard: Storyboard
) -> None:
    compiled = compile_storyboard(storyboard)
    assert not compiled.ok
    response = post(client, storyboard)
    assert response.status_code == 400
    assert response.json()["error"]["message"].split(":")[0] == compiled.errors[0].code


syntax_piece = st.sampled_from(["shot ", "Shot ", "镜头", "1", "2", "3", ", ", "，", "; ", "；", "a fox", " ", "\n"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(syntax_piece, min_size=1, max_size=24).map("".join), st.integers(min_value=3, max_value=15))
def test_any_one_shot_text_that_compiles_is_accepted(client: httpx.Client, text: str, seconds: int) -> None:
    storyboard = board((text, seconds))
    compiled = compile_storyboard(storyboard)
    response = post(client, storyboard)
    if compiled.ok:
        assert response.status_code == 200, (compiled.text, response.text)
    elif response.status_code == 200:
        # The server takes it, so the compiler's reason is not about the prompt's shape.
        assert {d.code for d in compiled.errors} <= {"prompt_required"}, compiled.errors
