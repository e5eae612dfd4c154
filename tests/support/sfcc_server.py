"""A stand-in Salesforce B2C Commerce instance: WsgiDAV at the instance's WebDAV path, over HTTPS, with its logins.

The WsgiDAV server of ``wsgidav_server`` (anonymous inside) gets a gate in front of WsgiDAV that lets a request in only
with ``Authorization: Bearer T`` for a token the Account Manager stand-in (``TokenServer``) issued and has not revoked,
or with Basic auth for a Business Manager user and their access key; anything else is answered 401. The gate also
does what instances do beyond WebDAV: ``POST <folder>/NAME.zip`` with the form ``method=UNZIP`` extracts the archive
into its folder (201), and a PUT larger than ``max_upload`` bytes is refused with 413. Every request (401s included)
is recorded by the recording front (``requests``, ``seen(method)``).
"""

from __future__ import annotations

import base64
import binascii
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from support.token_server import TokenServer
from support.wsgidav_server import StartResponse, TlsFiles, WsgiApp, WsgiDavServer, _answer

SITES = "/on/demandware.servlet/webdav/Sites"
CHALLENGES = [("WWW-Authenticate", 'Bearer realm="Sites"'), ("WWW-Authenticate", 'Basic realm="Sites"')]
MAX_UPLOAD = 100_000_000  # bytes; instances refuse larger WebDAV uploads


class SfccServer(WsgiDavServer):
    """WsgiDAV serving ``root`` at the instance's Sites path, behind the instance's logins, UNZIP and upload limit."""

    def __init__(
        self,
        root: Path,
        tokens: TokenServer,
        tls: TlsFiles,
        bm_users: dict[str, str] | None = None,
        max_upload: int = MAX_UPLOAD,
    ) -> None:
        """``bm_users`` maps Business Manager logins to their WebDAV access keys."""
        super().__init__(root, auth="none", tls=tls)
        self.tokens = tokens
        self.bm_users = dict(bm_users or {})
        self.max_upload = max_upload
        self.revoke_before: str | None = None  # a method: revoke every token just before the first such request
        self.unzipped: list[tuple[str, list[str]]] = []  # archives extracted: request path and member names

    def _config(self) -> dict[str, Any]:
        config = super()._config()
        # Mounted below Sites by the gate (WsgiDAV finds no provider for a share name with capitals, like "Sites").
        config["provider_mapping"] = {"/": str(self.root)}
        config["mount_path"] = SITES
        return config

    def start(self) -> SfccServer:
        """Serve in a thread, with the gate put between the recording front and WsgiDAV."""
        (self.root / "Impex" / "src").mkdir(parents=True, exist_ok=True)
        super().start()
        assert self._server is not None
        front = self._server.wsgi_app
        front.dav = _Gate(self, front.dav)
        return self

    @property
    def instance(self) -> str:
        """What ``--sfcc-instance`` takes for this server (host:port)."""
        return f"{self.host}:{self.port}"

    def folder(self, relative: str) -> Path:
        """The local folder behind a folder under Sites, e.g. ``Impex/src/catalog``."""
        return self.root / relative.strip("/")

    def local(self, remote: str) -> Path:
        """The local file behind a request path under Sites."""
        if not remote.startswith(SITES + "/"):
            raise ValueError(f"{remote} is not under {SITES}")
        return self.root / remote[len(SITES) :].lstrip("/")

    def authorized(self, header: str) -> bool:
        """Whether the Authorization header carries an issued token or a Business Manager user's access key."""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return bool(value) and self.tokens.valid(value.strip())
        if scheme.lower() == "basic" and self.bm_users:
            try:
                user, _, key = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return self.bm_users.get(user) == key
        return False


class _Gate:
    """Checks the login, enforces the upload limit and serves UNZIP; everything else goes to WsgiDAV."""

    def __init__(self, server: SfccServer, dav: WsgiApp) -> None:
        self.server = server
        self.dav = dav

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request."""
        server = self.server
        method = environ["REQUEST_METHOD"]
        if server.revoke_before == method:
            server.revoke_before = None
            server.tokens.revoke_all()
        if not server.authorized(environ.get("HTTP_AUTHORIZATION", "")):
            return _answer(start_response, 401, CHALLENGES, environ)
        if method == "PUT" and int(environ.get("CONTENT_LENGTH") or 0) > server.max_upload:
            return _answer(start_response, 413, [], environ)
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        if path != SITES and not path.startswith(SITES + "/"):
            return _answer(start_response, 404, [], environ)
        if method == "POST" and path.endswith(".zip"):
            return self._unzip(environ, start_response, path)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + SITES
        environ["PATH_INFO"] = environ["PATH_INFO"][len(SITES) :] or "/"
        return self.dav(environ, start_response)

    def _unzip(self, environ: dict[str, Any], start_response: StartResponse, path: str) -> Iterable[bytes]:
        """Extract the archive at ``path`` into its own folder: 201, or 400/404 and nothing extracted."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
        environ["CONTENT_LENGTH"] = "0"  # the body is read
        if form.get("method") != ["UNZIP"] or not path.startswith(SITES + "/"):
            return _answer(start_response, 400, [], environ)
        archive = self.server.local(path)
        folder = archive.parent.resolve()
        if not archive.is_file():
            return _answer(start_response, 404, [], environ)
        try:
            with zipfile.ZipFile(archive) as bundle:
                targets = [(folder / member).resolve() for member in bundle.namelist()]
                if any(not t.is_relative_to(folder) or t == folder for t in targets):
                    return _answer(start_response, 400, [], environ)  # a member would land outside the folder
                bundle.extractall(folder)
                members = bundle.namelist()
        except zipfile.BadZipFile:
            return _answer(start_response, 400, [], environ)
        self.server.unzipped.append((path, members))
        return _answer(start_response, 201, [], environ)
