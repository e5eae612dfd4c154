"""The connections table: one row per connection (sorted by name) with protocol, server, login, encryption, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from transferapp import sfcc
from transferapp.app import AppContext
from transferapp.config import Connection
from transferapp.errors import TransferAppError

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("name", "protocol", "server", "authentication", "encryption", "status")


@dataclass(frozen=True)
class Status:
    """The latest known result for a connection: a test or a transfer."""

    ok: bool
    at: datetime  # local time
    message: str = ""


def _local(iso: str) -> datetime:
    try:
        return datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return datetime.now().astimezone()


class ConnectionsModel(QAbstractTableModel):
    """Rows of ``ctx.config.connections``; call ``reload()`` after the config or the log changed."""

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[Connection] = []
        self.tests: dict[str, Status] = {}  # the last "Test connection" result per connection
        self._status: dict[str, Status | None] = {}
        self.reload()

    def reload(self) -> None:
        """Read the connections and the latest transfer results again."""
        self.beginResetModel()
        self.rows = [conn for _, conn in sorted(self.ctx.config.connections.items())]
        self._status = {conn.name: self._latest(conn.name) for conn in self.rows}
        self.endResetModel()

    def set_test_result(self, name: str, ok: bool, message: str = "") -> None:
        """Remember a test's outcome; it shows until a newer transfer result."""
        self.tests[name] = Status(ok, datetime.now().astimezone(), message)
        self.reload()

    def _latest(self, name: str) -> Status | None:
        tested = self.tests.get(name)
        try:
            entries = self.ctx.log.query(limit=1, connection=name)
        except Exception:  # noqa: BLE001 - a locked or missing log must not break the table
            entries = []
        transfer = None
        if entries and entries[0].status in ("ok", "failed"):
            entry = entries[0]
            transfer = Status(entry.status == "ok", _local(entry.at), entry.error)
        candidates = [s for s in (tested, transfer) if s is not None]
        return max(candidates, key=lambda s: s.at) if candidates else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        """Number of connections."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        """Number of columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        """Column titles."""
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        titles = (
            self.tr("Name"),
            self.tr("Protocol"),
            self.tr("Server"),
            self.tr("Authentication"),
            self.tr("Encryption"),
            self.tr("Status"),
        )
        return titles[section] if 0 <= section < len(titles) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, tooltips."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        conn = self.rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(conn, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == "status":
                status = self._status.get(conn.name)
                return status.message if status and status.message else None
            if column == "server":
                return conn.url
        if role == Qt.ItemDataRole.UserRole:
            return conn.name
        return None

    def text(self, conn: Connection, column: str) -> str:
        """What a cell shows."""
        try:
            url = conn.remote
        except TransferAppError:
            return conn.url if column == "server" else ""
        if column == "name":
            return conn.name
        if column == "protocol":
            if url.path.startswith(sfcc.WEBDAV_ROOT + "/") and url.scheme == "webdavs":
                return self.tr("SFCC")
            return {"sftp": "SFTP", "webdav": "WebDAV", "webdavs": self.tr("WebDAV (TLS)")}[url.scheme]
        if column == "server":
            folder = url.path if url.path.startswith("/") else "~" + ("" if url.path == "." else "/" + url.path)
            return f"{url.host}:{url.port} {folder}"
        if column == "authentication":
            return self._auth_text(conn)
        if column == "encryption":
            if not conn.encryption:
                return self.tr("off")
            count = len(conn.encryption.recipients)
            return self.tr("to %n key(s)", "", count)
        status = self._status.get(conn.name)
        if status is None:
            return self.tr("not tested")
        when = status.at.strftime("%H:%M") if status.at.date() == datetime.now().date() else status.at.strftime("%x")
        if status.ok:
            return self.tr("ok, {0}").format(when)
        return self.tr("failed: {0}").format(status.message or when)

    def _auth_text(self, conn: Connection) -> str:
        user = conn.remote.user
        kinds = {
            "password": self.tr("password"),
            "key": self.tr("key file"),
            "agent": self.tr("ssh-agent"),
            "token": self.tr("token"),
            "sfcc-client": self.tr("API client {0}").format(conn.client_id or ""),
        }
        kind = kinds.get(conn.auth, conn.auth)
        return f"{user} ({kind})" if user else kind

    def name_at(self, row: int) -> str:
        """The name of the connection in ``row``."""
        return self.rows[row].name

    def row_of(self, name: str) -> int:
        """The row showing ``name``, or -1."""
        return next((row for row, conn in enumerate(self.rows) if conn.name == name), -1)
