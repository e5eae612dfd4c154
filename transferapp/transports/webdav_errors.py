"""Turns httpx exceptions and HTTP statuses of WebDAV requests into transferapp errors with hints."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from http import HTTPStatus
from typing import TypeVar

import httpx

from transferapp.errors import (
    AuthError,
    ConfigError,
    NetworkError,
    PermissionDeniedError,
    RemoteNotFoundError,
    StorageFullError,
    TransferAppError,
    TransferError,
)

E = TypeVar("E", bound=BaseException)
CA_HINT = "give the server's CA certificate with --ca-file PATH (the certificate is always verified)"


def reason_phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status ('' when unknown)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def status_error(method: str, path: str, status: int, auth_hint: str | None = None) -> TransferAppError:
    """The error for an unexpected HTTP status answered to ``method`` on ``path``."""
    answer = f"{status} {reason_phrase(status)}".strip()
    what = f"{method} {path}"
    if status == 401:
        return AuthError(f"The server refused the login ({answer} to {what})", auth_hint)
    if status == 403:
        return PermissionDeniedError(f"The server denied access ({answer} to {what})")
    if status in (404, 410):
        return RemoteNotFoundError(f"Not found on the server ({answer} to {what})")
    if status == 409:
        return RemoteNotFoundError(
            f"The parent folder is missing on the server ({answer} to {what})",
            "check the remote folder; it is created when the job may create folders",
        )
    if status == 507:
        return StorageFullError(f"The server has no space left ({answer} to {what})", retryable=False)
    if status == 413:
        return TransferError(
            f"The server refuses files this large ({answer} to {what})",
            "ask the administrator for the upload size limit, or send smaller files",
            retryable=False,
        )
    if status == 423:
        return TransferError(
            f"The file is locked on the server ({answer} to {what})",
            "another client holds a lock on it; the transfer is retried",
            retryable=True,
        )
    if status in (408, 429):
        return TransferError(
            f"The server asked to slow down or try again ({answer} to {what})",
            "the transfer is retried",
            retryable=True,
        )
    if status == 412:
        return TransferError(f"The server refused to replace the target ({answer} to {what})", retryable=False)
    if status in (405, 501):
        return TransferError(
            f"The server does not allow this WebDAV method here ({answer} to {what})",
            "check that the URL points at a WebDAV folder and that the server has WebDAV enabled",
            retryable=False,
        )
    if 500 <= status < 600:
        return TransferError(
            f"The server failed ({answer} to {what})", "a server-side problem; the transfer is retried", retryable=True
        )
    return TransferError(f"Unexpected answer from the server ({answer} to {what})", retryable=False)


def auth_hint(name: str, auth: str, user: str) -> str:
    """What to check when the server refuses the login of connection ``name``."""
    if auth == "password":
        return (
            f"check the user name {user!r} and the password; store the right one with "
            f"'transferapp connection passwd {name} --password-stdin'"
        )
    if auth == "token":
        return f"store a valid token with 'transferapp connection passwd {name} --token-stdin'"
    return "check the API client id, its secret, and that the client may use WebDAV on this instance"


def missing_secret(name: str, kind: str) -> AuthError:
    """The error for a password or token that is not in the keyring."""
    return AuthError(
        f"No {kind} is stored for connection {name!r}",
        f"store it with 'transferapp connection passwd {name} --{kind}-stdin'",
    )


def redirect_refused(method: str, path: str, target: str) -> TransferError:
    """The non-retryable error for a redirect to another scheme, host or port."""
    return TransferError(
        f"{method} {path} was redirected to another host ({target}); refused",
        "credentials are only sent to the server in the connection URL; fix the URL if the server moved",
        retryable=False,
    )


def translate(exc: BaseException, method: str, path: str, host: str) -> TransferAppError:
    """Map an exception raised while sending ``method`` on ``path`` to ``host`` to a TransferAppError."""
    if isinstance(exc, TransferAppError):
        return exc
    what = f"{method} {path}"
    reason = cert_failure(exc)
    if reason is not None:
        return tls_error(host, reason)
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"The server {host} stopped answering ({what} timed out)")
    if isinstance(exc, httpx.ConnectError):
        if _find(exc, socket.gaierror) is not None:
            return NetworkError(
                f"Cannot resolve the host name {host} ({what})", "check the host name in the connection URL"
            )
        if _find(exc, ConnectionRefusedError) is not None or "refused" in str(exc).lower():
            return NetworkError(
                f"The server {host} refused the connection ({what})",
                "check the host and port, and that the WebDAV server is running; the transfer is retried",
            )
        ssl_exc = _find(exc, ssl.SSLError)
        if ssl_exc is not None and not isinstance(ssl_exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return TransferError(
                f"The TLS handshake with {host} failed ({what}): {_describe(ssl_exc)}",
                "check the URL: webdavs:// needs an https server, webdav:// a plain http one",
                retryable=False,
            )
        return NetworkError(f"Cannot connect to {host} ({what}): {_describe(exc)}")
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError | httpx.RemoteProtocolError):
        return NetworkError(f"The connection to {host} dropped ({what}): {_describe(exc)}")
    if isinstance(exc, httpx.NetworkError | httpx.ProxyError):
        return NetworkError(f"The connection to {host} failed ({what}): {_describe(exc)}")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConfigError(f"Cannot build the request URL for {what}: {_describe(exc)}", "check the connection URL")
    if isinstance(exc, httpx.StreamError):
        return TransferError(f"The request body could not be sent again ({what})", retryable=True)
    if isinstance(exc, httpx.HTTPError):
        return TransferError(f"HTTP error ({what}): {_describe(exc)}", retryable=False)
    if isinstance(exc, TimeoutError | socket.timeout):
        return NetworkError(f"The server {host} stopped answering ({what} timed out)")
    if isinstance(exc, OSError):
        return NetworkError(f"The connection to {host} failed ({what}): {_describe(exc)}")
    return TransferError(f"Unexpected error ({what}): {_describe(exc)}", retryable=False)


def tls_error(host: str, reason: str) -> TransferError:
    """The non-retryable error for a server certificate that could not be verified."""
    return TransferError(f"The certificate of {host} could not be verified: {reason}", CA_HINT, retryable=False)


def cert_failure(exc: BaseException) -> str | None:
    """Why certificate verification failed, when that is what ``exc`` (or its causes) says; else None."""
    found = _find(exc, ssl.SSLCertVerificationError)
    if found is not None:
        return str(found.verify_message or found.reason or found)
    for link in _chain(exc):
        if "CERTIFICATE_VERIFY_FAILED" in str(link):
            return str(link)
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _find(exc: BaseException, kind: type[E]) -> E | None:
    for link in _chain(exc):
        if isinstance(link, kind):
            return link
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]
