"""What people read says it in words: no raw codes, verbs that agree, and free local previews
shown as "$0.00 (local)" wherever a price would be."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kling_studio.domain.diagnostics import Diagnostic
from kling_studio.ui.prompt_preview import blocking_text
from kling_studio.ui.queue_demo import DemoEngine
from kling_studio.ui.queue_format import plain_words

from .studio_helpers import FakeEngine, load, make_window, storyboard

CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # shot_text_too_long, needs_attention, task_not_found…


def test_the_error_count_agrees_with_its_verb() -> None:
    assert blocking_text(1) == "1 error blocks submit"
    assert blocking_text(2) == "2 errors block submit"


def test_typing_a_problem_updates_the_summary_with_the_right_verb(qtbot) -> None:
    window = make_window(qtbot)
    load(window, storyboard(("Fog lifts off the harbour", 3), ("A boat leaves the quay", 2)))
    assert window.prompt_preview.summary.text().startswith("Ready to submit")
    edit = window.shot_editor.text_edit
    edit.setFocus()
    QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(edit, Qt.Key.Key_Delete)  # shot 1 left without text: one error
    qtbot.waitUntil(lambda: len(window.document.compiled.errors) == 1, timeout=3000)
    assert window.prompt_preview.summary.text().startswith("1 error blocks submit")
    window.shot_editor.seconds.setFocus()
    QTest.keyClick(window.shot_editor.seconds, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(window.shot_editor.seconds, "14")  # 14 + 2 s: over the 15 s maximum, two errors
    QTest.keyClick(window.shot_editor.seconds, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.document.compiled.errors) >= 2, timeout=3000)
    n = len(window.document.compiled.errors)
    assert window.prompt_preview.summary.text().startswith(f"{n} errors block submit")


def test_summary_tooltips_and_submit_say_it_in_words(qtbot) -> None:
    window = make_window(qtbot)
    preview = window.prompt_preview
    load(window, storyboard(("Fog lifts off the harbour", 2)))  # 2 s: under the 3 s minimum
    errors = window.document.compiled.errors
    assert len(errors) == 1 and CODE.fullmatch(errors[0].code)
    assert preview.summary.text().startswith("1 error blocks submit")
    load(window, storyboard(("", 1)))  # too short and empty
    n = len(window.document.compiled.errors)
    assert n >= 2
    assert preview.summary.text().startswith(f"{n} errors block submit")
    # The diagnostics list: text and tooltips carry no codes.
    model = preview.diagnostics
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = str(index.data(role))
            assert not CODE.search(text), text
    # Submit's tooltip lists the reasons, in words, for a person hovering it.
    tip = window.submit_button.toolTip()
    assert tip.startswith("Submit is blocked")
    assert not CODE.search(tip), tip
    for error in window.document.compiled.errors:
        assert error.code not in tip


def test_plain_words_strip_and_translate_codes() -> None:
    assert plain_words("shot_text_too_long: shot 1 has 1500 characters; at most 512") == (
        "Shot 1 has 1500 characters; at most 512"
    )
    assert "task_not_found" not in plain_words("task_not_found: gone")
    assert not CODE.search(plain_words("The job is needs_attention (task_not_found)."))
    assert Diagnostic  # the type whose code never reaches a person


def test_local_mode_shows_free_and_remote_mode_the_estimate(qtbot) -> None:
    local = make_window(qtbot, FakeEngine())
    load(local, storyboard(("Fog lifts off the harbour", 5)))
    QTest.qWait(10)
    assert local.submit_button.text() == "Submit · $0.00 (local)"
    assert local.generation_panel.cost_label.text() == "$0.00 (local)"
    assert "$0.56" in local.generation_panel.cost_label.toolTip()  # what it would cost with a key

    remote = make_window(qtbot, DemoEngine(is_local=False))  # type: ignore[arg-type]
    load(remote, storyboard(("Fog lifts off the harbour", 5)))
    assert remote.submit_button.text() == "Submit · $0.56"
    assert remote.generation_panel.cost_label.text() == "$0.56"
