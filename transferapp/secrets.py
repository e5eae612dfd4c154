"""Secrets (passwords, key passphrases, tokens) live only in the OS keyring; there is no fallback store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from transferapp.errors import SecretStoreError

if TYPE_CHECKING:  # keyring loads its backends in ~40 ms: only code that touches a secret pays for it
    from keyring.backend import KeyringBackend

SERVICE = "transferapp"
SECRET_KINDS = ("password", "passphrase", "token", "client_secret", "key_seal")
UNUSABLE_BACKENDS = ("fail", "null", "chainer")


def _entry(connection: str, kind: str) -> str:
    if kind not in SECRET_KINDS:
        raise ValueError(f"unknown secret kind {kind!r}")
    return f"{connection}:{kind}"


class SecretStore:
    """Reads and writes connection secrets in the OS keyring."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    def backend(self) -> KeyringBackend:
        """The usable keyring backend, or SecretStoreError saying what to install or start."""
        import keyring

        backend = self._backend or keyring.get_keyring()
        module = type(backend).__module__.rsplit(".", 1)[-1].lower()
        if module in UNUSABLE_BACKENDS and not _chainer_has_backend(backend):
            raise SecretStoreError(f"No usable OS keyring was found (keyring backend: {type(backend).__name__})")
        if getattr(backend, "priority", 1) <= 0 and module not in ("chainer",):
            raise SecretStoreError(f"The keyring backend {type(backend).__name__} is not a secure store")
        return backend

    def set(self, connection: str, kind: str, secret: str) -> None:
        """Store a secret for a connection."""
        import keyring.errors

        try:
            self.backend().set_password(SERVICE, _entry(connection, kind), secret)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"The OS keyring refused to store the {kind} for {connection!r}: {_safe(exc)}"
            ) from None

    def get(self, connection: str, kind: str) -> str | None:
        """Return a stored secret, or None when there is none."""
        import keyring.errors

        try:
            return self.backend().get_password(SERVICE, _entry(connection, kind))
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"The OS keyring refused to read the {kind} for {connection!r}: {_safe(exc)}"
            ) from None

    def has(self, connection: str, kind: str) -> bool:
        """Whether a secret of that kind is stored (never returns the secret)."""
        return self.get(connection, kind) is not None

    def delete_all(self, connection: str) -> None:
        """Remove every secret stored for a connection; missing ones are fine."""
        import keyring.errors

        backend = self.backend()
        for kind in SECRET_KINDS:
            try:
                backend.delete_password(SERVICE, _entry(connection, kind))
            except keyring.errors.PasswordDeleteError:
                continue
            except keyring.errors.KeyringError as exc:
                raise SecretStoreError(
                    f"The OS keyring refused to delete secrets of {connection!r}: {_safe(exc)}"
                ) from None


def _chainer_has_backend(backend: KeyringBackend) -> bool:
    backends = getattr(backend, "backends", None)
    return bool(backends)


def _safe(exc: Exception) -> str:
    """An exception's class and message; keyring errors never carry the secret itself."""
    return f"{type(exc).__name__}: {exc}"[:300]
