"""Jobs with OpenPGP and the PCI guard: encrypted push, refused files moved to the failed folder, decrypting pull."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.cli import Cli
from support.jobs_kit import add_connection, files_in, hand_over
from support.keyring_session import KeyringSession
from support.pgp_keys import OWN_PASSPHRASE, Keys
from support.sshd import SshdServer

MARKER = b"MARKER-street-address"


@pytest.fixture
def kcli(ta_home: Path, keyring_session: KeyringSession) -> Cli:
    return Cli(ta_home, keyring_session.child_env())


def test_push_job_encrypts_and_moves_card_files_to_the_failed_folder(
    kcli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path, gpg_keys: Keys
) -> None:
    out, failed = tmp_path / "out", tmp_path / "failed"
    out.mkdir()
    add_connection(kcli, sshd, remote)
    kcli.ok("key", "import", str(gpg_keys.public(gpg_keys.bank_rsa)), "--yes")
    kcli.ok("job", "add", "secure", "--push", "--watch", str(out), "--to", "pim", "--remote-dir", "enc",
            "--encrypt-to", gpg_keys.bank_rsa, "--after", "delete", "--stable-seconds", "0.1")  # fmt: skip
    (tmp_path / "plain-out").mkdir()
    kcli.ok("job", "add", "plain", "--push", "--watch", str(tmp_path / "plain-out"), "--to", "pim",
            "--remote-dir", "plain", "--failed-dir", str(failed), "--stable-seconds", "0.1")  # fmt: skip
    (out / "customers.csv").write_bytes(MARKER + b"\n4111 1111 1111 1111\n")
    (tmp_path / "plain-out" / "orders.csv").write_text("order,card\n1,4111-1111-1111-1111\n")
    (tmp_path / "plain-out" / "catalog.csv").write_text("sku,price\n1,9.99\n")
    time.sleep(0.3)  # older than the stable window
    kcli.ok("job", "run", "secure")
    assert files_in(remote) == ["enc/customers.csv.pgp"] and files_in(out) == []
    assert MARKER not in (remote / "enc" / "customers.csv.pgp").read_bytes()
    decrypted = tmp_path / "check.csv"
    assert gpg_keys.gpg.decrypt(remote / "enc" / "customers.csv.pgp", decrypted).code == 0
    assert decrypted.read_bytes().startswith(MARKER)
    refused = kcli("job", "run", "plain")
    assert refused.code == 1 and "411111******1111" in refused.out
    assert "plain/catalog.csv" in files_in(remote) and "plain/orders.csv" not in files_in(remote)
    assert files_in(failed) == ["orders.csv"]


def test_pull_job_decrypts_and_verifies(
    kcli: Cli, sshd: SshdServer, remote: Path, tmp_path: Path, gpg_keys: Keys
) -> None:
    plain = tmp_path / "orders.xml"
    plain.write_bytes(MARKER * 10)
    gpg_keys.gpg.encrypt(plain, remote / "orders_7.xml.pgp", [gpg_keys.own], "--sign", "--local-user",
                         gpg_keys.bank_rsa)  # fmt: skip
    hand_over(sshd, remote)
    add_connection(kcli, sshd, remote)
    kcli.ok("key", "import", str(gpg_keys.public(gpg_keys.bank_rsa)), "--yes")
    kcli.ok("key", "import-secret", str(gpg_keys.secret(gpg_keys.own)), "--passphrase-stdin", "--yes",
            stdin=OWN_PASSPHRASE + "\n")  # fmt: skip
    inbox = tmp_path / "inbox"
    kcli.ok("job", "add", "bank-in", "--pull", "--from", "pim", "--pattern", "*.pgp", "--to", str(inbox),
            "--decrypt", "--verify-from", gpg_keys.bank_rsa, "--remote-after", "delete")  # fmt: skip
    kcli.ok("job", "run", "bank-in")
    assert files_in(inbox) == ["orders_7.xml"] and (inbox / "orders_7.xml").read_bytes() == plain.read_bytes()
    assert files_in(remote) == []
