"""Python's cyclic garbage collector, run only in the GUI thread.

The collector runs in whichever thread happens to allocate; if it frees a cycle holding Qt objects while a
worker thread (the engine, a background task) is running, their C++ destructors run in that thread and Qt
crashes. Automatic collection is turned off and this timer collects in the GUI thread instead.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Disables automatic collection and collects on a GUI-thread timer, generation by generation."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect)
        self.timer.start(interval_ms)

    def collect(self) -> int:
        """Collect the generations whose allocation counts passed their thresholds; objects freed."""
        first, second, third = gc.get_count()
        limit_first, limit_second, limit_third = gc.get_threshold()
        if first <= limit_first:
            return 0
        generation = 2 if third > limit_third else 1 if second > limit_second else 0
        return gc.collect(generation)

    def stop(self) -> None:
        """Give collection back to Python."""
        self.timer.stop()
        gc.enable()
