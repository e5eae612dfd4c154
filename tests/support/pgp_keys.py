"""Keys made by GnuPG for the OpenPGP tests: partners (RSA-3072, Curve25519), an own key, and bad keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.gnupg import GnupgHome, gpg_available

OWN_PASSPHRASE = "merchant pass phrase"


@dataclass
class Keys:
    """Fingerprints and exported files of the test keys; ``gpg`` holds all their secrets."""

    gpg: GnupgHome
    folder: Path
    bank_rsa: str
    oms_cv: str
    own: str
    expired: str
    revoked: str
    sign_only: str
    soon: str

    def public(self, fingerprint: str) -> Path:
        """The armored public key file."""
        return self.folder / f"{fingerprint}.asc"

    def secret(self, fingerprint: str) -> Path:
        """The armored secret key file."""
        return self.folder / f"{fingerprint}.sec.asc"


def make_gpg_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    """Keys made by gpg (once per session, through the gpg_keys fixture)."""
    if not gpg_available():
        pytest.skip("GnuPG (gpg) is not installed")
    home = GnupgHome()
    folder = tmp_path_factory.mktemp("gpg-keys")
    try:
        keys = Keys(
            gpg=home,
            folder=folder,
            bank_rsa=home.make_key("Bank <pgp@bank.example>", "rsa3072"),
            oms_cv=home.make_key("OMS <pgp@oms.example>", "cv25519"),
            own=home.make_key("Merchant <pgp@shop.example>", "cv25519", passphrase=OWN_PASSPHRASE),
            expired=home.make_key("Old <old@example.com>", expire="1d", faked_time="20200101T000000"),
            revoked=home.make_key("Revoked <revoked@example.com>"),
            sign_only=home.make_key("Signer <sign@example.com>", encrypt=False),
            soon=home.make_key("Soon <soon@example.com>", expire="10d"),
        )
        home.revoke(keys.revoked)
        everyone = (keys.bank_rsa, keys.oms_cv, keys.own, keys.expired, keys.revoked, keys.sign_only, keys.soon)
        for fingerprint in everyone:
            home.export(fingerprint, keys.public(fingerprint))
        home.export_secret(keys.own, keys.secret(keys.own), OWN_PASSPHRASE)
        yield keys
    finally:
        home.stop()
