"""One desktop app per installation: a second launch asks the first to show itself, then exits."""

from __future__ import annotations

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from transferapp.paths import AppPaths

RAISE = b"raise\n"


def server_name(paths: AppPaths) -> str:
    """A local socket name unique to this user and installation folder."""
    digest = hashlib.sha256(f"{getpass.getuser()}:{paths.config_dir.resolve()}".encode()).hexdigest()[:16]
    return f"transferapp-{digest}"


def ask_running_instance(paths: AppPaths, timeout_ms: int = 1000) -> bool:
    """True when another instance answered and was asked to raise its window."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(paths))
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(RAISE)
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for later launches; ``raise_requested`` fires when one asks."""

    raise_requested = Signal()

    def __init__(self, paths: AppPaths, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self._on_connection)
        name = server_name(paths)
        if not self._server.listen(name):  # a stale socket file left by a crash: nobody answered, so remove it
            QLocalServer.removeServer(name)
            self._server.listen(name)

    def _on_connection(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._on_message(s))
            socket.disconnected.connect(socket.deleteLater)

    def _on_message(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(RAISE.strip()):
            self.raise_requested.emit()

    def close(self) -> None:
        """Stop listening."""
        self._server.close()
