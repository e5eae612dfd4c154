"""Conformance, part 1: folders, listing, small and large files, resume, errors for missing paths."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from support.conformance import (
    LARGE,
    ODD_NAMES,
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

from transferapp.errors import PermissionDeniedError, RemoteNotFoundError, TransferAppError
from transferapp.transports.base import CancelToken


# ------------------------------------------------------------------------------------------ the cases
def test_home_is_the_base_folder(remote: Remote) -> None:
    assert remote.transport.home() == remote.base
    entry = remote.transport.stat(remote.base)
    assert entry is not None and entry.is_dir


def test_stat_of_missing_is_none(remote: Remote) -> None:
    assert remote.transport.stat(remote.path("missing.txt")) is None
    assert remote.transport.stat(remote.path("no-folder", "missing.txt")) is None


def test_makedirs_nested_and_again(remote: Remote) -> None:
    path = remote.path("a", "b", "c")
    remote.transport.makedirs(path)
    assert remote.local("a", "b", "c").is_dir()
    remote.transport.makedirs(path)
    remote.transport.makedirs(remote.path("a", "b"))
    remote.transport.makedirs(remote.base)
    entry = remote.transport.stat(path)
    assert entry is not None and entry.is_dir and entry.name == "c"


def test_list_with_odd_names(remote: Remote, tmp_path: Path) -> None:
    expected: dict[str, tuple[int, bool]] = {}
    for size, name in enumerate(ODD_NAMES, start=1):
        _put_bytes(remote, tmp_path, remote.path(name), b"x" * size * 100)
        expected[name] = (size * 100, False)
    remote.transport.makedirs(remote.path("Unterordner Ä"))
    expected["Unterordner Ä"] = (0, True)
    assert _names(remote, remote.base) == expected
    assert _names_on_server(remote.view) == expected
    assert _names(remote, remote.path("Unterordner Ä")) == {}
    _put_bytes(remote, tmp_path, remote.path("Unterordner Ä", ODD_NAMES[1]), b"abc")
    assert _names(remote, remote.path("Unterordner Ä")) == {ODD_NAMES[1]: (3, False)}
    assert _names(remote, remote.path("Unterordner Ä") + "/") == {ODD_NAMES[1]: (3, False)}
    for name in ODD_NAMES:
        entry = remote.transport.stat(remote.path(name))
        assert entry is not None and not entry.is_dir and entry.size == expected[name][0]
        assert entry.mtime is not None and abs(entry.mtime - remote.local(name).stat().st_mtime) < 2


def test_list_of_missing_folder_is_not_found(remote: Remote) -> None:
    path = remote.path("nowhere")
    with pytest.raises(RemoteNotFoundError) as info:
        remote.transport.list(path)
    _names_path(info.value, path)


def test_put_and_get_small(remote: Remote, tmp_path: Path) -> None:
    data = b"<orders><order id='1'/></orders>\n"
    path = remote.path("Bestellungen März.xml")
    _put_bytes(remote, tmp_path, path, data)
    assert remote.local("Bestellungen März.xml").read_bytes() == data
    entry = remote.transport.stat(path)
    assert entry is not None and entry.size == len(data) and not entry.is_dir
    local = tmp_path / "back.xml"
    local.touch()
    assert _get(remote, path, local, 0, len(data)).done == len(data)
    assert local.read_bytes() == data
    _put_bytes(remote, tmp_path, path, b"<orders/>\n")  # a shorter file replaces it whole
    assert remote.local("Bestellungen März.xml").read_bytes() == b"<orders/>\n"


def test_put_into_missing_folder_is_not_found(remote: Remote, tmp_path: Path) -> None:
    target = remote.path("no-folder", "order.xml")
    with pytest.raises(TransferAppError) as info:
        _put_bytes(remote, tmp_path, target, b"<order/>")
    assert isinstance(info.value, RemoteNotFoundError) and not info.value.retryable, repr(info.value)
    _names_path(info.value, target)
    assert not remote.local("no-folder").exists()
    with pytest.raises(TransferAppError) as info:
        remote.transport.writable(remote.path("no-folder"))
    assert isinstance(info.value, RemoteNotFoundError | PermissionDeniedError), repr(info.value)
    assert not info.value.retryable, repr(info.value)


def test_makedirs_over_a_file_is_an_error(remote: Remote, tmp_path: Path) -> None:
    _put_bytes(remote, tmp_path, remote.path("in"), b"a file, not a folder")
    with pytest.raises(TransferAppError) as info:
        remote.transport.makedirs(remote.path("in", "orders"))
    assert not info.value.retryable
    _names_path(info.value, remote.path("in"))
    assert remote.local("in").read_bytes() == b"a file, not a folder"


def test_put_and_get_empty(remote: Remote, tmp_path: Path) -> None:
    path = remote.path("empty.csv")
    _put_bytes(remote, tmp_path, path, b"")
    assert remote.local("empty.csv").read_bytes() == b""
    entry = remote.transport.stat(path)
    assert entry is not None and entry.size == 0
    local = tmp_path / "back"
    local.touch()
    _get(remote, path, local, 0, 0)
    assert local.read_bytes() == b""


def test_put_large_streamed_and_get_resumed(remote: Remote, tmp_path: Path, large_file: Path) -> None:
    path = remote.path("large.bin")
    tracemalloc.start()
    try:
        progress = _put(remote, large_file, path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < LARGE // 2, f"the upload held {peak / MiB:.0f} MiB in memory: not streamed"
    assert progress.done == LARGE
    assert remote.local("large.bin").stat().st_size == LARGE
    assert _sha(remote.local("large.bin")) == _sha(large_file)

    full = tmp_path / "full.bin"
    full.touch()
    assert _get(remote, path, full, 0, LARGE).done == LARGE
    assert _sha(full) == _sha(large_file)

    half = LARGE // 2 + 12345
    resumed = tmp_path / "resumed.bin"
    with open(large_file, "rb") as source:
        resumed.write_bytes(source.read(half))
    assert _get(remote, path, resumed, half, LARGE).done == LARGE - half
    assert _sha(resumed) == _sha(large_file)

    start, end = 5 * MiB + 3, 9 * MiB + 7  # a middle slice at odd offsets: no byte before or after it
    middle = tmp_path / "middle.bin"
    with open(large_file, "rb") as source:
        middle.write_bytes(source.read(start))
        expected = source.read(end - start)
    _get(remote, path, middle, start, end)
    assert middle.stat().st_size == end
    assert middle.read_bytes()[start:] == expected


def test_ranged_write_out_of_order(remote: Remote, tmp_path: Path) -> None:
    if not remote.transport.capabilities.ranged_write:
        pytest.skip(f"{remote.kind} has no ranged writes")
    data = os.urandom(3 * MiB + 17)
    local = tmp_path / "src.bin"
    local.write_bytes(data)
    path = remote.path("ranged.bin")
    cut = MiB + 5
    remote.transport.write_range(local, path, 0, 0, Counter(), CancelToken(), truncate=True)
    remote.transport.write_range(local, path, cut, len(data), Counter(), CancelToken())
    remote.transport.write_range(local, path, 0, cut, Counter(), CancelToken())
    assert remote.local("ranged.bin").read_bytes() == data
