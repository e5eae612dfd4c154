"""A pool of connected transports per connection, so many files reuse a few logged-in sessions."""

from __future__ import annotations

import threading
from collections.abc import Callable

from transferapp.errors import TransferAppError
from transferapp.transports.base import Transport


class SessionPool:
    """Hands out up to ``limit`` sessions to one server; idle ones are reused, broken ones closed."""

    def __init__(self, factory: Callable[[], Transport], limit: int) -> None:
        self._factory = factory
        self._limit = max(1, limit)
        self._idle: list[Transport] = []
        self._in_use = 0
        self._cond = threading.Condition()
        self._first_login = threading.Lock()
        self._proven = False
        self._fatal: TransferAppError | None = None

    def acquire(self, timeout: float | None = None) -> Transport:
        """A connected session; waits while ``limit`` sessions are in use."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._idle or self._in_use < self._limit, timeout):
                raise TimeoutError("no free session")
            self._in_use += 1
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def try_acquire(self) -> Transport | None:
        """A session if one is free right now, else None."""
        with self._cond:
            if not self._idle and self._in_use >= self._limit:
                return None
            self._in_use += 1
            if self._idle:
                return self._idle.pop()
        try:
            return self._connect()
        except Exception:
            return None

    def _connect(self) -> Transport:
        """Connect a new session; until one login worked, logins run one at a time and a fatal error sticks."""
        try:
            if self._proven:
                return self._open()
            with self._first_login:
                if self._fatal is not None:
                    raise self._fatal
                try:
                    transport = self._open()
                except TransferAppError as exc:
                    if not exc.retryable:
                        self._fatal = exc  # a wrong password is not tried again by every worker
                    raise
                self._proven = True
                return transport
        except BaseException:
            self._give_back(None)
            raise

    def adopt(self, transport: Transport) -> None:
        """Take a session the caller already connected (e.g. the one a pull listed with) as an idle one."""
        with self._cond:
            if len(self._idle) + self._in_use >= self._limit:
                transport.close()
                return
            self._idle.append(transport)
            self._proven = True
            self._cond.notify()

    def _open(self) -> Transport:
        transport = self._factory()
        transport.connect()
        return transport

    def release(self, transport: Transport, broken: bool = False) -> None:
        """Return a session; a broken one is closed instead of reused."""
        alive = getattr(transport, "is_alive", lambda: True)()
        if broken or not alive:
            transport.close()
            self._give_back(None)
        else:
            self._give_back(transport)

    def _give_back(self, transport: Transport | None) -> None:
        with self._cond:
            self._in_use -= 1
            if transport is not None:
                self._idle.append(transport)
            self._cond.notify()

    def close(self) -> None:
        """Close every idle session."""
        with self._cond:
            idle, self._idle = self._idle, []
        for transport in idle:
            transport.close()
