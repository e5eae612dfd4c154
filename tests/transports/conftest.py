"""Fixtures for transport tests: a host-key store, a keyring-backed secret store, connection profiles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.keyring_session import KeyringSession
from support.sshd import SshdServer

from transferapp.config import Connection
from transferapp.secrets import SecretStore
from transferapp.transports.hostkeys import HostKeyStore
from transferapp.transports.sftp import SftpTransport

MakeConn = Callable[..., Connection]


@pytest.fixture
def hostkeys(tmp_path: Path) -> HostKeyStore:
    return HostKeyStore(tmp_path / "known_hosts")


@pytest.fixture
def secrets(keyring_session: KeyringSession) -> SecretStore:
    return SecretStore()


@pytest.fixture
def remote_dir(sshd: SshdServer, request: pytest.FixtureRequest) -> Path:
    return sshd.make_remote_dir(request.node.name[:40])


@pytest.fixture
def make_conn(sshd: SshdServer, remote_dir: Path) -> MakeConn:
    """Build a connection to the test sshd; the ed25519 host key fingerprint is accepted unless told otherwise."""

    def make(
        name: str = "pim",
        auth: str = "key",
        key: str = "ed25519",
        accept: str | None = "default",
        port: int | None = None,
        path: str | None = None,
    ) -> Connection:
        fingerprint = sshd.host_key_fingerprints["ssh-ed25519"] if accept == "default" else accept
        url = f"sftp://{sshd.user}@127.0.0.1:{port or sshd.port}{path or remote_dir}"
        key_file = str(sshd.client_keys[key]) if auth == "key" else None
        return Connection(name, url, auth, key_file, fingerprint, {"timeout": 10.0})

    return make


@pytest.fixture
def open_sftp(hostkeys: HostKeyStore) -> Iterator[Callable[..., SftpTransport]]:
    """Connect transports and close them all at the end of the test."""
    opened: list[SftpTransport] = []

    def connect(conn: Connection, secrets: SecretStore | None = None, trust_new: bool = False) -> SftpTransport:
        transport = SftpTransport(conn, secrets or SecretStore(), hostkeys, trust_new)
        opened.append(transport)
        transport.connect()
        return transport

    yield connect
    for transport in opened:
        transport.close()
