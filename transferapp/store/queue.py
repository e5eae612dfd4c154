"""The persistent transfer queue: queued and running transfers survive a crash or a restart.

A running row names its owner process and a lease; a row whose owner died, or whose lease ran out, is
claimed again by the next ``queue run`` (or the agent), which resumes it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from transferapp.errors import NotFoundError, TransferAppError
from transferapp.store.db import Database

ACTIVE = ("queued", "running", "publishing")
TERMINAL = ("done", "failed", "cancelled")
LEASE_SECONDS = 120.0
OWNER_TOKEN = uuid.uuid4().hex  # tells this process's rows from those of an earlier process with the same pid


@dataclass(frozen=True)
class QueueItem:
    """One row of the queue."""

    id: int
    batch: str | None
    connection: str
    direction: str
    local_path: str
    remote_path: str
    state: str
    attempts: int
    max_attempts: int
    next_attempt_at: float
    total_bytes: int
    done_bytes: int
    snapshot: dict[str, Any] | None
    resume: dict[str, Any] | None
    error: str
    hint: str
    options: dict[str, Any]
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for ``queue --json``."""
        return {
            k: getattr(self, k)
            for k in (
                "id",
                "connection",
                "direction",
                "local_path",
                "remote_path",
                "state",
                "attempts",
                "max_attempts",
                "total_bytes",
                "done_bytes",
                "error",
                "hint",
                "next_attempt_at",
                "created_at",
                "updated_at",
            )
        }


