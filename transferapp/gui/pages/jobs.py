"""The Jobs page (placeholder until it is built)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from transferapp.gui.backend import Backend


class JobsPage(QWidget):
    """Jobs."""

    def __init__(self, backend: Backend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        QVBoxLayout(self).addWidget(QLabel(self.tr("Jobs")))
