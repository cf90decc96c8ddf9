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
    # Either the bindings keep their references (PySide6 6.11) or the guard made them immortal (6.12).
    for b, a in zip(before, after, strict=True):
        assert a > 1 << 39 or a >= b - 100
    kling_studio.ui.immortalize_singletons()  # idempotent
    assert sys.getrefcount(None) >= after[0] - 10
