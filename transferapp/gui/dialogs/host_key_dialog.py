"""Asks whether to trust a server's SSH host key; a changed key cannot be accepted before the old pin is removed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from transferapp.errors import HostKeyError
from transferapp.gui.backend import Backend
from transferapp.transports.hostkeys import fingerprint, host_id

WARNING_STYLE = "color: #c62828; font-weight: bold;"


def _mono(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class HostKeyDialog(QDialog):
    """Unknown key: show the SHA256 fingerprint and ask to accept it. Changed key: warn, show both, offer only
    removing the old pin (after the user confirms they checked the new fingerprint), then ask as for a new key."""

    def __init__(self, backend: Backend, connection: str, error: HostKeyError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.connection = connection
        self.error = error
        url = backend.connection(connection).remote
        self.host, self.port = url.host, url.port
        self.setWindowTitle(self.tr("Host key of {0}").format(host_id(self.host, self.port)))
        self.accept_button: QPushButton | None = None
        self.remove_button: QPushButton | None = None
        self.confirm_check: QCheckBox | None = None

        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.warning = QLabel(self)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.warning.setAccessibleName(self.tr("Warning"))
        form = QFormLayout()
        self.server_label = QLabel(f"{self.host}:{self.port}", self)
        self.server_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_type_label = QLabel(error.key_type, self)
        self.fingerprint_label = _mono(error.offered, self)
        self.fingerprint_label.setAccessibleName(self.tr("Offered fingerprint"))
        self.old_label = _mono("", self)
        self.old_label.setAccessibleName(self.tr("Pinned fingerprint"))
        form.addRow(self.tr("Server:"), self.server_label)
        form.addRow(self.tr("Key type:"), self.key_type_label)
        form.addRow(self.tr("Fingerprint (SHA256):"), self.fingerprint_label)
        self.old_title = QLabel(self.tr("Pinned until now:"), self)
        form.addRow(self.old_title, self.old_label)
        self.form = form
        self.buttons = QDialogButtonBox(self)
        self.extra = QVBoxLayout()
        layout = QVBoxLayout(self)
        for widget in (self.warning, self.intro):
            layout.addWidget(widget)
        layout.addLayout(form)
        layout.addLayout(self.extra)
        layout.addWidget(self.buttons)
        self.buttons.rejected.connect(self.reject)
        if error.changed:
            self._show_changed()
        else:
            self._show_unknown()

    def mode(self) -> str:
        """'changed' while an old key is pinned, else 'unknown'."""
        return "changed" if self.remove_button is not None else "unknown"

    def _show_changed(self) -> None:
        pinned = self.backend.ctx.hostkeys.pinned(self.host, self.port)
        old = "\n".join(f"{kind} {fingerprint(key)}" for kind, key in pinned.items()) or self.tr("(none)")
        self.warning.setText(
            self.tr(
                "WARNING: the host key of this server has CHANGED. Someone may be intercepting the connection; "
                "nothing was sent. Do not continue unless the server's administrator confirms the new key."
            )
        )
        self.intro.setText(self.tr("The server now offers a different key than the one pinned for it."))
        self.old_label.setText(old)
        self.confirm_check = QCheckBox(self.tr("I confirmed the new fingerprint with the server's administrator"))
        self.confirm_check.setAccessibleName(self.tr("I confirmed the new fingerprint"))
        self.extra.addWidget(self.confirm_check)
        self.remove_button = self.buttons.addButton(
            self.tr("&Remove the old key"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.remove_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.remove_button.setAccessibleName(self.tr("Remove the old key"))
        self.remove_button.setEnabled(False)
        self.confirm_check.toggled.connect(self.remove_button.setEnabled)
        self.remove_button.clicked.connect(self.remove_old_key)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)

    def _show_unknown(self) -> None:
        self.warning.hide()
        self.old_title.hide()
        self.old_label.hide()
        self.intro.setText(
            self.tr(
                "This server is not known yet. Compare the fingerprint with the one the server's administrator "
                "gave you; accept it only if they match."
            )
        )
        self.accept_button = self.buttons.addButton(
            self.tr("&Accept and connect"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.accept_button.setAccessibleName(self.tr("Accept the host key"))
        self.accept_button.clicked.connect(self.accept)
        if not self.buttons.button(QDialogButtonBox.StandardButton.Cancel):
            self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)

    def remove_old_key(self) -> None:
        """Forget the server's pinned keys (only after the confirmation box is ticked), then ask as for a new key."""
        if self.confirm_check is None or not self.confirm_check.isChecked():
            return
        self.backend.ctx.hostkeys.forget(self.host, self.port)
        self.backend.connection(self.connection).host_key = None
        self.backend.save_config()
        assert self.remove_button is not None
        self.buttons.removeButton(self.remove_button)
        self.remove_button.deleteLater()
        self.remove_button = None
        self.confirm_check.hide()
        self.warning.setText(self.tr("The old key was removed."))
        self.warning.setStyleSheet("")
        self._show_unknown()
        self.warning.show()

    def accept(self) -> None:
        """Accept the offered fingerprint: the next connect pins the key when it matches."""
        if self.mode() != "unknown":
            return
        self.backend.connection(self.connection).host_key = self.error.offered
        self.backend.save_config()
        super().accept()
