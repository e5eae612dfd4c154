"""Fixtures and doubles for the WebDAV transport tests (real WsgiDAV servers)."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.wsgidav_server import WsgiDavServer, iter_file, make_tls
from transferapp.config import Connection
from transferapp.secrets import SecretStore
from transferapp.transports.webdav import WebdavTransport

MiB = 1024 * 1024
LARGE = 50 * MiB
USER, PASSWORD = "merchant", "s3cret pass"
_names = itertools.count(1)

MakeServer = Callable[..., WsgiDavServer]
Open = Callable[..., WebdavTransport]


class Counter:
    """A Progress that counts bytes and calls."""

    def __init__(self) -> None:
        self.done = 0
        self.calls = 0

    def advance(self, n: int) -> None:
        """Count ``n`` more bytes."""
        self.done += n
        self.calls += 1


class Tokens:
    """A token provider like the SFCC one: ``force`` fetches the next token; every call is recorded."""

    def __init__(self, *tokens: str) -> None:
        self.tokens = list(tokens)
        self.current = self.tokens.pop(0)
        self.calls: list[bool] = []

    def __call__(self, force: bool, rejected: str | None = None) -> str:
        """The current token, or the next one when forced (unless the rejected one was already replaced)."""
        self.calls.append(force)
        if force and rejected in (None, self.current):
            self.current = self.tokens.pop(0)
        return self.current


@pytest.fixture
def dav(tmp_path: Path) -> Iterator[MakeServer]:
    """Start WsgiDAV servers for the test (``dav(auth=..., tls=...)``) and stop them all at the end."""
    started: list[WsgiDavServer] = []

    def make(auth: str = "digest", tls: bool = False, **kwargs: Any) -> WsgiDavServer:
        files = make_tls(tmp_path / f"tls{len(started)}", **kwargs.pop("tls_args", {})) if tls else None
        server = WsgiDavServer(tmp_path / f"share{len(started)}", {USER: PASSWORD}, auth, files, **kwargs)
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def open_dav(secrets: SecretStore) -> Iterator[Open]:
    """Build (and by default connect) transports to a test server; all are closed at the end."""
    opened: list[WebdavTransport] = []

    def make(
        server: WsgiDavServer,
        path: str = "/dav",
        auth: str = "password",
        password: str | None = PASSWORD,
        token: str | None = None,
        token_provider: Callable[[bool], str] | None = None,
        ca_file: bool = True,
        connect: bool = True,
    ) -> WebdavTransport:
        name = f"dav-{os.getpid()}-{next(_names)}"
        if password is not None and auth == "password":
            secrets.set(name, "password", password)
        if token is not None:
            secrets.set(name, "token", token)
        ca = str(server.tls.ca_file) if server.tls and ca_file else None
        conn = Connection(
            name, server.url(path, USER if auth == "password" else None), auth, options={"timeout": 20.0}, ca_file=ca
        )
        transport = WebdavTransport(conn, secrets, None, token_provider=token_provider)
        opened.append(transport)
        if connect:
            transport.connect()
        return transport

    yield make
    for transport in opened:
        transport.close()


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50 MiB file of random bytes, written in blocks."""
    path = tmp_path_factory.mktemp("webdav") / "large.bin"
    with open(path, "wb") as handle:
        for _ in range(LARGE // MiB):
            handle.write(os.urandom(MiB))
    return path


def sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    for chunk in iter_file(path):
        digest.update(chunk)
    return digest.hexdigest()
