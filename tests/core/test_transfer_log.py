"""The transfer log's hash chain detects altered, deleted and appended-by-hand rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from transferapp.store.db import Database
from transferapp.store.log import LogEntry, TransferLog


@pytest.fixture
def log(tmp_path: Path) -> TransferLog:
    transfer_log = TransferLog(Database(tmp_path / "t.sqlite3"))
    for i in range(5):
        transfer_log.append(
            LogEntry(
                "pim",
                "up",
                f"/exports/orders_{i}.xml",
                f"/in/orders_{i}.xml",
                "ok",
                bytes=100 + i,
                sha256="ab" * 32,
                duration=0.5,
            )
        )
    return transfer_log


def test_intact_log_verifies(log: TransferLog) -> None:
    report = log.verify()
    assert (report.ok, report.rows) == (True, 5)


def test_altered_row_is_detected(log: TransferLog) -> None:
    log.db.connection().execute("UPDATE log SET bytes = 999 WHERE id = 3")
    report = log.verify()
    assert not report.ok and "row 3" in report.problem and "altered" in report.problem


def test_deleted_middle_row_is_detected(log: TransferLog) -> None:
    log.db.connection().execute("DELETE FROM log WHERE id = 2")
    report = log.verify()
    assert not report.ok and "row 3" in report.problem


def test_deleted_newest_row_is_detected(log: TransferLog) -> None:
    log.db.connection().execute("DELETE FROM log WHERE id = 5")
    assert not log.verify().ok


def test_queries_filter_and_escape(log: TransferLog) -> None:
    log.append(LogEntry("oms", "down", "/x/100%_done.csv", "/out/100%_done.csv", "failed", error="Permission denied"))
    assert [e.connection for e in log.query(status="failed")] == ["oms"]
    assert len(log.query(connection="pim")) == 5
    assert [e.local_path for e in log.query(text="100%_")] == ["/x/100%_done.csv"]
    assert log.query(text="%") != [] and log.query(text="orders_4")[0].bytes == 104
    assert [e.id for e in log.query(limit=2)] == [6, 5]
    assert log.verify().ok
