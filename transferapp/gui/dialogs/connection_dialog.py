"""Add or edit a connection (SFTP, WebDAV, SFCC presets), checked as you type; secrets go to the OS keyring."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from transferapp import sfcc
from transferapp.config import Connection
from transferapp.connection_builder import PRESETS, Checked, ConnectionFields, check_fields, fields_of
from transferapp.errors import SecretStoreError, TransferAppError
from transferapp.gui.backend import Backend
from transferapp.gui.forms.ui_connection_dialog import Ui_ConnectionDialog

SFTP_AUTHS = ("password", "key", "agent")
WEBDAV_AUTHS = ("password", "token")
SFCC_AUTHS = ("password", "sfcc-client")
ERROR_STYLE = "color: #c62828;"
WARNING_STYLE = "color: #b26a00; font-weight: bold;"
NOTE_STYLE = "color: palette(mid);"


class ConnectionDialog(QDialog):
    """The add/edit form; on OK the secret (if typed) goes to the keyring and the profile to the config."""

    saved = Signal(str)  # the connection's name, after it was written

    def __init__(self, backend: Backend, name: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.ui = Ui_ConnectionDialog()
        self.ui.setupUi(self)
        self.existing: Connection | None = backend.connection(name) if name else None
        self.stored: dict[str, bool] = {}  # secret kind -> stored in the keyring
        self.keyring_problem = ""
        self.touched: set[str] = set()
        self.checked = Checked(None)
        self._errors = self._error_labels()
        for label in self._errors.values():
            label.setStyleSheet(ERROR_STYLE)
        self.ui.urlWarning.setStyleSheet(WARNING_STYLE)
        self.ui.secretState.setStyleSheet(NOTE_STYLE)
        self.ui.advancedBox.setTitle(self.tr("Advanced"))
        self.ui.tokenUrlEdit.setPlaceholderText(sfcc.DEFAULT_TOKEN_URL)
        self._label_controls()
        self.setMinimumWidth(520)
        self.set_fields(fields_of(self.existing) if self.existing else ConnectionFields())
        if self.existing is not None:
            self.setWindowTitle(self.tr("Edit connection {0}").format(self.existing.name))
            self.ui.nameEdit.setReadOnly(True)
            self.ui.nameEdit.setToolTip(self.tr("A connection keeps its name; add a new one to use another name"))
            self.ui.presetCombo.setEnabled(False)
            self.touched = set(self._edits())
            self._read_stored(self.existing.name)
        else:
            self.setWindowTitle(self.tr("Add connection"))
        for key, edit in self._edits().items():
            edit.textEdited.connect(lambda _text, k=key: self._touch(k))
            edit.textChanged.connect(self.revalidate)
        for combo in (self.ui.presetCombo, self.ui.sftpAuthCombo, self.ui.webdavAuthCombo, self.ui.sfccAuthCombo):
            combo.currentIndexChanged.connect(self.revalidate)
        self.ui.presetCombo.currentIndexChanged.connect(self.ui.presetStack.setCurrentIndex)
        self.ui.presetCombo.currentIndexChanged.connect(self._fit_page)
        self._fit_page(self.ui.presetCombo.currentIndex())
        self.ui.keyBrowseButton.clicked.connect(lambda: self._browse(self.ui.keyFileEdit, self.tr("Private key file")))
        self.ui.caBrowseButton.clicked.connect(lambda: self._browse(self.ui.caFileEdit, self.tr("CA bundle")))
        self.ui.buttonBox.accepted.connect(self.accept)
        self.ui.buttonBox.rejected.connect(self.reject)
        self.revalidate()

    # -- fields --------------------------------------------------------------------------------------
    def _edits(self) -> dict[str, QLineEdit]:
        """Field key -> line edit (the user field of the shown preset is 'user')."""
        ui = self.ui
        return {
            "name": ui.nameEdit, "host": ui.hostEdit, "port": ui.portEdit, "sftp_user": ui.sftpUserEdit,
            "folder": ui.folderEdit, "key_file": ui.keyFileEdit, "url": ui.urlEdit, "webdav_user": ui.webdavUserEdit,
            "ca_file": ui.caFileEdit, "sfcc_instance": ui.sfccInstanceEdit, "sfcc_folder": ui.sfccFolderEdit,
            "sfcc_user": ui.sfccUserEdit, "client_id": ui.clientIdEdit, "token_url": ui.tokenUrlEdit,
            "secret": ui.secretEdit,
        }  # fmt: skip

    def _error_labels(self) -> dict[str, QLabel]:
        ui = self.ui
        return {
            "name": ui.nameError, "host": ui.hostError, "port": ui.portError, "sftp_user": ui.sftpUserError,
            "folder": ui.folderError, "key_file": ui.keyFileError, "url": ui.urlError,
            "webdav_user": ui.webdavUserError, "ca_file": ui.caFileError, "sfcc_instance": ui.sfccInstanceError,
            "sfcc_folder": ui.sfccFolderError, "sfcc_user": ui.sfccUserError, "client_id": ui.clientIdError,
            "token_url": ui.tokenUrlError, "secret": ui.secretError,
        }  # fmt: skip

    def preset(self) -> str:
        """The chosen preset: sftp, webdav or sfcc."""
        return PRESETS[max(0, self.ui.presetCombo.currentIndex())]

    def fields(self) -> ConnectionFields:
        """What the form holds now (never the secret)."""
        ui, preset = self.ui, self.preset()
        user = {"sftp": ui.sftpUserEdit, "webdav": ui.webdavUserEdit, "sfcc": ui.sfccUserEdit}[preset].text()
        return ConnectionFields(
            name=ui.nameEdit.text(),
            preset=preset,
            host=ui.hostEdit.text(),
            port=ui.portEdit.text(),
            user=user,
            folder=ui.folderEdit.text(),
            sftp_auth=SFTP_AUTHS[max(0, ui.sftpAuthCombo.currentIndex())],
            key_file=ui.keyFileEdit.text(),
            url=ui.urlEdit.text(),
            webdav_auth=WEBDAV_AUTHS[max(0, ui.webdavAuthCombo.currentIndex())],
            ca_file=ui.caFileEdit.text(),
            sfcc_instance=ui.sfccInstanceEdit.text(),
            sfcc_folder=ui.sfccFolderEdit.text(),
            sfcc_auth=SFCC_AUTHS[max(0, ui.sfccAuthCombo.currentIndex())],
            client_id=ui.clientIdEdit.text(),
            token_url=ui.tokenUrlEdit.text(),
        )

    def set_fields(self, f: ConnectionFields) -> None:
        """Show ``f`` in the form."""
        ui = self.ui
        for edit, value in (
            (ui.nameEdit, f.name), (ui.hostEdit, f.host), (ui.portEdit, f.port), (ui.folderEdit, f.folder),
            (ui.keyFileEdit, f.key_file), (ui.urlEdit, f.url), (ui.caFileEdit, f.ca_file),
            (ui.sfccInstanceEdit, f.sfcc_instance), (ui.sfccFolderEdit, f.sfcc_folder),
            (ui.clientIdEdit, f.client_id), (ui.tokenUrlEdit, f.token_url),
        ):  # fmt: skip
            edit.setText(value)
        {"sftp": ui.sftpUserEdit, "webdav": ui.webdavUserEdit, "sfcc": ui.sfccUserEdit}[f.preset].setText(f.user)
        ui.presetCombo.setCurrentIndex(PRESETS.index(f.preset))
        ui.presetStack.setCurrentIndex(PRESETS.index(f.preset))
        ui.sftpAuthCombo.setCurrentIndex(SFTP_AUTHS.index(f.sftp_auth))
        ui.webdavAuthCombo.setCurrentIndex(WEBDAV_AUTHS.index(f.webdav_auth))
        ui.sfccAuthCombo.setCurrentIndex(SFCC_AUTHS.index(f.sfcc_auth))
        ui.secretEdit.clear()

    def ok_button(self) -> QPushButton:
        """The OK button (disabled while the form is not valid)."""
        return self.ui.buttonBox.button(QDialogButtonBox.StandardButton.Ok)

    def error_text(self, key: str) -> str:
        """The message shown for a field ('' when it is fine or hidden)."""
        return self._errors[key].text()

    # -- checking ------------------------------------------------------------------------------------
    def _touch(self, key: str) -> None:
        self.touched.add(key)
        self.revalidate()

    def _read_stored(self, name: str) -> None:
        try:
            for kind in ("password", "passphrase", "token", "client_secret"):
                self.stored[kind] = self.backend.ctx.secrets.has(name, kind)
        except SecretStoreError as exc:
            self.keyring_problem = exc.message

    def revalidate(self) -> Checked:
        """Check the form, show each field's message, and enable OK only when it is valid."""
        f = self.fields()
        kind = f.secret_kind
        given = bool(self.ui.secretEdit.text()) or bool(kind and self.stored.get(kind))
        self.checked = check_fields(f, self.backend.ctx.config, self.existing, secret_given=given)
        user_key = f"{f.preset}_user"
        errors = {(user_key if key == "user" else key): text for key, text in self.checked.errors.items()}
        hidden = []
        for key, label in self._errors.items():
            text = errors.get(key, "")
            shown = bool(text) and key in self.touched
            label.setText(text if shown else "")
            self._set_row_visible(label, shown)
            if text and not shown:
                hidden.append(text)
        warning = self.checked.warnings.get("url", "")
        self.ui.urlWarning.setText(warning)
        self._set_row_visible(self.ui.urlWarning, bool(warning))
        general = errors.get("form") or (self.tr("To save: {0}").format(hidden[0]) if hidden else "")
        self.ui.formError.setText(general)
        self.ui.formError.setStyleSheet(ERROR_STYLE if "form" in errors else NOTE_STYLE)
        self._show_rows(f)
        self.ok_button().setEnabled(self.checked.connection is not None)
        return self.checked

    def _set_row_visible(self, widget: QWidget, visible: bool) -> None:
        """Show or hide a form row (hiding only the widget would leave the row's spacing)."""
        ui = self.ui
        for form in (ui.topForm, ui.sftpForm, ui.webdavForm, ui.sfccForm, ui.advancedForm, ui.secretForm):
            if form.indexOf(widget) >= 0:
                form.setRowVisible(widget, visible)
                return
        widget.setVisible(visible)

    def _fit_page(self, index: int) -> None:
        """Size the preset stack to the shown page, not to the tallest one."""
        for number in range(self.ui.presetStack.count()):
            policy = QSizePolicy.Policy.Preferred if number == index else QSizePolicy.Policy.Ignored
            page = self.ui.presetStack.widget(number)
            if page is not None:
                page.setSizePolicy(policy, policy)
        self.ui.presetStack.updateGeometry()
        self.resize(self.width(), self.minimumSizeHint().height())  # no gap where a taller preset was

    def _show_rows(self, f: ConnectionFields) -> None:
        ui = self.ui
        ui.sftpForm.setRowVisible(ui.keyFileRow, f.sftp_auth == "key")
        ui.sftpForm.setRowVisible(ui.keyFileError, f.sftp_auth == "key" and bool(ui.keyFileError.text()))
        ui.sfccForm.setRowVisible(ui.sfccUserEdit, f.sfcc_auth == "password")
        ui.sfccForm.setRowVisible(ui.clientIdEdit, f.sfcc_auth == "sfcc-client")
        kind = f.secret_kind
        for widget in (ui.secretEdit, ui.secretState):
            ui.secretForm.setRowVisible(widget, kind is not None)
        what = {
            "password": self.tr("WebDAV access key") if f.preset == "sfcc" else self.tr("password"),
            "passphrase": self.tr("key passphrase"),
            "token": self.tr("token"),
            "client_secret": self.tr("client secret"),
        }.get(kind or "", "")
        ui.secretLabel.setText(what[:1].upper() + what[1:] + ":")
        ui.secretEdit.setAccessibleName(what)
        if self.keyring_problem:
            state = self.tr("The OS keyring cannot be read: {0}").format(self.keyring_problem)
        elif kind and self.stored.get(kind):
            state = self.tr("A {0} is stored in the OS keyring; type a new one to replace it").format(what)
        elif kind == "passphrase":
            state = self.tr("No {0} stored (leave empty if the key has none)").format(what)
        else:
            state = self.tr("No {0} stored; it is kept in the OS keyring, never in the config file").format(what)
        ui.secretState.setText(state)

    # -- actions -------------------------------------------------------------------------------------
    def _browse(self, edit: QLineEdit, title: str) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, title, edit.text())
        if path:
            edit.setText(path)
            self._touch("key_file" if edit is self.ui.keyFileEdit else "ca_file")

    def accept(self) -> None:
        """Store the typed secret in the keyring, then the profile in the config file; stay open on an error."""
        checked = self.revalidate()
        conn = checked.connection
        if conn is None:
            self.touched = set(self._edits())
            self.revalidate()
            return
        kind, secret = self.fields().secret_kind, self.ui.secretEdit.text()
        try:
            if kind and secret:
                self.backend.ctx.secrets.set(conn.name, kind, secret)
            self.backend.ctx.config.connections[conn.name] = conn
            self.backend.save_config()
        except TransferAppError as exc:
            self.ui.formError.setText(exc.message + (f" ({exc.hint})" if exc.hint else ""))
            self.ui.formError.setStyleSheet(ERROR_STYLE)
            self.ui.formError.setVisible(True)
            return
        finally:
            self.ui.secretEdit.clear()
        self.saved.emit(conn.name)
        super().accept()

    def _label_controls(self) -> None:
        ui = self.ui
        names: dict[QWidget, str] = {
            ui.nameEdit: self.tr("Name"), ui.presetCombo: self.tr("Connection type"), ui.hostEdit: self.tr("Host"),
            ui.portEdit: self.tr("Port"), ui.sftpUserEdit: self.tr("User"), ui.folderEdit: self.tr("Folder"),
            ui.sftpAuthCombo: self.tr("SFTP login"), ui.keyFileEdit: self.tr("Private key file"),
            ui.keyBrowseButton: self.tr("Browse for the key file"), ui.urlEdit: self.tr("WebDAV URL"),
            ui.webdavUserEdit: self.tr("WebDAV user"), ui.webdavAuthCombo: self.tr("WebDAV login"),
            ui.caFileEdit: self.tr("CA file"), ui.caBrowseButton: self.tr("Browse for the CA file"),
            ui.sfccInstanceEdit: self.tr("Instance host"), ui.sfccFolderEdit: self.tr("Instance folder"),
            ui.sfccAuthCombo: self.tr("Instance login"), ui.sfccUserEdit: self.tr("Business Manager user"),
            ui.clientIdEdit: self.tr("API client id"), ui.tokenUrlEdit: self.tr("Token URL"),
        }  # fmt: skip
        for widget, name in names.items():
            widget.setAccessibleName(name)
        for key, label in self._errors.items():
            label.setAccessibleName(self.tr("Problem: {0}").format(key.replace("_", " ")))
        ui.urlWarning.setAccessibleName(self.tr("Warning about the URL"))
        ui.formError.setAccessibleName(self.tr("What is missing"))
