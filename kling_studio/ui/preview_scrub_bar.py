"""The preview's scrub bar: a slider in milliseconds with the planned shot boundaries on it.

Each marker is a tick at a shot's planned start, labelled with the shot number, so the creator
can see whether each shot landed where the storyboard put it. Markers past the video's end
(the clip came out shorter than planned) are drawn at the end, hollow.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

LABEL_HEIGHT = 13


class ShotMarkerSlider(QSlider):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._starts_ms: list[int] = []
        self.setRange(0, 0)
        self.setPageStep(1000)
        self.setSingleStep(100)
        self.setToolTip("Scrub; the numbered ticks are the storyboard's planned shot starts")

    # Markers.

    def set_shot_starts(self, starts_seconds: list[int] | None) -> None:
        self._starts_ms = [int(s) * 1000 for s in starts_seconds or []]
        self.update()

    def marker_ms(self) -> list[int]:
        """Planned shot starts in milliseconds, shot 1 first."""
        return list(self._starts_ms)

    def marker_x(self, ms: int) -> int:
        """Widget x of a time: the centre of where the handle sits at that value."""
        option = self._option()
        groove = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )
        span = groove.width() - handle.width()
        value = max(self.minimum(), min(self.maximum(), ms))
        offset = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), value, span, option.upsideDown)
        return groove.x() + handle.width() // 2 + offset

    def marker_positions(self) -> list[tuple[int, int]]:
        """(shot number, widget x) for each marker."""
        return [(i + 1, self.marker_x(ms)) for i, ms in enumerate(self._starts_ms)]

    # Qt overrides.

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), hint.height() + LABEL_HEIGHT + 4)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width(), hint.height() + LABEL_HEIGHT + 4)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # Jump to the click (the platform default moves by a page), then let the drag continue.
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            option = self._option()
            handle = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
            )
            if not handle.contains(event.position().toPoint()):
                groove = self.style().subControlRect(
                    QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
                )
                x = int(event.position().x()) - groove.x() - handle.width() // 2
                value = QStyle.sliderValueFromPosition(
                    self.minimum(), self.maximum(), x, groove.width() - handle.width(), option.upsideDown
                )
                self.setSliderPosition(value)
                self.sliderMoved.emit(value)
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._starts_ms and self.maximum() > self.minimum():
            self._paint_markers()
        super().paintEvent(event)  # groove and handle over the ticks' lower ends

    def _paint_markers(self) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        colour = palette.color(QPalette.ColorRole.Highlight)
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.75))
        font.setBold(True)
        painter.setFont(font)
        groove = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, self._option(), QStyle.SubControl.SC_SliderGroove, self
        )
        tick_bottom = groove.center().y() + 6
        for number, ms in enumerate(self._starts_ms, start=1):
            x = self.marker_x(ms)
            past_end = ms > self.maximum()
            pen = QPen(colour, 2)
            if past_end:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(x, LABEL_HEIGHT + 1), QPointF(x, tick_bottom))
            label = QRect(x - 9, 0, 18, LABEL_HEIGHT)
            if past_end:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(colour, 1))
                painter.drawRoundedRect(QRectF(label).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
                painter.setPen(text_colour)
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawRoundedRect(QRectF(label), 3, 3)
                painter.setPen(palette.color(QPalette.ColorRole.HighlightedText) or QColor("white"))
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, str(number))
        painter.end()

    def _option(self) -> QStyleOptionSlider:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        # The labels take the top strip; the slider proper lives below them.
        option.rect = self.rect().adjusted(0, LABEL_HEIGHT + 2, 0, 0)
        return option
