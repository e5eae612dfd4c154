"""The transfer log: one row per attempt outcome, hash-chained so that an altered or deleted row shows."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from transferapp.store.db import Database

GENESIS = "0" * 64
STATUSES = ("ok", "failed", "retry", "cancelled")
HASHED_FIELDS = (
    "at",
    "connection",
    "direction",
    "local_path",
    "remote_path",
    "bytes",
    "sha256",
    "duration",
    "status",
    "error",
    "transfer_id",
    "attempt",
    "details",
)


@dataclass
class LogEntry:
    """What one attempt did."""

    connection: str
    direction: str
    local_path: str
    remote_path: str
    status: str
    bytes: int = 0
    sha256: str = ""
    duration: float = 0.0
    error: str = ""
    transfer_id: int | None = None
    attempt: int = 1
    details: dict[str, Any] = field(default_factory=dict)
    at: str = ""
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for ``log --json``."""
        return asdict(self)


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of checking the hash chain."""

    ok: bool
    rows: int
    problem: str = ""


def _row_hash(prev_hash: str, values: dict[str, Any]) -> str:
    canonical = json.dumps([values[k] for k in HASHED_FIELDS], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _values(entry: LogEntry) -> dict[str, Any]:
    values = {k: getattr(entry, k) for k in HASHED_FIELDS}
    values["details"] = json.dumps(entry.details, sort_keys=True, separators=(",", ":"))
    values["duration"] = round(float(entry.duration), 3)
    return values


class TransferLog:
    """Appends to and reads the transfer log."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, entry: LogEntry, conn: sqlite3.Connection | None = None) -> int:
        """Add a row, chained to the one before, and return its id (inside ``conn``'s transaction if given)."""
        if conn is None:
            with self.db.transaction() as own:
                return self.append(entry, own)
        if entry.status not in STATUSES:
            raise ValueError(f"unknown log status {entry.status!r}")
        entry.at = entry.at or datetime.now(UTC).isoformat(timespec="milliseconds")
        values = _values(entry)
        head = conn.execute("SELECT last_id, last_hash, rows FROM log_head WHERE id = 1").fetchone()
        prev_hash, rows = (head["last_hash"], head["rows"]) if head else (GENESIS, 0)
        row_hash = _row_hash(prev_hash, values)
        cursor = conn.execute(
            f"INSERT INTO log ({', '.join(HASHED_FIELDS)}, prev_hash, row_hash)"  # noqa: S608 - fixed names
            f" VALUES ({', '.join('?' * len(HASHED_FIELDS))}, ?, ?)",
            [*values.values(), prev_hash, row_hash],
        )
        row_id = int(cursor.lastrowid or 0)
        conn.execute(
            "INSERT OR REPLACE INTO log_head (id, last_id, last_hash, rows) VALUES (1, ?, ?, ?)",
            (row_id, row_hash, rows + 1),
        )
        entry.id = row_id
        return row_id

    def query(
        self,
        *,
        limit: int | None = 100,
        status: str | None = None,
        connection: str | None = None,
        direction: str | None = None,
        text: str | None = None,
        since: str | None = None,
        until: str | None = None,
        offset: int = 0,
    ) -> list[LogEntry]:
        """Newest rows first, filtered; every filter is optional."""
        sql, args = "SELECT * FROM log WHERE 1=1", list[object]()
        for column, value in (("status", status), ("connection", connection), ("direction", direction)):
            if value:
                sql += f" AND {column} = ?"
                args.append(value)
        if since:
            sql += " AND at >= ?"
            args.append(since)
        if until:
            sql += " AND at < ?"
            args.append(until)
        if text:
            sql += " AND (local_path LIKE ? ESCAPE '\\' OR remote_path LIKE ? ESCAPE '\\' OR error LIKE ? ESCAPE '\\')"
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args += [pattern] * 3
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [self._entry(row) for row in self.db.connection().execute(sql, args)]

    @staticmethod
    def _entry(row: Any) -> LogEntry:
        return LogEntry(
            id=row["id"],
            at=row["at"],
            connection=row["connection"],
            direction=row["direction"],
            local_path=row["local_path"],
            remote_path=row["remote_path"],
            status=row["status"],
            bytes=row["bytes"],
            sha256=row["sha256"],
            duration=row["duration"],
            error=row["error"],
            transfer_id=row["transfer_id"],
            attempt=row["attempt"],
            details=json.loads(row["details"] or "{}"),
        )

    def verify(self) -> VerifyReport:
        """Recompute the chain; report the first altered, inserted or deleted row."""
        conn = self.db.connection()
        prev_hash, count, last_id = GENESIS, 0, 0
        for row in conn.execute("SELECT * FROM log ORDER BY id"):
            values = {k: row[k] for k in HASHED_FIELDS}
            if row["prev_hash"] != prev_hash:
                return VerifyReport(False, count, f"row {row['id']}: the row before it was deleted or altered")
            if _row_hash(prev_hash, values) != row["row_hash"]:
                return VerifyReport(False, count, f"row {row['id']}: its contents were altered")
            prev_hash, count, last_id = row["row_hash"], count + 1, row["id"]
        head = conn.execute("SELECT last_id, last_hash, rows FROM log_head WHERE id = 1").fetchone()
        if head is None and count == 0:
            return VerifyReport(True, 0)
        if head is None or head["last_hash"] != prev_hash or head["rows"] != count or head["last_id"] != last_id:
            return VerifyReport(False, count, "the newest rows were deleted, or the log head was altered")
        return VerifyReport(True, count)
