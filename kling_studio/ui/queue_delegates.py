"""How job states look (colour, icon) and the delegate that draws the progress column."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from kling_studio.domain.jobs import JobState
from kling_studio.ui import theme
from kling_studio.ui.queue_job_rows import JOB_ROLE

# Badge colours per theme: each reaches 3:1 against the rows, the selection and (for the white
# glyph) its own fill. The light set is darker; the dark set is the original one.
_DARK_COLOURS = {
    JobState.QUEUED: "#8a8f98",
    JobState.SUBMITTING: "#3b82f6",
    JobState.SUBMITTED: "#3b82f6",
    JobState.PROCESSING: "#3b82f6",
    JobState.DOWNLOADING: "#0ea5e9",
    JobState.DONE: "#16a34a",
    JobState.FAILED: "#dc2626",
    JobState.NEEDS_ATTENTION: "#d97706",
    JobState.CANCELLED: "#6b7280",
    JobState.EXPIRED: "#9a3412",
}
_LIGHT_COLOURS = {
    JobState.QUEUED: "#6b7280",
    JobState.SUBMITTING: "#2563eb",
    JobState.SUBMITTED: "#2563eb",
    JobState.PROCESSING: "#2563eb",
    JobState.DOWNLOADING: "#0369a1",
    JobState.DONE: "#15803d",
    JobState.FAILED: "#dc2626",
    JobState.NEEDS_ATTENTION: "#b45309",
    JobState.CANCELLED: "#6b7280",
    JobState.EXPIRED: "#9a3412",
}


def state_colour(state: JobState) -> QColor:
    colours = _LIGHT_COLOURS if theme.colors().name == theme.THEME_LIGHT else _DARK_COLOURS
    return QColor(colours[state])


def state_icon(state: JobState, size: int = 16) -> QIcon:
    """A coloured badge with a glyph: check, cross, bang, pause bars, arrow or a ring."""
    return _state_icon(state, size, theme.colors().name)


@cache
def _state_icon(state: JobState, size: int, _theme_name: str) -> QIcon:
    ratio = 2.0  # draw at 2x so it stays crisp on high-DPI screens
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = state_colour(state)
    r = QRectF(1, 1, size - 2, size - 2)
    white = QPen(QColor("white"), size / 8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    s = size
    if state is JobState.QUEUED:
        p.setPen(QPen(colour, s / 8))
        p.drawEllipse(r.adjusted(1, 1, -1, -1))
    else:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawEllipse(r)
        p.setPen(white)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if state is JobState.DONE:
            path = QPainterPath(QPointF(s * 0.28, s * 0.52))
            path.lineTo(s * 0.44, s * 0.68)
            path.lineTo(s * 0.72, s * 0.36)
            p.drawPath(path)
        elif state in (JobState.FAILED, JobState.EXPIRED):
            p.drawLine(QPointF(s * 0.34, s * 0.34), QPointF(s * 0.66, s * 0.66))
            p.drawLine(QPointF(s * 0.66, s * 0.34), QPointF(s * 0.34, s * 0.66))
        elif state is JobState.NEEDS_ATTENTION:
            p.drawLine(QPointF(s * 0.5, s * 0.27), QPointF(s * 0.5, s * 0.56))
            p.drawPoint(QPointF(s * 0.5, s * 0.73))
        elif state is JobState.CANCELLED:
            p.drawLine(QPointF(s * 0.3, s * 0.5), QPointF(s * 0.7, s * 0.5))
        elif state is JobState.DOWNLOADING:
            p.drawLine(QPointF(s * 0.5, s * 0.28), QPointF(s * 0.5, s * 0.68))
            path = QPainterPath(QPointF(s * 0.33, s * 0.52))
            path.lineTo(s * 0.5, s * 0.69)
            path.lineTo(s * 0.67, s * 0.52)
            p.drawPath(path)
        else:  # submitting / submitted / processing: a play-like "running" triangle
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("white"))
            path = QPainterPath(QPointF(s * 0.4, s * 0.3))
            path.lineTo(s * 0.72, s * 0.5)
            path.lineTo(s * 0.4, s * 0.7)
            path.closeSubpath()
            p.drawPath(path)
    p.end()
    return QIcon(pixmap)


class ProgressDelegate(QStyledItemDelegate):
    """Draws the job's progress as a bar tinted by state, with its percent or state word centred.

    Painted with plain rectangles rather than the style's progress bar (whose gradients cost a
    tenth of a millisecond a cell): a screen of rows scrolls at 60 Hz over 10,000 jobs.
    """

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        job = index.data(JOB_ROLE)
        if job is None:
            super().paint(painter, option, index)
            return
        # Selection background and focus frame first, as any other cell (no text: drawn below).
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)

        rect = option.rect.adjusted(4, 0, -4, 0)
        height = min(rect.height() - 6, 18)
        rect.setTop(rect.top() + (rect.height() - height) // 2)
        rect.setHeight(height)
        state: JobState = job.state
        progress = 100 if state is JobState.DONE else max(0, min(100, job.progress))
        paused = state.is_terminal or state in (JobState.QUEUED, JobState.NEEDS_ATTENTION)
        text = state.label if paused else f"{progress}%"
        palette = option.palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(palette.color(palette.ColorRole.Mid))
        painter.setBrush(palette.color(palette.ColorRole.Base))
        painter.drawRect(rect.adjusted(0, 0, -1, -1))
        filled = (rect.width() - 2) * progress // 100
        if filled > 0:
            painter.fillRect(rect.left() + 1, rect.top() + 1, filled, rect.height() - 2, state_colour(state))
        # Text over the bar: on the fill's colour it needs the fill's contrast, elsewhere the base's.
        painter.setPen(palette.color(palette.ColorRole.Text))
        elided = option.fontMetrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() - 6)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, elided)
        painter.restore()
