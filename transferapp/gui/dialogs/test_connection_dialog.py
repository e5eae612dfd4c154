"""Tests a connection in the background, step by step, and asks about an unknown or changed SSH host key."""

from __future__ import annotations

import copy
import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from transferapp.conncheck import CONNECT, FOLDER, HOST_KEY, LOGIN, RESOLVE, TLS, CheckStep, check_connection
from transferapp.errors import HostKeyError, TransferAppError
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.host_key_dialog import HostKeyDialog
from transferapp.gui.workers import Task, error_text, run_task


class TestConnectionDialog(QDialog):
    """Shows each step of a connection check (resolve, connect, host key or TLS, log in, folder) as it ends."""

    __test__ = False  # not a pytest class, despite the name
    checked = Signal(bool, str)  # passed, and the failing step's message

    def __init__(self, backend: Backend, connection: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.connection = connection
        self.results: dict[str, CheckStep] = {}
        self.host_key_dialog: HostKeyDialog | None = None
        self.task: Task | None = None
        self.passed: bool | None = None
        self.setWindowTitle(self.tr("Test connection {0}").format(connection))
        self.resize(560, 320)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(self.tr("Result"))
        self.list = QListWidget(self)
        self.list.setAccessibleName(self.tr("Steps"))
        self.list.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.again_button: QPushButton = self.buttons.addButton(
            self.tr("Test &again"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.again_button.setAccessibleName(self.tr("Test again"))
        self.again_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.list)
        layout.addWidget(self.buttons)

    def step_names(self) -> list[str]:
        """The steps this connection's check goes through, in order."""
        scheme = self.backend.connection(self.connection).remote.scheme
        middle = {"sftp": [HOST_KEY], "webdavs": [TLS]}.get(scheme, [])
        return [RESOLVE, CONNECT, *middle, LOGIN, FOLDER]

    def start(self) -> None:
        """Run the check on the thread pool; steps show up as they end."""
        if self.task is not None:
            return
        try:
            conn = copy.deepcopy(self.backend.connection(self.connection))
            names = self.step_names()
        except TransferAppError as exc:
            self._finish(False, exc.message)
            return
        self.results.clear()
        self.passed = None
        self.list.clear()
        waiting = self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        for name in names:
            item = QListWidgetItem(waiting, self.tr("{0}: waiting").format(name))
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
        self.summary.setText(self.tr("Testing {0}…").format(conn.url))
        self.again_button.setEnabled(False)
        ctx = self.backend.ctx
        holder: list[Task] = []
        ready = threading.Event()  # the task reports through itself, so it must exist before the check starts

        def run() -> bool:
            ready.wait()
            return check_connection(ctx, conn, lambda step: holder[0].report(step))

        self.task = run_task(run, on_result=self._done, on_error=self._crashed, on_report=self._step)
        holder.append(self.task)
        ready.set()

    def _item(self, name: str) -> QListWidgetItem:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                return item
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, name)
        self.list.addItem(item)
        return item

    def _step(self, step: CheckStep) -> None:
        self.results[step.step] = step
        icon = QStyle.StandardPixmap.SP_DialogApplyButton if step.ok else QStyle.StandardPixmap.SP_MessageBoxCritical
        text = f"{step.step}: {step.message}" + (f"\n{self.tr('Fix:')} {step.hint}" if step.hint else "")
        item = self._item(step.step)
        item.setIcon(self.style().standardIcon(icon))
        item.setText(text)
        item.setToolTip(text)
        if not step.ok:
            for row in range(self.list.row(item) + 1, self.list.count()):
                later = self.list.item(row)
                later.setText(self.tr("{0}: not run").format(later.data(Qt.ItemDataRole.UserRole)))
                later.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaStop))

    def failed_step(self) -> CheckStep | None:
        """The step that failed in the last run, if any."""
        return next((step for step in self.results.values() if not step.ok), None)

    def _done(self, ok: bool) -> None:
        self.task = None
        failed = self.failed_step()
        self._finish(bool(ok), failed.message if failed else "")
        if failed is not None and isinstance(failed.error, HostKeyError):
            self.ask_host_key(failed.error)

    def _crashed(self, exc: BaseException) -> None:
        self.task = None
        message, hint = error_text(exc)
        self._step(CheckStep("error", False, message, hint))
        self._finish(False, message)

    def _finish(self, ok: bool, message: str) -> None:
        self.passed = ok
        self.again_button.setEnabled(True)
        if ok:
            self.summary.setText(self.tr("The connection works: every step passed."))
        else:
            self.summary.setText(self.tr("The test failed: {0}").format(message))
        self.checked.emit(ok, message)

    def ask_host_key(self, error: HostKeyError) -> HostKeyDialog:
        """Show the host-key dialog; after the key is accepted, the check runs again (and pins it)."""
        self.host_key_dialog = HostKeyDialog(self.backend, self.connection, error, self)
        self.host_key_dialog.accepted.connect(self.start)
        self.host_key_dialog.open()
        return self.host_key_dialog
