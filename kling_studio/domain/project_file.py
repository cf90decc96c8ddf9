"""The ``*.kling.json`` project file: schema, parsing, migration and stable output.

Pure functions over text; ``services.project_io`` does the file I/O (atomic saves).
Unknown keys are kept in each object's ``extra`` and written back after the known keys.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable
from typing import Any

from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard

SCHEMA_VERSION = 1
SEQUENCE_SCHEMA = 2  # a project of several segments (``domain.sequence_file``)
SEQUENCE_JOB_KEY = "sequence"  # a job snapshot's plan/segment/take tag (``services.sequence_runner``)
PROJECT_SUFFIX = ".kling.json"
# Far deeper than any project (4 levels plus unknown keys), far shallower than the parser's stack.
MAX_NESTING = 64
# A shot's seconds beyond this are not a storyboard but an attack on the arithmetic (a price of
# 10**30 seconds overflows Decimal); anything up to it loads and the compiler names the rule.
MAX_SHOT_SECONDS = 86_400

# Migrations from schema N to N+1 operate on the raw JSON object.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class ProjectFileError(ValueError):
    """A project file that cannot be read. ``kind``: syntax, schema, newer_schema."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
        self.field = field


def _schema_error(field: str, expected: str, value: object) -> ProjectFileError:
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ProjectFileError("schema", f"{field}: expected {expected}, got {shown}", field=field)


def _require(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], expected: str, path: str) -> Any:
    if key not in obj:
        raise ProjectFileError("schema", f"{path}{key}: missing (expected {expected})", field=f"{path}{key}")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise _schema_error(f"{path}{key}", expected, value)
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _extra(obj: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in known}


_TOP_KEYS = ("schema", "title", "settings", "first_frame", "shots")
_SETTINGS_KEYS = ("model", "resolution", "aspect_ratio", "watermark")
_SHOT_KEYS = ("text", "duration")


def _refuse_constant(name: str) -> Any:
    # json.loads takes NaN and Infinity by default; they are not JSON and could not be saved back.
    raise ProjectFileError("syntax", f"not valid JSON: {name} is not a JSON number")


