"""Shared by the benchmarks: one machine-readable line per figure, read by ``run_all.py``.

A figure is either a ratio to a floor measured in the same run (``floor`` set: bare window,
bare ``QPlainTextEdit``, ``curl -o FILE`` + ``sync``) or an absolute figure with a limit
(``floor`` None). ``limit`` and ``goal`` are the issue's floor and goal for the figure;
``better`` says which way is better. Prints; asserts nothing.
"""

from __future__ import annotations

import json
from typing import Literal

PREFIX = "BENCH "


def report(
    figure: str,
    ours: float,
    unit: str,
    limit: float,
    goal: float,
    *,
    floor: float | None = None,
    better: Literal["lower", "higher"] = "lower",
) -> dict[str, object]:
    """Print one ``BENCH {json}`` line; the compared value is the ratio when there is a floor."""
    value = ours / floor if floor else ours
    meets = value <= limit if better == "lower" else value >= limit
    row: dict[str, object] = {
        "figure": figure,
        "ours": round(ours, 3),
        "floor": None if floor is None else round(floor, 3),
        "unit": unit,
        "value": round(value, 3),
        "kind": "ratio" if floor else unit,
        "limit": limit,
        "goal": goal,
        "better": better,
        "meets": meets,
    }
    print(PREFIX + json.dumps(row, ensure_ascii=False), flush=True)
    return row
