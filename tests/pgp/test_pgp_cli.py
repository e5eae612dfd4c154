"""OpenPGP and the PCI guard end to end: the CLI against the test sshd, checked with GnuPG."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from support.cli import Cli
from support.keyring_session import KeyringSession
from support.pgp_keys import OWN_PASSPHRASE, Keys
from support.sshd import SshdServer

MARKER = b"MARKER-customer-address-Main-Street-42"
CARD_LAYOUTS = ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111"]


@pytest.fixture
def cli(ta_home: Path, keyring_session: KeyringSession) -> Cli:
    return Cli(ta_home, keyring_session.child_env())


@pytest.fixture
def remote(sshd: SshdServer, request: pytest.FixtureRequest) -> Path:
    return sshd.make_remote_dir(request.node.name[:40])


@pytest.fixture
def ready(cli: Cli, sshd: SshdServer, remote: Path, gpg_keys: Keys) -> Cli:
    """A connection to the test sshd, the bank's public key and the own secret key imported."""
    cli.ok("connection", "add", "bank", "--url", f"sftp://{sshd.user}@127.0.0.1:{sshd.port}{remote}",
           "--key-file", str(sshd.client_keys["ed25519"]),
           "--accept-host-key", sshd.host_key_fingerprints["ssh-ed25519"])  # fmt: skip
    shown = cli.ok("key", "import", str(gpg_keys.public(gpg_keys.bank_rsa)), "--yes").out
    assert "RSA-3072" in shown and "Bank <pgp@bank.example>" in shown
    cli.ok("key", "import-secret", str(gpg_keys.secret(gpg_keys.own)), "--passphrase-stdin", "--yes",
           stdin=OWN_PASSPHRASE + "\n")  # fmt: skip
    return cli


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log_rows(cli: Cli) -> list[dict]:
    return list(reversed(json.loads(cli.ok("log", "--json").out)))


def test_key_list_show_and_refusals(ready: Cli, gpg_keys: Keys) -> None:
    listed = json.loads(ready.ok("key", "list", "--json").out)
    assert {k["fingerprint"]: k["secret"] for k in listed} == {gpg_keys.bank_rsa: False, gpg_keys.own: True}
    assert "Bank <pgp@bank.example>" in ready.ok("key", "show", gpg_keys.bank_rsa[-16:]).out
    for which, reason in (("expired", "expired"), ("revoked", "revoked"), ("sign_only", "no usable encryption")):
        refused = ready("key", "import", str(gpg_keys.public(getattr(gpg_keys, which))), "--yes")
        assert refused.code == 1 and reason in refused.err, refused
    soon = ready.ok("key", "import", str(gpg_keys.public(gpg_keys.soon)), "--yes")
    assert "warning: this key expires on" in soon.out
    unconfirmed = ready("key", "import", str(gpg_keys.public(gpg_keys.oms_cv)))  # no terminal, no --yes
    assert unconfirmed.code == 1 and "--yes" in unconfirmed.err
    wrong = ready("key", "import-secret", str(gpg_keys.secret(gpg_keys.own)), "--passphrase-stdin", "--yes",
                  stdin="wrong\n")  # fmt: skip
    assert wrong.code == 1 and "passphrase" in wrong.err and "wrong" in wrong.err


def test_send_encrypted_puts_only_ciphertext_on_the_server(
    ready: Cli, remote: Path, gpg_keys: Keys, tmp_path: Path, ta_home: Path
) -> None:
    plain = tmp_path / "customers.csv"
    plain.write_bytes(MARKER + b"\n" + b"card,4111 1111 1111 1111\n" * 1000)
    ready.ok("send", str(plain), "--to", "bank", "--encrypt-to", gpg_keys.bank_rsa, "--sign")
    assert sorted(p.name for p in remote.iterdir()) == ["customers.csv.pgp"]
    sent = remote / "customers.csv.pgp"
    assert MARKER not in sent.read_bytes()
    out = tmp_path / "decrypted.csv"
    result = gpg_keys.gpg.decrypt(sent, out)
    assert result.code == 0 and out.read_bytes() == plain.read_bytes()
    assert [fields[-1] for fields in result.has("VALIDSIG")] == [gpg_keys.own]
    row = log_rows(ready)[-1]
    assert row["status"] == "ok" and row["remote_path"].endswith("customers.csv.pgp")
    assert row["sha256"] == sha256(sent)
    details = row["details"]
    assert details["encrypted"] is True and details["recipients"] == [gpg_keys.bank_rsa]
    assert details["signed"] is True and details["signer"] == gpg_keys.own
    assert details["plaintext_sha256"] == sha256(plain) and details["sent_sha256"] == sha256(sent)
    assert list((ta_home / "spool").iterdir()) == []  # the spool file is gone after the upload


