"""Test connection against the real sshd: each step reported; unknown host key asked and pinned; a changed key
cannot be clicked through without removing the old pin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import paramiko
import pytest
from PySide6.QtCore import Qt
from support.ports import free_port
from support.sshd import SshdServer

from transferapp.config import Connection
from transferapp.conncheck import CONNECT, FOLDER, HOST_KEY, LOGIN, RESOLVE
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.host_key_dialog import HostKeyDialog
from transferapp.gui.dialogs.test_connection_dialog import TestConnectionDialog
from transferapp.transports.hostkeys import fingerprint

STEPS = [RESOLVE, CONNECT, HOST_KEY, LOGIN, FOLDER]


def add_sshd_connection(backend: Backend, sshd: SshdServer, name: str = "pim", port: int | None = None,
                        accept: str | None = None) -> Connection:  # fmt: skip
    folder = sshd.make_remote_dir(name)
    conn = Connection(
        name, f"sftp://{sshd.user}@127.0.0.1:{port or sshd.port}{folder}", "key", str(sshd.client_keys["ed25519"]),
        accept,
    )  # fmt: skip
    backend.ctx.config.connections[name] = conn
    backend.save_config()
    return conn


def run_check(qtbot, backend: Backend, name: str) -> TestConnectionDialog:
    dialog = TestConnectionDialog(backend, name)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.checked, timeout=30000):
        dialog.start()
    return dialog


def other_ed25519_key(tmp_path: Path) -> paramiko.PKey:
    """A fresh Ed25519 key made by ssh-keygen (paramiko cannot generate Ed25519 keys)."""
    path = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f", str(path)], check=True)
    return paramiko.Ed25519Key.from_private_key_file(str(path))


def test_a_known_key_passes_every_step(qtbot, backend: Backend, sshd: SshdServer) -> None:
    add_sshd_connection(backend, sshd, accept=sshd.host_key_fingerprints["ssh-ed25519"])
    dialog = run_check(qtbot, backend, "pim")
    assert dialog.passed is True, [(s.step, s.message) for s in dialog.results.values()]
    assert list(dialog.results) == STEPS
    assert all(step.ok for step in dialog.results.values())
    assert "writable" in dialog.results[FOLDER].message
    assert dialog.list.count() == len(STEPS)
    assert dialog.host_key_dialog is None


def test_a_closed_port_fails_at_connect(qtbot, backend: Backend, sshd: SshdServer) -> None:
    add_sshd_connection(backend, sshd, port=free_port(), accept=sshd.host_key_fingerprints["ssh-ed25519"])
    dialog = run_check(qtbot, backend, "pim")
    assert dialog.passed is False
    failed = dialog.failed_step()
    assert failed is not None and failed.step == CONNECT
    assert "Cannot connect" in failed.message and failed.hint
    assert list(dialog.results) == [RESOLVE, CONNECT]
    assert "not run" in dialog.list.item(dialog.list.count() - 1).text()
    assert "The test failed" in dialog.summary.text()


def test_an_unknown_key_is_asked_and_accepting_pins_it(qtbot, backend: Backend, sshd: SshdServer) -> None:
    add_sshd_connection(backend, sshd)
    dialog = run_check(qtbot, backend, "pim")
    assert dialog.passed is False and dialog.failed_step().step == HOST_KEY
    asked = dialog.host_key_dialog
    assert asked is not None and asked.isVisible() and asked.mode() == "unknown"
    offered = sshd.host_key_fingerprints["ssh-ed25519"]
    assert asked.fingerprint_label.text() == offered
    assert asked.fingerprint_label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert asked.key_type_label.text() == "ssh-ed25519"
    assert backend.ctx.hostkeys.pinned("127.0.0.1", sshd.port) == {}

    with qtbot.waitSignal(dialog.checked, timeout=30000) as rerun:
        qtbot.mouseClick(asked.accept_button, Qt.MouseButton.LeftButton)
    assert rerun.args[0] is True, [(s.step, s.message) for s in dialog.results.values()]
    assert backend.connection("pim").host_key == offered
    pinned = backend.ctx.hostkeys.pinned("127.0.0.1", sshd.port)
    assert [fingerprint(key) for key in pinned.values()] == [offered]
    assert offered in backend.ctx.paths.config_file.read_text()


def test_cancelling_the_unknown_key_pins_nothing(qtbot, backend: Backend, sshd: SshdServer) -> None:
    add_sshd_connection(backend, sshd)
    dialog = run_check(qtbot, backend, "pim")
    asked = dialog.host_key_dialog
    assert asked is not None
    asked.reject()
    assert backend.connection("pim").host_key is None
    assert backend.ctx.hostkeys.pinned("127.0.0.1", sshd.port) == {}


def test_a_changed_key_warns_and_cannot_be_accepted_until_the_old_pin_is_removed(
    qtbot, backend: Backend, sshd: SshdServer, tmp_path: Path
) -> None:
    add_sshd_connection(backend, sshd)
    old = other_ed25519_key(tmp_path)
    backend.ctx.hostkeys.pin("127.0.0.1", sshd.port, old)
    try:
        dialog = run_check(qtbot, backend, "pim")
        assert dialog.failed_step().step == HOST_KEY
        asked = dialog.host_key_dialog
        assert asked is not None and asked.mode() == "changed"
        assert asked.accept_button is None
        assert not any(
            asked.buttons.buttonRole(b) in (asked.buttons.ButtonRole.AcceptRole, asked.buttons.ButtonRole.YesRole)
            for b in asked.buttons.buttons()
        )
        assert "CHANGED" in asked.warning.text() and asked.warning.isVisible()
        new = sshd.host_key_fingerprints["ssh-ed25519"]
        assert asked.fingerprint_label.text() == new
        assert fingerprint(old) in asked.old_label.text()
        asked.accept()  # not possible in this state: nothing changes
        assert backend.connection("pim").host_key is None
        assert asked.remove_button is not None and not asked.remove_button.isEnabled()
        asked.remove_old_key()  # not without the confirmation
        assert backend.ctx.hostkeys.pinned("127.0.0.1", sshd.port)

        asked.confirm_check.setChecked(True)
        assert asked.remove_button.isEnabled()
        qtbot.mouseClick(asked.remove_button, Qt.MouseButton.LeftButton)
        assert backend.ctx.hostkeys.pinned("127.0.0.1", sshd.port) == {}
        assert asked.mode() == "unknown" and asked.accept_button is not None
        with qtbot.waitSignal(dialog.checked, timeout=30000) as rerun:
            qtbot.mouseClick(asked.accept_button, Qt.MouseButton.LeftButton)
        assert rerun.args[0] is True
        assert [fingerprint(k) for k in backend.ctx.hostkeys.pinned("127.0.0.1", sshd.port).values()] == [new]
    finally:
        backend.ctx.hostkeys.forget("127.0.0.1", sshd.port)


@pytest.mark.parametrize("changed", [False, True])
def test_the_host_key_dialog_shows_server_and_fingerprint(qtbot, backend: Backend, sshd: SshdServer, changed) -> None:
    from transferapp.errors import HostKeyError

    add_sshd_connection(backend, sshd)
    error = HostKeyError("x")
    error.offered, error.key_type, error.server, error.changed = "SHA256:abc", "ssh-ed25519", "h", changed
    dialog = HostKeyDialog(backend, "pim", error)
    qtbot.addWidget(dialog)
    assert dialog.server_label.text() == f"127.0.0.1:{sshd.port}"
    assert dialog.fingerprint_label.text() == "SHA256:abc"
    assert (dialog.accept_button is None) == changed
