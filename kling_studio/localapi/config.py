"""How a local server behaves: the one settings object the app, its state and the CLI share.

It lives below both ``server`` and ``state`` so that the arrows run one way
(``server → state → config``); ``server`` re-exports it for existing callers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.localapi.animatic import DEFAULT_FPS
from kling_studio.localapi.faults import FaultSpec


@dataclass
class LocalServerConfig:
    """How a local server behaves. ``data_dir=None``: a temporary folder removed on stop.

    ``api_key``: when set, every route wants it (``Authorization: Bearer <key>``) except the
    result and upload files, which are served under unguessable per-file tokens instead.
    """

    api_key: str | None = None
    task_seconds: float = 3.0
    faults: FaultSpec | str = field(default_factory=FaultSpec)
    data_dir: str | os.PathLike[str] | None = None
    fps: int = DEFAULT_FPS
    retry_after: float = 1.0
    link_lifetime_s: float = KLING_3_TURBO.default_link_lifetime_s
    # A first frame at a URL this server did not issue is fetched within this many seconds.
    fetch_timeout_s: float = 5.0
