"""The Transfer log page (placeholder until it is built)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from transferapp.gui.backend import Backend


class LogPage(QWidget):
    """Transfer log."""

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        QVBoxLayout(self).addWidget(QLabel(self.tr("Transfer log")))
