"""The transfer engine: claims queued transfers, runs them on a worker pool, retries, logs each outcome."""

from __future__ import annotations

import logging
import posixpath
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, cast

from transferapp import publish
from transferapp.accounting import ProgressTracker
from transferapp.app import AppContext
from transferapp.backoff import Backoff
from transferapp.config import Connection
from transferapp.encryption import DecryptPolicy, EncryptPolicy
from transferapp.errors import (
    CancelledError,
    NetworkError,
    NotFoundError,
    TransferAppError,
)
from transferapp.events import EventSink, TransferRetrying, TransferStarted, ignore_events
from transferapp.outcomes import Outcome, cancel_transfer, record_outcomes
from transferapp.publish_batch import BATCH_FILES, SMALL_FILE, BatchFile, upload_batch
from transferapp.publish_pgp import download_decrypted, pci_guard, purge_spool, upload_encrypted
from transferapp.publish_zip import upload_zipped
from transferapp.sessions import SessionPool
from transferapp.snapshot import Snapshot
from transferapp.store.queue import QueueItem
from transferapp.transports.base import BatchTransport, CancelToken, Transport
from transferapp.transports.registry import make_transport, transport_class

log = logging.getLogger(__name__)
LEASE_REFRESH_SECONDS = 1.0  # also how soon a cancel from another process takes effect
STOPPING = "stopping: the transfer resumes at the next start"


