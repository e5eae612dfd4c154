"""The Transfer log table: newest first, fetched a page at a time in the background, never the whole log."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from transferapp.gui.workers import error_text, run_task
from transferapp.store.log import LogEntry, LogFilter, QueryStopped, TransferLog
from transferapp.units import human_bytes

TIME, CONNECTION, DIRECTION, FILE, REMOTE, SIZE, STATUS, DURATION, ERROR = range(9)
HEADERS = ("Time", "Connection", "Direction", "File", "Remote path", "Size", "Status", "Duration", "Error")
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's LogEntry
PAGE_SIZE = 500
STATUS_LABELS = {"ok": "OK", "failed": "Failed", "retry": "Retry", "cancelled": "Cancelled"}
DIRECTION_LABELS = {"up": "Upload", "down": "Download"}
ModelIndex = QModelIndex | QPersistentModelIndex


def _tr(text: str) -> str:
    return QCoreApplication.translate("LogModel", text)


@functools.lru_cache(maxsize=4096)
def local_time(at: str) -> str:
    """An ISO time (UTC) as local 'YYYY-MM-DD HH:MM:SS'; the text itself when it is not ISO."""
    try:
        return datetime.fromisoformat(at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return at


def format_duration(seconds: float) -> str:
    """'0.4 s', '12.0 s', '3 min 05 s'."""
    if seconds < 60:
        return _tr("{0:.1f} s").format(seconds)
    whole = int(seconds + 0.5)
    return _tr("{0} min {1:02d} s").format(whole // 60, whole % 60)


def _page(log: TransferLog, where: LogFilter, before: int | None, size: int, stop: threading.Event) -> Any:
    """One page, or None when a newer filter stopped the query."""
    try:
        return log.page(where, before, size, stop.is_set)
    except QueryStopped:
        return None


def _count(log: TransferLog, where: LogFilter, stop: threading.Event) -> int | None:
    """The matching rows, or None when a newer filter stopped the count."""
    try:
        return log.count(where, stop.is_set)
    except QueryStopped:
        return None


class LogModel(QAbstractTableModel):
    """Log rows matching a filter; holds only the pages fetched so far (``fetchMore`` asks for the next one)."""

    loading_changed = Signal(bool)  # a page is being fetched
    page_loaded = Signal(int)  # rows held now (after a page or newer rows arrived)
    count_changed = Signal(int)  # rows matching the filter; -1 while counting
    failed = Signal(str, str)  # message, hint: a query failed

    def __init__(self, log: TransferLog, page_size: int = PAGE_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log, self.page_size = log, page_size
        self.pool = QThreadPool(self)  # its own threads: a long verify elsewhere never delays a page
        self.pool.setMaxThreadCount(2)
        self._filter = LogFilter()
        self._rows: list[LogEntry] = []
        self._exhausted = False
        self._loading = False
        self._newer_running = self._newer_again = False
        self._count: int | None = None
        self._count_seq = 0  # only the newest count's answer is taken
        self._stop = threading.Event()  # set when the filter changes: stale queries abort
        self._current = [self._stop]  # the live one, for the destroyed handler (which must not touch self)
        self._icons: dict[str, QIcon] = {}
        self.destroyed.connect(lambda *_, current=self._current: current[0].set())

    # -- filter and fetching -----------------------------------------------------------------------
    @property
    def filter(self) -> LogFilter:
        """The filter the rows match."""
        return self._filter

    @property
    def count(self) -> int | None:
        """How many rows match the filter (None until counted)."""
        return self._count

    def is_loading(self) -> bool:
        """True while a page is being fetched."""
        return self._loading

    def held_rows(self) -> int:
        """Rows in memory (the pages fetched so far)."""
        return len(self._rows)

    def set_filter(self, where: LogFilter) -> None:
        """Show rows matching ``where``: drop what is held, fetch the first page and count in the background."""
        self._stop.set()
        self._stop = self._current[0] = threading.Event()
        self.beginResetModel()
        self._filter, self._rows, self._exhausted, self._loading = where, [], False, False
        self._newer_running = self._newer_again = False
        self._count = None
        self.endResetModel()
        self._fetch()
        self.count_changed.emit(-1)

    def _start_count(self) -> None:
        """Count in the background (after the first page, so the two never compete for the disk and CPU)."""
        stop, self._count_seq = self._stop, self._count_seq + 1
        seq = self._count_seq
        self._run(_count, self.log, self._filter, stop, on_result=lambda n: self._counted(stop, n, seq))

    def reload(self) -> None:
        """Fetch the current filter from the start again."""
        self.set_filter(self._filter)

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008, N802 - Qt API
        """More rows match than are held, and no page is on its way."""
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008, N802 - Qt API
        """Fetch the next page in the background (rows are added when it arrives)."""
        if self.canFetchMore(parent):
            self._fetch()

    def _fetch(self) -> None:
        before = self._rows[-1].id if self._rows else None
        stop = self._stop
        self._set_loading(True)
        self._run(
            _page, self.log, self._filter, before, self.page_size, stop, on_result=lambda rows: self._got(stop, rows)
        )

    def _got(self, stop: threading.Event, rows: list[LogEntry] | None) -> None:
        if stop is not self._stop or rows is None:
            return  # a newer filter replaced this one
        self._set_loading(False)
        first_page = not self._rows
        if len(rows) < self.page_size:
            self._exhausted = True
            if first_page:  # everything that matches is here: no count query needed
                self._counted(stop, len(rows))
        elif first_page:
            self._start_count()
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self.page_loaded.emit(len(self._rows))

    def refresh(self) -> None:
        """Add rows appended since the newest one held, on top (filter, pages and selection stay)."""
        if self._loading and not self._rows:
            return  # the first page is on its way and will hold them
        if not self._rows:
            self.reload()
            return
        if self._newer_running:
            self._newer_again = True
            return
        self._newer_running, stop = True, self._stop
        newest = self._rows[0].id or 0
        self._run(
            self.log.newer, self._filter, newest, self.page_size, on_result=lambda rows: self._got_newer(stop, rows)
        )

    def _got_newer(self, stop: threading.Event, rows: list[LogEntry]) -> None:
        if stop is not self._stop:
            return
        self._newer_running = False
        if len(rows) >= self.page_size:  # more arrived than a page: start over rather than leave a gap
            self.reload()
            return
        if rows:
            self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
            self._rows[:0] = rows
            self.endInsertRows()
            if self._count is not None:
                self._count += len(rows)
                self.count_changed.emit(self._count)
            else:  # a count is under way and may have missed them: count again (its answer wins)
                self._start_count()
            self.page_loaded.emit(len(self._rows))
        if self._newer_again:
            self._newer_again = False
            self.refresh()

    def _counted(self, stop: threading.Event, count: int | None, seq: int | None = None) -> None:
        if stop is self._stop and count is not None and seq in (None, self._count_seq):
            self._count = count
            self.count_changed.emit(count)

    def _run(self, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], object]) -> None:
        """Run ``fn`` on this model's threads; the result is dropped if the model is gone by then."""
        stop = self._stop

        def result(value: Any) -> None:
            if shiboken6.isValid(self):
                on_result(value)

        def error(exc: BaseException) -> None:
            if shiboken6.isValid(self) and stop is self._stop:
                self._set_loading(False)
                self._newer_running = False
                self._exhausted = True  # do not retry in a loop; reload() starts over
                self.failed.emit(*error_text(exc))

        run_task(fn, *args, on_result=result, on_error=error, pool=self.pool)

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)

    # -- the table ---------------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        """Rows held (grows as pages arrive)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        """The nine columns."""
        return 0 if parent.isValid() else len(HEADERS)

    def entry(self, row: int) -> LogEntry | None:
        """The log row shown in table row ``row``."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _tr(HEADERS[section])
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, tooltips, alignment, status icons and the row's LogEntry (ENTRY_ROLE)."""
        entry = self.entry(index.row())
        if entry is None or not index.isValid():
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return {TIME: entry.at, FILE: entry.local_path, REMOTE: entry.remote_path, ERROR: entry.error}.get(column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (SIZE, DURATION):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS:
            return self._icon(entry.status)
        if role == ENTRY_ROLE:
            return entry
        return None

    @staticmethod
    def _text(entry: LogEntry, column: int) -> str:
        if column == TIME:
            return local_time(entry.at)
        if column == CONNECTION:
            return entry.connection
        if column == DIRECTION:
            return _tr(DIRECTION_LABELS.get(entry.direction, entry.direction))
        if column == FILE:
            return entry.local_path
        if column == REMOTE:
            return entry.remote_path
        if column == SIZE:
            return human_bytes(entry.bytes)
        if column == STATUS:
            return _tr(STATUS_LABELS.get(entry.status, entry.status))
        if column == DURATION:
            return format_duration(entry.duration)
        return entry.error.splitlines()[0] if entry.error else ""

    def _icon(self, status: str) -> QIcon | None:
        if status not in self._icons:
            pixmap = {
                "ok": QStyle.StandardPixmap.SP_DialogApplyButton,
                "failed": QStyle.StandardPixmap.SP_MessageBoxCritical,
                "retry": QStyle.StandardPixmap.SP_BrowserReload,
                "cancelled": QStyle.StandardPixmap.SP_DialogCancelButton,
            }.get(status)
            if pixmap is None:
                return None
            self._icons[status] = QApplication.style().standardIcon(pixmap)
        return self._icons[status]
