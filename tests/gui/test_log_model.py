"""The log model over 1,000,000 rows: it holds only the pages fetched, newest first, and filters without a full load."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.log_rows import CONNECTIONS, fill_log, row_of

from transferapp.gui.models.log_model import CONNECTION, ENTRY_ROLE, FILE, STATUS, TIME, LogModel, local_time
from transferapp.store.db import Database
from transferapp.store.log import LogEntry, LogFilter, TransferLog

ROWS = 1_000_000
PAGE = 500


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransferLog]:
    """A log of 1,000,000 rows (filled straight into the table; its hash chain is not valid)."""
    db = Database(tmp_path_factory.mktemp("biglog") / "log.sqlite3")
    fill_log(db, ROWS)
    yield TransferLog(db)
    db.close()


@pytest.fixture
def model(qtbot: object, big_log: TransferLog) -> Iterator[LogModel]:
    model = LogModel(big_log, page_size=PAGE)
    yield model
    model.deleteLater()


def _show(qtbot: object, model: LogModel, where: LogFilter, rows: int) -> None:
    model.set_filter(where)
    qtbot.waitUntil(lambda: not model.is_loading() and model.rowCount() == rows, timeout=20_000)  # type: ignore[attr-defined]


def _entries(model: LogModel) -> list[LogEntry]:
    return [model.data(model.index(r, 0), ENTRY_ROLE) for r in range(model.rowCount())]


def test_pages_arrive_one_at_a_time_newest_first(qtbot: object, model: LogModel) -> None:
    _show(qtbot, model, LogFilter(), PAGE)
    assert model.held_rows() == PAGE and model.canFetchMore()
    first = model.index(0, FILE)
    assert model.data(first) == row_of(ROWS)[3]  # the local path of the newest row
    assert model.data(model.index(0, TIME)) == local_time(str(row_of(ROWS)[0]))
    assert model.data(model.index(0, CONNECTION)) == CONNECTIONS[ROWS % 5]
    assert model.data(model.index(PAGE - 1, 0), ENTRY_ROLE).id == ROWS - PAGE + 1
    qtbot.waitUntil(lambda: model.count == ROWS, timeout=20_000)  # type: ignore[attr-defined]
    for pages in (2, 3):
        model.fetchMore()
        assert not model.canFetchMore()  # one page on its way at a time
        qtbot.waitUntil(lambda p=pages: model.rowCount() == p * PAGE, timeout=20_000)  # type: ignore[attr-defined]
        assert model.held_rows() == model.rowCount() == pages * PAGE
    ids = [e.id for e in _entries(model)]
    assert ids == list(range(ROWS, ROWS - 3 * PAGE, -1))
    row = model.data(model.index(3 * PAGE - 1, 0), ENTRY_ROLE)
    assert (row.local_path, row.status, row.bytes) == (row_of(row.id)[3], row_of(row.id)[8], row_of(row.id)[5])


def test_filters_return_only_matching_rows(qtbot: object, model: LogModel) -> None:
    counts: list[int] = []
    model.count_changed.connect(counts.append)
    _show(qtbot, model, LogFilter(connection="pim", status="failed"), PAGE)
    entries = _entries(model)
    assert all(e.connection == "pim" and e.status == "failed" for e in entries)
    assert [e.id for e in entries] == list(range(ROWS, ROWS - PAGE * 100, -100))  # every 100th row
    assert model.data(model.index(0, STATUS)) == "Failed"
    qtbot.waitUntil(lambda: model.count == ROWS // 100, timeout=20_000)  # type: ignore[attr-defined]
    assert counts[0] == -1  # "counting" first
    model.fetchMore()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE, timeout=20_000)  # type: ignore[attr-defined]
    assert model.held_rows() == 2 * PAGE

    _show(qtbot, model, LogFilter(text="ORDERS_00001"), 100)  # ids 100..199: the oldest rows, found by index
    assert [e.id for e in _entries(model)] == list(range(199, 99, -1))
    assert not model.canFetchMore()
    qtbot.waitUntil(lambda: model.count == 100, timeout=20_000)  # type: ignore[attr-defined]

    _show(qtbot, model, LogFilter(text="/sfcc/", direction="down"), PAGE)  # frequent text: found walking down
    assert all("/sfcc/" in e.local_path and e.direction == "down" for e in _entries(model))
    assert model.held_rows() == PAGE

    since, until = str(row_of(2000)[0]), str(row_of(2010)[0])
    _show(qtbot, model, LogFilter(since=since, until=until, status="ok"), 3)  # of rows 2000..2009, 3 are ok
    assert [e.id for e in _entries(model)] == [2009, 2008, 2007]
    assert not model.canFetchMore()


def test_a_newer_filter_replaces_one_still_loading(qtbot: object, model: LogModel) -> None:
    model.set_filter(LogFilter(text="zq"))  # a scan of every row (too short for the index), replaced at once
    _show(qtbot, model, LogFilter(connection="erp"), PAGE)
    qtbot.waitUntil(lambda: model.pool.activeThreadCount() == 0, timeout=20_000)  # type: ignore[attr-defined]
    qtbot.wait(50)  # deliver whatever the replaced queries answered
    assert model.rowCount() == PAGE and {e.connection for e in _entries(model)} == {"erp"}
    qtbot.waitUntil(lambda: model.count == ROWS // 5, timeout=20_000)  # type: ignore[attr-defined]
