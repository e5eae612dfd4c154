"""Which transfer-log rows to show, and SQL for them that stays fast over a million rows, newest first."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from transferapp.errors import TransferAppError

Stop = Callable[[], bool]  # polled while a long query runs; true aborts it
SMALL_SET = 20_000  # up to this many candidates are fetched by index and sorted; more are found scanning newest first
TEXT_INDEX_MIN = 3  # the trigram index finds substrings of 3 characters or more


class QueryStopped(Exception):
    """A log query was aborted because its ``stop()`` said so (e.g. a newer filter replaced it)."""


@dataclass(frozen=True)
class LogFilter:
    """Which log rows to show, count or export; every field is optional (empty: no condition)."""

    status: str | None = None
    connection: str | None = None
    direction: str | None = None
    text: str | None = None  # in the local path, the remote path or the error (case-insensitive for ASCII)
    since: str | None = None  # ISO time (UTC), inclusive
    until: str | None = None  # ISO time (UTC), exclusive

    def is_empty(self) -> bool:
        """True when no field filters."""
        return not any(asdict(self).values())

    def where(self, *, date_index: bool = True, text_index: bool = False) -> tuple[str, list[object]]:
        """The SQL condition (never empty) and its arguments.

        ``text_index`` narrows the rows to the trigram index's candidates and keeps SQLite from walking another
        index; ``date_index`` False keeps it from walking the time index (then it scans newest first).
        """
        plus = "+" if text_index else ""  # "+column" is the same value, but not a use for an index
        sql, args = "1=1", list[object]()
        for column, value in (("status", self.status), ("connection", self.connection), ("direction", self.direction)):
            if value:
                sql += f" AND {plus}{column} = ?"
                args.append(value)
        at = "at" if date_index and not text_index else "+at"
        if self.since:
            sql += f" AND {at} >= ?"
            args.append(self.since)
        if self.until:
            sql += f" AND {at} < ?"
            args.append(self.until)
        if self.text:
            if text_index:
                sql += " AND id IN (SELECT rowid FROM log_text WHERE log_text MATCH ?)"
                args.append(_phrase(self.text))
            sql += " AND (local_path LIKE ? ESCAPE '\\' OR remote_path LIKE ? ESCAPE '\\' OR error LIKE ? ESCAPE '\\')"
            pattern = "%" + self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args += [pattern] * 3
        return sql, args


def planned_where(
    conn: sqlite3.Connection, where: LogFilter, text_index: bool, ordered: bool = True
) -> tuple[str, list[object]]:
    """``where``'s condition written for the fastest plan, judged by cheap capped counts.

    For rows newest first (``ordered``), a narrow date range or a rare text is fetched through its index and
    sorted (at most SMALL_SET rows); a wide range or a frequent text is found by walking the rows newest first,
    which stops after one page. A count (not ``ordered``) always uses the time index.
    """
    date_index = True
    if ordered and (where.since or where.until):
        bounds: list[object] = [where.since or "", where.until or "\uffff"]
        date_index = _fewer_than(conn, "SELECT 1 FROM log WHERE at >= ? AND at < ?", bounds)
    use_text = bool(text_index and where.text and len(where.text) >= TEXT_INDEX_MIN)
    if use_text and where.text:
        use_text = _fewer_than(conn, "SELECT 1 FROM log_text WHERE log_text MATCH ?", [_phrase(where.text)])
    return where.where(date_index=date_index, text_index=use_text)


def _fewer_than(conn: sqlite3.Connection, sql: str, args: list[object], limit: int = SMALL_SET) -> bool:
    """Whether ``sql`` yields fewer than ``limit`` rows (counting stops at ``limit``)."""
    count = conn.execute(f"SELECT count(*) FROM ({sql} LIMIT ?)", [*args, limit]).fetchone()[0]  # noqa: S608
    return int(count) < limit


def _phrase(text: str) -> str:
    """``text`` as one FTS5 phrase (the trigram tokenizer matches it as a substring)."""
    return '"' + text.replace('"', '""') + '"'


def has_text_index(conn: sqlite3.Connection) -> bool:
    """Whether the database has the trigram index of the log (SQLite builds without FTS5 have none)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'log_text'").fetchone() is not None


@contextmanager
def stoppable(conn: sqlite3.Connection, stop: Stop | None) -> Iterator[None]:
    """Run the block's queries so that ``stop()`` turning true aborts them (QueryStopped)."""
    if stop is None:
        yield
        return
    conn.set_progress_handler(lambda: int(stop()), 10_000)
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc) and stop():
            raise QueryStopped from None
        raise
    finally:
        conn.set_progress_handler(None, 0)


def split_error(error: str, hints: Iterable[str] = ()) -> tuple[str, str]:
    """A logged error is "message (hint)": split it when it ends with one of ``hints`` or a default hint."""
    for hint in (*hints, *known_hints()):
        if hint and error.endswith(f" ({hint})"):
            return error[: -len(hint) - 3], hint
    return error, ""


def known_hints() -> list[str]:
    """The default hints of every error class, longest first."""
    found: set[str] = set()
    classes: list[type[TransferAppError]] = [TransferAppError]
    while classes:
        cls = classes.pop()
        found.add(cls.default_hint)
        classes += cls.__subclasses__()
    return sorted(filter(None, found), key=len, reverse=True)
