"""The persistent queue: claiming, orphan recovery after a crash, cancel and retry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from transferapp.errors import NotFoundError, TransferAppError
from transferapp.store.db import Database
from transferapp.store.queue import TransferQueue


@pytest.fixture
def queue(tmp_path: Path) -> TransferQueue:
    return TransferQueue(Database(tmp_path / "q.sqlite3"))


def test_claim_takes_oldest_ready_item_once(queue: TransferQueue) -> None:
    first = queue.add("pim", "up", "/a", "a")
    queue.add("pim", "up", "/b", "b")
    claimed = queue.claim()
    assert claimed is not None and claimed.id == first and claimed.state == "running" and claimed.attempts == 1
    second = queue.claim()
    assert second is not None and second.id != first
    assert queue.claim() is None


def test_items_waiting_for_backoff_are_not_claimed(queue: TransferQueue) -> None:
    item = queue.add("pim", "up", "/a", "a")
    queue.update(item, next_attempt_at=queue.clock() + 60)
    assert queue.claim() is None
    assert queue.next_wake() is not None


def test_excluded_connections_are_skipped(queue: TransferQueue) -> None:
    queue.add("busy", "up", "/a", "a")
    other = queue.add("free", "up", "/b", "b")
    claimed = queue.claim(exclude_connections={"busy"})
    assert claimed is not None and claimed.id == other


def test_running_item_of_a_dead_process_is_claimed_again(queue: TransferQueue) -> None:
    item = queue.add("pim", "up", "/a", "a")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    queue.update(item, state="running", owner_pid=int(dead.stdout), lease_until=queue.clock() + 600)
    claimed = queue.claim()
    assert claimed is not None and claimed.id == item


def test_running_item_of_a_live_process_is_left_alone(queue: TransferQueue) -> None:
    item = queue.add("pim", "up", "/a", "a")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
        try:
            queue.update(item, state="running", owner_pid=other.pid, lease_until=queue.clock() + 600)
            assert queue.claim() is None
        finally:
            other.kill()


def test_cancel_and_retry(queue: TransferQueue) -> None:
    item = queue.add("pim", "up", "/a", "a")
    assert queue.cancel(item).state == "queued"  # the row as it was
    assert queue.get(item).state == "cancelled"
    with pytest.raises(NotFoundError, match="already cancelled"):
        queue.cancel(item)
    again = queue.retry(item)
    assert (again.state, again.attempts) == ("queued", 0)
    with pytest.raises(NotFoundError, match="not failed or cancelled"):
        queue.retry(item)
    with pytest.raises(NotFoundError, match="No queued transfer with id 999"):
        queue.get(999)


def test_a_running_transfer_cancelled_is_not_retried_until_its_worker_stopped(queue: TransferQueue) -> None:
    """Otherwise a second worker would write the same partial file as the one still stopping."""
    item = queue.add("pim", "up", "/a", "a")
    assert queue.claim() is not None  # this process's worker holds it
    queue.cancel(item)
    with pytest.raises(TransferAppError, match="still stopping"):
        queue.retry(item)
    queue.update(item, owner_pid=None, owner_token=None)  # what the worker writes when it stops
    assert queue.retry(item).state == "queued"


def test_refresh_reports_cancelled_items(queue: TransferQueue) -> None:
    item = queue.add("pim", "up", "/a", "a")
    claimed = queue.claim()
    assert claimed is not None
    assert queue.refresh_leases([item]) == set()
    queue.cancel(item)
    assert queue.refresh_leases([item]) == {item}


def test_row_of_an_earlier_process_with_our_pid_is_claimed(queue: TransferQueue) -> None:
    """In a container the restarted agent often gets the same pid as the one that crashed."""
    item = queue.add("pim", "up", "/a", "a")
    queue.update(
        item, state="publishing", owner_pid=os.getpid(), owner_token="earlier", lease_until=queue.clock() + 600
    )
    claimed = queue.claim()
    assert claimed is not None and claimed.id == item and claimed.state == "publishing"
    assert queue.claim() is None  # now it is ours, and not handed out twice


def test_cancelling_a_waiting_transfer_logs_it(tmp_path: Path) -> None:
    from transferapp.app import open_app
    from transferapp.outcomes import cancel_transfer
    from transferapp.paths import AppPaths

    ctx = open_app(AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "s", tmp_path / "l"))
    item = ctx.queue.add("pim", "up", "/a", "a")
    ctx.queue.update(item, error="The server refused the connection", hint="retried automatically")
    assert cancel_transfer(ctx, item).state == "queued"
    row = ctx.queue.get(item)
    assert (row.state, row.hint) == ("cancelled", "")
    assert [(e.status, e.transfer_id) for e in ctx.log.query()] == [("cancelled", item)]
    assert ctx.log.verify().ok
