"""Interrupted transfers against a real sshd: server crash, network cut, client crash; the CLI runs as a subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import (
    Cli,
    LogTail,
    MiB,
    Watcher,
    background,
    finish,
    output,
    part_files,
    random_file,
    server_back_up,
    sha256,
    sparse_file,
    wait_for,
    wait_part_grown,
)
from support.delay_proxy import DelayProxy
from support.sshd import SshdServer

from transferapp.publish import plan_chunks

BIG_MIB = 200
DOWN_SECONDS = 1.5  # how long the server stays dead
RENAME_DELAY_MS = 100  # one-way delay: the rename's answer is still in flight when the test acts
WIRE_SLACK = 4 * MiB  # SSH/SFTP framing and handshakes on top of the payload bytes


@pytest.fixture
def cli(ta_home: Path) -> Cli:
    """The CLI without a keyring: key logins need none."""
    return Cli(ta_home)


@pytest.fixture
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 MiB of random data (shared, read-only)."""
    return random_file(tmp_path_factory, BIG_MIB)


def rows_for(cli: Cli, local: Path, status: str | None = None) -> list[dict]:
    return [r for r in cli.log_rows(status) if r["local_path"] == str(local)]


def crash_server(sshd: SshdServer, proc: subprocess.Popen[bytes], final: Path) -> float:
    """SIGKILL the server; while it is down the final name stays absent and the transfer waits; restart it."""
    sshd.kill()
    deadline = time.monotonic() + DOWN_SECONDS
    while time.monotonic() < deadline:
        assert not final.exists(), f"{final} appeared while the server was dead"
        time.sleep(0.05)
    assert proc.poll() is None, "the transfer gave up while the server was down instead of retrying"
    sshd.restart()
    return time.monotonic()


@pytest.mark.parametrize("failure", ["server killed", "network cut"])
def test_interrupted_upload_resumes(cli: Cli, sshd: SshdServer, big: Path, tmp_path: Path, failure: str) -> None:
    """One stream; the sshd is SIGKILLed (and restarted), or the TCP connection is cut, after the first chunk."""
    remote = sshd.make_remote_dir(f"upload-{failure.replace(' ', '-')}")
    size = big.stat().st_size
    first_chunk_end = plan_chunks(size, 1)[0][1]
    final = remote / big.name
    with server_back_up(sshd), DelayProxy(sshd.host, sshd.port, 0) as proxy:
        cli.add_key_connection("box", sshd, remote, "--streams", "1", port=proxy.port)
        with (
            background(cli.popen("send", str(big), "--to", "box", out_dir=tmp_path / "send")) as proc,
            Watcher(lambda: part_files(remote, big.name)) as parts,
            Watcher(lambda: [final]) as finals,
        ):
            wait_part_grown(remote, big.name, first_chunk_end + 16 * MiB, proc, timeout=60)
            if failure == "server killed":
                crash_server(sshd, proc, final)
            else:
                proxy.drop_connections()
            resumed_at, wire_before = time.monotonic(), proxy.bytes_forwarded
            code = finish(proc, timeout=120)
        resent = proxy.bytes_forwarded - wire_before
    out, err = output(tmp_path / "send")
    assert code == 0, f"send failed after the interruption: {out} {err}"
    assert sha256(final) == sha256(big)
    assert part_files(remote, big.name) == []
    assert sorted(p.name for p in remote.iterdir()) == [big.name]
    assert set(finals.sizes()) == {size}, "the final name held a partial file"

    statuses = [r["status"] for r in rows_for(cli, big)]
    assert statuses[-1] == "ok" and statuses[:-1] and set(statuses[:-1]) == {"retry"}, statuses
    [item] = cli.queue_rows()
    assert item["state"] == "done" and item["attempts"] >= 2

    print(f"{failure}: {resent / MiB:.1f} MiB of {size / MiB:.0f} MiB sent after the interruption")
    # Resumed, not restarted: the chunk finished before the interruption is not sent again, and the part
    # file is never truncated below it.
    assert resent < size - first_chunk_end + WIRE_SLACK, f"{resent} bytes went over the wire after the interruption"
    after = parts.sizes(since=resumed_at)
    assert after and min(after) >= first_chunk_end, f"the upload started over (part at {min(after or [0])} bytes)"


