"""One thread that writes the job store, so the event loop never waits on sqlite or fsync.

Operations are queued from the loop and run in order; whatever piles up while one transaction
commits goes into the next (group commit: one fsync for many jobs). A batch is durable
(``synchronous=FULL``) when any operation in it asks to be. Each operation's future is resolved
on the loop after its transaction committed, so ``await writer.submit(...)`` means "on disk".
Reads queued here run after every write queued before them (read-your-writes). Results are
handed back a few at a time per loop turn, in queue order: a batch of hundreds of commits must
not wake hundreds of jobs (and their listeners) in one turn of the loop.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import queue
import threading
from typing import Any

from kling_studio.services.job_store import JobStore, Outcome, StoreOp

log = logging.getLogger("kling_studio.jobs")

# Enough for hundreds of jobs' bookkeeping in one transaction, small enough to commit in a blink.
MAX_BATCH = 512
# Futures settled per turn of the event loop (each wakes a job or publishes an event).
RESOLVE_PER_TURN = 8


class _Item:
    __slots__ = ("durable", "future", "op")

    def __init__(self, op: StoreOp, durable: bool, future: asyncio.Future[Any]) -> None:
        self.op = op
        self.durable = durable
        self.future = future


class StoreWriter:
    """Owns the store's writes while the engine runs; ``close`` drains the queue first."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last: asyncio.Future[Any] | None = None
        self._done: collections.deque[tuple[_Item, Outcome]] = collections.deque()  # loop side only
        self._resolving = False
        self.batches = 0  # transactions committed (for tests and benchmarks)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="kling-store-writer", daemon=True)
        self._thread.start()

    def submit(self, op: StoreOp, *, durable: bool) -> asyncio.Future[Any]:
        """Queue ``op(store)``; the future holds its result once its transaction committed."""
        assert self._loop is not None and self._thread is not None, "the writer is not running"
        future: asyncio.Future[Any] = self._loop.create_future()
        self._queue.put(_Item(op, durable, future))
        self._last = future
        return future

    async def flush(self) -> None:
        """Wait until everything queued so far is committed (errors are the callers' business)."""
        last = self._last
        if last is not None and not last.done():
            await asyncio.wait([last])

    async def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        await asyncio.to_thread(thread.join)
        self._thread = None

    # The writer thread

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            items = [first]
            while len(items) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                items.append(item)
            try:
                outcomes = self.store.run_batch([i.op for i in items], durable=any(i.durable for i in items))
            except BaseException as exc:  # a closed store, say: every waiter hears it
                outcomes = [Outcome(error=exc) for _ in items]
            self.batches += 1
            self._deliver(items, outcomes)

    def _deliver(self, items: list[_Item], outcomes: list[Outcome]) -> None:
        loop = self._loop
        assert loop is not None
        try:
            loop.call_soon_threadsafe(self._arrived, list(zip(items, outcomes, strict=True)))
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            log.debug("store writer: the loop closed before %d results were delivered", len(items))

    # On the loop

    def _arrived(self, results: list[tuple[_Item, Outcome]]) -> None:
        self._done.extend(results)
        if not self._resolving:
            self._resolving = True
            self._resolve()

    def _resolve(self) -> None:
        """Settle the oldest few futures, in queue order; the rest on the next turns."""
        for _ in range(min(RESOLVE_PER_TURN, len(self._done))):
            item, outcome = self._done.popleft()
            if item.future.done():
                continue
            if outcome.error is not None:
                item.future.set_exception(outcome.error)
            else:
                item.future.set_result(outcome.value)
        if self._done:
            assert self._loop is not None
            self._loop.call_soon(self._resolve)
        else:
            self._resolving = False
