"""The settings dialog and the first-run choice of what to open."""

from __future__ import annotations

from pathlib import Path

from kling_studio import app
from kling_studio.services.secrets import get_api_key, set_api_key
from kling_studio.services.settings import BACKEND_LOCAL, AppSettings
from kling_studio.ui.settings_dialog import SettingsDialog


def test_dialog_edits_settings_and_stores_the_key_in_the_keyring(qtbot) -> None:
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    assert dialog.api_key.echoMode() == dialog.api_key.EchoMode.Password
    dialog.backend.setCurrentIndex(dialog.backend.findData(BACKEND_LOCAL))
    dialog.concurrency.setValue(5)
    dialog.prices["720p"].setText("0.2")
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    dialog.notifications.setChecked(False)
    qtbot.keyClicks(dialog.api_key, "sk-new-key-9876")
    dialog.accept()
    result = dialog.result_settings()
    assert (result.backend, result.concurrency, result.theme, result.notifications) == (
        BACKEND_LOCAL,
        5,
        "light",
        False,
    )
    assert result.prices["720p"] == "0.2"
    assert get_api_key() == "sk-new-key-9876"
    assert "sk-new-key-9876" not in repr(result)


def test_the_largest_video_is_typed_in_the_dialog_and_saved(qtbot) -> None:
    """max_video_mb (the download cap) has a field: typed with the keys, kept by OK."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.max_video.value() == 2048 and dialog.max_video.suffix() == " MB"
    dialog.max_video.setFocus()
    QTest.keyClick(dialog.max_video, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(dialog.max_video, "4096")
    dialog.accept()
    result = dialog.result_settings()
    assert result.max_video_mb == 4096
    assert result.max_video_bytes() == 4096 * 1024 * 1024


def test_bad_prices_are_refused_inline(qtbot) -> None:
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.prices["1080p"].setText("cheap")
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    assert "Prices must be numbers" in dialog.error.text()


def test_first_run_opens_the_sample_and_a_key_reopens_the_last_project(tmp_path: Path) -> None:
    assert app.initial_project(None, AppSettings()) == app.sample_project()
    last = tmp_path / "last.kling.json"
    last.write_text("{}")
    set_api_key("sk-some-key-1234")
    assert app.initial_project(None, AppSettings(last_project=str(last))) == str(last)
    assert app.initial_project("given.kling.json", AppSettings(last_project=str(last))) == "given.kling.json"


def test_the_sample_opens_as_an_untitled_copy(qtbot) -> None:
    from tests.ui.studio_helpers import make_window

    window = make_window(qtbot)
    app._open_first_project(window, None, AppSettings(), smoke=False)
    sample = app.sample_project()
    assert sample is not None
    assert window.document.storyboard.title == "Sunrise over the bay"
    assert len(window.document.storyboard.shots) == 4
    assert window.document.path is None  # Save asks where; the bundled file is never overwritten
    assert window.settings.last_project is None
