"""PySide6 6.12 on Python 3.11 drops a reference to None/True/False on every void call or emit;
importing ``kling_studio.ui`` makes them immortal so a long session cannot abort the interpreter."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel

import kling_studio.ui


def test_singletons_survive_many_void_calls_and_emits(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for i in range(20_000):
        label.setText("x")  # returns None
        label.objectNameChanged.emit(str(i % 2))  # returns a bool
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    if sys.version_info < (3, 12):
        assert all(count > 1 << 39 for count in after)
    assert kling_studio.ui.immortalize_singletons() is None  # idempotent
    assert len(before) == len(after)
