"""Sending dropped files: the confirmation (remote folder, encryption) and queueing them for the agent."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from transferapp.config import Connection
from transferapp.encryption import EncryptPolicy
from transferapp.errors import TransferAppError
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.drop_dialog import DropDialog
from transferapp.gui.workers import error_text
from transferapp.uploads import QueuedUpload, expand_sources, remote_folder

PCI_MARK = "payment card number"  # the PCI guard's refusal names this (transferapp.publish_pgp.pci_guard)

#: Tests (and scripted use) set this to a callable that gets the filled-in dialog and returns True to send;
#: when None the dialog is shown modally.
confirm_hook: Callable[[DropDialog], bool] | None = None


def _tr(text: str) -> str:
    return QCoreApplication.translate("sending", text)


@dataclass(frozen=True)
class DropTarget:
    """Where dropped files go: a connection (and folder under it), or a push job's connection, folder and encryption."""

    connection: str
    remote_dir: str | None = None
    job: str | None = None


@dataclass
class DropPlan:
    """What a drop will do: the connection, the remote folder, the encryption and the files found."""

    connection: Connection
    remote_dir: str | None  # passed to Backend.send (under the connection's folder, or absolute)
    remote_display: str  # the folder on the server, as the user reads it
    policy: EncryptPolicy | None
    key_labels: list[str]
    files: list[tuple[Path, str]]
    problems: list[str] = field(default_factory=list)

    @property
    def pci_guard(self) -> bool:
        """Whether unencrypted files are checked for card numbers before they leave."""
        return self.policy is None and bool(self.connection.option("pci_guard"))

    @property
    def total_bytes(self) -> int:
        """The size of all files together."""
        total = 0
        for path, _ in self.files:
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total


def _join(*parts: str | None) -> str | None:
    """Remote folder parts joined ('' parts skipped; an absolute part starts over)."""
    result = ""
    for part in parts:
        if not part:
            continue
        result = part if part.startswith("/") or not result else result.rstrip("/") + "/" + part.lstrip("/")
    return result or None


def plan_drop(backend: Backend, target: DropTarget, paths: list[str]) -> DropPlan:
    """Resolve a drop: connection, remote folder and encryption (a job's own when dropped on a job); raises
    TransferAppError naming the fix when a setting is wrong (unknown connection, unusable key, ...)."""
    ctx = backend.ctx
    required = None
    remote_dir = target.remote_dir
    name = target.connection
    if target.job:
        from transferapp.jobs.model import load_jobs

        job = load_jobs(ctx.config).get(target.job)
        if job is None or job.kind != "push":
            raise TransferAppError(
                _tr("There is no push job named {0}").format(target.job), _tr("drop the files onto a push job")
            )
        name = job.connection
        remote_dir = _join(job.remote_dir, target.remote_dir)
        required = job.encryption
    conn = backend.connection(name)
    required = required or conn.encryption
    policy = None
    labels: list[str] = []
    if required is not None:
        from transferapp.pgp.policy import build_policy

        keys = ctx.keys()
        policy = build_policy(keys, required)
        for fingerprint in policy.recipients if policy else ():
            try:
                labels.append(keys.info(fingerprint).label)
            except TransferAppError:
                labels.append(fingerprint)
    files, problems = expand_sources(paths)
    display = conn.remote.join(remote_folder(remote_dir)) if remote_dir else conn.remote.path
    return DropPlan(conn, remote_dir, display, policy, labels, files, problems)