def _item(row: Any) -> QueueItem:
    return QueueItem(
        id=row["id"],
        batch=row["batch"],
        connection=row["connection"],
        direction=row["direction"],
        local_path=row["local_path"],
        remote_path=row["remote_path"],
        state=row["state"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        next_attempt_at=row["next_attempt_at"],
        total_bytes=row["total_bytes"],
        done_bytes=row["done_bytes"],
        snapshot=json.loads(row["snapshot"]) if row["snapshot"] else None,
        resume=json.loads(row["resume"]) if row["resume"] else None,
        error=row["error"],
        hint=row["hint"],
        options=json.loads(row["options"] or "{}"),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def pid_alive(pid: int | None) -> bool:
    """Whether a process with that id exists on this machine."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class TransferQueue:
    """Adds, claims and finishes transfers in the database."""

    def __init__(self, db: Database, clock: Any = time.time) -> None:
        self.db = db
        self.clock = clock

    def add(
        self,
        connection: str,
        direction: str,
        local_path: str,
        remote_path: str,
        *,
        batch: str | None = None,
        max_attempts: int = 5,
        total_bytes: int = 0,
        options: dict[str, Any] | None = None,
    ) -> int:
        """Queue one transfer and return its id."""
        row = {
            "connection": connection,
            "direction": direction,
            "local_path": local_path,
            "remote_path": remote_path,
            "max_attempts": max_attempts,
            "total_bytes": total_bytes,
            "options": options,
        }
        return self.add_many([row], batch)[0]

    def add_many(
        self, rows: list[dict[str, Any]], batch: str | None = None, conn: sqlite3.Connection | None = None
    ) -> list[int]:
        """Queue many transfers in one transaction (``conn``'s, when given); each row holds ``add``'s arguments."""
        if conn is None:
            with self.db.transaction() as own:
                return self.add_many(rows, batch, own)
        now = self.clock()
        ids = []
        for row in rows:
            cursor = conn.execute(
                "INSERT INTO queue (batch, connection, direction, local_path, remote_path, state, max_attempts,"
                " total_bytes, options, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (
                    batch,
                    row["connection"],
                    row["direction"],
                    row["local_path"],
                    row["remote_path"],
                    row.get("max_attempts", 5),
                    row.get("total_bytes", 0),
                    json.dumps(row.get("options") or {}),
                    now,
                    now,
                ),
            )
            ids.append(int(cursor.lastrowid or 0))
        return ids

    def get(self, item_id: int) -> QueueItem:
        """The row with that id, or NotFoundError."""
        row = self.db.connection().execute("SELECT * FROM queue WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"No queued transfer with id {item_id}", "see the ids with 'transferapp queue'")
        return _item(row)

    def items(self, states: Iterable[str] | None = None, batch: str | None = None) -> list[QueueItem]:
        """Rows in the given states (all when None), oldest first."""
        sql, args = "SELECT * FROM queue WHERE 1=1", []
        if states is not None:
            states = list(states)
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += states
        if batch is not None:
            sql += " AND batch = ?"
            args.append(batch)
        return [_item(r) for r in self.db.connection().execute(sql + " ORDER BY id", args)]

    def claim(self, batch: str | None = None, exclude_connections: Iterable[str] = ()) -> QueueItem | None:
        """Take a row left by a process that died, else the oldest ready row; None when there is none."""
        now = self.clock()
        skip = list(exclude_connections)
        where, args = "", []
        if skip:
            where += f" AND connection NOT IN ({','.join('?' * len(skip))})"
            args += skip
        if batch is not None:
            where += " AND batch = ?"
            args.append(batch)
        with self.db.transaction() as conn:
            orphans = conn.execute(
                "SELECT * FROM queue WHERE state IN ('running', 'publishing')"  # noqa: S608 - placeholders only
                f" AND (owner_token IS NULL OR owner_token != ?){where} ORDER BY id",
                [OWNER_TOKEN, *args],
            )
            row = next((r for r in orphans if self._abandoned(r, now)), None)
            if row is None:
                row = conn.execute(
                    f"SELECT * FROM queue WHERE state = 'queued' AND next_attempt_at <= ?{where}"  # noqa: S608
                    " ORDER BY next_attempt_at, id LIMIT 1",
                    [now, *args],
                ).fetchone()
            if row is None:
                return None
            state = "publishing" if row["state"] == "publishing" else "running"
            conn.execute(
                "UPDATE queue SET state = ?, owner_pid = ?, owner_token = ?, lease_until = ?,"
                " attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (state, os.getpid(), OWNER_TOKEN, now + LEASE_SECONDS, now, row["id"]),
            )
            return _item(conn.execute("SELECT * FROM queue WHERE id = ?", (row["id"],)).fetchone())

    def claim_small(self, first: QueueItem, limit: int, max_bytes: int) -> list[QueueItem]:
        """Claim up to ``limit`` more queued small uploads of the same connection and batch, to send with ``first``."""
        now = self.clock()
        where, args = "", []
        if first.batch is not None:
            where, args = " AND batch = ?", [first.batch]
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id FROM queue WHERE state = 'queued' AND next_attempt_at <= ? AND connection = ?"  # noqa: S608
                " AND direction = 'up' AND total_bytes <= ? AND (resume IS NULL OR resume NOT LIKE '%publishing_part%')"
                f"{where} ORDER BY next_attempt_at, id LIMIT ?",
                [now, first.connection, max_bytes, *args, limit],
            ).fetchall()
            ids = [r["id"] for r in rows]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            conn.execute(
                "UPDATE queue SET state = 'running', owner_pid = ?, owner_token = ?, lease_until = ?,"  # noqa: S608
                f" attempts = attempts + 1, updated_at = ? WHERE id IN ({marks})",
                [os.getpid(), OWNER_TOKEN, now + LEASE_SECONDS, now, *ids],
            )
            return [_item(r) for r in conn.execute(f"SELECT * FROM queue WHERE id IN ({marks}) ORDER BY id", ids)]  # noqa: S608

    @staticmethod
    def _abandoned(row: Any, now: float) -> bool:
        """A running row whose owner process is gone (or is this process under a reused pid), or whose lease ran out."""
        pid = row["owner_pid"]
        return pid == os.getpid() or not pid_alive(pid) or (row["lease_until"] or 0) <= now

    def next_wake(self, batch: str | None = None) -> float | None:
        """When the earliest row waiting out a retry delay becomes ready, or None when none waits."""
        sql = "SELECT MIN(next_attempt_at) FROM queue WHERE state = 'queued' AND next_attempt_at > ?"
        args: list[Any] = [self.clock()]
        if batch is not None:
            sql += " AND batch = ?"
            args.append(batch)
        value = self.db.connection().execute(sql, args).fetchone()[0]
        return float(value) if value is not None else None

    def active_count(self, batch: str | None = None) -> int:
        """How many rows are not finished."""
        sql, args = "SELECT COUNT(*) FROM queue WHERE state IN ('queued', 'running', 'publishing')", []
        if batch is not None:
            sql += " AND batch = ?"
            args.append(batch)
        return int(self.db.connection().execute(sql, args).fetchone()[0])

    def update(self, item_id: int, conn: sqlite3.Connection | None = None, **fields: Any) -> None:
        """Set columns of a row (dict values are stored as JSON), inside ``conn``'s transaction if given."""
        fields["updated_at"] = self.clock()
        cols = ", ".join(f"{k} = ?" for k in fields)
        values = [json.dumps(v) if isinstance(v, dict) else v for v in fields.values()]
        sql = f"UPDATE queue SET {cols} WHERE id = ?"  # noqa: S608 - column names are ours
        if conn is not None:
            conn.execute(sql, [*values, item_id])
            return
        with self.db.transaction() as own:
            own.execute(sql, [*values, item_id])

    def refresh_leases(self, item_ids: Iterable[int]) -> set[int]:
        """Extend this process's leases; return the ids that were cancelled meanwhile."""
        ids = list(item_ids)
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        with self.db.transaction() as conn:
            conn.execute(
                f"UPDATE queue SET lease_until = ? WHERE id IN ({marks}) AND owner_token = ?",  # noqa: S608
                [self.clock() + LEASE_SECONDS, *ids, OWNER_TOKEN],
            )
            rows = conn.execute(f"SELECT id FROM queue WHERE id IN ({marks}) AND state = 'cancelled'", ids)  # noqa: S608
            return {int(r["id"]) for r in rows}

    def retry(self, item_id: int) -> QueueItem:
        """Put a failed or cancelled row back in the queue with fresh attempts."""
        item = self.get(item_id)
        if item.state not in ("failed", "cancelled"):
            raise NotFoundError(
                f"Transfer {item_id} is {item.state}, not failed or cancelled",
                "only failed or cancelled transfers can be retried",
            )
        row = (
            self.db.connection()
            .execute("SELECT owner_token, owner_pid, lease_until FROM queue WHERE id = ?", (item_id,))
            .fetchone()
        )
        if row["owner_token"] is not None and pid_alive(row["owner_pid"]) and (row["lease_until"] or 0) > self.clock():
            # cancelled while running: its worker has not stopped yet, and a second one must not write the same file
            raise TransferAppError(
                f"Transfer {item_id} is still stopping after the cancel",
                "retry it in a few seconds, once it shows as cancelled",
                retryable=True,
            )
        self.update(item_id, state="queued", attempts=0, next_attempt_at=0.0, error="", hint="", owner_pid=None)
        return self.get(item_id)

    def cancel(self, item_id: int, conn: sqlite3.Connection | None = None) -> QueueItem:
        """Cancel a queued or running row (a running one stops at its next chunk); returns the row as it was."""
        item = self.get(item_id)
        if item.state in TERMINAL:
            raise NotFoundError(f"Transfer {item_id} is already {item.state}", "nothing to cancel")
        self.update(item_id, conn, state="cancelled", error="cancelled by the user", hint="")
        return item
