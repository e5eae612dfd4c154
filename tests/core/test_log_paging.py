"""Keyset pages, counts, CSV export and query plans of the transfer log; the schema migration keeps old rows."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from support.cli import Cli
from support.log_rows import fill_log

from transferapp.errors import LocalFileError, PermissionDeniedError
from transferapp.store.db import MIGRATIONS, Database
from transferapp.store.log import CSV_COLUMNS, LogEntry, LogFilter, QueryStopped, TransferLog
from transferapp.store.log_filter import split_error

CONNECTIONS = ("pim", "oms", "sfcc")


def _entry(i: int) -> LogEntry:
    status = ("ok", "failed", "ok", "retry", "cancelled")[i % 5]
    error = "" if status == "ok" else str(PermissionDeniedError(f"Cannot write /in/f{i}.csv: permission denied"))
    return LogEntry(
        CONNECTIONS[i % 3],
        "down" if i % 4 == 0 else "up",
        f"/exports/day_{i:03d}/orders_{i}.csv",
        f"/in/orders_{i}.csv",
        status,
        bytes=1000 + i,
        sha256=f"{i:064x}",
        duration=i / 10,
        error=error,
        transfer_id=i,
        details={"encrypted": i % 2 == 0, "note": 'Grüße, "quoted", comma'},
        at=f"2024-03-{1 + i // 10:02d}T{i % 10:02d}:00:00.000+00:00",
    )


@pytest.fixture
def log(tmp_path: Path) -> TransferLog:
    transfer_log = TransferLog(Database(tmp_path / "t.sqlite3"))
    for i in range(1, 61):
        transfer_log.append(_entry(i))
    return transfer_log


def _ids(entries: list[LogEntry]) -> list[int]:
    return [e.id or 0 for e in entries]


def test_keyset_pages_walk_the_filter_newest_first(log: TransferLog) -> None:
    where = LogFilter(connection="pim")
    seen: list[int] = []
    page = log.page(where, None, 7)
    while page:
        seen += _ids(page)
        page = log.page(where, page[-1].id, 7)
    assert seen == [i for i in range(60, 0, -1) if i % 3 == 0]
    assert seen == _ids(log.query(connection="pim", limit=None))
    assert log.count(where) == 20 and log.count(LogFilter()) == 60


@pytest.mark.parametrize(
    "where",
    [
        LogFilter(status="failed", direction="up"),
        LogFilter(connection="oms", status="retry"),
        LogFilter(text="ORDERS_1"),  # case-insensitive, matches orders_1 and orders_10..19
        LogFilter(text="y_00"),  # in /exports/day_00N/ only
        LogFilter(text="permission", connection="sfcc"),
        LogFilter(text="_5"),  # shorter than the trigram index can look up: found by scanning
        LogFilter(since="2024-03-03T00:00:00.000+00:00", until="2024-03-05T00:00:00.000+00:00"),
        LogFilter(since="2024-03-06T00:00:00.000+00:00", text="orders"),
    ],
)
def test_every_plan_finds_the_same_rows(log: TransferLog, where: LogFilter) -> None:
    conn = log.db.connection()
    expected = sorted((i for i in range(1, 61) if _matches(_entry(i), where)), reverse=True)
    for date_index in (True, False):
        for text_index in (True, False) if where.text and len(where.text) >= 3 else (False,):
            sql, args = where.where(date_index=date_index, text_index=text_index)
            rows = conn.execute(f"SELECT id FROM log WHERE {sql} ORDER BY id DESC", args).fetchall()  # noqa: S608
            assert [r[0] for r in rows] == expected, (date_index, text_index)
    assert _ids(log.page(where, None, 100)) == expected
    assert log.count(where) == len(expected)
    assert expected, "the case should match some rows"


def _matches(e: LogEntry, where: LogFilter) -> bool:
    text = (where.text or "").lower()
    return (
        (not where.status or e.status == where.status)
        and (not where.connection or e.connection == where.connection)
        and (not where.direction or e.direction == where.direction)
        and (not where.since or e.at >= where.since)
        and (not where.until or e.at < where.until)
        and (not text or any(text in s.lower() for s in (e.local_path, e.remote_path, e.error)))
    )


def test_newer_rows_and_a_stopped_query(log: TransferLog) -> None:
    assert _ids(log.newer(LogFilter(), 57)) == [60, 59, 58]
    log.append(_entry(61))
    assert _ids(log.newer(LogFilter(connection="oms"), 60)) == [61]
    assert log.get(61) is not None and log.get(999) is None


def test_a_stopped_query_aborts(tmp_path: Path) -> None:
    big = TransferLog(Database(tmp_path / "big.sqlite3"))
    fill_log(big.db, 5000)
    polls: list[int] = []

    def stop() -> bool:
        polls.append(1)
        return len(polls) > 2

    with pytest.raises(QueryStopped):
        big.count(LogFilter(text="zz"), stop)  # two letters: a scan of every row
    assert 3 <= len(polls) <= 4  # stopped at the third poll, not after the scan
    with pytest.raises(QueryStopped):
        big.export_csv(LogFilter(), tmp_path / "all.csv", stop=lambda: True)
    assert not (tmp_path / "all.csv").exists() and not (tmp_path / "all.csv.part").exists()
    assert len(big.page(LogFilter(text="zz"), None, 10, stop=lambda: False)) == 0  # the connection still works
    assert big.count(LogFilter(text="zz")) == 0 and big.count(LogFilter(status="failed")) == 150


def test_csv_export_streams_the_filter(log: TransferLog, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    assert log.export_csv(LogFilter(status="failed"), target) == 12
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [int(r["id"]) for r in rows] == [i for i in range(60, 0, -1) if i % 5 == 1]
    first = _entry(56)
    assert rows[0]["local_path"] == first.local_path and rows[0]["sha256"] == first.sha256
    assert rows[0]["error"] == first.error and json.loads(rows[0]["details"]) == first.details
    assert not (tmp_path / "out.csv.part").exists()
    out = io.StringIO()
    assert log.write_csv(LogFilter(text="nothing like this"), out) == 0
    assert out.getvalue().splitlines() == [",".join(CSV_COLUMNS)]


def test_export_to_a_missing_folder_names_it(log: TransferLog, tmp_path: Path) -> None:
    with pytest.raises(LocalFileError) as caught:
        log.export_csv(LogFilter(), tmp_path / "missing" / "out.csv")
    assert "missing/out.csv" in caught.value.message and caught.value.hint


def test_cli_exports_csv(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = Cli(home)
    assert cli("log").code == 0  # creates the installation
    db_file = next(home.rglob("transferapp.sqlite3"))
    transfer_log = TransferLog(Database(db_file))
    for i in range(1, 11):
        transfer_log.append(_entry(i))
    result = cli("log", "--connection", "oms", "--export-csv", str(tmp_path / "oms.csv"))
    assert result.code == 0, result.err
    assert "Exported 4 log rows" in result.out
    with open(tmp_path / "oms.csv", newline="") as handle:
        assert [r["id"] for r in csv.DictReader(handle)] == ["10", "7", "4", "1"]


def test_error_and_hint_are_split() -> None:
    error = str(PermissionDeniedError("Cannot write /in/a.csv: permission denied"))
    assert split_error(error) == ("Cannot write /in/a.csv: permission denied", PermissionDeniedError.default_hint)
    assert split_error("Disk gone (call the admin)", ["call the admin"]) == ("Disk gone", "call the admin")
    assert split_error("Odd (not a hint)") == ("Odd (not a hint)", "")


def test_migration_indexes_rows_logged_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    conn.close()
    TransferLog(_RawDb(path)).append(_entry(7))  # a row written by version 2, before the newer migrations
    transfer_log = TransferLog(Database(path))
    assert (tmp_path / "old.v2.bak").exists()
    names = {r[0] for r in transfer_log.db.connection().execute("SELECT name FROM sqlite_master")}
    assert {"log_connection_id", "log_status_id", "log_direction_id", "log_connection_status_id"} <= names
    assert _ids(transfer_log.page(LogFilter(text="orders_7"), None, 10)) == [1]
    transfer_log.append(_entry(17))
    assert _ids(transfer_log.page(LogFilter(text="orders_"), None, 10)) == [2, 1]
    assert transfer_log.verify().ok


class _RawDb(Database):
    """A Database that does not migrate (to write rows as an older version did)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
