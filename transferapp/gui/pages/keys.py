"""The Keys page: imported OpenPGP keys, their expiry and users; import (after confirming), remove."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor, QFontDatabase, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMessageBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from transferapp.config import Config
from transferapp.errors import ConfigError, TransferAppError
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.key_import_dialog import Candidate, KeyImportDialog, expiry_text, read_public, read_secret
from transferapp.gui.tables import fit_columns, page_action, page_toolbar, record_table
from transferapp.gui.workers import error_text, run_task
from transferapp.pgp.keyinfo import KeyInfo, pretty_fingerprint

COLUMNS = ("key", "fingerprint", "algorithm", "expires", "own", "used_by")
FINGERPRINT_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_COLOR = QColor("#c62828")
WARNING_COLOR = QColor("#8a5a00")


def key_users(config: Config, fingerprint: str) -> list[str]:
    """Connections and jobs whose encryption (or signature check) names the key, as 'connection X' / 'job Y'."""
    users = [
        f"connection {c.name}"
        for c in config.connections.values()
        if c.encryption and fingerprint in c.encryption.recipients
    ]
    tables = config.other.get("jobs", {})
    for name, table in sorted(tables.items() if isinstance(tables, dict) else []):
        if not isinstance(table, dict):
            continue
        policy = table.get("encryption")
        recipients = [str(r).upper() for r in policy.get("recipients", [])] if isinstance(policy, dict) else []
        if fingerprint in recipients or str(table.get("verify_from", "")).replace(" ", "").upper() == fingerprint:
            users.append(f"job {name}")
    return users


def ask(parent: QWidget, title: str, text: str) -> bool:
    """A Yes/No question (the page's default ``confirm``; tests replace it)."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class KeysPage(QWidget):
    """Keys."""

    import_dialog_shown = Signal(object)  # the KeyImportDialog just opened (tests drive it)

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.infos: list[KeyInfo] = []
        self.import_dialog: KeyImportDialog | None = None
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask(self, title, text)
        self.choose_file: Callable[[str], str] = self._choose_file
        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setAccessibleName(self.tr("Key expiry warning"))
        self.banner.setStyleSheet("background: #fff3cd; color: #664d03; padding: 6px; border-radius: 3px;")
        self.banner.hide()
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels([
            self.tr("Key"), self.tr("Fingerprint"), self.tr("Algorithm"), self.tr("Expires"),
            self.tr("Own key"), self.tr("Used by"),
        ])  # fmt: skip
        self.view = record_table(self, self.model, self.tr("Keys"))
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Keys status"))
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.toolbar = page_toolbar(self, self.tr("Key actions"))
        self.toolbar.setAccessibleName(self.tr("Key actions"))
        pixmap = QStyle.StandardPixmap
        self.import_action = self._action(self.tr("&Import public key…"), "Ctrl+I", pixmap.SP_DialogOpenButton,
                                          self.import_public)  # fmt: skip
        self.import_secret_action = self._action(self.tr("Import &own secret key…"), "Ctrl+Shift+I",
                                                 pixmap.SP_DialogSaveButton, self.import_secret)  # fmt: skip
        self.remove_action = self._action(self.tr("&Remove"), "Delete", pixmap.SP_TrashIcon, self.remove_key)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view)
        layout.addWidget(self.status)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        backend.config_changed.connect(self.refresh)
        self.refresh()

    def _action(self, text: str, keys: str, pixmap: QStyle.StandardPixmap, slot: Callable[[], object]) -> QAction:
        return page_action(self, text, [QKeySequence(keys)], self.style().standardIcon(pixmap), slot, self.toolbar)

    def _update_actions(self) -> None:
        self.remove_action.setEnabled(self.selected() is not None)

    def show_status(self, message: str, hint: str = "", error: bool = False) -> None:
        """A line under the table (errors in red with their fix)."""
        self.status.setText(message + (f" — {hint}" if hint else ""))
        self.status.setStyleSheet("color: #c62828;" if error else "")

    # -- the list ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the key store again."""
        try:
            keys = self.backend.ctx.keys()
            self.infos = keys.infos()
        except TransferAppError as exc:
            self.show_status(*error_text(exc), error=True)
            return
        self.model.removeRows(0, self.model.rowCount())
        now = datetime.now(UTC)
        for info in self.infos:
            self.model.appendRow(self._row(info, now))
        fit_columns(self.view, stretch=COLUMNS.index("used_by"), max_width=420)  # whole fingerprints
        header = self.view.horizontalHeader()
        for column, width in (("key", 210),):  # elided in the middle: the full text is in its tooltip
            header.resizeSection(COLUMNS.index(column), min(header.sectionSize(COLUMNS.index(column)), width))
        self._update_banner(now)
        self._update_actions()
        if not self.infos and not self.status.text():
            self.status.setText(self.tr("No keys yet. Import a partner's public key with Ctrl+I."))

    def _row(self, info: KeyInfo, now: datetime) -> list[QStandardItem]:
        users = key_users(self.backend.ctx.config, info.fingerprint)
        created = f"{info.created:%Y-%m-%d}" if info.created else self.tr("unknown")
        texts = (
            "\n".join(info.user_ids) or info.fingerprint, pretty_fingerprint(info.fingerprint),
            ", ".join(info.algorithms), expiry_text(info, now),
            self.tr("yes") if info.has_secret else self.tr("no"), ", ".join(users) or "-",
        )  # fmt: skip
        items = [QStandardItem(text) for text in texts]
        for item in items:
            item.setData(info.fingerprint, FINGERPRINT_ROLE)
            if info.problems:
                item.setToolTip(self.tr("Cannot be used: {0}").format("; ".join(info.problems)))
        items[1].setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        if not info.problems:
            items[0].setToolTip(self.tr("{0}\nCreated {1}").format(texts[0], created))
        expires = items[COLUMNS.index("expires")]
        if info.expires is not None and info.expires <= now:
            expires.setForeground(ERROR_COLOR)
            expires.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical))
        elif info.expires_soon(now):
            expires.setForeground(WARNING_COLOR)
            expires.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
            expires.setToolTip(self.tr("Ask the partner for a renewed key before it expires."))
        if info.problems:
            items[0].setForeground(ERROR_COLOR)
        return items

    def _update_banner(self, now: datetime) -> None:
        soon = [info for info in self.infos if info.expires_soon(now)]
        if not soon:
            self.banner.hide()
            self.banner.clear()
            return
        parts = [f"{info.label}: {expiry_text(info, now)}" for info in soon]
        self.banner.setText(
            self.tr("Keys expiring within 30 days: {0}. Ask for renewed keys and import them before then.").format(
                "; ".join(parts)
            )
        )
        self.banner.show()

    def selected(self) -> KeyInfo | None:
        """The selected key."""
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        fingerprint = index.data(FINGERPRINT_ROLE)
        return next((info for info in self.infos if info.fingerprint == fingerprint), None)

    def select(self, fingerprint: str) -> None:
        """Select a key by fingerprint."""
        for row in range(self.model.rowCount()):
            if self.model.item(row, 0).data(FINGERPRINT_ROLE) == fingerprint:
                self.view.setCurrentIndex(self.model.index(row, 0))

    # -- importing ---------------------------------------------------------------------------------
    def _choose_file(self, title: str) -> str:
        path, _filter = QFileDialog.getOpenFileName(
            self, title, str(Path.home()), self.tr("OpenPGP keys (*.asc *.pgp *.gpg *.key);;All files (*)")
        )
        return path

    def import_public(self) -> None:
        """Choose a key file, inspect it in the background, then ask to confirm its fingerprint."""
        path = self.choose_file(self.tr("Import a partner's public key"))
        if path:
            self.show_status(self.tr("Reading {0}…").format(path))
            run_task(read_public, Path(path), on_result=self._confirm_next, on_error=self._failed)

    def import_secret(self) -> None:
        """Choose an own secret key file; confirm it and type its passphrase (stored in the OS keyring)."""
        path = self.choose_file(self.tr("Import your own secret key"))
        if path:
            self.show_status(self.tr("Reading {0}…").format(path))
            run_task(lambda: [read_secret(Path(path))], on_result=self._confirm_next, on_error=self._failed)

    def _confirm_next(self, candidates: list[Candidate]) -> None:
        """Ask about the keys of a file one after the other."""
        if not candidates:
            return
        candidate, rest = candidates[0], candidates[1:]
        dialog = KeyImportDialog(candidate, self)
        dialog.accepted.connect(lambda: self._save(dialog, rest))
        dialog.rejected.connect(lambda: self._skipped(dialog, rest))
        self.import_dialog = dialog
        dialog.open()
        self.import_dialog_shown.emit(dialog)

    def _skipped(self, dialog: KeyImportDialog, rest: list[Candidate]) -> None:
        info = dialog.candidate.info
        if dialog.refused():
            self.show_status(dialog.candidate.refusal, self.tr("nothing was imported"), error=True)
        else:
            self.show_status(self.tr("Not imported: {0}.").format(info.label))
        self._confirm_next(rest)

    def _save(self, dialog: KeyImportDialog, rest: list[Candidate]) -> None:
        candidate = dialog.candidate
        ctx = self.backend.ctx
        try:
            if candidate.tsk is not None:
                ctx.secrets.backend()  # fail before anything is written when there is no usable keyring
                ctx.keys().save_secret(candidate.tsk, dialog.passphrase)
            else:
                assert candidate.cert is not None
                ctx.keys().save_public(candidate.cert)
        except TransferAppError as exc:
            self.show_status(*error_text(exc), error=True)
            return
        self.refresh()
        self.select(candidate.info.fingerprint)
        notes = "; ".join(dialog.notes)
        self.show_status(
            self.tr("Imported {0} ({1}).").format(candidate.info.label, pretty_fingerprint(candidate.info.fingerprint))
            + (f" {notes}." if notes else "")
        )
        self.backend.config_changed.emit()  # editors listing keys refresh
        self._confirm_next(rest)

    def _failed(self, exc: BaseException) -> None:
        self.show_status(*error_text(exc), error=True)

    # -- removing ----------------------------------------------------------------------------------
    def remove_key(self) -> None:
        """Remove the selected key after confirmation; refused while a connection or job uses it."""
        info = self.selected()
        if info is None:
            return
        users = key_users(self.backend.ctx.config, info.fingerprint)
        if users:
            error = ConfigError(
                self.tr("The key {0} is used by {1}").format(info.label, ", ".join(users)),
                self.tr("change their encryption first (edit the connection or job), then remove the key"),
            )
            self.show_status(*error_text(error), error=True)
            return
        what = self.tr("your own key (its secret and keyring entries too)") if info.has_secret else self.tr("the key")
        question = self.tr("Remove {0} {1}\n{2}?").format(what, info.label, pretty_fingerprint(info.fingerprint))
        if not self.confirm(self.tr("Remove key"), question):
            return
        try:
            self.backend.ctx.keys().remove(info.fingerprint)
        except TransferAppError as exc:
            self.show_status(*error_text(exc), error=True)
            return
        self.refresh()
        self.show_status(self.tr("Removed {0}.").format(info.label))
        self.backend.config_changed.emit()

    def key_data(self) -> list[dict[str, Any]]:
        """The table's texts by column (for tests and screen readers' summaries)."""
        rows = []
        for row in range(self.model.rowCount()):
            rows.append({column: self.model.item(row, i).text() for i, column in enumerate(COLUMNS)})
        return rows
