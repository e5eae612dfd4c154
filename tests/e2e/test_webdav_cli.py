"""The command line end to end over WebDAV: a real WsgiDAV server (HTTPS with a CA made here, or plain http Digest)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cheroot import wsgi
from helpers import MiB, Watcher, part_files, random_file, sha256, size_of, wait_for
from support.cli import Cli, CliResult
from support.keyring_session import KeyringSession
from support.ports import free_port
from support.wsgidav_server import WsgiDavServer, _Front, make_tls
from wsgidav.wsgidav_app import WsgiDAVApp

from transferapp.publish import part_name

USER, PASSWORD = "merchant", "s3cret pass"
BIG_MIB = 100
MakeServer = Callable[..., WsgiDavServer]


class RestartableServer(WsgiDavServer):
    """Stops like a crash (requests in flight are cut at once) and starts again on the port it had."""

    def start(self) -> RestartableServer:
        """Bind the previous port (a free one the first time) and serve in a daemon thread."""
        logging.getLogger("wsgidav").setLevel(logging.ERROR)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)  # an explicit port gets SO_REUSEADDR: TIME_WAIT does not block
        server = wsgi.Server((self.host, self.port), _Front(self, WsgiDAVApp(self._config())), numthreads=8)
        server.shutdown_timeout = 0  # stop() cuts uploads in flight instead of waiting for them
        server.prepare()
        self.port = int(server.bind_addr[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="wsgidav-restartable", daemon=True)
        self._thread.start()
        return self

    def crash(self) -> None:
        """Stop like a crash: connections in flight are reset and get no answer, then the server is gone."""
        if self._server is not None:
            for worker in list(self._server.requests._threads):
                conn = worker.conn
                with contextlib.suppress(OSError, AttributeError):
                    conn.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.socket.shutdown(socket.SHUT_RDWR)
        self.stop()


@pytest.fixture
def cli(ta_home: Path, keyring_session: KeyringSession) -> Cli:
    return Cli(ta_home, keyring_session.child_env())


@pytest.fixture
def dav(tmp_path: Path) -> Iterator[MakeServer]:
    """``dav(auth=..., tls=...)`` starts a server sharing a fresh folder (with ``in/`` made); all stop at the end."""
    started: list[WsgiDavServer] = []

    def make(auth: str = "digest", tls: bool = True, kind: type[WsgiDavServer] = WsgiDavServer) -> WsgiDavServer:
        files = make_tls(tmp_path / f"tls{len(started)}") if tls else None
        server = kind(tmp_path / f"share{len(started)}", {USER: PASSWORD}, auth, files)
        (server.root / "in").mkdir(parents=True)
        started.append(server.start())
        return server

    yield make
    for server in started:
        server.stop()


def add_dav(cli: Cli, server: WsgiDavServer, *extra: str, password: str = PASSWORD, ca: bool = True) -> None:
    ca_args = ("--ca-file", str(server.tls.ca_file)) if server.tls and ca else ()
    cli.ok("connection", "add", "dav", "--url", server.url("/dav/in", USER), "--password-stdin", *ca_args, *extra,
           stdin=password + "\n")  # fmt: skip


def log_rows(cli: Cli, *extra: str) -> list[dict[str, Any]]:
    """Log rows, oldest first."""
    return list(reversed(json.loads(cli.ok("log", "--json", "--limit", "1000", *extra).out)))


def one_line(result: CliResult) -> str:
    lines = result.err.strip().splitlines()
    assert result.code == 1 and len(lines) == 1, f"expected one error line, got exit {result.code}: {result.err!r}"
    return lines[0]


def the_part(server: WsgiDavServer, local: Path, folder: str = "/dav/in") -> str:
    """The temporary name the upload of ``local`` uses on the server."""
    info = local.stat()
    return part_name(f"{folder}/{local.name}", info.st_size, info.st_mtime_ns)


def small(tmp_path: Path, name: str = "orders.xml", data: bytes = b"<orders>" + b"o" * 5000 + b"</orders>") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_https_send_pull_log_and_verify(cli: Cli, dav: MakeServer, tmp_path: Path) -> None:
    server = dav("digest")
    add_dav(cli, server)
    tested = cli.ok("connection", "test", "dav").out.splitlines()
    assert len(tested) == 3 and all(line.startswith("ok  ") for line in tested)
    assert "exists" in tested[1] and "writable" in tested[2]
    assert os.listdir(server.root / "in") == [], "the write probe was removed"

    out = tmp_path / "out"
    out.mkdir()
    files = {"Preisliste März 2024.csv": os.urandom(300_000), "カタログ.csv": b"sku;price\n1;2\n", "notes.txt": b"n"}
    for name, data in files.items():
        small(out, name, data)
    batch = out / "batch dir"
    (batch / "sub é").mkdir(parents=True)
    (batch / "a.xml").write_bytes(b"<a/>")
    (batch / "sub é" / "b c.xml").write_bytes(os.urandom(70_000))
    cli.ok("send", *(str(out / name) for name in files), str(batch), "--to", "dav")
    share = server.root / "in"
    for name, data in files.items():
        assert (share / name).read_bytes() == data
    assert (share / "batch dir" / "a.xml").read_bytes() == b"<a/>"
    assert sha256(share / "batch dir" / "sub é" / "b c.xml") == sha256(batch / "sub é" / "b c.xml")
    assert not [p for p in share.rglob("*") if p.name.endswith(".part")], "no temp file left"

    back = tmp_path / "back"
    pulled = cli.ok("pull", "dav", "*.csv", "--to", str(back), "--json")
    assert sorted(p.name for p in back.iterdir()) == sorted(n for n in files if n.endswith(".csv"))
    assert all(item["state"] == "done" for item in json.loads(pulled.out))
    for path in back.iterdir():
        assert path.read_bytes() == files[path.name]

    rows = log_rows(cli)
    assert [(r["direction"], r["status"]) for r in rows] == [("up", "ok")] * 5 + [("down", "ok")] * 2
    for row in rows:
        assert row["sha256"] == sha256(Path(row["local_path"])) and row["connection"] == "dav"
    assert {r["remote_path"] for r in rows if r["direction"] == "up"} >= {"/dav/in/batch dir/sub é/b c.xml"}
    assert "intact (7 rows" in cli.ok("log", "verify").out


def test_pull_fetches_with_the_session_that_listed(cli: Cli, dav: MakeServer, tmp_path: Path) -> None:
    server = dav("digest")
    add_dav(cli, server)
    (server.root / "in").mkdir(exist_ok=True)
    (server.root / "in" / "orders.xml").write_bytes(b"<orders/>")
    before = len(server.requests)
    cli.ok("pull", "dav", "orders.xml", "--to", str(tmp_path / "back"))
    assert (tmp_path / "back" / "orders.xml").read_bytes() == b"<orders/>"
    requests = server.requests[before:]
    assert [r.status for r in requests].count(401) == 1, "one login (one Digest challenge), not one per session"
    assert [r.method for r in requests].count("GET") == 1


def test_https_without_the_ca_file_is_refused(cli: Cli, dav: MakeServer, tmp_path: Path) -> None:
    server = dav("digest")
    add_dav(cli, server, ca=False)
    line = one_line(cli("connection", "test", "dav"))
    assert "certificate of 127.0.0.1 could not be verified" in line and "--ca-file" in line
    started = time.monotonic()
    sent = cli("send", str(small(tmp_path)), "--to", "dav")
    assert "could not be verified" in one_line(sent) and time.monotonic() - started < 10, "not retried"
    assert server.requests == [] and os.listdir(server.root / "in") == [], "nothing reached the unverified server"
    assert [r["status"] for r in log_rows(cli)] == ["failed"]


def test_wrong_password_fails_once_without_a_retry_storm(cli: Cli, dav: MakeServer, tmp_path: Path) -> None:
    server = dav("digest", tls=False)
    add_dav(cli, server, password="not the password")
    files = [small(tmp_path, f"order_{i}.xml") for i in range(5)]
    started = time.monotonic()
    result = cli("send", *map(str, files), "--to", "dav")
    assert result.code == 1 and time.monotonic() - started < 15
    lines = result.err.strip().splitlines()
    assert len(lines) == 5 and all("refused the login" in line and "401" in line for line in lines)
    assert "connection passwd dav --password-stdin" in lines[0]
    assert [r.status for r in server.seen("PROPFIND")] == [401, 401], "one challenge and one login for five files"
    assert server.seen("PUT") == [] and len(server.requests) == 2
    assert [r["status"] for r in log_rows(cli)] == ["failed"] * 5
    assert "refused the login" in one_line(cli("connection", "test", "dav"))


def test_bearer_token_connection(cli: Cli, dav: MakeServer, tmp_path: Path) -> None:
    server = dav("bearer")
    server.bearer_tokens.add("tok-123")
    cli.ok("connection", "add", "tok", "--url", server.url("/dav/in"), "--token-stdin",
           "--ca-file", str(server.tls.ca_file), stdin="tok-123\n")  # fmt: skip
    cli.ok("connection", "test", "tok")
    source = small(tmp_path)
    cli.ok("send", str(source), "--to", "tok")
    assert (server.root / "in" / source.name).read_bytes() == source.read_bytes()
    assert {r.headers.get("authorization") for r in server.requests} == {"Bearer tok-123"}
    assert {r.status for r in server.requests} <= {200, 201, 204, 207}, "no request was refused"

    cli.ok("connection", "passwd", "tok", "--token-stdin", stdin="tok-stale\n")
    line = one_line(cli("send", str(source), "--to", "tok"))
    assert "refused the login" in line and "connection passwd tok --token-stdin" in line


def test_connection_test_wording_fits_webdav(cli: Cli, dav: MakeServer) -> None:
    server = dav("bearer")
    server.bearer_tokens.add("tok-1")
    cli.ok("connection", "add", "tok", "--url", server.url("/dav/in"), "--token-stdin",
           "--ca-file", str(server.tls.ca_file), stdin="tok-1\n")  # fmt: skip
    first = cli.ok("connection", "test", "tok").out.splitlines()[0]
    assert "host key" not in first, f"a WebDAV server has no host key: {first!r}"
    assert not first.rstrip().endswith("logged in as"), f"a token login names no user: {first!r}"


def test_server_out_of_space_fails_at_once(cli: Cli, dav: MakeServer, tmp_path: Path) -> None:
    server = dav("digest", tls=False)
    add_dav(cli, server)
    source = small(tmp_path)
    server.tweaks.statuses[("PUT", the_part(server, source))] = 507
    started = time.monotonic()
    line = one_line(cli("send", str(source), "--to", "dav"))
    assert time.monotonic() - started < 10 and "storage" in line.lower() and "507" in line
    assert [r.status for r in server.seen("PUT")] == [507], "not retried"
    assert [r["status"] for r in log_rows(cli)] == ["failed"]
    assert os.listdir(server.root / "in") == []


def test_server_failing_once_is_retried(cli: Cli, dav: MakeServer, tmp_path: Path) -> None:
    server = dav("digest", tls=False)
    add_dav(cli, server)
    source = small(tmp_path, "prices.csv", os.urandom(2 * MiB))
    server.tweaks.once[("PUT", the_part(server, source))] = 503
    cli.ok("send", str(source), "--to", "dav")
    assert sha256(server.root / "in" / source.name) == sha256(source)
    assert [r.status for r in server.seen("PUT")] == [503, 201]
    rows = log_rows(cli)
    assert [r["status"] for r in rows] == ["retry", "ok"] and "503" in rows[0]["error"]
    assert os.listdir(server.root / "in") == [source.name]


def test_server_restarted_mid_upload(cli: Cli, dav: MakeServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    server = dav("digest", tls=False, kind=RestartableServer)
    add_dav(cli, server)
    big = random_file(tmp_path_factory, BIG_MIB)
    share = server.root / "in"
    proc = cli.popen("send", str(big), "--to", "dav")
    try:
        under_way = lambda: any((size_of(p) or 0) > 10 * MiB for p in part_files(share, big.name))  # noqa: E731
        wait_for(lambda: proc.poll() is not None or under_way(), 60, "the upload to be under way", interval=0.002)
        assert proc.poll() is None, "the upload ended before the server was stopped"
        server.crash()
        at_crash = [size_of(p) or 0 for p in part_files(share, big.name)]
        assert not (share / big.name).exists()
        server.start()
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert sha256(share / big.name) == sha256(big) and os.listdir(share) == [big.name]
    assert len(at_crash) == 1 and 0 < at_crash[0] < BIG_MIB * MiB, "the server was stopped in the middle of the PUT"
    rows = log_rows(cli)
    assert [r["status"] for r in rows] == ["retry", "ok"] and "dropped (PUT" in rows[0]["error"]


def test_redirect_to_another_host_is_refused(cli: Cli, dav: MakeServer, tmp_path: Path) -> None:
    server = dav("digest")
    add_dav(cli, server)
    source = small(tmp_path)
    part = the_part(server, source)
    server.tweaks.redirects[part] = "https://files.example.com/dav/in/orders.xml"
    line = one_line(cli("send", str(source), "--to", "dav"))
    assert "redirected to another host (https://files.example.com/" in line and "refused" in line
    assert [r.path for r in server.seen("PUT")] == [part], "not retried"
    assert [r["status"] for r in log_rows(cli)] == ["failed"]
    assert not (server.root / "in" / source.name).exists()
    server.tweaks.redirects["/dav/in"] = "https://files.example.com/dav/in"
    assert "redirected to another host" in one_line(cli("connection", "test", "dav"))


def test_final_name_never_holds_a_partial_file(
    cli: Cli, dav: MakeServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = dav("digest")
    add_dav(cli, server)
    big = random_file(tmp_path_factory, BIG_MIB)
    share = server.root / "in"
    final = share / big.name
    with Watcher(lambda: [final, *part_files(share, big.name)]) as watcher:
        cli.ok("send", str(big), "--to", "dav")
    final_sizes = {size for _, path, size in watcher.samples if path == final}
    part_sizes = [size for _, path, size in watcher.samples if path != final]
    assert final_sizes == {BIG_MIB * MiB}, f"the final name held {sorted(final_sizes)}"
    assert any(0 < size < BIG_MIB * MiB for size in part_sizes), "the upload was watched while under way"
    assert [p.name for p in part_files(share, big.name)] == [] and sha256(final) == sha256(big)
