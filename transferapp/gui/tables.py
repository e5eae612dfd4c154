"""One look for every page: record tables sized to their contents, toolbars with text, page-local shortcuts."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QSize, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QToolBar, QWidget

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


def record_table(parent: QWidget, model: QAbstractItemModel, accessible_name: str, many: bool = False) -> QTableView:
    """A read-only table of whole-row records (one selected, or ``many``), without row numbers."""
    view = QTableView(parent)
    view.setModel(model)
    view.setAccessibleName(accessible_name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    mode = QAbstractItemView.SelectionMode
    view.setSelectionMode(mode.ExtendedSelection if many else mode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    return view


def page_action(
    page: QWidget,
    text: str,
    keys: list[QKeySequence],
    icon: QIcon,
    slot: Callable[[], object],
    toolbar: QToolBar | None = None,
    tip: str | None = None,
) -> QAction:
    """An action of one page: its shortcuts work while the page has focus; the tooltip names the first one."""
    action = QAction(icon, text, page)
    action.setShortcuts(keys)
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    label = tip or text.replace("&", "").rstrip("…")
    if keys:
        label += f" ({keys[0].toString(QKeySequence.SequenceFormat.NativeText)})"
    action.setToolTip(label)
    action.triggered.connect(lambda _checked=False: slot())
    page.addAction(action)
    if toolbar is not None:
        toolbar.addAction(action)
        button = toolbar.widgetForAction(action)
        if button is not None:
            button.setAccessibleName(tip or text.replace("&", "").rstrip("…"))
    return action
