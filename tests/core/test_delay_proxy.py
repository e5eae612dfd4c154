"""The delay proxy test fixture against a local echo server: latency, data, many connections, command line."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.delay_proxy import DelayProxy

SUPPORT_DIR = Path(__file__).resolve().parents[1] / "support"


@pytest.fixture
def echo_server() -> Iterator[int]:
    """A threaded TCP echo server on loopback; yields its port. Teardown ends every thread it started."""
    listener = socket.create_server(("127.0.0.1", 0))
    conns: list[socket.socket] = []

    def handle(conn: socket.socket) -> None:
        """Echo until the client half-closes."""
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(1 << 18):
                conn.sendall(data)

    def serve() -> None:
        """Accept clients until the listener is shut down."""
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    yield listener.getsockname()[1]
    # shutdown() wakes the blocked accept() and recv() calls, so no thread is left holding a socket
    # number that a later test's socket reuses (an echo once answered another test's HTTP request)
    for sock in (listener, *conns):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    acceptor.join(timeout=5)
    for sock in (listener, *conns):
        sock.close()


def best_rtt_ms(port: int, rounds: int = 5) -> float:
    """Smallest ping-pong round trip (ms) over one connection."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            sock.sendall(b"ping")
            got = b""
            while len(got) < 4:
                got += sock.recv(4 - len(got))
            times.append(time.perf_counter() - start)
    return min(times) * 1000


def echo_digest(port: int, payload: bytes) -> str:
    """Send ``payload`` through an echo path concurrently with reading; return sha256 of what came back."""
    digest = hashlib.sha256()
    with socket.create_connection(("127.0.0.1", port)) as sock:

        def send() -> None:
            """Send everything, then half-close."""
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        while chunk := sock.recv(1 << 18):
            digest.update(chunk)
        sender.join()
    return digest.hexdigest()


def test_delay_proxy_adds_latency_and_keeps_data(echo_server: int) -> None:
    """20 ms each way adds >= 35 ms per round trip; 8 MiB passes through unchanged."""
    payload = os.urandom(8 << 20)
    with DelayProxy("127.0.0.1", echo_server, 20) as proxy:
        direct, delayed = best_rtt_ms(echo_server), best_rtt_ms(proxy.port)
        assert delayed - direct >= 35, (direct, delayed)
        assert delayed < 200
        assert echo_digest(proxy.port, payload) == hashlib.sha256(payload).hexdigest()
        assert proxy.connections_total == 2


def test_delay_proxy_many_connections_and_drop(echo_server: int) -> None:
    """32 concurrent connections pass their data intact; drop_connections() cuts live ones."""
    payloads = [os.urandom(1 << 20) for _ in range(32)]
    results: dict[int, str] = {}
    with DelayProxy("127.0.0.1", echo_server, 5) as proxy:

        def run(i: int) -> None:
            """Echo one payload and record its digest."""
            results[i] = echo_digest(proxy.port, payloads[i])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert results == {i: hashlib.sha256(p).hexdigest() for i, p in enumerate(payloads)}
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(b"hello")
            assert sock.recv(5) == b"hello"
            proxy.drop_connections()
            sock.settimeout(5)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(5) == b""
        deadline = time.monotonic() + 5
        while proxy.active_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proxy.active_connections == 0


def test_delay_proxy_command_line(echo_server: int) -> None:
    """``python delay_proxy.py --target ... --port 0`` prints its port and proxies until SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, str(SUPPORT_DIR / "delay_proxy.py"), "--target", f"127.0.0.1:{echo_server}",
         "--delay-ms", "20", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        assert best_rtt_ms(port, rounds=3) >= 35
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
