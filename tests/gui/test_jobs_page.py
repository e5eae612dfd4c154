"""The Jobs page: jobs with their schedule and next run, switching on and off, removing, run now over SFTP."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from support.jobs_kit import files_in
from support.sshd import SshdServer

from transferapp.app import AppContext
from transferapp.config import Connection, load_config
from transferapp.gui.backend import Backend
from transferapp.gui.models.jobs_model import COLUMNS, ERROR_COLOR, NEXT_RUN_ROLE, format_time
from transferapp.gui.pages.jobs import JobsPage
from transferapp.jobs.model import job_from_toml, load_jobs
from transferapp.jobs.schedule import Schedule, local_now
from transferapp.store.jobs import JobStore


def add_job(ctx: AppContext, name: str, table: dict[str, Any]) -> None:
    """Store a job table the way the CLI does (validated first)."""
    job_from_toml(name, table, "test")
    ctx.config.other.setdefault("jobs", {})[name] = table
    ctx.config.save()


def cell(page: JobsPage, name: str, column: str, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    row = page.model.row_of(name)
    assert row >= 0, f"no row for {name}"
    return page.model.index(row, COLUMNS.index(column)).data(role)


def test_the_page_lists_jobs_with_the_next_run_their_schedule_computes(backend: Backend, qtbot, tmp_path: Path) -> None:
    ctx = backend.ctx
    ctx.config.connections["pim"] = Connection("pim", "sftp://shop@127.0.0.1:2222/in", auth="key", key_file="/k")
    add_job(ctx, "watched", {"kind": "push", "connection": "pim", "watch": str(tmp_path)})
    add_job(ctx, "hourly", {"kind": "pull", "connection": "pim", "pattern": "*.xml", "target": str(tmp_path / "in"),
                            "every": "1h", "window": "00:00-23:59"})  # fmt: skip
    add_job(ctx, "nightly", {"kind": "push", "connection": "pim", "watch": str(tmp_path), "schedule": "0 2 * * *"})
    add_job(ctx, "off", {"kind": "push", "connection": "pim", "watch": str(tmp_path), "enabled": False})
    ctx.config.other["jobs"]["broken"] = {"kind": "push", "connection": "gone", "watch": str(tmp_path)}
    ctx.config.save()
    last = local_now().replace(microsecond=0) - timedelta(minutes=20)
    JobStore(ctx.db).record_run("hourly", last, "error", "The server refused the login")

    page = JobsPage(backend)
    qtbot.addWidget(page)
    assert [r.name for r in page.model.rows] == ["broken", "hourly", "nightly", "off", "watched"]
    assert cell(page, "watched", "schedule") == "watch folder"
    assert cell(page, "watched", "next_run") == "when files appear"
    assert cell(page, "off", "next_run") == "disabled"
    assert cell(page, "off", "enabled", Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert cell(page, "watched", "enabled", Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked

    hourly = Schedule.parse(every="1h", window="00:00-23:59")
    assert cell(page, "hourly", "schedule") == "every 1 h, only 00:00-23:59"
    assert cell(page, "hourly", "next_run", NEXT_RUN_ROLE) == hourly.next_run(last)
    assert cell(page, "hourly", "next_run") == format_time(hourly.next_run(last), local_now())
    assert "The server refused the login" in cell(page, "hourly", "last_result")
    assert cell(page, "hourly", "last_result", Qt.ItemDataRole.ForegroundRole) == ERROR_COLOR
    assert cell(page, "hourly", "last_result", Qt.ItemDataRole.ToolTipRole) == "The server refused the login"

    nightly = Schedule.parse(cron="0 2 * * *")
    assert cell(page, "nightly", "schedule") == "daily at 02:00"
    assert cell(page, "nightly", "next_run", NEXT_RUN_ROLE) == nightly.next_run(local_now())

    assert "uses connection 'gone', which does not exist" in cell(page, "broken", "kind")
    assert cell(page, "broken", "name", Qt.ItemDataRole.ForegroundRole) == ERROR_COLOR
    assert page.drops.accepts(page.model.row_of("watched"))
    assert not page.drops.accepts(page.model.row_of("hourly"))
    assert not page.drops.accepts(page.model.row_of("broken"))


def test_enable_disable_persists_and_remove_asks_first(backend: Backend, qtbot, tmp_path: Path) -> None:
    ctx = backend.ctx
    ctx.config.connections["pim"] = Connection("pim", "sftp://shop@127.0.0.1:2222/in", auth="key", key_file="/k")
    add_job(ctx, "watched", {"kind": "push", "connection": "pim", "watch": str(tmp_path)})
    page = JobsPage(backend)
    qtbot.addWidget(page)
    page.select("watched")

    with qtbot.waitSignal(backend.config_changed):
        page.toggle_action.trigger()
    assert not load_jobs(load_config(ctx.paths.config_file))["watched"].enabled
    assert cell(page, "watched", "next_run") == "disabled"
    index = page.model.index(page.model.row_of("watched"), COLUMNS.index("enabled"))
    assert page.model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert load_jobs(load_config(ctx.paths.config_file))["watched"].enabled

    JobStore(ctx.db).record_run("watched", local_now(), "queued 1 file(s)")
    questions: list[str] = []
    page.confirm = lambda _title, text: questions.append(text) or False
    page.select("watched")
    page.remove_action.trigger()
    assert questions and "watched" in questions[0]
    assert "watched" in load_jobs(load_config(ctx.paths.config_file))
    page.confirm = lambda _title, _text: True
    page.remove_action.trigger()
    assert load_jobs(load_config(ctx.paths.config_file)) == {}
    assert page.model.rows == []
    assert JobStore(ctx.db).last_run("watched").last_run is None


def test_run_now_queues_the_files_and_the_agent_sends_them(
    backend: Backend, qtbot, tmp_path: Path, sshd: SshdServer
) -> None:
    ctx = backend.ctx
    remote = sshd.make_remote_dir("gui-run-now")
    ctx.config.connections["pim"] = Connection(
        "pim", f"sftp://{sshd.user}@127.0.0.1:{sshd.port}{remote}", auth="key",
        key_file=str(sshd.client_keys["ed25519"]), host_key=sshd.host_key_fingerprints["ssh-ed25519"],
    )  # fmt: skip
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    for name in ("a.xml", "b.xml"):
        (outbox / name).write_text(f"<order>{name}</order>")
        old = time.time() - 3600  # complete: unchanged for longer than the stable time
        os.utime(outbox / name, (old, old))
    add_job(ctx, "nightly", {"kind": "push", "connection": "pim", "watch": str(outbox), "schedule": "0 3 * * *"})
    assert backend.start() == "running"
    page = JobsPage(backend)
    qtbot.addWidget(page)
    page.select("nightly")
    page.run_action.trigger()
    qtbot.waitUntil(lambda: "2 file(s) queued" in page.status.text(), timeout=30000)
    qtbot.waitUntil(lambda: files_in(remote) == ["a.xml", "b.xml"], timeout=60000)
    assert (remote / "a.xml").read_text() == "<order>a.xml</order>"
    qtbot.waitUntil(lambda: "queued 2 file(s)" in cell(page, "nightly", "last_result"), timeout=5000)


def test_run_now_while_paused_says_the_files_wait(backend: Backend, qtbot, tmp_path: Path) -> None:
    ctx = backend.ctx
    ctx.config.connections["pim"] = Connection("pim", "sftp://shop@127.0.0.1:2222/in", auth="key", key_file="/k")
    (tmp_path / "a.xml").write_text("x")
    old = time.time() - 3600
    os.utime(tmp_path / "a.xml", (old, old))
    add_job(ctx, "watched", {"kind": "push", "connection": "pim", "watch": str(tmp_path)})
    backend.pause()
    page = JobsPage(backend)
    qtbot.addWidget(page)
    page.select("watched")
    page.run_action.trigger()
    qtbot.waitUntil(lambda: "1 file(s) queued" in page.status.text(), timeout=30000)
    assert "paused" in page.status.text()
    assert [i.local_path for i in ctx.queue.items(["queued"])] == [str(tmp_path / "a.xml")]


def test_keyboard_shortcuts_switch_edit_and_add(backend: Backend, qtbot, tmp_path: Path) -> None:
    ctx = backend.ctx
    ctx.config.connections["pim"] = Connection("pim", "sftp://shop@127.0.0.1:2222/in", auth="key", key_file="/k")
    add_job(ctx, "watched", {"kind": "push", "connection": "pim", "watch": str(tmp_path)})
    page = JobsPage(backend)
    qtbot.addWidget(page)
    with qtbot.waitActive(page):
        page.show()
        page.activateWindow()
    page.select("watched")
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Space)
    assert cell(page, "watched", "next_run") == "disabled"
    qtbot.keyClick(page.view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert cell(page, "watched", "next_run") == "when files appear"
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert page.editor is not None and page.editor.isVisible()
    assert page.editor.ui.nameEdit.text() == "watched"
    page.editor.reject()
    qtbot.keyClick(page.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert page.editor.isVisible() and page.editor.ui.nameEdit.text() == ""
    page.editor.reject()


def test_files_dropped_on_a_push_job_are_queued_for_its_connection_and_folder(
    backend: Backend, qtbot, tmp_path: Path, monkeypatch
) -> None:
    from transferapp.gui import sending

    ctx = backend.ctx
    ctx.config.connections["pim"] = Connection("pim", "sftp://shop@127.0.0.1:2222/in", auth="key", key_file="/k")
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    add_job(ctx, "watched", {"kind": "push", "connection": "pim", "watch": str(outbox), "remote_dir": "incoming"})
    dropped = tmp_path / "extra.xml"
    dropped.write_text("<order/>")
    shown: list[object] = []
    monkeypatch.setattr(sending, "confirm_hook", lambda dialog: shown.append(dialog) or True)
    page = JobsPage(backend)
    qtbot.addWidget(page)
    page.drops.dropped.emit(page.model.row_of("watched"), [str(dropped)])
    assert len(shown) == 1
    items = ctx.queue.items(["queued"])
    assert [(i.connection, i.local_path) for i in items] == [("pim", str(dropped))]
    assert items[0].remote_path == "incoming/extra.xml"
