"""The Transfer log page over a 1,000,000-row log: time to open it, and to filter and search it.

A temporary ``TRANSFERAPP_HOME`` gets ``--rows`` log rows written straight into the log table (the same rows as
the tests' ``support.log_rows``: five connections, 3 % failed, one row every 30 s), with the trigram search index
rebuilt once at the end. Then, in this process (Qt offscreen unless ``QT_QPA_PLATFORM`` says otherwise):

- open: from creating the LogPage until its first page of rows is painted (``--repeat`` fresh pages).
- filter: from changing the filter until the first page of matching rows is painted: one connection; one
  connection + status failed; a frequent text ("/sfcc/"), a rare text (100 matching rows), a text nothing
  matches, a one-week date range a year back. The search box's typing pause (250 ms) is not included.
- count: when the "N transfers" label has its number (runs in the background; informs only).

Goals: open <= 1 s, each filter <= 300 ms (medians). The log file stays in the OS page cache (it was just
written), so these are warm-cache figures. No reference tool: the line and the JSON record only compare with
the goals.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import OUT_DIR, RESULTS_FILE, add_repeat_arg, code_state

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from support.log_rows import at_of, fill_log  # noqa: E402 - bench.common puts tests/ on the path first

OPEN_GOAL_S = 1.0
FILTER_GOAL_S = 0.3
TIMEOUT_S = 60.0


def wait_for(app: Any, done: Callable[[], bool], what: str) -> None:
    """Run the Qt event loop (as the app does: exec, not a busy loop) until ``done()``; raise after TIMEOUT_S."""
    from PySide6.QtCore import QEventLoop, QTimer

    if done():
        return
    loop, deadline = QEventLoop(), time.monotonic() + TIMEOUT_S
    timer = QTimer(interval=2)
    timer.timeout.connect(lambda: (done() or time.monotonic() > deadline) and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()
    if not done():
        raise RuntimeError(f"timed out waiting for {what}")


def first_page_shown(app: Any, page: Any) -> None:
    """Wait for the model's first page (or its empty answer), then paint the table once."""
    wait_for(app, lambda: not page.model.is_loading(), "the first page")
    page.view.viewport().repaint()


