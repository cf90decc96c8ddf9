"""A generation job's lifecycle as an explicit state machine.

The UI only maps a state to words, an icon and a colour; the engine asks
``can_transition`` before every change, and the store checks every write against the state on
disk and refuses the rest. A terminal state never changes: Retry makes a new job.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"  # written down, waiting for a slot
    SUBMITTING = "submitting"  # submit request under way (idempotency key fixed)
    SUBMITTED = "submitted"  # the service gave us a task id
    PROCESSING = "processing"  # the service is rendering
    DOWNLOADING = "downloading"  # completed remotely, fetching the MP4
    DONE = "done"
    FAILED = "failed"  # the service said it failed (not billed)
    NEEDS_ATTENTION = "needs_attention"  # outcome unknown or a local error; can be checked again
    CANCELLED = "cancelled"  # stopped locally; the service may still bill a running task
    EXPIRED = "expired"  # the result link expired before we could download it

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def is_active(self) -> bool:
        """Holds (or is about to hold) a slot on the service."""
        return self in (JobState.SUBMITTING, JobState.SUBMITTED, JobState.PROCESSING)

    @property
    def label(self) -> str:
        return _LABELS[self]


TERMINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED})

_LABELS = {
    JobState.QUEUED: "Queued",
    JobState.SUBMITTING: "Submitting",
    JobState.SUBMITTED: "Submitted",
    JobState.PROCESSING: "Processing",
    JobState.DOWNLOADING: "Downloading",
    JobState.DONE: "Done",
    JobState.FAILED: "Failed",
    JobState.NEEDS_ATTENTION: "Needs attention",
    JobState.CANCELLED: "Cancelled",
    JobState.EXPIRED: "Link expired",
}

_S = JobState
ALLOWED_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    _S.QUEUED: frozenset({_S.SUBMITTING, _S.CANCELLED, _S.NEEDS_ATTENTION}),
    _S.SUBMITTING: frozenset({_S.SUBMITTED, _S.FAILED, _S.NEEDS_ATTENTION, _S.CANCELLED}),
    _S.SUBMITTED: frozenset({_S.PROCESSING, _S.DOWNLOADING, _S.FAILED, _S.NEEDS_ATTENTION, _S.CANCELLED}),
    _S.PROCESSING: frozenset({_S.DOWNLOADING, _S.FAILED, _S.NEEDS_ATTENTION, _S.CANCELLED}),
    _S.DOWNLOADING: frozenset({_S.DONE, _S.EXPIRED, _S.NEEDS_ATTENTION, _S.CANCELLED}),
    _S.NEEDS_ATTENTION: frozenset(
        {
            _S.SUBMITTING,
            _S.SUBMITTED,
            _S.PROCESSING,
            _S.DOWNLOADING,
            _S.DONE,
            _S.FAILED,
            _S.CANCELLED,
            _S.EXPIRED,
        }
    ),
    _S.DONE: frozenset(),
    _S.FAILED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.EXPIRED: frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, source: JobState, target: JobState) -> None:
        # Words, not the enum values: this message can reach the status bar.
        super().__init__(f"a job cannot go from “{source.label}” to “{target.label}”")
        self.source = source
        self.target = target


def can_transition(source: JobState, target: JobState) -> bool:
    return source == target or target in ALLOWED_TRANSITIONS[source]


def check_transition(source: JobState, target: JobState) -> None:
    if not can_transition(source, target):
        raise InvalidTransition(source, target)


# Remote statuses (the service's words, not ours).
REMOTE_TERMINAL = frozenset({"completed", "failed", "cancelled"})


def remote_is_terminal(status: str) -> bool:
    """Terminal remote statuses; anything else, even unseen, means keep polling."""
    return status in REMOTE_TERMINAL
