"""What a watched folder is and which of its files a push job may take: globs, hidden, temp and marker names."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from transferapp.errors import ConfigError

logger = logging.getLogger("transferapp.jobs.watch")

# Names that writers use while a file is still being produced; never taken, whatever the patterns say.
TEMP_PATTERNS: tuple[str, ...] = (
    "*.part",
    "*.tmp",
    "*.partial",
    "*.crdownload",
    "*.filepart",  # WinSCP's partial upload name, common for files dropped over SFTP
    "~*",
    "*~",
    "*.swp",
)


@dataclass(frozen=True)
class WatchSpec:
    """What to watch and when a file counts as complete."""

    folder: Path
    recursive: bool = False
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    stable_seconds: float = 5.0
    done_marker: str | None = None
    polling: bool = False
    rescan_seconds: float = 30.0

    def __post_init__(self) -> None:
        """Reject values that would make the watcher spin or never settle."""
        if self.stable_seconds < 0 or self.rescan_seconds <= 0:
            raise ConfigError(
                f"watch of {self.folder}: stable_seconds must be >= 0 and rescan_seconds > 0",
                "use e.g. stable_seconds = 5 and rescan_seconds = 30",
            )
        if self.done_marker is not None and not self.done_marker:
            raise ConfigError(f"watch of {self.folder}: done_marker is empty", "use e.g. '.done' or leave it unset")


def is_hidden(relative: str) -> bool:
    """True if any component of the '/'-separated relative path starts with '.'."""
    return any(part.startswith(".") for part in relative.split("/"))


def is_temp_name(name: str) -> bool:
    """True if the file name looks like a partial or temporary file (case-insensitive)."""
    lowered = name.lower()
    return any(fnmatch(lowered, pattern) for pattern in TEMP_PATTERNS)


def matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """True if a glob matches the file name, or the relative path for globs that contain '/'."""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch(relative if "/" in pattern else name, pattern) for pattern in patterns)


def wanted(spec: WatchSpec, relative: str) -> bool:
    """True if the file at this '/'-separated path relative to spec.folder should be taken."""
    if not relative or relative.endswith("/") or is_hidden(relative):
        return False
    if "/" in relative and not spec.recursive:
        return False
    name = relative.rsplit("/", 1)[-1]
    if is_temp_name(name) or (spec.done_marker and name.endswith(spec.done_marker)):
        return False
    return matches(relative, spec.include) and not matches(relative, spec.exclude)


def scan_tree(spec: WatchSpec, directory: str, prefix: str = "") -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every wanted file in directory (and below if recursive); raises only for directory."""
    found: dict[str, tuple[int, int]] = {}
    stack = [(prefix, directory)]
    while stack:
        prefix, current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if spec.recursive and not entry.name.startswith("."):
                                stack.append((rel + "/", entry.path))
                        elif entry.is_file() and wanted(spec, rel):
                            st = entry.stat()
                            found[rel] = (st.st_size, st.st_mtime_ns)
                    except OSError:
                        continue  # vanished while scanning
        except OSError as exc:
            if current == directory:
                raise
            logger.debug("cannot scan %s: %s", current, exc)
    return found
