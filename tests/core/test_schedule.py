"""Schedules: cron and interval timing, windows, catch-up, never-ran jobs, DST and the TOML form."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from transferapp.errors import ConfigError
from transferapp.jobs.schedule import FIRST_RUN_GRACE, Schedule, Window, local_now

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, tz: ZoneInfo = BERLIN, fold: int = 0):
    """An aware wall-clock time (fold=1 picks the second pass through a repeated fall-back hour)."""
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold)


def slots(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next `count` run times after `after`, chained through next_run."""
    found = []
    for _ in range(count):
        after = schedule.next_run(after)
        found.append(after)
    return found


def simulate(schedule: Schedule, start: datetime, end: datetime, step: timedelta = timedelta(minutes=5)):
    """An agent ticking every `step` of real time from start (recorded as the job's creation) to end."""
    runs, last_run, tick = [], start, start.astimezone(UTC)
    while tick < end.astimezone(UTC):
        now = tick.astimezone(start.tzinfo)
        if schedule.due(last_run, now):
            runs.append(now)
            last_run = now
        tick += step
    return runs


def wall(moment: datetime) -> str:
    return moment.strftime("%m-%d %H:%M%z")


# --- parsing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("61 * * * *", "minute must be 0-59"),
        ("0 24 * * *", "hour must be 0-23"),
        ("0 2 32 * *", "day of month must be 1-31"),
        ("0 2 * 13 *", "month must be 1-12 or jan-dec"),
        ("0 2 * * 9", "day of week must be 0-7 or sun-sat"),
        ("x 2 * * *", "minute must be 0-59"),
        ("0 2 * *", "expected 5 fields, got 4"),
        ("0 2 * * * *", "expected 5 fields, got 6"),
        ("0 0 30 2 *", "it never matches a real date"),
    ],
)
def test_bad_cron_names_the_value_and_the_bad_field(cron: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Schedule.parse(cron=cron)
    assert caught.value.message == f"Invalid schedule '{cron}': {expected}"
    assert "'0 2 * * *'" in caught.value.hint


@pytest.mark.parametrize("text", ["15x", "", "  ", "1h-", "-5", "abc", "1.5h", "0s", "0", "0.5"])
def test_bad_interval_text_is_rejected(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Schedule.parse(every=text)
    assert f"Invalid interval '{text}'" in caught.value.message
    assert "'15m'" in caught.value.hint


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("2h30m", 9000), ("1d", 86400), ("900", 900), (" 2H 30min ", 9000)],
)
def test_interval_text_parses_to_seconds(text: str, seconds: int) -> None:
    assert Schedule.parse(every=text).every == seconds


