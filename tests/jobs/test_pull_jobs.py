"""Pull jobs end to end against the test sshd: fetched once, remote post-actions only after a verified download."""

from __future__ import annotations

import os
from pathlib import Path

from support.cli import Cli
from support.jobs_kit import add_connection, files_in, hand_over, ok_rows
from support.sshd import SshdServer


def test_keep_fetches_only_new_or_changed_files(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (remote / "out").mkdir()
    (remote / "out" / "stock_1.csv").write_text("a\n")
    (remote / "out" / "stock_2.csv").write_text("b\n")
    (remote / "out" / "other.xml").write_text("<x/>")
    (remote / "out" / ".stock_3.csv.part").write_text("half")
    add_connection(cli, sshd, remote)
    cli.ok("job", "add", "stock", "--pull", "--from", "pim", "--pattern", "stock_*.csv", "--to", str(inbox),
           "--remote-dir", "out")  # fmt: skip
    cli.ok("job", "run", "stock")
    assert files_in(inbox) == ["stock_1.csv", "stock_2.csv"]
    cli.ok("job", "run", "stock")  # nothing new
    assert len(ok_rows(cli)) == 2
    (remote / "out" / "stock_2.csv").write_text("b changed\n")
    os.utime(remote / "out" / "stock_2.csv", (1_900_000_000, 1_900_000_000))
    cli.ok("job", "run", "stock")
    assert (inbox / "stock_2.csv").read_text() == "b changed\n"
    assert len(ok_rows(cli)) == 3
    assert files_in(remote / "out") == ["other.xml", "stock_1.csv", "stock_2.csv"]  # keep leaves them


def test_delete_and_archive_after_verified_download(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    (remote / "a").mkdir()
    (remote / "b").mkdir()
    for i in range(3):
        (remote / "a" / f"orders_{i}.xml").write_text(f"<o{i}/>")
        (remote / "b" / f"orders_{i}.xml").write_text(f"<o{i}/>")
    hand_over(sshd, remote)
    add_connection(cli, sshd, remote)
    cli.ok("job", "add", "get-a", "--pull", "--from", "pim", "--pattern", "orders_*.xml", "--to",
           str(tmp_path / "a"), "--remote-dir", "a", "--remote-after", "delete")  # fmt: skip
    cli.ok("job", "add", "get-b", "--pull", "--from", "pim", "--pattern", "orders_*.xml", "--to",
           str(tmp_path / "b"), "--remote-dir", "b", "--remote-after", "archive:done")  # fmt: skip
    cli.ok("job", "run", "get-a")
    cli.ok("job", "run", "get-b")
    assert files_in(tmp_path / "a") == files_in(tmp_path / "b") == [f"orders_{i}.xml" for i in range(3)]
    assert files_in(remote / "a") == []
    assert files_in(remote / "b") == [f"done/orders_{i}.xml" for i in range(3)]


def test_failed_download_keeps_the_remote_file(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    (remote / "orders_1.xml").write_text("<o/>")
    hand_over(sshd, remote)
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the target folder should be")
    add_connection(cli, sshd, remote)
    cli.ok("job", "add", "get", "--pull", "--from", "pim", "--pattern", "*.xml", "--to", str(tmp_path / "in"),
           "--remote-after", "delete")  # fmt: skip
    (tmp_path / "in").rmdir() if (tmp_path / "in").exists() else None
    (tmp_path / "in").symlink_to(blocker)  # the download cannot be written
    result = cli("job", "run", "get")
    assert result.code == 1
    assert files_in(remote) == ["orders_1.xml"]


def test_a_connection_used_by_a_job_cannot_be_removed(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    add_connection(cli, sshd, remote)
    cli.ok("job", "add", "get", "--pull", "--from", "pim", "--pattern", "*.xml", "--to", str(tmp_path / "in"))
    refused = cli("connection", "remove", "pim")
    assert refused.code == 1 and "used by job(s) get" in refused.err
    cli.ok("job", "remove", "get")
    assert "used by job" not in cli("connection", "remove", "pim").err
