"""The transfer log: one row per attempt outcome, hash-chained so that an altered or deleted row shows."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from transferapp.errors import LocalFileError, PermissionDeniedError, StorageFullError, TransferAppError
from transferapp.store.db import Database
from transferapp.store.log_filter import LogFilter, QueryStopped, Stop, has_text_index, planned_where, stoppable

__all__ = ["LogEntry", "LogFilter", "QueryStopped", "TransferLog", "VerifyReport"]

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
CSV_COLUMNS = ("id", *HASHED_FIELDS)


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


def _export_error(exc: OSError, target: Path) -> TransferAppError:
    """Name the file and the fix for a failed CSV export."""
    if exc.errno == 28:  # ENOSPC
        return StorageFullError(f"The disk holding {target} is full", "free space there or export to another disk")
    if exc.errno == 13:  # EACCES
        return PermissionDeniedError(f"Cannot write {target}: permission denied", "pick a folder you can write to")
    return LocalFileError(f"Cannot write {target}: {exc.strerror}", "pick another file name or folder")


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
        self._text_index: bool | None = None  # whether the database has the trigram index (looked up once)

    def _where(self, where: LogFilter, ordered: bool = True) -> tuple[str, list[object]]:
        """``where``'s SQL condition, planned for this database's indexes and data (and newest first if ordered)."""
        conn = self.db.connection()
        if self._text_index is None:
            self._text_index = has_text_index(conn)
        return planned_where(conn, where, self._text_index, ordered)

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
        where, args = self._where(LogFilter(status, connection, direction, text, since, until))
        sql = f"SELECT * FROM log WHERE {where} ORDER BY id DESC"  # noqa: S608 - fixed column names
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [self._entry(row) for row in self.db.connection().execute(sql, args)]

    def page(
        self, where: LogFilter, before_id: int | None = None, limit: int = 500, stop: Stop | None = None
    ) -> list[LogEntry]:
        """The ``limit`` newest rows matching ``where`` with an id below ``before_id`` (keyset paging: a deep page
        costs what the first does). ``stop()`` returning true aborts the query with QueryStopped."""
        sql, args = self._where(where)
        if before_id is not None:
            sql += " AND id < ?"
            args.append(before_id)
        conn = self.db.connection()
        with stoppable(conn, stop):
            rows = conn.execute(
                f"SELECT * FROM log WHERE {sql} ORDER BY id DESC LIMIT ?",  # noqa: S608 - fixed column names
                [*args, limit],
            ).fetchall()
        return [self._entry(row) for row in rows]

    def newer(self, where: LogFilter, after_id: int, limit: int = 1000) -> list[LogEntry]:
        """Rows matching ``where`` added after ``after_id``, newest first (at most ``limit`` of the newest)."""
        sql, args = self._where(where)
        rows = (
            self.db.connection()
            .execute(
                f"SELECT * FROM log WHERE {sql} AND id > ? ORDER BY id DESC LIMIT ?",  # noqa: S608 - fixed names
                [*args, after_id, limit],
            )
            .fetchall()
        )
        return [self._entry(row) for row in rows]

    def count(self, where: LogFilter, stop: Stop | None = None) -> int:
        """How many rows match ``where`` (the whole log's count comes from its head row, without a scan)."""
        conn = self.db.connection()
        if where.is_empty():
            head = conn.execute("SELECT rows FROM log_head WHERE id = 1").fetchone()
            return int(head["rows"]) if head else 0
        sql, args = self._where(where, ordered=False)
        with stoppable(conn, stop):
            return int(conn.execute(f"SELECT count(*) FROM log WHERE {sql}", args).fetchone()[0])  # noqa: S608

    def get(self, row_id: int) -> LogEntry | None:
        """The row with this id, if there is one."""
        row = self.db.connection().execute("SELECT * FROM log WHERE id = ?", (row_id,)).fetchone()
        return self._entry(row) if row else None

    def write_csv(self, where: LogFilter, out: TextIO, stop: Stop | None = None) -> int:
        """Stream the rows matching ``where`` (newest first) as CSV with a header line; returns the row count."""
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        sql, args = self._where(where)
        conn, count = self.db.connection(), 0
        with stoppable(conn, stop):
            cursor = conn.execute(f"SELECT * FROM log WHERE {sql} ORDER BY id DESC", args)  # noqa: S608
            while rows := cursor.fetchmany(2000):
                writer.writerows([row[c] for c in CSV_COLUMNS] for row in rows)
                count += len(rows)
        return count

    def export_csv(self, where: LogFilter, target: Path, stop: Stop | None = None) -> int:
        """Write the rows matching ``where`` to the CSV file ``target`` (replaced only when complete); row count."""
        part = target.with_name(target.name + ".part")
        try:
            with open(part, "w", encoding="utf-8", newline="") as out:
                count = self.write_csv(where, out, stop)
            os.replace(part, target)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise _export_error(exc, target) from None
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return count

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
