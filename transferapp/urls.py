"""Connection URLs: ``sftp://user@host:port/remote/dir`` (``/~/dir`` for a folder under the login's home)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from transferapp.errors import ConfigError

DEFAULT_PORTS = {"sftp": 22, "webdav": 80, "webdavs": 443}


@dataclass(frozen=True)
class RemoteUrl:
    """A parsed connection URL."""

    scheme: str
    user: str
    host: str
    port: int
    path: str  # absolute ('/data/in'), or relative to the login's home ('.' or 'in/orders')

    def __str__(self) -> str:
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == DEFAULT_PORTS.get(self.scheme) else f":{self.port}"
        path = self.path if self.path.startswith("/") else "/~" + ("" if self.path == "." else "/" + self.path)
        return f"{self.scheme}://{user}{host}{port}{quote(path, safe='/~')}"

    def join(self, *parts: str) -> str:
        """Join remote path parts onto this URL's folder (an absolute part replaces the folder)."""
        return posixpath.normpath(posixpath.join(self.path, *parts))


def parse_url(text: str) -> RemoteUrl:
    """Parse and validate a connection URL, raising ConfigError that says what is wrong."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"Invalid URL {text!r}: {exc}", "use the form sftp://user@host:22/remote/folder") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigError(
            f"Unsupported URL scheme {scheme or '(none)'!r} in {text!r}",
            "use sftp://user@host:port/folder (WebDAV: webdavs://host/path)",
        )
    if not parts.hostname:
        raise ConfigError(f"The URL {text!r} names no host", "use the form sftp://user@host:22/remote/folder")
    if parts.password:
        raise ConfigError(
            f"The URL {text!r} contains a password",
            "remove it from the URL; give it with --password-stdin so it goes to the OS keyring",
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"The URL {text!r} has a query or fragment", "remove the part after '?' or '#'")
    user = unquote(parts.username or "")
    if scheme == "sftp" and not user:
        raise ConfigError(f"The SFTP URL {text!r} names no user", "use the form sftp://user@host:22/folder")
    raw_path = unquote(parts.path or "/")
    if scheme == "sftp" and (raw_path == "/~" or raw_path.startswith("/~/")):
        rel = raw_path[3:].strip("/")
        path = posixpath.normpath(rel) if rel else "."
    else:
        path = posixpath.normpath(raw_path if raw_path.startswith("/") else "/" + raw_path)
    if path.startswith("/") and path.startswith("//"):
        path = "/" + path.lstrip("/")
    return RemoteUrl(scheme, user, parts.hostname, port or DEFAULT_PORTS[scheme], path)
