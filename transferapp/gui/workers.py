"""Run a blocking core call on the thread pool; its result or error comes back as a signal in the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from transferapp.errors import TransferAppError

log = logging.getLogger(__name__)
_alive: set[Task] = set()  # tasks in flight, kept from the garbage collector until they report


class Task(QObject):
    """One call to ``fn`` off the GUI thread; ``fn`` may call ``task.report(obj)`` to send progress."""

    reported = Signal(object)  # whatever fn passes to report()
    succeeded = Signal(object)  # fn's return value
    failed = Signal(object)  # the exception (a TransferAppError carries message and hint)
    ended = Signal()  # after succeeded or failed; the task is released then, in the GUI thread

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        super().__init__()
        self.fn, self.args = fn, args

    def report(self, item: object) -> None:
        """Send ``item`` to the GUI thread (thread-safe)."""
        self.reported.emit(item)

    def _run(self) -> None:
        try:
            result = self.fn(*self.args)
        except TransferAppError as exc:
            self.failed.emit(exc)
        except Exception as exc:  # a bug must reach the user as an error, not vanish in a thread
            log.exception("background task failed")
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)
        self.ended.emit()


def run_task(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], object] | None = None,
    on_error: Callable[[BaseException], object] | None = None,
    on_report: Callable[[Any], object] | None = None,
    pool: QThreadPool | None = None,
) -> Task:
    """Start ``fn(*args)`` on the pool; the callbacks run in the thread that called run_task (the GUI)."""
    task = Task(fn, *args)
    if on_result is not None:
        task.succeeded.connect(on_result)
    if on_error is not None:
        task.failed.connect(on_error)
    if on_report is not None:
        task.reported.connect(on_report)
    _alive.add(task)
    task.ended.connect(lambda: _alive.discard(task))
    (pool or QThreadPool.globalInstance()).start(QRunnable.create(task._run))
    return task


def error_text(exc: BaseException) -> tuple[str, str]:
    """A user-facing message and hint for any exception."""
    if isinstance(exc, TransferAppError):
        return exc.message, exc.hint or ""
    return f"Unexpected error: {type(exc).__name__}: {exc}", "see the log file in the log folder and report it"