def parse_json_text(text: str) -> Any:
    """``json.loads`` that fails only with ProjectFileError: deep nesting, huge integers,
    NaN/Infinity and lone surrogates all become a "syntax" error naming what was wrong."""
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        raise ProjectFileError(
            "syntax", f"not valid project JSON: nested {depth} levels deep; at most {MAX_NESTING} are allowed"
        )
    try:
        raw = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(
            "syntax",
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except ProjectFileError:
        raise
    except ValueError as exc:  # integers longer than Python's int conversion limit (4300 digits)
        raise ProjectFileError("syntax", f"not valid project JSON: {str(exc).split(';')[0]}") from None
    except RecursionError:  # belt and braces: the depth scan above should have caught it
        raise ProjectFileError("syntax", "not valid project JSON: nested too deeply") from None
    where = find_lone_surrogate(raw)
    if where is not None:
        raise ProjectFileError(
            "syntax",
            f"{where}: contains a lone surrogate (an escape such as \\ud800 that is not a character); "
            "remove it or write the character itself",
            field=where,
        )
    return raw


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, found without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def find_lone_surrogate(raw: Any) -> str | None:
    """The path of the first string (key or value) holding a lone surrogate, else None."""
    stack: list[tuple[str, Any]] = [("(top level)", raw)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                if _has_surrogate(key):
                    return f"a key in {path}"  # the key itself must not reach the message
                child = key if path == "(top level)" else f"{path}.{key}"
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return None


def loads_project(text: str, project_dir: str | None = None) -> Storyboard:
    """Parse project-file text. Relative first-frame paths are resolved against ``project_dir``."""
    raw = parse_json_text(text)
    if not isinstance(raw, dict):
        raise _schema_error("(top level)", "an object", raw)
    schema = _require(raw, "schema", int, "an integer", "")
    if schema == SEQUENCE_SCHEMA:  # several segments: read by ``domain.sequence_file``, not here
        raise ProjectFileError(
            "sequence",
            "a sequence of several segments (schema 2); this reader takes one storyboard. "
            "Use `kling-studio compile|submit|pick|assemble` on it.",
            field="schema",
        )
    if schema > SEQUENCE_SCHEMA:
        raise ProjectFileError(
            "newer_schema",
            f"made by a newer version of Kling Studio (schema {schema}; this version reads up to "
            f"schema {SEQUENCE_SCHEMA}). Update Kling Studio to open it.",
            field="schema",
        )
    if schema < 1:
        raise _schema_error("schema", f"an integer from 1 to {SCHEMA_VERSION}", schema)
    while schema < SCHEMA_VERSION:
        raw = MIGRATIONS[schema](raw)
        schema += 1

    title = _require(raw, "title", str, "a string", "")
    settings_raw = _require(raw, "settings", dict, "an object", "")
    settings = GenerationSettings(
        model=_require(settings_raw, "model", str, "a string", "settings."),
        resolution=_require(settings_raw, "resolution", str, "a string", "settings."),
        aspect_ratio=_require(settings_raw, "aspect_ratio", str, "a string", "settings."),
        watermark=_watermark(settings_raw),
        extra=_extra(settings_raw, _SETTINGS_KEYS),
    )
    first_frame = _first_frame(raw.get("first_frame"), project_dir)
    shots_raw = _require(raw, "shots", list, "a list", "")
    shots: list[Shot] = []
    for i, item in enumerate(shots_raw):
        path = f"shots[{i}]."
        if not isinstance(item, dict):
            raise _schema_error(f"shots[{i}]", "an object", item)
        # Any sane number loads; the compiler flags one that is not a whole number ≥ 1
        # (shot_duration_invalid), so the user sees the rule instead of an unreadable file.
        duration = _require(item, "duration", (int, float), "a number of seconds", path)
        if not -MAX_SHOT_SECONDS <= duration <= MAX_SHOT_SECONDS:
            raise _schema_error(f"{path}duration", f"a number of seconds up to {MAX_SHOT_SECONDS}", duration)
        shots.append(
            Shot(text=_require(item, "text", str, "a string", path), duration=duration, extra=_extra(item, _SHOT_KEYS))
        )
    return Storyboard(
        title=title,
        shots=tuple(shots),
        settings=settings,
        first_frame=first_frame,
        extra=_extra(raw, _TOP_KEYS),
    )


def _watermark(settings_raw: dict[str, Any]) -> bool | None:
    value = settings_raw.get("watermark")
    if value is None or isinstance(value, bool):
        return value
    raise _schema_error("settings.watermark", "true, false or null", value)


def _first_frame(value: object, project_dir: str | None) -> FirstFrame | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len({"path", "url"} & value.keys()) != 1:
        raise _schema_error("first_frame", 'null, {"path": …} or {"url": …}', value)
    if "url" in value:
        url = value["url"]
        if not isinstance(url, str):
            raise _schema_error("first_frame.url", "a string", url)
        return FirstFrame(url=url)
    path = value["path"]
    if not isinstance(path, str) or not path:
        raise _schema_error("first_frame.path", "a non-empty string", path)
    if "\0" in path:  # no file system takes it; os.stat would raise ValueError
        raise _schema_error("first_frame.path", "a file path without NUL characters", path)
    return FirstFrame(path=resolve_path(path, project_dir))


def resolve_path(path: str, project_dir: str | None) -> str:
    """A stored path made absolute against the project folder (string work only, no I/O)."""
    if os.path.isabs(path) or project_dir is None:
        return os.path.normpath(path)
    return os.path.normpath(os.path.join(project_dir, path))


def relative_path(path: str, project_dir: str | None) -> str:
    """How a path is written in the file: relative to the project folder, with ``/``."""
    if project_dir is None or not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path, project_dir)
    except ValueError:  # another drive on Windows
        return path
    return rel.replace(os.sep, posixpath.sep)


def dumps_project(storyboard: Storyboard, project_dir: str | None = None) -> str:
    """Stable, pretty JSON (2 spaces, fixed key order, trailing newline)."""
    settings = storyboard.settings
    first_frame: dict[str, str] | None = None
    if storyboard.first_frame is not None:
        if storyboard.first_frame.path is not None:
            first_frame = {"path": relative_path(storyboard.first_frame.path, project_dir)}
        else:
            first_frame = {"url": str(storyboard.first_frame.url)}
    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "title": storyboard.title,
        "settings": {
            "model": settings.model,
            "resolution": settings.resolution,
            "aspect_ratio": settings.aspect_ratio,
            "watermark": settings.watermark,
            **_unknown(settings.extra, _SETTINGS_KEYS),
        },
        "first_frame": first_frame,
        "shots": [{"text": s.text, "duration": s.duration, **_unknown(s.extra, _SHOT_KEYS)} for s in storyboard.shots],
        **_unknown(storyboard.extra, _TOP_KEYS),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _unknown(extra: object, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(extra, dict):
        return {}
    return {k: v for k, v in extra.items() if k not in known}


def storyboard_to_snapshot(storyboard: Storyboard) -> dict[str, Any]:
    """A JSON-ready snapshot (absolute paths) for the job store and take sidecars."""
    result: dict[str, Any] = json.loads(dumps_project(storyboard, None))
    return result


def storyboard_from_snapshot(snapshot: dict[str, Any]) -> Storyboard:
    # A sequence job's tag says which plan, segment and take the job was; it is not part of the
    # storyboard, and carried into the editor it would follow a save or a new job.
    clean = {k: v for k, v in snapshot.items() if k != SEQUENCE_JOB_KEY}
    return loads_project(json.dumps(clean), None)
