"""The error tree: every failure says what went wrong, what to do, and whether a retry can help."""

from __future__ import annotations


class TransferAppError(Exception):
    """Base of every error transferapp reports to a user; carries a hint and a retryable flag."""

    retryable: bool = False
    default_hint: str = ""

    def __init__(self, message: str, hint: str | None = None, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(TransferAppError):
    """The config file or a value in it is wrong."""

    default_hint = "fix the config file or the command-line value"


class NotFoundError(TransferAppError):
    """A named thing (connection, queue entry, local or remote file) does not exist."""


class SecretStoreError(TransferAppError):
    """The OS keyring is missing, locked or refused the request."""

    default_hint = (
        "install and start an OS keyring: on Linux gnome-keyring (or KWallet) on a D-Bus session; "
        "transferapp never stores secrets in plain files"
    )


class TransferError(TransferAppError):
    """A transfer failed; ``retryable`` tells the engine whether trying again can help."""


class NetworkError(TransferError):
    """The connection failed or dropped; usually temporary."""

    retryable = True
    default_hint = "check the network and that the server is up; the transfer is retried automatically"


class AuthError(TransferError):
    """The server refused the credentials."""

    default_hint = "check the user name and password or key with 'transferapp connection test'"


class HostKeyError(TransferError):
    """The server's host key is unknown or changed; ``offered`` and ``changed`` let a GUI ask the user."""

    offered: str = ""  # SHA256:... fingerprint of the key the server offered
    key_type: str = ""  # e.g. ssh-ed25519
    server: str = ""  # host:port
    changed: bool = False  # a different key is pinned: never accept without removing the old pin


class PermissionDeniedError(TransferError):
    """The server or the local system refused access to a path."""

    default_hint = "ask the server's administrator for write access to that folder, or pick another folder"


class RemoteNotFoundError(TransferError):
    """A remote path does not exist."""

    default_hint = "check the remote folder in the connection or the --remote-dir value"


class LocalFileError(TransferError):
    """A local file is missing, unreadable or changed while being sent."""


class VerifyError(TransferError):
    """What arrived differs from what was sent; the partial copy is discarded and the transfer retried."""

    retryable = True


class StorageFullError(TransferError):
    """The disk (local or remote) is full."""

    default_hint = "free space on the full disk, then retry the transfer"


class DecryptError(TransferError):
    """A pulled file could not be decrypted, or its signature did not verify; nothing was written."""


class CancelledError(TransferError):
    """The user cancelled the transfer."""


def local_write_error(exc: OSError, path: object) -> TransferAppError:
    """Name the local path and the fix for a failed local write (full disk, permissions)."""
    if exc.errno == 28:  # ENOSPC
        return StorageFullError(
            f"The local disk holding {path} is full", "free space there; the partial download is kept and resumed"
        )
    if exc.errno == 13:  # EACCES
        return PermissionDeniedError(f"Cannot write {path}: permission denied", "pick a folder you can write to")
    return LocalFileError(f"Cannot write {path}: {exc.strerror}", "check the target folder")
