"""The local Kling-compatible server and the animatic renderer.

Names are loaded on first use so that ``kling-studio`` starts without importing the server.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "render_animatic": "kling_studio.localapi.animatic",
    "animatic_size": "kling_studio.localapi.animatic",
    "FaultSpec": "kling_studio.localapi.faults",
    "FaultSpecError": "kling_studio.localapi.faults",
    "LocalServerConfig": "kling_studio.localapi.config",
    "create_app": "kling_studio.localapi.server",
    "LocalServer": "kling_studio.localapi.runner",
    "render_project_file": "kling_studio.localapi.project_render",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
