"""When and how long to wait before sending a request again (contract §4).

Reads (task status, model schema, uploads, downloads) retry on network errors, 408, 429 and
5xx. A submit retries only on failures where the service cannot have started a task twice:
with the same Idempotency-Key, and only on connection errors, 408, 429, 502, 503 and 504 —
never on 500 (the task may exist) nor on any other 4xx.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from kling_studio.services.api_errors import KlingAPIError, NetworkError, RequestTimeoutError

SUBMIT_RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; ``max_attempts`` counts the first try."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A server may ask for a long pause; we wait what it says, but never more than this.
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays cannot be negative")

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(attempt-1))]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return self.rng.uniform(0.0, ceiling)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(0.0, retry_after), self.max_retry_after)
        return self.backoff(attempt)


@dataclass(frozen=True)
class Deadlines:
    """Overall seconds one request may take, besides httpx's per-read timeout.

    A server that trickles one byte a second never trips a per-read timeout; these bound the
    whole exchange. ``api``: one status/submit/schema request; ``upload``: one image upload
    (20 MB on a slow uplink); ``download``: one ``download`` call, all its resumes included —
    the engine tries again later and continues from the ``.part`` file.
    """

    api: float = 60.0
    upload: float = 300.0
    download: float = 3600.0

    def __post_init__(self) -> None:
        if min(self.api, self.upload, self.download) <= 0:
            raise ValueError("deadlines must be positive")


def is_retryable_read(error: KlingAPIError) -> bool:
    """Status reads, schema reads, uploads and downloads: network errors, 408, 429, 5xx, and
    errors marked retryable (a broken gzip body: a proxy's hiccup, worth one more try)."""
    if isinstance(error, NetworkError) or error.retryable:
        return True
    status = error.status
    return status is not None and (status in (408, 429) or 500 <= status <= 599)


# Transport failures after which the service may have received the whole request.
_MAYBE_DELIVERED: tuple[type[httpx.TransportError], ...] = (httpx.ReadTimeout,)


def submit_may_have_arrived(exc: httpx.TransportError) -> bool:
    """True when a submit failed in a way where the service may already have the task.

    A read timeout means the request went out and the service is slow to answer; sending it
    again could start a second paid task on a service that ignores Idempotency-Key. Connection
    failures (refused, reset, dropped, write errors) are treated as connection errors.
    """
    return isinstance(exc, _MAYBE_DELIVERED)


def is_retryable_submit(error: KlingAPIError) -> bool:
    """Submit: connection errors, 408, 429, 502, 503, 504 (same Idempotency-Key every time)."""
    if isinstance(error, RequestTimeoutError):
        return True
    if isinstance(error, NetworkError):
        return not error.outcome_unknown
    return error.status in SUBMIT_RETRY_STATUSES
