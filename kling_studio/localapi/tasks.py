"""Generation tasks: ids, and the lifecycle computed from the wall clock.

A task is ``pending`` for the first part of its planned time, then ``processing`` with rising
progress, then ``completed`` once its time is up *and* its MP4 is on disk (or ``failed``).
Nothing ticks in the background: every status read computes the state for "now".
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kling_studio.domain.limits import KLING_3_TURBO, LimitsProfile

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PENDING_SHARE = 0.15  # the first 15 % of a task's time reads "pending"


def new_ulid(now: float | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds then 80 random bits, Crockford base32."""
    millis = int((time.time() if now is None else now) * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_task_id() -> str:
    return f"task_{new_ulid()}"


@dataclass
class Task:
    """One generation. ``ready_at``/``render_error`` are set by the render thread."""

    id: str
    created_at: float
    duration: int
    resolution: str
    aspect_ratio: str
    prompt: str
    shots: tuple[tuple[str, int], ...]
    width: int
    height: int
    task_seconds: float
    link_lifetime_s: float
    video_path: Path
    first_frame_image: str | None = None
    watermark: bool | None = None
    idempotency_key: str | None = None
    failure: dict[str, Any] | None = None  # injected failure: the error object to report
    ready_at: float | None = None
    render_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The result link's secret part, as a CDN's signed URL: the file route needs no API key.
    file_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def completed_at(self, now: float) -> float | None:
        """When the task completed, or None while it has not (or failed)."""
        if self.failure is not None or self.render_error is not None or self.ready_at is None:
            return None
        done = max(self.created_at + self.task_seconds, self.ready_at)
        return done if now >= done else None

    def expires_at(self, now: float) -> float | None:
        completed = self.completed_at(now)
        return None if completed is None else completed + self.link_lifetime_s

    def error(self, now: float) -> dict[str, Any] | None:
        if self.render_error is not None:
            return {"code": 500, "message": f"rendering failed: {self.render_error}", "type": "server_error"}
        if self.failure is not None and now - self.created_at >= self.task_seconds:
            return self.failure
        return None

    def cost(self, profile: LimitsProfile = KLING_3_TURBO) -> float | None:
        price = profile.price_per_second_usd.get(self.resolution)
        return None if price is None else float(price * Decimal(self.duration))

    def snapshot(self, now: float, result_url: str) -> dict[str, Any]:
        """The ``data`` object of ``GET /v1/tasks/{id}`` at time ``now``."""
        data: dict[str, Any] = {
            "id": self.id,
            "status": "processing",
            "progress": 0,
            "created": int(self.created_at),
            "estimated_time": math.ceil(self.task_seconds),
        }
        error = self.error(now)
        if error is not None:
            data.update(status="failed", progress=0, error=error)
            return data
        completed = self.completed_at(now)
        if completed is not None:
            data.update(
                status="completed",
                progress=100,
                completed=int(completed),
                actual_time=max(0, round(completed - self.created_at)),
                result={"videos": [{"url": [result_url], "expires_at": int(completed + self.link_lifetime_s)}]},
            )
            cost = self.cost()
            if cost is not None:
                data["cost"] = cost
            return data
        elapsed = now - self.created_at
        if self.task_seconds > 0 and elapsed < self.task_seconds * PENDING_SHARE:
            data["status"] = "pending"
            return data
        share = elapsed / self.task_seconds if self.task_seconds > 0 else 1.0
        data["progress"] = min(99, max(1, int(share * 100)))
        return data
