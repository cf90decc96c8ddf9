"""User settings, stored as JSON in the config folder. Never holds the API key."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.services.paths import AppPaths, app_paths
from kling_studio.services.project_io import atomic_write_bytes

log = logging.getLogger("kling_studio.settings")

DEFAULT_BASE_URL = "https://api.apimart.ai"
BACKEND_AUTO = "auto"  # remote when a key is configured, else local
BACKEND_LOCAL = "local"
BACKEND_REMOTE = "remote"
# Overrides the max_video_mb setting (for a machine or a test, without editing the settings file).
MAX_VIDEO_ENV = "KLING_STUDIO_MAX_VIDEO_MB"
DEFAULT_MAX_VIDEO_MB = 2048


def _default_prices() -> dict[str, str]:
    return {res: str(price) for res, price in KLING_3_TURBO.price_per_second_usd.items()}


@dataclass(frozen=True)
class AppSettings:
    backend: str = BACKEND_AUTO
    base_url: str = DEFAULT_BASE_URL
    concurrency: int = 3
    library_dir: str | None = None  # None: the platform default
    prices: dict[str, str] = field(default_factory=_default_prices)  # USD per second, as decimal strings
    notifications: bool = True
    theme: str = "system"  # system | light | dark
    autoplay: bool = True
    inline_images: bool = False  # send first frames as data: URIs instead of uploading
    task_seconds: float = 4.0  # how long the local backend takes per task
    recent_files: tuple[str, ...] = ()
    last_project: str | None = None
    banner_dismissed: bool = False
    # A hint, never the key: whether the keyring held a key when last asked, so the window's
    # first paint shows the right backend (and project) before the keyring answers.
    key_in_keyring: bool = False
    max_video_mb: int = DEFAULT_MAX_VIDEO_MB  # a download stops (and is removed) beyond this size

    def max_video_bytes(self) -> int:
        """The download cap in bytes: ``KLING_STUDIO_MAX_VIDEO_MB`` wins over the setting.

        A value that is not a positive whole number is ignored (the setting, else 2048, holds).
        """
        mb = self.max_video_mb
        if isinstance(mb, bool) or not isinstance(mb, int) or mb <= 0:
            mb = DEFAULT_MAX_VIDEO_MB
        raw = os.environ.get(MAX_VIDEO_ENV, "").strip()
        if raw:
            try:
                override = int(raw)
            except ValueError:
                override = 0
            if override > 0:
                mb = override
            else:
                log.warning("%s=%r is not a positive whole number of MB; using %d", MAX_VIDEO_ENV, raw, mb)
        return mb * 1024 * 1024

    def library_path(self, paths: AppPaths | None = None) -> Path:
        if self.library_dir:
            return Path(self.library_dir)
        return (paths or app_paths()).default_library_dir

    def with_recent(self, path: str, limit: int = 10) -> AppSettings:
        recent = (path, *(p for p in self.recent_files if p != path))[:limit]
        return replace(self, recent_files=recent, last_project=path)


def load_settings(path: Path | None = None) -> AppSettings:
    """Read settings; a broken or foreign file falls back to defaults (and is logged, not lost)."""
    p = path or app_paths().settings_file
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AppSettings()
    except (OSError, ValueError) as exc:
        log.warning("settings file %s unreadable (%s); using defaults", p, exc)
        return AppSettings()
    if not isinstance(raw, dict):
        return AppSettings()
    known = {f.name: f for f in fields(AppSettings)}
    values: dict[str, Any] = {}
    defaults = AppSettings()
    for name, value in raw.items():
        if name not in known:
            continue
        default = getattr(defaults, name)
        if name == "recent_files" and isinstance(value, list):
            values[name] = tuple(str(v) for v in value)
        elif (
            default is None
            or isinstance(value, type(default))
            or (isinstance(default, float) and isinstance(value, int))
        ):
            values[name] = value
    return replace(defaults, **values)


def save_settings(settings: AppSettings, path: Path | None = None) -> None:
    p = path or app_paths().settings_file
    p.parent.mkdir(parents=True, exist_ok=True)
    data = asdict(settings)
    data["recent_files"] = list(settings.recent_files)
    atomic_write_bytes(p, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))
