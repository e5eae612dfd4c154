"""Turns the core's events (called on worker threads) into queued Qt signals, with progress throttled."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal

from transferapp.events import (
    Event,
    TransferFinished,
    TransferProgress,
    TransferQueued,
    TransferRetrying,
    TransferStarted,
)

PROGRESS_INTERVAL = 0.1  # seconds between progress signals of one transfer


class EventBridge(QObject):
    """An EventSink: call it from any thread; connect to its signals in the GUI thread."""

    queued = Signal(int)  # transfer id
    started = Signal(int, int, int)  # transfer id, attempt, total bytes
    progress = Signal(int, int, int)  # transfer id, done bytes, total bytes
    retrying = Signal(int, int, float, str)  # transfer id, attempt, delay, error
    finished = Signal(int, str, str, str)  # transfer id, status, error, hint

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._last_progress: dict[int, float] = {}

    def __call__(self, event: Event) -> None:
        """Emit the signal for ``event``; progress at most every PROGRESS_INTERVAL per transfer."""
        if isinstance(event, TransferProgress):
            now = time.monotonic()
            with self._lock:
                last = self._last_progress.get(event.transfer_id, 0.0)
                if now - last < PROGRESS_INTERVAL and event.done_bytes < event.total_bytes:
                    return
                self._last_progress[event.transfer_id] = now
            self.progress.emit(event.transfer_id, event.done_bytes, event.total_bytes)
        elif isinstance(event, TransferStarted):
            self.started.emit(event.transfer_id, event.attempt, event.total_bytes)
        elif isinstance(event, TransferQueued):
            self.queued.emit(event.transfer_id)
        elif isinstance(event, TransferRetrying):
            self.retrying.emit(event.transfer_id, event.attempt, event.delay, event.error)
        elif isinstance(event, TransferFinished):
            with self._lock:
                self._last_progress.pop(event.transfer_id, None)
            self.finished.emit(event.transfer_id, event.status, event.error, event.hint)
