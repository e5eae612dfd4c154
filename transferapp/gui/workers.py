"""Run a blocking core call on the thread pool; its result, error or reports reach callbacks in the GUI thread.

Worker threads never own or delete a Qt object: they hand plain callables to one dispatcher that lives in the
GUI thread, which runs them there (deleting a QObject from another thread can crash Qt's event loop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

from transferapp.errors import TransferAppError

log = logging.getLogger(__name__)


class _Dispatcher(QObject):
    """Runs callables handed over from any thread in the thread it lives in (the GUI thread)."""

    deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.deliver.connect(self._call, Qt.ConnectionType.QueuedConnection)

    @staticmethod
    def _call(call: Callable[[], object]) -> None:
        call()


_dispatcher: _Dispatcher | None = None


def _gui_dispatcher() -> _Dispatcher:
    """The dispatcher, made on first use (run_task is always called from the GUI thread)."""
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = _Dispatcher()
    return _dispatcher


class Task:
    """One call to ``fn`` off the GUI thread; ``fn`` may call ``task.report(obj)`` to send progress."""

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        on_result: Callable[[Any], object] | None,
        on_error: Callable[[BaseException], object] | None,
        on_report: Callable[[Any], object] | None,
    ) -> None:
        self.fn, self.args = fn, args
        self.on_result, self.on_error, self.on_report = on_result, on_error, on_report
        self.dispatcher = _gui_dispatcher()

    def report(self, item: object) -> None:
        """Send ``item`` to on_report in the GUI thread (callable from the worker)."""
        if self.on_report is not None:
            self.dispatcher.deliver.emit(partial(self.on_report, item))

    def run(self) -> None:
        """Call fn; hand its result or exception to the GUI thread."""
        try:
            result = self.fn(*self.args)
        except Exception as exc:  # a bug must reach the user as an error, not vanish in a thread
            if not isinstance(exc, TransferAppError):
                log.exception("background task failed")
            if self.on_error is not None:
                self.dispatcher.deliver.emit(partial(self.on_error, exc))
            return
        if self.on_result is not None:
            self.dispatcher.deliver.emit(partial(self.on_result, result))


def run_task(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], object] | None = None,
    on_error: Callable[[BaseException], object] | None = None,
    on_report: Callable[[Any], object] | None = None,
    pool: QThreadPool | None = None,
) -> Task:
    """Start ``fn(*args)`` on the pool; the callbacks run in the GUI thread (call this from the GUI thread)."""
    task = Task(fn, args, on_result, on_error, on_report)
    (pool or QThreadPool.globalInstance()).start(QRunnable.create(task.run))
    return task


def error_text(exc: BaseException) -> tuple[str, str]:
    """A user-facing message and hint for any exception."""
    if isinstance(exc, TransferAppError):
        return exc.message, exc.hint or ""
    return f"Unexpected error: {type(exc).__name__}: {exc}", "see the log file in the log folder and report it"
