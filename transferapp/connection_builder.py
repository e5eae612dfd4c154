"""Connection profiles from form fields (SFTP, WebDAV, SFCC presets), checked field by field; and their removal."""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from transferapp import sfcc
from transferapp.app import AppContext
from transferapp.config import Config, Connection, validate_connection, validate_name
from transferapp.errors import ConfigError, TransferAppError
from transferapp.urls import parse_url

PRESETS = ("sftp", "webdav", "sfcc")
SECRET_OF_AUTH = {"password": "password", "key": "passphrase", "token": "token", "sfcc-client": "client_secret"}


@dataclass
class ConnectionFields:
    """What a connection form holds, as typed (secrets are never part of it)."""

    name: str = ""
    preset: str = "sftp"
    host: str = ""
    port: str = "22"
    user: str = ""
    folder: str = ""  # empty: the login's home; relative: under home; /absolute
    sftp_auth: str = "key"  # password, key, agent
    key_file: str = ""
    url: str = "webdavs://"
    webdav_auth: str = "password"  # password, token
    ca_file: str = ""
    sfcc_instance: str = ""
    sfcc_folder: str = sfcc.DEFAULT_FOLDER
    sfcc_auth: str = "password"  # password (Business Manager user + access key) or sfcc-client
    client_id: str = ""
    token_url: str = ""

    @property
    def auth(self) -> str:
        """The login kind the preset's auth choice stands for."""
        return {"sftp": self.sftp_auth, "webdav": self.webdav_auth, "sfcc": self.sfcc_auth}[self.preset]

    @property
    def secret_kind(self) -> str | None:
        """Which keyring entry this login uses (None for ssh-agent)."""
        return SECRET_OF_AUTH.get(self.auth)


@dataclass
class Checked:
    """The outcome of checking fields: the connection when valid, else a message per field name."""

    connection: Connection | None
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)


def _text(exc: TransferAppError) -> str:
    return exc.message + (f" ({exc.hint})" if exc.hint else "")


def sftp_folder_path(folder: str) -> str:
    """The URL path of a folder field: '' is home, 'in' is under home, '/data/in' is absolute."""
    folder = folder.strip()
    if folder.startswith("/"):
        return folder
    rel = folder.removeprefix("~").strip("/")
    return "/~" + (f"/{rel}" if rel else "")


def _sftp_url(f: ConnectionFields, errors: dict[str, str]) -> str:
    host, user = f.host.strip(), f.user.strip()
    if not host:
        errors["host"] = "Enter the server's host name or IP address"
    elif any(c in host for c in "/@ ?#"):
        errors["host"] = f"{host!r} is not a host name (give only the name, e.g. sftp.example.com)"
    port = f.port.strip()
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        errors["port"] = f"The port must be a number from 1 to 65535, not {port!r}"
    if not user:
        errors["user"] = "Enter the user name to log in with"
    if f.sftp_auth == "key" and not f.key_file.strip():
        errors["key_file"] = "Choose the private key file"
    if errors:
        return ""
    return f"sftp://{quote(user, safe='')}@{host}:{port}{quote(sftp_folder_path(f.folder), safe='/~')}"


def _webdav_url(f: ConnectionFields, errors: dict[str, str], warnings: dict[str, str]) -> str:
    url, user = f.url.strip(), f.user.strip()
    try:
        remote = parse_url(url)
    except ConfigError as exc:
        errors["url"] = _text(exc)
        return ""
    if remote.scheme == "sftp":
        errors["url"] = "Use the SFTP preset for sftp:// servers; WebDAV URLs start with webdavs:// or webdav://"
        return ""
    if remote.scheme == "webdav":
        warnings["url"] = "webdav:// is not encrypted: passwords and files can be read on the network (use webdavs://)"
    if remote.user and user and remote.user != user:
        errors["user"] = f"The URL names the user {remote.user!r}; leave this empty or make them the same"
        return ""
    if user and not remote.user:
        parts = urlsplit(url)
        url = parts._replace(netloc=f"{quote(user, safe='')}@{parts.netloc}").geturl()
    if f.webdav_auth == "password" and not (user or remote.user):
        errors["user"] = "Enter the user name to log in with"
    return url


def _sfcc_url(f: ConnectionFields, errors: dict[str, str]) -> str:
    host = f.sfcc_instance.strip().removeprefix("https://").strip("/")
    if not host:
        errors["sfcc_instance"] = "Enter the instance host, e.g. dev01-realm-customer.demandware.net"
    elif any(c in host for c in "/@ ?#:"):
        errors["sfcc_instance"] = f"{host!r} is not a host name (give only the instance host)"
    folder = f.sfcc_folder.strip().strip("/")
    if not folder or ".." in folder.split("/"):
        errors["sfcc_folder"] = "Enter a folder under the instance's Sites root, e.g. " + sfcc.DEFAULT_FOLDER
    if f.sfcc_auth == "password" and not f.user.strip():
        errors["user"] = "Enter the Business Manager user name"
    if f.sfcc_auth == "sfcc-client" and not f.client_id.strip():
        errors["client_id"] = "Enter the Account Manager API client id"
    token_url = f.token_url.strip()
    if token_url and not token_url.startswith("https://"):
        errors["token_url"] = "The token URL must start with https://"  # noqa: S105 - a message, not a secret
    if errors:
        return ""
    user = f.user.strip() if f.sfcc_auth == "password" else None
    return sfcc.instance_url(host, folder, user)


