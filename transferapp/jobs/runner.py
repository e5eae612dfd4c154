"""Running a job once, in the foreground: ``transferapp job run NAME`` (and a scheduled run of the agent)."""

from __future__ import annotations

from datetime import datetime

from transferapp.app import AppContext
from transferapp.engine import Engine
from transferapp.jobs.model import JobSpec
from transferapp.jobs.pull import PullJob
from transferapp.jobs.push import PushJob, job_batch
from transferapp.store.jobs import JobStore


def job_worker(ctx: AppContext, job: JobSpec, store: JobStore) -> PushJob | PullJob:
    """The push or pull logic of a job."""
    return PushJob(ctx, job, store) if job.kind == "push" else PullJob(ctx, job, store)


def collect(worker: PushJob | PullJob) -> int:
    """One look for work: queue complete local files (push) or new remote files (pull); returns how many."""
    if isinstance(worker, PushJob):
        return sum(1 for ready in worker.complete_files() if worker.offer(ready) is not None)
    return len(worker.poll())


def run_job_once(ctx: AppContext, job: JobSpec) -> int:
    """Settle leftovers, queue what is there now, transfer it, apply post-actions; 0 when all succeeded."""
    from transferapp.cli.output import TerminalProgress

    store = JobStore(ctx.db)
    worker = job_worker(ctx, job, store)
    worker.settle()
    queued = collect(worker)
    started = datetime.now().astimezone()
    Engine(ctx, sink=TerminalProgress({})).run(batch=job_batch(job))
    worker.settle()
    failed = [i for i in ctx.queue.items(["failed"], batch=job_batch(job)) if i.updated_at >= started.timestamp()]
    result = "ok" if not failed else f"{len(failed)} failed"
    store.record_run(job.name, started, result, failed[0].error if failed else "")
    print(f"Job {job.name}: {queued} file(s) queued, {len(failed)} failed.")
    for item in failed:
        print(f"failed: {item.local_path}: {item.error}" + (f" ({item.hint})" if item.hint else ""))
    return 1 if failed else 0
