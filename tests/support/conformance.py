"""The conformance kit: every transport against its real server, as one parametrized `remote` fixture."""

from __future__ import annotations

import hashlib
import itertools
import os
import posixpath
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from transferapp.errors import TransferAppError
from transferapp.transports.base import CancelToken, Transport

MiB = 1024 * 1024
LARGE = 64 * MiB
PARAMS = ["sftp", "webdav-wsgidav-basic", "webdav-wsgidav-digest", "webdav-wsgidav-https", "webdav-nginx"]
ODD_NAMES = ["Bestellungen März.xml", "カタログ.csv", "Preise 100% #1+2.csv"]


# ------------------------------------------------------------------------------------------ test doubles
class Counter:
    """A Progress that counts bytes; with ``hold_at`` it holds the sender there until ``release`` is set."""

    def __init__(self, hold_at: int | None = None, delay: float = 0.0) -> None:
        self.done = 0
        self.hold_at = hold_at
        self.delay = delay
        self.reached = threading.Event()
        self.release = threading.Event()

    def advance(self, n: int) -> None:
        """Count ``n`` bytes; sleep ``delay``; block once past ``hold_at`` until released."""
        self.done += n
        if self.delay:
            time.sleep(self.delay)
        if self.hold_at is not None and self.done >= self.hold_at and not self.reached.is_set():
            self.reached.set()
            self.release.wait(60)


class CancelAfter(Counter):
    """A Progress that cancels ``token`` once ``limit`` bytes went by."""

    def __init__(self, token: CancelToken, limit: int) -> None:
        super().__init__()
        self.token = token
        self.limit = limit

    def advance(self, n: int) -> None:
        """Count, then cancel past the limit."""
        super().advance(n)
        if self.done >= self.limit:
            self.token.cancel("stopped by the test")


# ------------------------------------------------------------------------------------------ the remote
@dataclass
class Remote:
    """A connected transport, its fresh base folder, and that folder as the server's local disk."""

    kind: str
    transport: Transport
    base: str
    view: Path
    read_only: Callable[[], str] | str  # a folder the login may read but not change (a str: why not possible)
    no_access: Callable[[], str] | str  # a folder the login may not even look into (a str: why not possible)

    def path(self, *parts: str) -> str:
        """The remote path of ``parts`` below the base folder."""
        return posixpath.join(self.base, *parts)

    def local(self, *parts: str) -> Path:
        """The server-side local path of ``parts`` below the base folder."""
        return self.view.joinpath(*parts)

    def folder(self, which: str) -> str:
        """The remote path of the read-only or no-access folder, or skip when this server cannot make one."""
        make = self.read_only if which == "read_only" else self.no_access
        if isinstance(make, str):
            pytest.skip(f"{self.kind}: {make}")
        return make()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:50]


_counter = itertools.count(1)  # unique folder and connection names


def _sftp_remote(request: pytest.FixtureRequest) -> Remote:
    sshd = request.getfixturevalue("sshd")
    remote_dir: Path = request.getfixturevalue("remote_dir")
    transport = request.getfixturevalue("open_sftp")(request.getfixturevalue("make_conn")())
    name = _safe(request.node.name)[:30]

    def read_only() -> str:
        return str(sshd.make_remote_dir(f"ro-{name}", writable=False))

    def no_access() -> str:
        path = sshd.make_remote_dir(f"na-{name}", writable=False)
        path.chmod(0o700 if os.geteuid() == 0 else 0o000)  # root owns it: the login user cannot enter
        return str(path)

    return Remote("sftp", transport, str(remote_dir), remote_dir, read_only, no_access)


def _webdav_class() -> Any:
    try:
        from transferapp.transports.webdav import WebdavTransport
    except ImportError as exc:
        pytest.skip(f"transferapp.transports.webdav is not there yet ({exc})")
    return WebdavTransport


def _open_webdav(request: pytest.FixtureRequest, url: str, password: str, ca_file: str | None = None) -> Transport:
    from transferapp.config import Connection

    cls = _webdav_class()
    secrets = request.getfixturevalue("secrets")
    name = f"dav{next(_counter)}"
    secrets.set(name, "password", password)
    conn = Connection(name, url, "password", None, None, {"timeout": 30.0}, ca_file=ca_file)
    transport: Transport = cls(conn, secrets, request.getfixturevalue("hostkeys"))
    request.addfinalizer(transport.close)
    transport.connect()
    return transport


@pytest.fixture(scope="module")
def nginx_server() -> Iterator[Any]:
    from support.nginx_dav import NginxDav, nginx_available

    if not nginx_available():
        pytest.skip("nginx with the dav-ext module is not installed (apt-get install nginx libnginx-mod-http-dav-ext)")
    server = NginxDav()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _nginx_remote(request: pytest.FixtureRequest) -> Remote:
    _webdav_class()
    server = request.getfixturevalue("nginx_server")
    rel = f"{next(_counter):03d}-{_safe(request.node.name)}"
    view = server.make_folder(rel)
    url = f"webdav://{server.user}@{server.host}:{server.port}/dav/{rel}"
    transport = _open_webdav(request, url, server.password)

    def read_only() -> str:
        (server.readonly_root / rel).mkdir()
        return f"/dav/readonly/{rel}"

    def no_access() -> str:
        (server.private_root / rel).mkdir()
        return f"/dav/private/{rel}"

    return Remote("webdav-nginx", transport, f"/dav/{rel}", view, read_only, no_access)


