"""Small-file batches over WebDAV: one file after the other near the server, several in flight to a distant one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.delay_proxy import DelayProxy
from support.webdav_kit import PASSWORD, USER, MakeServer, Open

from transferapp.config import Connection
from transferapp.errors import LocalFileError, NetworkError, TransferError
from transferapp.secrets import SecretStore
from transferapp.transports.base import SmallPut
from transferapp.transports.webdav import WebdavTransport
from transferapp.transports.webdav_batch import DISTANT_WORKERS


def _files(folder: Path, count: int) -> list[SmallPut]:
    folder.mkdir(exist_ok=True)
    puts = []
    for index in range(count):
        local = folder / f"file {index}.csv"
        local.write_bytes(os.urandom(1000 + index))
        puts.append(SmallPut(local, f"/dav/.file {index}.csv.part", local.stat().st_size))
    return puts


@pytest.fixture(params=["basic", "digest"])
def distant(
    dav: MakeServer, secrets: SecretStore, request: pytest.FixtureRequest
) -> Iterator[tuple[WebdavTransport, DelayProxy, Path]]:
    """A WsgiDAV server 40 ms away (round trip) through a delay proxy, and a connected session to it; Digest's
    nonce count is shared by the requests in flight."""
    server = dav(request.param)
    proxy = DelayProxy(server.host, server.port, 20).start()
    name = f"distant-{os.getpid()}"
    secrets.set(name, "password", PASSWORD)
    conn = Connection(name, f"webdav://{USER}@{server.host}:{proxy.port}/dav", "password", options={"timeout": 20.0})
    transport = WebdavTransport(conn, secrets)
    transport.connect()
    try:
        yield transport, proxy, server.root
    finally:
        transport.close()
        proxy.stop()
        secrets.delete_all(name)


def test_a_distant_server_gets_several_files_at_once(distant, tmp_path: Path) -> None:
    transport, proxy, root = distant
    assert transport.rtt is not None and transport.rtt >= 0.04
    puts = _files(tmp_path, 12)
    puts[3].local.unlink()  # this file's failure stays with it
    transport.put_batch(puts)
    assert 2 <= proxy.connections_total <= DISTANT_WORKERS + 1, "several connections at once, but not one per file"
    assert isinstance(puts[3].error, LocalFileError)
    assert [p.error for i, p in enumerate(puts) if i != 3] == [None] * 11
    for index, put in enumerate(puts):
        part = root / put.part.removeprefix("/dav/")
        assert part.exists() == (index != 3)
        if index != 3:
            assert part.read_bytes() == put.local.read_bytes()

    pairs = [(p.part, p.part.replace("/.", "/").removesuffix(".part")) for p in puts]
    results = transport.rename_batch(pairs)
    assert isinstance(results[3], TransferError) and [r for i, r in enumerate(results) if i != 3] == [None] * 11
    assert sorted(p.name for p in root.iterdir()) == sorted(f"file {i}.csv" for i in range(12) if i != 3)


def test_a_near_server_gets_one_file_after_the_other(dav: MakeServer, open_dav: Open, tmp_path: Path) -> None:
    server = dav("basic")
    transport = open_dav(server)
    assert transport.rtt is not None and transport.rtt < 0.005
    puts = _files(tmp_path, 6)
    transport.put_batch(puts)
    assert [p.error for p in puts] == [None] * 6
    methods = [r.method for r in server.requests if r.method in ("PUT", "PROPFIND")][-12:]
    assert methods == ["PUT", "PROPFIND"] * 6, "each file is sent, then checked, before the next"


def test_a_dropped_connection_fails_the_whole_batch_after_the_files_in_flight(distant, tmp_path: Path) -> None:
    transport, proxy, _root = distant
    puts = _files(tmp_path, 8)
    proxy.stop()  # the server is gone for every file of the batch
    with pytest.raises(NetworkError):
        transport.put_batch(puts)
