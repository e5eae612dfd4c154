"""The Transfers page (placeholder until it is built)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from transferapp.gui.backend import Backend


class TransfersPage(QWidget):
    """Transfers."""

    totals_changed = Signal(str)  # a one-line summary for the status bar
    activity_changed = Signal(str)  # "idle", "busy" or "error", for the tray icon

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        QVBoxLayout(self).addWidget(QLabel(self.tr("Transfers")))
