"""The studio window: editor in the middle, queue and preview docks, menus, toolbar, status bar.

The window only composes panels and wires actions; file handling lives in
``project_controller`` and generation (submit, animatic, copy) in ``generation_controller``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QShowEvent, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from kling_studio.domain.project_file import PROJECT_SUFFIX
from kling_studio.services.engine_api import JobEngineAPI
from kling_studio.services.paths import AppPaths, app_paths
from kling_studio.services.secrets import key_configured
from kling_studio.services.settings import AppSettings, save_settings
from kling_studio.ui import icons
from kling_studio.ui.banner import FirstRunBanner
from kling_studio.ui.edit_commands import (
    RenameStoryboardCommand,
)
from kling_studio.ui.first_frame_panel import FirstFramePanel
from kling_studio.ui.generation_controller import GenerationController
from kling_studio.ui.generation_panel import GenerationPanel
from kling_studio.ui.keyboard_nav import DocumentUndoKeys, EscapeTo
from kling_studio.ui.project_controller import ProjectController
from kling_studio.ui.prompt_preview import PromptPreviewPanel
from kling_studio.ui.shot_editor import ShotEditorPanel
from kling_studio.ui.shot_list_panel import ShotListPanel
from kling_studio.ui.storyboard_document import StoryboardDocument
from kling_studio.ui.studio_actions import StudioActions
from kling_studio.ui.take_export import TakeExporter
from kling_studio.ui.theme import apply_theme
from kling_studio.ui.timeline_widget import MiniTimelineWidget
from kling_studio.ui.widgets import Card, ElideWhenNarrow, dock_placeholder

if TYPE_CHECKING:
    from kling_studio.ui.engine_switch import EngineFactory
    from kling_studio.ui.job_panels import JobPanels
from kling_studio.ui.window_state import (
    STATE_VERSION,
    clamp_to_screen,
    default_size,
    restore_window_state,
    save_window_state,
)

LOCAL_LABEL = "Local preview — no credits spent"
COMPACT_BELOW_HEIGHT = 900  # available screen height (px) under which the docks go to the side


class StudioWindow(QMainWindow):
    def __init__(
        self,
        settings: AppSettings | None = None,
        *,
        engine: JobEngineAPI | None = None,
        paths: AppPaths | None = None,
        store_settings: Callable[[AppSettings], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.engine = engine
        self.paths = paths or app_paths()
        self._store_settings = store_settings or save_settings
        self.document = StoryboardDocument(prices=self.settings.prices, parent=self)
        self.studio_actions = StudioActions(self)
        self.job_panels: JobPanels | None = None
        # Builds an engine from settings (set by the composition root); lets Settings switch backends live.
        self.engine_factory: EngineFactory | None = None
        self._panels_attached = False
        self._panel_menus: list[QMenu] = []
        self.setObjectName("StudioWindow")
        self.setWindowIcon(icons.app_icon())
        self.setDockNestingEnabled(True)
        self._build_ui()
        self.files = ProjectController(
            self.document,
            self.studio_actions,
            self,
            recovery_dir=self.paths.recovery_dir,
            get_settings=lambda: self.settings,
            set_settings=self.set_settings,
            show_message=self.show_message,
            menu_bar=self.menuBar,
        )
        self.generation = GenerationController(self)
        self.take_export = TakeExporter(self)
        from kling_studio.ui.sequence_controller import SequenceController

        self.sequence_ui = SequenceController(self)  # the segment strip and the Sequence menu
        self._connect()
        self._update_title()
        self._update_actions()
        self.update_backend_label()
        self._layout_restored = restore_window_state(self, self.paths)
        # Follow the desktop when it switches between light and dark (theme "system" only).
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)

    # Building.

    def _build_ui(self) -> None:
        doc = self.document
        # The containers go into the window first and the panels into them once: with the
        # application style sheet set, every reparenting re-polishes the moved subtree, so
        # building bottom-up (panel → column → splitter → scroll → window) polished each
        # panel five times (~35 ms of start-up, issue 13).
        self.banner = FirstRunBanner()
        central = QWidget()
        self.setCentralWidget(central)
        cv = QVBoxLayout(central)
        cv.setContentsMargins(12, 10, 12, 8)
        cv.setSpacing(10)
        cv.addWidget(self.banner)
        # On short screens the editor scrolls instead of forcing a window taller than the screen.
        scroll = QScrollArea()
        scroll.setObjectName("editorScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # it wraps instead
        self.editor_scroll = scroll
        cv.addWidget(scroll, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        right = QWidget()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 11)
        self.splitter.setStretchFactor(1, 10)
        self.splitter.setChildrenCollapsible(False)
        scroll.setWidget(self.splitter)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(10)
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(10)

        self.title_edit = QLineEdit(doc.storyboard.title)
        self.title_edit.setObjectName("storyboardTitle")
        self.title_edit.setAccessibleName("Storyboard title")
        self.title_edit.setPlaceholderText("Storyboard title")
        self.title_edit.setStyleSheet("QLineEdit#storyboardTitle { font-size: 13pt; font-weight: 600; }")

        # Created in reading (and Tab) order: what a person watches while writing comes first
        # in each column (the shot's text; the compiled prompt and its diagnostics), so a short
        # screen shows it without scrolling; the timeline and the first frame follow.
        self.shot_list = ShotListPanel(doc)
        self.shot_editor = ShotEditorPanel(doc)
        self.timeline = MiniTimelineWidget(doc)
        self.timeline_card = Card("Timeline")
        self.timeline_card.body.addWidget(self.timeline)
        lv.addWidget(self.title_edit)
        # The list is as tall as six shots at most; spare height goes to the shot's text.
        lv.addWidget(self.shot_list)
        lv.addWidget(self.shot_editor, 1)
        lv.addWidget(self.timeline_card)

        self.generation_panel = GenerationPanel(doc)
        self.prompt_preview = PromptPreviewPanel(doc)
        self.first_frame = FirstFramePanel(doc, pasted_dir=self.paths.data_dir / "pasted")
        # Three diagnostics fit before the list scrolls (rows are one or two lines of text).
        self.prompt_preview.list.setMinimumHeight(3 * 46 + 4)
        self.prompt_preview.list.setMaximumHeight(5 * 46 + 4)
        rv.addWidget(self.generation_panel)
        rv.addWidget(self.prompt_preview, 1)
        rv.addWidget(self.first_frame)

        self.animatic_button = QPushButton("Play animatic")
        self.animatic_button.setIcon(icons.icon("media-play"))
        self.submit_button = QPushButton("Submit")
        self.submit_button.setObjectName("primaryButton")
        self.submit_button.setIcon(icons.icon("submit", "#ffffff"))
        # Submit stays in view whatever the editor holds (a warning, a long prompt, a short screen).
        self.submit_bar = QWidget()
        self.submit_bar.setObjectName("submitBar")
        self.submit_bar.setLayout(self._submit_row())
        cv.addWidget(self.submit_bar)

        self.preview_dock = self._dock("Preview", "previewDock", "Play a take or an animatic here (F5).")
        self.queue_dock = self._dock("Queue", "queueDock", "Submitted jobs appear here (Ctrl+Enter).")
        # The queue spans the bottom like a render queue; the player sits beside the editor.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.preview_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.queue_dock)
        self._apply_default_dock_sizes()

        self.toolbar = QToolBar("Main toolbar")
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        self.toolbar.setIconSize(QSize(20, 20))  # a laptop screen needs the height for the editor
        self.studio_actions.build_toolbar(self.toolbar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        view_actions: list[QAction] = [self.queue_dock.toggleViewAction(), self.preview_dock.toggleViewAction()]
        self.view_menu = self.studio_actions.build_menus(self.menuBar(), view_actions)
        self.reset_layout_action = QAction("Reset &Layout", self)
        self.reset_layout_action.setObjectName("resetLayout")
        self.reset_layout_action.setStatusTip("Put the docks back where they start, sized for this screen")
        self.reset_layout_action.triggered.connect(self.reset_layout)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.reset_layout_action)
        self._default_state = self.saveState(STATE_VERSION)
        self._shown_once = False

        self.queue_status = QLabel()
        self.queue_status.setAccessibleName("Queue status")
        self.queue_status.hide()
        self.statusBar().addPermanentWidget(self.queue_status)
        self.backend_label = QLabel()
        self.backend_label.setObjectName("backendLabel")
        self.backend_label.setAccessibleName("Backend")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.backend_label)

        a = self.studio_actions
        for button, action, text in (
            (self.shot_list.add_button, a.add_shot, "Add"),
            (self.shot_list.duplicate_button, a.duplicate_shot, "Duplicate"),
            (self.shot_list.delete_button, a.delete_shot, "Delete"),
            (self.shot_list.up_button, a.move_up, ""),
            (self.shot_list.down_button, a.move_down, ""),
        ):
            self.shot_list.bind_button(button, action, text)

        self._set_tab_order()

    def _submit_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        row.addWidget(self.animatic_button)
        row.addStretch(1)
        row.addWidget(self.submit_button)
        return row

    def _dock(self, title: str, name: str, text: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setAccessibleName(f"{title} dock")
        dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
        dock.setWidget(dock_placeholder("queue" if title == "Queue" else "preview", text))
        return dock

    def _set_tab_order(self) -> None:
        """Tab follows reading order: left column top to bottom, then the right column, then docks."""
        shots = self.shot_list
        ff = self.first_frame
        chain: list[QWidget] = [
            self.title_edit,
            shots.view,
            shots.add_button,
            shots.duplicate_button,
            shots.delete_button,
            shots.up_button,
            shots.down_button,
            self.shot_editor.text_edit,
            self.shot_editor.split_button,  # shown only when the text looks like shots
            self.shot_editor.seconds,
            self.timeline,
            self.generation_panel.resolution,
            self.generation_panel.aspect_ratio,
            self.generation_panel.watermark,
            self.prompt_preview.view,
            self.prompt_preview.list,
            ff.browse_button,
            ff.url_edit,
            ff.url_button,
            ff.replace_button,
            ff.remove_button,
            self.animatic_button,
            self.submit_button,
        ]
        # A read-only prompt view would otherwise keep Tab (it cannot type it, but it eats it).
        self.prompt_preview.view.setTabChangesFocus(True)
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)

    def _connect(self) -> None:
        a = self.studio_actions
        doc = self.document
        a.undo.triggered.connect(doc.undo_stack.undo)
        a.redo.triggered.connect(doc.undo_stack.redo)
        shots = self.shot_list
        a.add_shot.triggered.connect(shots.add_shot)
        a.duplicate_shot.triggered.connect(shots.duplicate_shot)
        a.delete_shot.triggered.connect(shots.delete_shot)
        a.move_up.triggered.connect(lambda: shots.move_shot(-1))
        a.move_down.triggered.connect(lambda: shots.move_shot(1))
        shots.message.connect(self.show_message)
        self.shot_editor.bind_split_action(a.split_shots)
        self.shot_editor.message.connect(self.show_message)
        shots.shot_added.connect(self.focus_shot_text)
        shots.edit_requested.connect(lambda _row: self.focus_shot_text())
        self.files.editor_focus_requested.connect(self.focus_shot_text)
        editor = self.shot_editor
        # A long hint must not set the column's minimum width: cut short with "…", whole in the
        # tooltip. (Not word wrap: a wrapped label inside the scrolled editor makes Qt under-count
        # the column's height and squeeze the shot list under its own buttons.)
        self._hint_elide = ElideWhenNarrow(editor.hint)
        # Esc leaves the shot's fields for the list; Undo keys in any field undo the storyboard.
        self._escape_to_list = EscapeTo(self, [editor.text_edit, editor.seconds], self.focus_shot_list)
        self._undo_keys = DocumentUndoKeys(self, [self.title_edit, editor.seconds, self.first_frame.url_edit])
        a.paste_first_frame.triggered.connect(self.first_frame.paste)
        a.quit.triggered.connect(self.close)
        self.animatic_button.clicked.connect(a.play_animatic.trigger)
        self.submit_button.clicked.connect(a.submit.trigger)
        self.title_edit.textEdited.connect(self._rename)
        self.banner.dismissed.connect(self._dismiss_banner)
        self.banner.add_key_requested.connect(a.settings.trigger)
        doc.changed.connect(self._on_document_changed)
        doc.selection_changed.connect(lambda _i: self._update_actions())
        doc.dirty_changed.connect(lambda _d: self._update_title())
        doc.path_changed.connect(lambda _p: self._update_title())
        doc.undo_stack.canUndoChanged.connect(self._on_undo_state)
        doc.undo_stack.canRedoChanged.connect(self._on_undo_state)

    def focus_shot_text(self) -> None:
        """Put the caret at the end of the selected shot's text (after New, Open, Enter/F2, Add)."""
        edit = self.shot_editor.text_edit
        if not edit.isEnabled():
            self.focus_shot_list()
            return
        edit.setFocus(Qt.FocusReason.OtherFocusReason)
        edit.moveCursor(QTextCursor.MoveOperation.End)

    def focus_shot_list(self) -> None:
        self.shot_list.view.setFocus(Qt.FocusReason.OtherFocusReason)

    # Panels from the queue/preview work.

    def install_queue_panel(self, widget: QWidget) -> None:
        self.queue_dock.setWidget(widget)

    def install_preview_panel(self, widget: QWidget) -> None:
        # The panel takes focus as a whole; its ring is a style-sheet border, which a plain
        # QWidget paints only with a styled background.
        widget.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.preview_dock.setWidget(widget)

    def add_panel_dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = self._dock(title, name, "")
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def attach_job_panels(self, engine: JobEngineAPI | None) -> None:
        """Queue, takes, preview and notifications (called by the composition root)."""
        from kling_studio.ui.job_panels import JobPanels

        first = self.job_panels is None and not self._panels_attached
        self.job_panels = JobPanels(self, engine)
        self._panels_attached = True
        self._build_panel_menus()
        self._default_state = self.saveState(STATE_VERSION)
        self._apply_default_dock_sizes()
        if first:
            self._layout_restored = restore_window_state(self, self.paths)  # now that every dock exists
        if not self._layout_restored:
            # Once more after the new docks' first layout pass, which sizes them by their hints.
            QTimer.singleShot(0, self, self._apply_default_dock_sizes)

    def detach_job_panels(self) -> None:
        """Remove the job panels (Settings switched the engine; new ones follow)."""
        if self.job_panels is not None:
            self._clear_panel_menus()
            self.job_panels.dispose()
            self.job_panels = None
            self.queue_dock.setWidget(dock_placeholder("queue", "Starting the job engine…"))
            self.preview_dock.setWidget(dock_placeholder("preview", "Play a take or an animatic here (F5)."))

    def compact(self) -> bool:
        """A laptop-height screen: the docks share the right side instead of taking the bottom."""
        return self.screen().availableGeometry().height() < COMPACT_BELOW_HEIGHT

    def _apply_default_dock_sizes(self) -> None:
        """Default docks for this screen.

        Tall screens: the player beside the editor, the queue along the bottom four rows tall.
        Laptop heights: a four-row queue along the bottom would leave the editor a strip, so
        queue, takes and player share the right side as tabs, the queue in front (playing a take
        brings the player forward), showing the columns and buttons that fit its width (every
        queue command stays in the Queue menu and the row's context menu, with its key)."""
        width = self.width() if self.isVisible() else default_size(self).width()
        takes = getattr(self.job_panels, "takes_dock", None)
        docks = [d for d in (self.queue_dock, takes) if d is not None]
        compact = self.compact()
        if compact:
            for dock in docks:
                if self.dockWidgetArea(dock) != Qt.DockWidgetArea.RightDockWidgetArea or dock.isFloating():
                    self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
                self.tabifyDockWidget(self.preview_dock, dock)
            self.queue_dock.raise_()
        elif self.dockWidgetArea(self.queue_dock) != Qt.DockWidgetArea.BottomDockWidgetArea:
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.queue_dock)
            if takes is not None:
                self.tabifyDockWidget(self.queue_dock, takes)
            self.queue_dock.raise_()
        self._fit_queue(narrow=compact)
        side = 410 if compact else max(340, min(520, width * 27 // 100))
        self.resizeDocks([self.preview_dock], [side], Qt.Orientation.Horizontal)
        if not compact:
            queue = getattr(self.job_panels, "queue", None)
            view = getattr(queue, "view", None)
            row = 34
            if view is not None:
                row = max(view.verticalHeader().defaultSectionSize(), view.sizeHintForRow(0))
            # Four rows, the header, the filter row and the dock title.
            self.resizeDocks([self.queue_dock], [4 * row + 34 + 46 + 36 + 20], Qt.Orientation.Vertical)

    def _fit_queue(self, *, narrow: bool) -> None:
        """In a side dock the queue keeps title, progress (which names the state) and cost."""
        from PySide6.QtWidgets import QToolButton

        from kling_studio.ui.queue_table_model import COL_ELAPSED, COL_LENGTH, COL_MODE, COL_REMAINING, COL_STATE

        queue = getattr(self.job_panels, "queue", None)
        if queue is not None:
            header = queue.view.horizontalHeader()
            for column in (COL_MODE, COL_LENGTH, COL_STATE, COL_ELAPSED, COL_REMAINING):
                header.setSectionHidden(column, narrow)
        for panel in (queue, getattr(self.job_panels, "takes", None)):
            if panel is None:
                continue
            own = set(panel.actions())
            for button in panel.findChildren(QToolButton):
                if button.defaultAction() in own:
                    button.setVisible(not narrow)

    def reset_layout(self) -> None:
        """View → Reset Layout: default docks, every dock shown, the window inside its screen."""
        self.restoreState(self._default_state, STATE_VERSION)
        if self.isVisible() and not self.isMaximized():
            self.resize(default_size(self))
        for dock in self.findChildren(QDockWidget):
            if dock.parent() is self:
                dock.setFloating(False)
                dock.show()
        self._apply_default_dock_sizes()
        clamp_to_screen(self)
        # Again once the docks have settled: their minimum sizes change as they re-lay out.
        QTimer.singleShot(0, self, self._clamp_to_screen)

    def _clamp_to_screen(self) -> None:
        clamp_to_screen(self)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            clamp_to_screen(self)  # the frame is known only now
            if not self._layout_restored:
                self._apply_default_dock_sizes()

    def _build_panel_menus(self) -> None:
        """Menus for the queue's, takes' and preview's own actions, so each shows its shortcut
        (Retry Ctrl+R, Play/Pause Space…) where people look for commands. The keys stay the
        panels' (they work while that panel has focus)."""
        self._clear_panel_menus()
        panels = self.job_panels
        if panels is None:
            return
        bar = self.menuBar()
        for title, panel in (("&Queue", panels.queue), ("Ta&kes", panels.takes), ("&Playback", panels.preview)):
            if panel is None:
                continue
            actions = [a for a in panel.actions() if a.text()]
            if not actions:
                continue
            menu = QMenu(title, self)
            menu.setObjectName(f"{title.replace('&', '').lower()}Menu")
            menu.addActions(actions)
            bar.insertMenu(self.view_menu.menuAction(), menu)
            self._panel_menus.append(menu)

    def _clear_panel_menus(self) -> None:
        for menu in self._panel_menus:
            self.menuBar().removeAction(menu.menuAction())
            menu.deleteLater()
        self._panel_menus = []

    def _on_color_scheme_changed(self, _scheme: object = None) -> None:
        if self.settings.theme == "system":
            self.apply_theme("system")

    def apply_theme(self, preference: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, preference)
            self.studio_actions.retint()
            self.prompt_preview.refresh(force=True)
            self.timeline.update()

    def set_engine(self, engine: JobEngineAPI | None) -> None:
        """The job engine, once it has started (the window shows before it is ready)."""
        self.engine = engine
        self.update_backend_label()
        self._update_actions()

    def set_queue_status(self, text: str) -> None:
        self.queue_status.setText(text)
        self.queue_status.setVisible(bool(text))

    def _rename(self, text: str) -> None:
        if text != self.document.storyboard.title:
            self.document.push(RenameStoryboardCommand(self.document, text))

    # State shown in the chrome.

    def _on_document_changed(self) -> None:
        if self.title_edit.text() != self.document.storyboard.title:
            self.title_edit.setText(self.document.storyboard.title)
        self._update_title()
        self._update_actions()

    def _update_title(self) -> None:
        path = self.document.path
        name = Path(path).name.removesuffix(PROJECT_SUFFIX) if path else (self.document.storyboard.title or "Untitled")
        self.setWindowTitle(f"{name}[*] — Kling Studio")
        self.setWindowModified(self.document.is_dirty)

    def _on_undo_state(self, _available: bool = False) -> None:
        # The stack announces "nothing to undo" while it is being destroyed with the window.
        # Only Undo/Redo follow it: a merged keystroke announces it too, and the rest of the
        # actions are brought up to date by the document change that came with it.
        if isValid(self.document) and isValid(self.document.undo_stack):
            self._update_undo_actions()

    def _update_undo_actions(self) -> None:
        a = self.studio_actions
        stack = self.document.undo_stack
        a.undo.setEnabled(stack.canUndo())
        a.redo.setEnabled(stack.canRedo())
        a.undo.setText(f"&Undo {stack.undoText()}".rstrip())
        a.redo.setText(f"&Redo {stack.redoText()}".rstrip())

    def _update_actions(self) -> None:
        from kling_studio.domain.limits import KLING_3_TURBO

        a = self.studio_actions
        doc = self.document
        n = len(doc.storyboard.shots)
        i = doc.selected
        self._update_undo_actions()
        full = n >= KLING_3_TURBO.max_shots
        a.add_shot.setEnabled(not full)
        a.duplicate_shot.setEnabled(i >= 0 and not full)
        full_tip = f"At most {KLING_3_TURBO.max_shots} shots: the model's limit"
        a.add_shot.setToolTip(full_tip if full else str(a.add_shot.data()))
        a.duplicate_shot.setToolTip(full_tip if full else str(a.duplicate_shot.data()))
        a.delete_shot.setEnabled(i >= 0)
        a.move_up.setEnabled(i > 0)
        a.move_down.setEnabled(0 <= i < n - 1)
        self.generation.update_submit_state()

    def update_backend_label(self) -> None:
        if self.engine is not None:
            label, local = self.engine.backend_label, self.engine.is_local
        else:
            local = not key_configured()
            label = LOCAL_LABEL if local else "Kling 3.0 Turbo via APIMart"
        self.backend_label.setText(label)
        self.backend_label.setToolTip("Change the backend and the API key in Settings (Ctrl+,)")
        self.banner.setVisible(local and not self.settings.banner_dismissed)

    def _dismiss_banner(self) -> None:
        self.update_settings(banner_dismissed=True)

    def update_settings(self, **changes: Any) -> None:
        self.set_settings(replace(self.settings, **changes))

    def set_settings(self, settings: AppSettings) -> None:
        self.settings = settings
        try:
            self._store_settings(settings)
        except OSError as exc:
            self.show_message(f"Settings could not be saved: {exc}")

    def show_message(self, text: str, timeout_ms: int = 6000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # Closing.

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        save_window_state(self, self.paths)
        self.files.shutdown()
        self.generation.shutdown()
        self.take_export.shutdown()
        self.sequence_ui.shutdown()
        self.first_frame.tasks.cancel_all()
        if self.job_panels is not None:
            self.job_panels.shutdown()
        event.accept()
