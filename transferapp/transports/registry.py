"""Picks the transport class for a connection's URL scheme."""

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
    raise ConfigError(
        f"Connection {conn.name!r} uses {scheme}://, which this version cannot transfer yet",
        "use an sftp:// connection",
    )


def make_transport(
    conn: Connection, secrets: SecretStore, hostkeys: HostKeyStore, trust_new_host_key: bool = False
) -> Transport:
    """A new, unconnected transport for the connection."""
    cls: Any = transport_class(conn)
    transport: Transport = cls(conn, secrets, hostkeys, trust_new_host_key)
    return transport
