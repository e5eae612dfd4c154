"""Job bookkeeping in SQLite: when each job last ran, and which file versions it queued or delivered.

A file version is (job, key, size, mtime): queueing it and recording it happen in one transaction with the
queue row, so a crash can neither lose a file nor queue the same version twice.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from transferapp.store.db import Database


@dataclass(frozen=True)
class JobFile:
    """One file version a job has seen."""

    job: str
    key: str
    size: int
    mtime_ns: int
    queue_id: int | None
    state: str  # queued | done | failed | skipped


@dataclass(frozen=True)
class JobRun:
    """A job's last run."""

    job: str
    last_run: datetime | None
    last_result: str
    last_error: str


class JobStore:
    """Reads and writes the job tables."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def last_run(self, job: str) -> JobRun:
        """The job's last run (last_run None when it never ran)."""
        row = self.db.connection().execute("SELECT * FROM job_state WHERE job = ?", (job,)).fetchone()
        if row is None:
            return JobRun(job, None, "", "")
        when = datetime.fromisoformat(row["last_run"]) if row["last_run"] else None
        return JobRun(job, when, row["last_result"], row["last_error"])

    def record_run(self, job: str, at: datetime | None, result: str, error: str = "") -> None:
        """Remember a run (or, with ``at`` None, only its result)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO job_state (job, last_run, last_result, last_error, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(job) DO UPDATE SET last_run = COALESCE(excluded.last_run, last_run),"
                " last_result = excluded.last_result, last_error = excluded.last_error,"
                " updated_at = excluded.updated_at",
                (job, at.isoformat() if at else None, result, error, self.clock()),
            )

    def file(self, job: str, key: str) -> JobFile | None:
        """What the job knows about a file."""
        row = self.db.connection().execute("SELECT * FROM job_files WHERE job = ? AND key = ?", (job, key)).fetchone()
        return _file(row) if row else None

    def is_known(self, job: str, key: str, size: int, mtime_ns: int) -> bool:
        """True when this exact version was already queued, delivered or refused."""
        known = self.file(job, key)
        return known is not None and (known.size, known.mtime_ns) == (size, mtime_ns)

    def queue_file(
        self, job: str, key: str, size: int, mtime_ns: int, enqueue: Callable[[sqlite3.Connection], int]
    ) -> int | None:
        """Queue a new file version (``enqueue`` adds the queue row in the same transaction); None if known."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM job_files WHERE job = ? AND key = ?", (job, key)).fetchone()
            if row is not None and (row["size"], row["mtime_ns"]) == (size, mtime_ns):
                return None
            if row is not None and row["state"] == "queued":
                active = conn.execute(
                    "SELECT 1 FROM queue WHERE id = ? AND state IN ('queued', 'running', 'publishing')",
                    (row["queue_id"],),
                ).fetchone()
                if active:  # the older version is still on its way; this one waits for the next look
                    return None
            queue_id = enqueue(conn)
            conn.execute(
                "INSERT OR REPLACE INTO job_files (job, key, size, mtime_ns, queue_id, state, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'queued', ?)",
                (job, key, size, mtime_ns, queue_id, self.clock()),
            )
            return queue_id

    def waiting(self, job: str) -> list[tuple[JobFile, dict[str, Any]]]:
        """Queued file versions whose transfer has ended, with the queue row (state, error, snapshot)."""
        rows = (
            self.db.connection()
            .execute(
                "SELECT f.*, q.state AS q_state, q.error AS q_error, q.hint AS q_hint, q.local_path AS q_local,"
                " q.remote_path AS q_remote FROM job_files f LEFT JOIN queue q ON q.id = f.queue_id"
                " WHERE f.job = ? AND f.state = 'queued'"
                " AND (q.id IS NULL OR q.state IN ('done', 'failed', 'cancelled'))",
                (job,),
            )
            .fetchall()
        )
        return [
            (
                _file(r),
                {
                    "state": r["q_state"] or "missing",
                    "error": r["q_error"] or "",
                    "hint": r["q_hint"] or "",
                    "local_path": r["q_local"],
                    "remote_path": r["q_remote"],
                },
            )
            for r in rows
        ]

    def in_flight(self, job: str) -> int:
        """How many of the job's file versions are still queued or running."""
        row = (
            self.db.connection()
            .execute("SELECT COUNT(*) FROM job_files WHERE job = ? AND state = 'queued'", (job,))
            .fetchone()
        )
        return int(row[0])

    def mark(self, job: str, key: str, state: str) -> None:
        """Set a file version's state (done, failed, skipped)."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE job_files SET state = ?, updated_at = ? WHERE job = ? AND key = ?",
                (state, self.clock(), job, key),
            )

    def forget(self, job: str, key: str | None = None) -> None:
        """Drop what the job knows about one file (or, without ``key``, everything: a removed job)."""
        with self.db.transaction() as conn:
            if key is None:
                conn.execute("DELETE FROM job_files WHERE job = ?", (job,))
                conn.execute("DELETE FROM job_state WHERE job = ?", (job,))
            else:
                conn.execute("DELETE FROM job_files WHERE job = ? AND key = ?", (job, key))


def _file(row: Any) -> JobFile:
    return JobFile(row["job"], row["key"], row["size"], row["mtime_ns"], row["queue_id"], row["state"])