def check_fields(
    f: ConnectionFields, config: Config, existing: Connection | None = None, secret_given: bool = True
) -> Checked:
    """Check every field and build the connection; ``existing`` keeps its options, host key and encryption."""
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    name = f.name.strip()
    try:
        validate_name(name)
    except ConfigError as exc:
        errors["name"] = _text(exc) if name else "Enter a name for this connection"
    if existing is None and name in config.connections:
        errors["name"] = f"A connection named {name!r} already exists; pick another name"
    if f.preset == "sftp":
        url = _sftp_url(f, errors)
    elif f.preset == "webdav":
        url = _webdav_url(f, errors, warnings)
    else:
        url = _sfcc_url(f, errors)
    for key in ("key_file", "ca_file"):
        path = getattr(f, key).strip()
        relevant = f.auth == "key" if key == "key_file" else f.preset == "webdav"
        if path and relevant and key not in errors and not Path(path).expanduser().is_file():
            errors[key] = f"There is no file {path}"
    if not secret_given and f.secret_kind in ("password", "token", "client_secret"):
        errors["secret"] = (
            "Enter the "
            + {"password": "password", "token": "token", "client_secret": "client secret"}[f.secret_kind]
            + (" (the access key)" if f.preset == "sfcc" and f.auth == "password" else "")
        )
    if errors:
        return Checked(None, errors, warnings)
    conn = _connection(f, name, url, existing)
    try:
        validate_connection(conn, f"connection {name!r}")
    except ConfigError as exc:
        errors["form"] = _text(exc)
        return Checked(None, errors, warnings)
    return Checked(conn, errors, warnings)


def _connection(f: ConnectionFields, name: str, url: str, existing: Connection | None) -> Connection:
    options = dict(existing.options) if existing else {}
    if f.preset == "sfcc" and existing is None:
        options.setdefault("max_upload_mb", sfcc.MAX_UPLOAD_MB)
    conn = Connection(
        name,
        url,
        f.auth,
        key_file=f.key_file.strip() or None if f.preset == "sftp" and f.auth == "key" else None,
        options=options,
        ca_file=f.ca_file.strip() or None if f.preset == "webdav" else None,
        client_id=f.client_id.strip() or None if f.auth == "sfcc-client" else None,
        token_url=f.token_url.strip() or None if f.preset == "sfcc" else None,
        encryption=copy.deepcopy(existing.encryption) if existing else None,
    )
    if existing is not None and (existing.remote.host, existing.remote.port) == (conn.remote.host, conn.remote.port):
        conn.host_key = existing.host_key
    return conn


def fields_of(conn: Connection) -> ConnectionFields:
    """The form fields that show an existing connection."""
    url = conn.remote
    f = ConnectionFields(name=conn.name, user=url.user)
    if url.scheme == "sftp":
        f.preset, f.host, f.port, f.sftp_auth = "sftp", url.host, str(url.port), conn.auth
        f.folder = url.path if url.path.startswith("/") else ("" if url.path == "." else url.path)
        f.key_file = conn.key_file or ""
    elif url.path.startswith(sfcc.WEBDAV_ROOT + "/") and conn.auth in ("password", "sfcc-client") and not conn.ca_file:
        f.preset, f.sfcc_instance, f.sfcc_auth = "sfcc", url.host, conn.auth
        f.sfcc_folder = posixpath.relpath(url.path, sfcc.WEBDAV_ROOT)
        f.client_id, f.token_url = conn.client_id or "", conn.token_url or ""
    else:
        f.preset, f.webdav_auth, f.ca_file = "webdav", conn.auth, conn.ca_file or ""
        f.url = str(url.__class__(url.scheme, "", url.host, url.port, url.path))
    return f


def jobs_using(config: Config, name: str) -> list[str]:
    """The names of the jobs that send or fetch through the connection."""
    tables = config.other.get("jobs", {})
    return sorted(n for n, t in tables.items() if isinstance(t, dict) and t.get("connection") == name)


def remove_connection(ctx: AppContext, name: str) -> Connection:
    """Remove a profile and its keyring entries, and its host-key pin when no other profile uses that server."""
    conn = ctx.config.connection(name)
    users = jobs_using(ctx.config, name)
    if users:
        raise ConfigError(
            f"The connection {name!r} is used by job(s) {', '.join(users)}",
            "remove those jobs first, or point them at another connection",
        )
    ctx.secrets.delete_all(name)
    del ctx.config.connections[name]
    ctx.config.save()
    url = conn.remote
    if not any((c.remote.host, c.remote.port) == (url.host, url.port) for c in ctx.config.connections.values()):
        ctx.hostkeys.forget(url.host, url.port)
    return conn
