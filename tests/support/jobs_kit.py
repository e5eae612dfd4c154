"""Helpers for the job tests: connections to the test sshd, waiting, listing files, a background agent."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.cli import Cli
from support.sshd import SshdServer


def add_connection(cli: Cli, sshd: SshdServer, folder: Path, name: str = "pim", port: int | None = None) -> None:
    """A key-login connection to the test sshd (or to ``port``, where nothing may listen)."""
    cli.ok("connection", "add", name, "--url", f"sftp://{sshd.user}@127.0.0.1:{port or sshd.port}{folder}",
           "--key-file", str(sshd.client_keys["ed25519"]),
           "--accept-host-key", sshd.host_key_fingerprints["ssh-ed25519"])  # fmt: skip


def hand_over(sshd: SshdServer, folder: Path) -> None:
    """Give everything under ``folder`` (made by the test) to the SFTP login user, as if it had uploaded it."""
    if os.geteuid() != 0:
        return
    from support.testuser import ensure_test_user

    entry = ensure_test_user(sshd.user)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until ``predicate()`` is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def files_in(folder: Path) -> list[str]:
    """Visible files below ``folder`` (relative, sorted)."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def ok_rows(cli: Cli) -> list[dict[str, Any]]:
    """Log rows with status ok."""
    return json.loads(cli.ok("log", "--json", "--status", "ok", "--limit", "100000").out)


@contextlib.contextmanager
def agent(cli: Cli) -> Iterator[subprocess.Popen[str]]:
    """``transferapp agent`` in the background; stopped with SIGTERM (then SIGKILL) by its pid."""
    proc = cli.popen("agent")
    try:
        yield proc
    finally:
        stop_agent(proc)


def stop_agent(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """SIGTERM the agent and wait; SIGKILL if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
