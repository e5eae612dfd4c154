"""The tray icon: status (idle, transferring, error, paused), a menu (open, pause all, quit), notifications."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from transferapp.gui.backend import Backend

NOTIFY_MS = 8000


class Tray(QObject):
    """Shows the app's state in the system tray; the menu opens the window, pauses everything, or quits."""

    open_requested = Signal()
    quit_requested = Signal()

    def __init__(self, backend: Backend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.activity = "idle"
        self.icon = QSystemTrayIcon(QIcon(":/icons/tray-idle.svg"), self)
        self.menu = QMenu()
        self.open_action = QAction(self.tr("&Open transferapp"), self)
        self.pause_action = QAction(self.tr("&Pause all"), self)
        self.pause_action.setCheckable(True)
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.open_action.triggered.connect(self.open_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.pause_action.toggled.connect(backend.set_paused)
        self.icon.activated.connect(self._activated)
        backend.agent_state_changed.connect(self._agent_state)
        backend.events.finished.connect(self._finished)
        backend.notify.connect(self.notify)
        self._update()

    def show(self) -> bool:
        """Show the icon when the desktop has a tray; False when it has none."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return False
        self.icon.show()
        return True

    def set_activity(self, activity: str) -> None:
        """'idle', 'busy' or 'error' (from the transfers page)."""
        self.activity = activity
        self._update()

    def state(self) -> str:
        """What the icon shows: paused, error, busy or idle."""
        return "paused" if self.backend.state == "paused" else self.activity

    def notify(self, title: str, message: str, level: str = "info") -> None:
        """A desktop notification (shown only where the desktop supports them)."""
        icon = {
            "error": QSystemTrayIcon.MessageIcon.Critical,
            "warning": QSystemTrayIcon.MessageIcon.Warning,
        }.get(level, QSystemTrayIcon.MessageIcon.Information)
        self.last_notification = (title, message, level)
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, message, icon, NOTIFY_MS)

    def _finished(self, transfer_id: int, status: str, error: str, hint: str) -> None:
        if status != "failed":
            return
        try:
            item = self.backend.ctx.queue.get(transfer_id)
            name = item.local_path.rsplit("/", 1)[-1] if item.direction == "up" else item.remote_path
        except Exception:  # the row may be gone; the message still matters
            name = f"transfer {transfer_id}"
        self.notify(self.tr("Transfer failed: {0}").format(name), f"{error}\n{hint}".strip(), "error")

    def _agent_state(self, state: str) -> None:
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(state == "paused")
        self.pause_action.blockSignals(False)
        self.pause_action.setEnabled(state != "elsewhere")
        self._update()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    def _update(self) -> None:
        state = self.state()
        self.icon.setIcon(QIcon(f":/icons/tray-{state}.svg"))
        tips = {
            "idle": self.tr("transferapp: idle"),
            "busy": self.tr("transferapp: transferring"),
            "error": self.tr("transferapp: a transfer failed; see the Transfers page"),
            "paused": self.tr("transferapp: paused"),
        }
        self.icon.setToolTip(tips[state])
