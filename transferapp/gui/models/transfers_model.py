"""The Transfers table: queue rows (newest first) updated in place from live events and from the database."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt

from transferapp.store.queue import QueueItem
from transferapp.units import human_bytes

NAME, DIRECTION, CONNECTION, REMOTE, SIZE, PROGRESS, RATE, ETA, STATUS = range(9)
HEADERS = ("File", "", "Connection", "Remote path", "Size", "Progress", "Rate", "ETA", "Status")
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1  # 0..100, or -1 when unknown
STATE_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's status key (queued, running, retry-wait, failed, ...)
RATE_WINDOW = 5.0  # seconds of progress samples the rate is measured over
FINISHED = ("done", "failed", "cancelled")
ModelIndex = QModelIndex | QPersistentModelIndex


def _tr(text: str) -> str:
    return QCoreApplication.translate("TransfersModel", text)


def format_rate(bytes_per_second: float | None) -> str:
    """'34.2 MiB/s'; '' when there is no rate yet."""
    if not bytes_per_second or bytes_per_second <= 0:
        return ""
    return f"{human_bytes(bytes_per_second)}/s"


def format_eta(seconds: float | None) -> str:
    """'8 s', '2 min 05 s', '1 h 02 min'; '' when unknown."""
    if seconds is None or seconds < 0 or seconds != seconds or seconds > 365 * 86400:
        return ""
    whole = int(seconds + 0.5)
    if whole < 60:
        return _tr("{0} s").format(whole)
    if whole < 3600:
        return _tr("{0} min {1:02d} s").format(whole // 60, whole % 60)
    return _tr("{0} h {1:02d} min").format(whole // 3600, whole % 3600 // 60)


def totals_text(counts: dict[str, int], rate: float) -> str:
    """'2 running · 5 queued · 1 failed · 34.2 MiB/s' (parts with zero left out); 'No transfers' when idle."""
    parts = []
    for key, text in (
        ("running", _tr("{0} running")),
        ("queued", _tr("{0} queued")),
        ("retry-wait", _tr("{0} waiting to retry")),
        ("failed", _tr("{0} failed")),
    ):
        if counts.get(key):
            parts.append(text.format(counts[key]))
    if counts.get("running") and rate > 0:
        parts.append(format_rate(rate))
    return " · ".join(parts) if parts else _tr("No transfers running")


class RateMeter:
    """Bytes per second over a sliding window of progress samples (clock injectable)."""

    def __init__(self, window: float = RATE_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.window, self.clock = window, clock
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, done: int) -> None:
        """Record the bytes done now (a drop in bytes, i.e. a restart, starts the window over)."""
        now = self.clock()
        if self.samples and done < self.samples[-1][1]:
            self.samples.clear()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()

    def rate(self) -> float:
        """Bytes per second over the window, 0 with fewer than two samples."""
        if len(self.samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0


@dataclass
class TransferRow:
    """One transfer as the table shows it."""

    item: QueueItem
    done: int
    total: int
    meter: RateMeter = field(default_factory=RateMeter)
    stopping: bool = False  # cancelled while running: the worker has not reported that it stopped yet

    @property
    def name(self) -> str:
        """The file's name (the local one for uploads, the remote one for downloads)."""
        path = self.item.local_path if self.item.direction == "up" else self.item.remote_path
        return path.replace("\\", "/").rsplit("/", 1)[-1]

    def status(self, now: float | None = None) -> str:
        """queued, retry-wait, running, cancelling, done, failed or cancelled."""
        state = self.item.state
        if state == "cancelled" and self.stopping:
            return "cancelling"
        if state == "publishing":
            return "running"
        if state == "queued" and self.item.attempts > 0 and self.item.next_attempt_at > (now or time.time()):
            return "retry-wait"
        return state

    def percent(self) -> int:
        """0..100, or -1 when the size is unknown."""
        if self.item.state == "done":
            return 100
        return min(100, int(self.done * 100 / self.total)) if self.total > 0 else -1

    def eta(self) -> float | None:
        """Seconds left at the current rate, None when unknown."""
        rate = self.meter.rate()
        if self.status() != "running" or rate <= 0 or self.total <= 0:
            return None
        return max(0, self.total - self.done) / rate


