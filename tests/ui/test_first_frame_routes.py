"""Every way a person gives a first frame, through the real path: drop, paste a file, paste a
picture, Browse…, and a typed URL. Keys go to the focused widget; the clipboard is the real one."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from kling_studio.domain.storyboard import FirstFrame

from .studio_helpers import drop_files, focused, load, make_window, storyboard, wait_until, write_image

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def _paste_first_frame() -> None:
    QTest.keyClick(focused(), Qt.Key.Key_V, CTRL_SHIFT)


async def _attached(window) -> FirstFrame:
    await wait_until(lambda: window.document.storyboard.first_frame is not None)
    await wait_until(lambda: not window.first_frame.busy)
    ff = window.document.storyboard.first_frame
    assert ff is not None
    return ff


async def test_drop_a_file_from_the_file_manager(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a harbour at dawn", 5)))
    image = write_image(tmp_path / "dropped.jpg", (800, 600))
    event = drop_files(window.first_frame.drop_zone, image)
    assert event.isAccepted()
    assert (await _attached(window)).path == str(image)
    assert window.document.compiled.mode == "image-to-video"


async def test_paste_a_copied_file(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a harbour at dawn", 5)))
    image = write_image(tmp_path / "copied.png", (640, 640))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image))])
    QApplication.clipboard().setMimeData(mime)
    window.shot_editor.text_edit.setFocus()
    _paste_first_frame()
    assert (await _attached(window)).path == str(image)
    assert window.document.storyboard.shots[0].text == "a harbour at dawn"  # nothing pasted into the text


async def test_paste_image_data_saves_a_png_in_the_data_folder(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a harbour at dawn", 5)))
    picture = QImage(720, 405, QImage.Format.Format_RGB32)
    picture.fill(QColor(30, 120, 200))
    QApplication.clipboard().setImage(picture)  # a screenshot or a copied picture: pixels, no file
    window.shot_editor.text_edit.setFocus()
    _paste_first_frame()  # raised ValueError from QImage.save(str, b"PNG") before
    ff = await _attached(window)
    assert ff.path is not None
    saved = Path(ff.path)
    assert saved.parent == window.paths.data_dir / "pasted"
    with Image.open(saved) as img:
        assert (img.format, img.size) == ("PNG", (720, 405))
    assert "720×405 px" in window.first_frame.facts_label.text()
    assert window.studio_actions.submit.isEnabled()
    # Undo is one step back to text-to-video.
    window.studio_actions.undo.trigger()
    assert window.document.storyboard.first_frame is None


async def test_paste_with_nothing_usable_says_so(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a", 5)))
    QApplication.clipboard().setText("just words")
    window.shot_editor.text_edit.setFocus()
    _paste_first_frame()
    assert window.first_frame.message.isVisible()
    assert "no image" in window.first_frame.message.text()
    assert window.document.storyboard.first_frame is None


async def test_browse_opens_a_file_dialog_that_takes_a_typed_path(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a harbour at dawn", 5)))
    image = write_image(tmp_path / "browsed.png", (960, 540))
    window.first_frame.browse_button.setFocus()
    QTest.keyClick(focused(), Qt.Key.Key_Space)
    await wait_until(lambda: isinstance(QApplication.activeModalWidget(), QFileDialog))
    dialog = QApplication.activeModalWidget()
    await wait_until(lambda: dialog.isAncestorOf(focused()))
    QTest.keyClicks(focused(), str(image))
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert (await _attached(window)).path == str(image)
    await wait_until(lambda: QApplication.activeModalWidget() is None)


async def test_typed_https_url(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a harbour at dawn", 5)))
    window.first_frame.url_edit.setFocus()
    QTest.keyClicks(focused(), "http://example.com/a.png")
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert "https://" in window.first_frame.message.text()
    assert window.document.storyboard.first_frame is None
    window.first_frame.url_edit.selectAll()
    QTest.keyClicks(focused(), "https://example.com/a.png")
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert window.document.storyboard.first_frame == FirstFrame(url="https://example.com/a.png")
    assert window.document.compiled.request["first_frame_image"] == "https://example.com/a.png"
