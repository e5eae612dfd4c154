"""The connection dialog: checked as you type, OK only when valid, presets build the URL, secrets to the keyring."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from transferapp import sfcc
from transferapp.config import Connection, load_config
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.connection_dialog import ConnectionDialog


def retype(qtbot, edit: QLineEdit, text: str) -> None:
    """Replace the text the way a user does (so the field counts as touched)."""
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def sftp_dialog(qtbot, backend: Backend, key_file: Path) -> ConnectionDialog:
    dialog = ConnectionDialog(backend)
    qtbot.addWidget(dialog)
    dialog.show()
    retype(qtbot, dialog.ui.nameEdit, "pim")
    retype(qtbot, dialog.ui.hostEdit, "sftp.example.com")
    retype(qtbot, dialog.ui.sftpUserEdit, "merchant")
    retype(qtbot, dialog.ui.keyFileEdit, str(key_file))
    return dialog


def test_a_new_dialog_cannot_be_saved_empty_and_says_what_is_missing(qtbot, backend: Backend) -> None:
    dialog = ConnectionDialog(backend)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.ok_button().isEnabled()
    assert "name" in dialog.ui.formError.text().lower()
    assert dialog.error_text("name") == ""  # not shouted at before the user typed


def test_invalid_name_port_and_url_disable_ok_with_a_message_until_fixed(
    qtbot, backend: Backend, tmp_path: Path
) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("not read by the dialog")
    dialog = sftp_dialog(qtbot, backend, key)
    assert dialog.ok_button().isEnabled(), dialog.checked.errors

    retype(qtbot, dialog.ui.nameEdit, "bad name!")
    assert not dialog.ok_button().isEnabled()
    assert "Invalid name" in dialog.error_text("name") and dialog.ui.nameError.isVisible()
    retype(qtbot, dialog.ui.nameEdit, "pim-2")
    assert dialog.error_text("name") == "" and dialog.ok_button().isEnabled()

    retype(qtbot, dialog.ui.portEdit, "70000")
    assert "1 to 65535" in dialog.error_text("port")
    assert not dialog.ok_button().isEnabled()
    retype(qtbot, dialog.ui.portEdit, "2222")
    assert dialog.ok_button().isEnabled()
    assert dialog.checked.connection is not None
    assert dialog.checked.connection.url == "sftp://merchant@sftp.example.com:2222/~"

    dialog.ui.presetCombo.setCurrentIndex(1)  # WebDAV
    assert dialog.ui.presetStack.currentWidget() is dialog.ui.webdavPage
    retype(qtbot, dialog.ui.urlEdit, "ftp://example.com/in")
    assert "Unsupported URL scheme" in dialog.error_text("url")
    assert not dialog.ok_button().isEnabled()
    retype(qtbot, dialog.ui.urlEdit, "webdav://dav.example.com/in")
    retype(qtbot, dialog.ui.webdavUserEdit, "joe")
    retype(qtbot, dialog.ui.secretEdit, "pw")
    assert dialog.error_text("url") == ""
    assert dialog.ui.urlWarning.isVisible() and "not encrypted" in dialog.ui.urlWarning.text()
    assert dialog.ok_button().isEnabled()
    retype(qtbot, dialog.ui.urlEdit, "webdavs://dav.example.com/in")
    assert dialog.ui.urlWarning.isHidden()


def test_a_duplicate_name_is_refused(qtbot, backend: Backend, tmp_path: Path) -> None:
    backend.ctx.config.connections["pim"] = Connection("pim", "sftp://u@h/in", "agent")
    key = tmp_path / "k"
    key.write_text("x")
    dialog = sftp_dialog(qtbot, backend, key)
    assert "already exists" in dialog.error_text("name")
    assert not dialog.ok_button().isEnabled()


def test_sfcc_preset_builds_the_instance_url_and_keeps_the_access_key_in_the_keyring(qtbot, backend: Backend) -> None:
    dialog = ConnectionDialog(backend)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.ui.presetCombo.setCurrentIndex(2)
    assert dialog.ui.sfccFolderEdit.text() == sfcc.DEFAULT_FOLDER
    retype(qtbot, dialog.ui.nameEdit, "shop")
    retype(qtbot, dialog.ui.sfccInstanceEdit, "dev01-eu01-acme.demandware.net")
    retype(qtbot, dialog.ui.sfccUserEdit, "ops@acme.example")
    assert not dialog.ok_button().isEnabled()
    assert "access key" in dialog.ui.formError.text()  # the secret is needed for a new password login
    secret = "AccessKey-7f3c1e9b-never-in-config"
    retype(qtbot, dialog.ui.secretEdit, secret)
    assert dialog.ok_button().isEnabled(), dialog.checked.errors
    assert dialog.ui.secretEdit.echoMode() == QLineEdit.EchoMode.Password
    with qtbot.waitSignal(backend.config_changed):
        qtbot.mouseClick(dialog.ok_button(), Qt.MouseButton.LeftButton)
    assert dialog.result() == ConnectionDialog.DialogCode.Accepted

    conn = load_config(backend.ctx.paths.config_file).connection("shop")
    assert conn.url == (
        "webdavs://ops%40acme.example@dev01-eu01-acme.demandware.net/on/demandware.servlet/webdav/Sites/Impex/src"
    )
    assert conn.option("max_upload_mb") == sfcc.MAX_UPLOAD_MB
    assert secret not in backend.ctx.paths.config_file.read_text()
    assert backend.ctx.secrets.get("shop", "password") == secret


def test_api_client_login_stores_the_client_secret(qtbot, backend: Backend) -> None:
    dialog = ConnectionDialog(backend)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.ui.presetCombo.setCurrentIndex(2)
    dialog.ui.sfccAuthCombo.setCurrentIndex(1)
    assert dialog.ui.clientIdEdit.isVisible() and not dialog.ui.sfccUserEdit.isVisible()
    retype(qtbot, dialog.ui.nameEdit, "shop-api")
    retype(qtbot, dialog.ui.sfccInstanceEdit, "dev01-eu01-acme.demandware.net")
    retype(qtbot, dialog.ui.clientIdEdit, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
    retype(qtbot, dialog.ui.tokenUrlEdit, "http://insecure.example/token")
    assert "https://" in dialog.error_text("token_url")
    retype(qtbot, dialog.ui.tokenUrlEdit, "")
    retype(qtbot, dialog.ui.secretEdit, "client-secret-value-42")
    dialog.accept()
    conn = load_config(backend.ctx.paths.config_file).connection("shop-api")
    assert conn.auth == "sfcc-client" and conn.client_id == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    assert "client-secret-value-42" not in backend.ctx.paths.config_file.read_text()
    assert backend.ctx.secrets.get("shop-api", "client_secret") == "client-secret-value-42"


def test_editing_shows_that_a_secret_is_stored_never_the_secret_and_keeps_the_name(qtbot, backend: Backend) -> None:
    backend.ctx.config.connections["dav"] = Connection("dav", "webdavs://joe@dav.example.com/in", "password")
    backend.save_config()
    backend.ctx.secrets.set("dav", "password", "old-password-1")
    dialog = ConnectionDialog(backend, "dav")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.ui.nameEdit.isReadOnly()
    assert dialog.ui.presetStack.currentWidget() is dialog.ui.webdavPage
    assert dialog.ui.webdavUserEdit.text() == "joe" and dialog.ui.urlEdit.text() == "webdavs://dav.example.com/in"
    assert dialog.ui.secretEdit.text() == ""
    assert "is stored in the OS keyring" in dialog.ui.secretState.text()
    assert dialog.ok_button().isEnabled()  # the stored password suffices
    retype(qtbot, dialog.ui.secretEdit, "new-password-2")
    dialog.accept()
    assert backend.ctx.secrets.get("dav", "password") == "new-password-2"
    text = backend.ctx.paths.config_file.read_text()
    assert "new-password-2" not in text and "old-password-1" not in text

    fresh = ConnectionDialog(backend, "dav")
    qtbot.addWidget(fresh)
    assert fresh.ui.secretEdit.text() == ""


def test_a_missing_key_file_is_named(qtbot, backend: Backend, tmp_path: Path) -> None:
    dialog = sftp_dialog(qtbot, backend, tmp_path / "no-such-key")
    assert "There is no file" in dialog.error_text("key_file")
    assert not dialog.ok_button().isEnabled()
    dialog.ui.sftpAuthCombo.setCurrentIndex(2)  # ssh-agent needs no key file
    assert dialog.ok_button().isEnabled()
    assert not dialog.ui.secretEdit.isVisible()
