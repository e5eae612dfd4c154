"""``transferapp log``: search the transfer log, and verify its hash chain."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from transferapp.app import open_app
from transferapp.cli.output import error, human_bytes, print_json, print_table
from transferapp.store.log import LogFilter


def register(commands: Any) -> None:
    """Add the ``log`` command."""
    log = commands.add_parser("log", help="show the transfer log (newest first)")
    log.add_argument("--json", action="store_true")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--status", choices=["ok", "failed", "retry", "cancelled"])
    log.add_argument("--connection", metavar="NAME")
    log.add_argument("--direction", choices=["up", "down"])
    log.add_argument("--search", metavar="TEXT", help="text in a path or error")
    log.add_argument("--since", metavar="ISO-DATE")
    log.add_argument("--until", metavar="ISO-DATE")
    log.add_argument("--export-csv", metavar="FILE", help="write all rows the filters match (no --limit) to a CSV file")
    log.set_defaults(handler=show_log)
    actions = log.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("verify", help="check the hash chain: altered or deleted rows are reported").set_defaults(
        handler=verify_log
    )


def show_log(args: argparse.Namespace) -> int:
    """Print log rows matching the filters."""
    ctx = open_app()
    if args.export_csv:
        where = LogFilter(args.status, args.connection, args.direction, args.search, args.since, args.until)
        count = ctx.log.export_csv(where, Path(args.export_csv))
        print(f"Exported {count} log rows to {args.export_csv}.")
        return 0
    rows = ctx.log.query(
        limit=args.limit,
        status=args.status,
        connection=args.connection,
        direction=args.direction,
        text=args.search,
        since=args.since,
        until=args.until,
    )
    if args.json:
        print_json([row.to_json() for row in rows])
        return 0
    if not rows:
        print("No log rows match.")
        return 0
    print_table(
        ["ID", "TIME", "STATUS", "CONNECTION", "DIR", "BYTES", "LOCAL", "REMOTE", "ERROR"],
        [
            [
                r.id,
                r.at[:19],
                r.status,
                r.connection,
                r.direction,
                human_bytes(r.bytes),
                r.local_path,
                r.remote_path,
                r.error[:80],
            ]
            for r in rows
        ],
    )
    return 0


def verify_log(_args: argparse.Namespace) -> int:
    """Recompute the log's hash chain; non-zero when a row was altered or deleted."""
    report = open_app().log.verify()
    if report.ok:
        print(f"The transfer log is intact ({report.rows} rows checked).")
        return 0
    error(f"The transfer log was tampered with: {report.problem} ({report.rows} rows intact before it)")
    return 1
