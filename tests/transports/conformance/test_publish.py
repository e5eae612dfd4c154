"""Conformance, part 2: atomic publish, rename, remove, cancel, permissions, files made on the server."""

from __future__ import annotations

import os
import posixpath
import threading
from pathlib import Path

import pytest
from support.conformance import (
    LARGE,
    CancelAfter,
    Counter,
    MiB,
    Remote,
    _get,
    _names,
    _names_on_server,
    _names_path,
    _put,
    _put_bytes,
    _sha,
)

from transferapp.errors import CancelledError, PermissionDeniedError, RemoteNotFoundError
from transferapp.transports.base import CancelToken


def test_atomic_publish_of_a_large_upload(remote: Remote, large_file: Path) -> None:
    part, final = remote.path(".Katalog März.csv.part"), remote.path("Katalog März.csv")
    progress = Counter(hold_at=LARGE // 4, delay=0.001)
    failure: list[BaseException] = []

    def upload() -> None:
        try:
            _put(remote, large_file, part, progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failure.append(exc)
        finally:
            progress.reached.set()

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    try:
        assert progress.reached.wait(60), "the upload never got a quarter through"
        assert not failure, failure
        assert 0 < progress.done < LARGE
        assert not remote.local("Katalog März.csv").exists()
    finally:
        progress.release.set()
        thread.join(120)
    assert not thread.is_alive() and not failure, failure
    assert not remote.local("Katalog März.csv").exists()
    assert remote.transport.stat(final) is None
    remote.transport.rename(part, final)
    assert not remote.local(".Katalog März.csv.part").exists()
    assert _sha(remote.local("Katalog März.csv")) == _sha(large_file)
    assert remote.transport.stat(part) is None
    entry = remote.transport.stat(final)
    assert entry is not None and entry.size == LARGE


def test_rename_replaces_an_existing_file(remote: Remote, tmp_path: Path) -> None:
    final, part = remote.path("カタログ.csv"), remote.path(".カタログ.csv.part")
    _put_bytes(remote, tmp_path, final, b"old contents, longer than the new ones\n")
    _put_bytes(remote, tmp_path, part, b"new\n")
    remote.transport.rename(part, final)
    assert remote.local("カタログ.csv").read_bytes() == b"new\n"
    assert _names_on_server(remote.view) == {"カタログ.csv": (4, False)}
    assert _names(remote, remote.base) == {"カタログ.csv": (4, False)}


def test_rename_of_missing_source_is_not_found(remote: Remote) -> None:
    src = remote.path("gone.part")
    with pytest.raises(RemoteNotFoundError) as info:
        remote.transport.rename(src, remote.path("final.csv"))
    _names_path(info.value, src)


def test_remove_and_remove_again(remote: Remote, tmp_path: Path) -> None:
    path = remote.path("Bestellungen März.xml")
    _put_bytes(remote, tmp_path, path, b"data")
    remote.transport.remove(path)
    assert not remote.local("Bestellungen März.xml").exists()
    assert remote.transport.stat(path) is None
    remote.transport.remove(path)
    remote.transport.remove(remote.path("no-folder", "missing.txt"))


def test_get_of_missing_file_is_not_found(remote: Remote, tmp_path: Path) -> None:
    path = remote.path("missing.bin")
    local = tmp_path / "local.bin"
    local.touch()
    with pytest.raises(RemoteNotFoundError) as info:
        _get(remote, path, local, 0, 10)
    _names_path(info.value, path)
    assert local.read_bytes() == b""


def test_cancel_stops_an_upload(remote: Remote, large_file: Path) -> None:
    token = CancelToken()
    progress = CancelAfter(token, 4 * MiB)
    with pytest.raises(CancelledError, match="stopped by the test"):
        _put(remote, large_file, remote.path("big.part"), progress, token)
    assert progress.done < LARGE
    remote.transport.remove(remote.path("big.part"))  # the session is still usable after a cancel
    assert not remote.local("big.part").exists()


def test_cancel_stops_a_download_and_the_session_goes_on(remote: Remote, tmp_path: Path, large_file: Path) -> None:
    path = remote.path("big.bin")
    _put(remote, large_file, path)
    token = CancelToken()
    local = tmp_path / "big.bin"
    local.touch()
    with pytest.raises(CancelledError, match="stopped by the test"):
        remote.transport.read_range(path, local, 0, LARGE, CancelAfter(token, 4 * MiB), token)
    assert 0 < local.stat().st_size < LARGE
    again = tmp_path / "again.bin"
    again.touch()
    _get(remote, path, again, 0, 1000)
    with open(large_file, "rb") as source:
        assert again.read_bytes() == source.read(1000)


def test_writable_base_leaves_nothing_behind(remote: Remote) -> None:
    remote.transport.writable(remote.base)
    assert list(remote.view.iterdir()) == []


def test_put_in_read_only_folder_is_permission_denied(remote: Remote, tmp_path: Path) -> None:
    folder = remote.folder("read_only")
    local = tmp_path / "order.xml"
    local.write_bytes(b"<order/>")
    target = posixpath.join(folder, "order.xml")
    with pytest.raises(PermissionDeniedError) as info:
        _put(remote, local, target)
    _names_path(info.value, target)
    assert not info.value.retryable
    with pytest.raises(PermissionDeniedError):
        remote.transport.writable(folder)
    with pytest.raises(PermissionDeniedError) as info:
        remote.transport.makedirs(posixpath.join(folder, "sub"))
    _names_path(info.value, "sub")
    assert remote.transport.stat(target) is None
    assert _names(remote, folder) == {}


def test_stat_in_folder_without_access_is_permission_denied(remote: Remote) -> None:
    folder = remote.folder("no_access")
    target = posixpath.join(folder, "order.xml")
    with pytest.raises(PermissionDeniedError) as info:
        remote.transport.stat(target)
    _names_path(info.value, target)
    with pytest.raises(PermissionDeniedError) as info:
        remote.transport.list(folder)
    _names_path(info.value, folder)


def test_files_made_on_the_server_are_listed_and_read(remote: Remote, tmp_path: Path) -> None:
    """Files placed on the server by other means are listed and read back unchanged."""
    data = os.urandom(300_000)
    local = remote.local("Von außen.dat")
    local.write_bytes(data)
    assert _names(remote, remote.base) == {"Von außen.dat": (len(data), False)}
    back = tmp_path / "back"
    back.touch()
    _get(remote, remote.path("Von außen.dat"), back, 0, len(data))
    assert back.read_bytes() == data