class TransfersModel(QAbstractTableModel):
    """Queue rows, newest first; ``merge`` adds or updates rows in place, ``progress`` updates one row's bytes."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[TransferRow] = []
        self._index: dict[int, int] = {}  # transfer id -> row number

    # -- Qt model API ------------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's API
        """Number of transfers shown."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's API
        """Number of columns."""
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _tr(HEADERS[section]) if HEADERS[section] else _tr("Dir")
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, tooltips, progress and state of a cell."""
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row) if column == STATUS else self._display(row, column) or None
        if role == PROGRESS_ROLE:
            return row.percent()
        if role == STATE_ROLE:
            return row.status()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (SIZE, RATE, ETA):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: TransferRow, column: int) -> str:
        item = row.item
        if column == NAME:
            return row.name
        if column == DIRECTION:
            return "↑" if item.direction == "up" else "↓"
        if column == CONNECTION:
            return item.connection
        if column == REMOTE:
            return item.remote_path
        if column == SIZE:
            return human_bytes(row.total) if row.total else ""
        if column == PROGRESS:
            percent = row.percent()
            return f"{percent} %" if percent >= 0 else ""
        if column == RATE:
            return format_rate(row.meter.rate()) if row.status() == "running" else ""
        if column == ETA:
            return format_eta(row.eta())
        return self.status_text(row)

    @staticmethod
    def status_text(row: TransferRow) -> str:
        """The status in words: 'Running', 'Retry in 12 s (attempt 2 of 5)', 'Failed: ...'."""
        status, item = row.status(), row.item
        if status == "retry-wait":
            wait = format_eta(item.next_attempt_at - time.time())
            return _tr("Retry in {0} (attempt {1} of {2})").format(wait, item.attempts + 1, item.max_attempts)
        if status == "failed":
            return _tr("Failed: {0}").format(item.error) if item.error else _tr("Failed")
        return {
            "queued": _tr("Queued"),
            "running": _tr("Publishing") if item.state == "publishing" else _tr("Running"),
            "done": _tr("Done"),
            "cancelled": _tr("Cancelled"),
            "cancelling": _tr("Cancelling…"),
        }.get(status, status)

    @staticmethod
    def tooltip(row: TransferRow) -> str:
        """Error and hint of a row (or its status)."""
        item = row.item
        if not item.error:
            return TransfersModel.status_text(row)
        return item.error + (_tr("\nHow to fix it: {0}").format(item.hint) if item.hint else "")

    # -- updates -----------------------------------------------------------------------------------
    def row_of(self, transfer_id: int) -> int:
        """The row number of a transfer, -1 when it is not shown."""
        return self._index.get(transfer_id, -1)

    def merge(self, items: Iterable[QueueItem]) -> None:
        """Add new transfers (on top) and update changed ones in place."""
        new: list[QueueItem] = []
        for item in items:
            number = self._index.get(item.id)
            if number is None:
                new.append(item)
                continue
            row = self.rows[number]
            if item == row.item:
                continue
            live = item.state == "running" and row.item.state == "running" and row.done > item.done_bytes
            row.item = item
            row.total = item.total_bytes or row.total
            if not live:  # the database lags the live progress of a running transfer
                row.done = item.done_bytes
            self._changed(number)
        if not new:
            return
        new.sort(key=lambda i: i.id, reverse=True)
        if self.rows and new[-1].id < self.rows[0].item.id:  # an older row appeared: rebuild the order
            self.beginResetModel()
            self.rows = sorted([*self.rows, *(self._row(i) for i in new)], key=lambda r: r.item.id, reverse=True)
            self._reindex()
            self.endResetModel()
            return
        self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
        self.rows[0:0] = [self._row(item) for item in new]
        self._reindex()
        self.endInsertRows()

    def remove(self, transfer_ids: Iterable[int]) -> None:
        """Take rows out of the view (the transfers stay in the queue)."""
        for number in sorted((self._index[i] for i in set(transfer_ids) if i in self._index), reverse=True):
            self.beginRemoveRows(QModelIndex(), number, number)
            del self.rows[number]
            self.endRemoveRows()
        self._reindex()

    def progress(self, transfer_id: int, done: int, total: int) -> None:
        """Live bytes of a running transfer."""
        number = self._index.get(transfer_id, -1)
        if number < 0:
            return
        row = self.rows[number]
        row.done, row.total = done, total or row.total
        row.meter.add(done)
        if row.item.state == "queued":
            row.item = _replace(row.item, state="running")
        self._changed(number, SIZE, STATUS)

    def set_state(self, transfer_id: int, **fields: Any) -> None:
        """Change fields of one row's queue item from a live event (state, error, hint, ...)."""
        number = self._index.get(transfer_id, -1)
        if number < 0:
            return
        row = self.rows[number]
        row.item = _replace(row.item, **fields)
        if fields.get("state") == "running":
            row.meter = RateMeter()
        self._changed(number)

    def set_stopping(self, transfer_id: int, stopping: bool) -> None:
        """Mark a row as cancelled but still winding down (it cannot be retried until its worker stopped)."""
        number = self._index.get(transfer_id, -1)
        if number >= 0 and self.rows[number].stopping != stopping:
            self.rows[number].stopping = stopping
            self._changed(number, STATUS, STATUS)

    def _row(self, item: QueueItem) -> TransferRow:
        return TransferRow(item, item.done_bytes, item.total_bytes)

    def _reindex(self) -> None:
        self._index = {row.item.id: n for n, row in enumerate(self.rows)}

    def _changed(self, number: int, first: int = 0, last: int = STATUS) -> None:
        self.dataChanged.emit(self.index(number, first), self.index(number, last))

    def counts(self) -> dict[str, int]:
        """How many rows are in each status."""
        counts: dict[str, int] = {}
        now = time.time()
        for row in self.rows:
            status = row.status(now)
            counts[status] = counts.get(status, 0) + 1
        return counts

    def total_rate(self) -> float:
        """The summed rate of the running transfers."""
        return sum(row.meter.rate() for row in self.rows if row.item.state in ("running", "publishing"))


def _replace(item: QueueItem, **fields: Any) -> QueueItem:
    import dataclasses

    return dataclasses.replace(item, **fields)
