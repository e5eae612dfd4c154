"""Job schedules: cron or interval timing, an optional time-of-day window, catch-up and DST.

Pure logic with an injected clock. Schedules are wall-clock times in the zone of the datetimes passed in;
all comparisons and arithmetic go through UTC. DST follows cron(8): on spring-forward a fixed-hour slot in the
skipped hour (02:30 daily) runs once at 03:00 (croniter's choice), while wildcard-hour jobs (hourly, */30) just
have no slots in the missing hour; on fall-back a fixed-hour slot in the repeated hour runs once (first pass),
while wildcard-hour jobs run in both passes. Intervals are real elapsed time (seconds added in UTC).

Never ran: a cron job waits for its first slot (due only if a slot fell within FIRST_RUN_GRACE before now);
callers that know when the job was created may pass that as last_run instead ("first slot after creation",
with catch-up). An interval job, or one with only a window, runs now if inside the window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from croniter import CroniterBadDateError, CroniterError, croniter

from transferapp.errors import ConfigError

FIRST_RUN_GRACE = timedelta(minutes=5)

_CRON_HINT = "use five cron fields such as '0 2 * * *' (02:00 daily) or '*/15 * * * *' (every 15 minutes)"
_EVERY_HINT = "use a number with a unit such as '30s', '15m', '1h', '2h30m' or '1d', or plain seconds such as '900'"
_WINDOW_HINT = "use HH:MM-HH:MM in 24-hour local time such as '01:00-05:00'; end before start means across midnight"
_BOTH_HINT = "use either a cron schedule or an interval ('every'), not both"
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_RANGES = ("0-59", "0-23", "1-31", "1-12 or jan-dec", "0-7 or sun-sat")
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_UNIT_NAMES = {"d": "day", "h": "h", "m": "min", "s": "s"}
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_EVERY_RE = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?")
_SECONDS_RE = re.compile(r"\d+(?:\.\d+)?")
_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})")


def local_now() -> datetime:
    """Aware now in the machine's local zone (a fixed offset: call it afresh on every tick)."""
    return datetime.now().astimezone()


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _shift(moment: datetime, seconds: float) -> datetime:
    """`moment` plus real elapsed seconds (not wall-clock arithmetic), in moment's zone."""
    return (_utc(moment) + timedelta(seconds=seconds)).astimezone(moment.tzinfo)  # astimezone sets `fold`


def _transitions(day: date, tz: tzinfo) -> list[datetime]:
    """The instant the UTC offset changes on `day` (a DST switch), if it does."""
    lo = int(datetime.combine(day, time(), tzinfo=tz).timestamp())
    hi, after = lo + 86400, datetime.fromtimestamp(lo + 86400, tz).utcoffset()
    if datetime.fromtimestamp(lo, tz).utcoffset() == after:
        return []
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if datetime.fromtimestamp(mid, tz).utcoffset() == after else (mid, hi)
    return [datetime.fromtimestamp(hi, tz)]


def _parse_clock(text: str, part: str, *, is_end: bool) -> time:
    match = _CLOCK_RE.fullmatch(part.strip())
    if match is None:
        raise ConfigError(f"Invalid window '{text}': '{part.strip()}' is not a time of day (HH:MM)", _WINDOW_HINT)
    hour, minute = int(match[1]), int(match[2])
    if is_end and (hour, minute) == (24, 0):
        return time(0, 0)
    if hour > 23:
        raise ConfigError(f"Invalid window '{text}': hour must be 0-23", _WINDOW_HINT)
    if minute > 59:
        raise ConfigError(f"Invalid window '{text}': minute must be 0-59", _WINDOW_HINT)
    return time(hour, minute)


