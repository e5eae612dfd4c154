"""What a certificate is and whether transferapp may encrypt to it: algorithms, expiry, and gpg 2.2 readability."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pysequoia
from pysequoia.packet import PacketPile, Tag

from transferapp.errors import ConfigError, LocalFileError

EXPIRY_WARNING = timedelta(days=30)
CURVES = {
    "2b06010401da470f01": "Ed25519",
    "2b060104019755010501": "Cv25519",
    "2a8648ce3d030107": "NIST P-256",
    "2b81040022": "NIST P-384",
    "2b81040023": "NIST P-521",
    "2b2403030208010107": "brainpoolP256r1",
    "2b240303020801010d": "brainpoolP512r1",
}
RSA_NAMES = ("RSAEncryptSign", "RSAEncrypt", "RSASign")


class KeyRefused(ConfigError):
    """A key that transferapp will not encrypt to (expired, revoked, no encryption key, unreadable by gpg 2.2)."""


@dataclass(frozen=True)
class KeyInfo:
    """A certificate's facts as a user needs them to confirm it."""

    fingerprint: str  # upper-case hex, 40 characters (v4)
    user_ids: tuple[str, ...]
    algorithms: tuple[str, ...]  # primary key first, e.g. ("RSA-3072", "RSA-3072")
    created: datetime | None
    expires: datetime | None
    revoked: bool
    version: int
    can_encrypt: bool
    has_secret: bool = False
    problems: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """The first user ID, or the fingerprint when there is none."""
        return self.user_ids[0] if self.user_ids else self.fingerprint

    def expires_soon(self, now: datetime | None = None) -> bool:
        """True when the key expires within 30 days."""
        now = now or datetime.now(UTC)
        return self.expires is not None and now <= self.expires <= now + EXPIRY_WARNING

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for ``key list --json``."""
        return {
            "fingerprint": self.fingerprint,
            "user_ids": list(self.user_ids),
            "algorithms": list(self.algorithms),
            "created": self.created.isoformat() if self.created else None,
            "expires": self.expires.isoformat() if self.expires else None,
            "revoked": self.revoked,
            "can_encrypt": self.can_encrypt,
            "secret": self.has_secret,
            "problems": list(self.problems),
        }


def holds_secret(data: bytes) -> bool:
    """Whether OpenPGP data (armored or binary) contains secret key material."""
    return any(pk.tag in (Tag.SecretKey, Tag.SecretSubkey) for pk in PacketPile.from_bytes(data))


def pretty_fingerprint(fingerprint: str) -> str:
    """Groups of four, as gpg prints it."""
    fp = fingerprint.upper()
    return " ".join(fp[i : i + 4] for i in range(0, len(fp), 4))


def inspect(cert: pysequoia.Cert, now: datetime | None = None) -> KeyInfo:
    """Read a certificate's facts and list the reasons transferapp cannot encrypt to it."""
    now = now or datetime.now(UTC)
    keys = [pk for pk in PacketPile.from_bytes(bytes(cert)) if pk.tag in (Tag.PublicKey, Tag.PublicSubkey)]
    version = keys[0].body[0] if keys and keys[0].body else 4
    problems: list[str] = []
    expires = cert.expiration
    if cert.is_revoked:
        problems.append("it has been revoked by its owner")
    if expires is not None and expires <= now:
        problems.append(f"it expired on {expires:%Y-%m-%d}")
    if version >= 5:
        problems.append(f"it is a v{version} key (RFC 9580), which GnuPG 2.2 cannot use")
    can_encrypt, gpg22_reads = _test_encrypt(cert)
    if not can_encrypt and not problems:
        problems.append("it has no usable encryption key (it can only sign, or its encryption subkey expired)")
    if can_encrypt and not gpg22_reads and version < 5:
        problems.append("it asks for SEIPDv2 (RFC 9580) messages, which GnuPG 2.2 cannot read")
    return KeyInfo(
        fingerprint=cert.fingerprint.upper(),
        user_ids=tuple(str(uid) for uid in cert.user_ids),
        algorithms=tuple(_algorithm(pk) for pk in keys),
        created=keys[0].key_created if keys else None,
        expires=expires,
        revoked=cert.is_revoked,
        version=version,
        can_encrypt=can_encrypt,
        problems=tuple(problems),
    )


