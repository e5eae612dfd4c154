"""A loopback TCP proxy that adds a fixed one-way delay in each direction (simulated network latency).

Run from the command line::

    python tests/support/delay_proxy.py --target 127.0.0.1:2222 --delay-ms 20 --port 0

It prints the listening port on stdout and runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import signal
import socket
import sys
import threading
import time
from types import TracebackType

CHUNK = 256 * 1024
DEFAULT_MAX_BUFFER = 8 * 1024 * 1024


def _close(sock: socket.socket) -> None:
    """Shut down and close a socket, ignoring errors (wakes threads blocked on it)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class _Direction:
    """One direction of a connection: a reader queues chunks, a writer releases them after the delay."""

    def __init__(self, conn: _Connection, src: socket.socket, dst: socket.socket, name: str) -> None:
        """Wire ``src`` -> ``dst`` for ``conn``."""
        self.conn, self.src, self.dst, self.name = conn, src, dst, name
        self.queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.queued = 0
        self.cond = threading.Condition()
        self.threads = [
            threading.Thread(target=self._read, name=f"delay-proxy-{name}-r", daemon=True),
            threading.Thread(target=self._write, name=f"delay-proxy-{name}-w", daemon=True),
        ]

    def start(self) -> None:
        """Start the reader and writer threads."""
        for t in self.threads:
            t.start()

    def _read(self) -> None:
        """Read chunks as they come, stamp each with its release time, block while the queue is full."""
        proxy = self.conn.proxy
        try:
            while True:
                data = self.src.recv(CHUNK)
                release = time.monotonic() + proxy.delay_ms / 1000.0
                with self.cond:
                    self.queue.append((release, data or None))
                    self.queued += len(data)
                    self.cond.notify_all()
                    while self.queued > proxy.max_buffer and not self.conn.closed:
                        self.cond.wait(0.5)
                if not data or self.conn.closed:
                    return
        except OSError:
            self.conn.abort()

    def _write(self) -> None:
        """Send each chunk at its release time, in order; forward EOF as a half-close."""
        try:
            while True:
                with self.cond:
                    while not self.queue and not self.conn.closed:
                        self.cond.wait(0.5)
                    if self.conn.closed:
                        return
                    release, data = self.queue[0]
                wait = release - time.monotonic()
                if wait > 0 and self.conn.closed_event.wait(wait):
                    return
                if data is None:
                    self.dst.shutdown(socket.SHUT_WR)
                    self.conn.half_closed(self)
                    return
                self.dst.sendall(data)
                self.conn.proxy._count(len(data))
                with self.cond:
                    self.queue.popleft()
                    self.queued -= len(data)
                    self.cond.notify_all()
        except OSError:
            self.conn.abort()


class _Connection:
    """A client connection and its upstream connection, with one :class:`_Direction` each way."""

    def __init__(self, proxy: DelayProxy, client: socket.socket, upstream: socket.socket) -> None:
        """Set up both directions (not started)."""
        self.proxy, self.client, self.upstream = proxy, client, upstream
        self.closed_event = threading.Event()
        self.lock = threading.Lock()
        self.done: set[str] = set()
        self.up = _Direction(self, client, upstream, "up")
        self.down = _Direction(self, upstream, client, "down")

    @property
    def closed(self) -> bool:
        """Tell whether the connection was torn down."""
        return self.closed_event.is_set()

    def start(self) -> None:
        """Start forwarding both ways."""
        self.up.start()
        self.down.start()

    def half_closed(self, direction: _Direction) -> None:
        """Record an EOF forwarded in one direction; close everything once both directions are done."""
        with self.lock:
            self.done.add(direction.name)
            both = len(self.done) == 2
        if both:
            self.abort()

    def abort(self) -> None:
        """Tear the connection down (both sockets) and wake its threads."""
        with self.lock:
            if self.closed_event.is_set():
                return
            self.closed_event.set()
        for direction in (self.up, self.down):
            with direction.cond:
                direction.cond.notify_all()
        _close(self.client)
        _close(self.upstream)
        self.proxy._forget(self)


class DelayProxy:
    """TCP proxy on 127.0.0.1 adding ``delay_ms_one_way`` to each direction (RTT += 2 x delay)."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        delay_ms_one_way: float,
        listen_port: int = 0,
        listen_host: str = "127.0.0.1",
        max_buffer: int = DEFAULT_MAX_BUFFER,
    ) -> None:
        """Prepare a proxy to ``target_host:target_port``; ``listen_port`` 0 picks a free port."""
        self.target = (target_host, target_port)
        self.delay_ms = float(delay_ms_one_way)
        self.max_buffer = max_buffer
        self.host = listen_host
        self.port = listen_port
        self.connections_total = 0
        self.bytes_forwarded = 0
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._conns: set[_Connection] = set()
        self._lock = threading.Lock()

    def start(self) -> DelayProxy:
        """Bind, listen and start accepting connections in a background thread."""
        if self._listener is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = int(sock.getsockname()[1])
        self._listener = sock
        self._accept_thread = threading.Thread(target=self._accept_loop, name="delay-proxy-accept", daemon=True)
        self._accept_thread.start()
        return self

    def _accept_loop(self) -> None:
        """Accept clients and connect each to the target."""
        listener = self._listener
        assert listener is not None
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed by stop()
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self, client, upstream)
            with self._lock:
                self._conns.add(conn)
                self.connections_total += 1
            conn.start()

    def _forget(self, conn: _Connection) -> None:
        """Drop a finished connection from the active set."""
        with self._lock:
            self._conns.discard(conn)

    def _count(self, nbytes: int) -> None:
        """Add to the forwarded byte counter."""
        with self._lock:
            self.bytes_forwarded += nbytes

    @property
    def active_connections(self) -> int:
        """Number of connections currently proxied."""
        with self._lock:
            return len(self._conns)

    def set_delay(self, delay_ms_one_way: float) -> None:
        """Change the one-way delay for data read from now on."""
        self.delay_ms = float(delay_ms_one_way)

    def drop_connections(self) -> None:
        """Abort every active connection (simulates a network cut); keep listening."""
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            conn.abort()

    def stop(self) -> None:
        """Stop listening, abort all connections and join the accept thread."""
        if self._listener is not None:
            _close(self._listener)
            self._listener = None
        self.drop_connections()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
            self._accept_thread = None

    def __enter__(self) -> DelayProxy:
        """Start the proxy."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the proxy."""
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: run a proxy until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="one-way delay per direction (ms)")
    parser.add_argument("--port", type=int, default=0, help="listening port (0 = pick a free one)")
    parser.add_argument("--listen", default="127.0.0.1", help="listening address")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    proxy = DelayProxy(host or "127.0.0.1", int(port), args.delay_ms, args.port, args.listen).start()
    print(proxy.port, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
