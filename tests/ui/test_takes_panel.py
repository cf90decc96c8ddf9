"""Takes: one project's jobs, starred or rejected through the engine, sidecar opened."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from kling_studio.domain.jobs import JobState
from kling_studio.ui.queue_demo import DemoEngine, make_job
from kling_studio.ui.takes_panel import TakesPanel
from kling_studio.ui.takes_table_model import COL_FLAG, COL_TAKE, TakesTableModel

PROJECT = "/projects/harbour.kling.json"


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened() -> Iterator[UrlCatcher]:
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    yield catcher
    QDesktopServices.unsetUrlHandler("file")


@pytest.fixture
def engine(tmp_path: Path) -> DemoEngine:
    sidecar = tmp_path / "take-1.json"
    sidecar.write_text(json.dumps({"request": {}, "response": {}}))
    return DemoEngine(
        [
            make_job(
                "Harbour",
                job_id="t1",
                project_path=PROJECT,
                created_at=100,
                state=JobState.DONE,
                sidecar_path=str(sidecar),
                actual_cost_usd=0.56,
            ),
            make_job("Other project", job_id="x", project_path="/elsewhere.kling.json", created_at=150),
            make_job("Harbour", job_id="t2", project_path=PROJECT, created_at=200, state=JobState.FAILED),
        ]
    )


def test_lists_only_the_projects_takes_newest_first(qtmodeltester, engine: DemoEngine) -> None:
    model = TakesTableModel(PROJECT)
    model.attach(engine)
    qtmodeltester.check(model)
    assert [model.index(r, COL_TAKE).data() for r in range(model.rowCount())] == [
        "Take 2 · 5 s · 720p",
        "Take 1 · 5 s · 720p",
    ]
    engine.put(make_job("Harbour", job_id="t3", project_path=PROJECT, created_at=300))
    engine.put(make_job("Other", job_id="y", project_path=None, created_at=300))
    assert model.rowCount() == 3 and model.index(0, COL_TAKE).data().startswith("Take 3")
    model.set_project_path("/elsewhere.kling.json")
    assert model.rowCount() == 1
    model.detach()
    model.thumbnails.close()


async def test_star_and_reject_go_through_the_engine(qtbot, engine: DemoEngine) -> None:
    panel = TakesPanel(engine, PROJECT)
    qtbot.addWidget(panel)
    assert panel.heading.text() == "2 takes of harbour.kling.json"
    assert panel.select_take("t1")
    panel.action_star.trigger()
    await asyncio.sleep(0)
    assert engine.calls[-1] == ("set_flags", ("t1", True, False))
    assert panel.model.index(panel.model.row_of("t1"), COL_FLAG).data() == "★"
    assert panel.action_star.isChecked()

    panel.action_reject.trigger()  # rejecting a starred take unstars it
    await asyncio.sleep(0)
    assert engine.calls[-1] == ("set_flags", ("t1", False, True))
    assert engine.get("t1").rejected and not engine.get("t1").starred
    panel.shutdown()


def test_open_sidecar_and_load_into_editor(qtbot, engine: DemoEngine, opened: UrlCatcher) -> None:
    panel = TakesPanel(engine, PROJECT)
    qtbot.addWidget(panel)
    panel.select_take("t1")
    panel.action_sidecar.trigger()
    assert [u.toLocalFile() for u in opened.urls] == [engine.get("t1").sidecar_path]
    with qtbot.waitSignal(panel.load_into_editor_requested) as loaded:
        panel.action_load.trigger()
    assert loaded.args[0]["title"] == "Harbour"
    panel.shutdown()
