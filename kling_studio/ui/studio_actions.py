"""Every window action with its shortcut, icon and accessible text; menus and toolbar built from them."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QSizePolicy, QToolBar, QToolButton, QWidget

from kling_studio.ui import icons

Key = QKeySequence.StandardKey


def _seq(*keys: str | QKeySequence.StandardKey) -> list[QKeySequence]:
    return [QKeySequence(k) for k in keys]


class StudioActions(QObject):
    """The actions of one window. Handlers are connected by the window."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        a = self._make
        self.new = a("&New", "document-new", _seq("Ctrl+N"), "Start a new storyboard")
        self.open = a("&Open…", "document-open", _seq("Ctrl+O"), "Open a project file")
        self.save = a("&Save", "document-save", _seq("Ctrl+S"), "Save the project")
        self.save_as = a("Save &As…", "document-save-as", _seq("Ctrl+Shift+S"), "Save under another name")
        self.export_sheet = a(
            "&Export Storyboard Sheet…", "document-save-as", _seq("Ctrl+P"), "A printable PDF or HTML contact sheet"
        )
        self.export_take = a(
            "Export &Take for Editor…",
            "document-save-as",
            _seq("Ctrl+Shift+E"),
            "The selected take as OpenTimelineIO, Final Cut Pro XML or EDL, with a marker per shot",
        )
        self.quit = a("&Quit", None, _seq("Ctrl+Q"), "Quit Kling Studio")
        self.undo = a("&Undo", "edit-undo", _seq("Ctrl+Z"), "Undo the last edit")
        self.redo = a("&Redo", "edit-redo", _seq("Ctrl+Shift+Z", "Ctrl+Y"), "Redo")
        self.split_shots = a(
            "Split into &Shots",
            "shot-duplicate",
            _seq("Ctrl+Shift+L"),
            "Turn the selected shot's text into shots: shot 1, 2, …; shot 2, 3, …; or one shot per line (3s optional)",
        )
        self.add_shot = a("&Add Shot", "shot-add", _seq("Ctrl+T"), "Add a shot after the selected one")
        self.duplicate_shot = a("&Duplicate Shot", "shot-duplicate", _seq("Ctrl+D"), "Duplicate the selected shot")
        self.delete_shot = a("De&lete Shot", "shot-delete", _seq("Del", "Ctrl+Backspace"), "Delete the selected shot")
        self.move_up = a("Move Shot &Up", "shot-up", _seq("Alt+Up"), "Move the selected shot earlier")
        self.move_down = a("Move Shot Do&wn", "shot-down", _seq("Alt+Down"), "Move the selected shot later")
        self.paste_first_frame = a(
            "&Paste First Frame", "image", _seq("Ctrl+Shift+V"), "Use the image on the clipboard as the first frame"
        )
        self.play_animatic = a(
            "&Play Animatic", "media-play", _seq("F5"), "Render the storyboard locally on its timing and play it"
        )
        self.copy_prompt = a("&Copy Prompt", "edit-copy", _seq("Ctrl+Shift+C"), "Copy the compiled prompt")
        self.copy_curl = a(
            "Copy Request as c&URL",
            "copy-curl",
            _seq("Ctrl+Alt+C"),
            "Copy a curl command for this request; the key stays in $KLING_STUDIO_API_KEY",
        )
        self.submit = a("Su&bmit", "submit", _seq("Ctrl+Return", "Ctrl+Enter"), "Send the storyboard to the queue")
        # Sequences: a film made of segments (ui.sequence_controller connects these).
        self.add_segment = a("&Add Segment", "shot-add", _seq("Ctrl+Alt+N"), "Add a segment after this one")
        self.duplicate_segment = a(
            "&Duplicate Segment", "shot-duplicate", _seq("Ctrl+Alt+D"), "Duplicate the segment being edited"
        )
        self.delete_segment = a(
            "De&lete Segment", "shot-delete", _seq("Ctrl+Alt+Backspace"), "Delete the segment being edited"
        )
        self.move_segment_left = a("Move Segment &Earlier", "shot-up", _seq("Ctrl+Alt+Left"), "Move the segment left")
        self.move_segment_right = a(
            "Move Segment &Later", "shot-down", _seq("Ctrl+Alt+Right"), "Move the segment right"
        )
        self.previous_segment = a("&Previous Segment", None, _seq("Ctrl+PgUp"), "Edit the previous segment")
        self.next_segment = a("&Next Segment", None, _seq("Ctrl+PgDown"), "Edit the next segment")
        self.continue_previous = a(
            "&Continue from Previous Take",
            "image",
            _seq("Ctrl+Alt+F"),
            "Start this segment on the last frame of the previous segment's take",
        )
        self.generate_segment = a("Generate &Segment", "submit", _seq("Ctrl+Alt+G"), "Generate this segment (×N takes)")
        self.generate_sequence = a(
            "Generate &Whole Sequence",
            "submit",
            _seq("Ctrl+Alt+Shift+G"),
            "Generate every segment in order, chained segments from their predecessor's take (×N takes)",
        )
        self.compare_takes = a(
            "C&ompare Takes…", "media-play", _seq("Ctrl+Alt+K"), "Two takes of this segment side by side; P picks"
        )
        self.assemble = a(
            "Asse&mble Film", "media-play", _seq("Ctrl+Alt+A"), "Join each segment's take into one cut and play it"
        )
        self.export_cut = a(
            "Export &Cut for Editor…",
            "document-save-as",
            _seq("Ctrl+Alt+E"),
            "The assembled cut as OpenTimelineIO, Final Cut Pro XML, EDL or PDF",
        )
        self.settings = a("&Settings…", "settings", _seq("Ctrl+,"), "Backend, API key, prices, theme")
        self.about = a("&About Kling Studio", "help-about", _seq("F1"), "Versions and where files live")
        self.show_queue: QAction | None = None
        self.show_preview: QAction | None = None
        self.recent_menu = QMenu("Open &Recent", parent)
        self.recent_menu.setIcon(icons.icon("document-recent"))
        # The submenu's own action carries the shortcut; triggered from the keyboard it pops the menu up.
        self.open_recent = self.recent_menu.menuAction()
        self._describe(self.open_recent, _seq("Ctrl+Shift+O"), "Reopen a recent project")
        self.submit.setPriority(QAction.Priority.HighPriority)

    def _make(self, text: str, icon: str | None, shortcuts: list[QKeySequence], tip: str) -> QAction:
        action = QAction(text, self.parent())
        if icon:
            action.setIcon(icons.icon(icon))
            action.setProperty("iconName", icon)
        self._describe(action, shortcuts, tip)
        return action

    @staticmethod
    def _describe(action: QAction, shortcuts: list[QKeySequence], tip: str) -> None:
        if shortcuts:
            action.setShortcuts(shortcuts)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            tip = f"{tip} ({shortcuts[0].toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setData(tip)  # the default tooltip, restored when a blocking reason goes away

    def retint(self) -> None:
        """Redraw the icons in the active theme's colours (after a light/dark switch)."""
        for action in self.all():
            name = action.property("iconName")
            if name:
                action.setIcon(icons.icon(str(name)))
        self.recent_menu.setIcon(icons.icon("document-recent"))

    def all(self) -> list[QAction]:
        return [v for v in vars(self).values() if isinstance(v, QAction)]

    def build_menus(self, bar: QMenuBar, view_actions: list[QAction]) -> QMenu:
        """Fill the menu bar; returns the View menu (docks added later go there)."""
        file = bar.addMenu("&File")
        file.addActions([self.new, self.open])
        file.addMenu(self.recent_menu)
        file.addSeparator()
        file.addActions([self.save, self.save_as])
        file.addSeparator()
        file.addActions([self.export_sheet, self.export_take])
        file.addSeparator()
        file.addAction(self.quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo, self.redo])
        edit.addSeparator()
        edit.addAction(self.split_shots)
        edit.addSeparator()
        edit.addAction(self.paste_first_frame)
        edit.addSeparator()
        edit.addActions([self.copy_prompt, self.copy_curl])
        edit.addSeparator()
        edit.addAction(self.settings)
        shot = bar.addMenu("&Shot")
        shot.addActions([self.add_shot, self.duplicate_shot, self.delete_shot])
        shot.addSeparator()
        shot.addActions([self.move_up, self.move_down])
        generate = bar.addMenu("&Generate")
        generate.addActions([self.play_animatic, self.submit])
        sequence = bar.addMenu("Se&quence")
        sequence.setObjectName("sequenceMenu")
        sequence.addActions([self.add_segment, self.duplicate_segment, self.delete_segment])
        sequence.addActions([self.move_segment_left, self.move_segment_right])
        sequence.addSeparator()
        sequence.addActions([self.previous_segment, self.next_segment])
        sequence.addSeparator()
        sequence.addAction(self.continue_previous)
        sequence.addSeparator()
        sequence.addActions([self.compare_takes, self.assemble, self.export_cut])
        generate.addSeparator()
        generate.addActions([self.generate_segment, self.generate_sequence])
        view = bar.addMenu("&View")
        view.addActions(view_actions)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about)
        return view

    def build_toolbar(self, toolbar: QToolBar) -> None:
        toolbar.addActions([self.new, self.open, self.save])
        toolbar.addSeparator()
        toolbar.addActions([self.undo, self.redo])
        toolbar.addSeparator()
        toolbar.addActions([self.add_shot, self.duplicate_shot, self.delete_shot, self.move_up, self.move_down])
        toolbar.addSeparator()
        toolbar.addActions([self.copy_prompt, self.copy_curl, self.play_animatic])
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addAction(self.settings)
        toolbar.addAction(self.submit)
        button = toolbar.widgetForAction(self.submit)
        if isinstance(button, QToolButton):
            button.setObjectName("submitToolButton")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
