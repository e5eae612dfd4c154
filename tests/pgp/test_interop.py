"""GnuPG interoperability both ways: gpg reads what transferapp writes, transferapp reads what gpg writes."""

from __future__ import annotations

from pathlib import Path

import pysequoia
import pytest
from support.pgp_keys import OWN_PASSPHRASE, Keys

from transferapp.pgp.crypt import DecryptError, SigningKeyError, decrypt_file, encrypt_file, signer_for
from transferapp.pgp.keystore import KeyStore, keyring_name

MARKER = b"PAN-MARKER-4111"


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "orders.xml"
    path.write_bytes(b"<orders>" + MARKER + b"</orders>\n" * 2000)
    return path


@pytest.mark.parametrize(
    ("recipients", "sign"),
    [(["bank_rsa"], False), (["oms_cv"], False), (["bank_rsa", "oms_cv"], False), (["bank_rsa"], True)],
)
def test_gpg_decrypts_what_transferapp_encrypts(
    store: KeyStore, gpg_keys: Keys, plain: Path, tmp_path: Path, recipients: list[str], sign: bool
) -> None:
    fingerprints = [getattr(gpg_keys, name) for name in recipients]
    target = tmp_path / "orders.xml.pgp"
    signer = signer_for(store)[1] if sign else None
    encrypt_file(plain, target, [store.cert(fp) for fp in fingerprints], signer)
    data = target.read_bytes()
    assert MARKER not in data and data[0] & 0x80 and not data.startswith(b"-----")  # binary, not armored
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    out = tmp_path / "decrypted.xml"
    result = gpg_keys.gpg.decrypt(target, out)
    assert result.code == 0, result.stderr
    assert out.read_bytes() == plain.read_bytes()
    assert result.has("DECRYPTION_INFO")[0][0] == "2"  # SEIPDv1 with MDC, what gpg 2.2 reads
    encrypted_to = {fields[0][-16:] for fields in result.has("ENC_TO")}
    assert len(encrypted_to) == len(fingerprints)
    if sign:
        assert [fields[-1] for fields in result.has("VALIDSIG")] == [gpg_keys.own]
    else:
        assert not result.has("VALIDSIG")


def test_transferapp_decrypts_and_verifies_gpg_defaults(
    store: KeyStore, gpg_keys: Keys, plain: Path, tmp_path: Path
) -> None:
    # gpg's defaults: compressed, signed (by the bank), encrypted to the own key
    message = tmp_path / "from-bank.xml.gpg"
    gpg_keys.gpg.encrypt(plain, message, [gpg_keys.own], "--sign", "--local-user", gpg_keys.bank_rsa)
    store.save_public(pysequoia.Cert.from_file(str(gpg_keys.public(gpg_keys.bank_rsa))))
    plain_out = tmp_path / "out" / "a.xml"
    plain_out.parent.mkdir()
    assert decrypt_file(store, message, plain_out).signer is None
    assert plain_out.read_bytes() == plain.read_bytes()
    verified = tmp_path / "out" / "b.xml"
    assert decrypt_file(store, message, verified, verify_from=gpg_keys.bank_rsa).signer == gpg_keys.bank_rsa
    assert verified.read_bytes() == plain.read_bytes()
    wrong = tmp_path / "out" / "c.xml"
    with pytest.raises(DecryptError, match="signature"):
        decrypt_file(store, message, wrong, verify_from=gpg_keys.oms_cv)
    assert sorted(p.name for p in wrong.parent.iterdir()) == ["a.xml", "b.xml"]


def test_uncompressed_signed_gpg_messages_verify_without_gnupg_help(
    store: KeyStore, gpg_keys: Keys, plain: Path, tmp_path: Path
) -> None:
    message = tmp_path / "m.pgp"
    gpg_keys.gpg.encrypt(plain, message, [gpg_keys.own], "--sign", "--local-user", gpg_keys.oms_cv,
                         "--compress-algo", "none")  # fmt: skip
    out = tmp_path / "m.xml"
    assert decrypt_file(store, message, out, verify_from=gpg_keys.oms_cv).signer == gpg_keys.oms_cv
    assert out.read_bytes() == plain.read_bytes()


def test_unsigned_message_fails_when_a_signature_is_required(
    store: KeyStore, gpg_keys: Keys, plain: Path, tmp_path: Path
) -> None:
    message = tmp_path / "m.pgp"
    gpg_keys.gpg.encrypt(plain, message, [gpg_keys.own])
    out = tmp_path / "m.xml"
    with pytest.raises(DecryptError, match="signature"):
        decrypt_file(store, message, out, verify_from=gpg_keys.bank_rsa)
    assert not out.exists() and not list(tmp_path.glob(".m.xml*"))


def test_transferapp_round_trip_signed(store: KeyStore, gpg_keys: Keys, plain: Path, tmp_path: Path) -> None:
    message = tmp_path / "self.pgp"
    encrypt_file(plain, message, [store.cert(gpg_keys.own)], signer_for(store)[1], compress=True)
    out = tmp_path / "self.xml.gz"
    assert decrypt_file(store, message, out, verify_from=gpg_keys.own).signer == gpg_keys.own
    import gzip

    assert gzip.decompress(out.read_bytes()) == plain.read_bytes()


def test_corrupted_ciphertext_writes_nothing(store: KeyStore, gpg_keys: Keys, plain: Path, tmp_path: Path) -> None:
    message = tmp_path / "m.pgp"
    encrypt_file(plain, message, [store.cert(gpg_keys.own)])
    data = bytearray(message.read_bytes())
    data[len(data) // 2] ^= 0x55
    message.write_bytes(bytes(data))
    target = tmp_path / "out.xml"
    with pytest.raises(DecryptError, match="corrupted|tampered|Cannot decrypt"):
        decrypt_file(store, message, target)
    assert not target.exists() and not list(tmp_path.glob(".out.xml*"))


def test_file_for_another_key_is_refused(store: KeyStore, gpg_keys: Keys, plain: Path, tmp_path: Path) -> None:
    message = tmp_path / "m.pgp"
    gpg_keys.gpg.encrypt(plain, message, [gpg_keys.bank_rsa])
    with pytest.raises(DecryptError, match="not a recipient"):
        decrypt_file(store, message, tmp_path / "x.xml")


def test_wrong_signing_passphrase_is_a_clear_error(store: KeyStore, gpg_keys: Keys) -> None:
    store.secrets.set(keyring_name(gpg_keys.own), "passphrase", "not the passphrase")
    try:
        with pytest.raises(SigningKeyError, match="passphrase stored in the keyring is wrong") as caught:
            signer_for(store)
        assert "key passwd" in caught.value.hint and "not the passphrase" not in str(caught.value)
    finally:
        store.secrets.set(keyring_name(gpg_keys.own), "passphrase", OWN_PASSPHRASE)
