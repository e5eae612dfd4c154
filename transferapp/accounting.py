"""Progress accounting apart from transports: thread-safe byte counts turned into throttled events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from transferapp.events import EventSink, TransferProgress


class ProgressTracker:
    """Counts bytes for one transfer from any number of streams and emits at most a few events a second."""

    def __init__(
        self,
        transfer_id: int,
        total: int,
        sink: EventSink,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.transfer_id = transfer_id
        self.total = total
        self.done = 0
        self._sink = sink
        self._interval = interval
        self._clock = clock
        self._last = 0.0
        self._lock = threading.Lock()

    def set_size(self, total: int) -> None:
        """Set the expected total."""
        self.total = total

    def advance(self, n: int) -> None:
        """Count ``n`` more bytes; emit a progress event when the interval has passed."""
        with self._lock:
            self.done += n
            now = self._clock()
            if now - self._last < self._interval and self.done < self.total:
                return
            self._last = now
            done = self.done
        self._sink(TransferProgress(self.transfer_id, done, self.total))
