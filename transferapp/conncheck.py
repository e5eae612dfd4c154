"""A connection check in named steps (resolve, connect, host key or TLS, log in, folder), for the GUI and the CLI."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from transferapp.app import AppContext
from transferapp.config import Connection
from transferapp.errors import AuthError, ConfigError, HostKeyError, TransferAppError
from transferapp.transports.registry import make_transport

RESOLVE, CONNECT, HOST_KEY, TLS, LOGIN, FOLDER = "resolve", "connect", "host key", "TLS certificate", "log in", "folder"


@dataclass(frozen=True)
class CheckStep:
    """One step's verdict; ``error`` is the exception that failed it (a HostKeyError lets a GUI ask the user)."""

    step: str
    ok: bool
    message: str
    hint: str = ""
    error: TransferAppError | None = None


def _failed(step: str, exc: TransferAppError) -> CheckStep:
    return CheckStep(step, False, exc.message, exc.hint or "", exc)


def _login_step(conn: Connection, exc: TransferAppError) -> str:
    """Which step a connect() failure belongs to."""
    if isinstance(exc, HostKeyError):
        return HOST_KEY
    if isinstance(exc, AuthError):
        return LOGIN
    if conn.remote.scheme == "webdavs" and ("certificate" in str(exc).lower() or "tls" in str(exc).lower()):
        return TLS
    return LOGIN


def check_connection(
    ctx: AppContext, conn: Connection, report: Callable[[CheckStep], object], timeout: float = 10.0
) -> bool:
    """Run every step, reporting each as it ends; stop at the first failure; True when all passed."""
    url = conn.remote
    try:
        socket.getaddrinfo(url.host, url.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        report(CheckStep(RESOLVE, False, f"Cannot resolve the host name {url.host}: {exc.strerror or exc}",
                         "check the spelling of the host, and the network or VPN"))  # fmt: skip
        return False
    report(CheckStep(RESOLVE, True, f"{url.host} resolved"))
    try:
        socket.create_connection((url.host, url.port), timeout=timeout).close()
    except OSError as exc:
        report(CheckStep(CONNECT, False, f"Cannot connect to {url.host}:{url.port}: {exc.strerror or exc}",
                         "check the port, that the server is up, and any firewall in between"))  # fmt: skip
        return False
    report(CheckStep(CONNECT, True, f"connected to {url.host}:{url.port}"))
    try:
        transport = make_transport(conn, ctx.secrets, ctx.hostkeys)
        transport.connect()
    except TransferAppError as exc:
        report(_failed(_login_step(conn, exc), exc))
        return False
    try:
        if url.scheme == "sftp":
            report(CheckStep(HOST_KEY, True, "the host key matches the pinned key"))
        elif url.scheme == "webdavs":
            report(CheckStep(TLS, True, "the TLS certificate is valid for this host"))
        who = f"as {url.user}" if url.user else f"with {conn.auth}"
        report(CheckStep(LOGIN, True, f"logged in {who}"))
        home = transport.home()
        entry = transport.stat(home)
        if entry is None or not entry.is_dir:
            raise ConfigError(f"The remote folder {home} does not exist", "create it, or fix the connection's folder")
        transport.writable(home)
        report(CheckStep(FOLDER, True, f"the folder {home} exists and is writable"))
        return True
    except TransferAppError as exc:
        report(_failed(FOLDER, exc))
        return False
    finally:
        transport.close()
