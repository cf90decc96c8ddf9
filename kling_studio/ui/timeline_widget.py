"""The mini timeline: shots as segments over the allowed-duration ruler.

Dragging the line between two shots moves whole seconds from one to the other (the total
stays fixed, ``domain.move_boundary`` clamps); clicking a segment selects its shot. Keyboard:
Left/Right select shots, Shift+Left/Right move the boundary after the selected shot.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.storyboard import Storyboard
from kling_studio.ui import theme
from kling_studio.ui.edit_commands import MoveBoundaryCommand
from kling_studio.ui.storyboard_document import StoryboardDocument

_MARGIN_X = 12
_TRACK_TOP = 24
_TRACK_HEIGHT = 40
_GRAB_PX = 7


class MiniTimelineWidget(QWidget):
    boundary_moved = Signal(int)  # boundary index after a drag step

    _gestures = itertools.count(1)

    def __init__(self, document: StoryboardDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("miniTimeline")
        self.setAccessibleName("Mini timeline")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._drag: tuple[int, float, Storyboard, int] | None = None  # boundary, press x, base, gesture
        self._hover_boundary = -1
        self._durations: tuple[int, ...] | None = None
        document.changed.connect(self._on_changed)
        self._selection = document.selected
        document.selection_changed.connect(self._on_selection_changed)
        self._on_changed()

    def caption(self) -> tuple[str, str]:
        """The words under the track: the total, and the allowed range (or how far outside it)."""
        profile = KLING_3_TURBO
        total = self.document.storyboard.total_duration
        if total > profile.max_total_seconds:
            hint = f"{total - profile.max_total_seconds} s over the {profile.max_total_seconds} s maximum"
        elif total < profile.min_total_seconds:
            hint = f"{profile.min_total_seconds - total} s short of the {profile.min_total_seconds} s minimum"
        else:
            hint = f"allowed {profile.total_range_text()} · drag a boundary to retime"
        return f"Total {total} s", hint

    def _on_selection_changed(self, index: int) -> None:
        # Every text edit re-selects its shot (force=True): repaint only when the highlight moves.
        if index != self._selection:
            self._selection = index
            self.update()

    def _on_changed(self) -> None:
        # The track shows seconds only: a keystroke in a shot's text changes nothing here, so
        # skip the tooltip and the repaint (typing latency, issue #13).
        durations = tuple(s.duration for s in self.document.storyboard.shots)
        if durations == self._durations:
            return
        self._durations = durations
        # The painted caption, also for tooltips and screen readers.
        total, hint = self.caption()
        allowed = f"allowed {KLING_3_TURBO.total_range_text()}"
        self.setToolTip(f"{total} · {hint}" if hint.startswith(allowed) else f"{total} · {hint} ({allowed})")
        self.setAccessibleDescription(
            f"{total}, {allowed}. Shots as segments; drag a boundary to move seconds between two shots."
        )
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, _TRACK_TOP + _TRACK_HEIGHT + 26)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.sizeHint().height())

    # Geometry.

    def span_seconds(self) -> int:
        """The ruler's length: the allowed maximum, or the total when it runs over (so every shot shows)."""
        return max(KLING_3_TURBO.max_total_seconds, self.document.storyboard.total_duration)

    def seconds_per_px(self) -> float:
        return self.span_seconds() / max(1.0, self.width() - 2 * _MARGIN_X)

    def x_for(self, seconds: float) -> float:
        return _MARGIN_X + seconds / self.seconds_per_px()

    def boundary_x(self, boundary: int) -> float:
        """The x of the line after shot ``boundary`` (0-based)."""
        shots = self.document.storyboard.shots
        return self.x_for(sum(s.duration for s in shots[: boundary + 1]))

    def boundary_at(self, x: float) -> int:
        shots = self.document.storyboard.shots
        for b in range(len(shots) - 1):
            if abs(self.boundary_x(b) - x) <= _GRAB_PX:
                return b
        return -1

    def shot_at(self, x: float) -> int:
        t = 0
        for i, shot in enumerate(self.document.storyboard.shots):
            if self.x_for(t) <= x < self.x_for(t + shot.duration):
                return i
            t += shot.duration
        return -1

    # Input.

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        x = event.position().x()
        boundary = self.boundary_at(x)
        if boundary >= 0:
            self._drag = (boundary, x, self.document.storyboard, next(self._gestures))
            return
        shot = self.shot_at(x)
        if shot >= 0:
            self.document.select(shot)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._drag is None:
            hover = self.boundary_at(x)
            if hover != self._hover_boundary:
                self._hover_boundary = hover
                self.setCursor(Qt.CursorShape.SplitHCursor if hover >= 0 else Qt.CursorShape.PointingHandCursor)
                self.update()
            return
        boundary, press_x, base, gesture = self._drag
        delta = round((x - press_x) * self.seconds_per_px())
        self._move(base, boundary, delta, gesture)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        selected = self.document.selected
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = -1 if key == Qt.Key.Key_Left else 1
            if shift:
                if 0 <= selected < len(self.document.storyboard.shots) - 1:
                    self._move(self.document.storyboard, selected, step, next(self._gestures))
            else:
                self.document.select(max(0, min(selected + step, len(self.document.storyboard.shots) - 1)))
            event.accept()
            return
        super().keyPressEvent(event)

    def _move(self, base: Storyboard, boundary: int, delta: int, gesture: int) -> None:
        command = MoveBoundaryCommand(self.document, base, boundary, delta, gesture)
        if command.after != self.document.storyboard:
            self.document.push(command)
            self.boundary_moved.emit(boundary)

    # Painting.

    def paintEvent(self, event: QPaintEvent) -> None:
        c = theme.colors()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        profile = KLING_3_TURBO
        storyboard = self.document.storyboard
        total = storyboard.total_duration
        in_range = profile.min_total_seconds <= total <= profile.max_total_seconds
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        p.setFont(small)

        span = self.span_seconds()
        track = QRectF(self.x_for(0), _TRACK_TOP, self.x_for(span) - self.x_for(0), _TRACK_HEIGHT)
        # The empty track, then the part below the minimum total hatched: too short to submit.
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(c.base))
        p.drawRoundedRect(track, 6, 6)
        short = QRectF(track.left(), track.top(), self.x_for(profile.min_total_seconds) - track.left(), track.height())
        p.setBrush(QBrush(QColor(c.border_strong), Qt.BrushStyle.BDiagPattern))
        p.drawRoundedRect(short, 6, 6)

        # Ruler: a tick each second, labels at 0, the minimum, every 5 s and the maximum.
        p.setPen(QPen(QColor(c.muted), 1))
        labelled = {0, profile.min_total_seconds, *range(5, span, 5), profile.max_total_seconds, span}
        for s in range(span + 1):
            x = self.x_for(s)
            h = 6 if s in labelled else 3
            p.drawLine(QPointF(x, _TRACK_TOP - 4 - h), QPointF(x, _TRACK_TOP - 4))
            if s in labelled:
                align = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom
                p.drawText(QRectF(x - 16, 0, 32, _TRACK_TOP - 10), align, f"{s}")

        # Segments.
        t = 0
        selected = self.document.selected
        path = QPainterPath()
        path.addRoundedRect(track, 6, 6)
        p.save()
        p.setClipPath(path)
        for i, shot in enumerate(storyboard.shots):
            seconds = max(0, shot.duration)
            rect = QRectF(self.x_for(t), track.top(), self.x_for(t + seconds) - self.x_for(t), track.height())
            t += seconds
            if rect.left() >= track.right():
                break
            color = c.shot_color(i)
            # Opaque fills: the hatched too-short zone must not show through a segment.
            fill = QColor(color) if i == selected else QColor(color).darker(150 if c.name == theme.THEME_DARK else 112)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(fill)
            p.drawRect(rect.adjusted(0.5, 0, -0.5, 0))
            if i == selected:
                p.setPen(QPen(QColor(c.text), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(rect.adjusted(1.5, 1, -1.5, -1))
            p.setPen(QColor("#ffffff"))
            label = f"{i + 1} · {seconds} s" if rect.width() > 54 else f"{i + 1}"
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        p.restore()
        if span > profile.max_total_seconds:
            # Seconds past the maximum: a red veil over the shots that do not fit.
            over_left = self.x_for(profile.max_total_seconds)
            veil = QColor(c.error)
            veil.setAlpha(90)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QBrush(veil, Qt.BrushStyle.BDiagPattern))
            p.drawRect(QRectF(over_left, track.top(), track.right() - over_left, track.height()))
            p.setPen(QPen(QColor(c.error), 2))
            p.drawLine(QPointF(over_left, track.top() - 4), QPointF(over_left, track.bottom() + 4))

        # Boundaries: a grab handle between neighbours.
        for b in range(len(storyboard.shots) - 1):
            x = self.boundary_x(b)
            active = b == self._hover_boundary or (self._drag is not None and self._drag[0] == b)
            p.setPen(QPen(QColor(c.text if active else c.window), 3 if active else 2))
            p.drawLine(QPointF(x, track.top() - 2), QPointF(x, track.bottom() + 2))

        # The allowed range, marked on the ruler so it never hides a segment.
        p.setPen(QPen(QColor(c.accent_text), 2))
        y = _TRACK_TOP - 3
        p.drawLine(QPointF(self.x_for(profile.min_total_seconds), y), QPointF(self.x_for(profile.max_total_seconds), y))

        # Caption: total and allowed range.
        p.setFont(self.font())
        color = QColor(c.text if in_range else c.error)
        p.setPen(color)
        caption = QRectF(track.left(), track.bottom() + 6, track.width(), 18)
        total_text, hint = self.caption()
        p.drawText(caption, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, total_text)
        p.setPen(QColor(c.muted if in_range else c.error))
        p.drawText(caption, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, hint)
        if self.hasFocus():
            p.setPen(QPen(QColor(c.accent), 2))  # 2 px: a 1 px antialiased ring is too faint to find
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(track.adjusted(-2, -2, 2, 2), 7, 7)
        p.end()
