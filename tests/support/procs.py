"""Process-tree helpers (Linux /proc): find descendants, signal them, wait until they are gone."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path


def _stat_fields(pid: int) -> list[str] | None:
    """Return the /proc/PID/stat fields after the command name (state, ppid, ...), or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    return stat.rpartition(")")[2].split()


def is_alive(pid: int) -> bool:
    """Tell whether ``pid`` exists and is not a zombie (a zombie has exited and closed its sockets)."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def child_pids(pid: int) -> list[int]:
    """Return the direct children of ``pid`` (via /proc/PID/task/*/children, else a /proc scan)."""
    task_dir = Path(f"/proc/{pid}/task")
    files = list(task_dir.glob("*/children")) if task_dir.is_dir() else []
    if files:
        found: list[int] = []
        for f in files:
            with contextlib.suppress(OSError):
                found.extend(int(x) for x in f.read_text().split())
        return found
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and len(fields) > 1 and int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def descendant_pids(pid: int) -> list[int]:
    """Return every descendant of ``pid``, parents before children."""
    out: list[int] = []
    todo = [pid]
    while todo:
        kids = [k for k in child_pids(todo.pop()) if k not in out]
        out.extend(kids)
        todo.extend(kids)
    return out


def send_signal(pid: int, sig: int) -> None:
    """Send ``sig`` to ``pid``, ignoring a process that is already gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def wait_gone(pids: list[int], timeout: float = 3.0) -> list[int]:
    """Wait until every pid has exited (reaping our own children); return those still alive at ``timeout``."""
    pending = set(pids)
    deadline = time.monotonic() + timeout
    while pending:
        for pid in list(pending):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # only succeeds for our own children
            if not is_alive(pid):
                pending.discard(pid)
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return sorted(pending)
