"""The preview's scrub bar: a slider in milliseconds with the planned shot boundaries on it.

Each marker is a tick at a shot's planned start with a label above it ("Shot 2", or just "2"
when the words would collide), so the creator can see whether each shot landed where the
storyboard put it. Labels never overlap: when even the numbers would touch, they are nudged
apart and the tick stays at the true time. Clicking a label (or within a few pixels of a tick)
seeks exactly to that shot's first frame. Markers past the video's end (the clip came out
shorter than planned) are drawn at the end, hollow.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

LABEL_HEIGHT = 13
LABEL_GAP = 2  # pixels kept free between two labels
TICK_GRAB = 4  # a click this close to a tick counts as a click on the marker


class ShotMarkerSlider(QSlider):
    marker_clicked = Signal(int)  # shot number (1-based): seek exactly to its planned start

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._starts_ms: list[int] = []
        self._segments_ms: list[int] = []  # an assembled cut's joins: where each segment starts
        self.setRange(0, 0)
        self.setPageStep(1000)
        self.setSingleStep(100)
        self.setToolTip("Scrub; the labelled ticks are the storyboard's planned shot starts — click one to jump there")

    # Markers.

    def set_shot_starts(self, starts_seconds: list[int] | None) -> None:
        self._starts_ms = [int(s) * 1000 for s in starts_seconds or []]
        self.updateGeometry()
        self.update()

    def set_segment_starts_ms(self, starts_ms: list[int] | None) -> None:
        """An assembled cut's segment starts: drawn as tall lines the full height of the bar."""
        self._segments_ms = [int(ms) for ms in starts_ms or []]
        tip = "Scrub; the labelled ticks are the storyboard's planned shot starts — click one to jump there"
        self.setToolTip(tip + ("; the tall lines are the joins between segments" if self._segments_ms else ""))
        self.update()

    def segment_ms(self) -> list[int]:
        """Segment starts in milliseconds (empty unless a cut is shown)."""
        return list(self._segments_ms)

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

    def label_layout(self) -> list[tuple[int, QRect, str]]:
        """(shot number, label rectangle, label text) as painted; rectangles never overlap."""
        if not self._starts_ms or self.maximum() <= self.minimum():
            return []
        metrics = QFontMetrics(self._label_font())
        xs = [x for _n, x in self.marker_positions()]
        numbers = range(1, len(xs) + 1)
        words = [f"Shot {n}" for n in numbers]
        lefts, widths = _place(xs, [metrics.horizontalAdvance(t) + 8 for t in words], self.width(), nudge=False)
        texts = words
        if lefts is None:  # the words would collide: numbers, nudged apart if they must be
            texts = [str(n) for n in numbers]
            lefts, widths = _place(xs, [_number_width(metrics, t) for t in texts], self.width(), nudge=True)
        assert lefts is not None
        return [
            (n, QRect(left, 0, width, LABEL_HEIGHT), text)
            for n, left, width, text in zip(numbers, lefts, widths, texts, strict=True)
        ]

    def marker_at(self, x: int, y: int) -> int | None:
        """The shot number whose label or tick is under (x, y), if any."""
        layout = self.label_layout()
        for number, rect, _text in layout:
            if rect.contains(x, y):
                return number
        if y > LABEL_HEIGHT:
            near = [(abs(self.marker_x(ms) - x), i + 1) for i, ms in enumerate(self._starts_ms) if ms <= self.maximum()]
            if near and min(near)[0] <= TICK_GRAB:
                return min(near)[1]
        return None

    # Qt overrides.

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), hint.height() + LABEL_HEIGHT + 4)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        metrics = QFontMetrics(self._label_font())
        # Room for every number side by side, so labels never have to overlap.
        labels = sum(_number_width(metrics, str(n)) + LABEL_GAP for n in range(1, len(self._starts_ms) + 1))
        return QSize(max(hint.width(), labels + 16), hint.height() + LABEL_HEIGHT + 4)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            point = event.position().toPoint()
            number = self.marker_at(point.x(), point.y())
            if number is not None:  # exact: the shot's planned start, not the pixel's rounded time
                self.setValue(min(self.maximum(), self._starts_ms[number - 1]))
                self.marker_clicked.emit(number)
                event.accept()
                return
            # Jump to the click (the platform default moves by a page), then let the drag continue.
            option = self._option()
            handle = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
            )
            if not handle.contains(point):
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
        if self._segments_ms and self.maximum() > self.minimum():
            self._paint_segments()
        if self._starts_ms and self.maximum() > self.minimum():
            self._paint_markers()
        super().paintEvent(event)  # groove and handle over the ticks' lower ends

    def _paint_segments(self) -> None:
        painter = QPainter(self)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.WindowText), 3))
        for ms in self._segments_ms:
            x = self.marker_x(ms)
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.end()

    def _paint_markers(self) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        colour = palette.color(QPalette.ColorRole.Highlight)
        text_colour = palette.color(QPalette.ColorRole.WindowText)
        painter.setFont(self._label_font())
        groove = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, self._option(), QStyle.SubControl.SC_SliderGroove, self
        )
        tick_bottom = groove.center().y() + 6
        for (_number, label, text), ms in zip(self.label_layout(), self._starts_ms, strict=True):
            x = self.marker_x(ms)
            past_end = ms > self.maximum()
            pen = QPen(colour, 2)
            if past_end:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(x, LABEL_HEIGHT + 1), QPointF(x, tick_bottom))
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
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()

    def _label_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.75))
        font.setBold(True)
        return font

    def _option(self) -> QStyleOptionSlider:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        # The labels take the top strip; the slider proper lives below them.
        option.rect = self.rect().adjusted(0, LABEL_HEIGHT + 2, 0, 0)
        return option


def _number_width(metrics: QFontMetrics, text: str) -> int:
    return max(14, metrics.horizontalAdvance(text) + 6)


def _place(xs: list[int], widths: list[int], total: int, *, nudge: bool) -> tuple[list[int] | None, list[int]]:
    """Left edges for labels centred on ``xs`` inside ``[0, total)``; None when they collide and
    ``nudge`` is off. With ``nudge`` they are pushed apart (left to right, then back from the end)."""
    lefts = [max(0, min(total - w, x - w // 2)) for x, w in zip(xs, widths, strict=True)]
    collide = any(lefts[i] < lefts[i - 1] + widths[i - 1] + LABEL_GAP for i in range(1, len(lefts)))
    if not collide:
        return lefts, widths
    if not nudge:
        return None, widths
    for i in range(1, len(lefts)):
        lefts[i] = max(lefts[i], lefts[i - 1] + widths[i - 1] + LABEL_GAP)
    if lefts and lefts[-1] + widths[-1] > total:
        lefts[-1] = total - widths[-1]
        for i in range(len(lefts) - 2, -1, -1):
            lefts[i] = min(lefts[i], lefts[i + 1] - LABEL_GAP - widths[i])
    return [max(0, left) for left in lefts], widths
