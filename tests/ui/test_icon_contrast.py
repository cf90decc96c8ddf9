"""Light theme: every icon, as rendered, reaches 3:1 against the background it sits on.

Contrast is measured from pixels: each icon is rendered at its on-screen size onto its real
background (the most common colour of the widget's own grab), and the strongest pixel must
reach 3:1 — antialiasing only lowers it, so this never overstates. Buttons' text counts for
the first-run banner's controls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QColor, QIcon, QImage, QPainter
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from kling_studio.domain.jobs import JobState
from kling_studio.ui import icons, theme
from kling_studio.ui.banner import FirstRunBanner
from kling_studio.ui.queue_delegates import state_icon
from kling_studio.ui.queue_demo import demo_engine
from kling_studio.ui.theme import apply_theme

from .studio_helpers import contrast, load, make_window, storyboard, to_pil

MIN_CONTRAST = 3.0


@pytest.fixture
def light(qapp) -> Iterator[None]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    yield
    apply_theme(app, "dark")


def rgb(colour: QColor) -> tuple[int, int, int]:
    return (colour.red(), colour.green(), colour.blue())


def icon_contrast(icon: QIcon, size: QSize, background: QColor, mode: QIcon.Mode = QIcon.Mode.Normal) -> float:
    """The strongest contrast of any pixel of ``icon`` drawn on ``background``."""
    pixmap = icon.pixmap(size, mode)
    assert not pixmap.isNull()
    image = QImage(pixmap.size(), QImage.Format.Format_RGB32)
    image.fill(background)
    painter = QPainter(image)
    painter.drawPixmap(0, 0, pixmap)
    painter.end()
    bg = rgb(background)
    return max(contrast(p, bg) for p in to_pil(image).get_flattened_data())


def grab_in_place(widget: QWidget) -> QImage:
    """The widget as it appears in its window, over its parents' backgrounds (a bare ``grab``
    leaves an auto-raised button's background transparent)."""
    top = widget.window()
    return top.grab(QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())).toImage()


def background_of(widget: QWidget) -> QColor:
    """The colour most of the widget's pixels have: what its icon or text sits on."""
    image = to_pil(grab_in_place(widget))
    ((colour, _count),) = Counter(image.get_flattened_data()).most_common(1)
    return QColor(*colour)


def ink_contrast(widget: QWidget) -> float:
    """The strongest contrast in the widget's grab against its background (its text or glyph)."""
    image = to_pil(widget.grab().toImage())
    ((bg, _count),) = Counter(image.get_flattened_data()).most_common(1)
    return max(contrast(p, bg) for p in image.get_flattened_data())


def name(widget: QWidget) -> str:
    action = getattr(widget, "defaultAction", lambda: None)()
    text = action.text() if action is not None else getattr(widget, "text", lambda: "")()
    return f"{type(widget).__name__} '{widget.accessibleName() or text or widget.toolTip() or widget.objectName()}'"


def test_every_icon_file_reaches_3_to_1_on_every_light_surface(light: None) -> None:
    c = theme.colors()
    assert c.name == "light"
    folder = resources.files("kling_studio") / "resources" / "icons"
    names = sorted(Path(str(p)).stem for p in folder.iterdir() if str(p).endswith(".svg"))
    assert len(names) >= 30
    weak = []
    for icon_name in names:
        icon = icons.icon(icon_name)
        for surface in (c.window, c.card, c.base, c.button, c.hover):
            for mode in (QIcon.Mode.Normal, QIcon.Mode.Disabled):
                for px in (16, 20, 24):
                    got = icon_contrast(icon, QSize(px, px), QColor(surface), mode)
                    if got < MIN_CONTRAST:
                        weak.append(f"{icon_name} {mode.name} {px}px on {surface}: {got:.2f}")
    assert not weak, "\n".join(weak)


def test_job_state_badges_reach_3_to_1_on_rows_and_selection(light: None) -> None:
    c = theme.colors()
    weak = []
    for state in JobState:
        for surface in (c.base, c.alt_base, c.selection):
            got = icon_contrast(state_icon(state), QSize(16, 16), QColor(surface))
            if got < MIN_CONTRAST:
                weak.append(f"{state.value} on {surface}: {got:.2f}")
    assert not weak, "\n".join(weak)


async def test_every_toolbar_and_panel_icon_in_the_window(qtbot, tmp_path: Path, light: None) -> None:
    engine, _now = demo_engine(tmp_path / "media")
    window = make_window(qtbot, engine=engine)  # type: ignore[arg-type]
    window.attach_job_panels(engine)  # type: ignore[arg-type]
    window.resize(1366, 768)
    load(window, storyboard(("a harbour at dawn", 3), ("gulls over the pier", 2)))
    window.job_panels.queue.select_job("demo-1")  # type: ignore[union-attr]
    QApplication.processEvents()
    buttons = [
        b
        for b in window.findChildren(QAbstractButton)
        if b.isVisible() and not b.icon().isNull() and not b.visibleRegion().isEmpty()
    ]
    assert len(buttons) >= 15, [name(b) for b in buttons]
    weak = []
    for button in buttons:
        mode = QIcon.Mode.Normal if button.isEnabled() else QIcon.Mode.Disabled
        size = button.iconSize()
        got = icon_contrast(button.icon(), size, background_of(button), mode)
        if got < MIN_CONTRAST:
            weak.append(f"{name(button)}: {got:.2f}")
    assert weak == [], "weak icons in the light theme: " + "; ".join(weak)


def test_the_first_run_banner_controls(qtbot, light: None) -> None:
    banner = FirstRunBanner()
    qtbot.addWidget(banner)
    banner.resize(1000, 60)
    banner.show()
    QApplication.processEvents()
    surface = background_of(banner)
    glyph = next(label for label in banner.findChildren(QLabel) if label.pixmap() and not label.pixmap().isNull())
    controls: list[tuple[str, float]] = [
        ("key glyph", icon_contrast(QIcon(glyph.pixmap()), glyph.pixmap().size(), surface)),
        (
            "dismiss icon",
            icon_contrast(
                banner.close_button.icon(), banner.close_button.iconSize(), background_of(banner.close_button)
            ),
        ),
        ("Add API key… text", ink_contrast(banner.add_key)),
        ("banner text", ink_contrast(banner.text)),
    ]
    weak = [f"{what}: {got:.2f}" for what, got in controls if got < MIN_CONTRAST]
    assert not weak, "\n".join(weak)
