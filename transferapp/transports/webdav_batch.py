"""Many small WebDAV uploads per session: PUT each over the kept-alive connection, check each size, then MOVE
each; per-file failures stay with their file, a dropped connection ends the batch. (A PROPFIND of the folder
cannot check them all at once: nginx leaves names starting with a dot out of its listings.)"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from transferapp.errors import NetworkError, TransferAppError, VerifyError
from transferapp.transports.base import CancelToken, Progress, RemoteEntry, SmallPut


class _Uploads(Protocol):
    def put_file(self, local: Path, path: str, progress: Progress, cancel: CancelToken) -> None: ...
    def stat(self, path: str) -> RemoteEntry | None: ...
    def rename(self, src: str, dst: str) -> None: ...


class _NoProgress:
    def advance(self, n: int) -> None:
        """Batches report per file when each is done."""


def put_batch(transport: _Uploads, puts: Sequence[SmallPut]) -> None:
    """PUT every file to its part name, then verify each size."""
    for put in puts:
        try:
            transport.put_file(put.local, put.part, _NoProgress(), CancelToken())
        except NetworkError:
            raise
        except TransferAppError as exc:
            put.error = exc
    for put in (p for p in puts if p.error is None):
        entry = transport.stat(put.part)
        if entry is None or entry.size != put.size:
            put.error = VerifyError(
                f"The server holds {entry.size if entry else 'no'} bytes of {put.part}, expected {put.size}"
            )


def rename_batch(transport: _Uploads, pairs: Sequence[tuple[str, str]]) -> list[TransferAppError | None]:
    """MOVE every (part, final) pair; one result per pair."""
    results: list[TransferAppError | None] = []
    for src, dst in pairs:
        try:
            transport.rename(src, dst)
            results.append(None)
        except NetworkError:
            raise
        except TransferAppError as exc:
            results.append(exc)
    return results