def test_final_name_never_holds_a_partial_file(cli: Cli, sshd: SshdServer, big: Path, tmp_path: Path) -> None:
    """Parallel streams, the server crashes in between: the final name is absent or complete, never partial."""
    remote = sshd.make_remote_dir("never-partial")
    size = big.stat().st_size
    final = remote / "out" / big.name
    # 10 ms round trips: far enough that the default 4 streams are used (nearby, one stream is faster)
    with server_back_up(sshd), DelayProxy(sshd.host, sshd.port, 5) as proxy:
        cli.add_key_connection("box", sshd, remote, port=proxy.port)
        logins = LogTail(sshd.log_path)
        send = cli.popen("send", str(big), "--to", "box", "--remote-dir", "out", out_dir=tmp_path / "s")
        with background(send) as proc, Watcher(lambda: [final]) as finals:
            wait_part_grown(remote / "out", big.name, 64 * MiB, proc, timeout=60)
            assert not final.exists()
            streams = len(logins.lines("Accepted publickey"))
            crash_server(sshd, proc, final)
            code = finish(proc, timeout=120)
    assert code == 0, output(tmp_path / "s")
    assert streams > 1, f"only {streams} session(s) wrote the file: the parallel-stream case was not tested"
    assert finals.samples, "the watcher never saw the published file"
    assert set(finals.sizes()) == {size}, f"partial sizes seen at the final name: {sorted(set(finals.sizes()))}"
    assert sha256(final) == sha256(big)
    assert sorted(p.name for p in final.parent.iterdir()) == [big.name]


def test_client_killed_mid_upload_then_queue_run(cli: Cli, sshd: SshdServer, big: Path, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("sigkill-client")
    first_chunk_end = plan_chunks(big.stat().st_size, 1)[0][1]
    final = remote / big.name
    with DelayProxy(sshd.host, sshd.port, 0) as proxy:
        cli.add_key_connection("box", sshd, remote, "--streams", "1", port=proxy.port)
        with background(cli.popen("send", str(big), "--to", "box", out_dir=tmp_path / "send")) as proc:
            wait_part_grown(remote, big.name, first_chunk_end + 16 * MiB, proc, timeout=60)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)  # reaped: its pid no longer counts as a live owner
        assert not final.exists()
        [left] = cli.queue_rows(everything=False)
        assert left["state"] == "running"  # a dead owner's row, to be taken over

        wire_before = proxy.bytes_forwarded
        with Watcher(lambda: part_files(remote, big.name)) as parts:
            result = cli("queue", "run", timeout=120)
        resent = proxy.bytes_forwarded - wire_before
    assert result.code == 0, result
    print(f"queue run sent {resent / MiB:.1f} MiB")
    assert sha256(final) == sha256(big)
    assert part_files(remote, big.name) == []
    assert resent < big.stat().st_size - first_chunk_end + WIRE_SLACK, f"queue run sent {resent} bytes"
    assert parts.sizes() and min(parts.sizes()) >= first_chunk_end, "queue run truncated the part file"
    assert len(rows_for(cli, big, "ok")) == 1
    assert cli.queue_rows(everything=False) == []
    [done] = cli.queue_rows()
    assert done["state"] == "done"

    log_before = cli.log_rows()
    again = cli("queue", "run")
    assert again.code == 0 and "Nothing is queued" in again.out, again
    assert cli.log_rows() == log_before  # exactly once: no new row, nothing sent again
    assert sorted(p.name for p in remote.iterdir()) == [big.name]