def main(argv: list[str] | None = None) -> int:
    """Build the log, then time opening the page and each filter ``--repeat`` times; print medians and goals."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="log rows (default 1,000,000)")
    add_repeat_arg(parser, 5)
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="ta-bench-log-"))
    os.environ["TRANSFERAPP_HOME"] = str(home)
    try:
        return run(args.rows, max(1, args.repeat))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(rows: int, repeat: int) -> int:
    """The measurements (TRANSFERAPP_HOME is a fresh folder)."""
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QApplication

    from transferapp.app import open_app
    from transferapp.config import Connection
    from transferapp.gui.backend import Backend
    from transferapp.gui.pages.log import LogPage

    ctx = open_app()
    start = time.perf_counter()
    fill_log(ctx.db, rows)
    fill_s = time.perf_counter() - start
    size = ctx.paths.database_file.stat().st_size
    print(f"log of {rows:,} rows written in {fill_s:.1f} s ({size / 2**20:.0f} MiB)", flush=True)
    for name in ("erp", "oms", "pim", "sfcc", "wms"):
        ctx.config.connections[name] = Connection(name, f"sftp://u@127.0.0.1:22/{name}", auth="agent")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    backend = Backend(ctx)

    open_runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        page = LogPage(backend)
        page.resize(1200, 800)
        page.show()
        first_page_shown(app, page)
        open_runs.append(time.perf_counter() - start)
        if page.model.rowCount() != min(rows, page.model.page_size):
            raise RuntimeError(f"the first page holds {page.model.rowCount()} rows")
        page.close()
        page.deleteLater()
        app.processEvents()

    page = LogPage(backend)
    page.resize(1200, 800)
    page.show()
    first_page_shown(app, page)
    year_back = datetime.fromisoformat(at_of(max(1, rows - 365 * 2880))).astimezone()  # rows are 30 s apart
    week = (QDate(year_back.date()), QDate(year_back.date()).addDays(6))
    cases: list[tuple[str, dict[str, Any]]] = [
        ("connection", {"connection": "pim"}),
        ("connection + status", {"connection": "pim", "status": "failed"}),
        ("text, frequent ('/sfcc/')", {"text": "/sfcc/"}),
        ("text, rare ('orders_00001', 100 rows)", {"text": "orders_00001"}),
        ("text, no match", {"text": "no-such-file.xml"}),
        ("text, two letters ('zq': no index, a scan)", {"text": "zq"}),
        ("one week, a year back", {"days": week}),
    ]
    results: dict[str, dict[str, Any]] = {}
    for name, fields in cases:
        runs, counts, shown = [], [], 0
        for _ in range(repeat):
            apply_filter(page, {})  # start each run from the whole log
            first_page_shown(app, page)
            wait_for(app, lambda: page.model.count is not None, "the count")
            start = time.perf_counter()
            apply_filter(page, fields)
            first_page_shown(app, page)
            runs.append(time.perf_counter() - start)
            wait_for(app, lambda: page.model.count is not None, "the count")
            counts.append(time.perf_counter() - start)
            shown = page.model.rowCount()
        results[name] = {
            "first_page_s": statistics.median(runs),
            "runs_s": [round(r, 4) for r in runs],
            "count_s": statistics.median(counts),
            "rows_shown": shown,
            "matching": page.model.count,
        }
    page.close()
    backend.shutdown()
    return print_results(rows, fill_s, size, open_runs, results)


def apply_filter(page: Any, fields: dict[str, Any]) -> None:
    """Set the page's controls all at once (unset ones to "all") and apply them; no typing pause for the search."""
    controls = (page.connection_box, page.status_box, page.search_edit, page.dates_check, page.from_edit, page.to_edit)
    for control in controls:
        control.blockSignals(True)
    page.connection_box.setCurrentIndex(page.connection_box.findData(fields.get("connection")))
    page.status_box.setCurrentIndex(page.status_box.findData(fields.get("status")))
    page.search_edit.setText(fields.get("text", ""))
    page.dates_check.setChecked("days" in fields)
    if "days" in fields:
        page.from_edit.setDate(fields["days"][0])
        page.to_edit.setDate(fields["days"][1])
    for control in controls:
        control.blockSignals(False)
    page.apply_filter()


def print_results(
    rows: int, fill_s: float, size: int, open_runs: list[float], results: dict[str, dict[str, Any]]
) -> int:
    """Print one line per figure with its goal, and append the JSON record to bench/out/results.jsonl."""
    open_s = statistics.median(open_runs)
    verdict = "ok" if open_s <= OPEN_GOAL_S else "ABOVE GOAL"
    print(
        f"open the log page ({rows:,} rows): {open_s * 1000:.0f} ms (goal <= {OPEN_GOAL_S * 1000:.0f} ms) [{verdict}]"
    )
    meets = open_s <= OPEN_GOAL_S
    for name, figures in results.items():
        ok = figures["first_page_s"] <= FILTER_GOAL_S
        meets = meets and ok
        print(
            f"filter {name}: first page {figures['first_page_s'] * 1000:.0f} ms "
            f"(goal <= {FILTER_GOAL_S * 1000:.0f} ms) [{'ok' if ok else 'ABOVE GOAL'}]; "
            f"{figures['rows_shown']} rows shown; count {figures['matching']:,} "
            f"after {figures['count_s'] * 1000:.0f} ms"
        )
    print(f"    medians of {len(open_runs)} runs; warm page cache; fill {fill_s:.1f} s, {size / 2**20:.0f} MiB")
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "name": f"log page with {rows:,} rows",
        "open_s": round(open_s, 4),
        "open_runs_s": [round(r, 4) for r in open_runs],
        "open_goal_s": OPEN_GOAL_S,
        "filter_goal_s": FILTER_GOAL_S,
        "filters": {
            k: {**v, "first_page_s": round(v["first_page_s"], 4), "count_s": round(v["count_s"], 4)}
            for k, v in results.items()
        },  # fmt: skip
        "meets_goal": meets,
        "database_bytes": size,
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "code": code_state(),
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with open(RESULTS_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
