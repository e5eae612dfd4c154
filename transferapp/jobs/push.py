"""A push job: complete files in a watched folder are queued once per version, then archived, deleted or kept.

Queueing a file version and recording it are one transaction, and post-actions run only for transfers the
queue reports as done (verified and published), so a crash at any point neither loses nor doubles a file.
"""

from __future__ import annotations

import logging
import os
import posixpath
import shutil
import time
from datetime import date
from pathlib import Path

from transferapp.app import AppContext
from transferapp.jobs.filters import WatchSpec, scan_tree
from transferapp.jobs.model import JobSpec
from transferapp.jobs.watch import ReadyFile
from transferapp.store.jobs import JobFile, JobStore

log = logging.getLogger(__name__)


def job_batch(job: JobSpec) -> str:
    """The queue batch that holds a job's transfers."""
    return f"job:{job.name}"


def watch_spec(job: JobSpec) -> WatchSpec:
    """The watcher settings of a push job."""
    assert job.watch is not None
    return WatchSpec(
        folder=job.watch,
        recursive=job.recursive,
        include=tuple(job.include),
        exclude=tuple(job.exclude),
        stable_seconds=job.stable_seconds,
        done_marker=job.done_marker,
        polling=job.polling,
    )


class PushJob:
    """Queues ready files of one push job and applies its post-action after each verified upload."""

    def __init__(self, ctx: AppContext, job: JobSpec, store: JobStore) -> None:
        self.ctx = ctx
        self.job = job
        self.store = store
        self.spec = watch_spec(job)

    def offer(self, ready: ReadyFile) -> int | None:
        """Queue a complete file version unless this version was already queued or delivered."""
        job, conn = self.job, self.ctx.config.connection(self.job.connection)
        policy = job.encryption or conn.encryption
        folder = job.remote_dir.strip("/") if not job.remote_dir.startswith("/") else job.remote_dir
        remote = posixpath.join(folder, ready.relative) if folder else ready.relative
        options: dict[str, object] = {"job": job.name}
        if ready.marker is not None:
            options["marker"] = str(ready.marker)
        if policy is not None:
            options["encrypt"] = policy.to_json()
            remote = policy.remote_name(remote)
        row = {
            "connection": conn.name,
            "direction": "up",
            "local_path": str(ready.path),
            "remote_path": remote,
            "max_attempts": int(conn.option("max_attempts")),
            "total_bytes": ready.size,
            "options": options,
        }
        queued = self.store.queue_file(
            job.name, ready.relative, ready.size, ready.mtime_ns,
            lambda db: self.ctx.queue.add_many([row], job_batch(job), db)[0],
        )  # fmt: skip
        if queued is not None:
            log.info("job %s: queued %s (%d bytes) as transfer %d", job.name, ready.relative, ready.size, queued)
        return queued

    def complete_files(self, now: float | None = None) -> list[ReadyFile]:
        """Files that are complete now (unchanged for the stable window; marker present when required)."""
        now = time.time() if now is None else now
        found = scan_tree(self.spec, str(self.spec.folder))
        ready = []
        for relative, (size, mtime_ns) in sorted(found.items()):
            path = self.spec.folder / relative
            marker = None
            if self.spec.done_marker:
                marker = path.with_name(path.name + self.spec.done_marker)
                if not marker.exists():
                    continue
            if now - mtime_ns / 1e9 >= self.spec.stable_seconds:
                ready.append(ReadyFile(path, relative, size, mtime_ns, marker))
        return ready

    def settle(self) -> int:
        """Apply post-actions for transfers that have ended; returns how many were settled."""
        settled = 0
        for file, row in self.store.waiting(self.job.name):
            path = Path(row["local_path"]) if row["local_path"] else self.spec.folder / file.key
            try:
                if row["state"] == "done":
                    self._after_upload(file, path)
                    self.store.mark(self.job.name, file.key, "done")
                else:
                    self._after_failure(file, path, row)
                    self.store.mark(self.job.name, file.key, "failed")
            except OSError as exc:
                log.error("job %s: cannot apply the post-action to %s: %s", self.job.name, path, exc)
                continue
            settled += 1
        return settled

    def _after_upload(self, file: JobFile, path: Path) -> None:
        if not _unchanged(path, file):
            log.warning("job %s: %s changed after it was sent; the new version is sent too", self.job.name, path)
            return
        marker = path.with_name(path.name + self.job.done_marker) if self.job.done_marker else None
        if self.job.after == "delete":
            path.unlink()
            log.info("job %s: deleted %s after its verified upload", self.job.name, path)
        elif self.job.after == "archive" and self.job.archive_dir is not None:
            target = move_dated(path, self.job.archive_dir / date.today().isoformat(), file.key)
            log.info("job %s: archived %s to %s", self.job.name, path, target)
        else:
            return  # keep: the version is remembered and never sent again
        if marker is not None:
            marker.unlink(missing_ok=True)

    def _after_failure(self, file: JobFile, path: Path, row: dict[str, object]) -> None:
        log.error("job %s: %s was not delivered: %s %s", self.job.name, path, row["error"], row["hint"])
        if self.job.failed_dir is not None and row["state"] == "failed" and _unchanged(path, file):
            target = move_dated(path, self.job.failed_dir, file.key)
            log.info("job %s: moved %s to the failed folder %s", self.job.name, path, target)


def _unchanged(path: Path, file: JobFile) -> bool:
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    return (info.st_size, info.st_mtime_ns) == (file.size, file.mtime_ns)


def move_dated(path: Path, folder: Path, relative: str) -> Path:
    """Move ``path`` to ``folder/relative`` without overwriting (name-1, name-2, ... when taken)."""
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    stem, suffix, n = target.stem, target.suffix, 0
    while target.exists():
        n += 1
        target = target.with_name(f"{stem}-{n}{suffix}")
    if os.name == "posix" and path.stat().st_dev == target.parent.stat().st_dev:
        os.link(path, target)  # never replaces an existing file, unlike rename
        path.unlink()
    else:
        shutil.move(str(path), str(target))
    return target
