from __future__ import annotations

import pytest

from kling_studio.domain.jobs import InvalidTransition, JobState, can_transition, check_transition, remote_is_terminal
from kling_studio.domain.storyboard import FirstFrame, Shot, Storyboard, move_boundary, shot_start_times


def sb(*durations: int) -> Storyboard:
    return Storyboard(shots=tuple(Shot(f"s{i}", d) for i, d in enumerate(durations, 1)))


def test_total_is_derived() -> None:
    b = sb(3, 2)
    assert b.total_duration == 5
    assert b.with_shot(0, Shot("x", 4)).total_duration == 6


def test_edits_return_new_storyboards() -> None:
    b = sb(1, 2, 3)
    assert [s.duration for s in b.move_shot(0, 2).shots] == [2, 3, 1]
    assert [s.duration for s in b.remove_shot(1).shots] == [1, 3]
    assert [s.duration for s in b.insert_shot(1, Shot("n", 5)).shots] == [1, 5, 2, 3]
    assert [s.duration for s in b.shots] == [1, 2, 3]


def test_move_boundary_keeps_total_and_clamps() -> None:
    b = sb(3, 2, 4)
    moved = move_boundary(b, 0, 1)
    assert [s.duration for s in moved.shots] == [4, 1, 4]
    assert moved.total_duration == b.total_duration
    clamped = move_boundary(b, 1, 10)
    assert [s.duration for s in clamped.shots] == [3, 5, 1]
    assert [s.duration for s in move_boundary(b, 0, -10).shots] == [1, 4, 4]
    with pytest.raises(IndexError):
        move_boundary(b, 2, 1)


def test_shot_start_times() -> None:
    assert shot_start_times(sb(3, 2, 4).shots) == [0, 3, 5]


def test_first_frame_is_path_or_url() -> None:
    assert FirstFrame(path="a.png").is_local
    assert not FirstFrame(url="https://x/a.png").is_local
    with pytest.raises(ValueError, match="either"):
        FirstFrame()
    with pytest.raises(ValueError, match="either"):
        FirstFrame(path="a", url="https://b")


def test_job_state_machine() -> None:
    assert can_transition(JobState.QUEUED, JobState.SUBMITTING)
    assert not can_transition(JobState.QUEUED, JobState.DONE)
    assert not can_transition(JobState.DONE, JobState.QUEUED)
    assert JobState.DONE.is_terminal and JobState.EXPIRED.is_terminal
    assert not JobState.NEEDS_ATTENTION.is_terminal
    with pytest.raises(InvalidTransition):
        check_transition(JobState.FAILED, JobState.SUBMITTING)
    assert remote_is_terminal("completed") and not remote_is_terminal("brand-new-status")
