"""The agent's scheduler with an injected clock: catch-up once after a gap, nothing before the next slot."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from transferapp.app import open_app
from transferapp.config import Connection
from transferapp.jobs.agent import Agent
from transferapp.jobs.model import JobSpec, save_jobs
from transferapp.jobs.schedule import Schedule
from transferapp.store.jobs import JobStore

BERLIN = ZoneInfo("Europe/Berlin")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_scheduled_push_runs_once_after_a_gap_then_waits_for_its_slot(ta_home: Path, tmp_path: Path) -> None:
    ctx = open_app()
    ctx.config.connections["pim"] = Connection("pim", "sftp://u@127.0.0.1:1/srv", auth="agent")
    ctx.config.save()
    watch = tmp_path / "out"
    watch.mkdir()
    job = JobSpec("nightly", "push", "pim", watch=watch, stable_seconds=0.01,
                  schedule=Schedule.parse(cron="0 2 * * *", window="01:00-05:00"))  # fmt: skip
    save_jobs(ctx.config, {"nightly": job})
    store = JobStore(ctx.db)
    store.record_run("nightly", datetime(2026, 3, 20, 2, 0, tzinfo=BERLIN), "ok")  # then the machine slept
    (watch / "a.xml").write_text("<a/>")
    os.utime(watch / "a.xml", (1_700_000_000, 1_700_000_000))  # long complete (the stable window is real time)
    clock = Clock(datetime(2026, 3, 25, 12, 0, tzinfo=BERLIN))  # outside the window: waits
    agent = Agent(ctx, clock=clock)
    agent._load_jobs()

    def run_tick() -> None:
        agent.tick()
        for thread in agent.busy.values():
            thread.join()

    run_tick()
    assert ctx.queue.items() == []
    clock.now = datetime(2026, 3, 26, 1, 0, tzinfo=BERLIN)  # window opens: five missed slots -> one run
    run_tick()
    assert [Path(i.local_path).name for i in ctx.queue.items()] == ["a.xml"]
    (watch / "b.xml").write_text("<b/>")
    os.utime(watch / "b.xml", (1_700_000_000, 1_700_000_000))
    clock.now += timedelta(minutes=30)  # still before the 02:00 slot: no second run
    run_tick()
    assert len(ctx.queue.items()) == 1
    clock.now = datetime(2026, 3, 26, 2, 0, 30, tzinfo=BERLIN)
    run_tick()
    assert sorted(Path(i.local_path).name for i in ctx.queue.items()) == ["a.xml", "b.xml"]
    assert store.last_run("nightly").last_run == clock.now