def require_usable(info: KeyInfo) -> None:
    """Raise KeyRefused naming the key and the reason when transferapp must not encrypt to it."""
    if info.problems:
        raise KeyRefused(
            f"The key {info.label} ({pretty_fingerprint(info.fingerprint)}) cannot be used: {'; '.join(info.problems)}",
            "ask the partner for a current OpenPGP (v4) public key with an encryption subkey",
        )


def _test_encrypt(cert: pysequoia.Cert) -> tuple[bool, bool]:
    """Encrypt a few bytes to the key: (can encrypt, output is v3 PKESK + SEIPDv1 that gpg 2.2 reads)."""
    try:
        message = pysequoia.encrypt(b"transferapp", recipients=[cert], armor=False)
    except Exception:  # sequoia reports 'No suitable encryption subkey' as a plain exception
        return False, False
    packets = [(pk.tag, pk.body[0] if pk.body else 0) for pk in PacketPile.from_bytes(message)]
    readable = all(
        (tag != Tag.PKESK or version == 3) and (tag != Tag.SEIP or version == 1) and tag != Tag.AED
        for tag, version in packets
    )
    return True, readable


def _algorithm(packet: Any) -> str:
    """'RSA-3072', 'Ed25519', 'Cv25519', 'NIST P-256', ... from a key packet."""
    name = str(packet.key_algorithm).rsplit(".", 1)[-1]
    body: bytes = packet.body or b""
    if name in RSA_NAMES and len(body) >= 8:
        return f"RSA-{int.from_bytes(body[6:8], 'big')}"
    if name in ("EdDSA", "ECDH", "ECDSA") and len(body) > 7:
        oid = body[7 : 7 + body[6]].hex()
        return CURVES.get(oid, f"{name} (curve {oid})")
    return name


def first_line(exc: BaseException) -> str:
    """sequoia's message without the Rust backtrace it may carry."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def read_key_file(path: Path) -> bytes:
    """A key file's bytes, or an error naming the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LocalFileError(f"Cannot read the key file {path}: {exc.strerror}", "check the path") from None


def parse_certs(data: bytes, source: object) -> list[pysequoia.Cert]:
    """Every key in armored or binary ``data``; an error naming ``source`` when there is none or it is not OpenPGP."""
    try:
        certs = pysequoia.Cert.split_bytes(data)
    except Exception as exc:  # sequoia raises plain exceptions for malformed input
        raise ConfigError(f"{source} is not an OpenPGP key: {first_line(exc)}", "export it with gpg --export") from None
    if not certs:
        raise ConfigError(f"{source} holds no OpenPGP key", "export it with 'gpg --export --armor KEYID'")
    return list(certs)


def parse_tsk(data: bytes, source: object) -> pysequoia.Tsk:
    """An own secret key from armored or binary ``data``; an error naming ``source`` otherwise."""
    try:
        return pysequoia.Tsk.from_bytes(data)
    except Exception as exc:  # not a secret key, or malformed
        raise ConfigError(
            f"{source} is not an OpenPGP secret key: {first_line(exc)}",
            "export it with 'gpg --export-secret-keys --armor KEYID'",
        ) from None


def unlock_notes(tsk: pysequoia.Tsk, passphrase: str | None, label: str, passphrase_hint: str) -> list[str]:
    """Check that the passphrase opens the key; notes say what it cannot do; ConfigError when it does not open."""
    notes = []
    for use, unlock in (("sign", tsk.signer), ("decrypt", tsk.decryptor)):
        try:
            unlock(passphrase)
        except RuntimeError as exc:
            reason = first_line(exc)
            if "encrypted" in reason:
                raise ConfigError(f"The secret key {label} is protected by a passphrase", passphrase_hint) from None
            if "No suitable" in reason or "no " in reason.lower():
                notes.append(f"this key cannot {use}")
                continue
            raise ConfigError(f"The passphrase for {label} is wrong", "check it and try again") from None
    return notes
