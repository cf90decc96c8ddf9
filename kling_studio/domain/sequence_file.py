"""Project files with several segments: ``"schema": 2``, read and written as pure text.

```
{"schema": 2, "title": …, "settings": {…},
 "segments": [{"title": …, "settings"?: {…}, "first_frame": null | {"path"} | {"url"} | {"from": "previous"},
               "shots": [{"text", "duration"}…], "pick": null | "takes/….mp4"}…]}
```

Each segment's storyboard is parsed by ``domain.project_file`` itself (a schema-1 object is
made of the segment and read by ``loads_project``), so every rule and every hardening of that
reader holds for segments too; errors are re-labelled ``segments[i].…``. A project that a
schema-1 file can hold (one segment, nothing segment-specific) is written by
``dumps_project``, byte for byte as before; its pick, if any, rides along as a top-level
``"pick"`` key, which older versions keep as an unknown key. Unknown keys survive at every level.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from kling_studio.domain.project_file import (
    SEQUENCE_SCHEMA,
    ProjectFileError,
    dumps_project,
    loads_project,
    relative_path,
    resolve_path,
)
from kling_studio.domain.sequence import Segment, SequenceProject, from_storyboard, is_single
from kling_studio.domain.storyboard import Storyboard

__all__ = ["SEQUENCE_SCHEMA", "dumps_sequence", "loads_sequence", "peek_schema"]
FROM_PREVIOUS = {"from": "previous"}
_TOP_KEYS = ("schema", "title", "settings", "segments")
_SEGMENT_KEYS = ("title", "settings", "first_frame", "shots", "pick")
PICK_KEY = "pick"  # schema 1: the one segment's pick, an unknown key to older readers


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(
            "syntax",
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ProjectFileError("syntax", f"not valid project JSON: {str(exc).split(';')[0]}") from None


def peek_schema(text: str) -> int | None:
    """The file's ``schema`` number, or None when the text is not an object with an integer schema."""
    try:
        raw = _parse(text)
    except ProjectFileError:
        return None
    schema = raw.get("schema") if isinstance(raw, dict) else None
    return schema if isinstance(schema, int) and not isinstance(schema, bool) else None


def loads_sequence(text: str, project_dir: str | None = None) -> SequenceProject:
    """Parse a schema 1 or schema 2 project file into a sequence (schema 1: one segment)."""
    schema = peek_schema(text)
    if schema is None or schema < SEQUENCE_SCHEMA:
        storyboard = loads_project(text, project_dir)  # its errors, exactly as today
        extra = dict(storyboard.extra)
        pick = extra.pop(PICK_KEY, None)
        pick_path = resolve_path(pick, project_dir) if isinstance(pick, str) and pick else None
        return from_storyboard(
            Storyboard(storyboard.title, storyboard.shots, storyboard.settings, storyboard.first_frame, extra),
            pick=pick_path,
        )
    if schema > SEQUENCE_SCHEMA:
        raise ProjectFileError(
            "newer_schema",
            f"made by a newer version of Kling Studio (schema {schema}; this version reads up to "
            f"schema {SEQUENCE_SCHEMA}). Update Kling Studio to open it.",
            field="schema",
        )
    raw: dict[str, Any] = _parse(text)
    extra = {k: v for k, v in raw.items() if k not in _TOP_KEYS}
    head = _read_storyboard({k: raw[k] for k in ("title", "settings") if k in raw}, "", None)
    segments_raw = raw.get("segments")
    if not isinstance(segments_raw, list) or not segments_raw:
        raise ProjectFileError("schema", "segments: expected a non-empty list of segments", field="segments")
    segments = [_segment(item, i, raw["settings"], project_dir) for i, item in enumerate(segments_raw)]
    if segments[0].from_previous:
        raise ProjectFileError(
            "schema",
            "segments[0].first_frame: the first segment has no previous segment to continue from",
            field="segments[0].first_frame",
        )
    return SequenceProject(title=head.title, settings=head.settings, segments=tuple(segments), extra=extra)


def _read_storyboard(obj: dict[str, Any], where: str, project_dir: str | None) -> Storyboard:
    """``loads_project`` on a schema-1 object; its error messages re-labelled with ``where``."""
    document = {"schema": 1, "shots": [], **obj}
    try:
        return loads_project(json.dumps(document, ensure_ascii=False), project_dir)
    except ProjectFileError as exc:
        if not where:
            raise
        field = f"{where}{exc.field}" if exc.field else None
        raise ProjectFileError(exc.kind, f"{where}{exc.message}", field=field) from None
    except ValueError as exc:  # NaN or Infinity in the text: not JSON, and not writable back
        raise ProjectFileError("syntax", f"{where or ''}not valid project JSON ({exc})") from None


