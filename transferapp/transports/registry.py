"""Picks and builds the transport for a connection's URL scheme (SFTP, WebDAV over http or https)."""

from __future__ import annotations

from typing import Any

from transferapp.config import Connection
from transferapp.errors import ConfigError
from transferapp.secrets import SecretStore
from transferapp.transports.base import Transport
from transferapp.transports.hostkeys import HostKeyStore


def transport_class(conn: Connection) -> type[Transport]:
    """The transport class that serves the connection's URL scheme."""
    scheme = conn.remote.scheme
    if scheme == "sftp":
        from transferapp.transports.sftp import SftpTransport

        return SftpTransport
    if scheme in ("webdav", "webdavs"):
        from transferapp.transports.webdav import WebdavTransport

        return WebdavTransport
    raise ConfigError(f"Connection {conn.name!r} uses {scheme}://, which transferapp cannot transfer")


def make_transport(
    conn: Connection, secrets: SecretStore, hostkeys: HostKeyStore, trust_new_host_key: bool = False
) -> Transport:
    """A new, unconnected transport for the connection."""
    cls: Any = transport_class(conn)
    if conn.auth == "sfcc-client":
        return cls(conn, secrets, hostkeys, trust_new_host_key, token_provider=_token_provider(conn, secrets))
    transport: Transport = cls(conn, secrets, hostkeys, trust_new_host_key)
    return transport


def _token_provider(conn: Connection, secrets: SecretStore) -> Any:
    from transferapp import sfcc
    from transferapp.transports.webdav_auth import tls_context

    verify = tls_context(conn)
    return sfcc.shared_provider(
        conn.name,
        conn.client_id or "",
        conn.token_url or sfcc.DEFAULT_TOKEN_URL,
        lambda: secrets.get(conn.name, "client_secret"),
        verify,
        float(conn.option("timeout")),
    )