@pytest.mark.parametrize("layout", CARD_LAYOUTS)
def test_pci_guard_refuses_card_numbers_unencrypted(
    ready: Cli, remote: Path, gpg_keys: Keys, tmp_path: Path, ta_home: Path, layout: str
) -> None:
    export = tmp_path / "orders.xml"
    export.write_text(f"<orders><order id='1001'><card>{layout}</card></order></orders>\n")
    refused = ready("send", str(export), "--to", "bank")
    assert refused.code == 1 and "411111******1111" in refused.err and "encrypt" in refused.err
    assert list(remote.iterdir()) == []
    row = log_rows(ready)[-1]
    assert row["status"] == "failed" and row["details"]["pci_guard"] == "refused"
    assert row["attempt"] == 1  # refused for good, not retried
    for where in [json.dumps(log_rows(ready)), *(p.read_text() for p in (ta_home / "logs").glob("*.log"))]:
        assert layout not in where and "4111111111111111" not in where
    ready.ok("send", str(export), "--to", "bank", "--encrypt-to", gpg_keys.bank_rsa)
    assert [p.name for p in remote.iterdir()] == ["orders.xml.pgp"]


def test_pci_guard_off_only_when_set_and_logged(ready: Cli, remote: Path, tmp_path: Path) -> None:
    clean = tmp_path / "catalog.xml"
    clean.write_text("<catalog><product id='00012345678901234' price='19.99' phone='+1 555-123-4567'/></catalog>")
    ready.ok("send", str(clean), "--to", "bank")
    assert log_rows(ready)[-1]["details"]["pci_guard"] == "clean"
    cards = tmp_path / "cards.csv"
    cards.write_text("4111111111111111\n")
    ready.ok("connection", "set", "bank", "--pci-guard", "off")
    assert "explicitly turned off" in ready.ok("connection", "show", "bank").out
    ready.ok("send", str(cards), "--to", "bank")
    assert (remote / "cards.csv").read_text() == "4111111111111111\n"
    assert log_rows(ready)[-1]["details"] == {"encrypted": False, "pci_guard": "off"}


def test_connection_that_requires_encryption(ready: Cli, remote: Path, gpg_keys: Keys, tmp_path: Path) -> None:
    ready.ok("connection", "set", "bank", "--encrypt-to", gpg_keys.bank_rsa, "--pgp-ext", ".gpg")
    assert gpg_keys.bank_rsa in ready.ok("connection", "show", "bank").out
    plain = tmp_path / "orders.xml"
    plain.write_bytes(MARKER)
    ready.ok("send", str(plain), "--to", "bank")
    assert [p.name for p in remote.iterdir()] == ["orders.xml.gpg"]
    assert MARKER not in (remote / "orders.xml.gpg").read_bytes()
    removal = ready("key", "remove", gpg_keys.bank_rsa, "--yes")
    assert removal.code == 1 and "recipient of connection" in removal.err


def test_pull_decrypt_and_verify_gpg_default_output(
    ready: Cli, remote: Path, gpg_keys: Keys, tmp_path: Path, ta_home: Path
) -> None:
    plain = tmp_path / "orders.xml"
    plain.write_bytes(MARKER * 100)
    gpg_keys.gpg.encrypt(plain, remote / "orders_1.xml.gpg", [gpg_keys.own], "--sign", "--local-user",
                         gpg_keys.bank_rsa)  # fmt: skip
    target = tmp_path / "in"
    ready.ok("pull", "bank", "orders_*.gpg", "--to", str(target), "--decrypt", "--verify-from", gpg_keys.bank_rsa)
    assert sorted(p.name for p in target.iterdir()) == ["orders_1.xml"]
    assert (target / "orders_1.xml").read_bytes() == plain.read_bytes()
    details = log_rows(ready)[-1]["details"]
    assert details["decrypted"] is True and details["verified_signer"] == gpg_keys.bank_rsa
    assert details["plaintext_sha256"] == sha256(plain)
    kept = tmp_path / "kept"
    ready.ok("pull", "bank", "orders_*.gpg", "--to", str(kept), "--decrypt", "--keep-encrypted")
    assert sorted(p.name for p in kept.iterdir()) == ["orders_1.xml", "orders_1.xml.gpg"]
    assert list((ta_home / "spool").iterdir()) == []


def test_pull_decrypt_refuses_corrupted_and_unsigned_files(
    ready: Cli, remote: Path, gpg_keys: Keys, tmp_path: Path
) -> None:
    plain = tmp_path / "orders.xml"
    plain.write_bytes(MARKER * 100)
    good = remote / "unsigned.xml.pgp"
    gpg_keys.gpg.encrypt(plain, good, [gpg_keys.own])
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x55
    (remote / "broken.xml.pgp").write_bytes(bytes(data))
    target = tmp_path / "in"
    broken = ready("pull", "bank", "broken.*", "--to", str(target), "--decrypt")
    assert broken.code == 1 and "broken.xml" in broken.err
    unsigned = ready("pull", "bank", "unsigned.*", "--to", str(target), "--decrypt", "--verify-from",
                     gpg_keys.bank_rsa)  # fmt: skip
    assert unsigned.code == 1 and "signature" in unsigned.err
    assert not target.exists() or list(target.iterdir()) == []
