"""Events the core emits to whoever shows progress (CLI, GUI); sinks are called from worker threads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TransferQueued:
    """A transfer entered the queue."""

    transfer_id: int
    connection: str
    direction: str
    local_path: str
    remote_path: str


@dataclass(frozen=True)
class TransferStarted:
    """A worker began (or resumed) a transfer attempt."""

    transfer_id: int
    attempt: int
    total_bytes: int


@dataclass(frozen=True)
class TransferProgress:
    """Bytes done so far for a running transfer."""

    transfer_id: int
    done_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class TransferRetrying:
    """An attempt failed with a retryable error; the next one starts after ``delay`` seconds."""

    transfer_id: int
    attempt: int
    delay: float
    error: str


@dataclass(frozen=True)
class TransferFinished:
    """A transfer ended: status is 'ok', 'failed' or 'cancelled'."""

    transfer_id: int
    status: str
    error: str = ""
    hint: str = ""


Event = TransferQueued | TransferStarted | TransferProgress | TransferRetrying | TransferFinished
EventSink = Callable[[Event], None]


def ignore_events(_event: Event) -> None:
    """An EventSink that drops everything."""
