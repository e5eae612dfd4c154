"""The Transfer log page: filters, search, details, CSV export of the filter, verify, refresh after transfers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QLocale

from transferapp.app import AppContext
from transferapp.config import Connection
from transferapp.errors import NetworkError, PermissionDeniedError
from transferapp.gui.backend import Backend
from transferapp.gui.pages.log import LogPage
from transferapp.store.log import LogEntry

WAIT = 10_000


def _entry(i: int, **fields: object) -> LogEntry:
    values: dict[str, object] = {
        "connection": ("pim", "oms")[i % 2],
        "direction": "up",
        "local_path": f"/exports/orders_{i}.xml",
        "remote_path": f"/in/orders_{i}.xml",
        "status": "ok",
        "bytes": 2048 * i,
        "sha256": f"{i:064x}",
        "duration": 1.5,
        "transfer_id": i,
        "at": f"2024-05-{i:02d}T12:00:00.000+00:00",
    }
    values.update(fields)
    return LogEntry(**values)  # type: ignore[arg-type]


@pytest.fixture
def page(qtbot: object, backend: Backend) -> LogPage:
    ctx: AppContext = backend.ctx
    for name in ("oms", "pim"):
        ctx.config.connections[name] = Connection(name, f"sftp://u@127.0.0.1:22/{name}", auth="agent")
    log = ctx.log
    for i in range(1, 11):
        log.append(_entry(i))
    log.append(_entry(11, status="failed", error=str(PermissionDeniedError("Cannot write /in/orders_11.xml"))))
    log.append(_entry(12, status="retry", error=str(NetworkError("Connection reset by peer")), direction="down"))
    log.append(_entry(13, details={"encrypted": True, "recipients": ["ops@example.com"]}))
    page = LogPage(backend)
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 13, timeout=WAIT)  # type: ignore[attr-defined]
    return page


def _ids(page: LogPage) -> list[int]:
    return [page.model.entry(r).id for r in range(page.model.rowCount())]  # type: ignore[union-attr]


def _select(box: object, value: str | None) -> None:
    box.setCurrentIndex(box.findData(value))  # type: ignore[attr-defined]


def _settled(qtbot: object, page: LogPage, ids: list[int]) -> None:
    qtbot.waitUntil(lambda: not page.model.is_loading() and _ids(page) == ids, timeout=WAIT)  # type: ignore[attr-defined]


def test_filters_search_and_count(qtbot: object, page: LogPage) -> None:
    qtbot.waitUntil(lambda: page.count_label.text() == "13 transfers", timeout=WAIT)  # type: ignore[attr-defined]
    assert [page.connection_box.itemText(i) for i in range(3)] == ["All connections", "oms", "pim"]
    _select(page.connection_box, "oms")
    _settled(qtbot, page, [13, 11, 9, 7, 5, 3, 1])
    _select(page.status_box, "failed")
    _settled(qtbot, page, [11])
    _select(page.connection_box, None)
    _select(page.status_box, None)
    _select(page.direction_box, "down")
    _settled(qtbot, page, [12])
    _select(page.direction_box, None)
    qtbot.keyClicks(page.search_edit, "ORDERS_1")  # type: ignore[attr-defined]
    _settled(qtbot, page, [13, 12, 11, 10, 1])
    qtbot.waitUntil(lambda: page.count_label.text() == "5 transfers", timeout=WAIT)  # type: ignore[attr-defined]
    page.search_edit.clear()
    _settled(qtbot, page, list(range(13, 0, -1)))
    page.to_edit.setDate(QDate(2024, 5, 4))  # the dates count only when switched on
    page.from_edit.setDate(QDate(2024, 5, 2))
    _settled(qtbot, page, list(range(13, 0, -1)))
    page.dates_check.setChecked(True)
    _settled(qtbot, page, [4, 3, 2])  # local days; the rows are at noon UTC, inside them in any time zone but ±12 h


def test_details_show_the_whole_row(qtbot: object, page: LogPage) -> None:
    page.view.selectRow(_ids(page).index(11))
    text = page.details.toPlainText()
    assert "Cannot write /in/orders_11.xml" in text and "/exports/orders_11.xml" in text
    assert PermissionDeniedError.default_hint in text  # the hint, on its own line
    assert f"{11:064x}" in text and f"22.0 KiB ({QLocale().toString(22528)} bytes)" in text
    assert "How to fix it" in text and f"({PermissionDeniedError.default_hint})" not in text
    page.view.selectRow(_ids(page).index(13))
    text = page.details.toPlainText()
    assert '"recipients": [\n    "ops@example.com"\n  ]' in text  # the details JSON, pretty
    assert "Error" not in text


def test_export_writes_the_current_filter(qtbot: object, page: LogPage, tmp_path: Path) -> None:
    _select(page.connection_box, "pim")
    _settled(qtbot, page, [12, 10, 8, 6, 4, 2])
    target = tmp_path / "pim.csv"
    with qtbot.waitSignal(page.exported, timeout=WAIT) as signal:  # type: ignore[attr-defined]
        page.export_csv(target)
    assert signal.args == [6, str(target)]
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["12", "10", "8", "6", "4", "2"]
    assert rows[0]["error"].startswith("Connection reset by peer") and rows[0]["direction"] == "down"
    assert "Exported 6 rows" in page.message.text() and page.export_action.isEnabled()
    page.choose_file = lambda: str(tmp_path / "chosen.csv")  # what the file dialog would answer
    with qtbot.waitSignal(page.exported, timeout=WAIT):  # type: ignore[attr-defined]
        page.export_action.trigger()
    assert len((tmp_path / "chosen.csv").read_text().splitlines()) == 7
    with qtbot.waitSignal(page.export_failed, timeout=WAIT) as failed:  # type: ignore[attr-defined]
        page.export_csv(tmp_path / "no-such-folder" / "x.csv")
    assert "no-such-folder" in failed.args[0] and failed.args[1]
    assert page.message.property("error") is True


def test_verify_reports_intact_and_tampered(qtbot: object, page: LogPage) -> None:
    with qtbot.waitSignal(page.verified, timeout=WAIT) as signal:  # type: ignore[attr-defined]
        page.verify_action.trigger()
    assert signal.args[0].ok and signal.args[0].rows == 13
    assert "intact: 13 rows checked" in page.message.text()
    page.backend.ctx.db.connection().execute("UPDATE log SET remote_path = '/in/other.xml' WHERE id = 5")
    with qtbot.waitSignal(page.verified, timeout=WAIT) as signal:  # type: ignore[attr-defined]
        page.verify()
    assert not signal.args[0].ok and "row 5" in signal.args[0].problem
    assert "row 5" in page.message.text() and page.message.property("error") is True


def test_finished_transfers_appear_under_the_same_filter(qtbot: object, page: LogPage) -> None:
    _select(page.connection_box, "oms")
    _settled(qtbot, page, [13, 11, 9, 7, 5, 3, 1])
    page.view.selectRow(1)  # row 11
    log = page.backend.ctx.log
    log.append(_entry(14, connection="pim"))
    log.append(_entry(15, connection="oms"))
    page.backend.events.finished.emit(15, "ok", "", "")
    _settled(qtbot, page, [15, 13, 11, 9, 7, 5, 3, 1])
    assert page.connection_box.currentData() == "oms"
    assert page.model.entry(page.view.currentIndex().row()).id == 11  # the selection stayed on its row
    qtbot.waitUntil(lambda: page.count_label.text() == "8 transfers", timeout=WAIT)  # type: ignore[attr-defined]
