"""The Connections page: rows and status, add/test/remove with shortcuts, removal checks, drops onto a row."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from support.gui_drops import add_sftp_connection, drop_files
from support.sshd import SshdServer

from transferapp.config import Connection, load_config
from transferapp.gui import sending
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.connection_dialog import ConnectionDialog
from transferapp.gui.pages.connections import ConnectionsPage
from transferapp.store.log import LogEntry


@pytest.fixture
def page(qtbot, backend: Backend) -> ConnectionsPage:
    page = ConnectionsPage(backend)
    qtbot.addWidget(page)
    page.resize(900, 400)
    page.show()
    return page


def cell(page: ConnectionsPage, row: int, column: int) -> str:
    return page.model.index(row, column).data()


def test_rows_are_sorted_and_describe_each_connection(qtbot, backend: Backend, page: ConnectionsPage) -> None:
    assert page.model.rowCount() == 0 and page.hint.text().startswith("No connections yet: Add… (Ctrl+N)")
    conns = backend.ctx.config.connections
    conns["zeta"] = Connection("zeta", "webdav://dav.example.com/in", "token")
    conns["alpha"] = Connection("alpha", "sftp://bob@sftp.example.com:2222/~/in", "agent")
    conns["shop"] = Connection(
        "shop",
        "webdavs://me@dev01.demandware.net/on/demandware.servlet/webdav/Sites/Impex/src",
        "password",
    )
    with qtbot.waitSignal(page.model.modelReset):
        backend.save_config()
    assert [page.connection_at(r) for r in range(page.model.rowCount())] == ["alpha", "shop", "zeta"]
    assert [cell(page, 0, c) for c in range(5)] == [
        "alpha", "SFTP", "sftp.example.com:2222 ~/in", "bob (ssh-agent)", "off",
    ]  # fmt: skip
    assert cell(page, 1, 1) == "SFCC" and cell(page, 2, 1) == "WebDAV"
    assert cell(page, 0, 5) == "not tested"

    backend.ctx.log.append(LogEntry("alpha", "upload", "/tmp/a", "/in/a", "failed", error="Permission denied"))
    backend.ctx.log.append(LogEntry("zeta", "upload", "/tmp/a", "/in/a", "ok"))
    page.reload()
    assert cell(page, 0, 5) == "failed: Permission denied"
    assert cell(page, 2, 5).startswith("ok, ")
    assert page.hint.text() == "Drop files on a connection to upload them"


def test_ctrl_n_opens_the_add_dialog_and_a_saved_connection_appears(
    qtbot, backend: Backend, page: ConnectionsPage
) -> None:
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = page.dialog
    assert isinstance(dialog, ConnectionDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.ui.nameEdit, "alpha")
    qtbot.keyClicks(dialog.ui.hostEdit, "sftp.example.com")
    qtbot.keyClicks(dialog.ui.sftpUserEdit, "bob")
    dialog.ui.sftpAuthCombo.setCurrentIndex(2)
    with qtbot.waitSignal(page.model.modelReset):
        qtbot.mouseClick(dialog.ok_button(), Qt.MouseButton.LeftButton)
    assert page.current() == "alpha"


def test_ctrl_t_tests_the_selected_connection_and_the_status_shows_it(
    qtbot, backend: Backend, page: ConnectionsPage, sshd: SshdServer
) -> None:
    add_sftp_connection(backend.ctx, sshd, sshd.make_remote_dir("page-test"))
    page.reload()
    page.select("pim")
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    dialog = page.test_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.passed is not None, timeout=30000)
    assert dialog.passed, [(s.step, s.message) for s in dialog.results.values()]
    assert cell(page, 0, 5).startswith("ok, ")


def test_remove_refuses_while_a_job_uses_the_connection(
    qtbot, backend: Backend, page: ConnectionsPage, sshd: SshdServer
) -> None:
    add_sftp_connection(backend.ctx, sshd, Path("/tmp"))
    backend.ctx.secrets.set("pim", "passphrase", "phrase-1")
    backend.ctx.config.other["jobs"] = {"nightly": {"connection": "pim", "kind": "push"}}
    page.reload()
    asked, errors = [], []
    page.confirm = lambda _parent, _title, text: asked.append(text) or True
    page.show_error = lambda _parent, message, hint: errors.append((message, hint))
    page.select("pim")
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Delete)
    assert asked and "pim" in asked[0]
    assert errors and "used by job(s) nightly" in errors[0][0]
    assert "pim" in backend.ctx.config.connections
    assert backend.ctx.secrets.has("pim", "passphrase")


def test_remove_deletes_secrets_and_the_unused_host_key_pin(
    qtbot, backend: Backend, page: ConnectionsPage, sshd: SshdServer
) -> None:
    add_sftp_connection(backend.ctx, sshd, Path("/tmp"))
    backend.ctx.secrets.set("pim", "passphrase", "phrase-1")
    import paramiko

    pub = sshd.host_public_keys["ssh-ed25519"].split()[1]
    backend.ctx.hostkeys.pin("127.0.0.1", sshd.port, paramiko.Ed25519Key(data=__import__("base64").b64decode(pub)))
    page.reload()
    page.confirm = lambda *_args: False
    assert not page.remove("pim")
    assert "pim" in backend.ctx.config.connections
    page.confirm = lambda *_args: True
    assert page.remove("pim")
    assert page.model.rowCount() == 0
    assert "pim" not in load_config(backend.ctx.paths.config_file).connections
    assert not backend.ctx.secrets.has("pim", "passphrase")
    assert backend.ctx.hostkeys.pinned("127.0.0.1", sshd.port) == {}


def test_files_dropped_on_a_row_are_handed_to_send(
    qtbot, backend: Backend, page: ConnectionsPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conns = backend.ctx.config.connections
    conns["alpha"] = Connection("alpha", "sftp://bob@a.example/~/in", "agent")
    conns["beta"] = Connection("beta", "sftp://bob@b.example/~/in", "agent")
    backend.save_config()
    calls = []
    monkeypatch.setattr(sending, "confirm_and_send", lambda *args: calls.append(args))
    files = [tmp_path / "orders.csv", tmp_path / "folder"]
    files[0].write_text("1;2\n")
    files[1].mkdir()
    page.view.resizeRowsToContents()
    drop_files(page.view, 1, files)
    assert len(calls) == 1
    parent, used_backend, target, paths = calls[0]
    assert parent is page and used_backend is backend
    assert target == sending.DropTarget(connection="beta")
    assert paths == [str(p) for p in files]
    assert page.drops.highlighted_row == -1
