"""Shared helpers for the end-to-end tests: drive the CLI as a subprocess against the test sshd."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from support.sshd import SshdServer

MiB = 1 << 20
TA = [sys.executable, "-m", "transferapp"]
_BIG_FILES: dict[tuple[str, int], Path] = {}


@dataclass
class Result:
    """What one CLI run produced."""

    code: int
    out: str
    err: str
    seconds: float

    def __str__(self) -> str:
        return f"exit {self.code} after {self.seconds:.1f}s\nstdout: {self.out}\nstderr: {self.err}"


@dataclass
class Cli:
    """Runs ``python -m transferapp`` with TRANSFERAPP_HOME set; the keyring env only where asked for."""

    home: Path
    keyring_env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, keyring: bool = False) -> dict[str, str]:
        """A child environment; without ``keyring`` no D-Bus session is reachable (key logins need none)."""
        base = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
        if keyring:
            base.update(self.keyring_env)
        base.update(self.extra_env)
        base["TRANSFERAPP_HOME"] = str(self.home)
        return base

    def __call__(self, *args: str, keyring: bool = False, timeout: float = 120) -> Result:
        started = time.monotonic()
        proc = subprocess.run(
            [*TA, *args],
            env=self.env(keyring),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)

    def ok(self, *args: str, keyring: bool = False, timeout: float = 120) -> Result:
        """Run and assert exit 0."""
        result = self(*args, keyring=keyring, timeout=timeout)
        assert result.code == 0, f"transferapp {' '.join(args)}: {result}"
        return result

    def json(self, *args: str) -> Any:
        """Run a ``--json`` command and parse its output."""
        return json.loads(self.ok(*args, "--json").out)

    def log_rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Transfer-log rows, oldest first."""
        extra = ("--status", status) if status else ()
        return list(reversed(self.json("log", "--limit", "100000", *extra)))

    def queue_rows(self, everything: bool = True) -> list[dict[str, Any]]:
        """Queue rows (``--all`` by default)."""
        return self.json("queue", *(["--all"] if everything else []))

    def popen(self, *args: str, out_dir: Path) -> subprocess.Popen[bytes]:
        """Start a CLI command in the background; stdout/stderr go to files in ``out_dir``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        with open(out_dir / "stdout", "wb") as out, open(out_dir / "stderr", "wb") as err:
            return subprocess.Popen([*TA, *args], env=self.env(), stdout=out, stderr=err)

    def add_key_connection(
        self, name: str, sshd: SshdServer, folder: Path | str, *options: str, port: int | None = None
    ) -> None:
        """``connection add`` with the ed25519 client key and the server's fingerprint (needs no keyring).

        ``port``: connect there instead (a DelayProxy in front of the server).
        """
        url = sftp_url(sshd, folder, port)
        self.ok(
            "connection", "add", name, "--url", url, "--key-file", str(sshd.client_keys["ed25519"]),
            "--accept-host-key", sshd.host_key_fingerprints["ssh-ed25519"], *options,
        )  # fmt: skip


def sftp_url(sshd: SshdServer, folder: Path | str, port: int | None = None) -> str:
    """The connection URL for an absolute folder on the test server (percent-encoded)."""
    return f"sftp://{sshd.user}@127.0.0.1:{port or sshd.port}{quote(str(folder))}"


def output(out_dir: Path) -> tuple[str, str]:
    """stdout and stderr of a command started with :meth:`Cli.popen`."""
    return (out_dir / "stdout").read_text(), (out_dir / "stderr").read_text()


def sha256(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def random_file(factory: pytest.TempPathFactory, mib: int) -> Path:
    """A ``mib`` MiB file of random data (every MiB differs), made once per session and shared (read-only)."""
    key = (str(factory.getbasetemp()), mib)
    if key not in _BIG_FILES:
        path = factory.mktemp("big") / f"random-{mib}MiB.bin"
        with open(path, "wb") as handle:
            for _ in range(mib):
                handle.write(os.urandom(MiB))
        _BIG_FILES[key] = path
    return _BIG_FILES[key]


def sparse_file(path: Path, size: int) -> Path:
    """A sparse file of ``size`` zero bytes."""
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def part_files(folder: Path, name: str) -> list[Path]:
    """Temporary upload/download files for ``name`` in ``folder`` (``.NAME.<tag>.part`` or ``.NAME.part``)."""
    return sorted(folder.glob(f".{glob.escape(name)}.*part"))


def size_of(path: Path) -> int | None:
    """The size of ``path``, or None when it does not exist."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.005) -> Any:
    """Poll until ``predicate()`` is truthy and return it; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_part_grown(folder: Path, name: str, min_bytes: int, proc: subprocess.Popen[bytes], timeout: float) -> Path:
    """Wait until a part file of ``name`` holds at least ``min_bytes``; fail if ``proc`` ended first."""

    def grown() -> Path | None:
        if proc.poll() is not None:
            pytest.fail(f"the transfer ended (exit {proc.returncode}) before its part file grew to {min_bytes}")
        for part in part_files(folder, name):
            if (size_of(part) or 0) >= min_bytes:
                return part
        return None

    return wait_for(grown, timeout, f"a part file of {name} with {min_bytes} bytes", interval=0.002)


def finish(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """Wait for a background command; kill it (by pid) and fail when it takes longer than ``timeout``."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process(proc)
        pytest.fail(f"the command did not finish within {timeout}s")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a background command we started (if still running) and reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def background(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Make sure a background command is gone when the block ends, whatever happened."""
    try:
        yield proc
    finally:
        stop_process(proc)


@contextlib.contextmanager
def server_back_up(sshd: SshdServer) -> Iterator[SshdServer]:
    """Whatever happens in the block, the shared sshd is running again afterwards (other tests need it)."""
    try:
        yield sshd
    finally:
        if not sshd.is_running:
            sshd.restart()


class Watcher:
    """A thread sampling the sizes of the files ``paths()`` names until stopped (absent files are skipped)."""

    def __init__(self, paths: Callable[[], list[Path]], interval: float = 0.002) -> None:
        self._paths = paths
        self._interval = interval
        self._stop = threading.Event()
        self.samples: list[tuple[float, Path, int]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for path in self._paths():
                size = size_of(path)
                if size is not None:
                    self.samples.append((now, path, size))
            time.sleep(self._interval)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def sizes(self, since: float = 0.0, until: float = float("inf")) -> list[int]:
        """Sizes seen from monotonic time ``since`` up to (not including) ``until``."""
        return [size for at, _, size in self.samples if since <= at < until]


class LogTail:
    """Follows a growing text file (the sshd log) from the moment it is created."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = path.stat().st_size

    def lines(self, text: str) -> list[str]:
        """The complete lines containing ``text`` appended since the last call (or since creation)."""
        with open(self._path, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        return [line for line in complete.decode(errors="replace").splitlines() if text in line]

    def wait_for(self, text: str, timeout: float) -> str:
        """Wait until a line containing ``text`` is appended; return it."""
        return wait_for(lambda: next(iter(self.lines(text)), None), timeout, f"{text!r} in the log", interval=0.001)
