"""Composition root: builds the services, injects them into the window, runs qasync."""

from __future__ import annotations


def run_gui(file: str | None = None, *, smoke: bool = False, force_local: bool = False) -> int:
    raise SystemExit("kling-studio: the studio window is not built yet; use the sub-commands (see --help)")
