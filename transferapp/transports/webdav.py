"""WebDAV over httpx: PROPFIND, MKCOL, one streamed PUT per file, MOVE with Overwrite, ranged GET.

Logins: a password (Basic or Digest, picked from the server's challenge), a stored bearer token, or an SFCC
API-client token from a provider that is asked once more after a 401. TLS is always verified.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote, urljoin

import httpx

from transferapp import __version__
from transferapp.config import Connection
from transferapp.errors import (
    ConfigError,
    LocalFileError,
    PermissionDeniedError,
    RemoteNotFoundError,
    TransferAppError,
    TransferError,
)
from transferapp.secrets import SecretStore
from transferapp.transports import webdav_batch
from transferapp.transports.base import (
    NEARBY_RTT,
    CancelToken,
    Capabilities,
    DownloadTarget,
    Progress,
    RemoteEntry,
    SmallPut,
)
from transferapp.transports.hostkeys import HostKeyStore
from transferapp.transports.webdav_auth import (
    BearerAuth,
    FileBody,
    PasswordAuth,
    origin,
    read_larger_blocks,
    tls_context,
)
from transferapp.transports.webdav_errors import auth_hint, missing_secret, redirect_refused, status_error, translate
from transferapp.transports.webdav_get import copy_body
from transferapp.transports.webdav_xml import PROPFIND_BODY, DavResource, MultistatusError, parse_multistatus

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 307, 308)
XML = "application/xml; charset=utf-8"
Headers = dict[str, str] | None
Response = httpx.Response


Body = bytes | FileBody | None


class WebdavTransport:
    """One WebDAV session (a keep-alive httpx client) for one connection; see Transport in base.py."""

    capabilities = Capabilities(atomic_rename=True, ranged_write=False, batch_put=True)

    def __init__(
        self,
        conn: Connection,
        secrets: SecretStore,
        hostkeys: HostKeyStore | None = None,
        trust_new_host_key: bool = False,
        token_provider: Callable[..., str] | None = None,
    ) -> None:
        self.conn = conn
        self.url = conn.remote
        self.secrets = secrets
        self.token_provider = token_provider
        self.timeout = float(conn.option("timeout"))
        self.http = "https" if self.url.scheme == "webdavs" else "http"
        host = f"[{self.url.host}]" if ":" in self.url.host else self.url.host
        self.base = f"{self.http}://{host}:{self.url.port}"
        self.rtt: float | None = None  # seconds of the PROPFIND at connect
        self._client: httpx.Client | None = None
        self._auth: httpx.Auth | None = None
        self._folders: set[str] = set()  # folders known to exist, so each is checked once per session

    # -- session ---------------------------------------------------------------------------------
    def connect(self) -> None:
        """Build the client and PROPFIND the home folder: logs in (and primes Digest) and measures the RTT."""
        self.close()
        read_larger_blocks()
        self._auth = self._make_auth()
        self._client = httpx.Client(
            auth=self._auth,
            verify=tls_context(self.conn),
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            headers={"User-Agent": f"transferapp/{__version__}"},
        )
        try:
            response = self._propfind_response(self.home(), "0")
            self.rtt = response.elapsed.total_seconds()
            if response.status_code not in (207, 404):  # a missing home folder is reported where it matters
                raise self._status_error("PROPFIND", self.home(), response.status_code)
            self._note_home_folder(response)
        except BaseException:
            self.close()
            raise

    def _note_home_folder(self, response: httpx.Response) -> None:
        """Remember the home folder as existing when the login PROPFIND showed it is one (saves makedirs a trip)."""
        if response.status_code != 207:
            return
        try:
            own = self._own(parse_multistatus(response.content, str(response.url)), self.home())
        except MultistatusError:
            return  # the next request that needs it reports the problem
        if own is not None and own.is_dir:
            self._folders.add(posixpath.normpath(self._full(self.home())))

    def _make_auth(self) -> httpx.Auth:
        name, kind = self.conn.name, self.conn.auth
        if kind in ("password", "token"):
            secret = self.secrets.get(name, kind)
            if secret is None:
                raise missing_secret(name, kind)
            if kind == "token":
                return BearerAuth(lambda: secret)
            return PasswordAuth(self.url.user, secret, plain_http=self.http == "http")
        if kind == "sfcc-client":
            provider = self.token_provider
            if provider is None:
                raise ConfigError(f"Connection {name!r} logs in with an API client, but no token source was given")
            return BearerAuth(lambda: provider(False), lambda rejected: provider(True, rejected))
        raise ConfigError(f"WebDAV connections log in with password, token or sfcc-client, not {kind!r}")

    def close(self) -> None:
        """Close the HTTP client and its connections; never raises."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing a broken session must not mask the real error
                client.close()

    @property
    def client(self) -> httpx.Client:
        """The live client (connects on first use)."""
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    @property
    def auth_scheme(self) -> str | None:
        """'basic' or 'digest' once a password login was challenged, 'bearer' for tokens, else None."""
        if isinstance(self._auth, BearerAuth):
            return "bearer"
        return self._auth.scheme if isinstance(self._auth, PasswordAuth) else None

    def is_alive(self) -> bool:
        """Whether the client is open (HTTP reconnects by itself when a kept-alive connection was dropped)."""
        return self._client is not None and not self._client.is_closed

    def home(self) -> str:
        """The connection's remote folder as an absolute, decoded path."""
        return self.url.path

    # -- requests --------------------------------------------------------------------------------
    def _full(self, path: str) -> str:
        """An absolute remote path (a relative one is taken from the home folder)."""
        return path if path.startswith("/") else posixpath.normpath(posixpath.join(self.url.path, path))

    def _href(self, path: str) -> str:
        return self.base + quote(self._full(path), safe="/")

    def _send(
        self, method: str, path: str, headers: Headers = None, body: Body = None, stream: bool = False
    ) -> Response:
        """Send one request, following up to MAX_REDIRECTS redirects that stay on the same server."""
        client = self.client
        url = self._href(path)
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                request = client.build_request(method, url, headers=headers, content=body)
                response = client.send(request, stream=stream)
            except Exception as exc:
                raise translate(exc, method, path, self.url.host) from None
            if response.status_code not in REDIRECTS:
                return response
            location = response.headers.get("location", "")
            response.close()
            url = self._redirect(url, location, method, path)
        raise TransferError(f"Too many redirects ({method} {path})", "check the URL of the connection", retryable=False)

    def _redirect(self, url: str, location: str, method: str, path: str) -> str:
        target = httpx.URL(urljoin(url, location))
        if origin(target) != origin(httpx.URL(url)):
            raise redirect_refused(method, path, str(target))
        return str(target)

    def _status_error(self, method: str, path: str, status: int) -> TransferAppError:
        return status_error(method, path, status, auth_hint(self.conn.name, self.conn.auth, self.url.user))

    def _propfind_response(self, path: str, depth: str) -> httpx.Response:
        return self._send("PROPFIND", path, {"Depth": depth, "Content-Type": XML}, PROPFIND_BODY)

    def _propfind(self, path: str, depth: str) -> list[DavResource] | None:
        """The resources a PROPFIND reports, or None when the path is missing."""
        response = self._propfind_response(path, depth)
        if response.status_code in (404, 409):
            return None
        if response.status_code != 207:
            raise self._status_error("PROPFIND", path, response.status_code)
        try:
            return parse_multistatus(response.content, str(response.url))
        except MultistatusError as exc:
            raise TransferError(f"Cannot read the server's answer to PROPFIND {path} (207): {exc}") from None

    # -- files -----------------------------------------------------------------------------------
    def stat(self, path: str) -> RemoteEntry | None:
        """The entry at ``path`` (PROPFIND Depth 0), or None when nothing is there."""
        resources = self._propfind(path, "0")
        own = self._own(resources or [], path)
        return own.entry(path) if own else None

    def list(self, path: str) -> list[RemoteEntry]:
        """The entries directly inside folder ``path`` (PROPFIND Depth 1); RemoteNotFoundError when it is missing."""
        resources = self._propfind(path, "1")
        if resources is None:
            raise RemoteNotFoundError(f"The folder {path} does not exist on the server (404 to PROPFIND {path})")
        own = self._own(resources, path)
        if own is not None and not own.is_dir:
            raise TransferError(f"{path} is a file on the server, not a folder (PROPFIND {path})")
        return [r.entry(posixpath.join(path, posixpath.basename(r.href_path))) for r in resources if r is not own]

    def _own(self, resources: Sequence[DavResource], path: str) -> DavResource | None:
        """The resource that is ``path`` itself; where the server names it differently, the shortest href."""
        wanted = posixpath.normpath(self._full(path))
        own = next((r for r in resources if r.href_path == wanted), None)
        return own or min(resources, key=lambda r: len(r.href_path), default=None)

    def makedirs(self, path: str) -> None:
        """Create folder ``path`` and its missing parents (MKCOL from the top); no error if it already exists."""
        missing: list[str] = []
        level = posixpath.normpath(self._full(path))
        while level not in self._folders:
            entry = self.stat(level)
            if entry is not None:
                if not entry.is_dir:
                    raise PermissionDeniedError(f"{level} exists on the server and is not a folder")
                self._folders.add(level)
                break
            missing.append(level)
            parent = posixpath.dirname(level)
            if parent == level:
                break
            level = parent
        for folder in reversed(missing):
            status = self._send("MKCOL", folder.rstrip("/") + "/").status_code
            if status == 405:  # something is there already (another session may have made it): is it a folder?
                entry = self.stat(folder)
                if entry is None or not entry.is_dir:
                    raise PermissionDeniedError(f"{folder} exists on the server and is not a folder (405 to MKCOL)")
            elif status not in (200, 201, 204):
                raise self._status_error("MKCOL", folder, status)
            self._folders.add(folder)

    def create(self, path: str) -> None:
        """Create or truncate ``path`` to an empty file (PUT with an empty body)."""
        self._put(path, {"Content-Length": "0"}, b"")

    def put_file(self, local: Path, path: str, progress: Progress, cancel: CancelToken) -> None:
        """Send ``local`` to ``path`` in one streamed PUT with a Content-Length (memory stays flat)."""
        cancel.check()
        try:
            size = local.stat().st_size
        except OSError as exc:
            raise LocalFileError(f"Cannot read {local}: {exc.strerror}") from None
        headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
        self._put(path, headers, FileBody(local, size, progress, cancel))

    def _put(self, path: str, headers: dict[str, str], body: Body) -> None:
        status = self._send("PUT", path, headers, body).status_code
        if status in (200, 201, 204):
            return
        folder = posixpath.dirname(path.rstrip("/")) or "/"
        if status >= 500 and self.stat(folder) is None:
            # nginx answers 500 when the folder is gone; that is not a server fault that a retry could mend
            self._folders.discard(folder)
            raise RemoteNotFoundError(f"The folder {folder} does not exist on the server (PUT {path})")
        raise self._status_error("PUT", path, status)

    def write_range(self, *args: object, **kwargs: object) -> None:
        """Not offered: WebDAV has no standard way to write at an offset (``ranged_write`` is False)."""
        raise TransferError(
            "WebDAV does not support ranged writes", "send the whole file with put_file instead", retryable=False
        )

    def read_range(
        self,
        path: str,
        local: Path,
        start: int,
        end: int,
        progress: Progress,
        cancel: CancelToken,
        sink: Callable[[bytes], None] | None = None,
    ) -> None:
        """Append bytes [start, end) of remote ``path`` to ``local`` with one ranged GET."""
        if end <= start:
            return
        with DownloadTarget(local, progress, sink) as target:
            if target.size() != start:
                raise LocalFileError(f"{local} holds {target.size()} bytes, not the {start} a resume expects")
            headers = {"Range": f"bytes={start}-{end - 1}", "Accept-Encoding": "identity"}
            with contextlib.closing(self._send("GET", path, headers, stream=True)) as response:
                self._receive(response, path, target, start, end, cancel)

    def _receive(
        self,
        response: Response,
        path: str,
        target: DownloadTarget,
        start: int,
        end: int,
        cancel: CancelToken,
    ) -> None:
        """Write the wanted bytes of a GET answer (206, or 200 when the server ignored the Range) to ``target``."""
        status = response.status_code
        if status == 416:
            raise TransferError(f"The remote file is shorter than {end} bytes now (416 to GET {path})", retryable=True)
        if status not in (200, 206):
            raise self._status_error("GET", path, status)
        skip = start if status == 200 else 0  # the server ignored the Range: drop what is already here
        if status == 206 and not response.headers.get("content-range", "").startswith(f"bytes {start}-"):
            raise TransferError(
                f"The server sent another range than asked ({response.headers.get('content-range')!r} "
                f"to GET {path} bytes={start}-{end - 1}, 206)",
                retryable=False,
            )
        copy_body(response, path, target, skip, end - start, cancel, self.url.host)

    def rename(self, src: str, dst: str) -> None:
        """MOVE ``src`` over ``dst`` (Overwrite: T), which the server does in one step."""
        headers = {"Destination": self._href(dst), "Overwrite": "T"}
        status = self._send("MOVE", src, headers).status_code
        if status not in (200, 201, 204):
            raise self._status_error("MOVE", f"{src} to {dst}", status)

    def remove(self, path: str) -> None:
        """Delete file ``path``; no error if it is already gone."""
        status = self._send("DELETE", path).status_code
        if status not in (200, 202, 204, 404):
            raise self._status_error("DELETE", path, status)

    def put_batch(self, puts: Sequence[SmallPut]) -> None:
        """PUT many small files to their part names and check their sizes (see webdav_batch)."""
        webdav_batch.put_batch(self, puts, self._batch_workers())

    def rename_batch(self, pairs: Sequence[tuple[str, str]]) -> Sequence[TransferAppError | None]:
        """MOVE many (part, final) pairs; one result per pair."""
        return webdav_batch.rename_batch(self, pairs, self._batch_workers())

    def _batch_workers(self) -> int:
        """Files of a batch in flight at once: one near the server, a few when every round trip costs."""
        return 1 if self.rtt is None or self.rtt < NEARBY_RTT else webdav_batch.DISTANT_WORKERS

    def unzip(self, path: str) -> None:
        """Ask the server to extract the zip at ``path`` into its folder (SFCC: POST with method=UNZIP)."""
        body = b"method=UNZIP"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))}
        status = self._send("POST", path, headers, body).status_code
        if status not in (200, 201, 204):
            raise self._status_error("POST", path, status)

    def writable(self, path: str) -> None:
        """PUT a probe file into folder ``path`` and DELETE it; PermissionDeniedError when the PUT is refused."""
        probe = posixpath.join(path, f".transferapp-probe-{uuid.uuid4().hex[:8]}")
        try:
            self.create(probe)
        except TransferError as exc:
            if "403" in exc.message or "405" in exc.message:
                raise PermissionDeniedError(f"Cannot create files in {path} ({exc.message})") from None
            raise
        self.remove(probe)
