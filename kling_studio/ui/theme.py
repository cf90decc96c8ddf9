"""Light and dark themes: a Fusion palette plus the studio style sheet, following the system.

Widgets that paint by hand (the timeline, the counters) read ``colors()`` so they match
whichever theme is active.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from importlib import resources

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEME_SYSTEM, THEME_LIGHT, THEME_DARK = "system", "light", "dark"


@dataclass(frozen=True)
class ThemeColors:
    name: str
    window: str
    card: str
    base: str
    alt_base: str
    button: str
    border: str
    border_strong: str
    hover: str
    pressed: str
    selection: str
    text: str
    muted: str
    accent: str
    accent_hover: str
    accent_soft: str
    accent_border: str
    accent_text: str
    on_accent: str
    success: str
    warning: str
    error: str
    # Segment colours for the timeline, one per shot position.
    shot_1: str
    shot_2: str
    shot_3: str
    shot_4: str
    shot_5: str
    shot_6: str

    def shot_color(self, index: int) -> QColor:
        palette = (self.shot_1, self.shot_2, self.shot_3, self.shot_4, self.shot_5, self.shot_6)
        return QColor(palette[index % len(palette)])


DARK = ThemeColors(
    name=THEME_DARK,
    window="#16181d",
    card="#1e2127",
    base="#121418",
    alt_base="#171a1f",
    button="#262a31",
    border="#2c3038",
    border_strong="#444a55",
    hover="#2a2e36",
    pressed="#343944",
    selection="#33305c",
    text="#e7e9ee",
    muted="#8d94a1",
    accent="#7c6cf6",
    accent_hover="#8e80ff",
    accent_soft="#25223f",
    accent_border="#453f82",
    accent_text="#c3bbff",
    on_accent="#ffffff",
    success="#4cc38a",
    warning="#e2a336",
    error="#f2555a",
    shot_1="#7c6cf6",
    shot_2="#2fb4a9",
    shot_3="#e08a3c",
    shot_4="#d35d9b",
    shot_5="#4a9be8",
    shot_6="#9ab83c",
)

LIGHT = ThemeColors(
    name=THEME_LIGHT,
    window="#f3f4f7",
    card="#ffffff",
    base="#ffffff",
    alt_base="#f8f9fb",
    button="#ffffff",
    border="#dde0e6",
    border_strong="#b9bfca",
    hover="#eceef3",
    pressed="#e0e3ea",
    selection="#e4e0ff",
    text="#1c1f25",
    muted="#5d6472",
    accent="#5b4bdb",
    accent_hover="#6a5bea",
    accent_soft="#eeebff",
    accent_border="#c9c1fb",
    accent_text="#4536b8",
    on_accent="#ffffff",
    success="#1a7f4b",
    warning="#9a6200",
    error="#c62832",
    shot_1="#6d5ce8",
    shot_2="#1f9a90",
    shot_3="#d27a2a",
    shot_4="#c2478a",
    shot_5="#3386d6",
    shot_6="#7d9a25",
)

_current: ThemeColors = DARK


def colors() -> ThemeColors:
    """The colours of the active theme."""
    return _current


def system_prefers_dark() -> bool:
    scheme = QGuiApplication.styleHints().colorScheme()
    # With no platform opinion (offscreen, bare X servers) we show the dark theme we designed.
    return scheme != Qt.ColorScheme.Light


def resolve_theme(preference: str) -> ThemeColors:
    if preference == THEME_LIGHT:
        return LIGHT
    if preference == THEME_DARK:
        return DARK
    return DARK if system_prefers_dark() else LIGHT


def _palette(c: ThemeColors) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.base,
        QPalette.ColorRole.AlternateBase: c.alt_base,
        QPalette.ColorRole.ToolTipBase: c.card,
        QPalette.ColorRole.ToolTipText: c.text,
        QPalette.ColorRole.PlaceholderText: c.muted,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.button,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.BrightText: c.error,
        QPalette.ColorRole.Highlight: c.accent,
        QPalette.ColorRole.HighlightedText: c.on_accent,
        QPalette.ColorRole.Link: c.accent_text,
        QPalette.ColorRole.Mid: c.border,
        QPalette.ColorRole.Dark: c.border_strong,
        QPalette.ColorRole.Light: c.hover,
    }
    for role, value in roles.items():
        p.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.muted))
    return p


def style_sheet(c: ThemeColors) -> str:
    template = (resources.files("kling_studio") / "resources" / "styles" / "studio.qss").read_text("utf-8")
    values = asdict(c)
    values["icons"] = (resources.files("kling_studio") / "resources" / "icons").as_posix()  # type: ignore[attr-defined]
    # Longest names first so ``@accent_hover`` is not eaten by ``@accent``.
    pattern = re.compile("@(" + "|".join(sorted(values, key=len, reverse=True)) + r")\b")
    return pattern.sub(lambda m: str(values[m.group(1)]), template)


def apply_theme(app: QApplication, preference: str = THEME_SYSTEM) -> ThemeColors:
    """Fusion, the palette and the style sheet for ``preference`` (system, light or dark)."""
    global _current
    _current = resolve_theme(preference)
    app.setStyle("Fusion")
    app.setPalette(_palette(_current))
    app.setStyleSheet(style_sheet(_current))
    from kling_studio.ui import icons  # icons are tinted with the theme's text colour

    icons.clear_cache()
    return _current
