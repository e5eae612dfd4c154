"""The publish pipeline: temp name beside the target, resumable ranged writes, verify, atomic rename.

Upload: ``.name.<hash>.part`` next to the target receives the bytes (several streams may write
different chunks at once); completed chunks are recorded so a new process resumes; the size is
verified and only then is the part renamed over the final name. Download mirrors it locally.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transferapp.errors import (
    CancelledError,
    LocalFileError,
    RemoteNotFoundError,
    TransferAppError,
    TransferError,
    VerifyError,
    local_write_error,
)
from transferapp.sessions import SessionPool
from transferapp.snapshot import BackgroundHash, Snapshot, StreamHash, local_stat, sha256_file
from transferapp.transports.base import NEARBY_RTT, CancelToken, Progress, Transport

log = logging.getLogger(__name__)
MIN_CHUNK = 8 << 20
MAX_CHUNK = 64 << 20
INLINE_HASH_BYTES = 1 << 20


@dataclass
class Job:
    """Everything one upload or download attempt needs."""

    local: Path
    remote: str
    transport: Transport
    pool: SessionPool
    progress: Progress
    cancel: CancelToken
    streams: int = 1
    resume: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None
    publishing: bool = False
    max_upload_mb: int = 0
    save_state: Callable[..., None] = field(default=lambda **_: None)


def plan_chunks(size: int, streams: int) -> list[tuple[int, int]]:
    """Split [0, size) into chunks big enough to keep ``streams`` writers busy."""
    if size == 0:
        return []
    chunk = max(MIN_CHUNK, min(MAX_CHUNK, -(-size // max(1, streams * 2))))
    return [(start, min(size, start + chunk)) for start in range(0, size, chunk)]


def part_name(remote: str, size: int, mtime_ns: int) -> str:
    """The temporary name beside the target; it changes when the local file does, so a resume is safe."""
    folder, name = posixpath.split(remote)
    tag = hashlib.sha256(f"{size}:{mtime_ns}".encode()).hexdigest()[:12]
    return posixpath.join(folder, f".{name}.{tag}.part")


def upload(job: Job) -> Snapshot:
    """Publish ``job.local`` at ``job.remote``; returns the snapshot that was sent.

    The SHA-256 is computed while the bytes travel; the file's size and mtime are checked before the
    rename, so what was hashed, what was sent and what is published are the same file.
    """
    info = local_stat(job.local)
    _check_size_limit(job, info.st_size)
    known = job.snapshot or {}
    if known.get("size") == info.st_size and known.get("mtime_ns") == info.st_mtime_ns and known.get("sha256"):
        digest: Callable[[], str] = lambda: str(known["sha256"])  # noqa: E731
    elif info.st_size <= INLINE_HASH_BYTES:  # a thread per small file costs more than hashing it here
        inline = sha256_file(job.local)
        digest = lambda: inline  # noqa: E731
    else:
        digest = BackgroundHash(job.local).result
        job.save_state(total_bytes=info.st_size)
    part = part_name(job.remote, info.st_size, info.st_mtime_ns)
    transport = job.transport
    publishing = job.publishing or (job.resume or {}).get("publishing_part") == part
    if publishing and transport.stat(part) is None:
        # The rename ran but its answer was lost (or the process died right after it): the file is
        # published; sending it again would hand the partner a second copy.
        return Snapshot(info.st_size, info.st_mtime_ns, digest())
    transport.makedirs(posixpath.dirname(job.remote) or "/")
    if transport.capabilities.ranged_write:
        _send_in_chunks(job, part, info.st_size)
    else:
        _send_whole(job, part)
    entry = transport.stat(part)
    if entry is None or entry.size != info.st_size:
        job.save_state(resume=None)
        raise VerifyError(
            f"The server holds {entry.size if entry else 'no'} bytes of {part}, expected {info.st_size}",
            "the upload is sent again from the start",
        )
    snap = Snapshot(info.st_size, info.st_mtime_ns, digest())
    if not snap.matches(job.local):
        job.save_state(resume=None, snapshot=None)
        raise LocalFileError(
            f"{job.local} changed while it was being sent", "it is sent again with the new content", retryable=True
        )
    job.save_state(state="publishing", snapshot=snap.to_json(), resume={"publishing_part": part})
    transport.rename(part, job.remote)
    return snap


def _check_size_limit(job: Job, size: int) -> None:
    """Refuse, before sending anything, a file larger than the server takes (SFCC: 100 MB)."""
    limit_mb = job.max_upload_mb
    if limit_mb and size > limit_mb * 1_000_000:
        raise TransferError(
            f"{job.local.name} is {size / 1_000_000:.1f} MB; this server takes uploads up to {limit_mb} MB",
            "zip it first, or let transferapp zip it and ask the server to unzip it (connection option zip_upload)",
        )


def _send_in_chunks(job: Job, part: str, size: int) -> None:
    """Chunks written by one or more streams; completed chunks are recorded so a new attempt resumes."""
    transport = job.transport
    chunks = plan_chunks(size, _streams(job))
    done = _resumable_chunks(transport, part, chunks, job.resume)
    fresh_single = not done and len(chunks) == 1  # one write opens, truncates and fills the part
    if not done and not fresh_single:
        transport.create(part)
    if len(chunks) > 1:
        job.save_state(resume={"part": part, "chunks_done": sorted(done)})
    for index in done:
        job.progress.advance(chunks[index][1] - chunks[index][0])
    todo = [i for i in range(len(chunks)) if i not in done]
    try:
        _write_chunks(job, part, chunks, todo, done, truncate_first=fresh_single)
    except CancelledError:
        if job.cancel.cancelled and not job.cancel.keep_partial:  # a user cancel leaves nothing on the server
            _remove_quietly(transport, part)
            job.save_state(resume=None)
        raise


def _send_whole(job: Job, part: str) -> None:
    """One streamed request for servers that cannot write at offsets (WebDAV); a retry sends it all again."""
    try:
        job.transport.put_file(job.local, part, job.progress, job.cancel)
    except CancelledError:
        if job.cancel.cancelled and not job.cancel.keep_partial:
            _remove_quietly(job.transport, part)
        raise


def _streams(job: Job) -> int:
    """Parallel streams pay off only far away: nearby, one stream is faster (the client's CPU is the limit)."""
    rtt = getattr(job.transport, "rtt", None)
    return 1 if rtt is not None and rtt < NEARBY_RTT else job.streams


def _remove_quietly(transport: Transport, path: str) -> None:
    try:
        transport.remove(path)
    except TransferAppError:
        log.warning("could not remove %s after a cancel", path)


def _resumable_chunks(
    transport: Transport, part: str, chunks: list[tuple[int, int]], resume: dict[str, Any] | None
) -> set[int]:
    if not resume or resume.get("part") != part:
        return set()
    done = {i for i in resume.get("chunks_done", []) if 0 <= i < len(chunks)}
    entry = transport.stat(part)
    if entry is None or not done or entry.size < max(chunks[i][1] for i in done):
        return set()
    return done


def _write_chunks(
    job: Job, part: str, chunks: list[tuple[int, int]], todo: list[int], done: set[int], truncate_first: bool
) -> None:
    """Write the chunks still to do, with up to ``job.streams`` sessions at once."""
    if not todo:
        return
    lock = threading.Lock()
    pending = list(reversed(todo))
    failures: list[BaseException] = []
    stop = CancelToken()

    def next_chunk() -> int | None:
        with lock:
            return pending.pop() if pending and not failures else None

    def run(transport: Transport) -> None:
        while (index := next_chunk()) is not None:
            try:
                job.cancel.check()
                start, end = chunks[index]
                truncate = truncate_first and index == todo[0]
                transport.write_range(job.local, part, start, end, job.progress, _either(job.cancel, stop), truncate)
            except BaseException as exc:
                with lock:
                    failures.append(exc)
                stop.cancel("another stream failed")
                return
            with lock:
                done.add(index)
                if len(chunks) > 1:
                    job.save_state(resume={"part": part, "chunks_done": sorted(done)})

    def helper() -> None:
        session = job.pool.try_acquire()  # each helper logs in on its own thread, in parallel
        if session is None:
            return
        try:
            run(session)
        finally:
            job.pool.release(session, broken=bool(failures))

    threads = [threading.Thread(target=helper, daemon=True) for _ in range(min(_streams(job), len(todo)) - 1)]
    for thread in threads:
        thread.start()
    try:
        run(job.transport)
    finally:
        for thread in threads:
            thread.join()
    if failures:
        primary = next(
            (f for f in failures if not isinstance(f, TransferAppError) or "another stream" not in str(f)), failures[0]
        )
        raise primary


class _either(CancelToken):  # noqa: N801 - reads like a function at the call site
    """A token that is cancelled when either of two tokens is."""

    def __init__(self, first: CancelToken, second: CancelToken) -> None:
        super().__init__()
        self._pair = (first, second)

    def check(self) -> None:
        for token in self._pair:
            token.check()


def download(job: Job) -> Snapshot:
    """Fetch ``job.remote`` into ``job.local`` through a local temp file; returns what was written."""
    entry = job.transport.stat(job.remote)
    if entry is None or entry.is_dir:
        raise RemoteNotFoundError(f"{job.remote} does not exist on the server (or is a folder)")
    folder = job.local.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalFileError(f"Cannot create the local folder {folder}: {exc.strerror}") from None
    part = folder / f".{job.local.name}.part"
    marker = {"part": str(part), "size": entry.size, "mtime": entry.mtime}
    start = 0
    if job.resume and {k: job.resume.get(k) for k in marker} == marker and part.exists():
        start = min(part.stat().st_size, entry.size)
        with open(part, "r+b") as handle:
            handle.truncate(start)
    else:
        _truncate(part)
    job.save_state(resume=marker, total_bytes=entry.size)
    job.progress.advance(start)
    hasher = StreamHash(part, start)  # the rest is hashed as it arrives, in a thread: no second pass
    try:
        digest = _receive(job, part, start, entry.size, hasher)
    finally:
        hasher.close()
    _fsync(part)
    os.replace(part, job.local)
    info = job.local.stat()
    return Snapshot(info.st_size, info.st_mtime_ns, digest)


def _receive(job: Job, part: Path, start: int, size: int, hasher: StreamHash) -> str:
    """Append bytes [start, size) of the remote file to ``part``, check the size; return the whole file's SHA-256."""
    try:
        job.transport.read_range(job.remote, part, start, size, job.progress, job.cancel, hasher.update)
    except OSError as exc:
        raise local_write_error(exc, part) from None
    except CancelledError:
        if job.cancel.cancelled and not job.cancel.keep_partial:  # a user cancel leaves nothing in the folder
            part.unlink(missing_ok=True)
            job.save_state(resume=None)
        raise
    if part.stat().st_size != size:
        part.unlink(missing_ok=True)
        job.save_state(resume=None)
        raise VerifyError(
            f"Received {part.stat().st_size if part.exists() else 0} bytes of {job.remote}, expected {size}",
            "the download is retried from the start",
        )
    return hasher.hexdigest()


def _truncate(part: Path) -> None:
    try:
        with open(part, "wb"):
            pass
    except OSError as exc:
        raise local_write_error(exc, part) from None


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
