"""Schema 1 ↔ 2: one segment stays today's file byte for byte; unknown keys survive everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kling_studio.domain.project_file import (
    ProjectFileError,
    dumps_project,
    loads_project,
    storyboard_from_snapshot,
)
from kling_studio.domain.sequence import (
    Segment,
    SequenceProject,
    compile_sequence,
    estimated_cost_usd,
    film_seconds,
    output_size,
    sequence_json,
)
from kling_studio.domain.sequence_file import dumps_sequence, loads_sequence, peek_schema
from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample" / "sample.kling.json"
DIR = "/films/pit"

SCHEMA_1 = """{
  "schema": 1,
  "title": "Pit lane",
  "settings": {
    "model": "kling-3.0-turbo",
    "resolution": "720p",
    "aspect_ratio": "16:9",
    "watermark": null,
    "colour": "warm"
  },
  "first_frame": {
    "path": "frames/pit.png"
  },
  "shots": [
    {
      "text": "Mechanics roll slick tyres across the garage floor",
      "duration": 3,
      "lens": "35mm"
    },
    {
      "text": "The driver pulls on a black helmet",
      "duration": 2
    }
  ],
  "director": "A. N. Other"
}
"""


def three_segments() -> SequenceProject:
    return SequenceProject(
        title="Pit lane",
        settings=GenerationSettings(),
        segments=(
            Segment("Garage", (Shot("tyres roll", 3),), first_frame=FirstFrame(path=f"{DIR}/frames/pit.png")),
            Segment("Helmet", (Shot("helmet on", 2), Shot("visor down", 2)), from_previous=True),
            Segment(
                "Launch",
                (Shot("the car leaves", 5),),
                settings=GenerationSettings(resolution="1080p"),
                from_previous=True,
                pick=f"{DIR}/takes/launch.mp4",
            ),
        ),
    )


@pytest.mark.parametrize("text", [SCHEMA_1, SAMPLE.read_text(encoding="utf-8")], ids=["readme", "sample"])
def test_a_schema_1_file_opens_as_one_segment_and_is_written_back_byte_for_byte(text: str) -> None:
    project = loads_sequence(text, DIR)
    assert len(project.segments) == 1
    assert dumps_sequence(project, DIR) == text
    # The same bytes the storyboard writer gives today.
    assert dumps_sequence(project, DIR) == dumps_project(loads_project(text, DIR), DIR)


def test_adding_a_segment_writes_schema_2_and_removing_it_gives_the_schema_1_bytes_back() -> None:
    project = loads_sequence(SCHEMA_1, DIR)
    longer = project.insert_segment(1, Segment("Helmet", (Shot("visor down", 3),), from_previous=True))
    text = dumps_sequence(longer, DIR)
    data = json.loads(text)
    assert data["schema"] == 2 and [s["title"] for s in data["segments"]] == ["Pit lane", "Helmet"]
    assert data["segments"][1]["first_frame"] == {"from": "previous"}
    assert data["director"] == "A. N. Other" and data["settings"]["colour"] == "warm"
    assert data["segments"][0]["shots"][0]["lens"] == "35mm"
    assert data["segments"][0]["first_frame"] == {"path": "frames/pit.png"}
    again = loads_sequence(text, DIR)
    assert again == longer
    assert dumps_sequence(again.remove_segment(1), DIR) == SCHEMA_1


def test_schema_2_round_trips_byte_for_byte_with_unknown_keys_at_every_level() -> None:
    text = dumps_sequence(three_segments(), DIR)
    data = json.loads(text)
    data["future"] = {"a": 1}
    data["segments"][1]["notes"] = "keep me"
    data["segments"][1]["shots"][0]["camera"] = "dolly"
    data["segments"][2]["settings"]["grade"] = "teal"
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    project = loads_sequence(text, DIR)
    assert dumps_sequence(project, DIR) == text
    assert project.segments[1].extra == {"notes": "keep me"}
    assert project.segments[1].shots[0].extra == {"camera": "dolly"}
    assert project.settings_of(1) == project.settings  # no settings: the project's
    assert project.settings_of(2).resolution == "1080p"
    assert "settings" not in data["segments"][1] and data["segments"][0]["pick"] is None


def test_a_pick_is_stored_relative_inside_the_project_folder_and_absolute_outside() -> None:
    project = three_segments().with_pick(0, f"{DIR}/takes/a.mp4").with_pick(1, "/elsewhere/b.mp4")
    data = json.loads(dumps_sequence(project, DIR))
    assert [s["pick"] for s in data["segments"]] == ["takes/a.mp4", "/elsewhere/b.mp4", "takes/launch.mp4"]
    assert loads_sequence(json.dumps(data), DIR).segments[0].pick == f"{DIR}/takes/a.mp4"


def test_a_one_segment_pick_rides_in_schema_1_as_a_key_older_versions_keep() -> None:
    project = loads_sequence(SCHEMA_1, DIR).with_pick(0, f"{DIR}/takes/one.mp4")
    text = dumps_sequence(project, DIR)
    assert json.loads(text)["schema"] == 1 and json.loads(text)["pick"] == "takes/one.mp4"
    assert loads_project(text, DIR).extra["pick"] == "takes/one.mp4"  # today's reader keeps it
    assert loads_sequence(text, DIR).segments[0].pick == f"{DIR}/takes/one.mp4"
    assert dumps_sequence(project.with_pick(0, None), DIR) == SCHEMA_1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["segments"][1]["shots"][0].update(duration="3"), "segments[1].shots[0].duration"),
        (lambda d: d["segments"][1].pop("title"), "segments[1].title"),
        (lambda d: d["segments"][2].update(first_frame={"from": "next"}), "segments[2].first_frame"),
        (lambda d: d["segments"][0].update(first_frame={"from": "previous"}), "segments[0].first_frame"),
        (lambda d: d["segments"][1].update(pick=7), "segments[1].pick"),
        (lambda d: d.update(segments=[]), "segments"),
        (lambda d: d["settings"].update(watermark="yes"), "settings.watermark"),
    ],
)
def test_bad_segments_are_refused_naming_the_field(change: object, field: str) -> None:
    data = json.loads(dumps_sequence(three_segments(), DIR))
    change(data)  # type: ignore[operator]
    with pytest.raises(ProjectFileError) as caught:
        loads_sequence(json.dumps(data), DIR)
    assert caught.value.field == field and field in caught.value.message


def test_a_newer_schema_is_refused_as_newer() -> None:
    with pytest.raises(ProjectFileError) as caught:
        loads_sequence('{"schema": 3, "title": "x"}', DIR)
    assert caught.value.kind == "newer_schema" and "newer version" in caught.value.message
    assert peek_schema("{not json") is None and peek_schema('{"schema": 2}') == 2


def test_totals_add_the_segments_and_multiply_by_takes() -> None:
    project = three_segments()
    assert film_seconds(project) == 3 + 4 + 5
    # 7 s at 720p ($0.112/s) and 5 s at 1080p ($0.14/s).
    assert estimated_cost_usd(project) == pytest.approx(7 * 0.112 + 5 * 0.14)
    assert estimated_cost_usd(project, takes=3) == pytest.approx(3 * (7 * 0.112 + 5 * 0.14))
    result = sequence_json(project, compile_sequence(project, {}), takes=1)
    assert result["total_seconds"] == 12 and result["estimated_cost_usd"] == pytest.approx(1.484)


def test_a_chained_segment_compiles_as_image_to_video_with_the_previous_output_size() -> None:
    square = SequenceProject(
        settings=GenerationSettings(aspect_ratio="1:1", resolution="1080p"),
        segments=(
            Segment("A", (Shot("a", 3),)),
            Segment("B", (Shot("b", 3),), from_previous=True),
        ),
    )
    first, chained = compile_sequence(square, {}, chained_frame={1: FirstFrame(path="/f/b.png")})
    assert first.mode == "text-to-video" and chained.mode == "image-to-video"
    assert chained.request["first_frame_image"] == "/f/b.png" and "aspect_ratio" not in chained.request
    assert chained.ok
    # The aspect-ratio setting is ignored for image-to-video, as today.
    assert [w.code for w in chained.warnings] == ["aspect_ratio_ignored"]


def test_output_sizes_follow_the_contract_table_and_the_image_ratio() -> None:
    assert output_size("720p", "16:9") == (1280, 720)
    assert output_size("1080p", "1:1") == (1440, 1440)
    assert output_size("720p", "16:9", (1000, 1000)) == (960, 960)
    assert output_size("720p", "16:9", (4000, 3000)) == (960, 720)
    assert output_size("720p", "16:9", (3000, 600)) == (1800, 720)  # clamped to 2.5:1
    assert output_size("4k", "16:9") is None


def test_one_segment_with_its_own_title_is_written_as_schema_2_so_nothing_is_lost() -> None:
    project = loads_sequence(SCHEMA_1, DIR)
    renamed = project.with_segment(0, Segment("Garage", project.segments[0].shots))
    data = json.loads(dumps_sequence(renamed, DIR))
    assert data["schema"] == 2 and data["title"] == "Pit lane" and data["segments"][0]["title"] == "Garage"
    assert loads_sequence(json.dumps(data), DIR).segments[0].title == "Garage"


def test_a_sequence_jobs_tag_does_not_follow_its_storyboard_into_the_editor() -> None:
    snapshot = json.loads(dumps_project(loads_project(SCHEMA_1, DIR), None))
    snapshot["sequence"] = {"plan": "p", "segment": 2, "take": 1, "source": None}
    board = storyboard_from_snapshot(snapshot)
    assert "sequence" not in board.extra and board.extra["director"] == "A. N. Other"
