"""WebDAV metadata, streamed data, rename/remove, redirects, status mapping and multistatus parsing."""

from __future__ import annotations

import itertools
import os
import socket
import tracemalloc
from pathlib import Path

import pytest
from support.webdav_kit import Counter, MakeServer, Open, sha256

from transferapp.errors import (
    CancelledError,
    LocalFileError,
    NetworkError,
    PermissionDeniedError,
    RemoteNotFoundError,
    StorageFullError,
    TransferError,
)
from transferapp.transports.base import CancelToken
from transferapp.transports.webdav_auth import BLOCK
from transferapp.transports.webdav_xml import MultistatusError, parse_multistatus

MiB = 1024 * 1024
LARGE = 50 * MiB
USER, PASSWORD = "merchant", "s3cret pass"
_names = itertools.count(1)


# -- metadata -------------------------------------------------------------------------------------
def test_stat_and_list_with_unicode_and_space_names(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest")
    folder = server.root / "in box"
    (folder / "sub dir").mkdir(parents=True)
    names = {"a é.xml": b"hello world", "Preise 100% #1+2.csv": b"x" * 1234, "カタログ.csv": b""}
    for name, data in names.items():
        (folder / name).write_bytes(data)
        os.utime(folder / name, (1_700_000_000, 1_700_000_000))
    transport = open_dav(server, path="/dav/in box")
    assert transport.home() == "/dav/in box"

    entry = transport.stat("/dav/in box/a é.xml")
    assert entry is not None
    assert (entry.path, entry.size, entry.is_dir, entry.mtime) == ("/dav/in box/a é.xml", 11, False, 1_700_000_000)
    assert entry.etag
    assert transport.stat("/dav/in box/nothing.xml") is None
    assert transport.stat("/dav/missing/nothing.xml") is None
    folder_entry = transport.stat("/dav/in box")
    assert folder_entry is not None and folder_entry.is_dir

    listed = {e.name: e for e in transport.list("/dav/in box")}
    assert set(listed) == {*names, "sub dir"}
    assert listed["sub dir"].is_dir and listed["sub dir"].path == "/dav/in box/sub dir"
    assert {n: listed[n].size for n in names} == {n: len(d) for n, d in names.items()}
    assert listed["Preise 100% #1+2.csv"].path == "/dav/in box/Preise 100% #1+2.csv"
    assert all(listed[n].mtime == 1_700_000_000 for n in names)
    assert transport.list("/dav/in box/sub dir") == []
    assert {e.name for e in transport.list(".")} == set(listed), "relative paths are taken from the home folder"
    relative = transport.stat("sub dir")
    assert relative is not None and relative.is_dir


def test_list_of_a_missing_folder_or_a_file(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest")
    (server.root / "f.txt").write_bytes(b"x")
    transport = open_dav(server)
    with pytest.raises(RemoteNotFoundError, match="PROPFIND /dav/nope"):
        transport.list("/dav/nope")
    with pytest.raises(TransferError, match="not a folder"):
        transport.list("/dav/f.txt")


def test_makedirs_nested_and_existing(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest")
    transport = open_dav(server)
    transport.makedirs("/dav/a/b c/dé")
    assert (server.root / "a" / "b c" / "dé").is_dir()
    assert [r.path for r in server.seen("MKCOL")] == ["/dav/a/", "/dav/a/b c/", "/dav/a/b c/dé/"]
    transport.makedirs("/dav/a/b c/dé")
    transport.makedirs("/dav/a/b c")
    assert len(server.seen("MKCOL")) == 3, "known folders are not created again"

    other = open_dav(server)
    other.makedirs("/dav/a/b c/dé")
    other.makedirs("/dav/a/b c/new")
    assert len(server.seen("MKCOL")) == 4 and (server.root / "a" / "b c" / "new").is_dir()

    (server.root / "file").write_bytes(b"x")
    with pytest.raises(PermissionDeniedError, match="not a folder"):
        other.makedirs("/dav/file")


def test_the_home_folder_seen_at_login_is_not_looked_up_again(dav: MakeServer, open_dav: Open) -> None:
    server = dav("basic")
    (server.root / "home").mkdir()
    transport = open_dav(server, "/dav/home")
    looked_up = len(server.seen("PROPFIND"))
    transport.makedirs("/dav/home")
    transport.makedirs("sub")
    assert len(server.seen("PROPFIND")) == looked_up + 1, "only the new subfolder is looked up"
    assert [r.path for r in server.seen("MKCOL")] == ["/dav/home/sub/"]

    missing = open_dav(server, "/dav/gone")  # a home that is not there at login is created when needed
    missing.makedirs("/dav/gone")
    assert (server.root / "gone").is_dir() and server.seen("MKCOL")[-1].path == "/dav/gone/"


def test_makedirs_when_another_session_made_it_meanwhile(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest")
    transport = open_dav(server)
    (server.root / "race").mkdir()
    server.tweaks.once[("PROPFIND", "/dav/race")] = 404  # our first look misses it; MKCOL then finds it there
    transport.makedirs("/dav/race")
    assert [r.status for r in server.seen("MKCOL")] == [405]
    (server.root / "racefile").write_bytes(b"x")
    server.tweaks.once[("PROPFIND", "/dav/racefile")] = 404
    with pytest.raises(PermissionDeniedError, match="not a folder"):
        transport.makedirs("/dav/racefile")


# -- data -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["basic", "digest"])
def test_put_file_streams_one_request_with_flat_memory(
    dav: MakeServer, open_dav: Open, large_file: Path, mode: str
) -> None:
    server = dav(mode)
    transport = open_dav(server)
    progress = Counter()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        transport.put_file(large_file, "/dav/large.bin.part", progress, CancelToken())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < 30 * MiB, f"memory grew by {(peak - before) / MiB:.1f} MiB while sending 50 MiB"
    puts = server.seen("PUT")
    assert len(puts) == 1 and puts[0].status == 201, "one PUT, no challenge and no re-send"
    assert puts[0].headers["content-length"] == str(LARGE)
    assert "transfer-encoding" not in puts[0].headers
    assert puts[0].headers["authorization"].lower().startswith(mode)
    assert progress.done == LARGE and progress.calls == LARGE // BLOCK
    assert sha256(server.root / "large.bin.part") == sha256(large_file)


def test_read_range_full_and_resumed(dav: MakeServer, open_dav: Open, large_file: Path, tmp_path: Path) -> None:
    server = dav("digest")
    os.link(large_file, server.root / "large.bin")
    transport = open_dav(server)
    whole = tmp_path / "whole.bin"
    progress = Counter()
    transport.read_range("/dav/large.bin", whole, 0, LARGE, progress, CancelToken())
    assert progress.done == LARGE
    assert sha256(whole) == sha256(large_file)

    half = LARGE // 2 + 12345
    resumed = tmp_path / "resumed.bin"
    with open(large_file, "rb") as source:
        resumed.write_bytes(source.read(half))
    transport.read_range("/dav/large.bin", resumed, half, LARGE, Counter(), CancelToken())
    assert sha256(resumed) == sha256(large_file)
    gets = server.seen("GET")
    assert [(g.headers.get("range"), g.status) for g in gets] == [
        (f"bytes=0-{LARGE - 1}", 206),
        (f"bytes={half}-{LARGE - 1}", 206),
    ]


def test_read_range_when_the_server_ignores_range(dav: MakeServer, open_dav: Open, tmp_path: Path) -> None:
    server = dav("digest")
    data = os.urandom(3 * MiB + 17)
    (server.root / "f.bin").write_bytes(data)
    server.tweaks.ignore_range = True
    transport = open_dav(server)
    local = tmp_path / "f.bin"
    local.write_bytes(data[:1_000_003])
    progress = Counter()
    transport.read_range("/dav/f.bin", local, 1_000_003, 2_000_000, progress, CancelToken())
    assert local.read_bytes() == data[:2_000_000]
    assert progress.done == 2_000_000 - 1_000_003
    assert server.seen("GET")[-1].status == 200


def test_read_range_checks_the_local_file_and_the_remote_length(
    dav: MakeServer, open_dav: Open, tmp_path: Path
) -> None:
    server = dav("digest")
    (server.root / "f.bin").write_bytes(b"0123456789")
    transport = open_dav(server)
    local = tmp_path / "f.bin"
    local.write_bytes(b"012")
    with pytest.raises(LocalFileError, match="holds 3 bytes"):
        transport.read_range("/dav/f.bin", local, 5, 10, Counter(), CancelToken())
    with pytest.raises(NetworkError, match="sent 7 of 17 bytes"):
        transport.read_range("/dav/f.bin", local, 3, 20, Counter(), CancelToken())
    with pytest.raises(RemoteNotFoundError, match="404 Not Found to GET /dav/none.bin"):
        transport.read_range("/dav/none.bin", tmp_path / "n.bin", 0, 5, Counter(), CancelToken())


def test_cancel_stops_a_put_and_the_session_stays_usable(dav: MakeServer, open_dav: Open, large_file: Path) -> None:
    server = dav("digest")
    transport = open_dav(server)
    cancel = CancelToken()

    class CancelAfter(Counter):
        def advance(self, n: int) -> None:
            super().advance(n)
            if self.done >= 4 * MiB:
                cancel.cancel("stopped by the test")

    progress = CancelAfter()
    with pytest.raises(CancelledError, match="stopped by the test"):
        transport.put_file(large_file, "/dav/cancelled.bin", progress, cancel)
    assert progress.done == 4 * MiB
    transport.create("/dav/after.txt")
    assert (server.root / "after.txt").exists()


def test_create_rename_over_existing_and_remove(dav: MakeServer, open_dav: Open, tmp_path: Path) -> None:
    server = dav("digest")
    transport = open_dav(server)
    (server.root / "Bestellung März.xml").write_bytes(b"old contents")
    local = tmp_path / "new.xml"
    local.write_bytes(b"<new/>")
    transport.put_file(local, "/dav/.Bestellung März.xml.part", Counter(), CancelToken())
    transport.rename("/dav/.Bestellung März.xml.part", "/dav/Bestellung März.xml")
    assert (server.root / "Bestellung März.xml").read_bytes() == b"<new/>"
    assert not (server.root / ".Bestellung März.xml.part").exists()
    move = server.seen("MOVE")[0]
    assert move.headers["overwrite"] == "T"
    assert move.headers["destination"] == f"http://127.0.0.1:{server.port}/dav/Bestellung%20M%C3%A4rz.xml"

    transport.create("/dav/empty.txt")
    assert (server.root / "empty.txt").read_bytes() == b""
    (server.root / "empty.txt").write_bytes(b"something")
    transport.create("/dav/empty.txt")
    assert (server.root / "empty.txt").read_bytes() == b"", "create truncates"

    transport.remove("/dav/empty.txt")
    assert not (server.root / "empty.txt").exists()
    transport.remove("/dav/empty.txt")  # already gone: fine
    with pytest.raises(RemoteNotFoundError, match="MOVE /dav/gone.part to /dav/x"):
        transport.rename("/dav/gone.part", "/dav/x")
    with pytest.raises(RemoteNotFoundError, match="409"):
        transport.rename("/dav/Bestellung März.xml", "/dav/no such folder/x.xml")


def test_writable_probes_and_cleans_up(dav: MakeServer, open_dav: Open, tmp_path: Path) -> None:
    server = dav("digest", readonly={"/ro": tmp_path / "ro"})
    transport = open_dav(server)
    transport.writable("/dav")
    assert list(server.root.iterdir()) == []
    assert [r.status for r in server.seen("PUT")] == [201]
    with pytest.raises(PermissionDeniedError, match="Cannot create files in /ro"):
        transport.writable("/ro")


def test_write_range_is_not_offered(dav: MakeServer, open_dav: Open, tmp_path: Path) -> None:
    transport = open_dav(dav("digest"))
    assert not transport.capabilities.ranged_write and transport.capabilities.atomic_rename
    with pytest.raises(TransferError, match="does not support ranged writes") as caught:
        transport.write_range(tmp_path / "x", "/dav/x", 0, 1, Counter(), CancelToken())
    assert not caught.value.retryable


# -- redirects and errors -------------------------------------------------------------------------
def test_redirects_only_within_the_same_server(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest")
    (server.root / "new").mkdir()
    transport = open_dav(server)
    server.tweaks.redirects["/dav/old"] = f"http://127.0.0.1:{server.port}/dav/new"
    entry = transport.stat("/dav/old")
    assert entry is not None and entry.is_dir
    server.tweaks.redirects["/dav/away"] = "http://files.example.com/dav/away"
    with pytest.raises(TransferError, match=r"redirected to another host \(http://files.example.com/dav/away\)") as e:
        transport.stat("/dav/away")
    assert not e.value.retryable
    assert [r.path for r in server.requests].count("/dav/away") == 1
    server.tweaks.redirects["/dav/loop"] = "/dav/loop"
    with pytest.raises(TransferError, match="Too many redirects"):
        transport.stat("/dav/loop")


@pytest.mark.parametrize(
    ("status", "kind", "retryable", "words"),
    [
        (403, PermissionDeniedError, False, "denied"),
        (507, StorageFullError, False, "no space"),
        (413, TransferError, False, "refuses files this large"),
        (423, TransferError, True, "locked"),
        (503, TransferError, True, "failed"),
        (500, TransferError, True, "failed"),
    ],
)
def test_put_statuses_map_to_errors(
    dav: MakeServer, open_dav: Open, tmp_path: Path, status: int, kind: type, retryable: bool, words: str
) -> None:
    server = dav("digest")
    transport = open_dav(server)
    server.tweaks.statuses[("PUT", "/dav/f.bin")] = status
    local = tmp_path / "f.bin"
    local.write_bytes(b"x" * 1000)
    with pytest.raises(TransferError) as caught:
        transport.put_file(local, "/dav/f.bin", Counter(), CancelToken())
    assert type(caught.value) is kind
    assert caught.value.retryable is retryable
    assert words in str(caught.value) and f"{status}" in str(caught.value) and "PUT /dav/f.bin" in str(caught.value)


def test_no_server_is_a_retryable_network_error(open_dav: Open, dav: MakeServer) -> None:
    server = dav("digest")
    connected = open_dav(server)
    server.stop()
    with pytest.raises(NetworkError) as dropped:
        connected.stat("/dav")
    assert dropped.value.retryable and "PROPFIND /dav" in str(dropped.value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        server.port = probe.getsockname()[1]
    transport = open_dav(server, connect=False)
    with pytest.raises(NetworkError) as caught:
        transport.connect()
    assert caught.value.retryable and "refused the connection" in str(caught.value)


# -- multistatus parsing (answers other servers give) ---------------------------------------------
def test_multistatus_with_absolute_url_hrefs_and_failed_props() -> None:
    body = b"""<?xml version="1.0"?>
<D:multistatus xmlns:D="DAV:">
 <D:response><D:href>https://h.example/dav/in%20box/</D:href>
  <D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop>
   <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
 <D:response><D:href>https://h.example/dav/in%20box/K%C3%A4se%2B1.csv</D:href>
  <D:propstat><D:prop><D:getcontentlength>42</D:getcontentlength><D:resourcetype/>
   <D:getlastmodified>Tue, 14 Nov 2023 22:13:20 GMT</D:getlastmodified><D:getetag>"abc"</D:getetag></D:prop>
   <D:status>HTTP/1.1 200 OK</D:status></D:propstat>
  <D:propstat><D:prop><D:getcontentlength>999</D:getcontentlength></D:prop>
   <D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>
 <D:response><D:href>/dav/in%20box/gone</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>
</D:multistatus>"""
    resources = parse_multistatus(body, "https://h.example/dav/in%20box")
    assert [(r.href_path, r.is_dir, r.size, r.mtime, r.etag) for r in resources] == [
        ("/dav/in box", True, 0, None, None),
        ("/dav/in box/Käse+1.csv", False, 42, 1_700_000_000.0, '"abc"'),
    ]


def test_multistatus_refuses_dtds_and_non_dav_documents() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><D:multistatus xmlns:D="DAV:"/>'
    with pytest.raises(MultistatusError, match="DTD"):
        parse_multistatus(bomb, "http://h/")
    with pytest.raises(MultistatusError, match="not a DAV multistatus"):
        parse_multistatus(b"<html><body>hello</body></html>", "http://h/")
    with pytest.raises(MultistatusError, match="not valid XML"):
        parse_multistatus(b"<D:multistatus xmlns:D='DAV:'>", "http://h/")
