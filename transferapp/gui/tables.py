"""One look for every page's table and toolbar: columns sized to their contents, one column takes the rest."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHeaderView, QTableView, QToolBar, QWidget

MAX_COLUMN = 260  # px: a long path or error is elided in the middle rather than pushing columns off screen


def fit_columns(view: QTableView, stretch: int, max_width: int = MAX_COLUMN) -> None:
    """Size each column to its contents (at most ``max_width``); column ``stretch`` fills the remaining width."""
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.setWordWrap(False)
    view.resizeColumnsToContents()
    for column in range(header.count()):
        if column != stretch:
            header.resizeSection(column, min(header.sectionSize(column), max_width))
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def page_toolbar(parent: QWidget, accessible_name: str) -> QToolBar:
    """A toolbar whose buttons show their text beside the icon (clearer than icons alone)."""
    toolbar = QToolBar(parent)
    toolbar.setAccessibleName(accessible_name)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.setIconSize(QSize(18, 18))
    toolbar.setMovable(False)
    return toolbar
