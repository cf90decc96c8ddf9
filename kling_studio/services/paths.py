"""Where Kling Studio keeps its files (platformdirs), overridable for tests and portable use.

``KLING_STUDIO_HOME`` puts config, data, logs, cache and the default library under one folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "kling-studio"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path
    default_library_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def job_store(self) -> Path:
        return self.data_dir / "jobs.sqlite3"

    @property
    def recovery_dir(self) -> Path:
        return self.data_dir / "recovery"

    def ensure(self) -> AppPaths:
        for d in (self.config_dir, self.data_dir, self.log_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def app_paths() -> AppPaths:
    home = os.environ.get("KLING_STUDIO_HOME")
    if home:
        root = Path(home)
        return AppPaths(root / "config", root / "data", root / "logs", root / "cache", root / "library")
    import platformdirs  # late: a KLING_STUDIO_HOME start never needs it

    videos = Path(platformdirs.user_videos_dir())
    library = videos / "Kling Studio" if videos.is_dir() else Path(platformdirs.user_data_dir(APP_NAME)) / "library"
    return AppPaths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME)),
        default_library_dir=library,
    )