def _segment(item: object, index: int, project_settings: object, project_dir: str | None) -> Segment:
    where = f"segments[{index}]."
    if not isinstance(item, dict):
        raise ProjectFileError(
            "schema", f"segments[{index}]: expected an object, got {json.dumps(item)[:60]}", field=f"segments[{index}]"
        )
    frame = item.get("first_frame")
    from_previous = isinstance(frame, dict) and "from" in frame
    if from_previous and frame != FROM_PREVIOUS:
        raise ProjectFileError(
            "schema",
            f'{where}first_frame: expected {{"from": "previous"}}, got {json.dumps(frame)[:60]}',
            field=f"{where}first_frame",
        )
    if "title" not in item:
        raise ProjectFileError("schema", f"{where}title: missing (expected a string)", field=f"{where}title")
    if "shots" not in item:
        raise ProjectFileError("schema", f"{where}shots: missing (expected a list)", field=f"{where}shots")
    own_settings = "settings" in item and item["settings"] is not None
    document = {
        "title": item["title"],
        "settings": item["settings"] if own_settings else project_settings,
        "first_frame": None if from_previous else frame,
        "shots": item["shots"],
    }
    storyboard = _read_storyboard(document, where, project_dir)
    pick = item.get("pick")
    if pick is not None and (not isinstance(pick, str) or not pick or "\0" in pick):
        raise ProjectFileError(
            "schema", f"{where}pick: expected null or a video path, got {json.dumps(pick)[:60]}", field=f"{where}pick"
        )
    return Segment(
        title=storyboard.title,
        shots=storyboard.shots,
        settings=storyboard.settings if own_settings else None,
        first_frame=storyboard.first_frame,
        from_previous=from_previous,
        pick=resolve_path(pick, project_dir) if pick else None,
        extra={k: v for k, v in item.items() if k not in _SEGMENT_KEYS},
    )


def stored_path(path: str, project_dir: str | None) -> str:
    """A pick as written: relative (with ``/``) when inside the project folder, else as given."""
    rel = relative_path(path, project_dir)
    return path if rel == os.pardir or rel.startswith(os.pardir + "/") else rel


def dumps_sequence(project: SequenceProject, project_dir: str | None = None) -> str:
    """Stable pretty JSON: schema 1 (``dumps_project``) when it can hold the project, else schema 2."""
    if is_single(project):
        segment = project.segments[0]
        extra: dict[str, Any] = dict(project.extra)
        extra.pop(PICK_KEY, None)
        if segment.pick is not None:
            extra[PICK_KEY] = stored_path(segment.pick, project_dir)
        return dumps_project(
            Storyboard(project.title, segment.shots, project.settings, segment.first_frame, extra), project_dir
        )
    return json.dumps(_schema2(project, project_dir), ensure_ascii=False, indent=2) + "\n"


def _schema2(project: SequenceProject, project_dir: str | None) -> dict[str, Any]:
    head = _as_json(Storyboard(title=project.title, settings=project.settings), project_dir)
    return {
        "schema": SEQUENCE_SCHEMA,
        "title": project.title,
        "settings": head["settings"],
        "segments": [_segment_json(project, i, project_dir) for i in range(len(project.segments))],
        **_unknown(project.extra, _TOP_KEYS),
    }


def _as_json(storyboard: Storyboard, project_dir: str | None) -> dict[str, Any]:
    # One writer for settings, frames and shots: the schema-1 writer's own output, taken apart.
    result: dict[str, Any] = json.loads(dumps_project(storyboard, project_dir))
    return result


def _segment_json(project: SequenceProject, index: int, project_dir: str | None) -> dict[str, Any]:
    segment = project.segments[index]
    board = _as_json(
        Storyboard(segment.title, segment.shots, project.settings_of(index), segment.first_frame), project_dir
    )
    out: dict[str, Any] = {"title": segment.title}
    if segment.settings is not None:
        out["settings"] = board["settings"]
    out["first_frame"] = dict(FROM_PREVIOUS) if segment.from_previous else board["first_frame"]
    out["shots"] = board["shots"]
    out["pick"] = stored_path(segment.pick, project_dir) if segment.pick is not None else None
    out.update(_unknown(segment.extra, _SEGMENT_KEYS))
    return out


def _unknown(extra: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if k not in known}


def sequence_to_snapshot(project: SequenceProject) -> dict[str, Any]:
    """A JSON-ready schema-2 object with absolute paths (for the sequence plan beside the store)."""
    return _schema2(project, None)


def sequence_from_snapshot(snapshot: Mapping[str, Any]) -> SequenceProject:
    return loads_sequence(json.dumps(snapshot, ensure_ascii=False), None)
