"""The engine's shared state: job records, the store, event fan-out, slots and API clients.

Every change to a job goes through ``EngineCore.update``: it checks the transition, stamps it,
applies it to the in-memory record at once, hands the changed columns to the store's writer
thread (``services.store_writer``), and publishes the event once that write has committed — so
what a listener sees is always already on disk, and the loop never waits on sqlite or fsync.
Steps that are about to act on the network first ``await core.committed(job_id)`` (write-ahead).
Without a running writer (an engine not started) writes are done in place, as before.
Slots are derived from states: a job holds one while it is ``submitting``, ``submitted`` or
``processing``, and leaving those states frees it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import httpx

from kling_studio.domain.diagnostics import Diagnostic
from kling_studio.domain.job_record import (
    EVENT_FINISHED,
    EVENT_PROGRESS,
    EVENT_STATE,
    EVENT_UPDATED,
    JobEvent,
    JobRecord,
)
from kling_studio.domain.jobs import InvalidTransition, JobState, check_transition
from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_guards import is_loopback
from kling_studio.services.engine_api import JobListener
from kling_studio.services.job_records import JobRecords
from kling_studio.services.job_store import JobStore, encode_changes, encode_record
from kling_studio.services.local_backend import LOCAL, LocalBackend
from kling_studio.services.redact import redact_value
from kling_studio.services.store_writer import StoreWriter

log = logging.getLogger("kling_studio.jobs")

ClientFactory = Callable[[str, str | None], KlingClient]


_RESTORABLE = frozenset({"progress", "poll_count", "remote_status", "estimated_time", "download_attempts"})

# The local server wants some bearer token; this one is not a secret and never leaves the machine.
LOCAL_TOKEN = "local-preview"


def is_loopback_url(url: str) -> bool:
    try:
        return is_loopback(httpx.URL(url).host)
    except (httpx.InvalidURL, TypeError):
        return False


class StoryboardRefused(ValueError):
    """The compiler found errors; ``errors`` holds its diagnostics, ``str()`` their messages."""

    def __init__(self, errors: Iterable[Diagnostic]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(f"{d.code}: {d.message}" for d in self.errors))


# error_code of a needs-attention job that was checked again and waits for a slot to be re-sent.
WAITING_FOR_SLOT = "waiting_for_slot"


def settled(job: JobRecord) -> bool:
    """Nothing more will happen to this job without a person: terminal or needs attention."""
    if job.state == JobState.NEEDS_ATTENTION:
        return job.error_code != WAITING_FOR_SLOT
    return job.is_terminal


def default_client_factory(base_url: str, api_key: str | None) -> KlingClient:
    return KlingClient(api_key, base_url)


class EngineCore:
    def __init__(
        self,
        store: JobStore,
        *,
        clock: Callable[[], float],
        client_factory: ClientFactory,
        local_backend: Callable[[], LocalBackend],
        api_key: str | None,
        on_slot_free: Callable[[], None],
    ) -> None:
        self.store = store
        self.clock = clock
        self.records: dict[str, JobRecord] = {}
        self.slot_holders: set[str] = set()
        self._listeners: list[JobListener] = []
        self._client_factory = client_factory
        self._local_backend = local_backend
        self._api_key = api_key
        self._clients: dict[str, KlingClient] = {}
        self._client_lock = asyncio.Lock()
        self.executor: Executor | None = None  # the engine's thread pool, set on start
        self._on_slot_free = on_slot_free
        self.writer = StoreWriter(store)
        self._pending: dict[str, asyncio.Future[Any]] = {}  # each job's last queued write
        self._failed: dict[str, BaseException] = {}  # a write that did not reach the disk
        self.out_dirs: dict[str, str] = {}
        self._adopting: set[asyncio.Task[None]] = set()

    # Records and events

    def load(self) -> None:
        # Only jobs that can still change; a finished one is read from the store when looked up
        # (``services.job_records``): 10,000 jobs of history cost neither start-up nor memory.
        records = JobRecords(self.store)
        records.update((r.id, r) for r in self.store.unfinished())
        self.records = records
        self.out_dirs = self.store.out_dirs()

    def subscribe(self, listener: JobListener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, kind: str, job: JobRecord, previous: JobState | None = None) -> None:
        event = JobEvent(kind, job, previous)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # one broken listener must not stop a job or the others
                log.exception("a job listener failed on %s for job %s", kind, job.id)

    async def add(self, record: JobRecord, *, out_dir: str | None = None) -> None:
        """Write a new job durably (its idempotency key with it), then keep it in memory."""
        columns = encode_record(record)
        if self.writer.running:
            await self.writer.submit(lambda store: store.insert_in_batch(columns, out_dir), durable=True)
        else:
            self.store.insert(record, out_dir=out_dir)
        self.records[record.id] = record
        if out_dir:
            self.out_dirs[record.id] = out_dir

    async def delete(self, job_id: str) -> None:
        if self.writer.running:
            await self.writer.submit(lambda store: store.delete_in_batch(job_id), durable=True)
        else:
            self.store.delete(job_id)
        self._pending.pop(job_id, None)
        self._failed.pop(job_id, None)
        self.out_dirs.pop(job_id, None)

    async def committed(self, job_id: str | None = None) -> None:
        """Wait until the job's writes so far (``None``: everyone's) are on disk.

        Raises what the last write raised (a forbidden transition on disk, a full disk): a step
        must not act on the network for a state that did not reach the store.
        """
        if job_id is None:
            await self.writer.flush()
            return
        pending = self._pending.get(job_id)
        if pending is not None:
            await asyncio.wait([pending])
        failed = self._failed.pop(job_id, None)
        if failed is not None:
            raise failed

    async def read(self, op: Callable[[JobStore], Any]) -> Any:
        """A store read ordered after every queued write (in place when the writer is not running)."""
        if self.writer.running:
            return await self.writer.submit(op, durable=False)
        return op(self.store)

    def update(
        self,
        job_id: str,
        *,
        state: JobState | None = None,
        kind: str | None = None,
        final_status: dict[str, Any] | None = None,
        **changes: Any,
    ) -> JobRecord:
        """Apply changes, queue their commit, publish once committed. Raises InvalidTransition for a
        forbidden state (checked here, and again against the disk inside the write)."""
        old = self.records[job_id]
        now = self.clock()
        if state is not None and state != old.state:
            check_transition(old.state, state)
            changes["state"] = state
            changes["transitions"] = (*old.transitions, (state.value, now))
        # What a server sent (error text, status, task id, links) may echo the key: scrub it before
        # it reaches the store, an event, the queue's text or an error dialog.
        changes = {k: v if k in ("state", "transitions") else redact_value(v) for k, v in changes.items()}
        new = replace(old, updated_at=now, **changes)
        # Only bookkeeping that the next status read restores may skip the fsync.
        durable = final_status is not None or not set(changes) <= _RESTORABLE
        self.records[job_id] = new
        if new.state != old.state and job_id in self.slot_holders and not new.state.is_active:
            self.slot_holders.discard(job_id)
            self._on_slot_free()
        if not self.writer.running:
            self.store.save(new, durable=durable, final_status=final_status)
            self._announce(old, new, kind)
            return new
        # Only the changed columns are encoded (never the request and storyboard again).
        columns = encode_changes({**changes, "updated_at": now}, final_status)
        expect = old.state.value  # the disk must still hold the state this change starts from
        future = self.writer.submit(
            lambda store: store.update_in_batch(job_id, columns, expect=expect), durable=durable
        )
        self._pending[job_id] = future
        future.add_done_callback(lambda done: self._written(done, old, new, kind))
        return new

    def _written(self, done: asyncio.Future[Any], old: JobRecord, new: JobRecord, kind: str | None) -> None:
        job_id = new.id
        if self._pending.get(job_id) is done:
            del self._pending[job_id]
        if done.cancelled():
            return
        error = done.exception()
        if error is None:
            self._announce(old, new, kind)
            return
        if isinstance(error, KeyError):
            return  # removed meanwhile
        log.error("job %s: a change could not be stored (%s)", job_id, error)
        self._failed[job_id] = error
        if isinstance(error, InvalidTransition):
            # The disk knows better (a second writer moved the job on): adopt what is stored.
            task = asyncio.ensure_future(self._adopt(job_id, new.state))
            self._adopting.add(task)
            task.add_done_callback(self._adopting.discard)
            return
        self._announce(old, new, kind)  # still what the engine does; the log says it is not on disk

    async def _adopt(self, job_id: str, believed: JobState) -> None:
        disk: JobRecord | None = await self.read(lambda store: store.get(job_id))
        if disk is not None and job_id in self.records:
            self.records[job_id] = disk
            self.publish(EVENT_STATE, disk, believed)

    def _announce(self, old: JobRecord, new: JobRecord, kind: str | None) -> None:
        if new.state != old.state:
            self.publish(EVENT_STATE, new, old.state)
            if new.state.is_terminal:
                self.publish(EVENT_FINISHED, new, old.state)
        elif kind is not None:
            self.publish(kind, new, None)
        elif new.progress != old.progress:
            self.publish(EVENT_PROGRESS, new, None)
        else:
            self.publish(EVENT_UPDATED, new, None)

    # Clients

    async def client_for(self, backend: str) -> KlingClient:
        """The client for a job's recorded backend: ``"local"`` (the running local server) or a URL."""
        if backend == LOCAL:
            url = await self._local_backend().ensure_started()
            key: str | None = LOCAL_TOKEN
        else:
            url, key = backend, self._api_key
            if key is None and is_loopback_url(url):
                key = LOCAL_TOKEN
        client = self._clients.get(url)
        if client is None:
            async with self._client_lock:
                client = self._clients.get(url)
                if client is None:
                    # Building an HTTPS client loads the CA bundle (~20–30 ms): not on the loop.
                    client = await run_blocking(self.executor, self._client_factory, url, key)
                    self._clients[url] = client
        return client

    def current_local_url(self) -> str | None:
        return self._local_backend().base_url

    async def close_clients(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.aclose()
            except Exception:
                log.exception("closing an API client failed")


def run_blocking(executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run blocking work (Pillow, fsync, hashing) off the event loop."""
    return asyncio.get_running_loop().run_in_executor(executor, func, *args)