@pytest.fixture(scope="module")
def wsgidav_servers() -> Iterator[dict[str, Any]]:
    """WsgiDAV servers by variant, started on first use and stopped at the end of the module."""
    servers: dict[str, Any] = {}
    yield servers
    for server in servers.values():
        server.stop()


def _start_wsgidav(request: pytest.FixtureRequest, variant: str) -> Any:
    try:
        from support.wsgidav_server import WsgiDavServer, make_tls
    except ImportError as exc:
        pytest.skip(f"tests/support/wsgidav_server.py is not there yet ({exc})")

    from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError
    from wsgidav.fs_dav_provider import FilesystemProvider

    class Refusing(FilesystemProvider):
        """A share whose every resource is refused (403), as an ACL would."""

        def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
            raise DAVError(HTTP_FORBIDDEN)

    class Server(WsgiDavServer):
        """WsgiDAV with ``/dav/readonly`` shared read-only and ``/dav/private`` refused (403 to all)."""

        def _config(self) -> dict[str, Any]:
            config: dict[str, Any] = super()._config()
            mapping = config["provider_mapping"]
            mapping["/dav/readonly"] = {"root": str(self.root / "readonly"), "readonly": True}
            mapping["/dav/private"] = Refusing(str(self.root / "private"))
            return config

    folder = request.getfixturevalue("tmp_path_factory").mktemp(f"wsgidav-{variant}")
    (folder / "share" / "readonly").mkdir(parents=True)
    (folder / "share" / "private").mkdir()
    tls = make_tls(folder / "tls") if variant == "https" else None
    auth = "digest" if variant == "digest" else "basic"
    return Server(folder / "share", {"davuser": "dav pass wörd"}, auth, tls).start()


def _wsgidav_remote(request: pytest.FixtureRequest, variant: str) -> Remote:
    _webdav_class()
    servers = request.getfixturevalue("wsgidav_servers")
    if variant not in servers:
        servers[variant] = _start_wsgidav(request, variant)
    server = servers[variant]
    rel = f"{next(_counter):03d}-{_safe(request.node.name)}"
    view = server.root / rel
    view.mkdir()
    ca_file = str(server.tls.ca_file) if server.tls else None
    transport = _open_webdav(request, server.url(f"/dav/{rel}", "davuser"), "dav pass wörd", ca_file)
    signed = [seen.headers["authorization"] for seen in server.requests if "authorization" in seen.headers]
    assert signed and signed[-1].lower().startswith("digest" if variant == "digest" else "basic"), signed[-1:]

    def read_only() -> str:
        (server.root / "readonly" / rel).mkdir()
        return f"/dav/readonly/{rel}"

    def no_access() -> str:
        return f"/dav/private/{rel}"

    return Remote(f"webdav-wsgidav-{variant}", transport, f"/dav/{rel}", view, read_only, no_access)


@pytest.fixture(params=PARAMS)
def remote(request: pytest.FixtureRequest) -> Remote:
    """A connected transport of each kind on a fresh base folder (see Remote)."""
    kind: str = request.param
    if kind == "sftp":
        return _sftp_remote(request)
    if kind == "webdav-nginx":
        return _nginx_remote(request)
    return _wsgidav_remote(request, kind.rsplit("-", 1)[1])


# ------------------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 64 MiB file of random bytes, made once."""
    path = tmp_path_factory.mktemp("conformance") / "large.bin"
    with open(path, "wb") as out:
        for _ in range(LARGE // (4 * MiB)):
            out.write(os.urandom(4 * MiB))
    return path


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def _put(
    remote: Remote, local: Path, path: str, progress: Counter | None = None, cancel: CancelToken | None = None
) -> Counter:
    """Upload the whole of ``local`` the way the publish pipeline does for this transport."""
    progress = progress or Counter()
    cancel = cancel or CancelToken()
    transport = remote.transport
    if transport.capabilities.ranged_write:
        transport.create(path)
        transport.write_range(local, path, 0, local.stat().st_size, progress, cancel)
    else:
        transport.put_file(local, path, progress, cancel)
    return progress


def _put_bytes(remote: Remote, tmp_path: Path, path: str, data: bytes) -> None:
    local = tmp_path / f"src-{next(_counter)}"
    local.write_bytes(data)
    _put(remote, local, path)


def _get(remote: Remote, path: str, local: Path, start: int, end: int) -> Counter:
    progress = Counter()
    remote.transport.read_range(path, local, start, end, progress, CancelToken())
    return progress


def _names(remote: Remote, folder: str) -> dict[str, tuple[int, bool]]:
    entries = remote.transport.list(folder)
    for entry in entries:
        assert entry.path.rstrip("/") == posixpath.join(folder, entry.name), entry
    return {e.name: (e.size if not e.is_dir else 0, e.is_dir) for e in entries}


def _names_on_server(folder: Path) -> dict[str, tuple[int, bool]]:
    return {p.name: (p.stat().st_size if p.is_file() else 0, p.is_dir()) for p in folder.iterdir()}


def _names_path(exc: BaseException, path: str) -> None:
    """The error is one of ours and names the path (its last part, as users see it)."""
    assert isinstance(exc, TransferAppError), repr(exc)
    assert posixpath.basename(path.rstrip("/")) in str(exc), f"{exc} does not name {path}"
