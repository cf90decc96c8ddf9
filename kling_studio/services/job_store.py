"""The durable job store: one sqlite3 table, written ahead of every network action.

WAL journal with ``synchronous=FULL``: a commit survives a killed process and a power cut, so a
job and its idempotency key are on disk before the submit request leaves. The schema version is
``PRAGMA user_version``; ``MIGRATIONS[n]`` takes a database from version n to n+1.

The API key never reaches the file: rows hold request bodies (with uploaded image URLs) and
backend base URLs, and every text written passes ``services.redact`` first, because a server may
echo the key into any answer. A write that would take a job along a transition the domain forbids
(``done → needs_attention``, say, from a second engine on the same folder) raises
``InvalidTransition`` and changes nothing: a terminal job changes state only through a user Retry,
which makes a new job. Call it from one thread (the event loop's); every write is a few
milliseconds at most. Only the process holding the engine lock (``services.engine_lock``) writes;
``read_only=True`` opens for reading without it (``kling-studio jobs``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import TERMINAL_STATES, JobState, check_transition
from kling_studio.services.redact import redact, redact_value

_V1 = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    project_path TEXT,
    backend TEXT NOT NULL,
    state TEXT NOT NULL,
    mode TEXT NOT NULL,
    duration INTEGER NOT NULL,
    resolution TEXT NOT NULL,
    request TEXT NOT NULL,
    storyboard TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    task_id TEXT,
    remote_status TEXT,
    progress INTEGER NOT NULL DEFAULT 0,
    estimated_time REAL,
    error_code TEXT,
    error_message TEXT,
    estimated_cost_usd REAL,
    actual_cost_usd REAL,
    result_urls TEXT NOT NULL DEFAULT '[]',
    expires_at REAL,
    video_path TEXT,
    sidecar_path TEXT,
    submit_attempts INTEGER NOT NULL DEFAULT 0,
    poll_count INTEGER NOT NULL DEFAULT 0,
    download_attempts INTEGER NOT NULL DEFAULT 0,
    submitted_at REAL,
    finished_at REAL,
    starred INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    transitions TEXT NOT NULL DEFAULT '[]',
    out_dir TEXT,
    final_status TEXT
);
CREATE INDEX jobs_state ON jobs(state);
CREATE INDEX jobs_project ON jobs(project_path);
CREATE INDEX jobs_created ON jobs(created_at);
"""

# Index n holds the script that upgrades a database from version n to n + 1.
MIGRATIONS: tuple[str, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)

_JSON_FIELDS = frozenset({"request", "storyboard", "result_urls", "transitions"})
_BOOL_FIELDS = frozenset({"starred", "rejected"})
_RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(JobRecord))
# Columns that belong to the engine, not to the record the UI sees.
_EXTRA_COLUMNS = ("out_dir", "final_status")


class JobStoreError(RuntimeError):
    """The store cannot be used (newer schema, unreadable file); ``str()`` says what to do."""


