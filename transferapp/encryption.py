"""Encryption and decryption policies: what a connection, a job or a command asks for, as plain data.

No OpenPGP code here: policies are stored in the config file and in queue rows, and read by the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transferapp.errors import ConfigError

EXTENSIONS = (".pgp", ".gpg")
ENCRYPTED_SUFFIXES = (".pgp", ".gpg", ".asc")
POLICY_KEYS = {"mode", "recipients", "sign", "extension", "gzip"}


@dataclass(frozen=True)
class EncryptPolicy:
    """Encrypt to these recipients (fingerprints), maybe signed, maybe gzipped first, named NAME + extension."""

    recipients: tuple[str, ...]
    sign: bool = False
    extension: str = ".pgp"
    gzip: bool = False

    def remote_name(self, name: str) -> str:
        """The name the encrypted file gets on the server: 'orders.xml' -> 'orders.xml.pgp'."""
        return name + (".gz" if self.gzip else "") + self.extension

    def merged(self, other: EncryptPolicy | None) -> EncryptPolicy:
        """This policy plus another's recipients (a connection that requires its own recipients keeps them)."""
        if other is None:
            return self
        recipients = tuple(dict.fromkeys(self.recipients + other.recipients))
        return EncryptPolicy(recipients, self.sign or other.sign, self.extension, self.gzip or other.gzip)

    def to_json(self) -> dict[str, Any]:
        """The dict stored in queue rows and config tables."""
        return {"recipients": list(self.recipients), "sign": self.sign, "extension": self.extension, "gzip": self.gzip}

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "the encryption settings") -> EncryptPolicy:
        """Build and validate a policy from its stored dict."""
        unknown = set(data) - POLICY_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}", f"allowed keys: {sorted(POLICY_KEYS)}")
        recipients = data.get("recipients", [])
        if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) for r in recipients):
            raise ConfigError(f"{where}: recipients must be a list of key fingerprints", 'recipients = ["0123..."]')
        extension = data.get("extension", ".pgp")
        if extension not in EXTENSIONS:
            raise ConfigError(f"{where}: extension must be one of {', '.join(EXTENSIONS)}, not {extension!r}")
        for flag in ("sign", "gzip"):
            if not isinstance(data.get(flag, False), bool):
                raise ConfigError(f"{where}: {flag} must be true or false")
        return cls(tuple(r.upper() for r in recipients), bool(data.get("sign")), extension, bool(data.get("gzip")))


def policy_from_toml(table: Any, where: str) -> EncryptPolicy | None:
    """A connection's or job's ``encryption`` table: mode = 'required' (with recipients) or 'off'."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: encryption must be a table", 'use encryption = { mode = "required", ... }')
    mode = table.get("mode", "required")
    if mode not in ("required", "off"):
        raise ConfigError(f"{where}: encryption mode must be 'required' or 'off', not {mode!r}")
    if mode == "off":
        return None
    return EncryptPolicy.from_json({k: v for k, v in table.items() if k != "mode"}, where)


def policy_to_toml(policy: EncryptPolicy | None) -> dict[str, Any] | None:
    """The table stored for a policy (None: no table)."""
    return None if policy is None else {"mode": "required", **policy.to_json()}


@dataclass(frozen=True)
class DecryptPolicy:
    """Decrypt what is pulled; require a signature from ``verify_from`` when set; keep the encrypted file or not."""

    verify_from: str | None = None
    keep_encrypted: bool = False

    def local_name(self, remote_name: str) -> str:
        """The decrypted file's name: 'orders.xml.pgp' -> 'orders.xml'."""
        for suffix in ENCRYPTED_SUFFIXES:
            if remote_name.lower().endswith(suffix) and len(remote_name) > len(suffix):
                return remote_name[: -len(suffix)]
        return remote_name

    def to_json(self) -> dict[str, Any]:
        """The dict stored in queue rows."""
        return {"verify_from": self.verify_from, "keep_encrypted": self.keep_encrypted}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DecryptPolicy:
        """Inverse of ``to_json``."""
        return cls(data.get("verify_from"), bool(data.get("keep_encrypted")))
