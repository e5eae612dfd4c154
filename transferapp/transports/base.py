"""The Transport contract every protocol implements, plus progress and cancel helpers.

Paths given to a transport are remote paths as the server understands them (absolute, or relative to
the login's home). rclone's ``fs/types.go`` is the model for the contract wording.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from transferapp.errors import CancelledError, TransferAppError, local_write_error

NEARBY_RTT = 0.005  # seconds: below this a server is near, and one request at a time keeps up


@dataclass(frozen=True)
class RemoteEntry:
    """One file or folder on the server."""

    path: str
    size: int
    mtime: float | None
    is_dir: bool
    etag: str | None = None

    @property
    def name(self) -> str:
        """The last path component."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Capabilities:
    """Optional abilities of a transport (rclone ``fs/features.go`` style flags)."""

    atomic_rename: bool  # rename replaces an existing target in one step
    ranged_write: bool  # several streams may write one file at different offsets
    batch_put: bool = False  # put_batch/rename_batch send many small files with one round trip per step


@dataclass
class SmallPut:
    """One small file of a batch upload: local source, temporary remote name, expected size; ``error`` after."""

    local: Path
    part: str
    size: int
    error: TransferAppError | None = None
    handle: bytes | None = None


class DownloadTarget:
    """The local file a download appends to: each block is written, passed to ``sink`` and counted.

    Local write failures (full disk, permissions) become errors that name the local path.
    """

    def __init__(self, local: Path, progress: Progress, sink: Callable[[bytes], None] | None = None) -> None:
        self.local = local
        self._progress = progress
        self._sink = sink
        try:
            self._file = open(local, "ab")  # noqa: SIM115 - closed by close() / the with statement
        except OSError as exc:
            raise local_write_error(exc, local) from None

    def size(self) -> int:
        """Bytes in the file now."""
        return self._file.tell()

    def write(self, data: bytes) -> None:
        """Append one block."""
        try:
            self._file.write(data)
        except OSError as exc:
            raise local_write_error(exc, self.local) from None
        if self._sink is not None:
            self._sink(data)
        self._progress.advance(len(data))

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> DownloadTarget:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Progress(Protocol):
    """Receives byte counts while data moves (fsspec ``callbacks.py`` style)."""

    def advance(self, n: int) -> None:
        """Count ``n`` more bytes as done."""


class CancelToken:
    """A flag checked between chunks; ``check`` raises CancelledError once set."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "cancelled by the user"
        self.keep_partial = False

    def cancel(self, reason: str = "cancelled by the user", keep_partial: bool = False) -> None:
        """Ask every holder of the token to stop; ``keep_partial`` keeps what was sent, to resume later."""
        self.reason = reason
        self.keep_partial = keep_partial
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel was called."""
        return self._event.is_set()

    def check(self) -> None:
        """Raise CancelledError if cancelled."""
        if self._event.is_set():
            raise CancelledError(self.reason)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True early if cancelled."""
        return self._event.wait(seconds)


class Transport(Protocol):
    """One authenticated session to a server. Not thread-safe: one worker uses one transport."""

    capabilities: Capabilities

    def connect(self) -> None:
        """Open and authenticate the session; raises NetworkError, AuthError or HostKeyError."""

    def close(self) -> None:
        """Close the session; safe to call twice or after a failure."""

    def home(self) -> str:
        """The connection's remote folder as an absolute path."""

    def stat(self, path: str) -> RemoteEntry | None:
        """The entry at ``path``, or None when nothing is there."""

    def list(self, path: str) -> list[RemoteEntry]:
        """The entries directly inside folder ``path``; RemoteNotFoundError when it is missing."""

    def makedirs(self, path: str) -> None:
        """Create folder ``path`` and its missing parents; no error if it already exists."""

    def create(self, path: str) -> None:
        """Create or truncate ``path`` to an empty file."""

    def write_range(
        self,
        local: Path,
        path: str,
        start: int,
        end: int,
        progress: Progress,
        cancel: CancelToken,
        truncate: bool = False,
    ) -> None:
        """Write bytes [start, end) of ``local`` at the same offsets of remote ``path``.

        The remote file must exist, unless ``truncate`` is set: then it is created or emptied first.
        """

    def put_file(self, local: Path, path: str, progress: Progress, cancel: CancelToken) -> None:
        """Send the whole of ``local`` to ``path`` in one streamed request, creating or replacing it.

        Used where ``ranged_write`` is False (WebDAV: one PUT with a Content-Length).
        """

    def read_range(
        self,
        path: str,
        local: Path,
        start: int,
        end: int,
        progress: Progress,
        cancel: CancelToken,
        sink: Callable[[bytes], None] | None = None,
    ) -> None:
        """Append bytes [start, end) of remote ``path`` to ``local`` (which holds exactly ``start`` bytes).

        ``sink`` also gets every block written, in order (the download is hashed as it arrives).
        """

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst``, replacing ``dst`` if it exists, atomically where the server allows."""

    def remove(self, path: str) -> None:
        """Delete file ``path``; no error if it is already gone."""

    def writable(self, path: str) -> None:
        """Check that files can be created in folder ``path``; raise PermissionDeniedError otherwise."""


class BatchTransport(Transport, Protocol):
    """A transport that can send many small files with one round trip per step (``batch_put`` capability)."""

    def put_batch(self, puts: Sequence[SmallPut]) -> None:
        """Write each file to its part name and verify its size; per-file failures land in ``put.error``."""

    def rename_batch(self, pairs: Sequence[tuple[str, str]]) -> Sequence[TransferAppError | None]:
        """Rename many (part, final) pairs, replacing existing targets; one result per pair."""
