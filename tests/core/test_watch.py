"""The folder watcher of push jobs: complete files are reported once per version, half-written ones never."""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from transferapp.errors import ConfigError
from transferapp.jobs.watch import FolderWatcher, ReadyFile, WatchSpec, wanted

STABLE = 0.3
needs_inotify = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="close-after-write needs inotify")


class Recorder:
    """An on_ready callback that remembers what it was given (thread-safe); can raise for chosen names."""

    def __init__(self, fail_for: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._items: list[ReadyFile] = []
        self._fail_for = fail_for

    def __call__(self, item: ReadyFile) -> None:
        with self._lock:
            self._items.append(item)
        if item.relative in self._fail_for:
            raise RuntimeError(f"upload of {item.relative} blew up")

    @property
    def items(self) -> list[ReadyFile]:
        with self._lock:
            return list(self._items)

    def counts(self) -> Counter[str]:
        return Counter(item.relative for item in self.items)

    def of(self, relative: str) -> list[ReadyFile]:
        return [item for item in self.items if item.relative == relative]


class ShiftedClock:
    """time.monotonic() plus an offset the test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def wait_for(condition: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    """Poll until condition() is true; fail with a message naming what was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def put(folder: Path, relative: str, data: bytes = b"<order/>") -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def barrier(folder: Path, rec: Recorder, name: str = "zz-barrier.xml", marker: str | None = None) -> None:
    """Drop a fresh file and wait until it is reported: everything written before it has been looked at."""
    put(folder, name)
    if marker:
        put(folder, name + marker, b"")
    wait_for(lambda: rec.of(name), f"{name} to be reported")


MakeWatcher = Callable[..., tuple[FolderWatcher, Recorder]]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "exports"
    path.mkdir()
    return path


@pytest.fixture
def make_watcher(folder: Path) -> Iterator[MakeWatcher]:
    watchers: list[FolderWatcher] = []

    def make(
        *, start: bool = True, rec: Recorder | None = None, clock: Callable[[], float] = time.monotonic, **spec: Any
    ) -> tuple[FolderWatcher, Recorder]:
        spec.setdefault("stable_seconds", STABLE)
        recorder = rec or Recorder()
        watcher = FolderWatcher(WatchSpec(folder, **spec), recorder, clock=clock)
        watchers.append(watcher)
        if start:
            watcher.start()
        return watcher, recorder

    yield make
    for watcher in watchers:
        watcher.stop()


@pytest.mark.parametrize(
    ("relative", "spec_kw", "expected"),
    [
        ("orders.xml", {}, True),
        ("orders.xml", {"include": ("*.csv",)}, False),
        ("orders.xml", {"include": ("*.csv", "*.xml")}, True),
        ("skip_orders.xml", {"exclude": ("skip_*",)}, False),
        ("sub/orders.xml", {"recursive": True, "include": ("sub/*.xml",)}, True),
        ("other/orders.xml", {"recursive": True, "include": ("sub/*.xml",)}, False),
        ("sub/orders.xml", {"recursive": False}, False),
        (".orders.xml", {}, False),
        (".cache/orders.xml", {"recursive": True}, False),
        ("sub/.orders.xml", {"recursive": True}, False),
        ("orders.xml.part", {}, False),
        ("orders.xml.TMP", {}, False),
        ("orders.partial", {}, False),
        ("orders.crdownload", {}, False),
        ("~orders.xml", {}, False),
        ("orders.xml~", {}, False),
        ("orders.xml.swp", {}, False),
        ("orders.xml.filepart", {}, False),
        ("orders.xml.done", {"done_marker": ".done"}, False),
        ("orders.xml.done", {}, True),
        ("orders.xml", {"done_marker": ".done"}, True),
    ],
)
def test_wanted_applies_patterns_and_always_skips_hidden_temp_and_marker_names(
    relative: str, spec_kw: dict[str, Any], expected: bool
) -> None:
    assert wanted(WatchSpec(Path("/exports"), **spec_kw), relative) is expected


def test_slowly_written_file_is_reported_once_after_its_last_write(folder: Path, make_watcher: MakeWatcher) -> None:
    watcher, rec = make_watcher()
    chunk = b"x" * 4096
    with open(folder / "big.xml", "wb") as handle:
        for _ in range(8):
            handle.write(chunk)
            handle.flush()
            time.sleep(STABLE / 3)
            assert not rec.of("big.xml"), "reported while still being written"
    wait_for(lambda: rec.of("big.xml"), "big.xml to be reported")
    barrier(folder, rec)
    [item] = rec.of("big.xml")
    assert item.size == 8 * len(chunk) == (folder / "big.xml").stat().st_size
    assert item.path == folder / "big.xml" and item.marker is None
    assert watcher.pending == 0


@needs_inotify
def test_file_still_open_for_writing_waits_for_its_close(folder: Path, make_watcher: MakeWatcher) -> None:
    watcher, rec = make_watcher()
    with open(folder / "held.xml", "wb") as handle:
        handle.write(b"first part")
        handle.flush()
        barrier(folder, rec)  # written after held.xml and settled: held.xml has been stable as long
        assert not rec.of("held.xml")
        assert watcher.pending == 1
    wait_for(lambda: rec.of("held.xml"), "held.xml to be reported after close")
    assert rec.of("held.xml")[0].size == len(b"first part")


@needs_inotify
def test_missed_close_is_accepted_after_the_grace_period_of_the_injected_clock(
    folder: Path, make_watcher: MakeWatcher
) -> None:
    clock = ShiftedClock()
    _, rec = make_watcher(clock=clock)
    with open(folder / "held.xml", "wb") as handle:
        handle.write(b"never closed in time")
        handle.flush()
        barrier(folder, rec)
        assert not rec.of("held.xml")
        clock.offset += 61.0  # past max(60 s, 4 x stable_seconds)
        wait_for(lambda: rec.of("held.xml"), "held.xml to be taken without a close")
    assert len(rec.of("held.xml")) == 1


def test_files_present_before_start_are_reported(folder: Path, make_watcher: MakeWatcher) -> None:
    for name in ("a.xml", "b.csv", "c.txt"):
        put(folder, name, name.encode())
    _, rec = make_watcher()
    wait_for(lambda: len(rec.items) == 3, "the three existing files")
    assert {item.relative: item.size for item in rec.items} == {"a.xml": 5, "b.csv": 5, "c.txt": 5}


def test_excluded_hidden_and_temp_files_are_never_reported(folder: Path, make_watcher: MakeWatcher) -> None:
    put(folder, "before.xml")
    put(folder, "before.tmp")
    _, rec = make_watcher(include=("*.xml", "*.tmp", "*.part"), exclude=("draft_*",))
    for name in ("draft_1.xml", ".hidden.xml", "notes.txt", "x.part", "~lock.xml", "orders.xml~", "late.xml"):
        put(folder, name)
    put(folder, "renamed.xml.part").rename(folder / "renamed.xml")  # the write-then-rename pattern
    barrier(folder, rec)
    assert rec.counts() == Counter({"before.xml": 1, "late.xml": 1, "renamed.xml": 1, "zz-barrier.xml": 1})


def test_done_marker_mode_waits_for_the_marker(folder: Path, make_watcher: MakeWatcher) -> None:
    watcher, rec = make_watcher(done_marker=".done")
    put(folder, "orders.xml", b"12345")
    barrier(folder, rec, marker=".done")  # barrier has its marker: it was stable and taken, orders.xml was not
    assert not rec.of("orders.xml")
    assert watcher.pending == 1
    put(folder, "orders.xml.done", b"")
    wait_for(lambda: rec.of("orders.xml"), "orders.xml after its marker")
    [item] = rec.of("orders.xml")
    assert item.marker == folder / "orders.xml.done" and item.size == 5
    put(folder, "early.xml.done", b"")  # marker first, file after: taken once the file is stable
    put(folder, "early.xml")
    wait_for(lambda: rec.of("early.xml"), "early.xml")
    barrier(folder, rec, "zz-second.xml", marker=".done")
    assert not any(name.endswith(".done") for name in rec.counts())
    assert rec.counts()["orders.xml"] == 1 and rec.counts()["early.xml"] == 1


def test_changed_file_is_reported_again_and_unchanged_one_is_not(folder: Path, make_watcher: MakeWatcher) -> None:
    watcher, rec = make_watcher()
    put(folder, "stock.csv", b"sku;qty\n")
    put(folder, "prices.csv", b"sku;price\n")
    wait_for(lambda: len(rec.items) == 2, "both files")
    with open(folder / "stock.csv", "ab") as handle:
        handle.write(b"A1;5\n")
    wait_for(lambda: len(rec.of("stock.csv")) == 2, "the new version of stock.csv")
    assert [item.size for item in rec.of("stock.csv")] == [8, 13]
    watcher.rescan()  # a full scan finds nothing new either
    assert watcher.pending == 0
    barrier(folder, rec)
    assert rec.counts()["prices.csv"] == 1 and rec.counts()["stock.csv"] == 2


def test_release_lets_an_unchanged_file_be_reported_again(folder: Path, make_watcher: MakeWatcher) -> None:
    watcher, rec = make_watcher()
    path = put(folder, "orders.xml")
    wait_for(lambda: rec.of("orders.xml"), "orders.xml")
    barrier(folder, rec)
    assert len(rec.of("orders.xml")) == 1
    watcher.release(path)
    wait_for(lambda: len(rec.of("orders.xml")) == 2, "orders.xml again after release()")
    first, second = rec.of("orders.xml")
    assert (first.size, first.mtime_ns) == (second.size, second.mtime_ns)


@pytest.mark.parametrize("recursive", [True, False])
def test_recursive_mode_sees_subfolders_and_non_recursive_ignores_them(
    folder: Path, make_watcher: MakeWatcher, recursive: bool
) -> None:
    put(folder, "top.xml")
    put(folder, "sub/before.xml")
    _, rec = make_watcher(recursive=recursive)
    put(folder, "sub/after.xml")
    put(folder, "new/deeper/inner.xml")
    put(folder, ".hidden/secret.xml")
    put(folder.parent / "staging", "batch/moved.xml").parent.rename(folder / "batch")  # a whole folder moved in
    barrier(folder, rec)
    expected = {"top.xml", "zz-barrier.xml"}
    if recursive:
        expected |= {"sub/before.xml", "sub/after.xml", "new/deeper/inner.xml", "batch/moved.xml"}
        wait_for(lambda: set(rec.counts()) >= expected, "the files in subfolders")
    assert set(rec.counts()) == expected
    assert all(count == 1 for count in rec.counts().values())
    if recursive:
        assert rec.of("new/deeper/inner.xml")[0].path == folder / "new" / "deeper" / "inner.xml"


def test_folder_given_as_a_symlink_is_watched_through_it(tmp_path: Path) -> None:
    real = tmp_path / "real-exports"
    real.mkdir()
    link = tmp_path / "exports-link"
    link.symlink_to(real, target_is_directory=True)
    rec = Recorder()
    watcher = FolderWatcher(WatchSpec(link, stable_seconds=STABLE, rescan_seconds=3600), rec)
    watcher.start()
    try:
        put(real, "orders.xml")  # only events can deliver it: the next rescan is an hour away
        wait_for(lambda: rec.of("orders.xml"), "orders.xml through the symlinked folder")
        assert rec.of("orders.xml")[0].path == link / "orders.xml"
    finally:
        watcher.stop()


def test_polling_mode_reports_new_and_changed_files(folder: Path, make_watcher: MakeWatcher) -> None:
    _, rec = make_watcher(polling=True)
    put(folder, "share.xml", b"v1")
    wait_for(lambda: rec.of("share.xml"), "share.xml")  # no close events here: must not wait for one
    put(folder, "share.xml", b"version 2")
    wait_for(lambda: len(rec.of("share.xml")) == 2, "the second version")
    assert [item.size for item in rec.of("share.xml")] == [2, 9]


def test_burst_of_1000_files_is_reported_exactly_once_each(folder: Path, make_watcher: MakeWatcher) -> None:
    _, rec = make_watcher()
    names = {f"order-{i:04d}.xml" for i in range(1000)}
    for name in names:
        put(folder, name, name.encode())
    wait_for(lambda: len(rec.items) >= 1000, "1000 reports", timeout=60)
    barrier(folder, rec)
    counts = rec.counts()
    assert set(counts) == names | {"zz-barrier.xml"}
    assert set(counts.values()) == {1}


def test_on_ready_that_raises_is_logged_and_later_files_are_still_reported(
    folder: Path, make_watcher: MakeWatcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="transferapp.jobs.watch")
    _, rec = make_watcher(rec=Recorder(fail_for=("bad.xml",)))
    put(folder, "bad.xml")
    wait_for(lambda: rec.of("bad.xml"), "bad.xml")
    put(folder, "good.xml")
    wait_for(lambda: rec.of("good.xml"), "good.xml after the failing callback")
    errors = [r for r in caplog.records if r.name == "transferapp.jobs.watch" and r.levelno == logging.ERROR]
    assert any("bad.xml" in r.getMessage() and r.exc_info for r in errors)


def test_file_that_vanishes_before_settling_is_forgotten(folder: Path, make_watcher: MakeWatcher) -> None:
    watcher, rec = make_watcher(stable_seconds=1.0)
    path = put(folder, "gone.xml")
    wait_for(lambda: watcher.pending == 1, "gone.xml to be seen")
    path.unlink()
    wait_for(lambda: watcher.pending == 0, "gone.xml to be forgotten")
    barrier(folder, rec)
    assert not rec.of("gone.xml")


def test_missing_folder_is_a_config_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    watcher = FolderWatcher(WatchSpec(missing), Recorder())
    with pytest.raises(ConfigError) as caught:
        watcher.start()
    assert str(missing) in caught.value.message and caught.value.hint
    watcher.stop()
    with pytest.raises(ConfigError):
        WatchSpec(missing, stable_seconds=-1)


def test_folder_that_disappears_is_warned_about_and_watched_again_when_back(
    folder: Path, make_watcher: MakeWatcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="transferapp.jobs.watch")
    clock = ShiftedClock()
    _, rec = make_watcher(clock=clock, rescan_seconds=30)
    put(folder, "a.xml")
    wait_for(lambda: rec.of("a.xml"), "a.xml")
    shutil.rmtree(folder)
    wait_for(
        lambda: any(str(folder) in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records),
        "a warning naming the folder",
    )
    folder.mkdir()
    put(folder, "b.xml")
    clock.offset += 31  # the next periodic rescan is due: it finds the folder again
    wait_for(lambda: rec.of("b.xml"), "b.xml in the re-created folder")
    put(folder, "c.xml")  # the next rescan is 30 s away: only a re-armed observer sees this in time
    wait_for(lambda: rec.of("c.xml"), "c.xml after the folder came back")
    assert rec.counts() == Counter({"a.xml": 1, "b.xml": 1, "c.xml": 1})


def test_stop_is_idempotent_joins_its_threads_and_start_works_again(folder: Path, make_watcher: MakeWatcher) -> None:
    threads_before = set(threading.enumerate())
    watcher, rec = make_watcher()
    put(folder, "one.xml")
    wait_for(lambda: rec.of("one.xml"), "one.xml")
    watcher.stop()
    watcher.stop()
    assert not [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    put(folder, "two.xml")
    watcher.start()
    wait_for(lambda: rec.of("two.xml"), "two.xml after restart")
    barrier(folder, rec)
    assert rec.counts()["one.xml"] == 1
