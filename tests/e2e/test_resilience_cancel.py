"""Cancelling transfers with ``queue cancel`` from another process, against a real sshd."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from helpers import (
    Cli,
    MiB,
    background,
    finish,
    output,
    random_file,
    server_back_up,
    sparse_file,
    wait_for,
    wait_part_grown,
)
from support.delay_proxy import DelayProxy
from support.sshd import SshdServer

SLOW_MS = 20  # one-way delay: 40 ms round trips keep a transfer running long past the cancel


@pytest.fixture
def cli(ta_home: Path) -> Cli:
    """The CLI without a keyring: key logins need none."""
    return Cli(ta_home)


def cancel_running(cli: Cli, local: Path) -> float:
    """``queue cancel`` the one active transfer (it must be ``local``); return when it was asked."""
    [running] = cli.queue_rows(everything=False)
    assert running["state"] == "running" and running["local_path"] == str(local), running
    cli.ok("queue", "cancel", str(running["id"]))
    return time.monotonic()


def test_cancel_running_upload(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("cancel")
    source = sparse_file(tmp_path / "catalog-full.bin", 1 << 30)
    with DelayProxy(sshd.host, sshd.port, SLOW_MS) as proxy:
        cli.add_key_connection("box", sshd, remote, "--streams", "1", port=proxy.port)
        with background(cli.popen("send", str(source), "--to", "box", out_dir=tmp_path / "send")) as proc:
            wait_part_grown(remote, source.name, 32 * MiB, proc, timeout=60)
            asked_at = cancel_running(cli, source)
            code = finish(proc, timeout=60)
            latency = time.monotonic() - asked_at
    out, err = output(tmp_path / "send")
    assert code != 0, f"send reported success for a cancelled transfer: {out}"
    assert "cancelled" in err
    print(f"cancel took effect after {latency:.1f}s")
    assert latency < 15, f"the upload stopped only {latency:.1f}s after the cancel"
    [item] = cli.queue_rows()
    assert item["state"] == "cancelled"
    assert list(remote.iterdir()) == [], "the partial upload (or a file) was left on the server"
    assert [r["status"] for r in cli.log_rows()] == ["cancelled"]


def test_cancel_running_download(
    cli: Cli, sshd: SshdServer, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    remote = sshd.make_remote_dir("cancel-download")
    shutil.copyfile(random_file(tmp_path_factory, 200), remote / "catalog.bin")
    inbox = tmp_path / "inbox"
    with DelayProxy(sshd.host, sshd.port, SLOW_MS) as proxy:
        cli.add_key_connection("box", sshd, remote, port=proxy.port)
        with background(cli.popen("pull", "box", "catalog.*", "--to", str(inbox), out_dir=tmp_path / "pull")) as proc:
            wait_part_grown(inbox, "catalog.bin", 8 * MiB, proc, timeout=60)
            cancel_running(cli, inbox / "catalog.bin")
            code = finish(proc, timeout=60)
    assert code != 0 and "cancelled" in output(tmp_path / "pull")[1]
    assert [item["state"] for item in cli.queue_rows()] == ["cancelled"]
    assert [r["status"] for r in cli.log_rows()] == ["cancelled"]
    assert list(inbox.iterdir()) == [], "the cancelled download left files in the target folder"


def test_cancel_while_waiting_to_retry(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("cancel-waiting")
    source = tmp_path / "prices.csv"
    source.write_text("sku;price\n")
    with server_back_up(sshd):
        cli.add_key_connection("box", sshd, remote)
        sshd.kill()  # every attempt fails until the cancel
        with background(cli.popen("send", str(source), "--to", "box", out_dir=tmp_path / "send")) as proc:
            wait_for(lambda: cli.log_rows("retry"), 30, "a failed first attempt")
            [waiting] = cli.queue_rows(everything=False)
            cli.ok("queue", "cancel", str(waiting["id"]))
            code = finish(proc, timeout=30)
    err = output(tmp_path / "send")[1]
    assert code != 0 and "cancelled by the user" in err, err
    [item] = cli.queue_rows()
    assert item["state"] == "cancelled"
    assert not (remote / source.name).exists()
    assert "retried automatically" not in err and "retried automatically" not in item["hint"], err
