"""Test isolation for the whole suite.

Qt runs offscreen; config, data, cache and the keyring point into ``tmp_path``; the API key
variable is cleared; UI tests run on a qasync loop, the rest on a plain asyncio loop.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.pop("KLING_STUDIO_API_KEY", None)

import keyring
import keyring.backend
import pytest


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring so no test touches the real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MemoryKeyring]:
    home = tmp_path_factory.mktemp("home")
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        path = home / sub
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KLING_STUDIO_HOME", str(home / "kling-studio"))
    monkeypatch.delenv("KLING_STUDIO_API_KEY", raising=False)
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """A test must not leave non-daemon threads running."""
    before = set(threading.enumerate())
    yield
    leftovers = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    for t in leftovers:
        t.join(timeout=5)
    still = [t.name for t in leftovers if t.is_alive()]
    assert not still, f"test left threads running: {still}"


def _qasync_loop() -> asyncio.AbstractEventLoop:
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Callable[[], Any]]:
    if "tests/ui" in str(item.path).replace(os.sep, "/"):
        return {"qasync": _qasync_loop}
    return {"asyncio": asyncio.new_event_loop}
