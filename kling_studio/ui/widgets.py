"""Small building blocks shared by the panels: cards, titles, counters."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

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
    """Change a label's object name and re-apply the style sheet rules that depend on it."""
    role = _MEANINGFUL_COLOURS.get(name)
    if role is not None:
        palette = label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, QColor(getattr(theme.colors(), role)))
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
