"""Settings, as a person uses it: the key field shows and hides what was pasted, and Test
connection says in words what failed — against a real loopback server that wants a key, a
closed port, a name that does not resolve, and a socket that never answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from kling_studio.services.local_backend import LocalBackend
from kling_studio.services.settings import AppSettings
from kling_studio.ui.settings_dialog import SettingsDialog

from .studio_helpers import wait_until

KEY = "sk-loopback-right-key-1234"


@pytest.fixture
def dialog(qtbot) -> Iterator[SettingsDialog]:
    d = SettingsDialog(AppSettings())
    d.test_timeout = 1.0  # keep the "never answers" case short
    qtbot.addWidget(d)
    d.show()
    d.activateWindow()
    yield d
    d.tasks.cancel_all()


def type_into(edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(edit, Qt.Key.Key_Delete)
    QTest.keyClicks(edit, text)


async def run_connection_test(dialog: SettingsDialog, base_url: str, key: str) -> str:
    type_into(dialog.base_url, base_url)
    type_into(dialog.api_key, key)
    dialog.key_status.clear()  # the last answer, so the wait below sees this one
    QTest.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: dialog.key_status.text() not in ("", "Connecting…"), 10)
    await wait_until(dialog.test_button.isEnabled, 5)
    return dialog.key_status.text()


def test_the_key_field_shows_and_hides_the_key(qtbot, dialog: SettingsDialog) -> None:
    QTest.keyClicks(dialog.api_key, KEY)
    assert dialog.api_key.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.show_key.toolTip().startswith("Show the key")
    QTest.mouseClick(dialog.show_key, Qt.MouseButton.LeftButton)
    assert dialog.api_key.echoMode() == QLineEdit.EchoMode.Normal
    assert dialog.api_key.displayText() == KEY
    assert dialog.show_key.toolTip() == "Hide the key"
    dialog.show_key.setFocus()  # and from the keyboard
    QTest.keyClick(dialog.show_key, Qt.Key.Key_Space)
    assert dialog.api_key.echoMode() == QLineEdit.EchoMode.Password
    assert KEY not in dialog.api_key.displayText()


async def test_test_connection_says_what_failed_in_words(qtbot, dialog: SettingsDialog) -> None:
    # The real local server, as `kling-studio serve-local --api-key KEY` starts it.
    server = LocalBackend(extra_args=["--api-key", KEY])
    base_url = await server.ensure_started()
    try:
        text = await run_connection_test(dialog, base_url, "sk-wrong-key-0000")
        assert text.startswith("Key rejected"), text
        assert "401" in text
        text = await run_connection_test(dialog, base_url, KEY)
        assert text.startswith("Connected"), text
    finally:
        await server.stop()

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    text = await run_connection_test(dialog, f"http://127.0.0.1:{port}", KEY)
    assert text.startswith("Connection refused"), text
    assert f"127.0.0.1:{port}" in text

    text = await run_connection_test(dialog, "https://nohost.invalid", KEY)
    assert text.startswith("Host not found"), text
    assert "nohost.invalid" in text

    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        text = await run_connection_test(dialog, f"http://127.0.0.1:{silent.getsockname()[1]}", KEY)
    finally:
        silent.close()
    assert text.startswith("Timed out"), text
    assert "1 s" in text
    for secret in (KEY, "sk-wrong-key-0000"):
        assert secret not in text
