"""When to ask the service about a task again, and a shared cap on how often anyone asks.

The schedule is a pure function of what we know (polls so far, elapsed time, the service's
``estimated_time``, progress, a ``Retry-After``), so it is tested without waiting. The limiter
is a GCRA token bucket shared by every job: fair (first come, first served), O(1), no task.
The engine waits in ``PollScheduler``: one heap and one timer for every job's next read, with
the same GCRA cap applied as jobs are released.
"""

from __future__ import annotations

import asyncio
import heapq
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

SleepFn = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class PollPolicy:
    """Polling and patience settings. Tests shrink the seconds; the shape stays the same."""

    first_delay: float = 3.0  # first check after a few seconds
    growth: float = 1.5  # each quiet check waits this much longer than the last
    max_interval: float = 15.0
    near_interval: float = 3.0  # close to estimated_time, or past 90 %
    near_window: float = 10.0  # seconds either side of estimated_time counted as "near"
    min_interval: float = 0.05
    jitter: float = 0.15  # ± fraction, so hundreds of jobs do not ask in lockstep
    status_rate: float = 5.0  # status requests per second, all jobs together
    status_burst: float = 5.0
    # No deadline fails a job; after this long without one good answer it needs attention.
    silence_limit: float = 30 * 60.0
    download_retry: float = 30.0  # a failed download (disk full, link trouble) is tried again after this
    download_retry_max: float = 300.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def scaled(self, factor: float) -> PollPolicy:
        """The same policy with every duration multiplied by ``factor`` (for quick runs)."""
        return PollPolicy(
            first_delay=self.first_delay * factor,
            growth=self.growth,
            max_interval=self.max_interval * factor,
            near_interval=self.near_interval * factor,
            near_window=self.near_window * factor,
            min_interval=self.min_interval * factor,
            jitter=self.jitter,
            status_rate=self.status_rate,
            status_burst=self.status_burst,
            silence_limit=self.silence_limit,
            download_retry=self.download_retry * factor,
            download_retry_max=self.download_retry_max * factor,
            rng=self.rng,
        )


def next_poll_delay(
    policy: PollPolicy,
    *,
    polls: int,
    elapsed: float,
    estimated_time: float | None,
    progress: int,
    retry_after: float | None = None,
    jitter: bool = True,
) -> float:
    """Seconds until the next status read of one task.

    ``polls`` counts the reads done so far, ``elapsed`` the seconds since submit.
    """
    try:
        grown = policy.first_delay * policy.growth ** max(0, polls)
    except OverflowError:  # with no deadline a long task is polled thousands of times
        grown = policy.max_interval
    delay = policy.first_delay if polls <= 0 else min(policy.max_interval, grown)
    near = progress >= 90
    if estimated_time is not None and estimated_time > 0:
        remaining = estimated_time - elapsed
        if abs(remaining) <= policy.near_window:
            near = True
        elif remaining > 0:
            # Do not sleep far past the moment the service expects to be done.
            delay = min(delay, max(remaining, policy.near_interval))
    if near:
        delay = min(delay, policy.near_interval)
    if jitter and policy.jitter > 0:
        delay *= 1.0 + policy.rng.uniform(-policy.jitter, policy.jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(policy.min_interval, delay)


class RateLimiter:
    """At most ``rate`` acquisitions a second on average, bursts of ``burst``, in arrival order."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] | None = None,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._tolerance = max(0.0, burst - 1.0) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._tat = float("-inf")  # GCRA: theoretical arrival time of the next request
        self.acquired = 0

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def reserve(self) -> float:
        """Take the next free turn; returns the seconds to wait for it."""
        now = self._now()
        tat = max(self._tat, now)
        self._tat = tat + self._interval
        self.acquired += 1
        return max(0.0, tat - self._tolerance - now)

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await self._sleep(wait)


class PollScheduler:
    """Every job's next status read in one heap, released in due order under the shared rate cap.

    One timer for the whole engine (not one sleeping timer per job): a job awaits ``turn(delay)``
    and is woken when its time has come *and* the cap allows one more read (GCRA, like
    ``RateLimiter``, bursts of ``burst``). A cancelled wait is dropped from the heap lazily,
    without using a turn. Uses the running loop's clock.
    """

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._tolerance = max(0.0, burst - 1.0) * self._interval
        self._tat = float("-inf")
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self.acquired = 0

    def __len__(self) -> int:
        return len(self._heap)

    async def turn(self, delay: float = 0.0) -> None:
        """Wait ``delay`` seconds, then for a free turn under the cap."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._seq += 1
        heapq.heappush(self._heap, (loop.time() + max(0.0, delay), self._seq, future))
        self._arm(loop)
        await future

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for _, _, future in self._heap:
            future.cancel()
        self._heap.clear()

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._heap and self._heap[0][2].done():
            heapq.heappop(self._heap)  # cancelled waits
        if not self._heap:
            return
        at = max(self._heap[0][0], self._tat - self._tolerance)
        if self._timer is not None:
            if self._timer_at <= at:
                return  # the armed timer fires first and re-arms
            self._timer.cancel()
        self._timer_at = at
        self._timer = loop.call_at(at, self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        self._timer_at = float("inf")
        now = loop.time()
        heap = self._heap
        while heap and heap[0][0] <= now and self._tat - self._tolerance <= now:
            _, _, future = heapq.heappop(heap)
            if future.done():
                continue
            self._tat = max(self._tat, now) + self._interval
            self.acquired += 1
            future.set_result(None)
        self._arm(loop)
