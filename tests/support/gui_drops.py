"""Helpers for GUI drop tests: a connection to the test sshd in an AppContext, and a real drag-and-drop of files."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication

from support.sshd import SshdServer
from transferapp.app import AppContext
from transferapp.config import Connection


def add_sftp_connection(
    ctx: AppContext, sshd: SshdServer, folder: Path, name: str = "pim", port: int | None = None, **options: Any
) -> Connection:
    """A key-login connection to the test sshd (through ``port``, e.g. a delay proxy's, when given), saved in the
    config file (as 'connection add --key-file' does)."""
    conn = Connection(
        name,
        f"sftp://{sshd.user}@127.0.0.1:{port or sshd.port}{folder}",
        "key",
        str(sshd.client_keys["ed25519"]),
        sshd.host_key_fingerprints["ssh-ed25519"],
        dict(options),
    )
    ctx.config.connections[name] = conn
    ctx.config.save()
    return conn


def drop_files(view: QAbstractItemView, row: int, paths: list[Path]) -> QDropEvent:
    """Drag ``paths`` over ``view``'s viewport onto ``row`` and drop them (enter, move, drop), like a file manager."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    viewport = view.viewport()
    point = QPointF(view.visualRect(view.model().index(row, 0)).center())
    if point.toPoint() == QPoint(0, 0):  # the view was never laid out: use its first row's height
        point = QPointF(10, 5)
    action, button, modifiers = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    with warnings.catch_warnings():  # PySide marks the QPoint constructors deprecated; Qt 6 has no QPointF ones
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(point.toPoint(), action, mime, button, modifiers)
        move = QDragMoveEvent(point.toPoint(), action, mime, button, modifiers)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted(), "the view refused the drag"
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted(), "the row refused the drag"
    drop = QDropEvent(point, action, mime, button, modifiers)
    QApplication.sendEvent(viewport, drop)
    return drop
