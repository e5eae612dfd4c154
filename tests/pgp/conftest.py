"""GnuPG-made keys shared by the OpenPGP tests: partners (RSA-3072, Curve25519), an own key, and bad keys."""

from __future__ import annotations

from pathlib import Path

import pysequoia
import pytest
from support.keyring_session import KeyringSession
from support.pgp_keys import OWN_PASSPHRASE, Keys

from transferapp.pgp.keystore import KeyStore
from transferapp.secrets import SecretStore


@pytest.fixture
def store(tmp_path: Path, keyring_session: KeyringSession, gpg_keys: Keys) -> KeyStore:
    """A key store with both partners' public keys and the own secret key (passphrase in the keyring)."""
    keys = KeyStore(tmp_path / "keys", SecretStore())
    for fingerprint in (gpg_keys.bank_rsa, gpg_keys.oms_cv):
        keys.save_public(pysequoia.Cert.from_file(str(gpg_keys.public(fingerprint))))
    keys.save_secret(pysequoia.Tsk.from_file(str(gpg_keys.secret(gpg_keys.own))), OWN_PASSPHRASE)
    return keys
