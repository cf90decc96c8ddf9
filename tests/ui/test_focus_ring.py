"""Every focusable widget of the window shows a focus ring in both themes: the pixels that change
when it takes focus reach 3:1 contrast against what they were (its background)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QMenuBar, QToolBar, QWidget

from kling_studio.ui.queue_demo import demo_engine
from kling_studio.ui.theme import apply_theme

from .studio_helpers import contrast, load, make_window, storyboard, to_pil

MIN_CONTRAST = 3.0


@pytest.fixture
def theme_restored() -> Iterator[None]:
    yield
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")


def focusable(window: QWidget) -> list[QWidget]:
    found = []
    for w in window.findChildren(QWidget):
        if not (w.isVisible() and w.isEnabled()) or w.focusProxy() is not None:
            continue
        if not w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            continue
        if any(isinstance(p, QToolBar | QMenuBar) for p in _ancestors(w)):
            continue  # toolbar buttons are reached by their shortcuts, not by Tab
        if isinstance(w.parentWidget(), QAbstractSpinBox):
            continue  # the spin box's own line edit: the box is what takes focus
        found.append(w)
    return found


def _ancestors(w: QWidget) -> Iterator[QWidget]:
    p = w.parentWidget()
    while p is not None:
        yield p
        p = p.parentWidget()


def ring_pixels(widget: QWidget, other: QWidget) -> int:
    """How many pixels change to a colour at least 3:1 against their unfocused colour."""
    other.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    assert not widget.hasFocus()
    before = to_pil(widget.grab().toImage())
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    assert widget.hasFocus(), widget
    after = to_pil(widget.grab().toImage())
    return sum(
        1
        for a, b in zip(before.get_flattened_data(), after.get_flattened_data(), strict=True)
        if a != b and contrast(a, b) >= MIN_CONTRAST
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_every_focusable_widget_shows_a_ring(qtbot, tmp_path: Path, theme: str, theme_restored: None) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, theme)
    engine, _now = demo_engine(tmp_path / "media")
    window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
    window.attach_job_panels(engine)  # type: ignore[arg-type]
    window.resize(1366, 768)
    load(window, storyboard(("a harbour at dawn", 3), ("gulls over the pier", 2)))
    QApplication.processEvents()
    widgets = focusable(window)
    names = {w.accessibleName() or w.objectName() or type(w).__name__ for w in widgets}
    assert len(widgets) >= 15, names
    weak = []
    for widget in widgets:
        other = window.title_edit if widget is not window.title_edit else window.shot_list.view
        size = widget.size()
        needed = min(size.width(), 200) + min(size.height(), 40)  # about half a ring's perimeter
        got = ring_pixels(widget, other)
        if got < needed:
            weak.append(f"{type(widget).__name__} '{widget.accessibleName() or widget.objectName()}': {got}/{needed}")
    assert weak == [], f"{theme}: no visible focus ring on " + "; ".join(weak)
