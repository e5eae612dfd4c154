"""Shared fixtures: a real OpenSSH server, a private Secret Service keyring, and a per-test app home."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Test helpers live in tests/support; make ``import support...`` work however pytest was started.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from support.keyring_session import KeyringSession, keyring_tools_available  # noqa: E402
from support.pgp_keys import Keys, make_gpg_keys  # noqa: E402
from support.sshd import SSHD, SshdServer, sshd_available  # noqa: E402


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshdServer]:
    """A real OpenSSH server on 127.0.0.1, started once per test session."""
    if not sshd_available():
        pytest.skip(f"OpenSSH server not installed ({SSHD} / ssh-keygen missing)")
    server = SshdServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def keyring_session() -> Iterator[KeyringSession]:
    """A private D-Bus + unlocked gnome-keyring, activated for ``keyring`` in this process for the session."""
    if not keyring_tools_available():
        pytest.skip("gnome-keyring-daemon, dbus-daemon or dbus-send not installed")
    session = KeyringSession()
    try:
        session.start()
        session.activate()
        yield session
    finally:
        session.stop()


@pytest.fixture
def ta_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty application home directory, exported as TRANSFERAPP_HOME for this test."""
    home = tmp_path / "ta-home"
    home.mkdir()
    monkeypatch.setenv("TRANSFERAPP_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def gpg_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    """Keys made by GnuPG once per session (skips when gpg is missing)."""
    yield from make_gpg_keys(tmp_path_factory)
