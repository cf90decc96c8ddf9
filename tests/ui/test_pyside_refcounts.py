"""The pinned PySide6 keeps its references: PySide6 6.12.0 on Python 3.11 dropped one reference to
None/True/False on every void call or emit and aborted the interpreter after a few thousand calls,
which is why pyproject.toml pins 6.11.3. This test fails if an upgrade brings that back."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_singletons_survive_many_void_calls_and_emits(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for i in range(20_000):
        label.setText("x")  # returns None
        label.objectNameChanged.emit(str(i % 2))  # returns a bool
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for b, a in zip(before, after, strict=True):
        assert a >= b - 100
