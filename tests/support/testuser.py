"""The dedicated local login user for SFTP tests (root only) and its shared random password."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import pwd
import secrets
import subprocess
from pathlib import Path

TEST_USER = "tatest"
#: Root-only state shared by every test process on the machine (tmpfs, gone at reboot).
STATE_DIR = Path("/run/ta-sftp")
_password: str | None = None


def run_checked(cmd: list[str], stdin: str | None = None) -> None:
    """Run a helper command and raise with its output when it fails."""
    res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({res.returncode}): {res.stdout}{res.stderr}")


def ensure_test_user(name: str = TEST_USER) -> pwd.struct_passwd:
    """Create the dedicated local login user once (``useradd -m -s /bin/sh``) and return its entry."""
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(name)
    res = subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], capture_output=True, text=True, check=False)
    if res.returncode not in (0, 9):  # 9: created concurrently by another process
        raise RuntimeError(f"useradd {name} failed: {res.stderr}")
    return pwd.getpwnam(name)


def _pid_alive(pid: int) -> bool:
    """Tell whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release(holder: Path) -> None:
    """Drop this process's claim on the shared password."""
    holder.unlink(missing_ok=True)


def apply_password(name: str = TEST_USER) -> str:
    """Set (chpasswd) and return the user's password: new and random unless another live process uses it.

    Every server in one process, and concurrent test processes (e.g. two pytest runs), share one
    password so they do not lock each other out; it is rotated whenever no other holder is alive.
    """
    global _password
    STATE_DIR.mkdir(mode=0o700, exist_ok=True)
    pw_file = STATE_DIR / f"{name}.password"
    with open(STATE_DIR / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _password is None:
            others = [
                h for h in STATE_DIR.glob(f"{name}.holder-*")
                if int(h.name.rpartition("-")[2]) != os.getpid() and _pid_alive(int(h.name.rpartition("-")[2]))
            ]  # fmt: skip
            if others and pw_file.exists():
                _password = pw_file.read_text().strip()
            else:
                _password = secrets.token_urlsafe(18)
                fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(_password)
            holder = STATE_DIR / f"{name}.holder-{os.getpid()}"
            holder.touch()
            atexit.register(_release, holder)
        run_checked(["chpasswd"], stdin=f"{name}:{_password}\n")
    return _password
