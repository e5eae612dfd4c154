"""Shared benchmark setup: a real sshd or nginx WebDAV, isolated transferapp homes, timed runs, checks, reports.

Every benchmark runs transferapp and the reference tool (OpenSSH ``sftp``, or ``curl`` for WebDAV) in the same
run against the same server and reports the speed ratio (reference time / our time, so > 1 means transferapp
is faster), because the machine is shared and absolute times drift.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TESTS_DIR = REPO / "tests"
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from support.delay_proxy import DelayProxy  # noqa: E402
from support.keyring_session import KeyringSession, keyring_tools_available  # noqa: E402
from support.nginx_dav import NginxDav, nginx_available  # noqa: E402
from support.sshd import SshdServer  # noqa: E402

TRANSFERAPP = Path(sys.executable).parent / "transferapp"
OUT_DIR = REPO / "bench" / "out"
RESULTS_FILE = OUT_DIR / "results.jsonl"
MIB = 1 << 20
KIB = 1 << 10
DEFAULT_TIMEOUT = 900.0
_CODE_AT_START: dict[str, Any] | None = None  # the transferapp code a benchmark started with
SFTP_OPTIONS = ("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes")
CURL = "curl"


@dataclass(frozen=True)
class Reference:
    """The reference tool a benchmark compares transferapp with, as named in result lines and JSON keys."""

    name: str  # the tool in result lines, e.g. "OpenSSH sftp"
    short: str  # after the ratio: "0.93 x OpenSSH"
    key: str  # prefix of its JSON fields: "openssh_s", "openssh_runs_s", ...
    processes: str  # what its CPU and memory figures cover


OPENSSH = Reference("OpenSSH sftp", "OpenSSH", "openssh", "OpenSSH sftp+ssh")
CURL_REF = Reference("curl", "curl", "curl", "curl")


@dataclass
class RunResult:
    """How one child process went: wall time, CPU time (user + system), peak resident memory and its output."""

    seconds: float
    cpu_s: float
    max_rss_bytes: int
    stdout: str
    stderr: str


@dataclass
class AppHome:
    """An isolated transferapp installation (``TRANSFERAPP_HOME``) with one connection in it."""

    path: Path
    connection: str
    options: dict[str, int] = field(default_factory=dict)
    base_env: dict[str, str] | None = None  # e.g. a private keyring's variables; default: this process's

    @property
    def env(self) -> dict[str, str]:
        """The environment for transferapp commands that use this home."""
        base = os.environ if self.base_env is None else self.base_env
        return {**base, "TRANSFERAPP_HOME": str(self.path)}

    def send_cmd(self, *paths: Path) -> list[str]:
        """The ``transferapp send`` command line for ``paths`` to this home's connection."""
        return [str(TRANSFERAPP), "send", *map(str, paths), "--to", self.connection]

    def send(self, *paths: Path) -> RunResult:
        """Run ``transferapp send`` for ``paths`` and return how it went (raises when it fails)."""
        return run_cmd(self.send_cmd(*paths), env=self.env)

    def pull_cmd(self, pattern: str, target: Path, remote_dir: str | None = None) -> list[str]:
        """The ``transferapp pull`` command line fetching ``pattern`` from this home's connection into ``target``."""
        cmd = [str(TRANSFERAPP), "pull", self.connection, pattern, "--to", str(target)]
        return cmd + (["--remote-dir", remote_dir] if remote_dir else [])

    def pull(self, pattern: str, target: Path, remote_dir: str | None = None) -> RunResult:
        """Run ``transferapp pull`` and return how it went (raises when it fails)."""
        return run_cmd(self.pull_cmd(pattern, target, remote_dir), env=self.env)