def test_ctrl_c_stops_send_and_queue_run_resumes(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    """Ctrl-C says "interrupted; queued transfers resume with 'transferapp queue run'": that must be true."""
    remote = sshd.make_remote_dir("ctrl-c")
    source = sparse_file(tmp_path / "pricelist.bin", 400 * MiB)
    size = source.stat().st_size
    first_chunk_end = plan_chunks(size, 1)[0][1]
    final = remote / source.name
    with DelayProxy(sshd.host, sshd.port, 20) as proxy:  # 40 ms round trips: about 15 s for the whole file
        cli.add_key_connection("box", sshd, remote, "--streams", "1", port=proxy.port)
        with background(cli.popen("send", str(source), "--to", "box", out_dir=tmp_path / "send")) as proc:
            wait_part_grown(remote, source.name, first_chunk_end + 8 * MiB, proc, timeout=60)
            os.kill(proc.pid, signal.SIGINT)
            asked_at = time.monotonic()
            code = finish(proc, timeout=120)
            latency = time.monotonic() - asked_at
        err = output(tmp_path / "send")[1]
        assert code == 130 and "interrupted" in err, err
        assert not final.exists() and latency < 10, f"send went on for {latency:.0f}s after Ctrl-C, to the end"
        assert [row["state"] for row in cli.queue_rows()] == ["queued"]
        proxy.set_delay(0)
        wire_before = proxy.bytes_forwarded
        result = cli("queue", "run", timeout=120)
        resent = proxy.bytes_forwarded - wire_before
    assert result.code == 0, result
    assert sha256(final) == sha256(source)
    assert [r["status"] for r in cli.log_rows()] == ["ok"]
    assert resent < size - first_chunk_end + WIRE_SLACK, f"queue run sent {resent} bytes: the part was not kept"


@pytest.mark.parametrize("size", [4 * MiB, 100 * 1024], ids=["chunked", "batched"])
def test_client_killed_between_rename_and_log(cli: Cli, sshd: SshdServer, tmp_path: Path, size: int) -> None:
    """SIGKILL right after the server renamed the part, before the log row: queue run records it, sends nothing."""
    remote = sshd.make_remote_dir("rename-then-kill")
    source = tmp_path / "invoice 4711.pdf"
    source.write_bytes(os.urandom(size))
    final = remote / source.name
    with DelayProxy(sshd.host, sshd.port, RENAME_DELAY_MS) as proxy:
        cli.add_key_connection("box", sshd, remote, port=proxy.port)
        with background(cli.popen("send", str(source), "--to", "box", out_dir=tmp_path / "send")) as proc:
            wait_for(lambda: final.exists() or proc.poll() is not None, 60, "the rename", interval=0.001)
            os.kill(proc.pid, signal.SIGKILL)  # the rename's answer is still in the proxy
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL, "send ended before the file was published"
        assert cli.log_rows() == []
        proxy.set_delay(0)
        wire_before = proxy.bytes_forwarded
        result = cli("queue", "run")
        resent = proxy.bytes_forwarded - wire_before
    assert result.code == 0, result
    assert sha256(final) == sha256(source)
    assert [r["status"] for r in cli.log_rows()] == ["ok"]
    assert sorted(p.name for p in remote.iterdir()) == [source.name]
    assert resent < size // 2, f"queue run sent {resent} bytes for a file that was already published"


@pytest.mark.parametrize("size", [4 * MiB, 100 * 1024], ids=["chunked", "batched"])
def test_lost_rename_answer_publishes_once(cli: Cli, sshd: SshdServer, tmp_path: Path, size: int) -> None:
    """The server renamed the part but the connection died before the answer came back: the retry must find
    the file published, not send and rename it again (a partner importing new files would get it twice)."""
    remote = sshd.make_remote_dir("rename-answer-lost")
    source = tmp_path / "invoice 4712.pdf"
    source.write_bytes(os.urandom(size))
    final = remote / source.name
    with DelayProxy(sshd.host, sshd.port, RENAME_DELAY_MS) as proxy:
        cli.add_key_connection("box", sshd, remote, port=proxy.port)
        with background(cli.popen("send", str(source), "--to", "box", out_dir=tmp_path / "send")) as proc:
            wait_for(lambda: final.exists() or proc.poll() is not None, 60, "the rename", interval=0.001)
            assert proc.poll() is None, "send ended before the file was published"
            proxy.drop_connections()  # the rename's answer is still in the proxy: it is lost
            proxy.set_delay(0)
            published = final.stat().st_ino
            wire_before = proxy.bytes_forwarded
            with Watcher(lambda: part_files(remote, source.name)) as parts:
                code = finish(proc, timeout=60)
            resent = proxy.bytes_forwarded - wire_before
    assert code == 0, output(tmp_path / "send")
    assert sha256(final) == sha256(source)
    assert [r["status"] for r in cli.log_rows()][-1] == "ok"
    assert not parts.samples, f"a new part file was uploaded after the file had been published: {parts.samples[-1]}"
    assert final.stat().st_ino == published, "the file was renamed onto the final name a second time"
    assert resent < size // 2, f"{resent} bytes were sent again for a published file"


def test_login_cut_by_network_drop_is_retried(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    """The server accepted the key, the connection dies before its answer arrives: a network error, not a
    refused login (which would fail every queued file of the connection at once, for good)."""
    remote = sshd.make_remote_dir("login-cut")
    source = tmp_path / "stock.csv"
    source.write_text("sku;qty\n1;5\n")
    with DelayProxy(sshd.host, sshd.port, RENAME_DELAY_MS) as proxy:
        cli.add_key_connection("box", sshd, remote, port=proxy.port)
        logins = LogTail(sshd.log_path)
        with background(cli.popen("send", str(source), "--to", "box", out_dir=tmp_path / "send")) as proc:
            logins.wait_for("Accepted publickey", timeout=30)
            proxy.drop_connections()  # the server's "login ok" is still in the proxy
            proxy.set_delay(0)
            code = finish(proc, timeout=60)
    out, err = output(tmp_path / "send")
    assert "refused" not in err, err
    assert code == 0, err
    assert (remote / source.name).read_text() == source.read_text()
    assert [r["status"] for r in cli.log_rows()] == ["retry", "ok"]


def test_server_killed_mid_download_resumes(cli: Cli, sshd: SshdServer, big: Path, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("kill-download")
    name = "export 2024-06.bin"
    shutil.copyfile(big, remote / name)
    inbox = tmp_path / "inbox"
    final = inbox / name
    with server_back_up(sshd), DelayProxy(sshd.host, sshd.port, 0) as proxy:
        cli.add_key_connection("box", sshd, remote, port=proxy.port)
        pull = cli.popen("pull", "box", "export *.bin", "--to", str(inbox), out_dir=tmp_path / "pull")
        with (
            background(pull) as proc,
            Watcher(lambda: part_files(inbox, name)) as parts,
            Watcher(lambda: [final]) as finals,
        ):
            wait_part_grown(inbox, name, 64 * MiB, proc, timeout=60)
            assert [p.name for p in inbox.iterdir()] == [f".{name}.part"]
            restarted_at = crash_server(sshd, proc, final)
            wire_before = proxy.bytes_forwarded
            code = finish(proc, timeout=120)
        resent = proxy.bytes_forwarded - wire_before
    assert code == 0, output(tmp_path / "pull")
    print(f"download: {resent / MiB:.1f} MiB fetched after the restart")
    assert sha256(final) == sha256(big)
    assert [p.name for p in inbox.iterdir()] == [name], "a temporary file was left in the target folder"
    assert set(finals.sizes()) == {big.stat().st_size}, "the target name held a partial download"
    before, after = parts.sizes(until=restarted_at), parts.sizes(since=restarted_at)
    assert after and min(after) >= max(before), "the local part file was truncated: the download started over"
    assert resent < big.stat().st_size - max(before) + WIRE_SLACK, f"{resent} bytes fetched again after the restart"
    statuses = [r["status"] for r in cli.log_rows() if r["local_path"] == str(final)]
    assert statuses[-1] == "ok" and set(statuses[:-1]) == {"retry"}, statuses
    ok_row = [r for r in cli.log_rows() if r["local_path"] == str(final) and r["status"] == "ok"][-1]
    assert ok_row["sha256"] == sha256(big), "the resumed download's logged hash must cover the whole file"
