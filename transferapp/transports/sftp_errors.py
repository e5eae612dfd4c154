"""Turns paramiko, socket and SFTP status errors into transferapp errors with hints."""

from __future__ import annotations

import errno
import socket

import paramiko

from transferapp.errors import (
    AuthError,
    NetworkError,
    PermissionDeniedError,
    RemoteNotFoundError,
    StorageFullError,
    TransferAppError,
    TransferError,
)


def translate(exc: BaseException, what: str) -> TransferAppError:
    """Map a low-level exception raised while doing ``what`` to a TransferAppError."""
    if isinstance(exc, TransferAppError):
        return exc
    if isinstance(exc, paramiko.AuthenticationException):
        return AuthError(f"The server refused the login while {what}: {exc}")
    if isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) == errno.ENOENT:
        return RemoteNotFoundError(f"Not found on the server while {what}")
    if isinstance(exc, PermissionError) or getattr(exc, "errno", None) == errno.EACCES:
        return PermissionDeniedError(f"Permission denied by the server while {what}")
    if getattr(exc, "errno", None) == errno.ENOSPC:
        return StorageFullError(f"No space left while {what}")
    if isinstance(exc, socket.timeout | TimeoutError):
        return NetworkError(f"The server stopped answering while {what} (timed out)")
    if isinstance(exc, ConnectionRefusedError):
        return NetworkError(
            f"The server refused the connection while {what}",
            "check the host and port, and that the SFTP server is running; the transfer is retried automatically",
        )
    if isinstance(exc, socket.gaierror):
        return NetworkError(
            f"Cannot resolve the host name while {what}: {exc.strerror}",
            "check the host name in the connection URL",
            retryable=True,
        )
    if isinstance(exc, EOFError | ConnectionError | paramiko.SSHException | socket.error):
        return NetworkError(f"The connection dropped while {what}: {_describe(exc)}")
    if isinstance(exc, OSError) and "Failure" in str(exc):
        return TransferError(
            f"The server reported a failure while {what}",
            "the server's disk may be full or the file locked; the transfer is retried",
            retryable=True,
        )
    if isinstance(exc, OSError):
        return TransferError(f"The server reported an error while {what}: {_describe(exc)}", retryable=True)
    return TransferError(f"Unexpected error while {what}: {_describe(exc)}", retryable=False)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]
