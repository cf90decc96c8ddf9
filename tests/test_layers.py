"""The layering rule: domain and services never import Qt, domain never does I/O libraries."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCKER = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    class Block:
        def __init__(self, names): self.names = names
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                raise ImportError(f"{name} is blocked in this layer")
            return None

    sys.meta_path.insert(0, Block(set(sys.argv[2].split(","))))
    import kling_studio
    pkg = importlib.import_module(sys.argv[1])
    for mod in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
        importlib.import_module(mod.name)
    print("ok")
    """
)


@pytest.mark.parametrize(
    ("package", "blocked"),
    [
        ("kling_studio.domain", "PySide6,shiboken6,httpx,sqlite3,asyncio,PIL,av,starlette,uvicorn"),
        ("kling_studio.services", "PySide6,shiboken6,starlette,uvicorn"),
        ("kling_studio.localapi", "PySide6,shiboken6"),
    ],
)
def test_layer_does_not_import(package: str, blocked: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, package, blocked], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
