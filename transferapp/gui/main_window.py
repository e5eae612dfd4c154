"""The main window: a page list on the left, the pages, menus, shortcuts, status bar; remembers its geometry."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence, QPaintEvent
from PySide6.QtWidgets import QLabel, QListWidgetItem, QMainWindow, QVBoxLayout, QWidget

from transferapp.gui.backend import Backend
from transferapp.gui.forms.ui_main_window import Ui_MainWindow

if TYPE_CHECKING:
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
    activity_changed = Signal(str)  # the Transfers page's "idle", "busy" or "error", for the tray
    first_painted = Signal()  # the window is on screen: deferred start-up work may begin

    def __init__(
        self, backend: Backend, settings: QSettings, parent: QWidget | None = None, defer_pages: bool = False
    ) -> None:
        """With ``defer_pages`` the pages are built by ``load_pages()`` (after the window is on screen)."""
        super().__init__(parent)
        self.backend = backend
        self.settings = settings
        self.ui = Ui_MainWindow()
        self.ui.setupUi(self)
        self._pages: dict[str, QWidget] = {}  # built when first shown, so the window opens fast
        self._holders: dict[str, QWidget] = {}
        self._page_actions: list[QAction] = []
        self.quitting = False
        self._painted = False
        self._loaded = False  # the list picks its first row as it shows: no page is built before load_pages
        self.tray_available = False  # set by the app when the desktop has a system tray
        self._add_pages()
        self.totals = QLabel(self)
        self.totals.setAccessibleName(self.tr("Transfer totals"))
        self.ui.statusBar.addPermanentWidget(self.totals)
        self.ui.actionAbout.triggered.connect(self._about)
        self.ui.actionKeepInTray.setChecked(bool(settings.value("keep_in_tray", False, type=bool)))
        self.ui.actionKeepInTray.toggled.connect(lambda on: settings.setValue("keep_in_tray", on))
        self.ui.actionPauseAll.setChecked(backend.state == "paused")
        self.ui.actionPauseAll.toggled.connect(backend.set_paused)
        backend.agent_state_changed.connect(self._agent_state)
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if not defer_pages:
            self.load_pages()

    def load_pages(self) -> None:
        """Bind the shortcuts, build the Transfers page (the status bar and the tray follow it), show the last page.

        Shortcuts are bound here, not in the form: the first key sequence builds Qt's Python enums (~35 ms),
        work that can wait until the window is on screen.
        """
        self.ui.actionQuit.setShortcut(QKeySequence(self.tr("Ctrl+Q")))
        self.ui.actionPauseAll.setShortcut(QKeySequence(self.tr("Ctrl+P")))
        for number, action in enumerate(self._page_actions, start=1):
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
        self._loaded = True
        self.page("transfers")
        page = str(self.settings.value("page", "connections"))
        self.show_page(page if page in PAGE_KEYS else "connections")
        self._page_changed(self.ui.navList.currentRow())  # also when the list had that row already

    def _add_pages(self) -> None:
        titles = {
            "connections": self.tr("Connections"),
            "transfers": self.tr("Transfers"),
            "log": self.tr("Transfer log"),
            "jobs": self.tr("Jobs"),
            "keys": self.tr("Keys"),
        }
        for number, key in enumerate(PAGE_KEYS, start=1):
            title = titles[key]
            icon = QIcon(f":/icons/{key}.svg")
            item = QListWidgetItem(icon, title)
            item.setToolTip(self.tr("{0} (Ctrl+{1})").format(title, number))
            self.ui.navList.addItem(item)
            holder = QWidget()
            QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
            holder.setAccessibleName(title)
            self._holders[key] = holder
            self.ui.pageStack.addWidget(holder)
            if key in self._pages:
                self._place(key, self._pages[key])
            action = QAction(icon, title, self)
            self._page_actions.append(action)
            action.triggered.connect(lambda _checked=False, k=key: self.show_page(k))
            self.ui.menuView.addAction(action)
        self.ui.navList.currentRowChanged.connect(self._page_changed)

    def page(self, key: str) -> QWidget:
        """The page named ``key``, built on first use."""
        if key not in self._pages:
            self._pages[key] = self._build(key)
            self._place(key, self._pages[key])
        return self._pages[key]

    def _build(self, key: str) -> QWidget:
        if key == "transfers":
            from transferapp.gui.pages.transfers import TransfersPage

            transfers = TransfersPage(self.backend)
            transfers.totals_changed.connect(self.totals.setText)
            transfers.activity_changed.connect(self.activity_changed)
            self.totals.setText(transfers.totals)
            return transfers
        if key == "connections":
            from transferapp.gui.pages.connections import ConnectionsPage

            return ConnectionsPage(self.backend)
        if key == "log":
            from transferapp.gui.pages.log import LogPage

            return LogPage(self.backend)
        if key == "jobs":
            from transferapp.gui.pages.jobs import JobsPage

            return JobsPage(self.backend)
        from transferapp.gui.pages.keys import KeysPage

        return KeysPage(self.backend)

    def _place(self, key: str, page: QWidget) -> None:
        holder = self._holders[key]
        page.setAccessibleName(holder.accessibleName())
        layout = holder.layout()
        assert layout is not None
        layout.addWidget(page)

    @property
    def transfers(self) -> TransfersPage:
        """The Transfers page."""
        return cast("TransfersPage", self.page("transfers"))

    @property
    def connections(self) -> ConnectionsPage:
        """The Connections page."""
        return cast("ConnectionsPage", self.page("connections"))

    @property
    def log(self) -> LogPage:
        """The Transfer log page."""
        return cast("LogPage", self.page("log"))

    @property
    def jobs(self) -> JobsPage:
        """The Jobs page."""
        return cast("JobsPage", self.page("jobs"))

    @property
    def keys(self) -> KeysPage:
        """The Keys page."""
        return cast("KeysPage", self.page("keys"))

    def show_page(self, key: str) -> None:
        """Switch to the page named ``key`` (one of PAGE_KEYS)."""
        self.ui.navList.setCurrentRow(PAGE_KEYS.index(key))

    def current_page(self) -> str:
        """The key of the page shown."""
        return PAGE_KEYS[max(0, self.ui.pageStack.currentIndex())]

    def _page_changed(self, row: int) -> None:
        if row < 0 or not self._loaded:
            return
        self.page(PAGE_KEYS[row])
        self.ui.pageStack.setCurrentIndex(row)
        self.settings.setValue("page", PAGE_KEYS[row])

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

    def about_text(self) -> str:
        """The About box: the version (from pyproject.toml, through the package metadata) and the data folder."""
        from transferapp import __version__

        return self.tr(
            "<h3>transferapp {0}</h3><p>Send and fetch merchant files over SFTP and WebDAV, encrypted with "
            "OpenPGP where they hold card or personal data, with a transfer log that can be verified.</p>"
            "<p>Data folder: {1}</p>"
        ).format(__version__, self.backend.ctx.paths.data_dir)

    def _about(self) -> None:
        from PySide6.QtWidgets import QMessageBox  # its enums take ~9 ms to build: not before the window shows

        QMessageBox.about(self, self.tr("About transferapp"), self.about_text())

    def save_state(self) -> None:
        """Remember geometry and page now."""
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("page", self.current_page())
        self.settings.sync()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Paint; the first time, tell the app that the window is on screen."""
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

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
