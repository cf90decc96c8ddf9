"""Action icons: SVG package data tinted with the active theme's colours."""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from kling_studio.ui import theme

_SIZES = (16, 20, 24, 32, 48)


@cache
def _svg_source(name: str) -> str:
    return (resources.files("kling_studio") / "resources" / "icons" / f"{name}.svg").read_text("utf-8")


def _render(svg: str, size: int) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


class _TintedSvg(QIconEngine):
    """Renders a tinted SVG at the size asked for, when it is first asked for (a toolbar shows
    one size): rendering every size of every icon up front cost ~25 ms before the first paint."""

    def __init__(self, normal: str, disabled: str) -> None:
        super().__init__()
        self._normal = normal
        self._disabled = disabled
        self._pixmaps: dict[tuple[int, int, bool], QPixmap] = {}

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        side = max(1, min(size.width(), size.height()))
        disabled = mode == QIcon.Mode.Disabled
        key = (side, side, disabled)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = self._pixmaps[key] = _render(self._disabled if disabled else self._normal, side)
        return pixmap

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        size = QSize(round(rect.width() * ratio), round(rect.height() * ratio))
        painter.drawPixmap(rect, self.pixmap(size, mode, state))

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        side = min(size.width(), size.height())
        return QSize(side, side)

    def availableSizes(self, mode: QIcon.Mode = QIcon.Mode.Normal, state: QIcon.State = QIcon.State.Off) -> list[QSize]:
        return [QSize(n, n) for n in _SIZES]

    def clone(self) -> QIconEngine:
        return _TintedSvg(self._normal, self._disabled)


_cache: dict[tuple[str, str], QIcon] = {}


def icon(name: str, color: str | None = None) -> QIcon:
    """The icon ``resources/icons/<name>.svg``; ``currentColor`` becomes the theme's text colour
    (or ``color``), and disabled states get the muted colour."""
    c = theme.colors()
    tint = color or c.text
    key = (name, tint + c.muted + c.accent)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        source = _svg_source(name)
    except FileNotFoundError:
        return QIcon()
    # ``@accent``/``@on_accent``: a badge icon (Submit) that reads on the accent-filled button and,
    # as a disc, on any menu or toolbar; the disabled badge turns muted.
    normal = source.replace("currentColor", tint).replace("@on_accent", c.on_accent).replace("@accent", c.accent)
    disabled = source.replace("currentColor", c.muted).replace("@on_accent", c.on_accent).replace("@accent", c.muted)
    result = QIcon(_TintedSvg(normal, disabled))
    _cache[key] = result
    return result


def clear_cache() -> None:
    _cache.clear()


def app_icon() -> QIcon:
    """The application's own icon, from the PNG sizes rendered for packaging."""
    result = QIcon()
    folder = resources.files("kling_studio") / "resources" / "app"
    for size in (16, 22, 24, 32, 48, 64, 128, 256, 512):
        png = folder / f"kling-studio-{size}.png"
        if png.is_file():
            result.addFile(str(png))
    return result
