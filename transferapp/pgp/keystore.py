"""Where keys live: partners' public keys as files in the data folder; own secret keys sealed, seals in the keyring.

An own secret key file is AES-256-GCM encrypted with a random key that only the OS keyring holds, and its
OpenPGP passphrase is in the keyring too: no secret is ever readable from a plain file.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from pathlib import Path

import pysequoia
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from transferapp.config import write_atomic
from transferapp.errors import ConfigError, NotFoundError, SecretStoreError
from transferapp.pgp.keyinfo import KeyInfo, first_line, inspect, pretty_fingerprint  # noqa: F401 - first_line re-exported
from transferapp.secrets import SecretStore

HEX = re.compile(r"^[0-9A-F]+$")


def keyring_name(fingerprint: str) -> str:
    """The keyring entry prefix of an own key (connection names cannot contain ':')."""
    return f"openpgp:{fingerprint.upper()}"


class KeyStore:
    """Reads and writes recipient certificates and own secret keys."""

    def __init__(self, folder: Path, secrets: SecretStore) -> None:
        self.public_dir = folder / "public"
        self.secret_dir = folder / "secret"
        self.secrets = secrets

    # -- public keys -----------------------------------------------------------------------------
    def save_public(self, cert: pysequoia.Cert) -> KeyInfo:
        """Store (or update, merging new signatures) a partner's public key."""
        path = self._public_path(cert.fingerprint)
        if path.exists():
            cert = pysequoia.Cert.from_file(str(path)).merge(cert)
        write_atomic(path, bytes(cert), mode=0o644)  # a Cert serializes its public parts only
        return inspect(cert)

    def cert(self, fingerprint: str) -> pysequoia.Cert:
        """A stored public key by full fingerprint (see ``resolve``)."""
        path = self._public_path(fingerprint)
        if not path.exists():
            raise NotFoundError(
                f"No OpenPGP key {pretty_fingerprint(fingerprint)} is imported",
                "import it with 'transferapp key import FILE', or list keys with 'transferapp key list'",
            )
        return pysequoia.Cert.from_file(str(path))

    def fingerprints(self) -> list[str]:
        """Every stored public key's fingerprint."""
        if not self.public_dir.exists():
            return []
        return sorted(p.stem for p in self.public_dir.glob("*.pgp"))

    def info(self, fingerprint: str) -> KeyInfo:
        """A stored key's facts, marked as an own key when its secret is imported."""
        info = inspect(self.cert(fingerprint))
        return dataclasses.replace(info, has_secret=fingerprint in self.own_fingerprints())

    def infos(self) -> list[KeyInfo]:
        """Every stored key."""
        return [self.info(fp) for fp in self.fingerprints()]

    def resolve(self, text: str) -> str:
        """The full fingerprint for a fingerprint or a unique 16+ digit key-ID suffix (spaces and 0x allowed)."""
        wanted = text.replace(" ", "").upper().removeprefix("0X")
        if len(wanted) < 16 or not HEX.match(wanted):
            raise ConfigError(
                f"{text!r} is not a key fingerprint",
                "give the 40-digit fingerprint (or its last 16 digits) shown by 'transferapp key list'",
            )
        matches = [fp for fp in self.fingerprints() if fp.endswith(wanted)]
        if len(matches) != 1:
            raise NotFoundError(
                f"No imported OpenPGP key matches {text!r}"
                if not matches
                else f"{text!r} matches several keys: {', '.join(matches)}",
                "import it with 'transferapp key import FILE', or list keys with 'transferapp key list'",
            )
        return matches[0]

    def remove(self, fingerprint: str) -> None:
        """Delete a key; for an own key also its sealed secret file and keyring entries."""
        self._public_path(fingerprint).unlink(missing_ok=True)
        if fingerprint in self.own_fingerprints():
            self._secret_path(fingerprint).unlink(missing_ok=True)
            self.secrets.delete_all(keyring_name(fingerprint))
            if self.default_signer() == fingerprint:
                (self.secret_dir / "default").unlink(missing_ok=True)

    # -- own secret keys -------------------------------------------------------------------------
    def save_secret(self, tsk: pysequoia.Tsk, passphrase: str | None) -> KeyInfo:
        """Seal an own secret key; the seal key and the passphrase go to the OS keyring."""
        fingerprint = tsk.extract_certificate().fingerprint.upper()
        seal = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(seal).encrypt(nonce, bytes(tsk), fingerprint.encode())
        name = keyring_name(fingerprint)
        self.secrets.set(name, "key_seal", base64.b64encode(seal).decode())
        if passphrase:
            self.secrets.set(name, "passphrase", passphrase)
        write_atomic(self._secret_path(fingerprint), sealed)
        if not self.default_signer():
            self.set_default_signer(fingerprint)
        return self.save_public(tsk.extract_certificate())

    def own_fingerprints(self) -> list[str]:
        """Fingerprints of the own secret keys."""
        if not self.secret_dir.exists():
            return []
        return sorted(p.name.removesuffix(".key.sealed") for p in self.secret_dir.glob("*.key.sealed"))

    def tsk(self, fingerprint: str) -> pysequoia.Tsk:
        """Unseal an own secret key (still protected by its OpenPGP passphrase)."""
        path = self._secret_path(fingerprint)
        if not path.exists():
            raise NotFoundError(
                f"There is no own secret key {pretty_fingerprint(fingerprint)}",
                "import it with 'transferapp key import-secret FILE --passphrase-stdin'",
            )
        seal = self.secrets.get(keyring_name(fingerprint), "key_seal")
        if seal is None:
            raise SecretStoreError(
                f"The OS keyring has no entry to open the secret key {pretty_fingerprint(fingerprint)}",
                "import the secret key again with 'transferapp key import-secret FILE'",
            )
        sealed = path.read_bytes()
        data = AESGCM(base64.b64decode(seal)).decrypt(sealed[:12], sealed[12:], fingerprint.encode())
        return pysequoia.Tsk.from_bytes(data)

    def passphrase(self, fingerprint: str) -> str | None:
        """The own key's passphrase from the keyring (None for an unprotected key)."""
        return self.secrets.get(keyring_name(fingerprint), "passphrase")

    def default_signer(self) -> str | None:
        """The own key that signs uploads."""
        marker = self.secret_dir / "default"
        fingerprint = marker.read_text().strip() if marker.exists() else ""
        return fingerprint if fingerprint in self.own_fingerprints() else None

    def set_default_signer(self, fingerprint: str) -> None:
        """Make an own key the one that signs."""
        write_atomic(self.secret_dir / "default", fingerprint.encode() + b"\n", mode=0o600)

    def _public_path(self, fingerprint: str) -> Path:
        return self.public_dir / f"{fingerprint.upper()}.pgp"

    def _secret_path(self, fingerprint: str) -> Path:
        return self.secret_dir / f"{fingerprint.upper()}.key.sealed"
