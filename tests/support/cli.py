"""Run the transferapp command line as a child process, the way users' scripts do."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CliResult:
    """What a command printed and returned."""

    code: int
    out: str
    err: str


class Cli:
    """Runs ``python -m transferapp`` (or ``command``, e.g. a packaged bundle) with one app home and optional extra
    environment (e.g. a keyring)."""

    def __init__(self, home: Path, env: dict[str, str] | None = None, command: list[str] | None = None) -> None:
        self.home = home
        self.env = {**(env if env is not None else os.environ), "TRANSFERAPP_HOME": str(home)}
        self.command = command or [sys.executable, "-m", "transferapp"]

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 120) -> CliResult:
        """Run one command and return its result (never raises on a non-zero exit)."""
        proc = subprocess.run(
            [*self.command, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, stdin: str | None = None, timeout: float = 120) -> CliResult:
        """Run a command that must succeed."""
        result = self(*args, stdin=stdin, timeout=timeout)
        assert result.code == 0, f"transferapp {' '.join(args)} failed ({result.code}):\n{result.out}\n{result.err}"
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start a command in the background."""
        return subprocess.Popen(
            [*self.command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