@dataclass(frozen=True)
class Window:
    """An allowed time-of-day window in local wall-clock time; end before start means across midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ConfigError(f"Invalid window '{self}': start and end are the same", "leave it out to allow any time")

    @classmethod
    def parse(cls, text: str) -> Window:
        """Parse "HH:MM-HH:MM" such as "01:00-05:00" or "22:00-06:00" (across midnight)."""
        parts = text.split("-")
        if len(parts) != 2:
            raise ConfigError(f"Invalid window '{text}': expected start-end", _WINDOW_HINT)
        return cls(_parse_clock(text, parts[0], is_end=False), _parse_clock(text, parts[1], is_end=True))

    def covers(self, wall: time) -> bool:
        """Whether a wall-clock time of day lies in the window (start inclusive, end exclusive)."""
        wall = wall.replace(tzinfo=None, fold=0)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def contains(self, moment: datetime) -> bool:
        """Whether `moment`'s wall-clock time, in its own zone, lies in the window."""
        return self.covers(moment.time())

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself if inside the window, else the first later instant inside it (aware, DST-correct)."""
        _require_aware(moment, "moment")
        if self.contains(moment):
            return moment
        tz, candidates = moment.tzinfo or UTC, []
        for offset in range(-1, 9):
            day = moment.date() + timedelta(days=offset)
            # the start (both passes of a repeated hour) and DST switches, which can jump the clock into the window
            starts = (datetime.combine(day, self.start, tzinfo=tz).replace(fold=fold) for fold in (0, 1))
            candidates += [_utc(start).astimezone(tz) for start in starts]
            candidates += _transitions(day, tz)
        inside = [c for c in candidates if _utc(c) > _utc(moment) and self.contains(c)]
        if not inside:  # only a window lying wholly inside skipped DST hours on every day could get here
            raise ConfigError(f"Window '{self}' never opens after {moment.isoformat()}", _WINDOW_HINT)
        return min(inside, key=_utc)

    def __str__(self) -> str:
        """The window as "HH:MM-HH:MM"."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _check_cron(cron: str, window: Window | None) -> None:
    fields = cron.split()
    if len(fields) != 5:
        raise ConfigError(f"Invalid schedule '{cron}': expected 5 fields, got {len(fields)}", _CRON_HINT)
    for index, name in enumerate(_FIELDS):
        if not croniter.is_valid(" ".join(field if i == index else "*" for i, field in enumerate(fields))):
            raise ConfigError(f"Invalid schedule '{cron}': {name} must be {_RANGES[index]}", _CRON_HINT)
    try:
        parsed = croniter(cron, datetime(2000, 1, 1, tzinfo=UTC))
        parsed.get_next(datetime)
    except CroniterBadDateError:
        raise ConfigError(f"Invalid schedule '{cron}': it never matches a real date", _CRON_HINT) from None
    except (CroniterError, ValueError) as exc:
        raise ConfigError(f"Invalid schedule '{cron}': {exc}", _CRON_HINT) from None
    if window is not None:
        minutes = list(range(60)) if "*" in parsed.expanded[0] else [int(m) for m in parsed.expanded[0]]
        hours = list(range(24)) if "*" in parsed.expanded[1] else [int(h) for h in parsed.expanded[1]]
        if not any(window.covers(time(h, m)) for h in hours for m in minutes):
            raise ConfigError(
                f"Invalid schedule '{cron}' with window '{window}': none of its run times falls inside the window",
                "widen the window or change the schedule's hour and minute",
            )


def _parse_every(text: str) -> float:
    compact = text.strip().lower()
    if _SECONDS_RE.fullmatch(compact):
        seconds = float(compact)
    else:
        match = _EVERY_RE.fullmatch(compact)
        if not compact or match is None or not any(match.groups()):
            raise ConfigError(f"Invalid interval '{text}': not a duration", _EVERY_HINT)
        seconds = float(sum(int(g) * size for g, (_, size) in zip(match.groups(), _UNITS, strict=True) if g))
    if seconds < 1:
        raise ConfigError(f"Invalid interval '{text}': must be at least 1 second", _EVERY_HINT)
    return seconds


def _format_every(seconds: float, *, human: bool = False) -> str:
    """Seconds as "2h30m" (the TOML form) or, with human, "2 h 30 min"."""
    if not float(seconds).is_integer():
        plain = f"{seconds:.6f}".rstrip("0").rstrip(".")
        return f"{plain} s" if human else plain
    left, parts = int(seconds), []
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count:
            name = _UNIT_NAMES[unit] + ("s" if unit == "d" and count > 1 else "")
            parts.append(f"{count} {name}" if human else f"{count}{unit}")
    return (" " if human else "").join(parts)


def _describe_cron(cron: str) -> str:
    minute, hour, dom, month, dow = cron.split()
    if minute.isdigit() and dom == month == "*":
        if hour == "*" and dow == "*":
            return f"hourly at :{int(minute):02d}"
        if hour.isdigit():
            at = f"{int(hour):02d}:{int(minute):02d}"
            if dow == "*":
                return f"daily at {at}"
            if dow.isdigit() and int(dow) <= 7:
                return f"weekly on {_DAYS[int(dow) % 7]} at {at}"
    return f"cron '{cron}'"