def run_cmd(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
) -> RunResult:
    """Run ``cmd`` with ``stdin`` fed to it (if given); raise on failure.

    Wall time, CPU and peak RSS are those of the child (and the children it reaped), via wait4.
    """
    with tempfile.TemporaryFile() as inp, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        inp.write(stdin or b"")
        inp.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=inp if stdin is not None else subprocess.DEVNULL, stdout=out, stderr=err, env=env
        )
        timer = threading.Timer(timeout, _kill_child, args=(proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # e.g. Ctrl-C: do not leave the child running
            _kill_child(proc.pid)
            os.waitpid(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            raise
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        text = [f.read().decode(errors="replace") for f in (out, err)]
        result = RunResult(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, *text)
    if proc.returncode != 0:
        raise RuntimeError(
            f"command failed (exit {proc.returncode}, {seconds:.1f} s): {' '.join(cmd)}\n"
            f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
        )
    return result


def _kill_child(pid: int) -> None:
    """Kill one timed-out child of ours by its pid."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass
class Comparison:
    """The runs of both tools in one benchmark, interleaved so drift hits both alike."""

    ours: list[RunResult] = field(default_factory=list)
    ref: list[RunResult] = field(default_factory=list)
    reference: Reference = OPENSSH

    @property
    def ours_s(self) -> float:
        """Median transferapp wall time."""
        return statistics.median(r.seconds for r in self.ours)

    @property
    def ref_s(self) -> float:
        """Median wall time of the reference tool."""
        return statistics.median(r.seconds for r in self.ref)

    def timings(self) -> dict[str, list[float]]:
        """Every wall and CPU time, for the JSON record."""
        return {
            "transferapp_runs_s": [round(r.seconds, 4) for r in self.ours],
            "transferapp_cpu_s": [round(r.cpu_s, 4) for r in self.ours],
            f"{self.reference.key}_runs_s": [round(r.seconds, 4) for r in self.ref],
            f"{self.reference.key}_cpu_s": [round(r.cpu_s, 4) for r in self.ref],
        }

    def summary(self) -> str:
        """How many runs the medians cover and the clients' median CPU time (user + system), for the note."""
        ours = statistics.median(r.cpu_s for r in self.ours)
        ref = statistics.median(r.cpu_s for r in self.ref)
        return (
            f"median of {len(self.ours)}; client CPU: transferapp {ours:.2f} s, {self.reference.processes} {ref:.2f} s"
        )


def compare(
    repeat: int,
    ours: Callable[[], RunResult],
    ref: Callable[[], RunResult],
    before: Callable[[], None],
    reference: Reference = OPENSSH,
) -> Comparison:
    """Run ``ours`` then ``ref`` ``repeat`` times (``before()`` ahead of every run); medians are on the result."""
    result = Comparison(reference=reference)
    for _ in range(max(1, repeat)):
        before()
        result.ours.append(ours())
        before()
        result.ref.append(ref())
    return result


class _ScratchEnv:
    """A scratch folder, a private keyring and isolated transferapp homes; subclasses add the server."""

    def __init__(self) -> None:
        """Prepare (nothing starts until ``__enter__``)."""
        self.keyring = KeyringSession()
        self.scratch = Path(tempfile.mkdtemp(prefix="ta-bench-"))
        self._homes = 0
        self._stack = contextlib.ExitStack()

    def _start_keyring(self) -> None:
        """Start the private keyring (stopped again on exit)."""
        self._stack.callback(self.keyring.stop)
        self.keyring.start()

    def _started(self) -> None:
        """Remember which transferapp code this benchmark started with (``report`` warns when it changes)."""
        global _CODE_AT_START
        _CODE_AT_START = code_state()

    def __exit__(self, *exc: object) -> None:
        """Stop every process this environment started and remove its files."""
        self._stack.close()

    def _new_home(self, options: dict[str, int | None], base_env: dict[str, str] | None = None) -> AppHome:
        """A new, empty transferapp home with connection ``bench`` (not yet added) and the options that are set."""
        self._homes += 1
        home = AppHome(self.scratch / f"home-{self._homes}", "bench", {k: v for k, v in options.items() if v}, base_env)
        home.path.mkdir()
        return home

    @staticmethod
    def _option_args(home: AppHome) -> list[str]:
        """``connection add`` flags for the home's options."""
        return [arg for key, value in home.options.items() for arg in (f"--{key}", str(value))]


class BenchEnv(_ScratchEnv):
    """A running sshd, a private keyring (only for ``connection add``) and a scratch folder; a context manager."""

    def __init__(self) -> None:
        """Prepare (nothing starts until ``__enter__``)."""
        super().__init__()
        self.server = SshdServer()

    def __enter__(self) -> BenchEnv:
        """Start sshd and the keyring; everything is stopped again on exit."""
        self._stack.callback(shutil.rmtree, self.scratch, ignore_errors=True)
        self._stack.callback(self.server.stop)
        self.server.start()
        # Some versions of `transferapp connection add` insist on an OS keyring even for unencrypted key files.
        if keyring_tools_available():
            self._start_keyring()
        self._started()
        return self

    @property
    def key(self) -> Path:
        """The authorized (unencrypted) Ed25519 client key."""
        return Path(self.server.client_keys["ed25519"])

    def remote_dir(self, name: str) -> Path:
        """A fresh remote folder the SFTP user owns (same path locally and over SFTP)."""
        return Path(self.server.make_remote_dir(name))

    @contextlib.contextmanager
    def proxy(self, delay_ms_one_way: float) -> Iterator[DelayProxy]:
        """A delay proxy to the sshd for the duration of the ``with`` block."""
        proxy = DelayProxy(self.server.host, self.server.port, delay_ms_one_way).start()
        try:
            yield proxy
        finally:
            proxy.stop()

    def app(self, remote: Path, port: int | None = None, **options: int | None) -> AppHome:
        """A new isolated transferapp home with connection ``bench`` to ``remote`` (via ``port`` if given)."""
        home = self._new_home(options)
        url = f"sftp://{self.server.user}@{self.server.host}:{port or self.server.port}{remote}"
        cmd = [str(TRANSFERAPP), "connection", "add", home.connection, "--url", url]
        cmd += ["--key-file", str(self.key), "--trust-new-host-key", *self._option_args(home)]
        run_cmd(cmd, env=self.keyring.child_env(TRANSFERAPP_HOME=str(home.path)), timeout=60)
        return home

    def sftp(self, batch_lines: list[str], port: int | None = None) -> RunResult:
        """Run OpenSSH ``sftp -b`` with these batch lines against the server (via ``port`` if given)."""
        batch = self.scratch / "sftp-batch.txt"
        batch.write_text("".join(f"{line}\n" for line in batch_lines))
        cmd = ["sftp", "-q", "-b", str(batch), "-i", str(self.key), *SFTP_OPTIONS]
        cmd += ["-P", str(port or self.server.port), f"{self.server.user}@{self.server.host}"]
        return run_cmd(cmd)


class DavBenchEnv(_ScratchEnv):
    """nginx WebDAV (plain http on loopback, Basic auth), a private keyring for the password and a scratch folder.

    transferapp keeps a connection's password only in the OS keyring, so the keyring is required here and every
    transferapp command runs with its variables. ``curl`` is the reference client.
    """

    def __init__(self) -> None:
        """Prepare (nothing starts until ``__enter__``)."""
        super().__init__()
        self.dav = NginxDav()
        self._via: int | None = None  # a delay proxy's port, while one is in use
        self.link = "loopback"  # how the result lines name the network between client and server

    def __enter__(self) -> DavBenchEnv:
        """Start nginx and the keyring; everything is stopped again on exit (or when one of them fails to start)."""
        self._stack.callback(shutil.rmtree, self.scratch, ignore_errors=True)
        try:
            if not nginx_available():
                raise RuntimeError("nginx with the dav-ext module is not installed (Debian: libnginx-mod-http-dav-ext)")
            if not keyring_tools_available():
                raise RuntimeError("a password connection needs the OS keyring: install dbus and gnome-keyring")
            if shutil.which(CURL) is None:
                raise RuntimeError("curl, the reference client, is not installed")
            self._stack.callback(self.dav.stop)
            self.dav.start()
            self._start_keyring()
        except BaseException:
            self._stack.close()
            raise
        self._started()
        return self

    def remote_dir(self, name: str) -> Path:
        """A fresh, empty folder ``/dav/<name>`` the server can write; returns its local path."""
        folder = self.dav.make_folder(name)
        clean_dir(folder)
        return folder

    @property
    def port(self) -> int:
        """The port clients use: nginx's, or a delay proxy's in front of it (``via``)."""
        return self._via or self.dav.port

    @contextlib.contextmanager
    def via_delay(self, delay_ms_one_way: float) -> Iterator[DelayProxy | None]:
        """Within the block, transferapp and curl reach nginx through a delay proxy (none when the delay is 0)."""
        if delay_ms_one_way <= 0:
            yield None
            return
        proxy = DelayProxy(self.dav.host, self.dav.port, delay_ms_one_way).start()
        self._via, self.link = proxy.port, f"{2 * delay_ms_one_way:g} ms round trip"
        try:
            yield proxy
        finally:
            self._via, self.link = None, "loopback"
            proxy.stop()

    def url(self, path: str = "/") -> str:
        """The http URL of ``path`` below ``/dav/`` as clients reach it (through the proxy when one is in use)."""
        return self.dav.url(path).replace(f":{self.dav.port}/", f":{self.port}/", 1)

    def app(self, folder: str, **options: int | None) -> AppHome:
        """A new isolated transferapp home with connection ``bench`` to ``webdav://USER@HOST:PORT/dav/<folder>``.

        The password is passed on stdin (``--password-stdin``) and lands in the private keyring.
        """
        home = self._new_home(options, base_env=self.keyring.child_env())
        url = f"webdav://{self.dav.user}@{self.dav.host}:{self.port}/dav/{folder.strip('/')}"
        cmd = [str(TRANSFERAPP), "connection", "add", home.connection, "--url", url, "--password-stdin"]
        run_cmd(cmd + self._option_args(home), env=home.env, timeout=60, stdin=f"{self.dav.password}\n".encode())
        return home

    def curl(self, *args: str) -> RunResult:
        """Run ``curl`` with the server's user and password (``-u``), failing on HTTP errors."""
        return run_cmd([CURL, "-sS", "--fail", "-u", f"{self.dav.user}:{self.dav.password}", *args])

    def curl_config(self, lines: list[str]) -> RunResult:
        """Run one ``curl --config`` invocation with these lines (all transfers share curl's connection cache)."""
        config = self.scratch / "curl-config.txt"
        config.write_text("".join(f"{line}\n" for line in lines))
        return run_cmd([CURL, "-sS", "--fail", "--fail-early", "--config", str(config)])

    def access_log_lines(self) -> int:
        """How many requests nginx has logged so far (one line each)."""
        assert self.dav.base_dir is not None
        try:
            with open(self.dav.base_dir / "logs" / "access.log", "rb") as handle:
                return sum(1 for _ in handle)
        except FileNotFoundError:
            return 0


def write_random_file(path: Path, size: int, chunk: int = 8 * MIB) -> Path:
    """Write ``size`` random bytes to ``path`` in chunks and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        left = size
        while left > 0:
            handle.write(os.urandom(min(chunk, left)))
            left -= chunk
    return path


def write_small_files(folder: Path, count: int, size: int) -> list[Path]:
    """Write ``count`` random files of ``size`` bytes into ``folder`` (100 per subfolder) and return them."""
    files = []
    for i in range(count):
        path = folder / f"d{i // 100:03d}" / f"file-{i:05d}.bin"
        write_random_file(path, size)
        files.append(path)
    return files


def copy_subset(files: list[Path], source_root: Path, target_root: Path) -> list[Path]:
    """Hard-link ``files`` (under ``source_root``) to the same layout under ``target_root``; return the links."""
    links = []
    for file in files:
        link = target_root / file.relative_to(source_root)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.link(file, link)
        links.append(link)
    return links


def sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(4 * MIB):
            digest.update(block)
    return digest.hexdigest()


def local_sha256(path: Path) -> str:
    """The SHA-256 of a local source file, computed once while its size and mtime stay the same."""
    info = path.stat()
    return _cached_sha256(path, info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _cached_sha256(path: Path, size: int, mtime_ns: int) -> str:
    """Hash a file; size and mtime only key the cache."""
    return sha256_file(path)


def verify_tree(local_root: Path, remote_root: Path, files: list[Path], checksum: bool = False) -> None:
    """Check each local file (under ``local_root``) arrived under ``remote_root`` with its size (and hash)."""
    problems = []
    for file in files:
        remote = remote_root / file.relative_to(local_root)
        if not remote.is_file():
            problems.append(f"missing {remote}")
        elif remote.stat().st_size != file.stat().st_size:
            problems.append(f"size {remote.stat().st_size} != {file.stat().st_size} for {remote}")
        elif checksum and sha256_file(remote) != local_sha256(file):
            problems.append(f"sha256 differs for {remote}")
    leftovers = [p.name for p in remote_root.rglob("*.part")]
    if leftovers:
        problems.append(f"temporary files left: {leftovers[:5]}")
    if problems:
        raise RuntimeError(f"upload check failed ({len(problems)} problems): {problems[:5]}")


def clean_dir(folder: Path) -> None:
    """Remove everything inside ``folder`` but keep the folder (and its owner)."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def format_seconds(seconds: float) -> str:
    """Seconds with two decimals below 100 s, one above."""
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.1f} s"


def mib_per_s(size: int, seconds: float) -> str:
    """Throughput as 'N MiB/s'."""
    return f"{size / MIB / seconds:.1f} MiB/s" if seconds > 0 else "inf MiB/s"


def add_repeat_arg(parser: argparse.ArgumentParser, default: int) -> None:
    """Add ``--repeat N``: runs per tool, the median counts."""
    parser.add_argument(
        "--repeat", type=int, default=default, help=f"runs per tool; the median counts (default {default})"
    )


def report(
    name: str,
    ours_s: float,
    ref_s: float,
    goal: float | None,
    note: str = "",
    extra: dict[str, Any] | None = None,
    reference: Reference = OPENSSH,
) -> float:
    """Print one result line (ratio = reference time / our time) and append it to bench/out/results.jsonl.

    ``goal`` None means no goal was set for this case: the line and the record then only inform.
    """
    ratio = ref_s / ours_s if ours_s > 0 else float("inf")
    meets = None if goal is None else ratio >= goal
    verdict = "(no goal set)" if goal is None else f"(goal >= {goal:.1f} x) [{'ok' if meets else 'BELOW GOAL'}]"
    line = (
        f"{name}: transferapp {format_seconds(ours_s)}, {reference.name} {format_seconds(ref_s)} "
        f"-> {ratio:.2f} x {reference.short} {verdict}"
    )
    code = code_state()
    parts = [note] if note else []
    if _CODE_AT_START is not None and code != _CODE_AT_START:
        parts.append(f"WARNING: transferapp code changed during this benchmark (was {_CODE_AT_START['tree']})")
    parts.append(f"code {code['commit']}" + (f" + local changes {code['tree']}" if code["dirty"] else ""))
    note = "; ".join(parts)
    print(f"{line}\n    {note}", flush=True)
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "name": name,
        "transferapp_s": round(ours_s, 4),
        f"{reference.key}_s": round(ref_s, 4),
        "reference": reference.name,
        "ratio": round(ratio, 4),
        "goal": goal,
        "meets_goal": meets,
        "note": note,
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "code": code,
        **(extra or {}),
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with open(RESULTS_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    return ratio


def _git(*args: str) -> bytes:
    """Output of a read-only git command in the repository (b'' when git fails)."""
    res = subprocess.run(["git", "--no-optional-locks", "-C", str(REPO), *args], capture_output=True)
    return res.stdout if res.returncode == 0 else b""


def code_state() -> dict[str, Any]:
    """Which transferapp code is measured: HEAD, whether transferapp/ has local changes, and their digest."""
    diff = _git("diff", "HEAD", "--", "transferapp")
    untracked = _git("ls-files", "--others", "--exclude-standard", "--", "transferapp").split()
    digest = hashlib.sha256(diff)
    for name in untracked:
        with contextlib.suppress(OSError):  # a file may vanish while it is being edited
            digest.update(name + b"\0" + (REPO / name.decode()).read_bytes())
    return {
        "commit": _git("rev-parse", "--short", "HEAD").decode().strip(),
        "dirty": bool(diff or untracked),
        "tree": digest.hexdigest()[:12],
    }
