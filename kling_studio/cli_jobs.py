"""Sub-commands ``submit``, ``jobs`` and ``resume`` (filled in by the job-engine work)."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    _ = sub
