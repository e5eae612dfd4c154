"""The command line end to end against a real sshd and a real keyring: the contract users' scripts rely on."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from pathlib import Path

import keyring
import pytest
from support.cli import Cli
from support.keyring_session import KeyringSession
from support.sshd import SshdServer

from transferapp import __version__


@pytest.fixture
def cli(ta_home: Path, keyring_session: KeyringSession) -> Cli:
    return Cli(ta_home, keyring_session.child_env())


@pytest.fixture
def remote(sshd: SshdServer, request: pytest.FixtureRequest) -> Path:
    return sshd.make_remote_dir(request.node.name[:40])


def url(sshd: SshdServer, folder: Path) -> str:
    return f"sftp://{sshd.user}@127.0.0.1:{sshd.port}{folder}"


def add_key_connection(cli: Cli, sshd: SshdServer, folder: Path, name: str = "pim", *extra: str) -> None:
    cli.ok(
        "connection",
        "add",
        name,
        "--url",
        url(sshd, folder),
        "--key-file",
        str(sshd.client_keys["ed25519"]),
        "--accept-host-key",
        sshd.host_key_fingerprints["ssh-ed25519"],
        *extra,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_version() -> None:
    result = Cli(Path("/nonexistent"))("--version")
    assert result.code == 0 and result.out.strip() == f"transferapp {__version__}"


def test_password_connection_lifecycle(cli: Cli, sshd: SshdServer, remote: Path) -> None:
    if not sshd.can_password:
        pytest.skip("password logins need root to create the test user")
    cli.ok(
        "connection",
        "add",
        "oms",
        "--url",
        url(sshd, remote),
        "--password-stdin",
        "--trust-new-host-key",
        stdin=sshd.password + "\n",
    )
    assert keyring.get_password("transferapp", "oms:password") == sshd.password
    listed = json.loads(cli.ok("connection", "list", "--json").out)
    assert [(c["name"], c["auth"], c["secret"]) for c in listed] == [("oms", "password", "stored")]
    assert sshd.host_key_fingerprints[listed[0]["host_key"].split()[0]] in listed[0]["host_key"]
    tested = cli.ok("connection", "test", "oms").out
    assert "logged in" in tested and "is writable" in tested
    assert "oms" in cli.ok("connection", "show", "oms").out
    cli.ok("connection", "remove", "oms")
    assert keyring.get_password("transferapp", "oms:password") is None
    assert json.loads(cli.ok("connection", "list", "--json").out) == []


def test_send_pull_log_and_queue(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    add_key_connection(cli, sshd, remote)
    source = tmp_path / "catalog_2024-06-01.xml"
    source.write_bytes(b"<catalog>" + b"x" * 100_000 + b"</catalog>")
    sent = cli.ok("send", str(source), "--to", "pim", "--remote-dir", "in/catalog", "--json")
    assert json.loads(sent.out)[0]["state"] == "done"
    assert sha256(remote / "in/catalog" / source.name) == sha256(source)
    assert [p.name for p in (remote / "in/catalog").iterdir()] == [source.name]  # no temp file left

    target = tmp_path / "back"
    cli.ok("pull", "pim", "catalog_*.xml", "--to", str(target), "--remote-dir", "in/catalog")
    assert sha256(target / source.name) == sha256(source)
    assert [p.name for p in target.iterdir()] == [source.name]

    rows = json.loads(cli.ok("log", "--json").out)
    assert [(r["direction"], r["status"]) for r in rows] == [("down", "ok"), ("up", "ok")]
    assert rows[1]["sha256"] == sha256(source) and rows[1]["bytes"] == source.stat().st_size
    assert rows[0]["sha256"] == sha256(target / source.name)  # hashed while it arrived
    assert rows[1]["remote_path"] == str(remote / "in/catalog" / source.name)
    assert json.loads(cli.ok("log", "--json", "--status", "failed").out) == []
    assert json.loads(cli.ok("queue", "--json").out) == []
    assert "intact (2 rows" in cli.ok("log", "verify").out
    assert cli.ok("queue", "run").out.strip() == "Nothing is queued."


def test_log_verify_detects_tampering(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    add_key_connection(cli, sshd, remote)
    for i in range(3):
        (tmp_path / f"f{i}.csv").write_text(f"row {i}\n")
    cli.ok("send", *(str(tmp_path / f"f{i}.csv") for i in range(3)), "--to", "pim")
    db = sqlite3.connect(cli.home / "data" / "transferapp.sqlite3")
    db.execute("UPDATE log SET remote_path = '/elsewhere' WHERE id = 2")
    db.commit()
    db.close()
    result = cli("log", "verify")
    assert result.code == 1 and "row 2" in result.err and result.err.count("\n") == 1


def test_unknown_connection_and_missing_file(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    result = cli("send", str(tmp_path), "--to", "nope")
    assert result.code == 1 and "No connection named 'nope'" in result.err
    add_key_connection(cli, sshd, remote)
    good = tmp_path / "good.csv"
    good.write_text("a,b\n")
    missing = tmp_path / "missing.csv"
    result = cli("send", str(missing), str(good), "--to", "pim")
    assert result.code == 1 and f"{missing} does not exist" in result.err
    assert (remote / "good.csv").read_text() == "a,b\n"  # the good file still went


def test_unknown_host_key_via_cli_then_trust(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    cli.ok("connection", "add", "pim", "--url", url(sshd, remote), "--key-file", str(sshd.client_keys["ed25519"]))
    result = cli("connection", "test", "pim")
    fingerprint = sshd.host_key_fingerprints["ssh-ed25519"]
    assert result.code == 1 and fingerprint in result.err and len(result.err.strip().splitlines()) == 1
    cli.ok("connection", "trust", "pim", "--accept-host-key", fingerprint)
    cli.ok("connection", "test", "pim")


def test_remote_folder_not_writable_is_reported(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    locked = sshd.make_remote_dir("locked", writable=False)
    add_key_connection(cli, sshd, locked)
    result = cli("connection", "test", "pim")
    assert result.code == 1 and "Permission denied" in result.err


def test_no_keyring_gives_a_fix_and_writes_nothing(ta_home: Path, sshd: SshdServer, tmp_path: Path) -> None:
    cli = Cli(ta_home, {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)})
    result = cli("connection", "add", "pim", "--url", "sftp://u@127.0.0.1/x", "--password-stdin", stdin="pw\n")
    assert result.code == 1 and "No usable OS keyring" in result.err and "gnome-keyring" in result.err
    assert not (ta_home / "config" / "config.toml").exists()


def test_malformed_config_is_named(cli: Cli) -> None:
    (cli.home / "config").mkdir(parents=True, exist_ok=True)
    (cli.home / "config" / "config.toml").write_text("[connections.pim\n")
    result = cli("connection", "list")
    assert result.code == 1 and "config.toml is not valid TOML" in result.err


def test_no_secret_reaches_config_database_or_logs(cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path) -> None:
    if not sshd.can_password:
        pytest.skip("password logins need root to create the test user")
    outputs = [
        cli.ok(
            "-v",
            "connection",
            "add",
            "oms",
            "--url",
            url(sshd, remote),
            "--password-stdin",
            "--trust-new-host-key",
            stdin=sshd.password + "\n",
        )
    ]
    cli.ok(
        "connection",
        "add",
        "enc",
        "--url",
        url(sshd, remote),
        "--key-file",
        str(sshd.client_keys["ed25519_encrypted"]),
        "--passphrase-stdin",
        "--trust-new-host-key",
        stdin=sshd.key_passphrase + "\n",
    )
    source = tmp_path / "customers.csv"
    source.write_text("id,name\n1,Ada\n")
    for name in ("oms", "enc"):
        outputs.append(cli.ok("-v", "send", str(source), "--to", name, "--remote-dir", name))
        outputs.append(cli.ok("-v", "connection", "test", name))
    outputs.append(cli("-v", "connection", "passwd", "oms", "--password-stdin", stdin="wrong-" + sshd.password))
    outputs.append(cli("-v", "send", str(source), "--to", "oms"))  # fails: wrong password now
    assert outputs[-1].code == 1
    secrets = [sshd.password, sshd.key_passphrase, "wrong-" + sshd.password]
    texts = [o.out + o.err for o in outputs]
    for path in cli.home.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("latin-1"))
    for secret in secrets:
        assert not any(secret in text for text in texts), "a secret leaked"
    assert any("paramiko" in t or "DEBUG" in t for t in texts)  # debug output really was produced and checked


def test_wrong_password_fails_fast_without_a_retry_storm(
    cli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path
) -> None:
    if not sshd.can_password:
        pytest.skip("password logins need root to create the test user")
    cli.ok(
        "connection",
        "add",
        "bad",
        "--url",
        url(sshd, remote),
        "--password-stdin",
        "--accept-host-key",
        sshd.host_key_fingerprints["ssh-ed25519"],
        stdin="not-the-password\n",
    )
    files = []
    for i in range(6):
        files.append(tmp_path / f"order_{i}.xml")
        files[-1].write_text("<order/>")
    before = sshd.log_text().count("Failed password")
    result = cli("send", *map(str, files), "--to", "bad")
    assert result.code == 1 and "refused the password login" in result.err
    assert sshd.log_text().count("Failed password") - before == 1  # one login attempt for six files
    rows = json.loads(cli.ok("log", "--json").out)
    assert [r["status"] for r in rows] == ["failed"] * 6


def test_no_command_without_a_display_shows_the_commands(ta_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = Cli(ta_home, env)()
    assert result.code == 0 and "connection" in result.out and "send" in result.out and "log" in result.out
    assert "No display" in result.out
