"""The Transfers page: queued, running and finished transfers with progress, rate and ETA; cancel, retry, open."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QIcon, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from transferapp.errors import TransferAppError
from transferapp.gui.backend import Backend
from transferapp.gui.models.transfers_model import (
    ETA,
    FINISHED,
    NAME,
    PROGRESS,
    PROGRESS_ROLE,
    RATE,
    STATUS,
    TransfersModel,
    totals_text,
)
from transferapp.gui.tables import fit_columns, page_action, page_toolbar, record_table
from transferapp.gui.workers import error_text
from transferapp.store.queue import QueueItem
from transferapp.store.queue import _item as queue_item

REFRESH_MS = 1000  # how often the database is read for transfers of other processes and for rates
RECENT_SECONDS = 86400.0  # finished transfers of the last day are shown
MAX_FINISHED = 2000  # and at most this many of them
STOP_GRACE = 10.0  # seconds after which a cancelled transfer whose worker never reported counts as stopped


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a progress bar."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """A bar with the percentage; an empty cell when the size is unknown."""
        percent = index.data(PROGRESS_ROLE)
        if not isinstance(percent, int) or percent < 0:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum, bar.progress = 0, 100, percent
        bar.text = f"{percent} %"
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class TransfersPage(QWidget):
    """Every transfer of the queue: live progress from the agent, plus rows other processes change."""

    totals_changed = Signal(str)  # a one-line summary for the status bar
    activity_changed = Signal(str)  # "idle", "busy" or "error", for the tray icon

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl  # tests replace it
        self.session_start = time.time()
        self.hidden: set[int] = set()  # ids taken out of the view by "Clear finished"
        self.stopping: dict[int, float] = {}  # cancelled while running -> when; retry waits until the worker stopped
        self.activity = "idle"
        self.problem = ""  # what went wrong with the last cancel or retry, shown in the details line
        self.totals = ""
        self._watermark = 0.0  # rows updated since this time are read again
        self.model = TransfersModel(self)
        self.view = record_table(self, self.model, self.tr("Transfers"), many=True)
        self.view.setWordWrap(False)
        self.view.setItemDelegateForColumn(PROGRESS, ProgressDelegate(self.view))
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((NAME, 220), (1, 30), (PROGRESS, 130)):
            header.resizeSection(column, width)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setAccessibleName(self.tr("Transfer details"))
        self.toolbar = page_toolbar(self, self.tr("Transfer actions"))
        self._make_actions()
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view)
        layout.addWidget(self.details)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        events = backend.events
        events.queued.connect(self._queued)
        events.started.connect(self._started)
        events.progress.connect(self._progress)
        events.retrying.connect(self._retrying)
        events.finished.connect(self._finished)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.load()
        fit_columns(self.view, stretch=STATUS, max_width=240)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)  # statuses read from the start
        for column, width in ((PROGRESS, 130), (RATE, 90), (ETA, 70)):
            header.resizeSection(column, width)
        self.timer.start()

    def _make_actions(self) -> None:
        icon = self.style().standardIcon
        pixmap = QStyle.StandardPixmap
        self.cancel_action = self._action(
            self.tr("&Cancel"), QKeySequence(QKeySequence.StandardKey.Delete), icon(pixmap.SP_DialogCancelButton),
            self.cancel_selected, self.tr("Cancel the selected transfers"),
        )  # fmt: skip
        self.retry_action = self._action(
            self.tr("&Retry"), QKeySequence("Ctrl+R"), icon(pixmap.SP_BrowserReload),
            self.retry_selected, self.tr("Retry the selected transfers"),
        )  # fmt: skip
        self.open_action = self._action(
            self.tr("&Open containing folder"), QKeySequence("Ctrl+O"), icon(pixmap.SP_DirOpenIcon),
            self.open_folder, self.tr("Open the folder of the local file"),
        )  # fmt: skip
        self.clear_action = self._action(
            self.tr("C&lear finished"), QKeySequence("Ctrl+Shift+L"), icon(pixmap.SP_DialogResetButton),
            self.clear_finished, self.tr("Hide finished transfers from this list"),
        )  # fmt: skip
        self._selection_changed()

    def _action(self, text: str, keys: QKeySequence, icon: QIcon, slot: Callable[[], None], tip: str) -> QAction:
        return page_action(self, text, [keys], icon, slot, self.toolbar, tip)

    # -- loading -----------------------------------------------------------------------------------
    def _rows(self, sql: str, args: list[object]) -> list[QueueItem]:
        return [queue_item(r) for r in self.backend.ctx.db.connection().execute(sql, args)]

    def load(self) -> None:
        """Read the active transfers and the recent finished ones."""
        now = time.time()
        active = self._rows("SELECT * FROM queue WHERE state NOT IN ('done', 'failed', 'cancelled')", [])
        finished = self._rows(
            "SELECT * FROM queue WHERE state IN ('done', 'failed', 'cancelled') AND updated_at >= ?"
            " ORDER BY id DESC LIMIT ?",
            [now - RECENT_SECONDS, MAX_FINISHED],
        )
        self._watermark = now
        self._merge(active + finished)

    def refresh(self) -> None:
        """Read the rows changed since the last read (other processes' transfers too); update rates and totals."""
        now = time.time()
        changed = self._rows("SELECT * FROM queue WHERE updated_at >= ?", [self._watermark - 2.0])
        self._watermark = now
        self._merge(changed)
        for transfer_id, since in list(self.stopping.items()):  # another process's worker sends us no event
            if time.monotonic() - since > STOP_GRACE:
                self._stopped(transfer_id)
        for number, row in enumerate(self.model.rows):  # rates, ETAs and retry countdowns move with time
            if row.status() in ("running", "retry-wait"):
                self.model.dataChanged.emit(self.model.index(number, RATE), self.model.index(number, STATUS))
        self._update_actions()
        self._update_totals()

    def _merge(self, items: list[QueueItem]) -> None:
        shown = []
        for item in items:
            if item.id in self.hidden and item.state in FINISHED:
                continue
            self.hidden.discard(item.id)
            shown.append(item)
        self.model.merge(shown)
        self._update_totals()

    def _fetch(self, transfer_id: int) -> None:
        with contextlib.suppress(TransferAppError):
            self._merge([self.backend.ctx.queue.get(transfer_id)])

    # -- live events -------------------------------------------------------------------------------
    def _queued(self, transfer_id: int) -> None:
        self._fetch(transfer_id)

    def _started(self, transfer_id: int, attempt: int, total: int) -> None:
        if self.model.row_of(transfer_id) < 0:
            self._fetch(transfer_id)
        self.model.set_state(transfer_id, state="running", attempts=attempt, error="", hint="")
        self.model.progress(transfer_id, 0, total)
        self._update_totals()

    def _progress(self, transfer_id: int, done: int, total: int) -> None:
        self.model.progress(transfer_id, done, total)

    def _retrying(self, transfer_id: int, attempt: int, delay: float, error: str) -> None:
        self.model.set_state(
            transfer_id, state="queued", attempts=attempt, next_attempt_at=time.time() + delay, error=error
        )
        self._update_totals()

    def _finished(self, transfer_id: int, status: str, error: str, hint: str) -> None:
        self._stopped(transfer_id)
        self._fetch(transfer_id)
        if self.model.row_of(transfer_id) == self.view.currentIndex().row():
            self._update_actions()

    def _stopped(self, transfer_id: int) -> None:
        if self.stopping.pop(transfer_id, None) is not None:
            self.model.set_stopping(transfer_id, False)

    # -- actions -----------------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        """The ids of the selected transfers (the current one when none is selected)."""
        rows = {index.row() for index in self.view.selectionModel().selectedRows()}
        if not rows and self.view.currentIndex().isValid():
            rows = {self.view.currentIndex().row()}
        return [self.model.rows[r].item.id for r in sorted(rows) if r < len(self.model.rows)]

    def _statuses(self) -> list[str]:
        return [self.model.rows[self.model.row_of(i)].status() for i in self.selected_ids()]

    def cancel_selected(self) -> None:
        """Cancel the selected queued or running transfers."""
        self._each(self._cancel, ("queued", "running", "retry-wait"))

    def _cancel(self, transfer_id: int) -> None:
        before = self.backend.cancel(transfer_id)
        if before.state in ("running", "publishing"):
            self.stopping[transfer_id] = time.monotonic()
            self.model.set_stopping(transfer_id, True)

    def retry_selected(self) -> None:
        """Queue the selected failed or cancelled transfers again."""
        self._each(self.backend.retry, ("failed", "cancelled"))

    def _each(self, action: Callable[[int], object], states: tuple[str, ...]) -> None:
        problems = []
        for transfer_id, status in zip(self.selected_ids(), self._statuses(), strict=True):
            if status not in states:
                continue
            try:
                action(transfer_id)
            except Exception as exc:
                message, hint = error_text(exc)
                problems.append(f"{message} ({hint})" if hint else message)
            self._fetch(transfer_id)
        self.problem = "\n".join(problems)
        self._update_actions()

    def open_folder(self) -> None:
        """Open the folder that holds the current transfer's local file."""
        ids = self.selected_ids()
        if not ids:
            return
        item = self.model.rows[self.model.row_of(ids[0])].item
        folder = Path(item.local_path).parent
        if item.direction == "down" and Path(item.local_path).is_dir():
            folder = Path(item.local_path)
        self.open_url(QUrl.fromLocalFile(str(folder)))

    def clear_finished(self) -> None:
        """Hide the finished transfers from the view (they stay in the queue and the log)."""
        done = [row.item.id for row in self.model.rows if row.item.state in FINISHED]
        self.hidden.update(done)
        self.model.remove(done)
        self._selection_changed()
        self._update_totals()

    def _selection_changed(self, *_args: object) -> None:
        self.problem = ""
        self._update_actions()

    def _update_actions(self) -> None:
        statuses = self._statuses()
        self.cancel_action.setEnabled(any(s in ("queued", "running", "retry-wait") for s in statuses))
        self.retry_action.setEnabled(any(s in ("failed", "cancelled") for s in statuses))
        self.open_action.setEnabled(bool(statuses))
        ids = self.selected_ids()
        text = ""
        if len(ids) == 1:
            row = self.model.rows[self.model.row_of(ids[0])]
            item = row.item
            arrow = "→" if item.direction == "up" else "←"
            text = f"{item.local_path} {arrow} {item.connection}:{item.remote_path} — {self.model.status_text(row)}"
            if item.hint:
                text += "\n" + self.tr("How to fix it: {0}").format(item.hint)
        elif ids:
            text = self.tr("{0} transfers selected").format(len(ids))
        self.details.setText("\n".join(part for part in (text, self.problem) if part))

    # -- totals ------------------------------------------------------------------------------------
    def _update_totals(self) -> None:
        counts = self.model.counts()
        text = totals_text(counts, self.model.total_rate())
        if text != self.totals:
            self.totals = text
            self.totals_changed.emit(text)
        failed_now = any(
            row.item.state == "failed" and row.item.updated_at >= self.session_start for row in self.model.rows
        )
        busy = any(counts.get(k) for k in ("running", "queued", "retry-wait"))
        activity = "error" if failed_now else "busy" if busy else "idle"
        if activity != self.activity:
            self.activity = activity
            self.activity_changed.emit(activity)
