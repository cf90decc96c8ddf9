"""The mark of a light job record: what a list of every job holds for a finished one.

``JobStore.summaries`` leaves out what no table shows (request, storyboard but its sequence tag,
transitions, idempotency key); such a record carries ``SUMMARY_REQUEST`` as its request, and
whoever acts on the job asks the engine for the whole record (``JobEngineAPI.get``). A module of
its own so the UI can tell without importing sqlite.
"""

from __future__ import annotations

from typing import Any

from kling_studio.domain.job_record import JobRecord

SUMMARY_REQUEST: dict[str, Any] = {}  # never mutated: its identity is the mark


def is_summary(record: JobRecord) -> bool:
    """True for a light record from ``JobStore.summaries`` (no request or storyboard in it)."""
    return record.request is SUMMARY_REQUEST
