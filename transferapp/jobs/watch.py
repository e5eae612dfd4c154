"""Folder watcher for push jobs: report each complete file once per version (size, mtime), never half-written ones."""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog import events as ev
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from transferapp.errors import ConfigError
from transferapp.jobs.filters import WatchSpec, scan_tree, wanted

logger = logging.getLogger("transferapp.jobs.watch")

__all__ = ["FolderWatcher", "ReadyFile", "WatchSpec", "wanted"]

# Flags the observer thread records per relative path; the checker thread applies them.
_GONE = 1  # deleted/moved away, or release(): forget the reported version
_WRITING = 2  # written to (inotify IN_MODIFY): wait for a close-after-write
_CLOSED = 4  # closed after writing (inotify IN_CLOSE_WRITE)

# Only what the watcher needs: no open/close-no-write (readers, our uploader) and no directory-modified noise.
_EVENTS: list[type[ev.FileSystemEvent]] = [
    *(ev.FileCreatedEvent, ev.FileModifiedEvent, ev.FileAttribEvent, ev.FileClosedEvent, ev.FileDeletedEvent),
    *(ev.FileMovedEvent, ev.DirDeletedEvent, ev.EventsLostEvent),
]


@dataclass(frozen=True)
class ReadyFile:
    """A complete file handed to the uploader."""

    path: Path
    relative: str
    size: int
    mtime_ns: int
    marker: Path | None


@dataclass(slots=True)
class _Pending:
    """A file seen but not yet reported; key is (size, mtime_ns) at the last check, None before the first."""

    since: float
    key: tuple[int, int] | None = None
    awaiting_close: bool = False
    parked: bool = False  # complete but waiting for its done-marker: re-checked only on events and rescans


