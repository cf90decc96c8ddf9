"""Adaptive polling schedule and the shared status-request limiter (pure, no waiting)."""

from __future__ import annotations

import itertools
import random

from kling_studio.services.polling import PollPolicy, RateLimiter, next_poll_delay

POLICY = PollPolicy(rng=random.Random(1))


def _delay(**kw: object) -> float:
    args: dict[str, object] = {"polls": 0, "elapsed": 0.0, "estimated_time": None, "progress": 0}
    args.update(kw)
    return next_poll_delay(POLICY, jitter=False, **args)  # type: ignore[arg-type]


def test_first_check_after_a_few_seconds_then_growing_to_the_cap() -> None:
    delays = [_delay(polls=n, elapsed=100.0) for n in range(12)]
    assert 1.0 <= delays[0] <= 5.0
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert delays[-1] == POLICY.max_interval


def test_faster_near_the_estimated_time_and_past_ninety_percent() -> None:
    far = _delay(polls=8, elapsed=10.0, estimated_time=600.0)
    near = _delay(polls=8, elapsed=595.0, estimated_time=600.0)
    late = _delay(polls=8, elapsed=100.0, estimated_time=600.0, progress=93)
    assert far == POLICY.max_interval
    assert near <= POLICY.near_interval < far
    assert late <= POLICY.near_interval


def test_does_not_sleep_far_past_the_expected_end() -> None:
    # 12 s before the expected end (outside the near window) the next check comes at that end.
    assert _delay(polls=8, elapsed=100.0, estimated_time=112.0) == 12.0


def test_retry_after_is_honoured() -> None:
    assert _delay(polls=1, retry_after=40.0) == 40.0


def test_jitter_stays_within_bounds() -> None:
    values = {next_poll_delay(POLICY, polls=20, elapsed=1.0, estimated_time=None, progress=0) for _ in range(50)}
    low, high = POLICY.max_interval * (1 - POLICY.jitter), POLICY.max_interval * (1 + POLICY.jitter)
    assert len(values) > 1
    assert all(low <= v <= high for v in values)


def test_thousands_of_polls_stay_at_the_cap() -> None:
    # No deadline: a task polled for a day must not break the schedule (growth ** polls overflows).
    assert _delay(polls=10_000) == POLICY.max_interval


def test_limiter_allows_a_burst_then_spaces_requests() -> None:
    now = [0.0]
    limiter = RateLimiter(5.0, burst=5.0, clock=lambda: now[0])
    waits = [limiter.reserve() for _ in range(10)]
    assert waits[:5] == [0.0] * 5
    assert [round(w, 3) for w in waits[5:]] == [0.2, 0.4, 0.6, 0.8, 1.0]
    now[0] = 100.0  # after a quiet spell the burst is available again
    assert limiter.reserve() == 0.0


def test_limiter_average_rate_holds_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(5.0, burst=5.0, clock=lambda: now[0])
    last = 0.0
    for _ in range(105):
        last = limiter.reserve()
    # 105 requests at 5/s with a burst of 5 need 20 s.
    assert abs(last - 20.0) < 1e-9
