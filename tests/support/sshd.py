"""A real OpenSSH ``sshd`` on a free loopback port, with its own keys and users, for SFTP tests."""

from __future__ import annotations

import atexit
import base64
import getpass
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from .ports import free_port
from .procs import descendant_pids, send_signal, wait_gone
from .testuser import TEST_USER, apply_password, ensure_test_user, run_checked

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "ssh-keygen"
HOST = "127.0.0.1"
#: host key file suffix -> (ssh-keygen arguments, OpenSSH key type name)
HOST_KEY_SPECS: dict[str, tuple[list[str], str]] = {
    "ed25519": (["-t", "ed25519"], "ssh-ed25519"),
    "rsa": (["-t", "rsa", "-b", "3072"], "ssh-rsa"),
    "ecdsa": (["-t", "ecdsa", "-b", "256"], "ecdsa-sha2-nistp256"),
}
CLIENT_KEY_SPECS: dict[str, list[str]] = {
    "rsa": ["-t", "rsa", "-b", "3072"],
    "ecdsa": ["-t", "ecdsa", "-b", "256"],
    "ed25519": ["-t", "ed25519"],
    "ed25519_encrypted": ["-t", "ed25519"],
}


def sshd_available() -> bool:
    """Tell whether an OpenSSH server binary and ssh-keygen are installed."""
    return os.access(SSHD, os.X_OK) and shutil.which(SSH_KEYGEN) is not None


def is_root() -> bool:
    """Tell whether the current process runs as root."""
    return os.geteuid() == 0


def pubkey_fingerprint(pub_line: str) -> tuple[str, str]:
    """Return (key type, 'SHA256:...') for one OpenSSH public key line, as ``ssh-keygen -lf`` prints it."""
    key_type, blob_b64 = pub_line.split()[:2]
    digest = hashlib.sha256(base64.b64decode(blob_b64)).digest()
    return key_type, "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


