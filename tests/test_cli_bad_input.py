"""Bad input to ``compile`` and ``submit`` is an error (exit 1 or 2, JSON with ``--json``), never a traceback.

Each case is an attack from issue 11 §5; ``main()`` runs in-process, so an exception that
escapes it fails the test, and pytest's capture is a strict UTF-8 stream like a real terminal.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from kling_studio.cli import main
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.job_engine import POLL_SCALE_ENV

BASE = {
    "schema": 1,
    "title": "attack",
    "settings": {"model": "kling-3.0-turbo", "resolution": "720p", "aspect_ratio": "16:9", "watermark": None},
    "first_frame": None,
    "shots": [{"text": "a lighthouse at dusk", "duration": 5}],
}
GOOD = json.dumps(BASE)

# name → project-file text. Each was a traceback (or a hang, or gigabytes) before.
ATTACKS = {
    "duration_1e30": GOOD.replace('"duration": 5', '"duration": 1e30'),
    "duration_10_pow_30": GOOD.replace('"duration": 5', '"duration": ' + str(10**30)),
    "integer_over_4300_digits": GOOD.replace('"duration": 5', '"duration": ' + "7" * 4301),
    "integer_over_4300_digits_in_an_unknown_key": GOOD.replace('"title"', '"x_n": ' + "1" * 5000 + ', "title"'),
    "nested_100000_brackets": GOOD.replace('"title"', '"x_deep": ' + "[" * 100_000 + "]" * 100_000 + ', "title"'),
    "nested_100000_unclosed": "[" * 100_000,
    "lone_surrogate_in_title": GOOD.replace('"title": "attack"', '"title": "\\ud800"'),
    "lone_surrogate_in_shot_text": GOOD.replace("a lighthouse", "a \\udfff lighthouse"),
    "lone_surrogate_in_model": GOOD.replace('"kling-3.0-turbo"', '"kling\\ud800"'),
    "lone_surrogate_in_an_unknown_key": GOOD.replace('"title"', '"x_\\ud800": 1, "title"'),
    "lone_surrogate_in_first_frame_url": GOOD.replace(
        '"first_frame": null', '"first_frame": {"url": "https://x.example/\\ud800.png"}'
    ),
    "nul_in_first_frame_path": GOOD.replace('"first_frame": null', '"first_frame": {"path": "frame\\u0000.png"}'),
    "nan_duration": GOOD.replace('"duration": 5', '"duration": NaN'),
    "infinite_duration": GOOD.replace('"duration": 5', '"duration": -Infinity'),
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.kling.json"
    path.write_text(text, encoding="utf-8")
    return path


def _compile_json(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], str]:
    code = main(["compile", "--json", str(path)])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_compile_json_refuses_each_attack_with_a_json_error(
    attack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, attack, ATTACKS[attack])
    code, answer, err = _compile_json(path, capsys)
    assert code in (1, 2)
    assert answer["ok"] is False
    errors = answer["errors"]
    assert isinstance(errors, list) and errors
    first = errors[0]
    assert set(first) >= {"code", "shot", "message"} and first["message"]
    assert "Traceback" not in err


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_compile_text_refuses_each_attack(attack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, attack, ATTACKS[attack])
    assert main(["compile", str(path)]) in (1, 2)
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_submit_refuses_each_attack_before_any_job(
    attack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, attack, ATTACKS[attack])
    # No server is given: a refused file must never get as far as the network.
    assert main(["submit", str(path), "--base-url", "http://127.0.0.1:9"]) in (1, 2)
    assert "Traceback" not in capsys.readouterr().err
    capsys.readouterr()
    assert main(["jobs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_unreadable_file_gives_the_json_error_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, answer, _err = _compile_json(tmp_path / "missing.kling.json", capsys)
    assert code == 2
    assert answer == {
        "ok": False,
        "errors": [{"code": "project_unreadable", "shot": None, "message": answer["errors"][0]["message"]}],  # type: ignore[index]
    }
    path = _write(tmp_path, "broken", "{")
    code, answer, _err = _compile_json(path, capsys)
    assert code == 2 and answer["errors"][0]["code"] == "project_syntax"  # type: ignore[index]


def test_a_valid_file_keeps_todays_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, answer, _err = _compile_json(_write(tmp_path, "good", GOOD), capsys)
    assert code == 0
    assert set(answer) == {"ok", "prompt", "length", "mode", "request", "errors", "warnings", "estimated_cost_usd"}


def test_the_rule_is_named_for_an_absurd_duration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _code, answer, _err = _compile_json(_write(tmp_path, "d", ATTACKS["duration_10_pow_30"]), capsys)
    message = str(answer["errors"][0]["message"])  # type: ignore[index]
    assert "shots[0].duration" in message and "86400" in message


def test_a_surrogate_in_a_real_terminal_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = _write(tmp_path, "s", ATTACKS["lone_surrogate_in_shot_text"])
    result = subprocess.run(
        [sys.executable, "-m", "kling_studio", "compile", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "shots[0].text" in json.loads(result.stdout)["errors"][0]["message"]


# A first frame over 100 megapixels: refused from its header, never decoded.

SIDE = 13_000  # 169 megapixels; a 1-bit PNG of it is ~20 kB on disk


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    Image.new("1", (SIDE, SIDE)).save(path)
    return path


def _image_project(folder: Path, image: Path) -> Path:
    data = {**BASE, "first_frame": {"path": str(image)}}
    return _write(folder, "huge", json.dumps(data))


def test_compile_refuses_a_first_frame_over_100_megapixels_with_the_rule_and_the_value(
    huge_png: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, answer, _err = _compile_json(_image_project(tmp_path, huge_png), capsys)
    assert code == 1
    [error] = [e for e in answer["errors"] if e["code"] == "first_frame_too_many_pixels"]  # type: ignore[union-attr,index]
    assert f"{SIDE}×{SIDE}" in error["message"] and "169.0 megapixels" in error["message"]
    assert "limit is 100 megapixels" in error["message"]


def test_compile_does_not_decode_the_huge_first_frame(huge_png: Path, tmp_path: Path) -> None:
    """Decoding 13000×13000 needs at least 169 MB even at one byte a pixel; the header needs none."""
    project = _image_project(tmp_path, huge_png)
    script = (
        "import sys\n"
        "from kling_studio.cli import main\n"
        f"code = main(['compile', '--json', {str(project)!r}])\n"
        # VmHWM is this process's own peak; ru_maxrss would carry the parent's over fork and exec.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print('MAXRSS', hwm, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stderr
    maxrss_kb = int(result.stderr.split("MAXRSS")[1].split()[0])
    print(f"compile of a {SIDE}×{SIDE} first frame: peak RSS {maxrss_kb / 1024:.0f} MB")
    assert maxrss_kb < 120 * 1024


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    monkeypatch.setenv(POLL_SCALE_ENV, "0.02")
    with LocalServer(LocalServerConfig(task_seconds=0.2, retry_after=0.05)) as srv:
        yield srv


def test_submit_refuses_a_first_frame_over_100_megapixels(
    huge_png: Path, tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["submit", str(_image_project(tmp_path, huge_png)), "--base-url", server.base_url])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "first_frame_too_many_pixels" in err and "169.0 megapixels" in err
    assert server.state.submissions == 0 and server.state.uploads == {}
