"""One conformance suite for every transport, against real servers (rclone ``fstest/fstests`` is the model).

Each test gets a fresh remote folder through the ``remote`` fixture and drives it through the Transport
API only; ``remote.view`` is the same folder as the server's local disk, to check what really landed.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import posixpath
import re
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from transferapp.errors import CancelledError, PermissionDeniedError, RemoteNotFoundError, TransferAppError
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


# ------------------------------------------------------------------------------------------ the cases
def test_home_is_the_base_folder(remote: Remote) -> None:
    assert remote.transport.home() == remote.base
    entry = remote.transport.stat(remote.base)
    assert entry is not None and entry.is_dir


def test_stat_of_missing_is_none(remote: Remote) -> None:
    assert remote.transport.stat(remote.path("missing.txt")) is None
    assert remote.transport.stat(remote.path("no-folder", "missing.txt")) is None


def test_makedirs_nested_and_again(remote: Remote) -> None:
    path = remote.path("a", "b", "c")
    remote.transport.makedirs(path)
    assert remote.local("a", "b", "c").is_dir()
    remote.transport.makedirs(path)
    remote.transport.makedirs(remote.path("a", "b"))
    remote.transport.makedirs(remote.base)
    entry = remote.transport.stat(path)
    assert entry is not None and entry.is_dir and entry.name == "c"


def test_list_with_odd_names(remote: Remote, tmp_path: Path) -> None:
    expected: dict[str, tuple[int, bool]] = {}
    for size, name in enumerate(ODD_NAMES, start=1):
        _put_bytes(remote, tmp_path, remote.path(name), b"x" * size * 100)
        expected[name] = (size * 100, False)
    remote.transport.makedirs(remote.path("Unterordner Ä"))
    expected["Unterordner Ä"] = (0, True)
    assert _names(remote, remote.base) == expected
    assert _names_on_server(remote.view) == expected
    assert _names(remote, remote.path("Unterordner Ä")) == {}
    _put_bytes(remote, tmp_path, remote.path("Unterordner Ä", ODD_NAMES[1]), b"abc")
    assert _names(remote, remote.path("Unterordner Ä")) == {ODD_NAMES[1]: (3, False)}
    assert _names(remote, remote.path("Unterordner Ä") + "/") == {ODD_NAMES[1]: (3, False)}
    for name in ODD_NAMES:
        entry = remote.transport.stat(remote.path(name))
        assert entry is not None and not entry.is_dir and entry.size == expected[name][0]
        assert entry.mtime is not None and abs(entry.mtime - remote.local(name).stat().st_mtime) < 2


def test_list_of_missing_folder_is_not_found(remote: Remote) -> None:
    path = remote.path("nowhere")
    with pytest.raises(RemoteNotFoundError) as info:
        remote.transport.list(path)
    _names_path(info.value, path)


def test_put_and_get_small(remote: Remote, tmp_path: Path) -> None:
    data = b"<orders><order id='1'/></orders>\n"
    path = remote.path("Bestellungen März.xml")
    _put_bytes(remote, tmp_path, path, data)
    assert remote.local("Bestellungen März.xml").read_bytes() == data
    entry = remote.transport.stat(path)
    assert entry is not None and entry.size == len(data) and not entry.is_dir
    local = tmp_path / "back.xml"
    local.touch()
    assert _get(remote, path, local, 0, len(data)).done == len(data)
    assert local.read_bytes() == data
    _put_bytes(remote, tmp_path, path, b"<orders/>\n")  # a shorter file replaces it whole
    assert remote.local("Bestellungen März.xml").read_bytes() == b"<orders/>\n"


def test_put_into_missing_folder_is_not_found(remote: Remote, tmp_path: Path) -> None:
    target = remote.path("no-folder", "order.xml")
    with pytest.raises(TransferAppError) as info:
        _put_bytes(remote, tmp_path, target, b"<order/>")
    assert isinstance(info.value, RemoteNotFoundError) and not info.value.retryable, repr(info.value)
    _names_path(info.value, target)
    assert not remote.local("no-folder").exists()
    with pytest.raises(TransferAppError) as info:
        remote.transport.writable(remote.path("no-folder"))
    assert isinstance(info.value, RemoteNotFoundError | PermissionDeniedError), repr(info.value)
    assert not info.value.retryable, repr(info.value)


def test_makedirs_over_a_file_is_an_error(remote: Remote, tmp_path: Path) -> None:
    _put_bytes(remote, tmp_path, remote.path("in"), b"a file, not a folder")
    with pytest.raises(TransferAppError) as info:
        remote.transport.makedirs(remote.path("in", "orders"))
    assert not info.value.retryable
    _names_path(info.value, remote.path("in"))
    assert remote.local("in").read_bytes() == b"a file, not a folder"


def test_put_and_get_empty(remote: Remote, tmp_path: Path) -> None:
    path = remote.path("empty.csv")
    _put_bytes(remote, tmp_path, path, b"")
    assert remote.local("empty.csv").read_bytes() == b""
    entry = remote.transport.stat(path)
    assert entry is not None and entry.size == 0
    local = tmp_path / "back"
    local.touch()
    _get(remote, path, local, 0, 0)
    assert local.read_bytes() == b""


def test_put_large_streamed_and_get_resumed(remote: Remote, tmp_path: Path, large_file: Path) -> None:
    path = remote.path("large.bin")
    tracemalloc.start()
    try:
        progress = _put(remote, large_file, path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < LARGE // 2, f"the upload held {peak / MiB:.0f} MiB in memory: not streamed"
    assert progress.done == LARGE
    assert remote.local("large.bin").stat().st_size == LARGE
    assert _sha(remote.local("large.bin")) == _sha(large_file)

    full = tmp_path / "full.bin"
    full.touch()
    assert _get(remote, path, full, 0, LARGE).done == LARGE
    assert _sha(full) == _sha(large_file)

    half = LARGE // 2 + 12345
    resumed = tmp_path / "resumed.bin"
    with open(large_file, "rb") as source:
        resumed.write_bytes(source.read(half))
    assert _get(remote, path, resumed, half, LARGE).done == LARGE - half
    assert _sha(resumed) == _sha(large_file)

    start, end = 5 * MiB + 3, 9 * MiB + 7  # a middle slice at odd offsets: no byte before or after it
    middle = tmp_path / "middle.bin"
    with open(large_file, "rb") as source:
        middle.write_bytes(source.read(start))
        expected = source.read(end - start)
    _get(remote, path, middle, start, end)
    assert middle.stat().st_size == end
    assert middle.read_bytes()[start:] == expected


def test_ranged_write_out_of_order(remote: Remote, tmp_path: Path) -> None:
    if not remote.transport.capabilities.ranged_write:
        pytest.skip(f"{remote.kind} has no ranged writes")
    data = os.urandom(3 * MiB + 17)
    local = tmp_path / "src.bin"
    local.write_bytes(data)
    path = remote.path("ranged.bin")
    cut = MiB + 5
    remote.transport.write_range(local, path, 0, 0, Counter(), CancelToken(), truncate=True)
    remote.transport.write_range(local, path, cut, len(data), Counter(), CancelToken())
    remote.transport.write_range(local, path, 0, cut, Counter(), CancelToken())
    assert remote.local("ranged.bin").read_bytes() == data


def test_atomic_publish_of_a_large_upload(remote: Remote, large_file: Path) -> None:
    part, final = remote.path(".Katalog März.csv.part"), remote.path("Katalog März.csv")
    progress = Counter(hold_at=LARGE // 4, delay=0.001)
    failure: list[BaseException] = []

    def upload() -> None:
        try:
            _put(remote, large_file, part, progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failure.append(exc)
        finally:
            progress.reached.set()

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    try:
        assert progress.reached.wait(60), "the upload never got a quarter through"
        assert not failure, failure
        assert 0 < progress.done < LARGE
        assert not remote.local("Katalog März.csv").exists()
    finally:
        progress.release.set()
        thread.join(120)
    assert not thread.is_alive() and not failure, failure
    assert not remote.local("Katalog März.csv").exists()
    assert remote.transport.stat(final) is None
    remote.transport.rename(part, final)
    assert not remote.local(".Katalog März.csv.part").exists()
    assert _sha(remote.local("Katalog März.csv")) == _sha(large_file)
    assert remote.transport.stat(part) is None
    entry = remote.transport.stat(final)
    assert entry is not None and entry.size == LARGE


def test_rename_replaces_an_existing_file(remote: Remote, tmp_path: Path) -> None:
    final, part = remote.path("カタログ.csv"), remote.path(".カタログ.csv.part")
    _put_bytes(remote, tmp_path, final, b"old contents, longer than the new ones\n")
    _put_bytes(remote, tmp_path, part, b"new\n")
    remote.transport.rename(part, final)
    assert remote.local("カタログ.csv").read_bytes() == b"new\n"
    assert _names_on_server(remote.view) == {"カタログ.csv": (4, False)}
    assert _names(remote, remote.base) == {"カタログ.csv": (4, False)}


def test_rename_of_missing_source_is_not_found(remote: Remote) -> None:
    src = remote.path("gone.part")
    with pytest.raises(RemoteNotFoundError) as info:
        remote.transport.rename(src, remote.path("final.csv"))
    _names_path(info.value, src)


def test_remove_and_remove_again(remote: Remote, tmp_path: Path) -> None:
    path = remote.path("Bestellungen März.xml")
    _put_bytes(remote, tmp_path, path, b"data")
    remote.transport.remove(path)
    assert not remote.local("Bestellungen März.xml").exists()
    assert remote.transport.stat(path) is None
    remote.transport.remove(path)
    remote.transport.remove(remote.path("no-folder", "missing.txt"))


def test_get_of_missing_file_is_not_found(remote: Remote, tmp_path: Path) -> None:
    path = remote.path("missing.bin")
    local = tmp_path / "local.bin"
    local.touch()
    with pytest.raises(RemoteNotFoundError) as info:
        _get(remote, path, local, 0, 10)
    _names_path(info.value, path)
    assert local.read_bytes() == b""


def test_cancel_stops_an_upload(remote: Remote, large_file: Path) -> None:
    token = CancelToken()
    progress = CancelAfter(token, 4 * MiB)
    with pytest.raises(CancelledError, match="stopped by the test"):
        _put(remote, large_file, remote.path("big.part"), progress, token)
    assert progress.done < LARGE
    remote.transport.remove(remote.path("big.part"))  # the session is still usable after a cancel
    assert not remote.local("big.part").exists()


def test_cancel_stops_a_download_and_the_session_goes_on(remote: Remote, tmp_path: Path, large_file: Path) -> None:
    path = remote.path("big.bin")
    _put(remote, large_file, path)
    token = CancelToken()
    local = tmp_path / "big.bin"
    local.touch()
    with pytest.raises(CancelledError, match="stopped by the test"):
        remote.transport.read_range(path, local, 0, LARGE, CancelAfter(token, 4 * MiB), token)
    assert 0 < local.stat().st_size < LARGE
    again = tmp_path / "again.bin"
    again.touch()
    _get(remote, path, again, 0, 1000)
    with open(large_file, "rb") as source:
        assert again.read_bytes() == source.read(1000)


def test_writable_base_leaves_nothing_behind(remote: Remote) -> None:
    remote.transport.writable(remote.base)
    assert list(remote.view.iterdir()) == []


def test_put_in_read_only_folder_is_permission_denied(remote: Remote, tmp_path: Path) -> None:
    folder = remote.folder("read_only")
    local = tmp_path / "order.xml"
    local.write_bytes(b"<order/>")
    target = posixpath.join(folder, "order.xml")
    with pytest.raises(PermissionDeniedError) as info:
        _put(remote, local, target)
    _names_path(info.value, target)
    assert not info.value.retryable
    with pytest.raises(PermissionDeniedError):
        remote.transport.writable(folder)
    with pytest.raises(PermissionDeniedError) as info:
        remote.transport.makedirs(posixpath.join(folder, "sub"))
    _names_path(info.value, "sub")
    assert remote.transport.stat(target) is None
    assert _names(remote, folder) == {}


def test_stat_in_folder_without_access_is_permission_denied(remote: Remote) -> None:
    folder = remote.folder("no_access")
    target = posixpath.join(folder, "order.xml")
    with pytest.raises(PermissionDeniedError) as info:
        remote.transport.stat(target)
    _names_path(info.value, target)
    with pytest.raises(PermissionDeniedError) as info:
        remote.transport.list(folder)
    _names_path(info.value, folder)


def test_files_made_on_the_server_are_listed_and_read(remote: Remote, tmp_path: Path) -> None:
    """Files placed on the server by other means are listed and read back unchanged."""
    data = os.urandom(300_000)
    local = remote.local("Von außen.dat")
    local.write_bytes(data)
    assert _names(remote, remote.base) == {"Von außen.dat": (len(data), False)}
    back = tmp_path / "back"
    back.touch()
    _get(remote, remote.path("Von außen.dat"), back, 0, len(data))
    assert back.read_bytes() == data
