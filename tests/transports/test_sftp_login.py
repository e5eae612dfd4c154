"""SFTP logins against a real OpenSSH server: passwords, keys, encrypted keys, ssh-agent, and their failures."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.ports import free_port
from support.sshd import SshdServer

from transferapp.config import Connection
from transferapp.errors import AuthError, ConfigError, NetworkError
from transferapp.secrets import SecretStore
from transferapp.transports.sftp import SftpTransport

MakeConn = Callable[..., Connection]

Open = Callable[..., SftpTransport]


def test_password_login(
    sshd: SshdServer, make_conn: MakeConn, secrets: SecretStore, open_sftp: Open, remote_dir: Path
) -> None:
    if not sshd.can_password:
        pytest.skip("password logins need root to create the test user")
    conn = make_conn(auth="password")
    secrets.set(conn.name, "password", sshd.password)
    assert open_sftp(conn, secrets).home() == str(remote_dir)


@pytest.mark.parametrize("kind", ["rsa", "ecdsa", "ed25519"])
def test_key_login(kind: str, make_conn: MakeConn, open_sftp: Open, remote_dir: Path) -> None:
    transport = open_sftp(make_conn(key=kind))
    assert transport.stat(str(remote_dir)) is not None


def test_encrypted_key_with_passphrase_in_keyring(
    sshd: SshdServer, make_conn: MakeConn, secrets: SecretStore, open_sftp: Open
) -> None:
    conn = make_conn(name="enc", key="ed25519_encrypted")
    secrets.set("enc", "passphrase", sshd.key_passphrase)
    assert open_sftp(conn, secrets).is_alive()


def test_encrypted_key_without_passphrase(make_conn: MakeConn, secrets: SecretStore, open_sftp: Open) -> None:
    conn = make_conn(name="enc-none", key="ed25519_encrypted")
    with pytest.raises(AuthError, match="encrypted and no passphrase is stored") as info:
        open_sftp(conn, secrets)
    assert "connection passwd enc-none --passphrase-stdin" in info.value.hint


def test_encrypted_key_with_wrong_passphrase(make_conn: MakeConn, secrets: SecretStore, open_sftp: Open) -> None:
    conn = make_conn(name="enc-wrong", key="ed25519_encrypted")
    secrets.set("enc-wrong", "passphrase", "not-the-passphrase")
    with pytest.raises(AuthError, match="stored passphrase is wrong"):
        open_sftp(conn, secrets)


def test_wrong_password_is_a_clear_non_retryable_error(
    sshd: SshdServer, make_conn: MakeConn, secrets: SecretStore, open_sftp: Open
) -> None:
    if not sshd.can_password:
        pytest.skip("password logins need root to create the test user")
    conn = make_conn(name="wrongpw", auth="password")
    secrets.set("wrongpw", "password", "definitely-wrong-pw")
    with pytest.raises(AuthError) as info:
        open_sftp(conn, secrets)
    error = info.value
    assert not error.retryable
    assert sshd.user in str(error) and "127.0.0.1" in str(error)
    assert "definitely-wrong-pw" not in str(error)


def test_password_connection_without_stored_password(
    make_conn: MakeConn, secrets: SecretStore, open_sftp: Open
) -> None:
    with pytest.raises(AuthError, match="No password is stored for connection 'nopw'"):
        open_sftp(make_conn(name="nopw", auth="password"), secrets)


def test_missing_key_file(make_conn: MakeConn, open_sftp: Open, tmp_path: Path) -> None:
    conn = make_conn()
    conn.key_file = str(tmp_path / "no_such_key")
    with pytest.raises(ConfigError, match="no_such_key of connection .pim. does not exist"):
        open_sftp(conn)


def test_connection_refused_is_retryable(make_conn: MakeConn, open_sftp: Open) -> None:
    with pytest.raises(NetworkError) as info:
        open_sftp(make_conn(port=free_port()))
    assert info.value.retryable and "refused" in str(info.value)


@pytest.fixture
def ssh_agent(sshd: SshdServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real ssh-agent holding the test client key, exported through SSH_AUTH_SOCK."""
    if shutil.which("ssh-agent") is None:
        pytest.skip("ssh-agent is not installed")
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", str(sshd.client_keys["ecdsa"])], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        yield str(sock)
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        agent.wait(5)


def test_agent_login(ssh_agent: str, make_conn: MakeConn, open_sftp: Open) -> None:
    assert open_sftp(make_conn(auth="agent")).is_alive()


def test_agent_without_keys(make_conn: MakeConn, open_sftp: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(AuthError, match="ssh-agent has no keys"):
        open_sftp(make_conn(auth="agent"))
