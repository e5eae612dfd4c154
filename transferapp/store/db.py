"""One SQLite database in WAL mode, one connection per thread, schema versions by PRAGMA user_version."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from transferapp.errors import ConfigError, StorageFullError

MIGRATIONS: list[str] = [
    # version 1: queue and transfer log
    """
    CREATE TABLE queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        batch TEXT,
        connection TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('up', 'down')),
        local_path TEXT NOT NULL,
        remote_path TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL DEFAULT 5,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        total_bytes INTEGER NOT NULL DEFAULT 0,
        done_bytes INTEGER NOT NULL DEFAULT 0,
        snapshot TEXT,
        resume TEXT,
        error TEXT NOT NULL DEFAULT '',
        hint TEXT NOT NULL DEFAULT '',
        owner_pid INTEGER,
        owner_token TEXT,
        lease_until REAL,
        options TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX queue_state ON queue(state, next_attempt_at);
    CREATE INDEX queue_batch ON queue(batch);
    CREATE TABLE log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        connection TEXT NOT NULL,
        direction TEXT NOT NULL,
        local_path TEXT NOT NULL,
        remote_path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        duration REAL NOT NULL,
        status TEXT NOT NULL,
        error TEXT NOT NULL,
        transfer_id INTEGER,
        attempt INTEGER NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        row_hash TEXT NOT NULL
    );
    CREATE INDEX log_at ON log(at);
    CREATE INDEX log_status ON log(status, at);
    CREATE INDEX log_connection ON log(connection, at);
    CREATE TABLE log_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_id INTEGER NOT NULL,
        last_hash TEXT NOT NULL,
        rows INTEGER NOT NULL
    );
    """,
    # version 2: jobs: when each last ran, and which file versions each has queued or delivered
    """
    CREATE TABLE job_state (
        job TEXT PRIMARY KEY,
        last_run TEXT,
        last_result TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    );
    CREATE TABLE job_files (
        job TEXT NOT NULL,
        key TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        queue_id INTEGER,
        state TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (job, key)
    );
    CREATE INDEX job_files_state ON job_files(job, state);
    """,
    # version 3: the log page filters newest-first by id (keyset pages), so its indexes end in id
    """
    CREATE INDEX log_connection_id ON log(connection, id);
    CREATE INDEX log_status_id ON log(status, id);
    CREATE INDEX log_direction_id ON log(direction, id);
    CREATE INDEX log_connection_status_id ON log(connection, status, id);
    """,
]


def _trigram_available() -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (3.34+, built with FTS5)."""
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as conn:
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    return True


# version 4: a trigram index over the log's paths and error, so a text search finds rare matches without a scan
# (a SQLite without FTS5 trigram skips it; the log then searches by scanning, see TransferLog)
MIGRATIONS.append(
    """
    CREATE VIRTUAL TABLE log_text USING fts5(
        local_path, remote_path, error, content='log', content_rowid='id', tokenize='trigram'
    );
    INSERT INTO log_text(log_text) VALUES ('rebuild');
    CREATE TRIGGER log_text_insert AFTER INSERT ON log BEGIN
        INSERT INTO log_text(rowid, local_path, remote_path, error)
        VALUES (new.id, new.local_path, new.remote_path, new.error);
    END;
    CREATE TRIGGER log_text_delete AFTER DELETE ON log BEGIN
        INSERT INTO log_text(log_text, rowid, local_path, remote_path, error)
        VALUES ('delete', old.id, old.local_path, old.remote_path, old.error);
    END;
    CREATE TRIGGER log_text_update AFTER UPDATE OF local_path, remote_path, error ON log BEGIN
        INSERT INTO log_text(log_text, rowid, local_path, remote_path, error)
        VALUES ('delete', old.id, old.local_path, old.remote_path, old.error);
        INSERT INTO log_text(rowid, local_path, remote_path, error)
        VALUES (new.id, new.local_path, new.remote_path, new.error);
    END;
    """
    if _trigram_available()
    else "SELECT 1;"
)


class Database:
    """The app's SQLite file; hands each thread its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"Cannot open the database {self.path}: {exc}",
                "restore it from a backup, or move it away to start a new one",
            ) from None
        if self.path.exists():
            self.path.chmod(0o600)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the lock up front (BEGIN IMMEDIATE)."""
        conn = self.connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _storage_error(exc, self.path) from None
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.execute("ROLLBACK")
            raise _storage_error(exc, self.path) from None

    def _migrate(self) -> None:
        conn = self._open()
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise ConfigError(
                    f"The database {self.path} was written by a newer transferapp (schema {version})",
                    "upgrade transferapp",
                )
            if 0 < version < len(MIGRATIONS):
                shutil.copy2(self.path, self.path.with_suffix(f".v{version}.bak"))
            for number in range(version, len(MIGRATIONS)):
                conn.executescript(
                    f"BEGIN IMMEDIATE; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;"
                )
        finally:
            conn.close()

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _storage_error(exc: sqlite3.OperationalError, path: Path) -> Exception:
    if "full" in str(exc).lower():
        return StorageFullError(f"The disk holding {path} is full")
    return exc
