"""Confirming a key before it is imported: its fingerprint, user IDs, algorithms, expiry, warnings or refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pysequoia
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from transferapp.errors import ConfigError, TransferAppError
from transferapp.pgp.keyinfo import (
    KeyInfo,
    holds_secret,
    inspect,
    parse_certs,
    parse_tsk,
    pretty_fingerprint,
    read_key_file,
    require_usable,
)
from transferapp.pgp.keyinfo import unlock_notes as core_unlock_notes

ERROR_STYLE = "color: #c62828;"
WARNING_STYLE = "color: #8a5a00;"


@dataclass(frozen=True)
class Candidate:
    """A key read from a file, ready to confirm: a public Cert, or an own secret key (Tsk)."""

    path: Path
    info: KeyInfo
    cert: pysequoia.Cert | None = None
    tsk: pysequoia.Tsk | None = None
    refusal: str = ""  # why it cannot be imported ('' when it can)


def read_public(path: Path) -> list[Candidate]:
    """Every public key in the file, inspected; unusable ones carry their refusal (as ``key import`` refuses)."""
    data = read_key_file(path)
    certs = parse_certs(data, path)
    if holds_secret(data):
        raise ConfigError(
            f"{path} holds a secret key ({inspect(certs[0]).label})",
            "import partners' keys from 'gpg --export' output; own keys with 'Import own secret key'",
        )
    candidates = []
    for cert in certs:
        info = inspect(cert)
        try:
            require_usable(info)
            refusal = ""
        except TransferAppError as exc:
            refusal = exc.message
        candidates.append(Candidate(path, info, cert=cert, refusal=refusal))
    return candidates


def read_secret(path: Path) -> Candidate:
    """An own secret key from the file (v4 only, like ``key import-secret``)."""
    tsk = parse_tsk(read_key_file(path), path)
    info = inspect(tsk.extract_certificate())
    refusal = f"{info.label} is a v{info.version} key, which GnuPG 2.2 partners cannot use" if info.version >= 5 else ""
    return Candidate(path, info, tsk=tsk, refusal=refusal)


def unlock_notes(tsk: pysequoia.Tsk, passphrase: str | None, label: str) -> list[str]:
    """Check the passphrase opens the key; notes name what the key cannot do; ConfigError when it does not open."""
    return core_unlock_notes(tsk, passphrase, label, "type it above")


def expiry_text(info: KeyInfo, now: datetime | None = None) -> str:
    """'never', '2025-01-31', '2025-01-31 (in 9 days)' or 'EXPIRED 2020-01-02'."""
    now = now or datetime.now(UTC)
    if info.expires is None:
        return QCoreApplication.translate("keys", "never")
    if info.expires <= now:
        return QCoreApplication.translate("keys", "EXPIRED {0:%Y-%m-%d}").format(info.expires)
    if info.expires_soon(now):
        days = (info.expires - now).days
        text = "{1:%Y-%m-%d} (in {0} day)" if days == 1 else "{1:%Y-%m-%d} (in {0} days)"
        return QCoreApplication.translate("keys", text).format(days, info.expires)
    return f"{info.expires:%Y-%m-%d}"


class KeyImportDialog(QDialog):
    """Shows a key's facts; Import only when usable; for an own key, asks for its passphrase."""

    def __init__(self, candidate: Candidate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.candidate = candidate
        self.passphrase: str | None = None
        self.notes: list[str] = []
        info, own = candidate.info, candidate.tsk is not None
        self.setWindowTitle(self.tr("Import own secret key") if own else self.tr("Import public key"))
        layout = QVBoxLayout(self)
        question = (
            self.tr("Import this as your own key? It signs uploads and decrypts pulled files.")
            if own
            else self.tr("Does this fingerprint match the one the partner gave you (by phone or in person)?")
        )
        self.question = QLabel(question, self)
        self.question.setWordWrap(True)
        layout.addWidget(self.question)
        form = QFormLayout()
        self.fingerprint = QLabel(pretty_fingerprint(info.fingerprint), self)
        self.fingerprint.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.fingerprint.setAccessibleName(self.tr("Fingerprint"))
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.tr("Fingerprint:"), self.fingerprint)
        self.user_ids = QLabel("\n".join(info.user_ids) or self.tr("(none)"), self)
        form.addRow(self.tr("User IDs:"), self.user_ids)
        form.addRow(self.tr("Algorithms:"), QLabel(", ".join(info.algorithms), self))
        created = f"{info.created:%Y-%m-%d}" if info.created else self.tr("unknown")
        form.addRow(self.tr("Created:"), QLabel(created, self))
        self.expires = QLabel(expiry_text(info), self)
        form.addRow(self.tr("Expires:"), self.expires)
        self.passphrase_edit = QLineEdit(self)
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName(self.tr("Key passphrase"))
        self.passphrase_edit.setPlaceholderText(self.tr("empty when the key has none; stored in the OS keyring only"))
        if own:
            form.addRow(self.tr("&Passphrase:"), self.passphrase_edit)
        else:
            self.passphrase_edit.hide()
        layout.addLayout(form)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName(self.tr("Import message"))
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.import_button = self.buttons.addButton(self.tr("&Import"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setAccessibleName(self.tr("Import"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._show_state()

    def _show_state(self) -> None:
        info, refusal = self.candidate.info, self.candidate.refusal
        if refusal:
            self.message.setText(self.tr("Refused, nothing is imported: {0}").format(refusal))
            self.message.setStyleSheet(ERROR_STYLE)
            self.import_button.setEnabled(False)
            self.question.hide()
            return
        if info.expires_soon():
            self.message.setText(
                self.tr("Warning: this key expires on {0:%Y-%m-%d}; ask the partner for a renewed key soon.").format(
                    info.expires
                )
            )
            self.message.setStyleSheet(WARNING_STYLE)
            self.expires.setStyleSheet(WARNING_STYLE)

    def refused(self) -> bool:
        """Whether the key cannot be imported."""
        return bool(self.candidate.refusal)

    def accept(self) -> None:
        """Close with Import: for an own key only when the passphrase opens it."""
        if self.refused():
            return
        tsk = self.candidate.tsk
        if tsk is not None:
            passphrase = self.passphrase_edit.text() or None
            try:
                self.notes = unlock_notes(tsk, passphrase, self.candidate.info.label)
            except TransferAppError as exc:
                self.message.setText(exc.message + (f" ({exc.hint})" if exc.hint else ""))
                self.message.setStyleSheet(ERROR_STYLE)
                return
            self.passphrase = passphrase
        super().accept()
