"""A streamed snapshot (size, mtime, SHA-256) of a local file, taken before it is sent."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from transferapp.errors import LocalFileError, PermissionDeniedError

READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class Snapshot:
    """What a local file looked like when it was taken."""

    size: int
    mtime_ns: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        """As stored in the queue row."""
        return asdict(self)

    def matches(self, path: Path) -> bool:
        """Whether the file still has the same size and mtime."""
        try:
            info = path.stat()
        except OSError:
            return False
        return info.st_size == self.size and info.st_mtime_ns == self.mtime_ns


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, streamed in 1 MiB blocks (flat memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def local_stat(path: Path) -> os.stat_result:
    """Stat a local file to send, with errors that name the file and the fix."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise LocalFileError(f"The local file {path} does not exist", "check the path; nothing was sent") from None
    except PermissionError:
        raise PermissionDeniedError(
            f"The local file {path} cannot be read (permission denied)", "give your user read access to it"
        ) from None
    if not path.is_file():
        raise LocalFileError(f"{path} is not a regular file", "send files, or the files inside a folder")
    return info


def take_snapshot(path: Path, previous: dict[str, Any] | None = None) -> Snapshot:
    """Snapshot a file, reusing a previous hash while size and mtime are unchanged."""
    info = local_stat(path)
    if previous and previous.get("size") == info.st_size and previous.get("mtime_ns") == info.st_mtime_ns:
        return Snapshot(info.st_size, info.st_mtime_ns, previous["sha256"])
    try:
        digest = sha256_file(path)
    except PermissionError:
        raise PermissionDeniedError(
            f"The local file {path} cannot be read (permission denied)", "give your user read access to it"
        ) from None
    except OSError as exc:
        raise LocalFileError(f"Cannot read the local file {path}: {exc.strerror}") from None
    after = path.stat()
    if after.st_size != info.st_size or after.st_mtime_ns != info.st_mtime_ns:
        raise LocalFileError(
            f"{path} changed while it was being read", "it is sent once it stops changing", retryable=True
        )
    return Snapshot(info.st_size, info.st_mtime_ns, digest)


class BackgroundHash:
    """Hashes a file in a thread while it is being sent (hashlib releases the GIL on large blocks)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._digest = ""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._digest = sha256_file(self.path)
        except BaseException as exc:  # reported to the caller by result()
            self._error = exc

    def result(self) -> str:
        """The hex digest once hashing is done; raises a LocalFileError if the file could not be read."""
        self._thread.join()
        if isinstance(self._error, OSError):
            raise LocalFileError(f"Cannot read the local file {self.path}: {self._error.strerror}") from None
        if self._error is not None:
            raise self._error
        return self._digest


class StreamHash:
    """SHA-256 of bytes as they stream past, computed in a thread so it overlaps the network and the disk.

    ``update`` hands each block to the thread through a bounded queue (at most ``depth`` blocks wait: memory stays
    flat); hashlib releases the GIL on large blocks, so on two cores receiving and hashing run side by side.
    """

    def __init__(self, prefix: Path | None = None, prefix_size: int = 0, depth: int = 32) -> None:
        self._hash = hashlib.sha256()
        self._blocks: queue.Queue[bytes] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._digest: str | None = None
        if prefix is not None and prefix_size > 0:
            self._hash_prefix(prefix, prefix_size)
        self._thread = threading.Thread(target=self._run, name="sha256-stream", daemon=True)
        self._thread.start()

    def _hash_prefix(self, path: Path, size: int) -> None:
        """Hash what an earlier attempt already received (the first ``size`` bytes of ``path``)."""
        with open(path, "rb") as handle:
            while size > 0 and (block := handle.read(min(READ_BLOCK, size))):
                self._hash.update(block)
                size -= len(block)

    def _run(self) -> None:
        while block := self._blocks.get():  # an empty block ends the thread
            if self._error is None:
                try:
                    self._hash.update(block)
                except BaseException as exc:  # reported by hexdigest()
                    self._error = exc

    def update(self, data: bytes) -> None:
        """Add the next block (an empty one is ignored)."""
        if data:
            self._blocks.put(bytes(data))

    def hexdigest(self) -> str:
        """The digest of everything passed to ``update``; ends the thread (call it once, after the last block)."""
        if self._digest is None:
            self._blocks.put(b"")
            self._thread.join()
            if self._error is not None:
                raise self._error
            self._digest = self._hash.hexdigest()
        return self._digest

    def close(self) -> None:
        """Stop the thread without a digest (the download failed)."""
        if self._thread.is_alive():
            self._blocks.put(b"")
            self._thread.join()
