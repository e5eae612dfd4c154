"""Many small SFTP uploads with one round trip per step for the whole batch, not per file.

A server far away (40 ms) costs OpenSSH's sftp about five round trips per file; here a batch of files
shares each step: open all parts, write all data, close all, stat all, rename all. This uses paramiko's
request/response plumbing (``_async_request``/``_read_response``), stable since paramiko 1.x; the
test suite runs it against OpenSSH, so a change there shows at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import paramiko
from paramiko.sftp import (
    CMD_CLOSE,
    CMD_EXTENDED,
    CMD_HANDLE,
    CMD_OPEN,
    CMD_STAT,
    CMD_STATUS,
    CMD_WRITE,
    SFTP_FLAG_CREATE,
    SFTP_FLAG_TRUNC,
    SFTP_FLAG_WRITE,
    int64,
)

from transferapp.errors import LocalFileError, TransferAppError, VerifyError
from transferapp.transports.base import SmallPut
from transferapp.transports.sftp_errors import translate

BLOCK = 32768


class _Responses:
    """Collects the responses paramiko hands to ``_async_response`` by request number."""

    def __init__(self) -> None:
        self.by_number: dict[int, tuple[int, paramiko.Message]] = {}

    def _async_response(self, t: int, msg: paramiko.Message, num: int) -> None:
        self.by_number[num] = (t, msg)


class Pipeline:
    """Sends a step's requests for every file at once, then gathers the answers."""

    def __init__(self, sftp: paramiko.SFTPClient) -> None:
        self.sftp: Any = sftp
        self.responses = _Responses()

    def send(self, kind: int, *args: Any) -> int:
        """Queue one request; returns its number."""
        return int(self.sftp._async_request(self.responses, kind, *args))

    def gather(self, numbers: list[int]) -> list[tuple[int, paramiko.Message]]:
        """Read packets until every listed request has its answer; answers in the same order."""
        while any(n not in self.responses.by_number for n in numbers):
            self.sftp._read_response()
        return [self.responses.by_number.pop(n) for n in numbers]

    def status_error(self, kind: int, msg: paramiko.Message, what: str) -> TransferAppError | None:
        """The error a STATUS answer carries, or None for OK."""
        if kind != CMD_STATUS:
            return None
        try:
            self.sftp._convert_status(msg)
        except (OSError, EOFError) as exc:
            return translate(exc, what)
        return None


def put_small_files(sftp: paramiko.SFTPClient, puts: Sequence[SmallPut], block: int = BLOCK) -> None:
    """Write every file to its part name and verify its size; per-file failures land in ``put.error``.

    A dropped connection raises for the whole batch. Renaming is left to ``rename_many``.
    """
    pipe = Pipeline(sftp)
    try:
        _open_all(pipe, puts)
        _write_all(pipe, puts, block)
        _close_all(pipe, puts)
        _verify_sizes(pipe, puts)
    except TransferAppError:
        raise
    except Exception as exc:
        raise translate(exc, "sending a batch of small files") from None


def _live(puts: Sequence[SmallPut]) -> list[SmallPut]:
    return [p for p in puts if p.error is None]


def _open_all(pipe: Pipeline, puts: Sequence[SmallPut]) -> None:
    flags = SFTP_FLAG_WRITE | SFTP_FLAG_CREATE | SFTP_FLAG_TRUNC
    live = _live(puts)
    numbers = [pipe.send(CMD_OPEN, p.part, flags, paramiko.SFTPAttributes()) for p in live]
    for put, (kind, msg) in zip(live, pipe.gather(numbers), strict=True):
        if kind == CMD_HANDLE:
            put.handle = msg.get_binary()
        else:
            put.error = pipe.status_error(kind, msg, f"creating {put.part}") or VerifyError(f"No handle for {put.part}")


def _write_all(pipe: Pipeline, puts: Sequence[SmallPut], block: int) -> None:
    sent: list[tuple[SmallPut, list[int]]] = []
    for put in _live(puts):
        numbers = []
        try:
            with open(put.local, "rb") as source:
                offset = 0
                while offset < put.size and (data := source.read(min(block, put.size - offset))):
                    numbers.append(pipe.send(CMD_WRITE, put.handle, int64(offset), data))
                    offset += len(data)
        except OSError as exc:
            put.error = LocalFileError(f"Cannot read {put.local}: {exc.strerror}")
        if put.error is None and offset != put.size:
            put.error = LocalFileError(f"{put.local} changed while it was being sent", retryable=True)
        sent.append((put, numbers))
    for put, numbers in sent:
        for kind, msg in pipe.gather(numbers):
            put.error = put.error or pipe.status_error(kind, msg, f"writing {put.part}")


def _close_all(pipe: Pipeline, puts: Sequence[SmallPut]) -> None:
    opened = [p for p in puts if p.handle is not None]
    numbers = [pipe.send(CMD_CLOSE, p.handle) for p in opened]
    for put, (kind, msg) in zip(opened, pipe.gather(numbers), strict=True):
        put.handle = None
        put.error = put.error or pipe.status_error(kind, msg, f"closing {put.part}")


def _verify_sizes(pipe: Pipeline, puts: Sequence[SmallPut]) -> None:
    live = _live(puts)
    numbers = [pipe.send(CMD_STAT, p.part) for p in live]
    for put, (kind, msg) in zip(live, pipe.gather(numbers), strict=True):
        error = pipe.status_error(kind, msg, f"checking {put.part}")
        if error is None:
            size = paramiko.SFTPAttributes._from_msg(msg).st_size
            if size != put.size:
                error = VerifyError(f"The server holds {size} bytes of {put.part}, expected {put.size}")
        put.error = error


def rename_many(sftp: paramiko.SFTPClient, pairs: Sequence[tuple[str, str]]) -> list[TransferAppError | None]:
    """posix-rename every (part, final) pair in one round trip; one result per pair."""
    pipe = Pipeline(sftp)
    try:
        numbers = [pipe.send(CMD_EXTENDED, "posix-rename@openssh.com", src, dst) for src, dst in pairs]
        return [
            pipe.status_error(kind, msg, f"renaming {src} to {dst}")
            for (src, dst), (kind, msg) in zip(pairs, pipe.gather(numbers), strict=True)
        ]
    except TransferAppError:
        raise
    except Exception as exc:
        raise translate(exc, "renaming a batch of files") from None
