"""SFTP on paramiko: authentication, pinned host keys, ranged pipelined writes and prefetched reads."""

from __future__ import annotations

import logging
import posixpath
import socket
import stat as statmod
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import paramiko
from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY

from transferapp.config import Connection
from transferapp.errors import (
    LocalFileError,
    PermissionDeniedError,
    TransferAppError,
)
from transferapp.secrets import SecretStore
from transferapp.transports.base import CancelToken, Capabilities, DownloadTarget, Progress, RemoteEntry, SmallPut
from transferapp.transports.hostkeys import HostKeyStore
from transferapp.transports.sftp_auth import authenticate
from transferapp.transports.sftp_errors import translate
from transferapp.transports.sftp_pipeline import put_small_files, rename_many

log = logging.getLogger(__name__)

BLOCK = 32768  # the request size every SFTP server takes
LARGE_BLOCK = 255 * 1024  # what OpenSSH takes (limits@openssh.com): 8x fewer requests and answers per byte
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")


class SftpTransport:
    """One SFTP session for one connection (see Transport in base.py for the contract)."""

    capabilities = Capabilities(atomic_rename=True, ranged_write=True, batch_put=True)

    def __init__(
        self, conn: Connection, secrets: SecretStore, hostkeys: HostKeyStore, trust_new_host_key: bool = False
    ) -> None:
        self.conn = conn
        self.url = conn.remote
        self.secrets = secrets
        self.hostkeys = hostkeys
        self.trust_new_host_key = trust_new_host_key
        self.timeout = float(conn.option("timeout"))
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._home = ""
        self._posix_rename = True
        self.rtt: float | None = None  # seconds for one request, measured at connect
        self.max_write = self.max_read = BLOCK
        self._folders: set[str] = set()  # folders known to exist, so each is checked once per session

    # -- session ---------------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the TCP connection, check the host key, log in and start SFTP."""
        where = f"connecting to {self.url.host}:{self.url.port}"
        try:
            sock = socket.create_connection((self.url.host, self.url.port), timeout=self.timeout)
        except OSError as exc:
            raise translate(exc, where) from None
        try:
            transport = paramiko.Transport(sock)
            self._transport = transport
            options = transport.get_security_options()
            options.ciphers = tuple(c for c in PREFERRED_CIPHERS if c in options.ciphers) + tuple(
                c for c in options.ciphers if c not in PREFERRED_CIPHERS
            )
            pinned = self.hostkeys.pinned(self.url.host, self.url.port)
            if pinned:
                options.key_types = tuple(k for k in options.key_types if k in pinned) or options.key_types
            transport.banner_timeout = self.timeout
            transport.start_client(timeout=self.timeout)
            key = transport.get_remote_server_key()
            self.hostkeys.verify(
                self.url.host, self.url.port, key, self.conn.host_key, self.trust_new_host_key, self.conn.name
            )
            authenticate(self.conn, self.secrets, transport)
            transport.set_keepalive(30)
            sftp = paramiko.SFTPClient.from_transport(transport)
            if sftp is None:
                raise TransferAppError(
                    "The server did not start the SFTP subsystem",
                    "ask the administrator to enable SFTP for this account",
                )
            sftp.get_channel().settimeout(self.timeout)
            self._sftp = sftp
            self._home = self._resolve_home(sftp)
            self.max_write, self.max_read = _request_limits(sftp)
        except BaseException as exc:
            self.close()
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise translate(exc, where) from None

    def _resolve_home(self, sftp: paramiko.SFTPClient) -> str:
        """The absolute remote folder; the round trip it takes is also this session's RTT measure."""
        started = time.monotonic()
        base = sftp.normalize(".")
        self.rtt = time.monotonic() - started
        if self.url.path.startswith("/"):
            return self.url.path
        return posixpath.normpath(posixpath.join(base, self.url.path))

    def close(self) -> None:
        """Close SFTP and the SSH transport; never raises."""
        for closable in (self._sftp, self._transport):
            try:
                if closable is not None:
                    closable.close()
            except Exception:  # noqa: S112 - closing a broken session must not mask the real error
                continue
        self._sftp = None
        self._transport = None

    @property
    def sftp(self) -> paramiko.SFTPClient:
        """The live SFTP client (connects on first use)."""
        if self._sftp is None:
            self.connect()
        assert self._sftp is not None
        return self._sftp

    def is_alive(self) -> bool:
        """Whether the SSH transport is still up."""
        return self._transport is not None and self._transport.is_active()

    def home(self) -> str:
        """The connection's remote folder as an absolute path."""
        self.sftp  # noqa: B018 - connects and resolves the folder
        return self._home

    # -- files -----------------------------------------------------------------------------------
    def stat(self, path: str) -> RemoteEntry | None:
        """The entry at ``path``, or None when nothing is there."""
        try:
            attrs = self.sftp.stat(path)
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise translate(exc, f"checking {path}") from None
        return _entry(path, attrs)

    def list(self, path: str) -> list[RemoteEntry]:
        """The entries directly inside folder ``path``."""
        try:
            return [_entry(posixpath.join(path, a.filename), a) for a in self.sftp.listdir_attr(path)]
        except Exception as exc:
            raise translate(exc, f"listing {path}") from None

    def makedirs(self, path: str) -> None:
        """Create folder ``path`` and its missing parents; no error if it already exists."""
        if path in self._folders:
            return
        existing = self.stat(path)
        if existing is not None:
            if not existing.is_dir:
                raise PermissionDeniedError(f"{path} exists on the server and is not a folder")
            self._folders.add(path)
            return
        parent = posixpath.dirname(path.rstrip("/"))
        if parent and parent != path:
            self.makedirs(parent)
        try:
            self.sftp.mkdir(path)
        except Exception as exc:
            if self.stat(path) is None:  # another session may have made it meanwhile
                raise translate(exc, f"creating folder {path}") from None
        self._folders.add(path)

    def create(self, path: str) -> None:
        """Create or truncate ``path`` to an empty file."""
        try:
            self.sftp.open(path, "wb").close()
        except Exception as exc:
            raise translate(exc, f"creating {path}") from None

    def write_range(
        self,
        local: Path,
        path: str,
        start: int,
        end: int,
        progress: Progress,
        cancel: CancelToken,
        truncate: bool = False,
    ) -> None:
        """Write bytes [start, end) of ``local`` to the same offsets of remote ``path`` (pipelined)."""
        try:
            with open(local, "rb") as source, self.sftp.open(path, "wb" if truncate else "r+b") as target:
                target.MAX_REQUEST_SIZE = self.max_write
                target.set_pipelined(True)
                source.seek(start)
                target.seek(start)
                remaining = end - start
                while remaining > 0:
                    cancel.check()
                    data = source.read(min(self.max_write, remaining))
                    if not data:
                        raise LocalFileError(
                            f"{local} became shorter while it was being sent",
                            "the file is sent again once it stops changing",
                            retryable=True,
                        )
                    target.write(data)
                    remaining -= len(data)
                    progress.advance(len(data))
        except OSError as exc:
            if exc.filename == str(local) or isinstance(exc, FileNotFoundError) and exc.filename:
                raise LocalFileError(f"Cannot read {local}: {exc.strerror}") from None
            raise translate(exc, f"writing {path}") from None
        except TransferAppError:
            raise
        except Exception as exc:
            raise translate(exc, f"writing {path}") from None

    def put_file(self, local: Path, path: str, progress: Progress, cancel: CancelToken) -> None:
        """Send the whole of ``local`` to ``path`` in one pipelined stream (creating or replacing it)."""
        try:
            size = local.stat().st_size
        except OSError as exc:
            raise LocalFileError(f"Cannot read {local}: {exc.strerror}") from None
        self.write_range(local, path, 0, size, progress, cancel, truncate=True)

    def read_range(
        self,
        path: str,
        local: Path,
        start: int,
        end: int,
        progress: Progress,
        cancel: CancelToken,
        sink: Callable[[bytes], None] | None = None,
    ) -> None:
        """Append bytes [start, end) of remote ``path`` to ``local`` using read-ahead."""
        target = DownloadTarget(local, progress, sink)
        try:
            with self.sftp.open(path, "rb") as source, target:
                source.MAX_REQUEST_SIZE = self.max_read
                source.seek(start)
                source.prefetch(end)
                remaining = end - start
                while remaining > 0:
                    cancel.check()
                    data = source.read(min(self.max_read, remaining))
                    if not data:
                        raise translate(EOFError("the remote file ended early"), f"reading {path}")
                    target.write(data)
                    remaining -= len(data)
        except TransferAppError:
            raise
        except Exception as exc:
            raise translate(exc, f"reading {path}") from None

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` over ``dst`` with posix-rename, or with care where the server lacks it."""
        try:
            if self._posix_rename:
                try:
                    self.sftp.posix_rename(src, dst)
                    return
                except OSError as exc:
                    if "unsupported" not in str(exc).lower():
                        raise
                    self._posix_rename = False
            self._rename_with_backup(src, dst)
        except Exception as exc:
            raise translate(exc, f"renaming {src} to {dst}") from None

    def _rename_with_backup(self, src: str, dst: str) -> None:
        """Plain SFTP rename refuses an existing target: move the old file aside until the new one is in."""
        if self.stat(dst) is None:
            self.sftp.rename(src, dst)
            return
        backup = f"{dst}.{uuid.uuid4().hex[:8]}.old"
        self.sftp.rename(dst, backup)
        try:
            self.sftp.rename(src, dst)
        except Exception:
            self.sftp.rename(backup, dst)
            raise
        self.sftp.remove(backup)

    def put_batch(self, puts: Sequence[SmallPut]) -> None:
        """Write many small files to their part names in a few round trips; failures land in each ``put.error``."""
        put_small_files(self.sftp, puts, self.max_write)

    def rename_batch(self, pairs: Sequence[tuple[str, str]]) -> Sequence[TransferAppError | None]:
        """Rename many (part, final) pairs; one result per pair (None when it worked)."""
        results: Sequence[TransferAppError | None] = []
        if self._posix_rename:
            results = rename_many(self.sftp, pairs)
            if not any(r is not None and "unsupported" in str(r).lower() for r in results):
                return results
            self._posix_rename = False
        return [self._rename_one(src, dst) for src, dst in pairs]

    def _rename_one(self, src: str, dst: str) -> TransferAppError | None:
        try:
            self.rename(src, dst)
        except TransferAppError as exc:
            return exc
        return None

    def remove(self, path: str) -> None:
        """Delete file ``path``; no error if it is already gone."""
        try:
            self.sftp.remove(path)
        except FileNotFoundError:
            return
        except Exception as exc:
            raise translate(exc, f"deleting {path}") from None

    def writable(self, path: str) -> None:
        """Create and delete a probe file in folder ``path``."""
        probe = posixpath.join(path, f".transferapp-probe-{uuid.uuid4().hex[:8]}")
        self.create(probe)
        self.remove(probe)


def _request_limits(sftp: paramiko.SFTPClient) -> tuple[int, int]:
    """Largest write and read requests the server takes: asked with limits@openssh.com, else 32 KiB."""
    try:
        kind, msg = sftp._request(CMD_EXTENDED, "limits@openssh.com")
    except OSError:
        return BLOCK, BLOCK  # the server does not know the extension: stay with what every server takes
    if kind != CMD_EXTENDED_REPLY or msg is None:
        return BLOCK, BLOCK
    _packet, max_read, max_write = msg.get_int64(), msg.get_int64(), msg.get_int64()

    def pick(limit: int) -> int:
        return max(BLOCK, min(LARGE_BLOCK, limit)) if limit else BLOCK

    return pick(max_write), pick(max_read)


def _entry(path: str, attrs: paramiko.SFTPAttributes) -> RemoteEntry:
    mode = attrs.st_mode or 0
    return RemoteEntry(path=path, size=attrs.st_size or 0, mtime=attrs.st_mtime, is_dir=statmod.S_ISDIR(mode))