def _encode(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS:
        if name in ("result_urls", "transitions"):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        return json.dumps(redact_value(value), ensure_ascii=False, sort_keys=True)
    if name == "state":
        return str(JobState(value).value)
    if name in _BOOL_FIELDS:
        return 1 if value else 0
    if name == "error_code" and value is not None:
        return redact(str(value))
    return redact(value) if isinstance(value, str) else value


def _status_text(raw: dict[str, Any]) -> str:
    return json.dumps(redact_value(raw), ensure_ascii=False, sort_keys=True, default=str)


def _decode(row: sqlite3.Row) -> JobRecord:
    values: dict[str, Any] = {}
    for name in _RECORD_FIELDS:
        value = row[name]
        if name in _JSON_FIELDS:
            value = json.loads(value) if value else ([] if name in ("result_urls", "transitions") else {})
            if name == "result_urls":
                value = tuple(str(v) for v in value)
            elif name == "transitions":
                value = tuple((str(s), float(t)) for s, t in value)
        elif name == "state":
            value = JobState(value)
        elif name in _BOOL_FIELDS:
            value = bool(value)
        values[name] = value
    return JobRecord(**values)


class JobStore:
    """Jobs on disk. ``save`` commits before it returns; reads never see half a write."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            self._open_read_only()
            return
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise JobStoreError(f"The job store {self.path} cannot be opened ({exc}).") from None
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._durable = True
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _open_read_only(self) -> None:
        """Read while another process runs the engine: no lock, no migration, no write."""
        if not self.path.is_file():
            raise JobStoreError(f"There is no job store at {self.path} yet.")
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10.0)
            self._db.row_factory = sqlite3.Row
            version = self.schema_version
        except sqlite3.Error as exc:
            raise JobStoreError(f"The job store {self.path} cannot be read ({exc}).") from None
        if version != SCHEMA_VERSION:
            self._db.close()
            newer = "a newer Kling Studio" if version > SCHEMA_VERSION else "an older Kling Studio"
            raise JobStoreError(
                f"The job store {self.path} was written by {newer} (schema {version}; this version reads "
                f"{SCHEMA_VERSION}). Open Kling Studio once to bring it up to date, or update it."
            )

    # Schema

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise JobStoreError(
                f"The job store {self.path} was written by a newer Kling Studio (schema {version}; this "
                f"version knows up to {SCHEMA_VERSION}). Update Kling Studio to see those jobs."
            )
        while version < SCHEMA_VERSION:
            script = MIGRATIONS[version]
            version += 1
            # executescript commits first; the version bump rides in the same transaction as the DDL.
            self._db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={version};\nCOMMIT;")

    # Writes

    def insert(self, record: JobRecord, *, out_dir: str | None = None) -> None:
        """Write a new job. Raises ``sqlite3.IntegrityError`` if the id or key already exists."""
        self._set_synchronous(True)
        names = [*_RECORD_FIELDS, "out_dir"]
        values = [_encode(n, getattr(record, n)) for n in _RECORD_FIELDS] + [out_dir]
        marks = ", ".join("?" for _ in names)
        with self._transaction():
            self._db.execute(f"INSERT INTO jobs ({', '.join(names)}) VALUES ({marks})", values)

    def save(self, record: JobRecord, *, durable: bool = True, final_status: dict[str, Any] | None = None) -> None:
        """Replace every record field of an existing job (engine-only columns are kept).

        ``durable=False`` (progress, poll counts) skips the fsync: the commit still survives a killed
        process, only a power cut may lose it. ``final_status`` is stored in the same transaction.
        """
        names = [n for n in _RECORD_FIELDS if n != "id"]
        values = [_encode(n, getattr(record, n)) for n in names]
        if final_status is not None:
            names.append("final_status")
            values.append(_status_text(final_status))
        assignments = ", ".join(f"{n} = ?" for n in names)
        self._set_synchronous(durable)
        with self._transaction():
            row = self._db.execute("SELECT state FROM jobs WHERE id = ?", (record.id,)).fetchone()
            if row is None:
                raise KeyError(record.id)
            # Checked against what is on disk, inside the write transaction: no caller (or second
            # process) can take a paid job back out of a terminal state.
            check_transition(JobState(row[0]), record.state)
            self._db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*values, record.id])

    def _set_synchronous(self, durable: bool) -> None:
        if durable != self._durable:
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._durable = durable

    def set_final_status(self, job_id: str, raw: dict[str, Any] | None) -> None:
        """Keep the service's last status answer (for the sidecar written after a restart)."""
        text = None if raw is None else _status_text(raw)
        self._set_synchronous(True)
        with self._transaction():
            self._db.execute("UPDATE jobs SET final_status = ? WHERE id = ?", (text, job_id))

    def delete(self, job_id: str) -> None:
        self._set_synchronous(True)
        with self._transaction():
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    # Reads

    def get(self, job_id: str) -> JobRecord | None:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _decode(row)

    def all(self) -> list[JobRecord]:
        """Every job, oldest first."""
        return self._select("SELECT * FROM jobs ORDER BY created_at, rowid")

    def unfinished(self) -> list[JobRecord]:
        """Jobs that are not in a terminal state, oldest first (includes ``needs_attention``)."""
        marks = ", ".join("?" for _ in TERMINAL_STATES)
        return self._select(
            f"SELECT * FROM jobs WHERE state NOT IN ({marks}) ORDER BY created_at, rowid",
            [s.value for s in TERMINAL_STATES],
        )

    def out_dir(self, job_id: str) -> str | None:
        row = self._db.execute("SELECT out_dir FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row[0]

    def final_status(self, job_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT final_status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or not row[0]:
            return None
        value = json.loads(row[0])
        return value if isinstance(value, dict) else None

    def integrity_check(self) -> str:
        """``"ok"`` when sqlite finds nothing wrong."""
        rows = self._db.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def close(self) -> None:
        self._db.close()

    # Helpers

    def _select(self, sql: str, params: Sequence[Any] | Iterable[Any] = ()) -> list[JobRecord]:
        return [_decode(row) for row in self._db.execute(sql, list(params)).fetchall()]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error (autocommit connection)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
