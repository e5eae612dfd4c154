"""Which keys transferapp encrypts to: facts shown for confirmation, and refusals with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pysequoia
import pytest
from support.pgp_keys import Keys

from transferapp.pgp.keyinfo import KeyRefused, inspect, require_usable
from transferapp.pgp.keystore import KeyStore, keyring_name


def info_of(keys: Keys, fingerprint: str):  # noqa: ANN201 - a KeyInfo
    return inspect(pysequoia.Cert.from_file(str(keys.public(fingerprint))))


def test_rsa_and_curve25519_keys_are_usable_and_described(gpg_keys: Keys) -> None:
    rsa, cv = info_of(gpg_keys, gpg_keys.bank_rsa), info_of(gpg_keys, gpg_keys.oms_cv)
    assert rsa.algorithms == ("RSA-3072", "RSA-3072") and rsa.fingerprint == gpg_keys.bank_rsa
    assert cv.algorithms == ("Ed25519", "Cv25519") and cv.user_ids == ("OMS <pgp@oms.example>",)
    for info in (rsa, cv):
        assert info.can_encrypt and not info.problems and info.version == 4
        require_usable(info)


@pytest.mark.parametrize(
    ("which", "reason"),
    [("expired", "expired on 2020-01-02"), ("revoked", "revoked"), ("sign_only", "no usable encryption key")],
)
def test_unusable_gpg_keys_are_refused_with_the_reason(gpg_keys: Keys, which: str, reason: str) -> None:
    info = info_of(gpg_keys, getattr(gpg_keys, which))
    with pytest.raises(KeyRefused, match=reason) as caught:
        require_usable(info)
    assert info.fingerprint[:4] in str(caught.value)


def test_v6_keys_and_seipdv2_keys_are_refused() -> None:
    v6 = pysequoia.Tsk.generate("New <v6@example.com>", profile=pysequoia.Profile.RFC9580).extract_certificate()
    with pytest.raises(KeyRefused, match="v6 key"):
        require_usable(inspect(v6))
    # sequoia's own v4 keys advertise SEIPDv2: encrypting to them makes messages gpg 2.2 cannot read
    v4 = pysequoia.Tsk.generate("Seq <v4@example.com>").extract_certificate()
    info = inspect(v4)
    assert info.version == 4 and info.can_encrypt
    with pytest.raises(KeyRefused, match="SEIPDv2"):
        require_usable(info)


def test_a_key_expiring_within_30_days_is_usable_with_a_warning(gpg_keys: Keys) -> None:
    info = info_of(gpg_keys, gpg_keys.soon)
    require_usable(info)
    assert info.expires_soon(datetime.now(UTC))
    assert not info_of(gpg_keys, gpg_keys.bank_rsa).expires_soon()


def test_own_secret_key_is_sealed_on_disk_and_opened_with_the_keyring(store: KeyStore, gpg_keys: Keys) -> None:
    sealed = store.secret_dir / f"{gpg_keys.own}.key.sealed"
    raw = bytes(pysequoia.Tsk.from_file(str(gpg_keys.secret(gpg_keys.own))))
    assert raw[40:80] not in sealed.read_bytes() and b"PRIVATE KEY" not in sealed.read_bytes()
    assert oct(sealed.stat().st_mode & 0o777) == "0o600"
    assert store.tsk(gpg_keys.own).extract_certificate().fingerprint.upper() == gpg_keys.own
    assert store.default_signer() == gpg_keys.own
    assert store.own_fingerprints() == [gpg_keys.own]
    store.remove(gpg_keys.own)
    assert not sealed.exists() and store.own_fingerprints() == []
    assert store.secrets.get(keyring_name(gpg_keys.own), "key_seal") is None


def test_resolve_accepts_spaced_fingerprints_and_key_ids(store: KeyStore, gpg_keys: Keys) -> None:
    spaced = " ".join(gpg_keys.bank_rsa[i : i + 4] for i in range(0, 40, 4)).lower()
    assert store.resolve(spaced) == gpg_keys.bank_rsa
    assert store.resolve(gpg_keys.oms_cv[-16:]) == gpg_keys.oms_cv
    with pytest.raises(Exception, match="No imported OpenPGP key"):
        store.resolve("0" * 40)
    with pytest.raises(Exception, match="not a key fingerprint"):
        store.resolve("bank")
