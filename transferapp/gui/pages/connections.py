"""The Connections page: the table, add/edit/test/remove, and files dropped on a connection are sent there."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from transferapp.connection_builder import remove_connection
from transferapp.errors import TransferAppError
from transferapp.gui import sending
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.connection_dialog import ConnectionDialog
from transferapp.gui.dialogs.test_connection_dialog import TestConnectionDialog
from transferapp.gui.drops import FileDropTarget
from transferapp.gui.models.connections_model import COLUMNS, ConnectionsModel
from transferapp.gui.tables import fit_columns, page_action, record_table


def _ask(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def _tell(parent: QWidget, message: str, hint: str) -> None:
    QMessageBox.warning(parent, parent.tr("Connections"), message + (f"\n\n{hint}" if hint else ""))


class ConnectionsPage(QWidget):
    """Connections: one row each, with the latest test or transfer result; files dropped on a row are sent there."""

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.model = ConnectionsModel(backend.ctx, self)
        self.confirm: Callable[[QWidget, str, str], bool] = _ask  # tests replace these two
        self.show_error: Callable[[QWidget, str, str], None] = _tell
        self.dialog: ConnectionDialog | None = None
        self.test_dialog: TestConnectionDialog | None = None

        self.view = record_table(self, self.model, self.tr("Connections"))
        fit_columns(self.view, stretch=COLUMNS.index("server"))
        self.view.doubleClicked.connect(lambda index: self.edit_connection(self.connection_at(index.row())))
        self.drops = FileDropTarget(self.view)
        self.drops.dropped.connect(self._dropped)

        pixmap = QStyle.StandardPixmap
        new, delete = QKeySequence(QKeySequence.StandardKey.New), QKeySequence(QKeySequence.StandardKey.Delete)
        self.add_action = self._action(self.tr("&Add…"), [new], self.add_connection, pixmap.SP_FileDialogNewFolder)
        self.edit_action = self._action(
            self.tr("&Edit…"),
            [QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)],
            self._edit_current,
            pixmap.SP_FileDialogDetailedView,
        )
        self.test_action = self._action(self.tr("&Test"), [QKeySequence("Ctrl+T")], self._test_current,
                                        pixmap.SP_BrowserReload)  # fmt: skip
        self.remove_action = self._action(self.tr("&Remove…"), [delete], self._remove_current, pixmap.SP_TrashIcon)

        buttons = QHBoxLayout()
        for action in (self.add_action, self.edit_action, self.test_action, self.remove_action):
            button = QPushButton(action.icon(), action.text().replace("…", "") + "…" * action.text().endswith("…"))
            button.setToolTip(f"{action.text().replace('&', '')} ({action.shortcut().toString()})")
            button.setAccessibleName(action.text().replace("&", "").replace("…", ""))
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
            action.changed.connect(lambda b=button, a=action: b.setEnabled(a.isEnabled()))
        buttons.addStretch(1)
        self.hint = QLabel(self)
        self.hint.setAccessibleName(self.tr("Hint"))
        self.hint.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.view)
        layout.addWidget(self.hint)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        backend.config_changed.connect(self.reload)
        backend.events.finished.connect(lambda *_args: self.reload())
        self._update_actions()

    def _action(
        self, text: str, keys: list[QKeySequence], slot: Callable[[], object], icon: QStyle.StandardPixmap
    ) -> QAction:
        return page_action(self, text, keys, self.style().standardIcon(icon), slot)

    # -- rows ----------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Show the config's connections again, keeping the selection."""
        current = self.current()
        self.model.reload()
        fit_columns(self.view, stretch=COLUMNS.index("server"))
        if current and (row := self.model.row_of(current)) >= 0:
            self.view.selectRow(row)

    def connection_at(self, row: int) -> str:
        """The name of the connection in ``row``."""
        return self.model.name_at(row)

    def current(self) -> str | None:
        """The selected connection's name, or None."""
        rows = self.view.selectionModel().selectedRows()
        return self.connection_at(rows[0].row()) if rows else None

    def select(self, name: str) -> None:
        """Select the named connection."""
        row = self.model.row_of(name)
        if row >= 0:
            self.view.selectRow(row)

    def _update_actions(self) -> None:
        selected = self.current() is not None
        for action in (self.edit_action, self.test_action, self.remove_action):
            action.setEnabled(selected)
        if self.model.rowCount() == 0:
            self.hint.setText(
                self.tr("No connections yet: Add… ({0}) sets up an SFTP, WebDAV or B2C Commerce server; then drop "
                        "files on it to upload them.").format(self.add_action.shortcut().toString())
            )  # fmt: skip
        else:
            self.hint.setText(self.tr("Drop files on a connection to upload them"))

    # -- actions -------------------------------------------------------------------------------------
    def add_connection(self) -> ConnectionDialog:
        """Open the dialog for a new connection."""
        return self._open_dialog(None)

    def edit_connection(self, name: str) -> ConnectionDialog:
        """Open the dialog for an existing connection."""
        return self._open_dialog(name)

    def _open_dialog(self, name: str | None) -> ConnectionDialog:
        self.dialog = ConnectionDialog(self.backend, name, self)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.saved.connect(self.select)
        self.dialog.open()
        return self.dialog

    def _edit_current(self) -> None:
        if (name := self.current()) is not None:
            self.edit_connection(name)

    def _test_current(self) -> None:
        if (name := self.current()) is not None:
            self.test_connection(name)

    def _remove_current(self) -> None:
        if (name := self.current()) is not None:
            self.remove(name)

    def test_connection(self, name: str) -> TestConnectionDialog:
        """Open the step-by-step check of a connection and start it."""
        self.test_dialog = TestConnectionDialog(self.backend, name, self)
        self.test_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.test_dialog.checked.connect(lambda ok, message: self.model.set_test_result(name, ok, message))
        self.test_dialog.show()
        self.test_dialog.start()
        return self.test_dialog

    def remove(self, name: str) -> bool:
        """Ask, then remove the connection, its keyring entries and (when unused) its host-key pin."""
        question = self.tr(
            "Remove the connection {0}?\n\nIts stored password, passphrase or token is deleted from the OS keyring."
        ).format(name)
        if not self.confirm(self, self.tr("Remove connection"), question):
            return False
        try:
            remove_connection(self.backend.ctx, name)
        except TransferAppError as exc:
            self.show_error(self, exc.message, exc.hint or "")
            return False
        self.model.tests.pop(name, None)
        self.backend.config_changed.emit()
        return True

    def _dropped(self, row: int, paths: list[str]) -> None:
        sending.confirm_and_send(self, self.backend, sending.DropTarget(connection=self.connection_at(row)), paths)

    def index_of(self, name: str) -> QModelIndex:
        """The model index of a connection's first cell (invalid when unknown)."""
        row = self.model.row_of(name)
        return self.model.index(row, 0) if row >= 0 else QModelIndex()
