"""A private D-Bus session bus with an unlocked gnome-keyring Secret Service, for keyring tests."""

from __future__ import annotations

import os
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

DBUS_DAEMON = "dbus-daemon"
GNOME_KEYRING = "gnome-keyring-daemon"
SECRETS_NAME = "org.freedesktop.secrets"
#: Removed from the daemons' environment so they never find or reach a real desktop session/keyring.
DAEMON_SCRUBBED_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL", "PYTHON_KEYRING_BACKEND")
#: Removed for keyring clients (children and, while active, this process) so nothing forces another backend.
SCRUBBED_VARS = ("PYTHON_KEYRING_BACKEND",)

# A session bus without service directories: nothing gets auto-activated (no stray keyring daemons).
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def keyring_tools_available() -> bool:
    """Tell whether dbus-daemon, dbus-send and gnome-keyring-daemon are installed."""
    return all(shutil.which(t) for t in (DBUS_DAEMON, "dbus-send", GNOME_KEYRING))


def _stop_process(proc: subprocess.Popen[Any] | None, timeout: float = 5.0) -> None:
    """SIGTERM a child by its pid, SIGKILL it if it does not exit in ``timeout``, and reap it."""
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


class KeyringSession:
    """A private ``dbus-daemon`` + ``gnome-keyring-daemon --unlock`` whose login collection is the default."""

    def __init__(self, password: str | None = None) -> None:
        """Prepare (but do not start) a session; ``password`` unlocks the login keyring (random if None)."""
        self.password = password or secrets.token_urlsafe(16)
        self.base_dir: Path | None = None
        self.bus_address: str | None = None
        self.env: dict[str, str] = {}
        self._dbus: subprocess.Popen[bytes] | None = None
        self._keyring: subprocess.Popen[bytes] | None = None
        self._saved_env: dict[str, str | None] | None = None
        self._saved_keyring: Any = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> KeyringSession:
        """Start the bus and the Secret Service and wait until ``org.freedesktop.secrets`` is owned."""
        if self._dbus is not None:
            return self
        if not keyring_tools_available():
            raise RuntimeError("dbus-daemon, dbus-send or gnome-keyring-daemon is not installed")
        base = Path(tempfile.mkdtemp(prefix="ta-keyring-"))
        self.base_dir = base
        dirs = {name: base / name for name in ("home", "data", "config", "cache", "runtime")}
        for path in dirs.values():
            path.mkdir(mode=0o700)
        (base / "bus.conf").write_text(_BUS_CONFIG.format(socket=dirs["runtime"] / "bus"))
        try:
            self._start_bus(base)
            self.env = {
                "DBUS_SESSION_BUS_ADDRESS": str(self.bus_address),
                "XDG_RUNTIME_DIR": str(dirs["runtime"]),
            }
            daemon_env = {k: v for k, v in self.child_env().items() if k not in DAEMON_SCRUBBED_VARS}
            daemon_env.update(  # a private HOME and XDG dirs: the real user's keyrings are never touched
                HOME=str(dirs["home"]),
                XDG_DATA_HOME=str(dirs["data"]),
                XDG_CONFIG_HOME=str(dirs["config"]),
                XDG_CACHE_HOME=str(dirs["cache"]),
            )
            with open(base / "gnome-keyring.log", "ab") as log:
                self._keyring = subprocess.Popen(
                    [GNOME_KEYRING, "--foreground", "--unlock", "--components=secrets"],
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=log,
                    env=daemon_env,
                    start_new_session=True,
                )
            assert self._keyring.stdin is not None
            self._keyring.stdin.write(self.password.encode())
            self._keyring.stdin.close()
            self._wait_for_secrets()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_bus(self, base: Path) -> None:
        """Run the private dbus-daemon and read its address from stdout."""
        with open(base / "dbus.log", "ab") as log:
            self._dbus = subprocess.Popen(
                [DBUS_DAEMON, f"--config-file={base / 'bus.conf'}", "--nofork", "--print-address=1"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        assert self._dbus.stdout is not None
        ready, _, _ = select.select([self._dbus.stdout], [], [], 10)
        line = self._dbus.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("unix:"):
            raise RuntimeError(f"dbus-daemon printed no address ({line!r}); log: {self.log_text()}")
        self.bus_address = line

    def _name_has_owner(self) -> bool:
        """Ask the private bus whether the Secret Service name is owned."""
        res = subprocess.run(
            [
                "dbus-send", "--session", "--dest=org.freedesktop.DBus", "--type=method_call",
                "--print-reply", "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                f"string:{SECRETS_NAME}",
            ],
            env=self.child_env(),
            capture_output=True,
            text=True,
            timeout=5,
        )  # fmt: skip
        return res.returncode == 0 and "boolean true" in res.stdout

    def _wait_for_secrets(self, timeout: float = 10.0) -> None:
        """Poll up to ``timeout`` seconds until gnome-keyring owns ``org.freedesktop.secrets``."""
        deadline = time.monotonic() + timeout
        while not self._name_has_owner():
            if self._keyring is not None and self._keyring.poll() is not None:
                raise RuntimeError(f"gnome-keyring-daemon exited early; log: {self.log_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{SECRETS_NAME} never appeared on the bus; log: {self.log_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Deactivate, stop gnome-keyring and the bus by pid, and remove the temp dir."""
        self.deactivate()
        _stop_process(self._keyring)
        _stop_process(self._dbus)
        if self._dbus is not None and self._dbus.stdout is not None:
            self._dbus.stdout.close()
        self._keyring = self._dbus = None
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None
        self.env = {}

    @property
    def is_running(self) -> bool:
        """Tell whether both daemons are alive."""
        procs = (self._dbus, self._keyring)
        return all(p is not None and p.poll() is None for p in procs)

    def log_text(self) -> str:
        """Return the daemons' logs (for error messages)."""
        if self.base_dir is None:
            return ""
        parts = []
        for name in ("dbus.log", "gnome-keyring.log"):
            path = self.base_dir / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')}")
        return "\n".join(parts)

    # ------------------------------------------------------------ using it
    def child_env(self, base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
        """Return a full environment for a child process: ``base`` (default os.environ) + ``.env``."""
        env = dict(os.environ if base is None else base)
        for var in SCRUBBED_VARS:
            env.pop(var, None)
        env.update(self.env)
        env.update(extra)
        return env

    def activate(self) -> None:
        """Point this process's environment and ``keyring`` at the private Secret Service."""
        import keyring
        from keyring.backends import SecretService

        if self._saved_env is not None:
            return
        self._saved_keyring = keyring.get_keyring()  # before touching the env: whatever was in use
        self._saved_env = {var: os.environ.get(var) for var in (*self.env, *SCRUBBED_VARS)}
        for var in SCRUBBED_VARS:
            os.environ.pop(var, None)
        os.environ.update(self.env)
        keyring.set_keyring(SecretService.Keyring())

    def deactivate(self) -> None:
        """Undo :meth:`activate`: restore environment variables and the previous keyring backend."""
        if self._saved_env is None:
            return
        import keyring

        for var, value in self._saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        keyring.set_keyring(self._saved_keyring)
        self._saved_env = self._saved_keyring = None

    def __enter__(self) -> KeyringSession:
        """Start the session."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the session."""
        self.stop()
