"""What the service answers, parsed tolerantly into typed values (contract §1–2, §7).

The documented shapes are followed, and where the service is known to vary (``url`` a list or a
string, ``progress`` or ``cost`` as strings, two submit shapes) every variant is accepted.
Anything that cannot be understood becomes a ``ProtocolError``, never a crash.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kling_studio.domain.jobs import remote_is_terminal
from kling_studio.services.api_errors import ProtocolError, server_text

log = logging.getLogger("kling_studio.api")

KNOWN_STATUSES = frozenset({"submitted", "pending", "processing", "completed", "failed", "cancelled"})
_reported_unknown: set[str] = set()


def note_status(status: str) -> None:
    """Log a status we have never heard of, once per value (the job keeps polling)."""
    key = status.strip().lower()
    if key in KNOWN_STATUSES or key in _reported_unknown:
        return
    _reported_unknown.add(key)
    log.warning("The service reported an unknown task status %r; treating it as still running.", status)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip().rstrip("%").strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def _progress(value: Any, status: str) -> int:
    number = _number(value)
    if number is None:
        return 100 if status.strip().lower() == "completed" else 0
    return max(0, min(100, round(number)))


def _urls(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str) and item]
    return []


def _videos(result: Any) -> tuple[tuple[str, ...], float | None]:
    if not isinstance(result, Mapping):
        return (), None
    urls: list[str] = []
    expires: float | None = None
    videos = result.get("videos")
    if isinstance(videos, Mapping):
        videos = [videos]
    if isinstance(videos, list):
        for video in videos:
            if isinstance(video, Mapping):
                urls += _urls(video.get("url"))
                if expires is None:
                    expires = _number(video.get("expires_at"))
            else:
                urls += _urls(video)
    urls += _urls(result.get("url"))
    if expires is None:
        expires = _number(result.get("expires_at"))
    return tuple(dict.fromkeys(urls)), expires


def _error(value: Any) -> tuple[str | int | None, str | None]:
    if value is None or value == "" or value == {}:
        return None, None
    if isinstance(value, Mapping):
        code = value.get("code")
        code = code if isinstance(code, str | int) and not isinstance(code, bool) else None
        message = value.get("message")
        if message not in (None, ""):
            return code, str(message)
        return code, json.dumps(dict(value), ensure_ascii=False, default=str)
    return None, str(value)


@dataclass(frozen=True)
class TaskStatus:
    """One answer of ``GET /v1/tasks/{id}``; ``status`` is the service's word, as sent."""

    task_id: str
    status: str
    progress: int = 0
    created: float | None = None
    completed: float | None = None
    estimated_time: float | None = None
    actual_time: float | None = None
    video_urls: tuple[str, ...] = ()
    expires_at: float | None = None
    error_code: str | int | None = None
    error_message: str | None = None
    cost: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_terminal(self) -> bool:
        note_status(self.status)
        return remote_is_terminal(self.status.strip().lower())

    @property
    def is_completed(self) -> bool:
        return self.status.strip().lower() == "completed"

    @property
    def is_failed(self) -> bool:
        return self.status.strip().lower() == "failed"

    @property
    def is_cancelled(self) -> bool:
        return self.status.strip().lower() == "cancelled"

    @classmethod
    def from_response(cls, payload: Any, *, task_id: str = "") -> TaskStatus:
        """Parse the whole JSON answer (``{"code":200,"data":{…}}``; a bare object is accepted)."""
        if not isinstance(payload, Mapping):
            raise ProtocolError("The task status answer was not a JSON object.")
        data = payload.get("data")
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], Mapping):
            data = data[0]
        if not isinstance(data, Mapping):
            data = payload if "status" in payload else None
        if data is None:
            text, _, _ = server_text(payload)
            detail = f": {text}" if text else ""
            raise ProtocolError(f"The task status answer had no task data{detail}.")
        status = data.get("status")
        if not isinstance(status, str) or not status.strip():
            raise ProtocolError("The task status answer had no status.")
        note_status(status)
        tid = data.get("id") or data.get("task_id") or task_id
        urls, expires = _videos(data.get("result"))
        error_code, error_message = _error(data.get("error"))
        cost = _number(data.get("cost"))
        if cost is None:
            cost = _number(data.get("credits_cost"))
        return cls(
            task_id=str(tid),
            status=status,
            progress=_progress(data.get("progress"), status),
            created=_number(data.get("created")),
            completed=_number(data.get("completed")),
            estimated_time=_number(data.get("estimated_time")),
            actual_time=_number(data.get("actual_time")),
            video_urls=urls,
            expires_at=expires,
            error_code=error_code,
            error_message=error_message,
            cost=cost,
            raw=dict(payload),
        )


def parse_submit(payload: Any) -> str:
    """The task id from either submit shape: ``data[0].task_id`` or ``data.id``."""
    data = payload.get("data") if isinstance(payload, Mapping) else None
    task_id: Any = None
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        task_id = data[0].get("task_id") or data[0].get("id")
    elif isinstance(data, Mapping):
        task_id = data.get("id") or data.get("task_id")
    if isinstance(task_id, str) and task_id.strip():
        return task_id
    text, _, _ = server_text(payload)
    detail = f": {text}" if text else ""
    raise ProtocolError(f"The submit answer carried no task id{detail}.")


def parse_upload(payload: Any) -> str:
    """The URL from the upload answer (top level; a ``data`` envelope is tolerated)."""
    url: Any = None
    if isinstance(payload, Mapping):
        url = payload.get("url")
        data = payload.get("data")
        if url is None and isinstance(data, Mapping):
            url = data.get("url")
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    text, _, _ = server_text(payload)
    detail = f": {text}" if text else ""
    raise ProtocolError(f"The upload answer carried no image URL{detail}.")
