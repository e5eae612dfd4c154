"""Queue an upload of files and folders (``send`` on the command line, a drop in the desktop app)."""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from transferapp.app import AppContext
from transferapp.config import Connection
from transferapp.encryption import EncryptPolicy


@dataclass
class QueuedUpload:
    """What was queued: the batch id, the queue ids, each id's local file, and problems with inputs."""

    batch: str
    ids: list[int] = field(default_factory=list)
    files: dict[int, Path] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def remote_folder(remote_dir: str | None) -> str:
    """The folder under the connection's folder ('' for the folder itself); absolute stays absolute."""
    if not remote_dir:
        return ""
    return posixpath.normpath(remote_dir) if remote_dir.startswith("/") else posixpath.normpath(remote_dir.strip("/"))


def expand_sources(paths: list[str]) -> tuple[list[tuple[Path, str]], list[str]]:
    """Files to send with their path relative to the target folder; plus errors for missing paths."""
    found: list[tuple[Path, str]] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser().absolute()
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                found.append((file, posixpath.join(path.name, *file.relative_to(path).parts)))
        elif path.is_file():
            found.append((path, path.name))
        elif path.exists():
            problems.append(f"{path} is not a regular file or folder; skipped")
        else:
            problems.append(f"The local file {path} does not exist; nothing was sent for it")
    return found, problems


def queue_upload(
    ctx: AppContext, conn: Connection, paths: list[str], remote_dir: str | None, policy: EncryptPolicy | None
) -> QueuedUpload:
    """Put every file (folders recursively) in the queue as one batch; nothing is sent yet."""
    folder = remote_folder(remote_dir)
    sources, problems = expand_sources(paths)
    queued = QueuedUpload(uuid.uuid4().hex, problems=problems)
    rows = []
    for path, relative in sources:
        remote = posixpath.join(folder, relative) if folder else relative
        rows.append(
            {
                "connection": conn.name,
                "direction": "up",
                "local_path": str(path),
                "remote_path": policy.remote_name(remote) if policy else remote,
                "max_attempts": int(conn.option("max_attempts")),
                "total_bytes": path.stat().st_size,
                "options": {"encrypt": policy.to_json()} if policy else {},
            }
        )
    queued.ids = ctx.queue.add_many(rows, queued.batch)
    queued.files = {item_id: path for item_id, (path, _) in zip(queued.ids, sources, strict=True)}
    return queued