class SshdServer:
    """A real OpenSSH server (``sshd -D``) on 127.0.0.1 with fresh host keys, client keys and a login user."""

    def __init__(self, port: int | None = None) -> None:
        """Prepare (but do not start) a server; ``port`` defaults to a free loopback port."""
        self.host = HOST
        self.port = port or free_port()
        self.can_password = is_root()
        self.user = TEST_USER if self.can_password else getpass.getuser()
        self.password: str | None = None
        self.key_passphrase = secrets.token_urlsafe(12)
        self.client_keys: dict[str, Path] = {}
        self.host_key_fingerprints: dict[str, str] = {}
        self.host_public_keys: dict[str, str] = {}
        self.base_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._remote_count = 0
        atexit.register(self._atexit)

    # ----------------------------------------------------------------- paths
    def _dir(self, name: str) -> Path:
        """Return a path inside the server's private base directory."""
        if self.base_dir is None:
            raise RuntimeError("server was never started")
        return self.base_dir / name

    @property
    def log_path(self) -> Path:
        """Path of the sshd log file (LogLevel VERBOSE)."""
        return self._dir("etc/sshd.log")

    @property
    def config_path(self) -> Path:
        """Path of the generated sshd_config."""
        return self._dir("etc/sshd_config")

    @property
    def pid(self) -> int | None:
        """Process id of the listening sshd, or None when not running."""
        return self._proc.pid if self.is_running and self._proc else None

    @property
    def is_running(self) -> bool:
        """Tell whether the listener process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def log_text(self) -> str:
        """Return the sshd log so far (empty if none)."""
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, RuntimeError):
            return ""

    # ----------------------------------------------------------------- setup
    def _setup(self) -> None:
        """Create the private directories, host keys, client keys and authorized_keys once."""
        if self.base_dir is not None:
            return
        self.base_dir = Path(tempfile.mkdtemp(prefix="ta-sftp-", dir="/tmp"))
        self.base_dir.chmod(0o755)
        for sub, mode in (("etc", 0o700), ("keys", 0o700), ("auth", 0o755), ("remote", 0o755)):
            self._dir(sub).mkdir(mode=mode)
            self._dir(sub).chmod(mode)
        self._generate_host_keys()
        for name, args in CLIENT_KEY_SPECS.items():
            path = self._dir(f"keys/id_{name}")
            phrase = self.key_passphrase if name.endswith("_encrypted") else ""
            run_checked([SSH_KEYGEN, "-q", "-N", phrase, *args, "-C", f"ta-{name}", "-f", str(path)])
            self.client_keys[name] = path
        auth = self._dir("auth/authorized_keys")
        auth.write_text("".join(Path(f"{p}.pub").read_text() for p in self.client_keys.values()))
        auth.chmod(0o644)  # sshd reads it with the login user's uid

    def _generate_host_keys(self) -> None:
        """(Re)generate the ed25519, rsa and ecdsa host keys and record their fingerprints."""
        self.host_key_fingerprints.clear()
        self.host_public_keys.clear()
        for suffix, (args, key_type) in HOST_KEY_SPECS.items():
            path = self._dir(f"etc/ssh_host_{suffix}_key")
            for old in (path, Path(f"{path}.pub")):
                old.unlink(missing_ok=True)
            run_checked([SSH_KEYGEN, "-q", "-N", "", *args, "-C", "", "-f", str(path)])
            line = Path(f"{path}.pub").read_text().strip()
            got_type, fp = pubkey_fingerprint(line)
            assert got_type == key_type, (got_type, key_type)
            self.host_key_fingerprints[key_type] = fp
            self.host_public_keys[key_type] = line

    def _prepare_user(self) -> None:
        """As root: make sure the test user exists and (re)apply its password."""
        if not self.can_password:
            return
        ensure_test_user(self.user)
        self.password = apply_password(self.user)

    def _config_text(self, penalties: bool) -> str:
        """Return the sshd_config contents."""
        lines = [
            f"Port {self.port}",
            f"ListenAddress {self.host}",
            *(f"HostKey {self._dir(f'etc/ssh_host_{s}_key')}" for s in HOST_KEY_SPECS),
            f"PidFile {self._dir('etc/sshd.pid')}",
            "UsePAM no",
            "StrictModes no",
            "Subsystem sftp internal-sftp",
            f"AuthorizedKeysFile {self._dir('auth/authorized_keys')}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin no",
            f"AllowUsers {self.user}",
            "MaxSessions 64",
            "MaxStartups 100:30:200",
            "MaxAuthTries 20",
            "LogLevel VERBOSE",
            "PrintMotd no",
            "UseDNS no",
            "X11Forwarding no",
        ]
        if penalties:  # OpenSSH >= 9.8 would otherwise throttle a test client that fails auth often
            lines.append("PerSourcePenalties no")
        return "\n".join(lines) + "\n"

    def _write_config(self) -> None:
        """Write sshd_config, keeping ``PerSourcePenalties no`` only when this sshd knows it."""
        self.config_path.write_text(self._config_text(penalties=True))
        res = subprocess.run([SSHD, "-t", "-f", str(self.config_path)], capture_output=True, text=True)
        if res.returncode != 0:
            self.config_path.write_text(self._config_text(penalties=False))

    # ------------------------------------------------------------- lifecycle
    def start(self) -> SshdServer:
        """Start sshd (generating keys and users on first start) and wait until it serves a banner."""
        if self.is_running:
            return self
        if not sshd_available():
            raise RuntimeError(f"{SSHD} or {SSH_KEYGEN} is not installed")
        self._setup()
        if is_root():
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
        self._prepare_user()
        self._write_config()
        deadline = time.monotonic() + 10
        while True:
            self._dir("etc/sshd.pid").unlink(missing_ok=True)
            with open(self._dir("etc/sshd.stderr"), "ab") as err:
                self._proc = subprocess.Popen(
                    [SSHD, "-D", "-e", "-f", str(self.config_path), "-E", str(self.log_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=err,
                    stderr=err,
                    start_new_session=True,
                )
            try:
                self.wait_ready()
                return self
            except RuntimeError:
                # Port still held (e.g. right after kill()): retry until the deadline.
                if "Address already in use" not in self.log_text() or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Poll until the port accepts TCP and sends an SSH banner; raise with the sshd log otherwise."""
        deadline = time.monotonic() + timeout
        last_err = "no attempt"
        while True:
            if self._proc is None or self._proc.poll() is not None:
                rc = None if self._proc is None else self._proc.returncode
                raise RuntimeError(f"sshd exited (rc={rc}) before it was ready; log:\n{self.log_text()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                    banner = sock.recv(256)
                if banner.startswith(b"SSH-"):
                    return
                last_err = f"unexpected banner {banner!r}"
            except OSError as exc:
                last_err = repr(exc)
            if time.monotonic() > deadline:
                raise TimeoutError(f"sshd not ready on {self.host}:{self.port} ({last_err}); log:\n{self.log_text()}")
            time.sleep(0.05)

    def _is_sshd(self, pid: int) -> bool:
        """Tell whether ``pid`` still is an sshd process (guards against pid reuse)."""
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            return b"sshd" in cmd or b"sftp" in cmd or b"sshd" in Path(f"/proc/{pid}/comm").read_bytes()
        except OSError:
            return False

    def stop(self, cleanup: bool = True) -> None:
        """SIGTERM the listener (SIGKILL after 5 s), kill its sessions; remove temp dirs if ``cleanup``."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            kids = descendant_pids(proc.pid)
            send_signal(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                send_signal(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            kids = [pid for pid in kids if self._is_sshd(pid)]
            for pid in kids:  # sessions outlive a SIGTERMed listener: end them too
                send_signal(pid, signal.SIGKILL)
            wait_gone(kids)
        self._proc = None
        if cleanup:
            self.cleanup()

    def kill(self) -> None:
        """Simulate a crash: SIGKILL the listener and every per-connection sshd it spawned."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        # Freeze the tree first so nothing forks (or gets reparented) while we collect it.
        frozen: list[int] = [proc.pid]
        send_signal(proc.pid, signal.SIGSTOP)
        while True:
            new = [p for p in descendant_pids(proc.pid) if p not in frozen]
            if not new:
                break
            for pid in new:
                send_signal(pid, signal.SIGSTOP)
            frozen.extend(new)
        for pid in reversed(frozen):
            send_signal(pid, signal.SIGKILL)
        proc.wait(timeout=5)
        wait_gone(frozen[1:])

    def restart(self) -> SshdServer:
        """Start again on the same port with the same host keys, client keys and user password."""
        if self.is_running:
            self.stop(cleanup=False)
        return self.start()

    def rekey_host(self) -> SshdServer:
        """Replace all host keys with new ones (new fingerprints) and restart if running."""
        self._setup()
        self._generate_host_keys()
        return self.restart() if self.is_running else self

    def cleanup(self) -> None:
        """Remove the server's temporary directories (the server must be stopped)."""
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None
            self.client_keys.clear()

    def _atexit(self) -> None:
        """Last-resort teardown at interpreter exit."""
        if self._proc is not None and self._proc.poll() is None:
            self.kill()
        self.cleanup()

    # --------------------------------------------------------------- helpers
    def make_remote_dir(self, name: str, writable: bool = True) -> Path:
        """Create a dir the login user can write (or only read if not ``writable``); same path over SFTP."""
        self._setup()
        self._remote_count += 1
        path = self._dir("remote") / f"{self._remote_count:03d}-{name.strip('/').replace('/', '_')}"
        path.mkdir(mode=0o755)
        path.chmod(0o755)
        if writable and is_root():
            entry = ensure_test_user(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        elif not writable and not is_root():
            path.chmod(0o555)
        return path

    def known_hosts_lines(self) -> list[str]:
        """Return known_hosts lines ("[127.0.0.1]:PORT TYPE BASE64") for the current host keys."""
        prefix = f"[{self.host}]:{self.port}"
        return [f"{prefix} {' '.join(line.split()[:2])}" for line in self.host_public_keys.values()]

    def __enter__(self) -> SshdServer:
        """Start the server."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server and remove its files."""
        self.stop()

    def __repr__(self) -> str:
        """Show where the server listens."""
        return f"SshdServer({self.host}:{self.port}, user={self.user!r}, pid={self.pid})"
