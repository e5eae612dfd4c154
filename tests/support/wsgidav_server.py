"""A real WsgiDAV server in this process (cheroot in a thread) sharing a temp folder at ``/dav``.

Users log in with Basic and/or Digest (WsgiDAV's simple domain controller), or with a bearer token checked by a
small WSGI middleware in front of an anonymous WsgiDAV. Optional HTTPS uses a CA and a server certificate made
here with ``cryptography``. A recording middleware keeps one line per request so tests can check what was sent.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from wsgidav.wsgidav_app import WsgiDAVApp

SHARE = "/dav"
AUTH_MODES = ("digest", "basic", "both", "bearer", "none")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of a test CA and a server certificate it signed (for 127.0.0.1 and localhost)."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls(folder: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> TlsFiles:
    """Create a CA and a server certificate for ``hosts`` in ``folder``; return the PEM paths."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "transferapp test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.key_file.chmod(0o600)
    return files


@dataclass
class Seen:
    """One request as the server saw it, and the status it answered."""

    method: str
    path: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class Tweaks:
    """Misbehaviours a test can switch on while the server runs."""

    ignore_range: bool = False  # drop the Range header: the server answers 200 with the whole body
    redirects: dict[str, str] = field(default_factory=dict)  # request path -> Location (answered with 307)
    statuses: dict[tuple[str, str], int] = field(default_factory=dict)  # (method, path) -> forced status
    once: dict[tuple[str, str], int] = field(default_factory=dict)  # like statuses, for the next such request only
    extra_challenge: str | None = None  # another WWW-Authenticate put before the server's own on every 401


class _Front:
    """The WSGI app cheroot runs: records requests, applies tweaks, checks bearer tokens, then calls WsgiDAV."""

    def __init__(self, server: WsgiDavServer, dav: WsgiApp) -> None:
        self.server = server
        self.dav = dav

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request."""
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")  # PEP 3333: already unquoted
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
        seen = Seen(environ["REQUEST_METHOD"], path, headers)
        self.server.requests.append(seen)

        def recording_start(status: str, response_headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen.status = int(status.split()[0])
            if seen.status == 401 and self.server.tweaks.extra_challenge:
                response_headers = [("WWW-Authenticate", self.server.tweaks.extra_challenge), *response_headers]
            return start_response(status, response_headers, *exc)

        tweaks = self.server.tweaks
        if path in tweaks.redirects:
            return _answer(recording_start, 307, [("Location", tweaks.redirects[path])], environ)
        forced = tweaks.once.pop((seen.method, path), None) or tweaks.statuses.get((seen.method, path))
        if forced:
            return _answer(recording_start, forced, [], environ)
        if tweaks.ignore_range:
            environ.pop("HTTP_RANGE", None)
        if self.server.auth == "bearer":
            token = headers.get("authorization", "")
            if not token.startswith("Bearer ") or token[7:] not in self.server.bearer_tokens:
                return _answer(recording_start, 401, [("WWW-Authenticate", 'Bearer realm="dav"')], environ)
        return self.dav(environ, recording_start)


def _answer(start_response: StartResponse, status: int, headers: list[tuple[str, str]], environ: Any) -> list[bytes]:
    """A short plain answer; the request body is read first so the connection stays usable."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    while length > 0:
        chunk = stream.read(min(length, 1 << 20))
        if not chunk:
            break
        length -= len(chunk)
    body = f"{status} from the test server\n".encode()
    reasons = {307: "Temporary Redirect", 401: "Unauthorized"}
    start_response(
        f"{status} {reasons.get(status, 'Test Status')}",
        [*headers, ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
    )
    return [body]


class WsgiDavServer:
    """WsgiDAV + cheroot on a free loopback port; ``root`` is the local folder shared as ``/dav``."""

    def __init__(
        self,
        root: Path,
        users: dict[str, str] | None = None,
        auth: str = "digest",
        tls: TlsFiles | None = None,
        readonly: dict[str, Path] | None = None,
    ) -> None:
        """Serve ``root`` at /dav; ``readonly`` maps more share paths (e.g. '/ro') to folders nobody may change."""
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}")
        self.root = root
        self.users = dict(users or {})
        self.auth = auth
        self.tls = tls
        self.readonly = dict(readonly or {})
        self.host = "127.0.0.1"
        self.port = 0
        self.requests: list[Seen] = []
        self.tweaks = Tweaks()
        self.bearer_tokens: set[str] = set()
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None

    def _config(self) -> dict[str, Any]:
        anonymous = self.auth in ("bearer", "none")
        mapping: Any = True if anonymous else {u: {"password": p} for u, p in self.users.items()}
        return {
            "host": self.host,
            "port": 0,
            "provider_mapping": {
                SHARE: str(self.root),
                **{share: {"root": str(folder), "readonly": True} for share, folder in self.readonly.items()},
            },
            "simple_dc": {"user_mapping": {"*": mapping}},
            "http_authenticator": {
                "domain_controller": None,
                "accept_basic": self.auth in ("basic", "both"),
                "accept_digest": self.auth in ("digest", "both"),
                "default_to_digest": self.auth in ("digest", "both"),
            },
            "dir_browser": {"enable": False},
            "lock_storage": True,
            "verbose": 1,
            "logging": {"enable": False},
        }

    def start(self) -> WsgiDavServer:
        """Bind a free port and serve in a daemon thread."""
        for folder in (self.root, *self.readonly.values()):
            folder.mkdir(parents=True, exist_ok=True)
        logging.getLogger("wsgidav").setLevel(logging.ERROR)
        app = _Front(self, WsgiDAVApp(self._config()))
        server = wsgi.Server((self.host, 0), app, numthreads=8, server_name="wsgidav-test")
        if self.tls is not None:
            server.ssl_adapter = BuiltinSSLAdapter(str(self.tls.cert_file), str(self.tls.key_file))
        server.prepare()
        self.port = int(server.bind_addr[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="wsgidav-test", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and join the thread; safe to call twice."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> WsgiDavServer:
        """Start the server."""
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Stop the server."""
        self.stop()

    def url(self, path: str = SHARE, user: str | None = None) -> str:
        """A transferapp connection URL (webdav:// or webdavs://) for ``path`` on this server."""
        from urllib.parse import quote

        scheme = "webdavs" if self.tls else "webdav"
        login = f"{quote(user, safe='')}@" if user else ""
        return f"{scheme}://{login}{self.host}:{self.port}{quote(path, safe='/')}"

    def local(self, remote: str) -> Path:
        """The local file behind a remote path under ``/dav``."""
        if remote != SHARE and not remote.startswith(SHARE + "/"):
            raise ValueError(f"{remote} is not under {SHARE}")
        return self.root / remote[len(SHARE) :].lstrip("/")

    def seen(self, method: str) -> list[Seen]:
        """The requests of one method, in order."""
        return [r for r in self.requests if r.method == method]


def iter_file(path: Path, block: int = 1 << 20) -> Iterator[bytes]:
    """The blocks of a local file (to hash or compare large files without loading them)."""
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            yield chunk
