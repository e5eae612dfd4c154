"""The Transfer log page: filter and search the log, see one row in full, export to CSV, verify the hash chain."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

from PySide6.QtCore import QDate, QLocale, QModelIndex, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStyle,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from transferapp.errors import TransferAppError
from transferapp.gui.backend import Backend
from transferapp.gui.models.log_model import LogModel
from transferapp.gui.pages.log_details import details_html
from transferapp.gui.tables import page_action, record_table
from transferapp.gui.workers import error_text, run_task
from transferapp.store.log import LogFilter, QueryStopped, VerifyReport

SEARCH_DELAY_MS = 250  # typing pauses this long before the search runs
REFRESH_DELAY_MS = 300  # transfers finishing in a burst refresh the table once
COLUMN_WIDTHS = (140, 90, 80, 220, 180, 80, 100, 70)


def day_start_utc(day: QDate) -> str:
    """Local midnight at the start of ``day`` as the log's ISO time (UTC)."""
    local = datetime.combine(day.toPython(), time()).astimezone()  # type: ignore[arg-type]
    return local.astimezone(UTC).isoformat(timespec="milliseconds")


class LogPage(QWidget):
    """Transfer log."""

    exported = Signal(int, str)  # rows written, file
    export_failed = Signal(str, str)  # message, hint
    verified = Signal(object)  # the VerifyReport

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.log = backend.ctx.log
        self.pool = QThreadPool(self)  # verify and export: long jobs on their own thread
        self.pool.setMaxThreadCount(1)
        self._export_stop = threading.Event()
        self.destroyed.connect(lambda *_, stop=self._export_stop: stop.set())
        self.choose_file: Callable[[], str] = self._ask_file  # tests call export_csv(path) instead
        self.model = LogModel(self.log, parent=self)
        self._applied: LogFilter | None = None
        self._make_filters()
        self._make_table()
        self.toolbar = QToolBar(self)
        self.toolbar.setAccessibleName(self.tr("Transfer log actions"))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._make_actions()
        reload_button = self.toolbar.widgetForAction(self.reload_action)
        if isinstance(reload_button, QToolButton):
            reload_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAccessibleName(self.tr("Transfer log status"))
        top = QHBoxLayout()  # two short rows, so the page fits a narrow window
        top.addWidget(self.toolbar)
        top.addStretch(1)
        top.addLayout(self.dates_bar)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.filter_bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.message)
        self.model.count_changed.connect(self._show_count)
        self.model.failed.connect(lambda message, hint: self.show_message(message, hint, error=True))
        self.refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self.refresh_timer.timeout.connect(self.model.refresh)
        backend.events.finished.connect(self._transfer_logged)
        backend.events.retrying.connect(self._transfer_logged)
        backend.config_changed.connect(self._fill_connections)
        self.apply_filter()

    # -- building ----------------------------------------------------------------------------------
    def _make_filters(self) -> None:
        self.connection_box = self._combo(self.tr("Connection filter"), [(self.tr("All connections"), None)])
        self._fill_connections()
        statuses = [(self.tr("All statuses"), None), (self.tr("OK"), "ok"), (self.tr("Failed"), "failed")]
        statuses += [(self.tr("Cancelled"), "cancelled"), (self.tr("Retry"), "retry")]
        self.status_box = self._combo(self.tr("Status filter"), statuses)
        directions = [(self.tr("Both directions"), None), (self.tr("Upload"), "up"), (self.tr("Download"), "down")]
        self.direction_box = self._combo(self.tr("Direction filter"), directions)
        self.dates_check = QCheckBox(self.tr("&Dates"), self)
        self.dates_check.setAccessibleName(self.tr("Filter by date"))
        self.dates_check.setToolTip(self.tr("Only rows from the first to the last day (both included)"))
        today = QDate.currentDate()
        self.from_edit = self._date(self.tr("First day"), today.addDays(-7))
        self.to_edit = self._date(self.tr("Last day"), today)
        self.dates_check.toggled.connect(self._dates_toggled)
        self.from_edit.setEnabled(False)
        self.to_edit.setEnabled(False)
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(self.tr("Search paths and errors (Ctrl+F)"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName(self.tr("Search the transfer log"))
        self.search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.apply_filter)
        self.search_edit.textChanged.connect(lambda _text: self.search_timer.start())
        self.search_edit.returnPressed.connect(self.apply_filter)
        self.count_label = QLabel(self)
        self.count_label.setAccessibleName(self.tr("Matching transfers"))
        self.dates_bar = QHBoxLayout()
        for part in (self.dates_check, self.from_edit, QLabel("–", self), self.to_edit):
            self.dates_bar.addWidget(part)
        self.filter_bar = QHBoxLayout()
        for box in (self.connection_box, self.status_box, self.direction_box):
            self.filter_bar.addWidget(box)
        self.filter_bar.addWidget(self.search_edit, 1)
        self.filter_bar.addWidget(self.count_label)

    def _combo(self, name: str, items: list[tuple[str, str | None]]) -> QComboBox:
        box = QComboBox(self)
        box.setAccessibleName(name)
        box.setToolTip(name)
        for text, value in items:
            box.addItem(text, value)
        box.currentIndexChanged.connect(lambda _i: self.apply_filter())
        return box

    def _date(self, name: str, day: QDate) -> QDateEdit:
        edit = QDateEdit(day, self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        edit.setToolTip(name)
        edit.dateChanged.connect(lambda _d: self.apply_filter())
        return edit

    def _make_table(self) -> None:
        self.view = record_table(self, self.model, self.tr("Transfer log"))
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        rows = self.view.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform row heights: no per-row measuring
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        columns = self.view.horizontalHeader()
        columns.setStretchLastSection(True)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.view.setColumnWidth(column, width)
        self.view.selectionModel().currentRowChanged.connect(self._show_details)
        self.details = QTextBrowser(self)
        self.details.setAccessibleName(self.tr("Log row details"))
        self.details.setPlaceholderText(self.tr("Select a row to see all of it here."))
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)

    def _make_actions(self) -> None:
        pixmap = QStyle.StandardPixmap
        export_tip = self.tr("Export the rows the filter shows to a CSV file")
        self.export_action = self._action(self.tr("&Export CSV…"), "Ctrl+E", pixmap.SP_DialogSaveButton,
                                          self.choose_export, export_tip)  # fmt: skip
        verify_tip = self.tr("Check the hash chain: altered or deleted rows show")
        self.verify_action = self._action(self.tr("&Verify log"), "Ctrl+Shift+V", pixmap.SP_DialogYesButton,
                                          self.verify, verify_tip)  # fmt: skip
        self.reload_action = self._action(self.tr("&Reload"), "F5", pixmap.SP_BrowserReload, self.model.reload,
                                          self.tr("Read the log again"))  # fmt: skip
        search = QAction(self)
        search.setShortcut(QKeySequence.StandardKey.Find)
        search.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        search.triggered.connect(lambda _checked=False: self.search_edit.setFocus())
        self.addAction(search)

    def _action(
        self, text: str, keys: str, pixmap: QStyle.StandardPixmap, slot: Callable[[], object], tip: str
    ) -> QAction:
        icon = self.style().standardIcon(pixmap)
        return page_action(self, text, [QKeySequence(keys)], icon, slot, self.toolbar, tip)

    def _fill_connections(self) -> None:
        """The connections of the config, keeping the one chosen (also when it was removed: old rows keep it)."""
        chosen = self.connection_box.currentData()
        names = sorted(self.backend.ctx.config.connections)
        if chosen and chosen not in names:
            names = sorted([*names, chosen])
        self.connection_box.blockSignals(True)
        while self.connection_box.count() > 1:
            self.connection_box.removeItem(1)
        for name in names:
            self.connection_box.addItem(name, name)
        self.connection_box.setCurrentIndex(max(0, self.connection_box.findData(chosen)) if chosen else 0)
        self.connection_box.blockSignals(False)

    def _dates_toggled(self, on: bool) -> None:
        self.from_edit.setEnabled(on)
        self.to_edit.setEnabled(on)
        self.apply_filter()

    # -- filtering ---------------------------------------------------------------------------------
    def current_filter(self) -> LogFilter:
        """The filter the controls describe."""
        since = until = None
        if self.dates_check.isChecked():
            first, last = sorted((self.from_edit.date(), self.to_edit.date()), key=lambda d: d.toJulianDay())
            since, until = day_start_utc(first), day_start_utc(last.addDays(1))
        return LogFilter(
            status=self.status_box.currentData(),
            connection=self.connection_box.currentData(),
            direction=self.direction_box.currentData(),
            text=self.search_edit.text().strip() or None,
            since=since,
            until=until,
        )

    def apply_filter(self) -> None:
        """Show the rows the controls select (the first page comes in the background)."""
        self.search_timer.stop()
        where = self.current_filter()
        if where != self._applied:
            self._applied = where
            self.details.clear()
            self.model.set_filter(where)

    def _show_count(self, count: int) -> None:
        if count < 0:
            self.count_label.setText(self.tr("Counting…"))
        else:
            number = QLocale().toString(count)
            self.count_label.setText(self.tr("1 transfer") if count == 1 else self.tr("{0} transfers").format(number))

    def _transfer_logged(self, *_args: object) -> None:
        """A transfer ended or will retry: it has a new log row (fetched once a burst of them is over)."""
        self.refresh_timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """Pick up rows written while the page was hidden (e.g. by the CLI)."""
        super().showEvent(event)
        self.model.refresh()

    # -- details -----------------------------------------------------------------------------------
    def _show_details(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entry = self.model.entry(current.row()) if current.isValid() else None
        if entry is None:
            self.details.clear()
            return
        hints = []
        if entry.transfer_id is not None:  # the queue row keeps the hint of its latest attempt
            with contextlib.suppress(TransferAppError):
                hints.append(self.backend.ctx.queue.get(entry.transfer_id).hint)
        self.details.setHtml(details_html(entry, hints))

    # -- export and verify -------------------------------------------------------------------------
    def _ask_file(self) -> str:
        start = str(Path.home() / f"transfer-log-{datetime.now():%Y%m%d}.csv")
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export the transfer log"), start,
                                              self.tr("CSV files (*.csv);;All files (*)"))  # fmt: skip
        return path

    def choose_export(self) -> None:
        """Ask for a file and export the current filter's rows to it."""
        path = self.choose_file()
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> None:
        """Write the rows of the current filter to ``path`` in the background; ``exported`` tells when done."""
        where = self.current_filter()
        self.export_action.setEnabled(False)
        self.show_message(self.tr("Exporting to {0}…").format(path))
        run_task(self._export, where, path, on_result=lambda n: self._exported(n, path),
                 on_error=self._export_error, pool=self.pool)  # fmt: skip

    def _export(self, where: LogFilter, path: Path) -> int | None:
        try:
            return self.log.export_csv(where, path, self._export_stop.is_set)
        except QueryStopped:
            return None

    def _exported(self, count: int | None, path: Path) -> None:
        if count is None or self._export_stop.is_set():
            return
        self.export_action.setEnabled(True)
        self.show_message(self.tr("Exported {0} rows to {1}.").format(QLocale().toString(count), path))
        self.exported.emit(count, str(path))

    def _export_error(self, exc: BaseException) -> None:
        if self._export_stop.is_set():
            return
        self.export_action.setEnabled(True)
        message, hint = error_text(exc)
        self.show_message(message, hint, error=True)
        self.export_failed.emit(message, hint)

    def verify(self) -> None:
        """Check the log's hash chain in the background; ``verified`` gets the VerifyReport."""
        self.verify_action.setEnabled(False)
        self.show_message(self.tr("Verifying the transfer log…"))
        run_task(self.log.verify, on_result=self._verified, on_error=self._verify_error, pool=self.pool)

    def _verified(self, report: VerifyReport) -> None:
        if self._export_stop.is_set():
            return
        self.verify_action.setEnabled(True)
        if report.ok:
            rows = QLocale().toString(report.rows)
            self.show_message(self.tr("The transfer log is intact: {0} rows checked.").format(rows))
        else:
            self.show_message(
                self.tr("The transfer log was tampered with: {0} ({1} rows intact before it).").format(
                    report.problem, report.rows
                ),
                self.tr("keep the database file for investigation; rows after the break cannot be trusted"),
                error=True,
            )
        self.verified.emit(report)

    def _verify_error(self, exc: BaseException) -> None:
        if not self._export_stop.is_set():
            self.verify_action.setEnabled(True)
            self.show_message(*error_text(exc), error=True)

    def show_message(self, message: str, hint: str = "", error: bool = False) -> None:
        """Show a result or an error (with its hint) under the table."""
        self.message.setText(f"{message} — {hint}" if hint else message)
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setProperty("error", error)
