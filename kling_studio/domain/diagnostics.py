"""Errors and warnings the compiler and the checks report, each with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Diagnostic:
    """One broken rule or one thing worth knowing.

    ``code`` is stable (tools and tests match on it); ``shot`` is the 1-based shot number or
    ``None`` when the whole storyboard is concerned; ``message`` is for people.
    """

    code: str
    message: str
    shot: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "shot": self.shot, "message": self.message}
