"""The main window: a page list on the left, the pages, menus, shortcuts, status bar; remembers its geometry."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import QLabel, QListWidgetItem, QMainWindow, QMessageBox, QWidget

from transferapp.gui.backend import Backend
from transferapp.gui.forms.ui_main_window import Ui_MainWindow
from transferapp.gui.pages.connections import ConnectionsPage
from transferapp.gui.pages.jobs import JobsPage
from transferapp.gui.pages.keys import KeysPage
from transferapp.gui.pages.log import LogPage
from transferapp.gui.pages.transfers import TransfersPage

PAGE_KEYS = ("connections", "transfers", "log", "jobs", "keys")


class MainWindow(QMainWindow):
    """The app's one window."""

    hidden_to_tray = Signal()  # the user closed the window and chose to keep the app in the tray
    quit_requested = Signal()  # the user closed the window otherwise: the app quits

    def __init__(self, backend: Backend, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.settings = settings
        self.ui = Ui_MainWindow()
        self.ui.setupUi(self)
        self.connections = ConnectionsPage(backend)
        self.transfers = TransfersPage(backend)
        self.log = LogPage(backend)
        self.jobs = JobsPage(backend)
        self.keys = KeysPage(backend)
        self.quitting = False
        self.tray_available = False  # set by the app when the desktop has a system tray
        self._add_pages()
        self.totals = QLabel(self)
        self.totals.setAccessibleName(self.tr("Transfer totals"))
        self.ui.statusBar.addPermanentWidget(self.totals)
        self.transfers.totals_changed.connect(self.totals.setText)
        self.totals.setText(self.transfers.totals)
        self.ui.actionAbout.triggered.connect(self._about)
        self.ui.actionKeepInTray.setChecked(bool(settings.value("keep_in_tray", False, type=bool)))
        self.ui.actionKeepInTray.toggled.connect(lambda on: settings.setValue("keep_in_tray", on))
        self.ui.actionPauseAll.setChecked(backend.state == "paused")
        self.ui.actionPauseAll.toggled.connect(self._pause)
        backend.agent_state_changed.connect(self._agent_state)
        self._restore()

    def _add_pages(self) -> None:
        titles = {
            "connections": (self.tr("Connections"), self.connections),
            "transfers": (self.tr("Transfers"), self.transfers),
            "log": (self.tr("Transfer log"), self.log),
            "jobs": (self.tr("Jobs"), self.jobs),
            "keys": (self.tr("Keys"), self.keys),
        }
        for number, key in enumerate(PAGE_KEYS, start=1):
            title, page = titles[key]
            icon = QIcon(f":/icons/{key}.svg")
            item = QListWidgetItem(icon, title)
            item.setToolTip(self.tr("{0} (Ctrl+{1})").format(title, number))
            self.ui.navList.addItem(item)
            page.setAccessibleName(title)
            self.ui.pageStack.addWidget(page)
            action = QAction(icon, title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _checked=False, k=key: self.show_page(k))
            self.ui.menuView.addAction(action)
        self.ui.navList.currentRowChanged.connect(self._page_changed)

    def show_page(self, key: str) -> None:
        """Switch to the page named ``key`` (one of PAGE_KEYS)."""
        self.ui.navList.setCurrentRow(PAGE_KEYS.index(key))

    def current_page(self) -> str:
        """The key of the page shown."""
        return PAGE_KEYS[max(0, self.ui.pageStack.currentIndex())]

    def _page_changed(self, row: int) -> None:
        if row < 0:
            return
        self.ui.pageStack.setCurrentIndex(row)
        self.settings.setValue("page", PAGE_KEYS[row])

    def _restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        page = str(self.settings.value("page", "connections"))
        self.show_page(page if page in PAGE_KEYS else "connections")

    def _pause(self, paused: bool) -> None:
        if paused and self.backend.state == "running":
            self.backend.pause()
        elif not paused and self.backend.state == "paused":
            self.backend.resume()

    def _agent_state(self, state: str) -> None:
        self.ui.actionPauseAll.blockSignals(True)
        self.ui.actionPauseAll.setChecked(state == "paused")
        self.ui.actionPauseAll.blockSignals(False)
        self.ui.actionPauseAll.setEnabled(state != "elsewhere")
        if state == "elsewhere":
            self.ui.statusBar.showMessage(
                self.tr("The transferapp agent (pid {0}) runs jobs and transfers; this window shows them.").format(
                    self.backend.agent_holder()
                )
            )

    def _about(self) -> None:
        from transferapp import __version__

        QMessageBox.about(
            self,
            self.tr("About transferapp"),
            self.tr(
                "<h3>transferapp {0}</h3><p>Send and fetch merchant files over SFTP and WebDAV, encrypted with "
                "OpenPGP where they hold card or personal data, with a transfer log that can be verified.</p>"
                "<p>Data folder: {1}</p>"
            ).format(__version__, self.backend.ctx.paths.data_dir),
        )

    def save_state(self) -> None:
        """Remember geometry and page now."""
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("page", self.current_page())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Remember geometry; hide to the tray when the user chose that, else quit."""
        self.save_state()
        if not self.quitting and self.tray_available and self.ui.actionKeepInTray.isChecked():
            event.ignore()
            self.hide()
            self.hidden_to_tray.emit()
            return
        event.accept()
        if not self.quitting:
            self.quit_requested.emit()
