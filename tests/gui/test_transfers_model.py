"""The Transfers table model and page: formatting of rate, ETA and totals; rows updated in place; actions."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QUrl

from transferapp.gui.backend import Backend
from transferapp.gui.models.transfers_model import (
    ETA,
    PROGRESS,
    PROGRESS_ROLE,
    RATE,
    STATUS,
    RateMeter,
    TransfersModel,
    format_eta,
    format_rate,
    totals_text,
)
from transferapp.gui.pages.transfers import TransfersPage
from transferapp.store.queue import QueueItem


def item(item_id: int, state: str = "queued", **fields: object) -> QueueItem:
    """A queue row as the database gives it."""
    values: dict[str, object] = {
        "id": item_id,
        "batch": "b",
        "connection": "pim",
        "direction": "up",
        "local_path": f"/data/out/file{item_id}.csv",
        "remote_path": f"in/file{item_id}.csv",
        "state": state,
        "attempts": 0,
        "max_attempts": 5,
        "next_attempt_at": 0.0,
        "total_bytes": 10 << 20,
        "done_bytes": 0,
        "snapshot": None,
        "resume": None,
        "error": "",
        "hint": "",
        "options": {},
        "created_at": 1.0,
        "updated_at": time.time(),
    }
    values.update(fields)
    return QueueItem(**values)  # type: ignore[arg-type]


def test_rate_eta_and_totals_read_well() -> None:
    assert format_rate(0) == "" and format_rate(None) == ""
    assert format_rate(1536) == "1.5 KiB/s"
    assert format_rate(34.2 * (1 << 20)) == "34.2 MiB/s"
    assert format_eta(None) == "" and format_eta(-1) == ""
    assert format_eta(8.2) == "8 s"
    assert format_eta(125) == "2 min 05 s"
    assert format_eta(3720) == "1 h 02 min"
    counts = {"running": 2, "queued": 5, "failed": 1, "done": 9}
    assert totals_text(counts, 34.2 * (1 << 20)) == "2 running · 5 queued · 1 failed · 34.2 MiB/s"
    assert totals_text({"done": 3}, 0) == "No transfers running"
    assert totals_text({"queued": 1}, 99.0) == "1 queued"  # no rate when nothing runs


def test_the_rate_is_measured_over_a_sliding_window() -> None:
    now = [100.0]
    meter = RateMeter(window=5.0, clock=lambda: now[0])
    assert meter.rate() == 0.0
    for second in range(11):  # 1 MiB/s for 10 s
        now[0] = 100.0 + second
        meter.add(second << 20)
    assert meter.rate() == float(1 << 20)
    for second in range(11, 16):  # then 3 MiB/s: the old samples leave the window
        now[0] = 100.0 + second
        meter.add((10 << 20) + (second - 10) * (3 << 20))
    assert meter.rate() == float(3 << 20)
    meter.add(0)  # a restart from zero starts over
    assert meter.rate() == 0.0


def test_rows_are_added_on_top_and_updated_in_place(qtbot) -> None:
    model = TransfersModel()
    model.merge([item(1), item(2)])
    assert [model.rows[n].item.id for n in range(2)] == [2, 1]  # newest first
    inserted, changed, resets = [], [], []
    model.rowsInserted.connect(lambda *a: inserted.append(a[1:]))
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    model.modelReset.connect(lambda: resets.append(1))
    model.merge([item(3)])
    assert inserted == [(0, 0)] and model.row_of(1) == 2
    model.progress(1, 5 << 20, 10 << 20)
    assert changed == [(2, 2)] and not resets
    index = model.index(2, PROGRESS)
    assert model.data(index, PROGRESS_ROLE) == 50 and model.data(index) == "50 %"
    assert model.rows[2].status() == "running"
    model.merge([item(1, "running", done_bytes=1 << 20)])  # the database lags the live bytes
    assert model.rows[2].done == 5 << 20
    model.merge([item(1, "failed", error="Permission denied writing in/file1.csv", hint="check the folder")])
    assert model.data(model.index(2, STATUS)) == "Failed: Permission denied writing in/file1.csv"
    assert "How to fix it: check the folder" in model.data(model.index(2, STATUS), 3)  # tooltip role
    model.merge([item(2, "queued", attempts=1, next_attempt_at=time.time() + 30)])
    assert model.rows[1].status() == "retry-wait"
    assert model.data(model.index(1, STATUS)).startswith("Retry in ")
    assert model.counts() == {"queued": 1, "retry-wait": 1, "failed": 1}
    assert not resets


def test_rate_and_eta_of_a_running_row(qtbot) -> None:
    model = TransfersModel()
    model.merge([item(1, "running", total_bytes=100 << 20)])
    now = [0.0]
    model.rows[0].meter = RateMeter(clock=lambda: now[0])
    for second in range(3):
        now[0] = float(second)
        model.progress(1, second * (10 << 20), 100 << 20)
    assert model.data(model.index(0, RATE)) == "10.0 MiB/s"
    assert model.data(model.index(0, ETA)) == "8 s"


def test_thousands_of_rows_update_without_resets(qtbot) -> None:
    model = TransfersModel()
    model.merge([item(n) for n in range(1, 5001)])
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    started = time.perf_counter()
    for n in range(1, 5001, 7):
        model.progress(n, 1 << 20, 10 << 20)
    model.merge([item(n, "running", done_bytes=2 << 20) for n in range(1, 5001, 3)])
    assert time.perf_counter() - started < 2.0
    assert not resets and model.rowCount() == 5000


def test_the_progress_bar_is_drawn(qtbot, backend: Backend) -> None:
    page = TransfersPage(backend)
    qtbot.addWidget(page)
    page.model.merge([item(1, "running", done_bytes=5 << 20)])
    page.resize(900, 300)
    page.show()
    qtbot.waitExposed(page)
    image = page.view.viewport().grab().toImage()
    rect = page.view.visualRect(page.model.index(0, PROGRESS))
    colours = {image.pixel(x, rect.center().y()) for x in range(rect.left() + 4, rect.right() - 4)}
    assert len(colours) > 2  # a bar and its groove, not a blank cell


def test_page_actions_open_the_folder_and_retry(qtbot, backend: Backend, tmp_path: Path) -> None:
    source = tmp_path / "orders.xml"
    source.write_text("<orders/>")
    page = TransfersPage(backend)
    qtbot.addWidget(page)
    opened: list[QUrl] = []
    page.open_url = opened.append
    totals: list[str] = []
    page.totals_changed.connect(totals.append)
    item_id = backend.ctx.queue.add("pim", "up", str(source), "orders.xml", total_bytes=9)
    qtbot.waitUntil(lambda: page.model.row_of(item_id) >= 0, timeout=3000)  # read from the database
    qtbot.waitUntil(lambda: totals and totals[-1] == "1 queued", timeout=3000)
    assert page.activity == "busy"
    page.view.selectRow(page.model.row_of(item_id))
    assert page.cancel_action.isEnabled() and not page.retry_action.isEnabled()
    assert page.cancel_action.shortcut().toString() == "Del" and page.retry_action.shortcut().toString() == "Ctrl+R"
    page.open_action.trigger()
    assert opened == [QUrl.fromLocalFile(str(tmp_path))]
    page.cancel_action.trigger()  # a queued transfer stops at once
    assert page.model.rows[page.model.row_of(item_id)].status() == "cancelled"
    assert page.retry_action.isEnabled() and not page.cancel_action.isEnabled()
    page.retry_action.trigger()
    assert backend.ctx.queue.get(item_id).state == "queued"
    assert page.model.rows[page.model.row_of(item_id)].status() == "queued"
    page.clear_finished()
    assert page.model.rowCount() == 1  # only finished rows are hidden
    backend.ctx.queue.update(item_id, state="failed", error="Permission denied", hint="check the folder")
    qtbot.waitUntil(lambda: page.activity == "error", timeout=3000)
    assert "1 failed" in totals[-1]
    page.view.clearSelection()
    page.view.selectRow(page.model.row_of(item_id))
    assert "Failed: Permission denied" in page.details.text()
    assert "How to fix it: check the folder" in page.details.text()
    page.clear_finished()
    assert page.model.rowCount() == 0 and page.activity == "idle"
