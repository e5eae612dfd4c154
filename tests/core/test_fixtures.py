"""Real-server tests of the shared test fixtures (sshd, keyring session, delay proxy over SSH); the delay proxy
alone is in test_delay_proxy.py."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import paramiko
import pytest
from support.delay_proxy import DelayProxy
from support.keyring_session import KeyringSession
from support.procs import descendant_pids, is_alive
from support.sshd import SshdServer


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style SHA256 fingerprint of a paramiko key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def open_transport(
    server: SshdServer,
    key_type: str | None = None,
    port: int | None = None,
    pinned: dict[str, str] | None = None,
) -> paramiko.Transport:
    """Connect, negotiate and verify the host key against pinned fingerprints (default: the server's)."""
    transport = paramiko.Transport((server.host, port or server.port))
    if key_type is not None:
        transport.get_security_options().key_types = [key_type]
    transport.start_client(timeout=10)
    key = transport.get_remote_server_key()
    expected = (server.host_key_fingerprints if pinned is None else pinned).get(key.get_name())
    if expected is None or fingerprint(key) != expected:
        transport.close()
        raise paramiko.BadHostKeyException(server.host, key, key)
    return transport


def sftp_roundtrip(transport: paramiko.Transport, remote_dir: Path) -> None:
    """Upload, stat and read back a small file over SFTP."""
    payload = os.urandom(4096)
    name = f"{remote_dir}/{uuid.uuid4().hex}.bin"
    sftp = paramiko.SFTPClient.from_transport(transport)
    assert sftp is not None
    with sftp:
        with sftp.open(name, "wb") as fh:
            fh.write(payload)
        assert sftp.stat(name).st_size == len(payload)
        with sftp.open(name, "rb") as fh:
            assert fh.read() == payload
        sftp.remove(name)


@pytest.fixture(scope="module")
def remote_dir(sshd: SshdServer) -> Path:
    """A writable remote directory for this module."""
    return sshd.make_remote_dir("fixtures")


# ------------------------------------------------------------------- sshd
@pytest.mark.parametrize("key_type", ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"])
def test_host_key_fingerprints_match(sshd: SshdServer, key_type: str) -> None:
    """Each host key type is offered and its fingerprint equals the recorded one (same as ssh-keygen -lf)."""
    if key_type == "ssh-rsa":
        key_type = "rsa-sha2-256"  # the RSA key is negotiated with a SHA-2 signature algorithm
    transport = open_transport(sshd, key_type)
    try:
        key = transport.get_remote_server_key()
        assert fingerprint(key) == sshd.host_key_fingerprints[key.get_name()]
    finally:
        transport.close()
    assert sshd.base_dir is not None
    pub = next(p for p in sshd.base_dir.glob("etc/*.pub") if key.get_name() in p.read_text())
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True, check=True).stdout
    assert out.split()[1] == sshd.host_key_fingerprints[key.get_name()]


def test_password_login(sshd: SshdServer, remote_dir: Path) -> None:
    """The test user logs in with its password and can write to a remote dir."""
    if not sshd.can_password:
        pytest.skip("password login needs root (dedicated test user)")
    transport = open_transport(sshd)
    try:
        transport.auth_password(sshd.user, sshd.password or "")
        assert transport.is_authenticated()
        sftp_roundtrip(transport, remote_dir)
    finally:
        transport.close()


def test_wrong_password_rejected(sshd: SshdServer) -> None:
    """A wrong password is refused."""
    if not sshd.can_password:
        pytest.skip("password login needs root (dedicated test user)")
    transport = open_transport(sshd)
    try:
        with pytest.raises(paramiko.AuthenticationException):
            transport.auth_password(sshd.user, "not-the-password")
    finally:
        transport.close()


@pytest.mark.parametrize("name", ["rsa", "ecdsa", "ed25519", "ed25519_encrypted"])
def test_client_key_login(sshd: SshdServer, remote_dir: Path, name: str) -> None:
    """Each generated client key (the encrypted one with its passphrase) authenticates."""
    passphrase = sshd.key_passphrase if name.endswith("_encrypted") else None
    if passphrase:
        # paramiko 5 lets cryptography's TypeError through here (older ones raised PasswordRequiredException)
        with pytest.raises((paramiko.PasswordRequiredException, TypeError)):
            paramiko.PKey.from_path(sshd.client_keys[name])
        with pytest.raises((paramiko.SSHException, ValueError)):
            paramiko.PKey.from_path(sshd.client_keys[name], password=b"wrong-passphrase")
        # the classic per-type loader takes the passphrase as str
        paramiko.Ed25519Key.from_private_key_file(str(sshd.client_keys[name]), password=passphrase)
    # PKey.from_path is annotated ``str`` but hands the password to cryptography, which needs bytes
    key = paramiko.PKey.from_path(sshd.client_keys[name], password=passphrase.encode() if passphrase else None)
    transport = open_transport(sshd)
    try:
        transport.auth_publickey(sshd.user, key)
        assert transport.is_authenticated()
        sftp_roundtrip(transport, remote_dir)
    finally:
        transport.close()


def test_read_only_remote_dir(sshd: SshdServer) -> None:
    """A non-writable remote dir refuses uploads."""
    ro = sshd.make_remote_dir("readonly", writable=False)
    transport = open_transport(sshd)
    try:
        transport.auth_publickey(sshd.user, paramiko.PKey.from_path(sshd.client_keys["ed25519"]))
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        with sftp, pytest.raises(PermissionError):
            sftp.open(f"{ro}/nope.txt", "wb")
    finally:
        transport.close()


def test_kill_and_restart_keep_port_and_keys() -> None:
    """kill() drops in-flight sessions and leaves no sshd processes; restart() reuses port and host keys."""
    with SshdServer() as server:  # a private server: killing the session-wide one would disturb other tests
        remote = server.make_remote_dir("crash")
        port, fps, pid = server.port, dict(server.host_key_fingerprints), server.pid
        assert pid is not None
        transport = open_transport(server)
        transport.auth_publickey(server.user, paramiko.PKey.from_path(server.client_keys["ed25519"]))
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        fh = sftp.open(f"{remote}/inflight.bin", "wb")
        fh.write(b"x" * 65536)
        kids = descendant_pids(pid)
        assert kids, "an SFTP session should have spawned per-connection sshd processes"
        server.kill()
        assert not server.is_running
        assert not [k for k in [pid, *kids] if is_alive(k)], "killed sshd processes linger"
        with pytest.raises((OSError, EOFError, paramiko.SSHException)):
            for _ in range(100):
                fh.write(b"y" * 65536)
                fh.flush()
                sftp.stat(str(remote))
        transport.close()
        server.restart()
        assert server.port == port and server.host_key_fingerprints == fps and server.pid != pid
        transport = open_transport(server)
        try:
            assert fingerprint(transport.get_remote_server_key()) in fps.values()
            if server.can_password:
                transport.auth_password(server.user, server.password or "")
            else:
                transport.auth_publickey(server.user, paramiko.PKey.from_path(server.client_keys["ecdsa"]))
            sftp_roundtrip(transport, remote)
        finally:
            transport.close()


def test_rekey_host_changes_fingerprints() -> None:
    """rekey_host() restarts on the same port with new host keys, which a pinned client rejects."""
    with SshdServer() as server:
        old = dict(server.host_key_fingerprints)
        transport = open_transport(server)
        transport.close()
        port = server.port
        server.rekey_host()
        assert server.port == port and server.is_running
        assert set(server.host_key_fingerprints) == set(old)
        assert not set(server.host_key_fingerprints.values()) & set(old.values())
        with pytest.raises(paramiko.BadHostKeyException):
            open_transport(server, pinned=old)
        base = server.base_dir
    assert base is not None and not base.exists()


# ---------------------------------------------------------------- keyring
KEYRING_SCRIPT = """
import sys, keyring
print(type(keyring.get_keyring()).__module__ + "." + type(keyring.get_keyring()).__name__)
print(keyring.get_password(sys.argv[1], sys.argv[2]))
keyring.set_password(sys.argv[1], sys.argv[2] + "-child", "from-child")
"""


def test_keyring_roundtrip_in_process_and_subprocess(keyring_session: KeyringSession) -> None:
    """A secret stored in-process is read by a child (which picks SecretService by itself) and back."""
    import keyring

    service, user = f"transferapp-test-{uuid.uuid4().hex[:8]}", "merchant"
    keyring.set_password(service, user, "s3cr3t")
    assert keyring.get_password(service, user) == "s3cr3t"
    res = subprocess.run(
        [sys.executable, "-c", KEYRING_SCRIPT, service, user],
        env=keyring_session.child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    backend, secret = res.stdout.split()
    assert backend == "keyring.backends.SecretService.Keyring"
    assert secret == "s3cr3t"
    assert keyring.get_password(service, user + "-child") == "from-child"
    keyring.delete_password(service, user)
    assert keyring.get_password(service, user) is None


def test_keyring_default_collection_unlocked(keyring_session: KeyringSession) -> None:
    """The default collection exists and is unlocked, so nothing ever prompts."""
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(conn)
        assert not collection.is_locked()
        assert collection.get_label() == "Login"
    finally:
        conn.close()
    assert keyring_session.base_dir is not None  # the keyring file lives in the private data dir
    assert (keyring_session.base_dir / "data" / "keyrings" / "login.keyring").is_file()


# ------------------------------------------------------------ delay proxy
def ssh_exchange_ms(port: int) -> tuple[float, float]:
    """Time (ms) to receive the server banner, then from sending our banner to receiving the KEXINIT."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        assert sock.recv(256).startswith(b"SSH-")
        banner = time.perf_counter()
        sock.sendall(b"SSH-2.0-fixture-test\r\n")
        assert sock.recv(4096)
        kexinit = time.perf_counter()
    return (banner - start) * 1000, (kexinit - banner) * 1000


def test_delay_proxy_ssh_exchange(sshd: SshdServer) -> None:
    """Through 20 ms/way the banner arrives ~20 ms later, the banner->KEXINIT exchange ~40 ms later."""
    with DelayProxy(sshd.host, sshd.port, 20) as proxy:
        direct = [min(x) for x in zip(*(ssh_exchange_ms(sshd.port) for _ in range(3)), strict=True)]
        delayed = [min(x) for x in zip(*(ssh_exchange_ms(proxy.port) for _ in range(3)), strict=True)]
        assert 15 <= delayed[0] - direct[0] < 2000, (direct, delayed)  # lower bound: the delay is there
        assert 35 <= delayed[1] - direct[1] < 2000, (direct, delayed)
        transport = open_transport(sshd, port=proxy.port)
        try:
            transport.auth_publickey(sshd.user, paramiko.PKey.from_path(sshd.client_keys["ed25519"]))
            assert transport.is_authenticated()
        finally:
            transport.close()
