"""Sub-commands ``serve-local`` and ``animatic`` (filled in by the local-server work)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    _ = (sub, argparse)