class _Handler(ev.FileSystemEventHandler):
    """Runs on the observer thread: only records events for the checker thread."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self._watcher = watcher

    def dispatch(self, event: ev.FileSystemEvent) -> None:
        """Record one watchdog event."""
        w = self._watcher
        if isinstance(event, ev.EventsLostEvent):
            logger.warning("events lost for %s (inotify queue overflow); rescanning", w.spec.folder)
            w._scan_requested = True
            return
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if event.dest_path else ""
        if event.is_directory:
            if isinstance(event, ev.DirDeletedEvent) and src in (w._root, w._watched):
                logger.warning("watched folder %s was removed; retrying in rescans", w.spec.folder)
                w._watch_lost = True
                w._scan_requested = True
            return  # files in new or moved-in folders get their own events; rescans are the safety net
        if isinstance(event, ev.FileModifiedEvent):
            w._note(src, _WRITING)
        elif isinstance(event, ev.FileClosedEvent):
            w._note(src, _CLOSED)
        elif isinstance(event, ev.FileDeletedEvent | ev.FileMovedEvent):
            w._note(src, _GONE)
        else:
            w._note(src, 0)
        if dest:
            w._note(dest, 0)


class FolderWatcher:
    """Watch spec.folder and call on_ready once per complete file version, from the watcher's own thread."""

    def __init__(
        self, spec: WatchSpec, on_ready: Callable[[ReadyFile], object], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.spec = spec
        self._on_ready = on_ready
        self._clock = clock
        self._folder = spec.folder.absolute()
        self._root = os.path.abspath(spec.folder)
        self._prefix = os.path.join(self._root, "")
        self._watched = self._root  # what the observer watches: the real path if the folder is a symlink
        self._interval = max(0.02, min(0.5, spec.stable_seconds / 4))
        self._inbox: dict[str, int] = {}
        self._inbox_lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._reported: dict[str, tuple[int, int]] = {}
        self._state_lock = threading.RLock()
        self._observer_lock = threading.RLock()
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._running = False
        self._close_events = False  # True only with inotify, the one observer that reports close-after-write
        self._identity: tuple[int, int] | None = None
        self._watch_lost = False
        self._scan_requested = False
        self._folder_missing = False
        self._last_scan = 0.0

    @property
    def pending(self) -> int:
        """Number of files seen but not yet reported (still settling or waiting for a marker or close)."""
        return len(self._pending)

    def start(self) -> None:
        """Start the observer and the checker thread; files already in the folder are picked up too."""
        with self._observer_lock:
            if self._running:
                return
            if not os.path.isdir(self._root):
                raise ConfigError(
                    f"watched folder {self._folder} does not exist or is not a folder",
                    "create the folder or fix the folder of the push job",
                )
            self._stop_event.clear()
            self._running = True
            self._scan_requested = True
            self._arm_observer()
            self._thread = threading.Thread(target=self._run, name=f"watch {self._folder}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop watching and join the observer and checker threads; calling it again does nothing."""
        with self._observer_lock:
            self._running = False
            self._stop_event.set()
            observer, self._observer = self._observer, None
            thread, self._thread = self._thread, None
        if observer is not None:
            observer.stop()
            observer.join()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def release(self, path: Path) -> None:
        """Forget a reported file: if it is still there it is reported again once stable (e.g. to retry it)."""
        target = path if path.is_absolute() else self._folder / path
        self._note(os.path.abspath(target), _GONE)

    def rescan(self) -> None:
        """Scan the whole folder now (also done every rescan_seconds); re-arms the observer if the folder came back."""
        self._last_scan = self._clock()
        self._scan_requested = False
        try:
            st = os.stat(self._root)
            if not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(self._root)
            if self._running and (self._watch_lost or self._identity != (st.st_dev, st.st_ino)):
                self._arm_observer()
            with self._state_lock:
                before = dict(self._reported)
            found = scan_tree(self.spec, self._root)
        except OSError as exc:
            if not self._folder_missing:
                logger.warning("watched folder %s is not available (%s); retrying in rescans", self._folder, exc)
            self._folder_missing = True
            return
        if self._folder_missing:
            logger.info("watched folder %s is available again", self._folder)
            self._folder_missing = False
        with self._state_lock:
            self._add_found(found)
            for rel, key in before.items():
                if rel not in found and self._reported.get(rel) == key:
                    del self._reported[rel]  # gone since it was reported

    def _arm_observer(self) -> None:
        """(Re)start the watchdog observer on the folder; fall back to polling if the native one fails."""
        with self._observer_lock:
            if not self._running:
                return
            old, self._observer = self._observer, None
            if old is not None:
                old.stop()
                old.join()
            factories: list[tuple[Callable[[], BaseObserver], bool]] = []
            if not self.spec.polling:
                factories.append((Observer, Observer.__name__ == "InotifyObserver"))  # type: ignore[attr-defined]
            poll_interval = max(0.25, min(self.spec.stable_seconds / 2, 5.0))
            factories.append((lambda: PollingObserver(timeout=poll_interval), False))
            for factory, close_events in factories:
                observer = factory()
                try:
                    st, real = os.stat(self._root), os.path.realpath(self._root)
                    observer.start()
                    observer.schedule(_Handler(self), real, recursive=self.spec.recursive, event_filter=_EVENTS)
                except OSError as exc:
                    observer.stop()
                    observer.join()
                    if isinstance(exc, FileNotFoundError | NotADirectoryError):
                        break  # the folder went away meanwhile: rescans retry
                    logger.warning("cannot watch %s with %s: %s", self._folder, type(observer).__name__, exc)
                    continue
                self._observer, self._watched = observer, real
                self._identity = (st.st_dev, st.st_ino)
                self._close_events = close_events
                self._watch_lost = False
                return
            self._watch_lost = True

    def _relative(self, path: str) -> str | None:
        """The '/'-separated path relative to the folder (as given or as watched), or None if outside it."""
        for prefix in (os.path.join(self._watched, ""), self._prefix):
            if path.startswith(prefix):
                return path[len(prefix) :].replace(os.sep, "/")
        return None

    def _note(self, path: str, flags: int) -> None:
        """Record an event for a file (a done-marker counts for the file it releases)."""
        rel = self._relative(path)
        if rel is None:
            return
        marker = self.spec.done_marker
        if marker and rel.endswith(marker) and not rel.endswith("/" + marker):
            rel, flags = rel[: -len(marker)], 0
        if not wanted(self.spec, rel):
            return
        with self._inbox_lock:
            old = self._inbox.get(rel, 0)
            if flags & _WRITING:
                old &= ~_CLOSED
            elif flags & _CLOSED:
                old &= ~_WRITING
            self._inbox[rel] = old | flags

    def _run(self) -> None:
        """Checker thread: rescan when due, apply recorded events, report files that settled."""
        while not self._stop_event.is_set():
            try:
                self._tick()
            except Exception:
                logger.exception("folder watcher check of %s failed", self._folder)
            self._stop_event.wait(self._interval)

    def _tick(self) -> None:
        """One round of the checker thread."""
        if self._scan_requested or self._clock() - self._last_scan >= self.spec.rescan_seconds:
            self.rescan()
        ready = self._check()
        for i, item in enumerate(ready):
            if self._stop_event.is_set():
                with self._state_lock:  # not delivered: let a later start() find them again
                    for undelivered in ready[i:]:
                        self._reported.pop(undelivered.relative, None)
                return
            try:
                self._on_ready(item)
            except Exception:
                logger.exception("on_ready failed for %s", item.path)

    def _add_found(self, found: dict[str, tuple[int, int]]) -> None:
        """Start tracking scanned files that are neither pending nor reported in this version."""
        now = self._clock()
        for entry in self._pending.values():
            entry.parked = False
        for rel, key in found.items():
            if rel not in self._pending and self._reported.get(rel) != key:
                self._pending[rel] = _Pending(now)

    def _check(self) -> list[ReadyFile]:
        """Apply recorded events, re-stat pending files and return those that are complete."""
        with self._inbox_lock:
            inbox, self._inbox = self._inbox, {}
        ready: list[ReadyFile] = []
        with self._state_lock:
            now = self._clock()
            for rel, flags in inbox.items():
                if flags & _GONE:
                    self._reported.pop(rel, None)
                entry = self._pending.get(rel)
                if entry is None:
                    entry = self._pending[rel] = _Pending(now)
                if flags & _WRITING:
                    entry.since = now
                    entry.awaiting_close = entry.awaiting_close or self._close_events
                elif flags & _CLOSED:
                    entry.awaiting_close = False
                entry.parked = False
            for rel, entry in list(self._pending.items()):
                if entry.parked:
                    continue
                item = self._settle(rel, entry, now)
                if item is not None:
                    del self._pending[rel]
                    self._reported[rel] = (item.size, item.mtime_ns)
                    ready.append(item)
        return ready

    def _settle(self, rel: str, entry: _Pending, now: float) -> ReadyFile | None:
        """Update one pending file from a fresh stat; return it if it is complete now."""
        path = self._folder.joinpath(*rel.split("/"))
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            del self._pending[rel]  # vanished (or became a folder) before settling: forget it
            return None
        key = (st.st_size, st.st_mtime_ns)
        if key != entry.key:
            if entry.key is None and self._reported.get(rel) == key:
                del self._pending[rel]  # an event or scan for a version already reported
                return None
            entry.key, entry.since = key, now
        stable_for = now - entry.since
        if stable_for < self.spec.stable_seconds:
            return None
        if entry.awaiting_close and stable_for < max(60.0, 4 * self.spec.stable_seconds):
            return None
        marker = None
        if self.spec.done_marker:
            marker = path.with_name(path.name + self.spec.done_marker)
            if not marker.exists():
                entry.parked = True  # its marker's creation is an event; rescans look again too
                return None
        if entry.awaiting_close:
            logger.info("%s: no close-after-write seen, taking it after %.0f s without changes", path, stable_for)
        return ReadyFile(path=path, relative=rel, size=key[0], mtime_ns=key[1], marker=marker)