def confirm_and_send(parent: QWidget, backend: Backend, target: DropTarget, paths: list[str]) -> QueuedUpload | None:
    """Ask for confirmation (showing the remote folder and whether the files are encrypted), then queue them;
    None when the user cancels or a setting is wrong (shown to the user)."""
    try:
        plan = plan_drop(backend, target, paths)
    except Exception as exc:  # a wrong setting or a key problem: say what and how to fix it
        show_message(parent, _tr("Cannot send the dropped files"), *error_text(exc))
        return None
    if not plan.files:
        show_message(parent, _tr("Nothing to send"), "\n".join(plan.problems) or _tr("The drop held no files."), "")
        return None
    dialog = DropDialog(plan, parent)
    accepted = confirm_hook(dialog) if confirm_hook is not None else dialog.exec() == QDialog.DialogCode.Accepted
    dialog.deleteLater()
    if not accepted:
        return None
    try:
        queued = backend.send(plan.connection.name, paths, plan.remote_dir, plan.policy)
    except Exception as exc:
        show_message(parent, _tr("Cannot send the dropped files"), *error_text(exc))
        return None
    if queued.problems:
        show_message(parent, _tr("Some dropped files were not sent"), "\n".join(queued.problems), "")
    if queued.ids:
        tracker(backend).track(queued, plan.connection.name, parent)
    return queued


def show_message(parent: QWidget | None, title: str, message: str, hint: str, error: bool = True) -> QMessageBox:
    """A non-modal message box (opened, not exec'd) with the message and the fix."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if error else QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setText(message)
    if hint:
        box.setInformativeText(_tr("How to fix it: {0}").format(hint))
    box.setAccessibleName(title)
    box.open()
    last_messages.append(box)
    del last_messages[:-10]
    return box


last_messages: list[QMessageBox] = []  # the latest messages shown (newest last), for tests and for keeping them alive


@dataclass
class _Batch:
    connection: str
    ids: set[int]
    parent: QWidget | None
    statuses: dict[int, str] = field(default_factory=dict)


class DropTracker(QObject):
    """Follows drop batches: a notification when a batch ends, a plain message when the PCI guard refuses a file."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.setObjectName("dropTracker")
        self.backend = backend
        self.batches: dict[str, _Batch] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.settle_all)
        backend.events.finished.connect(self._finished)

    def track(self, queued: QueuedUpload, connection: str, parent: QWidget | None) -> None:
        """Watch the transfers of one drop until all have ended."""
        self.batches[queued.batch] = _Batch(connection, set(queued.ids), parent)
        self.timer.start()

    def _finished(self, transfer_id: int, status: str, error: str, hint: str) -> None:
        for key, batch in list(self.batches.items()):
            if transfer_id not in batch.ids:
                continue
            batch.statuses[transfer_id] = status
            if status == "failed" and PCI_MARK in error:
                show_message(batch.parent, self.tr("A file was not sent: it holds card numbers"), error, hint)
            self.settle(key)

    def settle(self, key: str) -> None:
        """Notify and forget the batch once every transfer of it has ended (also ones cancelled while queued)."""
        batch = self.batches.get(key)
        if batch is None:
            return
        for item_id in batch.ids - set(batch.statuses):
            try:
                state = self.backend.ctx.queue.get(item_id).state
            except TransferAppError:
                state = "failed"
            if state in ("done", "failed", "cancelled"):
                batch.statuses[item_id] = "ok" if state == "done" else state
        if len(batch.statuses) < len(batch.ids):
            return
        del self.batches[key]
        if not self.batches:
            self.timer.stop()
        total = len(batch.ids)
        ok = sum(1 for s in batch.statuses.values() if s == "ok")
        if ok == total:
            one = self.tr("Sent 1 file to {0}").format(batch.connection)
            title = one if total == 1 else self.tr("Sent {0} files to {1}").format(total, batch.connection)
            self.backend.notify.emit(title, self.tr("Every dropped file was delivered."), "info")
        else:
            title = self.tr("{0} of {1} files failed to reach {2}").format(total - ok, total, batch.connection)
            self.backend.notify.emit(title, self.tr("See the Transfers page for the reasons."), "error")

    def settle_all(self) -> None:
        """Check every batch against the queue (for transfers cancelled before they started)."""
        for key in list(self.batches):
            self.settle(key)


def tracker(backend: Backend) -> DropTracker:
    """The backend's drop tracker (made on first use)."""
    found = backend.findChild(DropTracker, "dropTracker")
    return found if isinstance(found, DropTracker) else DropTracker(backend)
