"""The Jobs page: every push and pull job with its next run and last result; add, edit, switch, run now, remove."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from transferapp.errors import TransferAppError
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.job_dialog import JobDialog
from transferapp.gui.drops import FileDropTarget
from transferapp.gui.models.jobs_model import COLUMNS, JobRow, JobsModel, read_rows
from transferapp.gui.tables import fit_columns, page_action, page_toolbar, record_table
from transferapp.gui.workers import error_text, run_task
from transferapp.jobs.model import JobSpec
from transferapp.jobs.runner import collect, job_worker
from transferapp.store.jobs import JobStore

REFRESH_MS = 2000


def ask(parent: QWidget, title: str, text: str) -> bool:
    """A Yes/No question (the default ``confirm`` of the page; tests replace it)."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class JobsPage(QWidget):
    """Jobs."""

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.store = JobStore(backend.ctx.db)
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask(self, title, text)
        self.editor: JobDialog | None = None
        self._fitted_rows = -1
        self.model = JobsModel(self)
        self.view = record_table(self, self.model, self.tr("Jobs"))
        self.view.doubleClicked.connect(lambda _index: self.edit_job())
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Jobs status"))
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.toolbar = page_toolbar(self, self.tr("Job actions"))
        self._make_actions()
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view)
        layout.addWidget(self.status)
        self.drops = FileDropTarget(self.view, accepts=self._is_push_row)
        self.drops.dropped.connect(self._dropped)
        self.model.enabled_toggled.connect(self.set_enabled)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        backend.config_changed.connect(self.refresh)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    # -- actions -----------------------------------------------------------------------------------
    def _make_actions(self) -> None:
        pixmap = QStyle.StandardPixmap
        self.add_action = self._action(self.tr("&Add job…"), ["Ctrl+N"], pixmap.SP_FileDialogNewFolder, self.add_job)
        self.edit_action = self._action(self.tr("&Edit…"), ["Return", "Enter"], pixmap.SP_FileDialogDetailedView,
                                        self.edit_job)  # fmt: skip
        self.toggle_action = self._action(self.tr("Enable/&Disable"), ["Ctrl+E", "Space"], pixmap.SP_DialogApplyButton,
                                          self.toggle_job)  # fmt: skip
        self.run_action = self._action(self.tr("&Run now"), ["Ctrl+R"], pixmap.SP_MediaPlay, self.run_now)
        self.remove_action = self._action(self.tr("Re&move"), ["Delete"], pixmap.SP_TrashIcon, self.remove_job)
        self.toolbar.setAccessibleName(self.tr("Job actions"))

    def _action(self, text: str, keys: list[str], pixmap: QStyle.StandardPixmap, slot: Callable[[], object]) -> QAction:
        icon = self.style().standardIcon(pixmap)
        return page_action(self, text, [QKeySequence(k) for k in keys], icon, slot, self.toolbar)

    def _update_actions(self) -> None:
        row = self.selected()
        for action in (self.edit_action, self.toggle_action, self.run_action, self.remove_action):
            action.setEnabled(row is not None)
        if row is not None and row.job is None:
            for action in (self.toggle_action, self.run_action):
                action.setEnabled(False)

    # -- reading -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the jobs and their last runs again."""
        try:
            rows = read_rows(self.backend.ctx.config, self.store)
        except TransferAppError as exc:
            self.show_status(*error_text(exc), error=True)
            return
        self.model.set_rows(rows)
        if len(rows) != self._fitted_rows:
            self._fitted_rows = len(rows)
            fit_columns(self.view, stretch=COLUMNS.index("folder"))
        self._update_actions()
        if not rows and not self.status.text():
            self.status.setText(self.tr("No jobs yet. Add one with Ctrl+N: a folder to send, or files to fetch."))

    def selected(self) -> JobRow | None:
        """The selected job's row."""
        index = self.view.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()]

    def select(self, name: str) -> None:
        """Select a job by name."""
        row = self.model.row_of(name)
        if row >= 0:
            self.view.setCurrentIndex(self.model.index(row, 0))

    def _is_push_row(self, row: int) -> bool:
        job = self.model.rows[row].job if 0 <= row < len(self.model.rows) else None
        return job is not None and job.kind == "push"

    def show_status(self, message: str, hint: str = "", error: bool = False) -> None:
        """A line under the table (errors in red with their fix)."""
        self.status.setText(message + (f" — {hint}" if hint else ""))
        self.status.setStyleSheet("color: #c62828;" if error else "")

    # -- changing ----------------------------------------------------------------------------------
    def _tables(self) -> dict[str, object]:
        tables = self.backend.ctx.config.other.setdefault("jobs", {})
        assert isinstance(tables, dict)
        return tables

    def store_job(self, job: JobSpec) -> None:
        """Write one job's table (the others stay as they are) and tell the agent and the pages."""
        if job.target is not None and not job.target.exists():
            job.target.mkdir(parents=True)
        tables = self._tables()
        tables[job.name] = job.to_toml()
        self.backend.ctx.config.other["jobs"] = dict(sorted(tables.items()))
        self.backend.save_config()

    def add_job(self) -> JobDialog:
        """Open the editor for a new job."""
        return self._open_editor(None)

    def edit_job(self) -> JobDialog | None:
        """Open the editor for the selected job."""
        row = self.selected()
        if row is None:
            return None
        if row.job is None:
            self.show_status(row.error, self.tr("fix it in the config file, or remove the job"), error=True)
            return None
        return self._open_editor(row.job)

    def _open_editor(self, job: JobSpec | None) -> JobDialog:
        dialog = JobDialog(self.backend, job, self)
        dialog.accepted.connect(lambda: self._editor_done(dialog))
        self.editor = dialog
        dialog.open()
        return dialog

    def _editor_done(self, dialog: JobDialog) -> None:
        if dialog.job is None:
            return
        try:
            self.store_job(dialog.job)
        except (TransferAppError, OSError) as exc:
            self.show_status(*error_text(exc), error=True)
            return
        self.refresh()
        self.select(dialog.job.name)
        self.show_status(self.tr("Saved job {0}; the agent picks it up within a few seconds.").format(dialog.job.name))

    def toggle_job(self) -> None:
        """Switch the selected job on or off."""
        row = self.selected()
        if row is not None and row.job is not None:
            self.set_enabled(row.name, not row.job.enabled)

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Switch a job on or off in the config file."""
        table = self._tables().get(name)
        if not isinstance(table, dict):
            return
        if enabled:
            table.pop("enabled", None)
        else:
            table["enabled"] = False
        self.backend.save_config()
        self.refresh()
        self.select(name)
        state = self.tr("enabled") if enabled else self.tr("disabled")
        self.show_status(self.tr("Job {0} is {1}.").format(name, state))

    def remove_job(self) -> None:
        """Delete the selected job after confirmation; its files and folders are left as they are."""
        row = self.selected()
        if row is None:
            return
        question = self.tr("Remove the job {0}? Its files and folders are left as they are.").format(row.name)
        if not self.confirm(self.tr("Remove job"), question):
            return
        tables = self._tables()
        tables.pop(row.name, None)
        if not tables:
            self.backend.ctx.config.other.pop("jobs", None)
        self.backend.save_config()
        self.store.forget(row.name)
        self.refresh()
        self.show_status(self.tr("Removed job {0}.").format(row.name))

    # -- running -----------------------------------------------------------------------------------
    def run_now(self) -> None:
        """Queue the selected job's files now, in the background; the agent's engine sends them."""
        row = self.selected()
        if row is None or row.job is None:
            return
        job, ctx = row.job, self.backend.ctx
        self.show_status(self.tr("Running job {0}…").format(job.name))

        def work() -> int:
            store = JobStore(ctx.db)
            worker = job_worker(ctx, job, store)
            worker.settle()
            started = datetime.now().astimezone()
            try:
                count = collect(worker)
            except TransferAppError as exc:
                store.record_run(job.name, started, "error", exc.message)
                raise
            store.record_run(job.name, started, f"queued {count} file(s)")
            return count

        run_task(work, on_result=lambda count: self._ran(job.name, count), on_error=self._run_failed)

    def _ran(self, name: str, count: int) -> None:
        text = self.tr("Job {0}: {1} file(s) queued.").format(name, count)
        state = self.backend.state
        if count and state == "paused":
            text += " " + self.tr("Transfers are paused; they are sent when you resume.")
        elif count and state == "elsewhere":
            text += " " + self.tr("The agent (pid {0}) sends them.").format(self.backend.agent_holder())
        elif count and state != "running":
            text += " " + self.tr("They wait until the agent runs.")
        self.show_status(text)
        self.refresh()

    def _run_failed(self, exc: BaseException) -> None:
        self.show_status(*error_text(exc), error=True)
        self.refresh()

    def _dropped(self, row: int, paths: list[str]) -> None:
        job = self.model.rows[row].job
        if job is None:
            return
        from transferapp.gui.sending import DropTarget, confirm_and_send

        confirm_and_send(self, self.backend, DropTarget(connection=job.connection, job=job.name), paths)
