"""Printing helpers for the CLI: JSON, aligned tables, one-line errors, progress on a terminal."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from transferapp.events import Event, TransferFinished, TransferProgress
from transferapp.units import human_bytes  # noqa: F401 - re-exported for the commands


def print_json(data: Any) -> None:
    """Print data as indented JSON on stdout."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Print rows as a plain aligned table."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def error(message: str) -> None:
    """Print a one-line error on stderr."""
    print(f"transferapp: error: {' '.join(message.split())}", file=sys.stderr)


class TerminalProgress:
    """An EventSink that shows one progress line on a terminal's stderr (nothing when not a terminal)."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.enabled = sys.stderr.isatty()
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def __call__(self, event: Event) -> None:
        if not self.enabled:
            return
        with self._lock:
            if isinstance(event, TransferProgress) and event.total_bytes:
                rate = event.done_bytes / max(0.001, time.monotonic() - self._start)
                name = self.names.get(event.transfer_id, str(event.transfer_id))
                pct = 100 * event.done_bytes / event.total_bytes
                sys.stderr.write(f"\r{name[-40:]}  {pct:5.1f}%  {human_bytes(rate)}/s   ")
            elif isinstance(event, TransferFinished):
                sys.stderr.write("\r" + " " * 70 + "\r")
            sys.stderr.flush()
