"""Where transferapp keeps its config, data and spool files.

Platform folders come from platformdirs; the environment variable ``TRANSFERAPP_HOME`` puts all of them
under one folder, which tests and scripts use to get an isolated installation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from transferapp import APP_NAME

HOME_ENV = "TRANSFERAPP_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The folders and files one installation of transferapp uses."""

    config_dir: Path
    data_dir: Path
    spool_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        """The TOML file with connections and jobs."""
        return self.config_dir / "config.toml"

    @property
    def known_hosts_file(self) -> Path:
        """The app-owned store of pinned SSH host keys."""
        return self.config_dir / "known_hosts"

    @property
    def database_file(self) -> Path:
        """The SQLite database holding the queue and the transfer log."""
        return self.data_dir / "transferapp.sqlite3"

    def ensure(self) -> AppPaths:
        """Create every folder (owner-only permissions) and return self."""
        for folder in (self.config_dir, self.data_dir, self.spool_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                folder.chmod(0o700)
        return self


def app_paths() -> AppPaths:
    """Return the paths for this process, honouring ``TRANSFERAPP_HOME``."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser().resolve()
        return AppPaths(root / "config", root / "data", root / "spool", root / "logs")
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return AppPaths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir) / "spool",
        Path(dirs.user_log_dir),
    )
