"""The publish pipeline for many small files at once: same steps as ``publish.upload``, shared round trips."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transferapp.errors import LocalFileError, TransferAppError
from transferapp.publish import part_name
from transferapp.snapshot import Snapshot, take_snapshot
from transferapp.transports.base import BatchTransport, SmallPut

SMALL_FILE = 1 << 20  # files up to this size travel in batches
BATCH_FILES = 32
BATCH_BYTES = 8 << 20


@dataclass
class BatchFile:
    """One file of a batch; after ``upload_batch`` exactly one of ``snapshot`` and ``error`` is set."""

    key: int
    local: Path
    remote: str
    previous: dict[str, Any] | None = None
    snapshot: Snapshot | None = None
    error: TransferAppError | None = None
    part: str = ""


def upload_batch(
    transport: BatchTransport, files: list[BatchFile], mark_publishing: Callable[[list[BatchFile]], None]
) -> None:
    """Snapshot, write to part names, verify, then rename every file; each file's outcome is set on it.

    ``mark_publishing`` records (in one go) which files are about to be renamed, so a crash during the
    renames is resolved at the next start. A dropped connection raises for the whole batch.
    """
    for item in files:
        try:
            item.snapshot = take_snapshot(item.local, item.previous)
        except TransferAppError as exc:
            item.error = exc
    _make_folders(transport, [f for f in files if f.error is None])
    live = [f for f in files if f.error is None and f.snapshot is not None]
    puts = [
        SmallPut(f.local, part_name(f.remote, f.snapshot.size, f.snapshot.mtime_ns), f.snapshot.size)
        for f in live
        if f.snapshot
    ]
    transport.put_batch(puts)
    ready = []
    for item, put in zip(live, puts, strict=True):
        assert item.snapshot is not None
        if put.error is not None:
            item.error = put.error
        elif not item.snapshot.matches(item.local):
            item.error = LocalFileError(f"{item.local} changed while it was being sent", retryable=True)
        else:
            item.part = put.part
            ready.append((item, put.part))
    if ready:
        mark_publishing([item for item, _ in ready])
    results = transport.rename_batch([(part, item.remote) for item, part in ready])
    for (item, _part), error in zip(ready, results, strict=True):
        item.error = error
    for item in files:
        if item.error is not None:
            item.snapshot = None


def _make_folders(transport: BatchTransport, files: list[BatchFile]) -> None:
    failed: dict[str, TransferAppError] = {}
    for folder in sorted({posixpath.dirname(f.remote) or "/" for f in files}):
        try:
            transport.makedirs(folder)
        except TransferAppError as exc:
            if not exc.retryable:
                failed[folder] = exc
            else:
                raise
    for item in files:
        item.error = failed.get(posixpath.dirname(item.remote) or "/")
