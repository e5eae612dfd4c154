"""Hard inputs against a real sshd: refused folders, bad local files, odd names, many files (also while
the client or the server crashes), a huge file, no keyring."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from helpers import Cli, MiB, background, finish, output, server_back_up, sftp_url, sha256, sparse_file, wait_for
from support.delay_proxy import DelayProxy
from support.sshd import SshdServer

GiB = 1 << 30


@pytest.fixture
def cli(ta_home: Path) -> Cli:
    """The CLI without a keyring: key logins need none."""
    return Cli(ta_home)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too) by relative path, with its content."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_remote_folder_not_writable_fails_fast(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    locked = sshd.make_remote_dir("locked", writable=False)
    cli.add_key_connection("box", sshd, locked)
    source = tmp_path / "orders_0001.xml"
    source.write_text("<orders/>")
    result = cli("send", str(source), "--to", "box")
    assert result.code != 0, result
    assert result.seconds < 15, f"a permanent error took {result.seconds:.1f}s (retried?)"
    assert "permission" in result.err.lower(), result.err
    assert [r["status"] for r in cli.log_rows()] == ["failed"]  # one row, no 'retry' rows
    [item] = cli.queue_rows()
    assert item["state"] == "failed" and item["attempts"] == 1
    assert list(locked.iterdir()) == []


def test_missing_local_file(cli: Cli, sshd: SshdServer) -> None:
    cli.add_key_connection("box", sshd, sshd.make_remote_dir("missing-local"))
    result = cli("send", "/nonexistent/file", "--to", "box")
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "/nonexistent/file" in lines[0], result.err
    assert "Traceback" not in result.err
    assert cli.queue_rows() == [] and cli.log_rows() == []


def test_unreadable_local_file(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # Running the CLI as the sshd test user instead does not work here: the interpreter lives under /root.
        pytest.skip("root reads a file whatever its mode, so chmod 000 cannot make it unreadable")
    remote = sshd.make_remote_dir("unreadable")
    cli.add_key_connection("box", sshd, remote)
    source = tmp_path / "secret.csv"
    source.write_text("a;b\n")
    source.chmod(0)
    try:
        result = cli("send", str(source), "--to", "box")
    finally:
        source.chmod(0o600)
    assert result.code != 0 and result.seconds < 15, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and str(source) in lines[0] and "permission" in lines[0].lower(), result.err
    assert [r["status"] for r in cli.log_rows()] == ["failed"]  # not retried
    assert list(remote.iterdir()) == []


def test_non_ascii_and_space_names_round_trip(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("Eingang März")  # the connection URL itself holds a space and an umlaut
    cli.add_key_connection("box", sshd, remote)
    payload = tmp_path / "Ausgang 2024"
    files = {
        "Bestellungen März 2024.xml": "<bestellung kunde='Müller'/>\n".encode(),
        "カタログ export.csv": "品番;価格\n1;100\n".encode(),
        "Out Box/é/Lieferschein Nr. 1 (Kopie).txt": os.urandom(5000),
        "Out Box/naïve 'quoted' name.txt": b"x",
        "Out Box/é/leer – empty.txt": b"",
    }
    for relative, data in files.items():
        path = payload / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    cli.ok("send", str(payload), "--to", "box")
    assert tree(remote) == {f"{payload.name}/{rel}": data for rel, data in files.items()}
    ok_paths = {r["remote_path"] for r in cli.log_rows("ok")}
    assert ok_paths == {f"{remote}/{payload.name}/{rel}" for rel in files}

    back = tmp_path / "zurück"
    cli.ok("pull", "box", "* *.*", "--to", str(back), "--remote-dir", payload.name)
    cli.ok("pull", "box", "*", "--to", str(back / "Out Box" / "é"), "--remote-dir", f"{payload.name}/Out Box/é")
    cli.ok("pull", "box", "naïve*", "--to", str(back / "Out Box"), "--remote-dir", f"{remote}/{payload.name}/Out Box")
    assert tree(back) == files
    assert [r["status"] for r in cli.log_rows()] == ["ok"] * (2 * len(files))


def order_files(folder: Path, count: int = 300, size: int = 10 * 1024) -> dict[str, bytes]:
    """``count`` files of random content in a new ``folder``; returns name -> content."""
    folder.mkdir()
    files = {f"order_{i:03d}.xml": os.urandom(size) for i in range(count)}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def assert_sent_once(cli: Cli, remote: Path, folder: Path, files: dict[str, bytes]) -> None:
    """Every file arrived whole, nothing else is left on the server, and each has exactly one 'ok' row."""
    assert tree(remote) == {f"{folder.name}/{name}": data for name, data in files.items()}
    ok = [r["local_path"] for r in cli.log_rows("ok")]
    assert sorted(ok) == sorted(str(folder / name) for name in files)
    assert cli.queue_rows(everything=False) == []
    assert f"intact ({len(cli.log_rows())} rows checked)" in cli.ok("log", "verify").out


def published(folder: Path) -> int:
    return sum(1 for p in folder.glob("order_*.xml")) if folder.is_dir() else 0


def test_many_small_files_with_concurrency(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("many")
    cli.add_key_connection("box", sshd, remote, "--concurrency", "8")
    files = order_files(tmp_path / "orders")
    logins_before = sshd.log_text().count("Accepted publickey")
    result = cli.ok("send", str(tmp_path / "orders"), "--to", "box", timeout=240)
    logins = sshd.log_text().count("Accepted publickey") - logins_before
    assert_sent_once(cli, remote, tmp_path / "orders", files)
    assert {r["status"] for r in cli.log_rows()} == {"ok"}
    assert 1 < logins <= 8, f"{logins} logins for 300 files with --concurrency 8"
    print(f"300 files in {result.seconds:.1f}s over {logins} sessions")


def test_many_small_files_client_killed_then_queue_run(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("many-sigkill")
    files = order_files(tmp_path / "orders")
    with DelayProxy(sshd.host, sshd.port, 20) as proxy:  # 40 ms round trips: the run lasts a few seconds
        cli.add_key_connection("box", sshd, remote, "--concurrency", "8", port=proxy.port)
        with background(cli.popen("send", str(tmp_path / "orders"), "--to", "box", out_dir=tmp_path / "s")) as proc:
            wait_for(lambda: published(remote / "orders") >= 20 or proc.poll() is not None, 60, "20 files")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL and published(remote / "orders") < 300, "send finished first"
        result = cli("queue", "run", timeout=240)
    assert result.code == 0, result
    assert_sent_once(cli, remote, tmp_path / "orders", files)
    again = cli("queue", "run")
    assert again.code == 0 and "Nothing is queued" in again.out, again


def test_many_small_files_server_killed(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("many-server-killed")
    files = order_files(tmp_path / "orders")
    with server_back_up(sshd), DelayProxy(sshd.host, sshd.port, 20) as proxy:
        cli.add_key_connection("box", sshd, remote, "--concurrency", "8", port=proxy.port)
        with background(cli.popen("send", str(tmp_path / "orders"), "--to", "box", out_dir=tmp_path / "s")) as proc:
            wait_for(lambda: published(remote / "orders") >= 20 or proc.poll() is not None, 60, "20 files")
            sshd.kill()
            assert proc.poll() is None and published(remote / "orders") < 300, "send finished first"
            time.sleep(1.5)
            sshd.restart()
            code = finish(proc, timeout=240)
    err = output(tmp_path / "s")[1]
    assert code == 0, err
    assert_sent_once(cli, remote, tmp_path / "orders", files)
    assert {r["status"] for r in cli.log_rows()} <= {"ok", "retry"}  # retries, never a failure


@pytest.mark.slow
def test_huge_sparse_file_in_flat_memory(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("huge")
    cli.add_key_connection("box", sshd, remote)
    source = sparse_file(tmp_path / "full-export.bin", 3 * GiB)
    started = time.monotonic()
    try:
        with background(cli.popen("send", str(source), "--to", "box", out_dir=tmp_path / "send")) as proc:
            deadline = started + 240
            while True:  # wait4 gives the peak RSS of this child alone
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    break
                assert time.monotonic() < deadline, "sending 3 GiB took more than 4 minutes"
                time.sleep(0.1)
        seconds = time.monotonic() - started
        assert proc.returncode == 0, output(tmp_path / "send")
        peak = usage.ru_maxrss * 1024  # KiB on Linux
        print(f"3 GiB sent in {seconds:.1f}s, peak RSS {peak / MiB:.0f} MiB")
        # Flat means far below the 3 GiB a buffered send would hold. Seen: 55 MiB usually, 201 MiB in some CI
        # runs (cause not found yet, see the closing note); the bound leaves room for that and nothing more.
        assert peak < 320 * MiB, f"peak RSS {peak / MiB:.0f} MiB"
        target = remote / source.name
        assert target.stat().st_size == source.stat().st_size
        [row] = cli.log_rows()
        assert row["status"] == "ok" and row["bytes"] == 3 * GiB
        assert sha256(target) == row["sha256"] == sha256(source)
    finally:
        for leftover in remote.iterdir():  # 3 GiB of real disk on the server side
            leftover.unlink()


def test_key_connection_needs_no_keyring(ta_home: Path, sshd: SshdServer, tmp_path: Path) -> None:
    """A plain key file stores no secret: adding and using the connection works with no keyring at all."""
    cli = Cli(ta_home, extra_env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    remote = sshd.make_remote_dir("no-keyring")
    result = cli(
        "connection", "add", "box", "--url", sftp_url(sshd, remote), "--key-file", str(sshd.client_keys["ed25519"]),
        "--accept-host-key", sshd.host_key_fingerprints["ssh-ed25519"],
    )  # fmt: skip
    assert result.code == 0, result
    source = tmp_path / "stock.csv"
    source.write_text("sku;qty\n")
    cli.ok("send", str(source), "--to", "box")
    assert (remote / source.name).read_text() == "sku;qty\n"
