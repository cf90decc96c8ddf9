"""Small building blocks shared by the panels: cards, titles, counters."""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QRegion
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QStyle,
    QStyleOption,
    QVBoxLayout,
    QWidget,
)

from kling_studio.ui import icons, theme


class Card(QFrame):
    """A rounded panel with a small caps title and an optional widget on the title's right."""

    def __init__(self, title: str, parent: QWidget | None = None, *, trailing: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(14, 10, 14, 12)
        self.body.setSpacing(8)
        header = QHBoxLayout()
        header.setSpacing(8)
        self.title_label = QLabel(title.upper())
        self.title_label.setObjectName("cardTitle")
        header.addWidget(self.title_label)
        header.addStretch(1)
        if trailing is not None:
            header.addWidget(trailing)
        self.header = header
        self.body.addLayout(header)


class OpaquePlainTextEdit(QPlainTextEdit):
    """A text edit whose viewport paints its own background, so Qt need not paint what lies under it.

    The style sheet gives text fields a rounded background drawn by the frame and leaves the
    viewport transparent; then every repaint of the text (each keystroke, each caret blink) first
    repaints the frame, the card and every ancestor up to the window under it. The viewport sits
    inside the padding, clear of the rounded corners, so filling it with the same base colour
    draws the same pixels (tests/ui/test_typing_paths.py compares them).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        painter.fillRect(event.rect(), self.viewport().palette().brush(QPalette.ColorRole.Base))
        painter.end()
        super().paintEvent(event)


_CORNER = 8  # px: covers the style sheet's 6 px border radius of fields and lists, antialiasing too


class PaintsViewBackground:
    """Mixin (first among the bases) for an item view on a card: its viewport paints its own
    background with ``paint_view_background``, so a cell's or a row's repaint stops there."""

    _paints_background = False

    def set_paints_background(self, paints: bool) -> None:
        """On: painted here; off: the style sheet paints it (the tests compare the two)."""
        view = cast(QAbstractScrollArea, self)
        self._paints_background = paints
        view.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, paints)
        view.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._paints_background:
            paint_view_background(cast(QAbstractScrollArea, self), event.region())
        super().paintEvent(event)  # type: ignore[misc]  # the Qt view after this mixin


def paint_view_background(view: QAbstractScrollArea, region: QRegion) -> None:
    """Paint what lies under ``view``'s viewport in ``region``, for a viewport marked opaque.

    The style sheet draws a list's rounded background with its frame and leaves the viewport
    transparent, so repainting one row repainted the card and every ancestor up to the window
    under it first. Painted here instead — the base colour, and in the corners the card, the
    rounded background and the border arc drawn by the same style — the repaint stops at the
    viewport with the same pixels (tests/ui/test_typing_paths.py compares them). For views on
    a card (QFrame#card).
    """
    viewport = view.viewport()
    painter = QPainter(viewport)
    painter.setClipRegion(region)
    painter.fillRect(region.boundingRect(), viewport.palette().base())
    r, n = viewport.rect(), _CORNER
    corners = QRegion()
    for x in (r.left(), r.right() - n + 1):
        for y in (r.top(), r.bottom() - n + 1):
            corners = corners.united(QRect(x, y, n, n))
    corners = corners.intersected(region)
    if not corners.isEmpty():
        painter.setClipRegion(corners)
        painter.fillRect(corners.boundingRect(), QColor(theme.colors().card))
        painter.translate(-viewport.pos())
        option = QStyleOption()
        option.initFrom(view)
        view.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, view)
        view.drawFrame(painter)
    painter.end()


class CardLabel(QLabel):
    """A label on a card that paints the card's colour under its text itself.

    A transparent label's repaint first repaints the card and every ancestor up to the window
    under it; an opaque one stops at the label (the same pixels: the card's background is one
    flat colour, tests/ui/test_typing_paths.py compares them).
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(theme.colors().card))  # QFrame#card's background
        painter.end()
        super().paintEvent(event)


class CounterLabel(CardLabel):
    """A right-aligned count ("1866/3072") in a card's title row; its size never follows its text.

    A label that may change size makes every new text relayout its card and, one posted event
    per level, every layout up to the window. Fixed at the width of ``widest``, a new count
    only repaints the label (typing latency, issue #13), and the title never jumps.
    """

    def __init__(self, widest: str, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self._widest = widest
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._fit()

    def setText(self, text: str) -> None:
        if len(text) > len(self._widest):  # a count longer than planned for: grow, never clip
            self._widest = "8" * (len(text) - len(self._widest)) + self._widest
            self._fit()
        super().setText(text)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()  # the style sheet's bold counters are wider than the plain font

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        width = metrics.horizontalAdvance(self._widest) + 2 * self.margin() + margins.left() + margins.right()
        height = max(metrics.height(), metrics.lineSpacing()) + 2 * self.margin() + margins.top() + margins.bottom()
        self.setFixedSize(width, height)


def counter_style(value: int, warn_over: int | None, limit: int) -> str:
    """The object name that colours a counter: green, amber over ``warn_over``, red over ``limit``."""
    if value > limit:
        return "counterError"
    if warn_over is not None and value > warn_over:
        return "counterWarn"
    return "counterOk"


# Object names whose text colour says something; also put in the palette, so the colour holds
# (and can be read back) even where the application style sheet is not installed.
_MEANINGFUL_COLOURS = {
    "counterOk": "success",
    "counterWarn": "warning",
    "counterError": "error",
    "inlineError": "error",
    "inlineWarning": "warning",
}


def set_style_name(label: QLabel, name: str) -> None:
    """Change a label's object name and re-apply the style sheet rules that depend on it.

    A no-op when nothing changes: counters call this on every keystroke, and a new palette or
    a re-polish sends change events down the label and repaints it (typing latency, issue #13).
    """
    role = _MEANINGFUL_COLOURS.get(name)
    if role is not None:
        colour = QColor(getattr(theme.colors(), role))
        palette = label.palette()
        if not label.property("meaningfulColour") or palette.color(QPalette.ColorRole.WindowText) != colour:
            palette.setColor(QPalette.ColorRole.WindowText, colour)
            label.setPalette(palette)
            label.setProperty("meaningfulColour", True)
    elif label.property("meaningfulColour"):
        label.setPalette(QPalette())  # back to the inherited colours
        label.setProperty("meaningfulColour", False)
    if label.objectName() != name:
        label.setObjectName(name)
        label.style().unpolish(label)
        label.style().polish(label)


def dock_placeholder(icon_name: str, text: str) -> QWidget:
    """What a dock shows until its panel is installed: an icon and one quiet sentence."""
    box = QWidget()
    box.setObjectName("dockPlaceholder")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(18, 18, 18, 18)
    glyph = QLabel()
    glyph.setPixmap(icons.icon(icon_name).pixmap(28, 28))
    glyph.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addStretch(1)
    layout.addWidget(glyph)
    layout.addWidget(label)
    layout.addStretch(1)
    return box


class ElideWhenNarrow(QObject):
    """Paints a one-line label's text with "…" when its column is narrower than the text, and
    keeps the whole text in its tooltip (so nothing is lost and the column may shrink)."""

    def __init__(self, label: QLabel) -> None:
        super().__init__(label)
        self._label = label
        label.setMinimumWidth(1)  # an explicit minimum overrides the text's full width
        label.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        label = self._label
        if watched is not label or event.type() != QEvent.Type.Paint:
            return False
        text = label.text()
        rect = label.contentsRect()
        if label.fontMetrics().horizontalAdvance(text) <= rect.width():
            return False  # fits: QLabel paints it as usual
        label.setToolTip(text)
        painter = QPainter(label)
        painter.setPen(label.palette().color(QPalette.ColorRole.WindowText))
        elided = label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(label.alignment()), elided)
        painter.end()
        return True
