"""The headless agent: runs every enabled job until SIGINT/SIGTERM, one instance per installation.

Push jobs without a schedule are watched and sent as soon as files are complete; scheduled jobs run when
their schedule is due (a run missed while the agent was stopped runs once at the next start). One engine
transfers everything, each transfer on its own, so a dead server only delays the jobs that use it.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from transferapp.app import AppContext
from transferapp.engine import Engine
from transferapp.errors import ConfigError, TransferAppError
from transferapp.events import Event, EventSink, TransferFinished, ignore_events
from transferapp.jobs.model import JobSpec, load_jobs
from transferapp.jobs.pull import PullJob
from transferapp.jobs.push import PushJob
from transferapp.jobs.runner import collect, job_worker
from transferapp.jobs.schedule import Schedule, local_now
from transferapp.jobs.watch import FolderWatcher
from transferapp.store.jobs import JobStore

log = logging.getLogger("transferapp.agent")
UNSCHEDULED_PULL = Schedule(every=300.0)  # a pull job without a schedule looks every 5 minutes
RELOAD_SECONDS = 5.0


class AgentLock:
    """An exclusive lock file in the data folder; the OS releases it when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: TextIO | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another agent holds it."""
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the agent's lifetime
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def holder(self) -> str:
        """The pid written by the agent holding the lock ('unknown' when unreadable)."""
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        """Drop the lock."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class Agent:
    """Runs the enabled jobs and one transfer engine until ``stop`` is set."""

    def __init__(
        self,
        ctx: AppContext,
        clock: Callable[[], datetime] = local_now,
        tick: float = 1.0,
        sink: EventSink = ignore_events,
    ) -> None:
        self.ctx = ctx
        self.sink = sink  # also told every transfer event (the desktop app's progress)
        self.clock = clock
        self.tick_seconds = tick
        self.store = JobStore(ctx.db)
        self.stop_event = threading.Event()
        self.jobs: dict[str, JobSpec] = {}
        self.workers: dict[str, PushJob | PullJob] = {}
        self.watchers: dict[str, FolderWatcher] = {}
        self.busy: dict[str, threading.Thread] = {}
        self._config_stamp: float | None = None
        self._engine_thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def run(self) -> None:
        """Start everything, tick until stopped, then stop gracefully."""
        self.start()
        try:
            while not self.stop_event.wait(self.tick_seconds):
                self.tick()
        finally:
            self.shutdown()

    def start(self) -> None:
        """Load jobs, start watchers and the engine."""
        self._load_jobs()
        engine = Engine(self.ctx, sink=self._on_event)
        self._engine_thread = threading.Thread(
            target=engine.run, kwargs={"stop": self.stop_event, "until_idle": False}, name="engine", daemon=True
        )
        self._engine_thread.start()
        log.info("agent started (pid %d) with %d enabled job(s)", os.getpid(), len(self.jobs))

    def shutdown(self) -> None:
        """Stop watchers and the engine; running transfers stop resumable."""
        self.stop_event.set()
        self._stop_jobs()
        for thread in list(self.busy.values()):
            thread.join(timeout=30)
        if self._engine_thread is not None:
            self._engine_thread.join()
        log.info("agent stopped")

    # -- jobs ------------------------------------------------------------------------------------
    def _load_jobs(self) -> None:
        self._config_stamp = self._stamp()
        self.jobs = {name: job for name, job in load_jobs(self.ctx.config).items() if job.enabled}
        now = self.clock()
        for name, job in self.jobs.items():
            self.workers[name] = job_worker(self.ctx, job, self.store)
            if job.schedule is not None and job.schedule.cron and self.store.last_run(name).last_run is None:
                self.store.record_run(name, now, "waiting for its first run")  # cron waits for its first slot
            if job.kind == "push" and job.schedule is None:
                self._watch(job)

    def _watch(self, job: JobSpec) -> None:
        worker = self.workers[job.name]
        assert isinstance(worker, PushJob)
        watcher = FolderWatcher(worker.spec, worker.offer)
        try:
            watcher.start()
        except ConfigError as exc:
            log.error("job %s cannot watch its folder: %s", job.name, exc)
            self.store.record_run(job.name, None, "error", str(exc))
            return
        self.watchers[job.name] = watcher

    def _stop_jobs(self) -> None:
        for watcher in self.watchers.values():
            watcher.stop()
        self.watchers.clear()

    def _stamp(self) -> float | None:
        try:
            return self.ctx.paths.config_file.stat().st_mtime
        except FileNotFoundError:
            return None

    def _reload_if_changed(self) -> None:
        if self._stamp() == self._config_stamp:
            return
        log.info("the config file changed; reloading jobs")
        try:
            self.ctx.reload_config()
        except ConfigError as exc:
            log.error("the changed config file is invalid, keeping the running jobs: %s", exc)
            self._config_stamp = self._stamp()
            return
        self._stop_jobs()
        self.workers.clear()
        self._load_jobs()

    # -- the loop --------------------------------------------------------------------------------
    def tick(self) -> None:
        """Settle finished transfers, start due scheduled runs, pick up config changes."""
        self._reload_if_changed()
        now = self.clock()
        for name, job in self.jobs.items():
            worker = self.workers[name]
            try:
                worker.settle()
            except TransferAppError as exc:
                log.error("job %s: post-actions failed, retried later: %s", name, exc)
            schedule = job.schedule or (UNSCHEDULED_PULL if job.kind == "pull" else None)
            if schedule is None or (name in self.busy and self.busy[name].is_alive()):
                continue
            if schedule.due(self.store.last_run(name).last_run, now):
                self.store.record_run(name, now, "running")
                thread = threading.Thread(target=self._run_scheduled, args=(name, worker), name=f"job-{name}")
                self.busy[name] = thread
                thread.start()

    def _run_scheduled(self, name: str, worker: PushJob | PullJob) -> None:
        try:
            count = collect(worker)
            self.store.record_run(name, None, f"queued {count} file(s)")
            log.info("job %s ran: %d file(s) queued", name, count)
        except TransferAppError as exc:
            self.store.record_run(name, None, "error", str(exc))
            log.error("job %s failed to run, retried at its next slot: %s", name, exc)
        except Exception:  # a bug in one job must not stop the others
            log.exception("job %s crashed", name)
            self.store.record_run(name, None, "error", "internal error, see the agent log")

    def _on_event(self, event: Event) -> None:
        self.sink(event)
        if isinstance(event, TransferFinished):
            level = logging.INFO if event.status == "ok" else logging.ERROR
            log.log(level, "transfer %d %s %s %s", event.transfer_id, event.status, event.error, event.hint)


def agent_log(ctx: AppContext) -> logging.Handler:
    """A rotating agent.log in the log folder."""
    handler = logging.handlers.RotatingFileHandler(
        ctx.paths.log_dir / "agent.log", maxBytes=10 << 20, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def run_agent(ctx: AppContext) -> int:
    """Hold the single-instance lock, run until SIGINT/SIGTERM, stop gracefully; exit status."""
    lock = AgentLock(ctx.paths.data_dir / "agent.lock")
    if not lock.acquire():
        raise ConfigError(
            f"Another transferapp agent is already running (pid {lock.holder()})",
            "stop it first, or leave it running: one agent runs every job",
        )
    handler = agent_log(ctx)
    agent = Agent(ctx)

    def stop(signum: int, _frame: object) -> None:
        log.info("received signal %d; stopping (transfers in flight resume at the next start)", signum)
        agent.stop_event.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"transferapp agent running (pid {os.getpid()}); log: {ctx.paths.log_dir / 'agent.log'}", flush=True)
    try:
        agent.run()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        logging.getLogger().removeHandler(handler)
        handler.close()
        lock.release()
    return 0
