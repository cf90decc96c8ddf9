"""The durable job store: one sqlite3 table, written ahead of every network action.

WAL journal with ``synchronous=FULL``: a commit survives a killed process and a power cut, so a
job and its idempotency key are on disk before the submit request leaves. The schema version is
``PRAGMA user_version``; ``MIGRATIONS[n]`` takes a database from version n to n+1.

The API key never reaches the file: rows hold request bodies (with uploaded image URLs) and
backend base URLs, and every text written passes ``services.redact`` first, because a server may
echo the key into any answer. A write that would take a job along a transition the domain forbids
(``done → needs_attention``, say, from a second engine on the same folder) raises
``InvalidTransition`` and changes nothing: a terminal job changes state only through a user Retry,
which makes a new job. Only the process holding the engine lock (``services.engine_lock``) writes;
``read_only=True`` opens for reading without it (``kling-studio jobs``).

The engine writes through ``services.store_writer`` (one thread, batched transactions, so the
event loop never waits on fsync): ``run_batch`` runs many small operations in one transaction,
each in its own savepoint, with one fsync for all. Every method holds the store's lock, so the
connection may be shared by that thread and the caller's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from kling_studio.domain.job_record import JobRecord
from kling_studio.domain.jobs import TERMINAL_STATES, InvalidTransition, JobState, check_transition
from kling_studio.domain.project_file import SEQUENCE_JOB_KEY
from kling_studio.services.job_summary import SUMMARY_REQUEST
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


# What ``summaries`` reads, and what it leaves at a marker value.
_SUMMARY_SKIPPED = frozenset({"idempotency_key", "request", "storyboard", "result_urls", "transitions", "sidecar_path"})
_SUMMARY_FIELDS: tuple[str, ...] = tuple(n for n in _RECORD_FIELDS if n not in _SUMMARY_SKIPPED)
_SUMMARY_DEFAULTS: dict[str, Any] = {
    "idempotency_key": "",
    "request": SUMMARY_REQUEST,
    "storyboard": {},
    "result_urls": (),
    "transitions": (),
    "sidecar_path": None,
}


# One operation of a batch: runs inside the batch's transaction, on the writer's thread.
StoreOp = Callable[["JobStore"], Any]


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
        self._lock = threading.RLock()
        self._in_batch = False
        if read_only:
            self._open_read_only()
            return
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Shared by the writer thread and the caller's; ``self._lock`` serialises every use.
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=10.0, check_same_thread=False)
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
        self.run_batch([lambda store: store.insert_in_batch(encode_record(record), out_dir)], durable=True)[0].check()

    def save(self, record: JobRecord, *, durable: bool = True, final_status: dict[str, Any] | None = None) -> None:
        """Replace every record field of an existing job (engine-only columns are kept).

        ``durable=False`` (progress, poll counts) skips the fsync: the commit still survives a killed
        process, only a power cut may lose it. ``final_status`` is stored in the same transaction.
        """
        columns = {n: _encode(n, getattr(record, n)) for n in _RECORD_FIELDS if n != "id"}
        if final_status is not None:
            columns["final_status"] = _status_text(final_status)
        self.run_batch([lambda store: store.update_in_batch(record.id, columns)], durable=durable)[0].check()

    def set_final_status(self, job_id: str, raw: dict[str, Any] | None) -> None:
        """Keep the service's last status answer (for the sidecar written after a restart)."""
        text = None if raw is None else _status_text(raw)
        self.run_batch([lambda store: store.update_in_batch(job_id, {"final_status": text})], durable=True)[0].check()

    def delete(self, job_id: str) -> None:
        self.run_batch([lambda store: store.delete_in_batch(job_id)], durable=True)[0].check()

    def run_batch(self, ops: Sequence[StoreOp], *, durable: bool) -> list[Outcome]:
        """Run ``ops`` in one transaction, each in its own savepoint; one commit (and fsync) for all.

        An operation that raises (``InvalidTransition``, ``KeyError``, a constraint) is rolled back
        alone and its exception returned in its ``Outcome``; a failed commit fails every one.
        ``durable=False`` commits with ``synchronous=NORMAL``: safe from a killed process, not
        from a power cut.
        """
        with self._lock:
            self._set_synchronous(durable)
            outcomes: list[Outcome] = []
            self._db.execute("BEGIN IMMEDIATE")
            self._in_batch = True
            try:
                for op in ops:
                    self._db.execute("SAVEPOINT op")
                    try:
                        outcomes.append(Outcome(op(self)))
                    except Exception as exc:  # handed back to the op's caller
                        self._db.execute("ROLLBACK TO op")
                        outcomes.append(Outcome(error=exc))
                    self._db.execute("RELEASE op")
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if not isinstance(exc, Exception):
                    raise
                return [Outcome(error=exc) for _ in ops]
            finally:
                self._in_batch = False
            return outcomes

    # Operations for ``run_batch`` (values already encoded by ``encode_record``/``encode_changes``)

    def insert_in_batch(self, columns: Mapping[str, Any], out_dir: str | None) -> None:
        assert self._in_batch, "only inside run_batch"
        names = [*columns, "out_dir"]
        marks = ", ".join("?" for _ in names)
        self._db.execute(f"INSERT INTO jobs ({', '.join(names)}) VALUES ({marks})", [*columns.values(), out_dir])

    def update_in_batch(self, job_id: str, columns: Mapping[str, Any], *, expect: str | None = None) -> None:
        """Set some columns of a job; a new ``state`` is checked against the one on disk.

        ``expect``: the state the caller believes the job is in. When the disk holds another (a
        second writer moved it on), nothing is written and ``InvalidTransition`` says so.
        """
        assert self._in_batch, "only inside run_batch"
        row = self._db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        if expect is not None and row[0] != expect:
            raise InvalidTransition(JobState(row[0]), JobState(columns.get("state", expect)))
        if "state" in columns:
            # Checked against what is on disk, inside the write transaction: no caller (or second
            # process) can take a paid job back out of a terminal state.
            check_transition(JobState(row[0]), JobState(columns["state"]))
        if columns:
            assignments = ", ".join(f"{n} = ?" for n in columns)
            self._db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*columns.values(), job_id])

    def delete_in_batch(self, job_id: str) -> None:
        assert self._in_batch, "only inside run_batch"
        self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def _set_synchronous(self, durable: bool) -> None:
        if durable != self._durable:
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._durable = durable

    # Reads

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
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

    def summaries(self) -> list[JobRecord]:
        """Every job as a light record for lists, oldest first (``services.job_summary``).

        Only what a job table shows is read: no request, no transitions, and of the storyboard
        snapshot only the sequence tag (``{SEQUENCE_JOB_KEY: tag}`` or ``{}``). A history
        of 10,000 jobs loads in a few tens of milliseconds and a fraction of the memory; the full
        record comes from ``get`` when someone acts on one job.
        """
        names = ", ".join(_SUMMARY_FIELDS)
        sql = f"SELECT {names}, json_extract(storyboard, '$.{SEQUENCE_JOB_KEY}') FROM jobs ORDER BY created_at, rowid"
        with self._lock:
            cursor = self._db.cursor()
            cursor.row_factory = None  # plain tuples: a ``sqlite3.Row`` a row costs more than the row
            rows = cursor.execute(sql).fetchall()
        columns = (*_SUMMARY_FIELDS, "_tag")
        states = {s.value: s for s in JobState}
        out: list[JobRecord] = []
        new, setattr_ = object.__new__, object.__setattr__
        for row in rows:
            values = dict(zip(columns, row, strict=True))
            tag = values.pop("_tag")
            values.update(_SUMMARY_DEFAULTS)
            values["state"] = states[values["state"]]
            values["starred"] = bool(values["starred"])
            values["rejected"] = bool(values["rejected"])
            if tag:
                values["storyboard"] = {SEQUENCE_JOB_KEY: json.loads(tag)}
            # The record is frozen and its fields were checked on the way in: handing it its dict
            # skips thirty ``object.__setattr__`` calls a row.
            record = new(JobRecord)
            setattr_(record, "__dict__", values)
            out.append(record)
        return out

    def out_dir(self, job_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT out_dir FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row[0]

    def out_dirs(self) -> dict[str, str]:
        """Every job written with its own output folder (the CLI's ``--out``): id → folder."""
        with self._lock:
            rows = self._db.execute("SELECT id, out_dir FROM jobs WHERE out_dir IS NOT NULL").fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def final_status(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT final_status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or not row[0]:
            return None
        value = json.loads(row[0])
        return value if isinstance(value, dict) else None

    def integrity_check(self) -> str:
        """``"ok"`` when sqlite finds nothing wrong."""
        with self._lock:
            rows = self._db.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Helpers

    def _select(self, sql: str, params: Sequence[Any] | Iterable[Any] = ()) -> list[JobRecord]:
        with self._lock:
            rows = self._db.execute(sql, list(params)).fetchall()
        return [_decode(row) for row in rows]


class Outcome:
    """What one operation of a batch returned, or the exception it raised."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, *, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error

    def check(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def encode_record(record: JobRecord) -> dict[str, Any]:
    """Every column of a new job, as stored (JSON text, redacted strings)."""
    return {n: _encode(n, getattr(record, n)) for n in _RECORD_FIELDS}


def encode_changes(changes: Mapping[str, Any], final_status: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns of some changed record fields (and the final status answer), as stored."""
    columns = {n: _encode(n, v) for n, v in changes.items() if n != "id"}
    if final_status is not None:
        columns["final_status"] = _status_text(final_status)
    return columns