@dataclass(frozen=True)
class Schedule:
    """When a job runs: a cron expression or an interval, optionally only inside a time-of-day window."""

    cron: str | None = None
    every: float | None = None
    window: Window | None = None

    def __post_init__(self) -> None:
        if self.cron is not None and self.every is not None:
            raise ConfigError(f"Invalid schedule: cron '{self.cron}' and interval {self.every}s both given", _BOTH_HINT)
        if self.cron is not None:
            _check_cron(self.cron, self.window)
        if self.every is not None and not (math.isfinite(self.every) and self.every >= 1):
            raise ConfigError(f"Invalid interval '{self.every}': must be at least 1 second", _EVERY_HINT)

    @classmethod
    def parse(cls, cron: str | None = None, every: str | None = None, window: str | None = None) -> Schedule:
        """Build a schedule from user text; every is "30s", "15m", "1h", "2h30m", "1d" or plain seconds."""
        if cron is not None and every is not None:
            raise ConfigError(f"Invalid schedule: cron '{cron}' and interval '{every}' both given", _BOTH_HINT)
        return cls(
            cron=" ".join(cron.split()) if cron is not None else None,
            every=_parse_every(every) if every is not None else None,
            window=Window.parse(window) if window is not None else None,
        )

    def next_run(self, after: datetime) -> datetime:
        """The first run time strictly after `after` (just `after` for a window-only schedule), in after's zone."""
        _require_aware(after, "after")
        if self.cron is not None:
            return self._next_cron(after)
        candidate = _shift(after, self.every) if self.every is not None else after
        return self.window.next_open(candidate) if self.window is not None else candidate

    def _next_cron(self, after: datetime) -> datetime:
        assert self.cron is not None
        tz, fixed_hour = after.tzinfo, not self.cron.split()[1].startswith("*")
        start = after
        for _ in range(10_000):  # bounded; _check_cron ensures some time of day fits the window
            slot = _utc(croniter(self.cron, start).get_next(datetime)).astimezone(tz)
            start = slot
            if fixed_hour and slot.fold == 1 and slot.replace(fold=0).utcoffset() != slot.utcoffset():
                continue  # second pass through a repeated (fall-back) hour: a fixed-time job already ran
            if self.window is not None and not self.window.contains(slot):
                start = _shift(self.window.next_open(slot), -1)
                continue
            return slot
        raise ConfigError(f"Schedule '{self.describe()}' finds no run time after {after.isoformat()}", _CRON_HINT)

    def due(self, last_run: datetime | None, now: datetime) -> bool:
        """Whether to run now: a slot inside the window fell in (last_run, now] and now is inside the window."""
        _require_aware(now, "now")
        if self.window is not None and not self.window.contains(now):
            return False
        if self.cron is None and self.every is None:
            return True  # window-only (or empty): a gate, not a timer
        if last_run is None:
            if self.cron is None:
                return True
            since = _shift(now, -FIRST_RUN_GRACE.total_seconds())
        else:
            _require_aware(last_run, "last_run")
            since = last_run.astimezone(now.tzinfo)
        return _utc(self.next_run(since)) <= _utc(now)

    def describe(self) -> str:
        """Human text such as "daily at 02:00, only 01:00-05:00" or "every 15 min"."""
        if self.cron is not None:
            text = _describe_cron(self.cron)
        elif self.every is not None:
            text = f"every {_format_every(self.every, human=True)}"
        else:
            text = "any time"
        return f"{text}, only {self.window}" if self.window is not None else text

    def to_toml(self) -> dict[str, str]:
        """The TOML keys "schedule" (cron), "every" and "window", only those set."""
        every = _format_every(self.every) if self.every is not None else None
        table = {"schedule": self.cron, "every": every, "window": str(self.window) if self.window else None}
        return {key: value for key, value in table.items() if value is not None}

    @classmethod
    def from_toml(cls, table: dict[str, Any]) -> Schedule | None:
        """Read the keys written by to_toml; None when the table has none of them."""
        if not any(key in table for key in ("schedule", "every", "window")):
            return None
        for key, hint in (("schedule", _CRON_HINT), ("window", _WINDOW_HINT)):
            if key in table and not isinstance(table[key], str):
                raise ConfigError(f"Invalid {key} {table[key]!r}: expected a string", hint)
        every = table.get("every")
        if isinstance(every, bool) or not isinstance(every, str | int | float | None):
            raise ConfigError(f"Invalid interval {every!r}: expected a duration string", _EVERY_HINT)
        return cls.parse(table.get("schedule"), str(every) if every is not None else None, table.get("window"))
