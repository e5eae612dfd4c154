"""The jobs table: every job in the config file with its schedule, next run and last result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont

from transferapp.config import Config
from transferapp.errors import ConfigError, TransferAppError
from transferapp.jobs.agent import UNSCHEDULED_PULL
from transferapp.jobs.model import JobSpec, job_from_toml
from transferapp.jobs.schedule import local_now
from transferapp.store.jobs import JobRun, JobStore

COLUMNS = ("name", "kind", "connection", "folder", "schedule", "next_run", "last_result", "enabled")
NEXT_RUN_ROLE = Qt.ItemDataRole.UserRole + 1  # the next run as an aware datetime (None when not timed)
ERROR_COLOR = QColor("#c62828")
AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class JobRow:
    """One row: the job (None when its table is invalid), its config error, and its last run."""

    name: str
    job: JobSpec | None
    error: str
    run: JobRun
    next_at: datetime | None
    next_text: str


def next_run(job: JobSpec, last_run: datetime | None, now: datetime) -> tuple[datetime | None, str]:
    """When the agent runs the job next, as the agent's own schedule computes it, with a short text."""
    if not job.enabled:
        return None, "disabled"
    schedule = job.schedule or (UNSCHEDULED_PULL if job.kind == "pull" else None)
    if schedule is None:
        return None, "when files appear"
    if last_run is None:
        if schedule.cron is not None:
            moment = schedule.next_run(now)
        else:
            moment = schedule.window.next_open(now) if schedule.window is not None else now
    else:
        moment = schedule.next_run(last_run.astimezone(now.tzinfo))
    if moment <= now:
        return moment, "now"
    return moment, format_time(moment, now)


def format_time(moment: datetime, now: datetime) -> str:
    """'14:05' today, else '2024-05-01 14:05'."""
    local = moment.astimezone(now.tzinfo)
    return f"{local:%H:%M}" if local.date() == now.date() else f"{local:%Y-%m-%d %H:%M}"


def schedule_text(job: JobSpec) -> str:
    """The schedule in words: 'watch folder', 'every 15 min', 'daily at 02:00, only 01:00-05:00'."""
    if job.schedule is not None:
        return job.schedule.describe()
    return "watch folder" if job.kind == "push" else f"{UNSCHEDULED_PULL.describe()} (default)"


def folder_text(job: JobSpec) -> str:
    """The local folder of a push job, or the remote folder and pattern of a pull job."""
    if job.kind == "push":
        return str(job.watch) + ("/**" if job.recursive else "")
    remote = f"{job.remote_dir}/{job.pattern}" if job.remote_dir else job.pattern
    return f"{remote} -> {job.target}"


def read_rows(config: Config, store: JobStore, now: datetime | None = None) -> list[JobRow]:
    """Every job table, each validated on its own (one broken job does not hide the others)."""
    now = now or local_now()
    tables = config.other.get("jobs", {})
    rows = []
    for name, table in sorted(tables.items() if isinstance(tables, dict) else []):
        run = store.last_run(name)
        try:
            job = job_from_toml(name, table if isinstance(table, dict) else {}, str(config.path))
            if job.connection not in config.connections:
                known = ", ".join(sorted(config.connections)) or "none yet"
                raise ConfigError(
                    f"job {name!r} uses connection {job.connection!r}, which does not exist",
                    f"known connections: {known}; edit the job or add the connection",
                )
        except TransferAppError as exc:
            rows.append(JobRow(name, None, exc.message, run, None, "-"))
            continue
        at, text = next_run(job, run.last_run, now)
        rows.append(JobRow(name, job, "", run, at, text))
    return rows


class JobsModel(QAbstractTableModel):
    """Rows of JobRow, refreshed as a whole (a handful of jobs)."""

    enabled_toggled = Signal(str, bool)  # job name, wanted state (the enabled checkbox was clicked)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[JobRow] = []
        self.headers = (
            self.tr("Name"), self.tr("Kind"), self.tr("Connection"), self.tr("Folder"), self.tr("Schedule"),
            self.tr("Next run"), self.tr("Last result"), self.tr("Enabled"),
        )  # fmt: skip

    def set_rows(self, rows: list[JobRow]) -> None:
        """Replace the rows, keeping the view's selection when the names stay the same."""
        if [r.name for r in rows] == [r.name for r in self.rows]:
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def row_of(self, name: str) -> int:
        """The row index of a job, -1 when absent."""
        return next((i for i, r in enumerate(self.rows) if r.name == name), -1)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's name
        """Number of jobs."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's name
        """Number of columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        """Selectable rows; the enabled column is a checkbox; rows accept drops (push jobs)."""
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled
        if COLUMNS[index.column()] == "enabled" and self.rows[index.row()].job is not None:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Texts, the enabled checkbox, red errors with their tooltip, the next run as a datetime."""
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], COLUMNS[index.column()]
        if role == NEXT_RUN_ROLE:
            return row.next_at
        if role == Qt.ItemDataRole.CheckStateRole and column == "enabled" and row.job is not None:
            return Qt.CheckState.Checked if row.job.enabled else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and self._failed(row, column):
            return ERROR_COLOR
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.job is None:
                return row.error
            if column == "last_result" and row.run.last_error:
                return row.run.last_error
            if column == "next_run" and row.next_at is not None:
                return row.next_at.isoformat(timespec="seconds")
        if role == Qt.ItemDataRole.FontRole and column == "name":
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _failed(self, row: JobRow, column: str) -> bool:
        return row.job is None or (column == "last_result" and (row.run.last_result == "error" or
                                                                  "failed" in row.run.last_result))  # fmt: skip

    def _text(self, row: JobRow, column: str) -> str:
        job = row.job
        if column == "name":
            return row.name
        if job is None:
            return self.tr("invalid: {0}").format(row.error) if column == "kind" else ""
        if column == "kind":
            return job.kind
        if column == "connection":
            return job.connection
        if column == "folder":
            return folder_text(job)
        if column == "schedule":
            return schedule_text(job)
        if column == "next_run":
            words = {"disabled": self.tr("disabled"), "when files appear": self.tr("when files appear"),
                     "now": self.tr("now")}  # fmt: skip
            return words.get(row.next_text, row.next_text)
        if column == "last_result":
            return self._result(row)
        return self.tr("yes") if job.enabled else self.tr("no")

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        """A click on the enabled checkbox asks the page to switch the job (it saves the config)."""
        if role != Qt.ItemDataRole.CheckStateRole or COLUMNS[index.column()] != "enabled":
            return False
        row = self.rows[index.row()]
        if row.job is None:
            return False
        self.enabled_toggled.emit(row.name, Qt.CheckState(value) == Qt.CheckState.Checked)
        return True

    def _result(self, row: JobRow) -> str:
        run = row.run
        if run.last_run is None and not run.last_result:
            return self.tr("never ran")
        when = format_time(run.last_run, local_now()) if run.last_run else ""
        result = run.last_result + (f": {run.last_error}" if run.last_error else "")
        return f"{when} {result}".strip()