def test_cron_and_interval_together_is_an_error() -> None:
    with pytest.raises(ConfigError, match="not both"):
        Schedule.parse(cron="0 2 * * *", every="1h")
    with pytest.raises(ConfigError, match="not both"):
        Schedule(cron="0 2 * * *", every=3600.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25:00-01:00", "hour must be 0-23"),
        ("01:60-02:00", "minute must be 0-59"),
        ("01:00-01:00", "start and end are the same"),
        ("0100-0500", "'0100' is not a time of day"),
        ("01:00", "expected start-end"),
        ("01:00-02:00-03:00", "expected start-end"),
    ],
)
def test_bad_window_is_rejected(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Schedule.parse(every="1h", window=text)
    assert caught.value.message.startswith(f"Invalid window '{text}'")
    assert expected in caught.value.message


def test_window_parse_and_str() -> None:
    window = Window.parse(" 1:00 - 05:30 ")
    assert (window.start, window.end, str(window)) == (time(1, 0), time(5, 30), "01:00-05:30")
    assert Window.parse("22:00-24:00") == Window(time(22, 0), time(0, 0))


def test_cron_whose_times_all_fall_outside_the_window_is_rejected() -> None:
    with pytest.raises(ConfigError) as caught:
        Schedule.parse(cron="0 12 * * *", window="01:00-05:00")
    assert caught.value.message == (
        "Invalid schedule '0 12 * * *' with window '01:00-05:00': none of its run times falls inside the window"
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Schedule.parse(cron="0 2 * * *").next_run(datetime(2024, 1, 1, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        Schedule.parse(every="1h").due(None, datetime(2024, 1, 1, 12, 0))


def test_local_now_is_aware() -> None:
    assert local_now().utcoffset() is not None


# --- next_run and windows -----------------------------------------------------------------------------


def test_cron_next_run_is_strictly_after_and_keeps_the_zone() -> None:
    daily = Schedule.parse(cron="0 2 * * *")
    assert daily.next_run(at(2024, 1, 1, 1, 59)) == at(2024, 1, 1, 2, 0)
    assert daily.next_run(at(2024, 1, 1, 2, 0)) == at(2024, 1, 2, 2, 0)
    result = daily.next_run(at(2024, 1, 1, 12, tz=NEW_YORK))
    assert result.tzinfo is NEW_YORK and wall(result) == "01-02 02:00-0500"


def test_interval_next_run_adds_the_interval() -> None:
    assert Schedule.parse(every="15m").next_run(at(2024, 1, 1, 10, 50)) == at(2024, 1, 1, 11, 5)


def test_window_contains_start_inclusive_end_exclusive() -> None:
    window = Window.parse("01:00-05:00")
    assert window.contains(at(2024, 1, 1, 1, 0)) and window.contains(at(2024, 1, 1, 4, 59))
    assert not window.contains(at(2024, 1, 1, 5, 0)) and not window.contains(at(2024, 1, 1, 0, 59))


def test_window_across_midnight() -> None:
    window = Window.parse("22:00-06:00")
    assert window.contains(at(2024, 1, 1, 23, 30)) and window.contains(at(2024, 1, 2, 5, 59))
    assert not window.contains(at(2024, 1, 2, 6, 0)) and not window.contains(at(2024, 1, 1, 12, 0))
    assert window.next_open(at(2024, 1, 1, 12, 0)) == at(2024, 1, 1, 22, 0)
    assert window.next_open(at(2024, 1, 2, 3, 0)) == at(2024, 1, 2, 3, 0)


def test_window_next_open() -> None:
    window = Window.parse("01:00-05:00")
    inside = at(2024, 1, 1, 3, 17)
    assert window.next_open(inside) is inside
    assert window.next_open(at(2024, 1, 1, 0, 30)) == at(2024, 1, 1, 1, 0)
    assert window.next_open(at(2024, 1, 1, 5, 0)) == at(2024, 1, 2, 1, 0)


def test_cron_slots_outside_the_window_are_skipped() -> None:
    schedule = Schedule.parse(cron="0 0,3 * * *", window="01:00-05:00")
    assert slots(schedule, at(2024, 1, 1, 0, 30), 2) == [at(2024, 1, 1, 3, 0), at(2024, 1, 2, 3, 0)]
    every_half_hour = Schedule.parse(cron="*/30 * * * *", window="01:00-05:00")
    expected = [at(2024, 1, 1, 4, 30), at(2024, 1, 2, 1, 0), at(2024, 1, 2, 1, 30)]
    assert slots(every_half_hour, at(2024, 1, 1, 4, 10), 3) == expected


def test_interval_landing_outside_the_window_moves_to_the_next_opening() -> None:
    schedule = Schedule.parse(every="1h", window="01:00-05:00")
    assert schedule.next_run(at(2024, 1, 1, 3, 0)) == at(2024, 1, 1, 4, 0)
    assert schedule.next_run(at(2024, 1, 1, 4, 30)) == at(2024, 1, 2, 1, 0)


def test_window_only_schedule_is_a_gate() -> None:
    schedule = Schedule.parse(window="01:00-05:00")
    assert schedule.next_run(at(2024, 1, 1, 2, 0)) == at(2024, 1, 1, 2, 0)
    assert schedule.next_run(at(2024, 1, 1, 6, 0)) == at(2024, 1, 2, 1, 0)
    assert schedule.due(at(2024, 1, 1, 2, 0), at(2024, 1, 1, 2, 0))
    assert not schedule.due(None, at(2024, 1, 1, 6, 0))


# --- due: catch-up and never-ran ----------------------------------------------------------------------


def test_missed_days_catch_up_with_one_run() -> None:
    daily = Schedule.parse(cron="0 2 * * *")
    last_run, now = at(2024, 1, 1, 2, 0), at(2024, 1, 4, 10, 0)  # three slots missed
    assert daily.due(last_run, now)
    last_run = now  # the caller runs once and records now
    assert not daily.due(last_run, at(2024, 1, 4, 10, 1))
    assert not daily.due(last_run, at(2024, 1, 5, 1, 59))
    assert daily.due(last_run, at(2024, 1, 5, 2, 0))


def test_catch_up_waits_for_the_window() -> None:
    schedule = Schedule.parse(cron="0 2 * * *", window="01:00-05:00")
    last_run = at(2024, 1, 1, 2, 0)
    assert not schedule.due(last_run, at(2024, 1, 4, 10, 0))
    assert schedule.due(last_run, at(2024, 1, 5, 1, 0))


def test_interval_catch_up_and_elapsed_time() -> None:
    schedule = Schedule.parse(every="15m")
    assert schedule.due(at(2024, 1, 1, 0, 0), at(2024, 1, 3, 0, 0))
    assert not schedule.due(at(2024, 1, 3, 0, 0), at(2024, 1, 3, 0, 14))
    assert schedule.due(at(2024, 1, 3, 0, 0), at(2024, 1, 3, 0, 15))


def test_last_run_in_another_zone_is_the_same_instant() -> None:
    daily = Schedule.parse(cron="0 2 * * *")
    stored = at(2024, 1, 2, 1, 30).astimezone(UTC)  # 00:30 UTC, before today's 02:00 Berlin slot
    assert daily.due(stored, at(2024, 1, 2, 2, 5))
    assert not daily.due(at(2024, 1, 2, 2, 1).astimezone(UTC), at(2024, 1, 2, 2, 5))


def test_never_ran_cron_job_waits_for_its_first_slot() -> None:
    daily = Schedule.parse(cron="0 2 * * *")
    assert not daily.due(None, at(2024, 1, 1, 14, 0))
    assert daily.due(None, at(2024, 1, 2, 2, 0))
    assert daily.due(None, at(2024, 1, 2, 2, 0) + FIRST_RUN_GRACE - timedelta(seconds=1))
    assert not daily.due(None, at(2024, 1, 2, 2, 0) + FIRST_RUN_GRACE + timedelta(seconds=1))


def test_never_ran_cron_job_in_a_window_waits_for_a_slot_inside_it() -> None:
    schedule = Schedule.parse(cron="0 0,3 * * *", window="00:00-05:00")
    assert not schedule.due(None, at(2024, 1, 1, 1, 0))
    assert schedule.due(None, at(2024, 1, 1, 3, 1))


def test_never_ran_interval_job_runs_now_if_inside_the_window() -> None:
    assert Schedule.parse(every="1d").due(None, at(2024, 1, 1, 14, 0))
    windowed = Schedule.parse(every="1d", window="01:00-05:00")
    assert not windowed.due(None, at(2024, 1, 1, 14, 0))
    assert windowed.due(None, at(2024, 1, 2, 1, 0))


# --- DST ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "expected", "next_day"),
    [
        (BERLIN, (2024, 3, 31), "03-31 03:00+0200", "04-01 02:30+0200"),
        (NEW_YORK, (2024, 3, 10), "03-10 03:00-0400", "03-11 02:30-0400"),
    ],
)
def test_spring_forward_daily_0230_runs_once_at_0300(tz: ZoneInfo, day: tuple, expected: str, next_day: str) -> None:
    daily = Schedule.parse(cron="30 2 * * *")
    before = at(*day, tz=tz) - timedelta(hours=12)
    assert [wall(s) for s in slots(daily, before, 2)] == [expected, next_day]
    runs = simulate(daily, before, before + timedelta(days=2))
    assert [wall(r) for r in runs if r.date() == datetime(*day).date()] == [expected]


@pytest.mark.parametrize(
    ("tz", "day", "hour", "expected"),
    [(BERLIN, (2024, 10, 27), 2, "10-27 02:30+0200"), (NEW_YORK, (2024, 11, 3), 1, "11-03 01:30-0400")],
)
def test_fall_back_daily_job_in_repeated_hour_runs_once(tz: ZoneInfo, day: tuple, hour: int, expected: str) -> None:
    daily = Schedule.parse(cron=f"30 {hour} * * *")
    before = at(*day, tz=tz) - timedelta(hours=12)
    first, second = slots(daily, before, 2)
    assert wall(first) == expected and second.date() > first.date()
    runs = simulate(daily, before, before + timedelta(days=2))
    assert [wall(r) for r in runs if r.date() == datetime(*day).date()] == [expected]
    second_pass = at(*day, hour, 29, tz=tz, fold=1)  # the repeated hour, after the first 02:30 already ran
    assert daily.next_run(second_pass).date() > second_pass.date()


def test_hourly_follows_the_wall_clock_across_both_changes() -> None:
    hourly = Schedule.parse(cron="0 * * * *")
    spring = slots(hourly, at(2024, 3, 30, 23, 30), 24)
    fall = slots(hourly, at(2024, 10, 26, 23, 30), 26)
    assert [wall(s) for s in spring[1:4]] == ["03-31 01:00+0100", "03-31 03:00+0200", "03-31 04:00+0200"]
    assert [wall(s) for s in fall[2:5]] == ["10-27 02:00+0200", "10-27 02:00+0100", "10-27 03:00+0100"]
    for runs, per_day in ((spring, 23), (fall, 25)):  # no skipped or doubled real hour, 23 and 25 runs that day
        assert all(b.astimezone(UTC) - a.astimezone(UTC) == timedelta(hours=1) for a, b in pairwise(runs))
        assert sum(r.date() == runs[1].date() for r in runs) == per_day
    ticked = simulate(hourly, at(2024, 10, 26, 12, 0), at(2024, 10, 28, 0, 0))
    assert sum(r.date() == fall[2].date() for r in ticked) == 25


def test_hourly_at_fixed_hours_does_not_repeat_the_fall_back_hour() -> None:
    schedule = Schedule.parse(cron="0 1-3 * * *")
    assert [wall(s) for s in slots(schedule, at(2024, 10, 27, 0, 30), 3)] == [
        "10-27 01:00+0200",
        "10-27 02:00+0200",
        "10-27 03:00+0100",
    ]


def test_interval_is_real_elapsed_time_across_dst() -> None:
    hourly = Schedule.parse(every="1h")
    fall = slots(hourly, at(2024, 10, 27, 1, 30), 3)
    assert [wall(s) for s in fall] == ["10-27 02:30+0200", "10-27 02:30+0100", "10-27 03:30+0100"]
    assert wall(hourly.next_run(at(2024, 3, 10, 1, 30, tz=NEW_YORK))) == "03-10 03:30-0400"
    assert wall(Schedule.parse(every="1d").next_run(at(2024, 3, 30, 12, 0))) == "03-31 13:00+0200"
    # 02:40 (first pass) to 02:10 (second pass) is 90 real minutes even though the wall clock went backwards
    assert Schedule.parse(every="10m").due(at(2024, 10, 27, 2, 40), at(2024, 10, 27, 2, 10, fold=1))
    assert not Schedule.parse(every="2h").due(at(2024, 10, 27, 1, 40), at(2024, 10, 27, 2, 10, fold=1))


def test_window_on_spring_forward_day() -> None:
    window = Window.parse("01:00-05:00")
    assert window.next_open(at(2024, 3, 30, 12, 0)) == at(2024, 3, 31, 1, 0)
    assert wall(window.next_open(at(2024, 3, 31, 5, 0))) == "04-01 01:00+0200"
    opens_in_skipped_hour = Window.parse("02:30-04:00")
    assert wall(opens_in_skipped_hour.next_open(at(2024, 3, 31, 1, 45))) == "03-31 03:00+0200"
    assert opens_in_skipped_hour.contains(at(2024, 3, 31, 3, 0))


def test_window_on_fall_back_day() -> None:
    window = Window.parse("01:00-05:00")
    assert wall(window.next_open(at(2024, 10, 26, 12, 0))) == "10-27 01:00+0200"
    assert window.contains(at(2024, 10, 27, 2, 30)) and window.contains(at(2024, 10, 27, 2, 30, fold=1))
    # the clock falls back from 03:00 into the window again: it reopens at 02:00 (second pass)
    assert wall(Window.parse("01:00-02:30").next_open(at(2024, 10, 27, 2, 45))) == "10-27 02:00+0100"
    second_pass = Window.parse("02:30-03:00").next_open(at(2024, 10, 27, 2, 10, fold=1))
    assert wall(second_pass) == "10-27 02:30+0100"


# --- describe and TOML --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"cron": "0 2 * * *", "window": "01:00-05:00"}, "daily at 02:00, only 01:00-05:00"),
        ({"cron": "15 * * * *"}, "hourly at :15"),
        ({"cron": "30 3 * * 1"}, "weekly on Monday at 03:30"),
        ({"cron": "*/5 * * * *"}, "cron '*/5 * * * *'"),
        ({"every": "15m"}, "every 15 min"),
        ({"every": "2h30m"}, "every 2 h 30 min"),
        ({"every": "2d"}, "every 2 days"),
        ({"window": "22:00-06:00"}, "any time, only 22:00-06:00"),
    ],
)
def test_describe(kwargs: dict[str, str], text: str) -> None:
    assert Schedule.parse(**kwargs).describe() == text


@pytest.mark.parametrize(
    "table",
    [
        {"schedule": "0 2 * * *"},
        {"schedule": "*/5 * * * *", "window": "01:00-05:00"},
        {"every": "15m"},
        {"every": "1d2h30m15s", "window": "22:00-06:00"},
        {"every": "1.5"},
        {"window": "01:00-05:00"},
    ],
)
def test_toml_round_trip(table: dict[str, str]) -> None:
    schedule = Schedule.from_toml({**table, "name": "nightly", "remote": "/in"})
    assert schedule is not None and schedule.to_toml() == table
    assert Schedule.from_toml(schedule.to_toml()) == schedule


def test_from_toml_without_schedule_keys_and_with_bad_types() -> None:
    assert Schedule.from_toml({"name": "manual"}) is None
    schedule = Schedule.from_toml({"every": 900})
    assert schedule is not None and schedule.every == 900 and schedule.to_toml() == {"every": "15m"}
    with pytest.raises(ConfigError, match="Invalid schedule 5"):
        Schedule.from_toml({"schedule": 5})
    with pytest.raises(ConfigError, match="Invalid interval True"):
        Schedule.from_toml({"every": True})
