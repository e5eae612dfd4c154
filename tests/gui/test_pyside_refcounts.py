"""PySide6 must not leak references to None or True: on Python 3.11 that aborts the app after a few thousand calls.

PySide6 6.12.0 drops one reference to None per void method call and one to True per signal emit; pyproject
pins below 6.12 for that reason. These tests fail on a PySide6 with either bug.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

CALLS = 500


class _Emitter(QObject):
    fired = Signal(int)


def test_void_calls_keep_none_alive(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        label.setText("x")
    assert abs(sys.getrefcount(None) - before) < CALLS // 10


def test_signal_emits_keep_true_alive(qtbot) -> None:
    emitter = _Emitter()
    seen: list[int] = []
    emitter.fired.connect(seen.append)
    before = sys.getrefcount(True)
    for i in range(CALLS):
        emitter.fired.emit(i)
    assert len(seen) == CALLS
    assert abs(sys.getrefcount(True) - before) < CALLS // 10
