"""Starts the desktop app: one instance per installation, the main window, the tray, the in-process agent."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from transferapp.app import AppContext, open_app
from transferapp.gui.backend import Backend
from transferapp.gui.gc_guard import MainThreadCollector
from transferapp.gui.main_window import MainWindow
from transferapp.gui.settings import gui_settings
from transferapp.gui.single_instance import InstanceServer, ask_running_instance
from transferapp.gui.tray import Tray
from transferapp.paths import app_paths

DEFERRED_AT_LATEST_MS = 1500


class DesktopApp(QObject):
    """The window, the tray and the backend of one running app, wired together."""

    started = Signal()  # the pages are built and the agent started (after the window was first painted)

    def __init__(
        self, ctx: AppContext, start_agent: bool = True, parent: QObject | None = None, defer_pages: bool = False
    ) -> None:
        """With ``defer_pages`` the window shows first and its pages are built right after (see run())."""
        super().__init__(parent)
        self.backend = Backend(ctx, self)
        self.settings = gui_settings(ctx.paths)
        self.server = InstanceServer(ctx.paths, self)
        self.window = MainWindow(self.backend, self.settings, defer_pages=defer_pages)
        self.tray = Tray(self.backend, self)
        self._told_about_tray = False
        self.server.raise_requested.connect(self.show_window)
        self.tray.open_requested.connect(self.show_window)
        self.tray.quit_requested.connect(self.quit)
        self.window.ui.actionQuit.triggered.connect(self.quit)
        self.window.hidden_to_tray.connect(self._hidden_to_tray)
        self.window.quit_requested.connect(self.quit)
        self.window.activity_changed.connect(self.tray.set_activity)
        self.window.tray_available = self.tray.show()
        self._deferred: list[Callable[[], object]] = []
        if defer_pages:
            self._deferred.append(self.window.load_pages)
        if start_agent:  # the engine and the jobs take a moment to load: after the window is on screen
            self._deferred.append(self.backend.start)
        if defer_pages:
            self.window.first_painted.connect(lambda: QTimer.singleShot(0, self._run_deferred))
            QTimer.singleShot(DEFERRED_AT_LATEST_MS, self._run_deferred)  # a window started hidden is never painted
        elif self._deferred:
            QTimer.singleShot(0, self._run_deferred)

    def _run_deferred(self) -> None:
        if not self._deferred:
            return
        work, self._deferred = self._deferred, []
        for step in work:
            step()
        self.started.emit()

    def show_window(self) -> None:
        """Show, un-minimise and raise the window."""
        if self.window.isMinimized():
            self.window.showNormal()  # no Qt enum here: the window shows before Qt's enums are built
        else:
            self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def _hidden_to_tray(self) -> None:
        if not self._told_about_tray:
            self._told_about_tray = True
            self.tray.notify(
                self.tr("transferapp keeps running"),
                self.tr("Jobs and transfers go on in the background. Quit from the tray menu."),
            )

    def quit(self) -> None:
        """Stop the agent (transfers in flight resume at the next start), remember the window, quit."""
        self.window.quitting = True
        self.window.save_state()
        self.backend.shutdown()
        self.server.close()
        self.tray.icon.hide()
        self.window.close()
        app = QApplication.instance()
        if app is not None:
            app.quit()


def run(argv: list[str] | None = None) -> int:
    """Open the main window (or raise the one already open); return the exit status."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("transferapp")
    app.setApplicationDisplayName("transferapp")
    app.setDesktopFileName("transferapp")
    app.setWindowIcon(QIcon(":/icons/transferapp.svg"))
    app.setQuitOnLastWindowClosed(False)
    collector = MainThreadCollector(app)  # noqa: F841 - lives as long as the app
    paths = app_paths().ensure()
    if ask_running_instance(paths):
        print("transferapp is already open; its window was raised.")
        return 0
    desktop = DesktopApp(open_app(paths), defer_pages=True)
    desktop.show_window()
    return app.exec()
