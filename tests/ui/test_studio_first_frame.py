"""The first-frame drop zone: valid images switch to image-to-video; bad ones are refused."""

from __future__ import annotations

from pathlib import Path

from kling_studio.domain.storyboard import FirstFrame
from kling_studio.ui.generation_panel import RATIO_LOCKED_TIP

from .studio_helpers import drop_files, load, make_window, storyboard, wait_until, write_image


async def test_dropping_a_valid_image_switches_to_image_to_video(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a harbour at dawn", 5)))
    image = write_image(tmp_path / "frame.png", (640, 360))
    assert window.generation_panel.aspect_ratio.isEnabled()
    drop_files(window.first_frame.drop_zone, image)
    await wait_until(lambda: window.document.storyboard.first_frame is not None)
    await wait_until(lambda: not window.first_frame.busy)
    assert window.document.storyboard.first_frame == FirstFrame(path=str(image))
    assert window.document.compiled.mode == "image-to-video"
    assert window.document.compiled.request["first_frame_image"] == str(image)
    assert "aspect_ratio" not in window.document.compiled.request
    ratio = window.generation_panel.aspect_ratio
    assert not ratio.isEnabled()
    assert ratio.toolTip() == RATIO_LOCKED_TIP
    assert "640×360 px" in window.first_frame.facts_label.text()
    assert "1.78:1" in window.first_frame.facts_label.text()
    assert window.first_frame.thumbnail.pixmap() is not None
    assert not window.first_frame.thumbnail.pixmap().isNull()
    assert window.studio_actions.submit.isEnabled()
    # Remove is one undoable step back to text-to-video.
    window.first_frame.remove_button.click()
    assert window.document.compiled.mode == "text-to-video"
    assert ratio.isEnabled()
    window.studio_actions.undo.trigger()
    assert window.document.compiled.mode == "image-to-video"


async def test_dropping_a_non_image_shows_the_error_and_keeps_the_old_state(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    good = write_image(tmp_path / "good.jpg", (800, 600))
    sb = storyboard(("a", 5)).with_first_frame(FirstFrame(path=str(good)))
    load(window, sb)
    await wait_until(lambda: window.document.first_frame_check() is not None)
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture at all")
    drop_files(window.first_frame.drop_zone, notes)
    await wait_until(lambda: window.first_frame.message.isVisible())
    assert "notes.png is not an image" in window.first_frame.message.text()
    assert window.first_frame.message.objectName() == "inlineError"
    assert window.document.storyboard == sb
    assert not window.document.is_dirty


async def test_dropping_a_small_image_names_the_rule_and_the_size(qtbot, tmp_path: Path) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a", 5)))
    small = write_image(tmp_path / "small.png", (200, 200))
    drop_files(window.first_frame.drop_zone, small)
    await wait_until(lambda: window.first_frame.message.isVisible())
    text = window.first_frame.message.text()
    assert "200×200 px" in text
    assert "at least 300 px" in text
    assert window.document.storyboard.first_frame is None
    assert window.document.compiled.mode == "text-to-video"
    assert window.generation_panel.aspect_ratio.isEnabled()


async def test_https_url_is_accepted_and_http_refused(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("a", 5)))
    assert not window.first_frame.attach_url("http://example.com/a.png")
    assert "https://" in window.first_frame.message.text()
    assert window.document.storyboard.first_frame is None
    assert window.first_frame.attach_url("https://example.com/a.png")
    assert window.document.compiled.request["first_frame_image"] == "https://example.com/a.png"
