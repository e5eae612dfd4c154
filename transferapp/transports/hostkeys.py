"""The app-owned known-hosts store: SHA256 fingerprints, pinning, and the accept/refuse policy."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # paramiko loads in ~0.1 s: only SFTP sessions need it, not every command
    import paramiko
    from paramiko.hostkeys import HostKeyEntry

from transferapp.config import write_atomic
from transferapp.errors import HostKeyError


def fingerprint(key: paramiko.PKey) -> str:
    """The OpenSSH-style SHA256 fingerprint of a public key (what ``ssh-keygen -lf`` prints)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_id(host: str, port: int) -> str:
    """The known_hosts name of a server: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


class HostKeyStore:
    """Pinned host keys in an OpenSSH-format file that only transferapp uses."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> list[HostKeyEntry]:
        from paramiko.hostkeys import HostKeyEntry

        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                entry = HostKeyEntry.from_line(line)
                if entry is not None and entry.valid:
                    entries.append(entry)
        return entries

    def _save(self, entries: list[HostKeyEntry]) -> None:
        write_atomic(self.path, "".join(entry.to_line() or "" for entry in entries).encode())

    def pinned(self, host: str, port: int) -> dict[str, paramiko.PKey]:
        """The pinned keys of a server by key type (empty when none)."""
        name = host_id(host, port)
        with self._lock:
            return {e.key.get_name(): e.key for e in self._load() if name in e.hostnames}

    def pin(self, host: str, port: int, key: paramiko.PKey) -> None:
        """Pin a key for a server (atomic rewrite of the store)."""
        name = host_id(host, port)
        with self._lock:
            entries = [e for e in self._load() if not (name in e.hostnames and e.key.get_name() == key.get_name())]
            from paramiko.hostkeys import HostKeyEntry

            entries.append(HostKeyEntry([name], key))
            self._save(entries)

    def forget(self, host: str, port: int) -> bool:
        """Remove every pinned key of a server; return whether there was one."""
        name = host_id(host, port)
        with self._lock:
            entries = self._load()
            kept = [e for e in entries if name not in e.hostnames]
            self._save(kept)
        return len(kept) != len(entries)

    def verify(
        self, host: str, port: int, key: paramiko.PKey, accepted: str | None, trust_new: bool, connection: str
    ) -> None:
        """Accept a server key that is pinned, matches the accepted fingerprint, or is trusted as new; else raise."""
        offered = fingerprint(key)
        pinned = self.pinned(host, port)
        if pinned:
            if any(known == key for known in pinned.values()):
                return
            was = ", ".join(f"{kind} {fingerprint(k)}" for kind, k in pinned.items())
            raise _described(
                HostKeyError(
                    f"HOST KEY CHANGED for {host_id(host, port)}: the server now offers {key.get_name()} {offered}, "
                    f"but {was} is pinned. This can mean someone is intercepting the connection; nothing was sent",
                    "confirm the new fingerprint with the server's administrator, then run "
                    f"'transferapp connection forget-host-key {connection}' and accept the new key",
                ),
                host,
                port,
                key,
                changed=True,
            )
        if accepted and accepted != offered:
            raise _described(
                HostKeyError(
                    f"The host key of {host_id(host, port)} is {key.get_name()} {offered}, not the fingerprint "
                    f"{accepted} that was accepted for connection {connection!r}; nothing was sent",
                    "check the fingerprint with the server's administrator",
                ),
                host,
                port,
                key,
            )
        if accepted or trust_new:
            self.pin(host, port, key)
            return
        raise _described(
            HostKeyError(
                f"Unknown host key for {host_id(host, port)}: {key.get_name()} {offered}; nothing was sent",
                "if the server's administrator confirms this fingerprint, accept it with "
                f"'transferapp connection trust {connection} --accept-host-key {offered}'",
            ),
            host,
            port,
            key,
        )


def _described(error: HostKeyError, host: str, port: int, key: paramiko.PKey, changed: bool = False) -> HostKeyError:
    """Attach the offered key to the error, for a dialog that asks the user."""
    error.offered, error.key_type = fingerprint(key), key.get_name()
    error.server, error.changed = host_id(host, port), changed
    return error
