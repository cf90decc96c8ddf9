"""Property: whatever project file ``compile --json`` is given, it answers, and what it passes the server takes.

Files are generated (valid shape, hostile values) and mutated (a valid file with bytes cut,
duplicated or replaced). For every one: exit ∈ {0, 1, 2}; stdout is one JSON object; exit 0 ⇒
the prompt has at most 3072 code points and the local server's own validator accepts the
request. ``main()`` runs in-process writing to a strict UTF-8 stream, as a terminal would.
The example count is bounded so the test takes a few seconds in ``make test``.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kling_studio.cli import main
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.localapi.validation import validate_generation

EXAMPLES = 120
# Any code point, lone surrogates and NUL included: the file is JSON text, so they arrive as escapes.
ANY_CHAR = st.characters(codec=None, categories=None)
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.text(st.sampled_from("ab ;；,\n\t镜头shot123"), max_size=600),
    st.integers(0, 3100).map(lambda n: "x" * n),
)
NUMBER = st.one_of(
    st.integers(-3, 20),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e30, 5.0, 2.5, -0.0]),
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)


def _choice(allowed: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(allowed), ANY_JSON)


SHOT = st.fixed_dictionaries({"text": st.one_of(TEXT, ANY_JSON), "duration": st.one_of(NUMBER, ANY_JSON)})
PROJECT = st.fixed_dictionaries(
    {
        "schema": st.one_of(st.just(1), ANY_JSON),
        "title": st.one_of(TEXT, ANY_JSON),
        "settings": st.fixed_dictionaries(
            {
                "model": _choice((KLING_3_TURBO.model,)),
                "resolution": _choice(KLING_3_TURBO.resolutions),
                "aspect_ratio": _choice(KLING_3_TURBO.aspect_ratios),
                "watermark": st.one_of(st.none(), st.booleans(), ANY_JSON),
            },
            optional={"x_extra": ANY_JSON},
        ),
        "first_frame": st.one_of(
            st.none(),
            st.fixed_dictionaries({"url": st.one_of(st.just("https://cdn.example/frame.png"), TEXT)}),
            st.fixed_dictionaries({"path": TEXT}),
            ANY_JSON,
        ),
        "shots": st.one_of(st.lists(SHOT, min_size=0, max_size=8), ANY_JSON),
    },
    optional={"x_notes": ANY_JSON},
)

# Files close to valid, so that the exit-0 branch (prompt length, server validator) is exercised.
NEAR_VALID = st.fixed_dictionaries(
    {
        "schema": st.just(1),
        "title": TEXT,
        "settings": st.fixed_dictionaries(
            {
                "model": st.just(KLING_3_TURBO.model),
                "resolution": st.sampled_from(KLING_3_TURBO.resolutions),
                "aspect_ratio": st.sampled_from(KLING_3_TURBO.aspect_ratios),
                "watermark": st.one_of(st.none(), st.booleans()),
            }
        ),
        "first_frame": st.one_of(st.none(), st.just({"url": "https://cdn.example/frame.png"})),
        "shots": st.lists(st.fixed_dictionaries({"text": TEXT, "duration": st.integers(1, 6)}), min_size=1, max_size=7),
    }
)
ANY_PROJECT = st.one_of(NEAR_VALID, NEAR_VALID, PROJECT)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A generated file's text with a few byte-level edits."""
    text = json.dumps(draw(ANY_PROJECT), ensure_ascii=draw(st.booleans()))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, min(len(text), i + 12)))
        edit = draw(st.sampled_from(["cut", "dup", "put", "deep"]))
        if edit == "cut":
            text = text[:i] + text[j:]
        elif edit == "dup":
            text = text[:j] + text[i:j] * draw(st.integers(1, 50)) + text[j:]
        elif edit == "put":
            text = text[:i] + draw(st.text(st.sampled_from('[]{}",:\\u0123456789eE.-+ \x00'), max_size=8)) + text[i:]
        else:
            n = draw(st.integers(1, 3000))
            text = text[:i] + "[" * n + "]" * n + text[i:]
    return text


def _run_compile(path: Path) -> tuple[int, str]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, like a UTF-8 terminal
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["compile", "--json", str(path)])
    out.flush()
    buffer = out.buffer
    assert isinstance(buffer, io.BytesIO)
    return code, buffer.getvalue().decode("utf-8")


def _check(text: str, record: bool = True) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.kling.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code, stdout = _run_compile(path)
    assert code in (0, 1, 2)
    if record:
        event(f"exit {code}")
    answer = json.loads(stdout)
    assert isinstance(answer, dict) and isinstance(answer["ok"], bool)
    assert answer["ok"] is (code == 0)
    if code != 0:
        assert answer["errors"]
        return
    assert len(answer["prompt"]) <= KLING_3_TURBO.max_prompt_chars
    request = dict(answer["request"])
    image = request.get("first_frame_image")
    if isinstance(image, str) and not image.startswith("https://"):
        request["first_frame_image"] = "https://cdn.example/uploaded.png"  # the engine uploads a local file first
    validate_generation(request)  # raises ApiError when the server would refuse


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_PROJECT)
def test_generated_project_files(project: dict[str, Any]) -> None:
    _check(json.dumps(project, ensure_ascii=False))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_project_files(text: str) -> None:
    _check(text)


def test_a_valid_multishot_file_reaches_the_validator() -> None:
    """The property's exit-0 branch is not empty: a good storyboard compiles and is accepted."""
    project = {
        "schema": 1,
        "title": "ok",
        "settings": {"model": KLING_3_TURBO.model, "resolution": "720p", "aspect_ratio": "16:9", "watermark": None},
        "first_frame": None,
        "shots": [{"text": "a; b", "duration": 2}, {"text": "c", "duration": 3}],
    }
    _check(json.dumps(project), record=False)
