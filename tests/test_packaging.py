"""Fast checks of the packaging files: desktop entry, AppStream, icons, the sample project.

The slow part (PyInstaller build, --version, --smoke) is packaging/check.sh (`make package-check`).
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image, ImageChops

import kling_studio
from kling_studio.domain.compiler import compile_storyboard
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.services.image_prep import read_first_frame
from kling_studio.services.project_io import load_project

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
APP_ID = "io.github.klingstudio.KlingStudio"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
RESOURCES = Path(kling_studio.__file__).parent / "resources"
SAMPLE = RESOURCES / "sample" / "sample.kling.json"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_validates() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_appstream_metainfo_validates() -> None:
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_entry_metainfo_and_entry_points_agree() -> None:
    entry = _desktop_entry()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    gui_scripts = pyproject["project"]["gui-scripts"]
    # The entry starts a command that both the wheel (a script) and the PyInstaller bundle (its EXE) provide.
    command = entry["Exec"].split()[0]
    assert entry["TryExec"] == command
    assert command in set(gui_scripts) | set(pyproject["project"]["scripts"])
    spec = (ROOT / "packaging" / "kling-studio.spec").read_text(encoding="utf-8")
    assert re.search(rf"EXE\((?s:.*?)name=\"{re.escape(command)}\"", spec)
    assert entry["Icon"] == APP_ID
    component = ET.parse(METAINFO).getroot()
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable") == DESKTOP.name
    binaries = {b.text for b in component.iter("binary")}
    assert binaries <= set(gui_scripts) | set(pyproject["project"]["scripts"])
    assert component.find("releases/release").get("version") == kling_studio.__version__  # type: ignore[union-attr]


def test_resources_are_package_data_through_the_symlink() -> None:
    link = ROOT / "kling_studio" / "resources"
    assert link.is_symlink() and os.readlink(link) == "../resources"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "resources/**/*" in pyproject["tool"]["setuptools"]["package-data"]["kling_studio"]


def test_app_icon_svg_and_every_png_size_exist() -> None:
    svg = RESOURCES / "app" / "kling-studio.svg"
    assert ET.parse(svg).getroot().tag.endswith("svg")
    for size in ICON_SIZES:
        with Image.open(RESOURCES / "app" / f"kling-studio-{size}.png") as png:
            assert png.format == "PNG"
            assert png.size == (size, size)
            assert png.mode == "RGBA"
            corner = png.getpixel((0, 0))
            assert isinstance(corner, tuple) and corner[3] == 0  # transparent corner: a rounded square


def test_sample_project_loads_and_compiles_cleanly() -> None:
    storyboard = load_project(SAMPLE)
    assert len(storyboard.shots) == 4
    assert KLING_3_TURBO.min_total_seconds <= storyboard.total_duration <= KLING_3_TURBO.max_total_seconds
    assert storyboard.first_frame is not None and storyboard.first_frame.path is not None
    assert Path(storyboard.first_frame.path) == (RESOURCES / "sample" / "frames" / "first-frame.png").resolve()
    check = read_first_frame(storyboard.first_frame.path)
    compiled = compile_storyboard(storyboard, first_frame_check=check)
    assert compiled.ok, compiled.errors
    assert not compiled.warnings, compiled.warnings
    assert compiled.mode == "image-to-video"
    assert '"path": "frames/first-frame.png"' in SAMPLE.read_text(encoding="utf-8")  # portable, relative


def test_sample_first_frame_is_the_generated_picture() -> None:
    frame = RESOURCES / "sample" / "frames" / "first-frame.png"
    with Image.open(frame) as committed:
        assert committed.format == "PNG"
        assert committed.size[0] >= 1280 and committed.size[1] >= 720
        drawn = _load_script("make_sample").draw_scene()
        assert ImageChops.difference(drawn.convert("RGB"), committed.convert("RGB")).getbbox() is None


def test_packaging_scripts_are_executable_and_parse() -> None:
    for name in ("build.sh", "check.sh"):
        script = PACKAGING / name
        assert os.access(script, os.X_OK), f"{name} is not executable"
        subprocess.run(["bash", "-n", str(script)], check=True)
    spec = (PACKAGING / "kling-studio.spec").read_text(encoding="utf-8")
    assert '"launcher.py"' in spec and (PACKAGING / "launcher.py").is_file()
    compile(spec, "kling-studio.spec", "exec")