class Engine:
    """Runs queued transfers with per-connection concurrency; one failing transfer never stops the others."""

    def __init__(
        self,
        ctx: AppContext,
        sink: EventSink = ignore_events,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        max_workers: int = 32,
    ) -> None:
        self.ctx = ctx
        self.sink = sink
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.max_workers = max_workers
        self._pools: dict[str, SessionPool] = {}
        self._tokens: dict[int, CancelToken] = {}
        self._lock = threading.Lock()

    # -- dispatcher ------------------------------------------------------------------------------
    def run(self, batch: str | None = None, stop: threading.Event | None = None, until_idle: bool = True) -> None:
        """Process the queue (or one batch of it) until nothing is left, or until ``stop`` is set."""
        stop = stop or threading.Event()
        running: dict[Future[None], list[QueueItem]] = {}
        last_refresh = 0.0
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="transfer") as executor:
            try:
                while not stop.is_set():
                    self._claim_ready(batch, running, executor)
                    if time.monotonic() - last_refresh > LEASE_REFRESH_SECONDS:
                        self._refresh_leases(running)
                        last_refresh = time.monotonic()
                    if not running and until_idle and self.ctx.queue.active_count(batch) == 0:
                        break
                    self._wait(running, batch, stop)
                    for future in [f for f in running if f.done()]:
                        running.pop(future)
                        if future.exception() is not None:
                            log.error("transfer worker crashed", exc_info=future.exception())
            except BaseException:  # Ctrl-C or a crash of the dispatcher: stop the workers, keep their progress
                stop.set()
                raise
            finally:
                if stop.is_set():
                    with self._lock:
                        tokens = list(self._tokens.values())
                    for token in tokens:
                        token.cancel(STOPPING, keep_partial=True)
                wait(list(running))
                self.close()

    def _claim_ready(
        self, batch: str | None, running: dict[Future[None], list[QueueItem]], executor: ThreadPoolExecutor
    ) -> None:
        while len(running) < self.max_workers:
            busy = self._busy_connections(running)
            item = self.ctx.queue.claim(batch, exclude_connections=busy)
            if item is None:
                return
            group = [item]
            if self._batchable(item):
                group += self.ctx.queue.claim_small(item, BATCH_FILES - 1, SMALL_FILE)
            tokens = [CancelToken() for _ in group]
            with self._lock:
                self._tokens.update({i.id: t for i, t in zip(group, tokens, strict=True)})
            if len(group) == 1:
                running[executor.submit(self._process, item, tokens[0])] = group
            else:
                running[executor.submit(self._process_batch, group, tokens)] = group

    def _batchable(self, item: QueueItem) -> bool:
        """Small fresh uploads over a transport that can batch them travel together."""
        conn = self.ctx.config.connections.get(item.connection)
        return (
            conn is not None
            and item.direction == "up"
            and item.state == "running"
            and not (item.resume or {}).get("publishing_part")  # a retry after a lost rename answer checks alone
            and item.total_bytes <= SMALL_FILE
            and not item.options.get("encrypt")
            and conn.encryption is None
            and transport_class(conn).capabilities.batch_put
        )

    def _busy_connections(self, running: dict[Future[None], list[QueueItem]]) -> set[str]:
        counts: dict[str, int] = {}
        for group in running.values():
            counts[group[0].connection] = counts.get(group[0].connection, 0) + 1
        busy = set()
        for name, count in counts.items():
            conn = self.ctx.config.connections.get(name)
            if conn is not None and count >= int(conn.option("concurrency")):
                busy.add(name)
        return busy

    def _wait(self, running: dict[Future[None], list[QueueItem]], batch: str | None, stop: threading.Event) -> None:
        # Ready rows that wait for a busy connection are claimed when a worker finishes, which ends the wait.
        wake_at = self.ctx.queue.next_wake(batch)
        timeout = 1.0 if wake_at is None else max(0.01, min(1.0, wake_at - self.clock()))
        if running:
            wait(list(running), timeout=timeout, return_when=FIRST_COMPLETED)
        else:
            stop.wait(timeout)

    def _refresh_leases(self, running: dict[Future[None], list[QueueItem]]) -> None:
        cancelled = self.ctx.queue.refresh_leases(item.id for group in running.values() for item in group)
        with self._lock:
            for item_id in cancelled:
                token = self._tokens.get(item_id)
                if token is not None:
                    token.cancel()

    def cancel(self, item_id: int) -> None:
        """Cancel a transfer this engine is running (or a waiting one, which is logged at once)."""
        cancel_transfer(self.ctx, item_id)
        with self._lock:
            token = self._tokens.get(item_id)
        if token is not None:
            token.cancel()

    def close(self) -> None:
        """Close every pooled session."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()

    def adopt(self, conn: Connection, transport: Transport) -> None:
        """Let this engine's transfers to ``conn`` use a session that is already logged in (saves a login)."""
        self._pool(conn).adopt(transport)

    # -- one attempt -----------------------------------------------------------------------------
    def _pool(self, conn: Connection) -> SessionPool:
        with self._lock:
            pool = self._pools.get(conn.name)
            if pool is None:
                limit = max(int(conn.option("concurrency")), int(conn.option("streams")))
                ctx = self.ctx
                pool = SessionPool(lambda: make_transport(conn, ctx.secrets, ctx.hostkeys), limit)
                self._pools[conn.name] = pool
            return pool

    def _process(self, item: QueueItem, token: CancelToken) -> None:
        started = time.monotonic()
        tracker = ProgressTracker(item.id, item.total_bytes, self.sink)
        self.sink(TransferStarted(item.id, item.attempts, item.total_bytes))
        try:
            outcome = self._attempt(item, token, tracker)
        except TransferAppError as exc:
            outcome = self._failure(item, exc, token)
        except Exception as exc:  # a bug must not take the other transfers down
            log.exception("unexpected error in transfer %s", item.id)
            outcome = Outcome(
                "failed",
                error=TransferAppError(
                    f"Internal error: {type(exc).__name__}: {exc}", "please report this with the log file"
                ),
            )
        finally:
            with self._lock:
                self._tokens.pop(item.id, None)
        record_outcomes(self.ctx, [(item, outcome, time.monotonic() - started, tracker.done)], self.sink)
        if outcome.status != "retry":
            purge_spool(self.ctx.paths.spool_dir, item.id)

    def _process_batch(self, items: list[QueueItem], tokens: list[CancelToken]) -> None:
        """Send many small files over one session with shared round trips; record each one's outcome."""
        started = time.monotonic()
        for item in items:
            self.sink(TransferStarted(item.id, item.attempts, item.total_bytes))
        files = [BatchFile(i.id, Path(i.local_path), i.remote_path, i.snapshot) for i in items]
        details: dict[int, dict[str, Any]] = {}
        try:
            conn = self.ctx.config.connection(items[0].connection)
            pool = self._pool(conn)
            transport = pool.acquire()
            broken = True
            try:
                guard = bool(conn.option("pci_guard"))
                for file, token in zip(files, tokens, strict=True):
                    file.remote = self._resolve(transport, file.remote)
                    if token.cancelled:
                        file.error = CancelledError(token.reason)
                        continue
                    try:
                        details[file.key] = pci_guard(file.local, conn.name, guard)
                    except TransferAppError as exc:
                        file.error = exc
                live = [f for f in files if f.error is None]
                upload_batch(cast(BatchTransport, transport), live, self._mark_publishing)
                broken = False
            finally:
                pool.release(transport, broken=broken)
            outcomes = [
                Outcome("ok", snapshot=f.snapshot, remote=f.remote, details=details.get(f.key, {}))
                if f.error is None
                else self._failure(item, f.error, token)
                for f, item, token in zip(files, items, tokens, strict=True)
            ]
        except TransferAppError as exc:
            outcomes = [self._failure(item, exc, token) for item, token in zip(items, tokens, strict=True)]
        finally:
            with self._lock:
                for item in items:
                    self._tokens.pop(item.id, None)
        duration = time.monotonic() - started
        record_outcomes(self.ctx, [(i, o, duration, 0) for i, o in zip(items, outcomes, strict=True)], self.sink)

    def _mark_publishing(self, files: list[BatchFile]) -> None:
        with self.ctx.db.transaction() as conn:
            for file in files:
                assert file.snapshot is not None
                resume = {"publishing_part": file.part}
                snapshot = file.snapshot.to_json()
                self.ctx.queue.update(file.key, conn, state="publishing", snapshot=snapshot, resume=resume)

    def _attempt(self, item: QueueItem, token: CancelToken, tracker: ProgressTracker) -> Outcome:
        conn = self.ctx.config.connection(item.connection)
        pool = self._pool(conn)
        transport = pool.acquire()
        broken = True
        try:
            remote = self._resolve(transport, item.remote_path)
            job = publish.Job(
                local=Path(item.local_path),
                remote=remote,
                transport=transport,
                pool=pool,
                progress=tracker,
                cancel=token,
                streams=int(conn.option("streams")),
                max_upload_mb=int(conn.option("max_upload_mb")),
                resume=item.resume,
                snapshot=item.snapshot,
                publishing=item.state == "publishing",
                save_state=lambda **f: self._save_state(item.id, tracker, **f),
            )
            snap, details = self._run_job(item, conn, job)
            broken = False
            return Outcome("ok", snapshot=snap, remote=job.remote, details=details)
        except TransferAppError as exc:
            broken = isinstance(exc, NetworkError | CancelledError)
            raise
        finally:
            pool.release(transport, broken=broken)

    def _run_job(self, item: QueueItem, conn: Connection, job: publish.Job) -> tuple[Snapshot, dict[str, Any]]:
        """One download or upload, with the OpenPGP and PCI steps its options and connection ask for."""
        spool = self.ctx.paths.spool_dir
        if item.direction == "down":
            decrypt = item.options.get("decrypt")
            if decrypt is not None:
                return download_decrypted(job, DecryptPolicy.from_json(decrypt), self.ctx.keys(), spool, item.id)
            return publish.download(job), {}
        stored = item.options.get("encrypt")
        policy = EncryptPolicy.from_json(stored) if stored else conn.encryption
        if policy is not None:
            if not stored:  # queued before the connection required encryption: the server gets NAME.pgp
                job.remote = policy.remote_name(job.remote)
            return upload_encrypted(job, policy, self.ctx.keys(), spool, item.id)
        details = pci_guard(job.local, conn.name, bool(conn.option("pci_guard")))
        if conn.option("zip_upload"):
            return upload_zipped(job, spool), details
        return publish.upload(job), details

    @staticmethod
    def _resolve(transport: Transport, remote_path: str) -> str:
        return remote_path if remote_path.startswith("/") else posixpath.join(transport.home(), remote_path)

    def _save_state(self, item_id: int, tracker: ProgressTracker, **fields: Any) -> None:
        if "total_bytes" in fields:
            tracker.set_size(int(fields["total_bytes"]))
        self.ctx.queue.update(item_id, **fields)

    def _failure(self, item: QueueItem, exc: TransferAppError, token: CancelToken) -> Outcome:
        outcome = self._failure_outcome(item, exc, token)
        outcome.details = dict(getattr(exc, "details", {}))
        return outcome

    def _failure_outcome(self, item: QueueItem, exc: TransferAppError, token: CancelToken) -> Outcome:
        if isinstance(exc, CancelledError) or token.cancelled:
            if token.keep_partial:
                return Outcome(
                    "retry",
                    error=exc,
                    fields={"state": "queued", "next_attempt_at": 0.0, "attempts": max(0, item.attempts - 1)},
                )
            return Outcome("cancelled", error=CancelledError(token.reason))
        if isinstance(exc, NotFoundError) and item.connection not in self.ctx.config.connections:
            return Outcome("failed", error=exc)
        if exc.retryable and item.attempts < item.max_attempts:
            delay = self.backoff.delay(item.attempts)
            self.sink(TransferRetrying(item.id, item.attempts, delay, str(exc)))
            return Outcome("retry", error=exc, fields={"state": "queued", "next_attempt_at": self.clock() + delay})
        return Outcome("failed", error=exc)
