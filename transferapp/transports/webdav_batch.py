"""Many small WebDAV uploads per session: PUT each over the kept-alive connection, check each size, then MOVE
each; per-file failures stay with their file, a dropped connection ends the batch. (A PROPFIND of the folder
cannot check them all at once: nginx leaves names starting with a dot out of its listings.)

HTTP/1.1 cannot pipeline, so each request costs a round trip. Near the server the files go one after the other;
to a distant server (a B2C Commerce instance across the internet) up to ``workers`` files of the batch are in
flight at once, each on its own connection of the session's pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from transferapp.errors import NetworkError, TransferAppError, VerifyError
from transferapp.transports.base import CancelToken, Progress, RemoteEntry, SmallPut

DISTANT_WORKERS = 4  # files of one batch in flight at once when the server is far away

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Uploads(Protocol):
    def put_file(self, local: Path, path: str, progress: Progress, cancel: CancelToken) -> None: ...
    def stat(self, path: str) -> RemoteEntry | None: ...
    def rename(self, src: str, dst: str) -> None: ...


class _NoProgress:
    def advance(self, n: int) -> None:
        """Batches report per file when each is done."""


def put_batch(transport: _Uploads, puts: Sequence[SmallPut], workers: int = 1) -> None:
    """PUT every file to its part name and verify its size; a file's failure is kept in ``put.error``."""

    def put_one(put: SmallPut) -> None:
        try:
            transport.put_file(put.local, put.part, _NoProgress(), CancelToken())
        except NetworkError:
            raise
        except TransferAppError as exc:
            put.error = exc
            return
        entry = transport.stat(put.part)
        if entry is None or entry.size != put.size:
            put.error = VerifyError(
                f"The server holds {entry.size if entry else 'no'} bytes of {put.part}, expected {put.size}"
            )

    _each(put_one, puts, workers)


def rename_batch(
    transport: _Uploads, pairs: Sequence[tuple[str, str]], workers: int = 1
) -> list[TransferAppError | None]:
    """MOVE every (part, final) pair; one result per pair, in order."""

    def rename_one(pair: tuple[str, str]) -> TransferAppError | None:
        try:
            transport.rename(*pair)
        except NetworkError:
            raise
        except TransferAppError as exc:
            return exc
        return None

    return _each(rename_one, pairs, workers)


def _each(work: Callable[[Item], Result], items: Sequence[Item], workers: int) -> list[Result]:
    """``work`` on every item, ``workers`` at a time; results in order. The first exception is raised once every
    item has finished, so no request is left running on the session."""
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix="dav-batch") as pool:
        futures = [pool.submit(work, item) for item in items]
    return [f.result() for f in futures]  # the first item that failed raises here
