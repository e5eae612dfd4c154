"""A pull job: new or changed remote files matching a pattern are fetched once, then deleted, archived or kept.

The remote post-action runs only after the queue reports the download as done (size verified, renamed into
place, decrypted when asked), so a failed or interrupted download never costs the partner's file.
"""

from __future__ import annotations

import fnmatch
import logging
import posixpath
from pathlib import Path

from transferapp.app import AppContext
from transferapp.encryption import DecryptPolicy
from transferapp.jobs.filters import is_temp_name
from transferapp.jobs.model import JobSpec
from transferapp.jobs.push import job_batch
from transferapp.store.jobs import JobStore
from transferapp.transports.base import Transport
from transferapp.transports.registry import make_transport

log = logging.getLogger(__name__)


class PullJob:
    """Lists the remote folder, queues new versions, and applies the remote post-action after each download."""

    def __init__(self, ctx: AppContext, job: JobSpec, store: JobStore) -> None:
        self.ctx = ctx
        self.job = job
        self.store = store

    def _session(self) -> Transport:
        conn = self.ctx.config.connection(self.job.connection)
        transport = make_transport(conn, self.ctx.secrets, self.ctx.hostkeys)
        transport.connect()
        return transport

    def _folder(self, transport: Transport) -> str:
        folder = self.job.remote_dir
        if folder.startswith("/"):
            return posixpath.normpath(folder)
        home = transport.home()
        return posixpath.join(home, folder.strip("/")) if folder.strip("/") else home

    def poll(self) -> list[int]:
        """List the remote folder and queue every matching file version not fetched before."""
        job = self.job
        conn = self.ctx.config.connection(job.connection)
        assert job.target is not None
        decrypt = DecryptPolicy(job.verify_from) if job.decrypt else None
        transport = self._session()
        try:
            folder = self._folder(transport)
            entries = [
                e
                for e in transport.list(folder)
                if not e.is_dir
                and fnmatch.fnmatchcase(e.name, job.pattern)
                and not e.name.startswith(".")
                and not is_temp_name(e.name)
            ]
        finally:
            transport.close()
        queued = []
        for entry in sorted(entries, key=lambda e: e.name):
            name = decrypt.local_name(entry.name) if decrypt else entry.name
            options: dict[str, object] = {"job": job.name}
            if decrypt is not None:
                options["decrypt"] = decrypt.to_json()
            row = {
                "connection": conn.name,
                "direction": "down",
                "local_path": str(Path(job.target) / name),
                "remote_path": entry.path,
                "max_attempts": int(conn.option("max_attempts")),
                "total_bytes": entry.size,
                "options": options,
            }
            mtime_ns = int(entry.mtime * 1e9) if entry.mtime is not None else 0
            item = self.store.queue_file(
                job.name, entry.path, entry.size, mtime_ns,
                lambda db, row=row: self.ctx.queue.add_many([row], job_batch(job), db)[0],  # type: ignore[misc]
            )  # fmt: skip
            if item is not None:
                log.info("job %s: queued %s (%d bytes) as transfer %d", job.name, entry.path, entry.size, item)
                queued.append(item)
        return queued

    def settle(self) -> int:
        """Delete or archive remote files whose download is done; returns how many transfers were settled."""
        waiting = self.store.waiting(self.job.name)
        if not waiting:
            return 0
        done = [(f, r) for f, r in waiting if r["state"] == "done"]
        for file, row in waiting:
            if row["state"] != "done":
                log.error("job %s: %s was not fetched: %s %s", self.job.name, file.key, row["error"], row["hint"])
                self.store.mark(self.job.name, file.key, "failed")
        if not done or self.job.remote_after == "keep":
            for file, _ in done:
                self.store.mark(self.job.name, file.key, "done")
            return len(waiting)
        transport = self._session()
        try:
            for file, row in done:
                remote = str(row["remote_path"] or file.key)
                if self.job.remote_after == "delete":
                    transport.remove(remote)
                    log.info("job %s: deleted %s on the server after its verified download", self.job.name, remote)
                else:
                    archive = self.job.remote_archive
                    if not archive.startswith("/"):
                        archive = posixpath.join(posixpath.dirname(remote), archive)
                    transport.makedirs(archive)
                    transport.rename(remote, posixpath.join(archive, posixpath.basename(remote)))
                    log.info("job %s: moved %s to %s on the server", self.job.name, remote, archive)
                self.store.mark(self.job.name, file.key, "done")
        finally:
            transport.close()
        return len(waiting)
