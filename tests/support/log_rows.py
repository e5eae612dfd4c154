"""A big transfer log made fast: rows written straight into the log table (the hash chain is not valid).

Row ``i`` (its id, from 1) is fully determined by ``i``, so tests can tell what any row must hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from transferapp.store.db import Database
from transferapp.store.log import HASHED_FIELDS

CONNECTIONS = ("pim", "oms", "sfcc", "erp", "wms")
START = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=30)
FAKE_HASH = ""  # the chain is not valid anyway; empty keeps the file small


def status_of(i: int) -> str:
    """3 % failed, 1 % cancelled, 3 % retry, the rest ok."""
    rest = i % 100
    return "failed" if rest < 3 else "cancelled" if rest == 3 else "retry" if rest < 7 else "ok"


def at_of(i: int) -> str:
    """The row's time: one row every 30 s from 2024-01-01 (UTC)."""
    return (START + i * STEP).isoformat(timespec="milliseconds")


def row_of(i: int) -> tuple[object, ...]:
    """Row ``i`` in HASHED_FIELDS order."""
    connection = CONNECTIONS[i % len(CONNECTIONS)]
    status = status_of(i)
    error = {
        "failed": f"Cannot write /in/orders_{i:07d}.xml: permission denied (pick a folder you can write to)",
        "retry": "Connection reset by peer (check the network and that the server is up)",
        "cancelled": "cancelled by the user",
    }.get(status, "")
    return (
        at_of(i),
        connection,
        "down" if i % 4 == 0 else "up",
        f"/exports/{connection}/orders_{i:07d}.xml",
        f"/in/orders_{i:07d}.xml",
        1000 + i % 5000,
        f"{i:064x}",
        (i % 50) / 10,
        status,
        error,
        i,
        1,
        "{}" if i % 10 else '{"encrypted":true}',
    )


def _rows(first: int, count: int) -> Iterator[tuple[object, ...]]:
    for i in range(first, first + count):
        yield (i, *row_of(i), FAKE_HASH, FAKE_HASH)


def fill_log(db: Database, count: int, batch: int = 100_000) -> None:
    """Append rows 1..``count`` (ids must be free) and set the log head's row count.

    The trigram index's insert trigger is set aside meanwhile and the index rebuilt once at the end (much
    faster than row by row); the schema ends up as the migrations made it.
    """
    columns = ("id", *HASHED_FIELDS, "prev_hash", "row_hash")
    sql = f"INSERT INTO log ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    trigger = db.connection().execute("SELECT sql FROM sqlite_master WHERE name = 'log_text_insert'").fetchone()
    if trigger:
        db.connection().execute("DROP TRIGGER log_text_insert")
    for first in range(1, count + 1, batch):
        with db.transaction() as conn:
            conn.executemany(sql, _rows(first, min(batch, count + 1 - first)))
    with db.transaction() as conn:
        if trigger:
            conn.execute("INSERT INTO log_text(log_text) VALUES ('rebuild')")
            conn.execute(trigger[0])
        conn.execute(
            "INSERT OR REPLACE INTO log_head (id, last_id, last_hash, rows) VALUES (1, ?, ?, ?)",
            (count, FAKE_HASH, count),
        )
