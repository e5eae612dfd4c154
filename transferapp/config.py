"""Connections (and, later, jobs) in a TOML file: dataclasses, validation, atomic save.

Secrets are never part of this file; a connection only says which kind of secret the keyring holds.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from transferapp.encryption import EncryptPolicy, policy_from_toml, policy_to_toml
from transferapp.errors import ConfigError, NotFoundError
from transferapp.urls import RemoteUrl, parse_url

AUTH_KINDS = ("password", "key", "agent", "token", "sfcc-client")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SECRET_WORDS = ("password", "passphrase", "secret", "token")
TEXT_KEYS = ("key_file", "host_key", "ca_file", "client_id", "token_url")  # plain settings, never secrets
CONNECTION_KEYS = {"url", "auth", "options", "encryption", *TEXT_KEYS}
OPTION_DEFAULTS: dict[str, Any] = {
    "concurrency": 4,  # sessions per server for many files
    "streams": 4,  # parallel streams for one large file
    "timeout": 30.0,  # seconds for connect and for each request
    "max_attempts": 5,  # attempts per transfer for retryable errors
    "max_upload_mb": 0,  # refuse larger uploads before sending (0: no limit; SFCC instances: 100)
    "zip_upload": False,  # zip before upload and ask the server to unzip (SFCC)
    "pci_guard": True,  # refuse unencrypted uploads that hold card numbers; only an explicit false turns it off
}
ZERO_ALLOWED = {"max_upload_mb"}
SFTP_AUTH = ("password", "key", "agent")
HTTP_AUTH = ("password", "token", "sfcc-client")


@dataclass
class Connection:
    """One transfer-server connection profile."""

    name: str
    url: str
    auth: str = "password"
    key_file: str | None = None
    host_key: str | None = None  # fingerprint the user accepted before the first connect
    options: dict[str, Any] = field(default_factory=dict)
    ca_file: str | None = None  # extra CA bundle to verify an https server with
    client_id: str | None = None  # OAuth2 client id (SFCC Account Manager API client)
    token_url: str | None = None  # OAuth2 token endpoint for client-credentials logins
    encryption: EncryptPolicy | None = None  # when set, everything sent here is OpenPGP-encrypted

    @property
    def remote(self) -> RemoteUrl:
        """The parsed URL."""
        return parse_url(self.url)

    def option(self, key: str) -> Any:
        """An option's value, or its default."""
        return self.options.get(key, OPTION_DEFAULTS[key])

    def to_toml(self) -> dict[str, Any]:
        """The table stored in the config file."""
        table: dict[str, Any] = {"url": self.url, "auth": self.auth}
        for key in TEXT_KEYS:
            if getattr(self, key):
                table[key] = getattr(self, key)
        if self.options:
            table["options"] = dict(self.options)
        if self.encryption:
            table["encryption"] = policy_to_toml(self.encryption)
        return table


def validate_name(name: str) -> str:
    """Return the name if it is a valid connection or job name, else raise ConfigError."""
    if not NAME_PATTERN.match(name):
        raise ConfigError(
            f"Invalid name {name!r}",
            "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


def connection_from_toml(name: str, table: dict[str, Any], source: str) -> Connection:
    """Build and validate a Connection from its TOML table."""
    where = f"connection {name!r} in {source}"
    validate_name(name)
    for key in table:
        if key not in TEXT_KEYS and any(word in key.lower() for word in SECRET_WORDS):
            raise ConfigError(
                f"{where} has a {key!r} entry: secrets must not be stored in the config file",
                "delete that line and store the secret in the OS keyring with "
                f"'transferapp connection add {name} --url URL --password-stdin'",
            )
        if key not in CONNECTION_KEYS:
            raise ConfigError(f"{where} has an unknown key {key!r}", f"allowed keys: {sorted(CONNECTION_KEYS)}")
    if "url" not in table:
        raise ConfigError(f"{where} has no url", 'add url = "sftp://user@host:22/folder"')
    conn = Connection(
        name=name,
        url=str(table["url"]),
        auth=str(table.get("auth", "password")),
        options=dict(table.get("options", {})),
        encryption=policy_from_toml(table.get("encryption"), where),
        **{key: str(table[key]) for key in TEXT_KEYS if key in table},
    )
    validate_connection(conn, where)
    return conn


def validate_connection(conn: Connection, where: str) -> None:
    """Raise ConfigError naming the field if the connection is inconsistent."""
    url = conn.remote
    if conn.auth not in AUTH_KINDS:
        raise ConfigError(f"{where}: auth {conn.auth!r} is not one of {', '.join(AUTH_KINDS)}")
    allowed = SFTP_AUTH if url.scheme == "sftp" else HTTP_AUTH
    if conn.auth not in allowed:
        raise ConfigError(f"{where}: {url.scheme} connections log in with {', '.join(allowed)}, not {conn.auth!r}")
    if conn.auth == "password" and not url.user:
        raise ConfigError(f"{where}: a password login needs a user name in the URL", "use webdavs://user@host/path")
    if conn.auth == "sfcc-client" and not conn.client_id:
        raise ConfigError(f"{where}: an API-client login needs client_id", "give --sfcc-client-id ID")
    if conn.ca_file and url.scheme != "webdavs":
        raise ConfigError(f"{where}: ca_file is only for https (webdavs://) connections")
    if conn.auth == "key" and not conn.key_file:
        raise ConfigError(f"{where}: auth is 'key' but no key_file is set", 'add key_file = "/path/to/key"')
    if conn.host_key and not conn.host_key.startswith("SHA256:"):
        raise ConfigError(f"{where}: host_key must be a SHA256 fingerprint", "copy it as SHA256:... from the error")
    for key, value in conn.options.items():
        if key not in OPTION_DEFAULTS:
            raise ConfigError(f"{where}: unknown option {key!r}", f"known options: {sorted(OPTION_DEFAULTS)}")
        default = OPTION_DEFAULTS[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: option {key!r} must be true or false, not {value!r}")
            continue
        lowest = 0 if key in ZERO_ALLOWED else 1e-9
        if not isinstance(value, type(default) | int) or isinstance(value, bool) or value < lowest:
            raise ConfigError(f"{where}: option {key!r} must be a positive number, not {value!r}")


@dataclass
class Config:
    """The whole config file: connections plus sections other features own (kept as they are)."""

    path: Path
    connections: dict[str, Connection] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)

    def connection(self, name: str) -> Connection:
        """Return the named connection or raise NotFoundError listing the known ones."""
        try:
            return self.connections[name]
        except KeyError:
            known = ", ".join(sorted(self.connections)) or "none yet"
            raise NotFoundError(
                f"No connection named {name!r}",
                f"known connections: {known}; add one with 'transferapp connection add'",
            ) from None

    def save(self) -> None:
        """Write the file atomically (temp file, fsync, rename) with owner-only permissions."""
        document: dict[str, Any] = dict(self.other)
        document["connections"] = {name: conn.to_toml() for name, conn in sorted(self.connections.items())}
        write_atomic(self.path, tomli_w.dumps(document).encode())


def load_config(path: Path) -> Config:
    """Load and validate the config file; a missing file is an empty config."""
    if not path.exists():
        return Config(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The config file {path} is not valid TOML: {exc}", "fix that line, or restore a backup"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc}") from None
    tables = document.pop("connections", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"'connections' in {path} must be a table", "use [connections.NAME] sections")
    connections = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"connections.{name} in {path} must be a table")
        connections[name] = connection_from_toml(name, table, str(path))
    return Config(path, connections, document)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
