"""Recording what attempts ended with: a hash-chained log row and the queue row's new state, together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transferapp.app import AppContext
from transferapp.errors import CancelledError, TransferAppError
from transferapp.events import EventSink, TransferFinished
from transferapp.snapshot import Snapshot
from transferapp.store.log import LogEntry
from transferapp.store.queue import QueueItem

STATES = {"ok": "done", "failed": "failed", "cancelled": "cancelled"}


@dataclass
class Outcome:
    """What one attempt ended with."""

    status: str  # ok, retry, failed, cancelled
    snapshot: Snapshot | None = None
    remote: str = ""
    error: TransferAppError | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # encryption, signer, PCI guard, ... for the log


def _log_entry(item: QueueItem, outcome: Outcome, duration: float, done_bytes: int) -> LogEntry:
    snap, error = outcome.snapshot, outcome.error
    return LogEntry(
        connection=item.connection,
        direction=item.direction,
        local_path=item.local_path,
        remote_path=outcome.remote or item.remote_path,
        status=outcome.status,
        bytes=snap.size if snap else done_bytes,
        sha256=snap.sha256 if snap else "",
        duration=duration,
        error=str(error) if error else "",
        transfer_id=item.id,
        attempt=item.attempts,
        details=outcome.details,
    )


def cancel_transfer(ctx: AppContext, item_id: int) -> QueueItem:
    """Cancel a transfer. One that is waiting (queued, or between retries) gets its 'cancelled' log row here;
    a running one gets it from its worker when it stops."""
    with ctx.db.transaction() as conn:
        before = ctx.queue.cancel(item_id, conn)
        if before.state == "queued":
            outcome = Outcome("cancelled", error=CancelledError("cancelled by the user"))
            ctx.log.append(_log_entry(before, outcome, 0.0, 0), conn)
    return before


def record_outcomes(ctx: AppContext, records: list[tuple[QueueItem, Outcome, float, int]], sink: EventSink) -> None:
    """Write log rows and new queue states in one transaction, so a crash never doubles or loses either."""
    with ctx.db.transaction() as conn:
        for item, outcome, duration, done_bytes in records:
            entry = _log_entry(item, outcome, duration, done_bytes)
            error = outcome.error
            fields: dict[str, Any] = {
                "state": STATES.get(outcome.status, "queued"),
                "owner_pid": None,
                "owner_token": None,
                "error": error.message if error else "",
                "hint": error.hint if error else "",
                "done_bytes": entry.bytes,
            }
            if outcome.status == "ok":
                fields["resume"] = None
            fields.update(outcome.fields)
            stopping = outcome.status == "retry" and fields.get("next_attempt_at") == 0.0
            if not stopping:  # a graceful stop is not an attempt worth a log row
                ctx.log.append(entry, conn)
            state = conn.execute("SELECT state FROM queue WHERE id = ?", (item.id,)).fetchone()["state"]
            if state == "cancelled" and outcome.status != "ok":
                fields["state"] = "cancelled"
            ctx.queue.update(item.id, conn=conn, **fields)
    for item, outcome, _, _ in records:
        if outcome.status != "retry":
            error = outcome.error
            sink(TransferFinished(item.id, outcome.status, error.message if error else "", error.hint if error else ""))
