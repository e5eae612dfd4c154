"""Push jobs end to end: a real watchdog on temp folders, the real agent, the test sshd."""

from __future__ import annotations

import datetime
import json
import os
import signal
import time
from pathlib import Path

from support.cli import Cli
from support.jobs_kit import add_connection, agent, files_in, ok_rows, stop_agent, wait_for
from support.sshd import SshdServer


def test_slow_writes_are_sent_once_and_whole_with_patterns_and_archive(
    cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path
) -> None:
    watch, archive = tmp_path / "export", tmp_path / "archive"
    watch.mkdir()
    (watch / "existing.xml").write_text("<catalog/>")  # present at start-up: picked up too
    add_connection(cli, sshd, remote)
    cli.ok("job", "add", "catalog", "--push", "--watch", str(watch), "--to", "pim", "--include", "*.xml",
           "--exclude", "*_draft.xml", "--after", f"archive:{archive}", "--stable-seconds", "1")  # fmt: skip
    with agent(cli) as proc:
        wait_for(lambda: files_in(remote) == ["existing.xml"], 30, "the existing file")
        chunks = [os.urandom(64 << 10) for _ in range(12)]
        with open(watch / "orders.xml", "wb") as handle:  # a slow writer: pauses shorter than the window
            for chunk in chunks:
                handle.write(chunk)
                handle.flush()
                time.sleep(0.3)
                assert not (remote / "orders.xml").exists()
        (watch / "notes.txt").write_text("not an export")
        (watch / "orders_draft.xml").write_text("<draft/>")
        (watch / ".hidden.xml").write_text("<hidden/>")
        (watch / "upload.xml.tmp").write_text("<tmp/>")
        wait_for(lambda: "orders.xml" in files_in(remote), 30, "orders.xml on the server")
        wait_for(lambda: not (watch / "orders.xml").exists(), 30, "orders.xml archived")
        time.sleep(2)  # the stable window twice over: ignored files stay ignored
        assert proc.poll() is None
    assert (remote / "orders.xml").read_bytes() == b"".join(chunks)
    assert files_in(remote) == ["existing.xml", "orders.xml"]
    today = datetime.date.today().isoformat()
    assert files_in(archive) == [f"{today}/existing.xml", f"{today}/orders.xml"]
    assert files_in(watch) == ["notes.txt", "orders_draft.xml", "upload.xml.tmp"]
    assert sorted(Path(r["local_path"]).name for r in ok_rows(cli)) == ["existing.xml", "orders.xml"]
    assert "agent started" in (cli.home / "logs" / "agent.log").read_text()


def test_delete_keep_and_done_marker(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    drop, keep = tmp_path / "drop", tmp_path / "keep"
    drop.mkdir()
    keep.mkdir()
    add_connection(cli, sshd, remote)
    cli.ok("job", "add", "orders", "--push", "--watch", str(drop), "--to", "pim", "--remote-dir", "orders",
           "--after", "delete", "--done-marker", ".done", "--stable-seconds", "0.5")  # fmt: skip
    cli.ok("job", "add", "stock", "--push", "--watch", str(keep), "--to", "pim", "--remote-dir", "stock",
           "--after", "keep", "--stable-seconds", "0.5")  # fmt: skip
    (keep / "stock.csv").write_text("sku,qty\n1,2\n")
    (drop / "orders_1.xml").write_text("<orders/>")
    with agent(cli):
        wait_for(lambda: files_in(remote) == ["stock/stock.csv"], 30, "stock.csv")
        time.sleep(1.5)  # complete and stable, but no marker yet
        assert not (remote / "orders").exists()
        (drop / "orders_1.xml.done").write_text("")
        wait_for(lambda: "orders/orders_1.xml" in files_in(remote), 30, "orders_1.xml after its marker")
        wait_for(lambda: files_in(drop) == [], 30, "orders_1.xml and its marker deleted")
    assert (keep / "stock.csv").exists()
    with agent(cli):  # a restart: the kept, unchanged file is not sent again
        time.sleep(3)
        (keep / "stock.csv").write_text("sku,qty\n1,3\n")  # a changed version is
        wait_for(lambda: (remote / "stock" / "stock.csv").read_text() == "sku,qty\n1,3\n", 30, "the new version")
    names = [Path(r["local_path"]).name for r in ok_rows(cli)]
    assert sorted(names) == ["orders_1.xml", "stock.csv", "stock.csv"]


def test_burst_with_kill_and_restart_is_delivered_exactly_once(
    cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path
) -> None:
    watch = tmp_path / "burst"
    watch.mkdir()
    add_connection(cli, sshd, remote)
    cli.ok("job", "add", "burst", "--push", "--watch", str(watch), "--to", "pim", "--after", "delete",
           "--stable-seconds", "0.5")  # fmt: skip
    proc = cli.popen("agent")
    try:
        for i in range(1000):
            (watch / f"file_{i:04d}.csv").write_text(f"row,{i}\n" * 20)
        wait_for(lambda: len(files_in(remote)) >= 150, 120, "part of the burst delivered")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        stop_agent(proc)
    second = cli.popen("agent")
    lock = cli.home / "data" / "agent.lock"
    try:
        wait_for(lambda: lock.exists() and lock.read_text().strip() == str(second.pid), 30, "the agent's lock")
        again = cli("agent", timeout=30)  # a second agent refuses while one runs
        assert again.code == 1 and "already running" in again.err
        wait_for(lambda: len(files_in(remote)) == 1000 and files_in(watch) == [], 240, "the whole burst")
    finally:
        assert stop_agent(second) == 0
    assert files_in(remote) == [f"file_{i:04d}.csv" for i in range(1000)]
    assert all((remote / f"file_{i:04d}.csv").read_text() == f"row,{i}\n" * 20 for i in range(0, 1000, 97))
    rows = ok_rows(cli)
    assert len(rows) == 1000 and len({r["local_path"] for r in rows}) == 1000  # each delivered exactly once
    assert not list(remote.glob(".*.part"))


def test_a_dead_server_does_not_hold_up_a_live_one(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    from support.ports import free_port

    live, dead = tmp_path / "live", tmp_path / "dead"
    live.mkdir()
    dead.mkdir()
    add_connection(cli, sshd, remote, "pim")
    add_connection(cli, sshd, remote, "gone", port=free_port())  # nothing listens there
    cli.ok("job", "add", "to-live", "--push", "--watch", str(live), "--to", "pim", "--stable-seconds", "0.5")
    cli.ok("job", "add", "to-dead", "--push", "--watch", str(dead), "--to", "gone", "--stable-seconds", "0.5")
    for i in range(3):
        (dead / f"d{i}.xml").write_text("<dead/>")
    with agent(cli):
        wait_for(lambda: any(r["attempts"] >= 1 for r in json.loads(cli.ok("queue", "--json").out)), 30, "a try")
        for i in range(5):
            (live / f"l{i}.xml").write_text("<live/>")
        wait_for(lambda: files_in(remote) == [f"l{i}.xml" for i in range(5)], 30, "the live job's files")
        queue = json.loads(cli.ok("queue", "--json").out)
    waiting = [r for r in queue if r["connection"] == "gone"]
    assert len(waiting) == 3 and all(r["state"] in ("queued", "running") for r in waiting)
    assert any("retried" in r["hint"] or r["next_attempt_at"] > 0 for r in waiting)
