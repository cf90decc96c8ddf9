"""Layout audit of the studio at one screen size; run in its own process (one QApplication per
screen): ``QT_QPA_PLATFORM=offscreen:configfile=screens.json python tests/ui/layout_audit.py``.

Prints a JSON object: the screen, the window geometry and a list of ``problems`` (empty = pass).
The scene: a 4-shot storyboard with a first frame and warnings, three queue rows, a video in
the preview, and a saved layout from a bigger screen (clamped on start).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any


def _text_width(widget: Any, text: str) -> int:
    return int(widget.fontMetrics().horizontalAdvance(text))


def _label_problem(label: Any) -> str | None:
    from PySide6.QtCore import Qt

    text = label.text()
    if not text or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    if label.textFormat() == Qt.TextFormat.RichText or "<" in text:
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setDefaultFont(label.font())
        doc.setHtml(text)
        text = doc.toPlainText()
    rect = label.contentsRect()
    margin = 2 * label.margin() + label.indent() if label.indent() > 0 else 2 * label.margin()
    if label.wordWrap():
        needed_h = label.heightForWidth(label.width())
        if needed_h > label.height() + 1:
            return f"wrapped text needs {needed_h} px height, has {label.height()}"
        return None
    needed = max(_text_width(label, line) for line in text.splitlines() or [""]) + margin
    if needed > rect.width() + 1:
        return f"text needs {needed} px, has {rect.width()}"
    return None


def _button_problem(button: Any) -> str | None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QToolButton

    if not button.text():
        return None
    if isinstance(button, QToolButton) and button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly:
        return None
    hint = button.sizeHint().width()
    if button.width() + 1 < hint:
        return f"button needs {hint} px, has {button.width()}"
    return None


def _line_edit_problem(edit: Any) -> str | None:
    text = edit.text()
    if not text:
        return None
    room = edit.contentsRect().width() - 12  # the style's text margins and frame
    needed = _text_width(edit, text)
    if needed > room and edit.toolTip() != text:
        return f"text needs {needed} px, has {room}"
    return None


def _header_problems(header: Any) -> list[str]:
    from PySide6.QtCore import Qt

    problems = []
    model = header.model()
    if model is None:
        return problems
    font = header.font()
    font.setBold(True)  # the style sheet draws sections at weight 600
    from PySide6.QtGui import QFontMetrics

    fm = QFontMetrics(font)
    for section in range(header.count()):
        if header.isSectionHidden(section) or header.sectionSize(section) == 0:
            continue
        text = str(model.headerData(section, header.orientation(), Qt.ItemDataRole.DisplayRole) or "")
        if not text:
            continue
        needed = fm.horizontalAdvance(text) + 12  # the section's padding (4px 6px)
        if needed > header.sectionSize(section) + 1:
            tip = model.headerData(section, header.orientation(), Qt.ItemDataRole.ToolTipRole)
            if tip and text in str(tip):
                continue
            problems.append(f"header '{text}' needs {needed} px, has {header.sectionSize(section)}")
    return problems


def _fully_visible(widget: Any) -> bool:
    return bool(widget.isVisible() and widget.visibleRegion().boundingRect() == widget.rect())


def _name(widget: Any) -> str:
    text = ""
    for attr in ("text", "title"):
        fn = getattr(widget, attr, None)
        if callable(fn):
            try:
                text = str(fn())[:40]
            except TypeError:
                continue
            break
    return f"{type(widget).__name__}[{widget.accessibleName() or widget.objectName()}] '{text}'"


def audit(window: Any) -> list[str]:
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractScrollArea,
        QHeaderView,
        QLabel,
        QLineEdit,
        QMenuBar,
        QTableView,
        QWidget,
    )

    problems: list[str] = []
    screen = window.screen().availableGeometry()
    if not screen.contains(window.frameGeometry()):
        problems.append(f"window {window.frameGeometry().getRect()} is outside the screen {screen.getRect()}")
    inside = QRect(0, 0, window.width(), window.height())
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or isinstance(widget.window(), QMenuBar) or widget.window() is not window:
            continue
        if widget.objectName().startswith("qt_"):
            continue  # Qt's own helpers (dock separators reach a pixel past the edge by design)
        if widget.visibleRegion().isEmpty():
            continue  # behind another dock's tab: nothing of it is on screen
        rect = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
        # Inside the editor's scroll area a widget below the fold is reachable: only sideways is out.
        sideways = rect.left() < 0 or rect.right() > inside.right()
        out = sideways if _in_scroll_area(widget) else not inside.contains(rect)
        if out and not widget.visibleRegion().isEmpty():
            problems.append(f"{_name(widget)} at {rect.getRect()} lies outside the window")
        problem = None
        if isinstance(widget, QLabel):
            problem = _label_problem(widget)
        elif isinstance(widget, QAbstractButton):
            problem = _button_problem(widget)
        elif isinstance(widget, QLineEdit):
            problem = _line_edit_problem(widget)
        elif isinstance(widget, QHeaderView) and widget.orientation().name == "Horizontal":
            problems += [f"{_name(widget.parentWidget())}: {p}" for p in _header_problems(widget)]
        if problem is not None and not _tip_holds_text(widget):  # elided on purpose needs the tooltip
            problems.append(f"{_name(widget)}: {problem}")
        shown = widget.visibleRegion().boundingRect()
        is_text = isinstance(widget, QLabel | QAbstractButton | QLineEdit)
        if is_text and not shown.isEmpty() and shown.width() < widget.width() and not _tip_holds_text(widget):
            problems.append(f"{_name(widget)} is cut off on the side ({shown.width()} of {widget.width()} px shown)")
        if isinstance(widget, QAbstractScrollArea) and widget.horizontalScrollBar().isVisible():
            problems.append(f"{_name(widget)} shows a horizontal scrollbar")

    musts = {
        "shot list": window.shot_list.view,
        "shot counter": window.shot_editor.counter,
        "prompt counter": window.prompt_preview.counter,
        "Submit": window.submit_button,
    }
    for what, widget in musts.items():
        if not _fully_visible(widget):
            problems.append(f"{what} is not fully visible without scrolling")
    # Boxes that grow with spare height: at least their minimum (three lines of text, three
    # messages) must be on screen; the rest may continue below the fold.
    for what, widget in (
        ("selected shot's text", window.shot_editor.text_edit),
        ("diagnostics", window.prompt_preview.list),
    ):
        shown = widget.visibleRegion().boundingRect()
        if not widget.isVisible() or shown.top() > 0 or shown.height() < widget.minimumHeight():
            problems.append(f"{what}: {shown.height()} px shown without scrolling, needs {widget.minimumHeight()}")
    if not window.submit_button.isEnabled():
        problems.append("Submit is not enabled")
    diag = window.prompt_preview.list
    rows = diag.model().rowCount()
    if rows < 3:
        problems.append(f"the scene should have 3+ diagnostics, has {rows}")
    else:
        bottom = diag.visualRect(diag.model().index(2, 0)).bottom()
        if bottom > diag.viewport().height():
            problems.append(f"diagnostics show fewer than 3 messages ({diag.viewport().height()} px tall)")
    panels = window.job_panels
    queue = getattr(panels, "queue", None)
    if queue is not None:
        view: QTableView = queue.view
        row_h = view.verticalHeader().defaultSectionSize()
        shown = view.viewport().height() // max(1, row_h)
        if shown < 4:
            problems.append(f"the queue shows {shown} rows, fewer than 4 ({view.viewport().height()} px)")
    return problems


def _in_scroll_area(widget: Any) -> bool:
    from PySide6.QtWidgets import QAbstractScrollArea

    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent.parentWidget(), QAbstractScrollArea) and parent.objectName() == "qt_scrollarea_viewport":
            return True
        parent = parent.parentWidget()
    return False


def _tip_holds_text(widget: Any) -> bool:
    text = getattr(widget, "text", lambda: "")()
    return bool(text) and text.replace("&", "") in widget.toolTip().replace("&", "")


def _foreign_state() -> dict[str, Any]:
    import base64

    from PySide6.QtWidgets import QMainWindow

    from kling_studio.ui.window_state import STATE_VERSION

    big = QMainWindow()
    big.resize(2400, 1400)
    big.move(300, 200)
    data = {
        "geometry": base64.b64encode(bytes(big.saveGeometry().data())).decode("ascii"),
        "state": base64.b64encode(bytes(big.saveState(STATE_VERSION).data())).decode("ascii"),
        "screen": [2560, 1440],
    }
    big.deleteLater()
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grab", help="also save the window as this PNG")
    parser.add_argument("--theme", default="dark")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="kling-audit-"))
    os.environ["KLING_STUDIO_HOME"] = str(home)

    from PySide6.QtWidgets import QApplication

    from kling_studio.services.paths import app_paths
    from kling_studio.services.settings import AppSettings
    from kling_studio.ui.demo.scene import demo_jobs, draw_first_frame, four_shot_storyboard, open_scene
    from kling_studio.ui.main_window import StudioWindow
    from kling_studio.ui.preview_sample import write_sample_video
    from kling_studio.ui.queue_demo import DemoEngine
    from kling_studio.ui.theme import apply_theme
    from kling_studio.ui.window_state import STATE_FILE

    app = QApplication(sys.argv[:1])
    apply_theme(app, args.theme)
    paths = app_paths().ensure()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    # A layout saved on a bigger screen: a 2400x1400 window with tall docks.
    (paths.config_dir / STATE_FILE).write_text(json.dumps(_foreign_state()), "utf-8")
    video = write_sample_video(home / "take.mp4", (4, 3, 3, 4), size=(320, 180), fps=4)
    engine = DemoEngine(demo_jobs(video), is_local=True)
    settings = AppSettings(banner_dismissed=True)
    window = StudioWindow(settings, engine=engine, paths=paths, store_settings=lambda _s: None)  # type: ignore[arg-type]
    window.attach_job_panels(engine)  # type: ignore[arg-type]
    window.show()
    sb = four_shot_storyboard(draw_first_frame(home / "lighthouse.png"))
    open_scene(window, sb, select=1)
    for _ in range(10):
        app.processEvents()
    editor_before = window.shot_editor.text_edit.size()
    open_scene(window, sb, select=1, video=video, starts=[0, 4, 7, 10])
    for _ in range(10):
        app.processEvents()
    problems = audit(window)
    after = window.shot_editor.text_edit.size()
    if after.width() < editor_before.width() or after.height() < editor_before.height():
        problems.append(f"a video in the preview squeezed the shot editor from {editor_before} to {after}")
    if args.grab:
        window.grab().save(args.grab)
    screen = window.screen().geometry()
    result = {
        "screen": [screen.width(), screen.height()],
        "window": list(window.frameGeometry().getRect()),
        "problems": problems,
    }
    print(json.dumps(result))
    window.files.shutdown()
    window.generation.shutdown()
    if window.job_panels is not None:
        window.job_panels.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
