"""``transferapp --self-test``: prove that an installation (a venv or a packaged bundle) has every part it needs.

One check per stack: the version metadata, Qt (through ``transferapp.gui.selftest``, imported lazily: the core
never imports Qt), the keyring backends, OpenPGP, SFTP, WebDAV/TLS and SQLite. Each check works in memory or in a
temporary folder: it never reads or writes the user's data folder, and never needs a network, a display or a
running keyring daemon.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its name, whether it passed, and what it found (or why it failed)."""

    name: str
    ok: bool
    detail: str
    seconds: float

    def line(self) -> str:
        """The line ``--self-test`` prints: 'ok   qt: ...' or 'FAIL qt: ...'."""
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def frozen() -> bool:
    """Whether this process runs from a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def check_version() -> str:
    """The version comes from the package metadata (pyproject.toml), also inside a bundle."""
    from transferapp import __version__

    if __version__.endswith("+source"):
        raise RuntimeError(f"no package metadata for transferapp (version {__version__})")
    where = "bundle" if frozen() else "venv"
    return f"transferapp {__version__} ({where}, Python {sys.version.split()[0]})"


def check_qt() -> str:
    """PySide6 loads, a QApplication starts offscreen, the compiled forms and resources load, a MainWindow builds."""
    from transferapp.gui.selftest import check_qt as gui_check

    return gui_check()


def expected_keyring_backends() -> tuple[str, ...]:
    """The keyring backend modules this OS needs bundled."""
    if sys.platform == "win32":
        return ("keyring.backends.Windows",)
    if sys.platform == "darwin":
        return ("keyring.backends.macOS",)
    return ("keyring.backends.SecretService", "secretstorage", "jeepney")


def check_keyring() -> str:
    """The OS keyring backends are there; a running daemon is reported but not required."""
    import importlib

    import keyring
    from keyring.backend import get_all_keyring

    for module in expected_keyring_backends():
        importlib.import_module(module)
    viable = sorted(type(b).__module__.rsplit(".", 1)[-1] + "." + type(b).__name__ for b in get_all_keyring())
    active = keyring.get_keyring()
    active_name = type(active).__module__.rsplit(".", 1)[-1] + "." + type(active).__name__
    usable = active_name.split(".")[0].lower() not in ("fail", "null")
    state = "usable" if usable else "no keyring daemon running here (backends bundled; secrets need one)"
    return f"keyring {_version('keyring')}, backend {active_name}: {state}; viable: {', '.join(viable) or 'none'}"


def check_openpgp() -> str:
    """pysequoia generates a key and round-trips a few bytes through encrypt and decrypt, in memory."""
    import pysequoia

    tsk = pysequoia.Tsk.generate("transferapp self-test <self-test@localhost>")
    cert = tsk.extract_certificate()
    message = pysequoia.encrypt(b"transferapp self-test", recipients=[cert], armor=False)
    plain = pysequoia.decrypt(message, decryptor=tsk.decryptor(None)).bytes
    if plain != b"transferapp self-test":
        raise RuntimeError("decrypting gave other bytes than were encrypted")
    return f"pysequoia {_version('pysequoia')}: key generated, {len(message)}-byte message encrypted and decrypted"


def check_sftp() -> str:
    """paramiko loads and makes an Ed25519 key from bytes (through cryptography)."""
    import io

    import paramiko
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
        .decode()
    )
    key = paramiko.Ed25519Key.from_private_key(io.StringIO(pem))
    return f"paramiko {paramiko.__version__}: {key.get_name()} key parsed ({key.fingerprint})"


def check_webdav() -> str:
    """httpx loads and a TLS context with the system and certifi CA stores builds."""
    import ssl

    import certifi
    import httpx

    context = ssl.create_default_context()
    context.load_verify_locations(certifi.where())
    count = len(context.get_ca_certs())
    if count == 0:
        raise RuntimeError(f"no CA certificates were loaded (certifi bundle {certifi.where()})")
    return f"httpx {httpx.__version__}, {ssl.OPENSSL_VERSION}: {count} CA certificates loaded"


def check_sqlite() -> str:
    """The app's store creates its schema in a fresh database in a temporary folder and counts the log."""
    import sqlite3

    from transferapp.store.db import Database
    from transferapp.store.log import TransferLog
    from transferapp.store.log_filter import LogFilter

    with tempfile.TemporaryDirectory(prefix="transferapp-selftest-") as folder:
        db = Database(Path(folder) / "selftest.sqlite3")
        try:
            rows = TransferLog(db).count(LogFilter())
        finally:
            db.close()
    return f"SQLite {sqlite3.sqlite_version}: store created, log has {rows} rows"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "(no metadata)"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("version", check_version),
    ("qt", check_qt),
    ("keyring", check_keyring),
    ("openpgp", check_openpgp),
    ("sftp", check_sftp),
    ("webdav", check_webdav),
    ("sqlite", check_sqlite),
)


def run_checks() -> list[CheckResult]:
    """Run every check; a check that raises fails with the exception's first line."""
    results = []
    for name, check in CHECKS:
        start = time.perf_counter()
        try:
            detail, ok = check(), True
        except BaseException as exc:  # noqa: BLE001 - a missing module or a broken library is what this finds
            if isinstance(exc, KeyboardInterrupt):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            detail, ok = f"{type(exc).__name__}: {first}".rstrip(": "), False
        results.append(CheckResult(name, ok, detail, time.perf_counter() - start))
    return results


def main(out: TextIO | None = None) -> int:
    """Print one line per check; 0 when every check passed, 1 otherwise."""
    out = out or sys.stdout
    results = run_checks()
    for result in results:
        print(result.line(), file=out)
    failed = [r.name for r in results if not r.ok]
    print(f"self-test {'failed: ' + ', '.join(failed) if failed else 'passed'}", file=out)
    return 1 if failed else 0
