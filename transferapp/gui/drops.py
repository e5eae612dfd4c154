"""Makes an item view accept dropped files and folders from the desktop or a file manager."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView

HIGHLIGHT = "border: 2px dashed palette(highlight);"


def local_paths(event: QDropEvent) -> list[str]:
    """The local files and folders a drag carries (remote URLs are left out)."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


class FileDropTarget(QObject):
    """While files are dragged over ``view`` the row under the cursor is selected and the view outlined;
    ``dropped(row, paths)`` fires on a drop onto a row that ``accepts(row)`` allows."""

    dropped = Signal(int, list)  # row, local paths

    def __init__(self, view: QAbstractItemView, accepts: Callable[[int], bool] | None = None) -> None:
        super().__init__(view)
        self.view = view
        self.accepts = accepts or (lambda _row: True)
        self.highlighted_row = -1
        view.setAcceptDrops(True)
        view.viewport().setAcceptDrops(True)
        view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        view.viewport().installEventFilter(self)

    def _row_at(self, event: QDropEvent) -> int:
        index = self.view.indexAt(event.position().toPoint())
        return index.row() if index.isValid() and self.accepts(index.row()) else -1

    def _highlight(self, row: int) -> None:
        if row == self.highlighted_row:
            return
        self.highlighted_row = row
        self.view.viewport().setStyleSheet(HIGHLIGHT if row >= 0 else "")
        if row >= 0:
            self.view.selectRow(row) if hasattr(self.view, "selectRow") else None
            self.view.setCurrentIndex(self.view.model().index(row, 0))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """Accept drags of local files onto a row; emit ``dropped`` on the drop."""
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragMoveEvent)
            row = self._row_at(event) if local_paths(event) else -1
            self._highlight(row)
            if row >= 0 or (kind == QEvent.Type.DragEnter and local_paths(event)):
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.DragLeave:
            self._highlight(-1)
            return True
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            row, paths = self._row_at(event), local_paths(event)
            self._highlight(-1)
            if row < 0 or not paths:
                event.ignore()
                return True
            event.acceptProposedAction()
            self.dropped.emit(row, paths)
            return True
        return super().eventFilter(watched, event)
