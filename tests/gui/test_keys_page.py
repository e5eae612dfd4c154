"""The Keys page: import after confirming the fingerprint, refusals with their reason, expiry warnings, removal."""

from __future__ import annotations

import re

import pysequoia
from support.pgp_keys import OWN_PASSPHRASE, Keys

from transferapp.config import Connection
from transferapp.encryption import EncryptPolicy
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.key_import_dialog import KeyImportDialog
from transferapp.gui.pages.keys import KeysPage
from transferapp.pgp.keyinfo import pretty_fingerprint


def open_import(page: KeysPage, qtbot, path: str, secret: bool = False) -> KeyImportDialog:
    """Choose ``path`` in the (injected) file dialog and wait for the confirmation dialog."""
    page.choose_file = lambda _title: path
    with qtbot.waitSignal(page.import_dialog_shown, timeout=30000) as shown:
        (page.import_secret_action if secret else page.import_action).trigger()
    dialog = shown.args[0]
    assert isinstance(dialog, KeyImportDialog) and dialog.isVisible()
    return dialog


def test_a_public_key_is_imported_after_its_fingerprint_is_confirmed(backend: Backend, qtbot, gpg_keys: Keys) -> None:
    page = KeysPage(backend)
    qtbot.addWidget(page)
    assert page.key_data() == []
    dialog = open_import(page, qtbot, str(gpg_keys.public(gpg_keys.bank_rsa)))
    assert dialog.fingerprint.text() == pretty_fingerprint(gpg_keys.bank_rsa)
    assert "Bank <pgp@bank.example>" in dialog.user_ids.text()
    assert dialog.import_button.isEnabled() and dialog.message.text() == ""
    assert backend.ctx.keys().fingerprints() == []  # nothing saved before the confirmation

    dialog.import_button.click()
    assert backend.ctx.keys().fingerprints() == [gpg_keys.bank_rsa]
    rows = page.key_data()
    assert len(rows) == 1
    assert rows[0]["fingerprint"] == pretty_fingerprint(gpg_keys.bank_rsa)
    assert rows[0]["key"] == "Bank <pgp@bank.example>" and rows[0]["algorithm"].startswith("RSA-3072")
    assert rows[0]["own"] == "no" and rows[0]["expires"] == "never" and rows[0]["used_by"] == "-"
    assert "Imported Bank" in page.status.text()
    assert page.banner.isHidden()

    cancelled = open_import(page, qtbot, str(gpg_keys.public(gpg_keys.oms_cv)))
    cancelled.reject()
    assert backend.ctx.keys().fingerprints() == [gpg_keys.bank_rsa]


def test_an_expired_key_is_refused_with_its_reason(backend: Backend, qtbot, gpg_keys: Keys) -> None:
    page = KeysPage(backend)
    qtbot.addWidget(page)
    dialog = open_import(page, qtbot, str(gpg_keys.public(gpg_keys.expired)))
    assert "expired on 2020-01-02" in dialog.message.text()
    assert not dialog.import_button.isEnabled()
    assert dialog.expires.text().startswith("EXPIRED")
    dialog.accept()  # Enter on a refused key does nothing
    assert dialog.isVisible()
    dialog.reject()
    assert backend.ctx.keys().fingerprints() == []
    assert "expired on 2020-01-02" in page.status.text()

    sign_only = open_import(page, qtbot, str(gpg_keys.public(gpg_keys.sign_only)))
    assert "no usable encryption key" in sign_only.message.text() and not sign_only.import_button.isEnabled()


def test_a_key_expiring_within_30_days_warns_on_import_and_in_a_banner(backend: Backend, qtbot, gpg_keys: Keys) -> None:
    page = KeysPage(backend)
    qtbot.addWidget(page)
    dialog = open_import(page, qtbot, str(gpg_keys.public(gpg_keys.soon)))
    assert "expires on" in dialog.message.text() and dialog.import_button.isEnabled()
    dialog.import_button.click()
    row = page.key_data()[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \(in \d+ days\)", row["expires"])
    assert not page.banner.isHidden()
    assert "Soon <soon@example.com>" in page.banner.text() and "30 days" in page.banner.text()


def test_an_own_secret_key_needs_its_passphrase(backend: Backend, qtbot, gpg_keys: Keys) -> None:
    page = KeysPage(backend)
    qtbot.addWidget(page)
    dialog = open_import(page, qtbot, str(gpg_keys.secret(gpg_keys.own)), secret=True)
    assert dialog.fingerprint.text() == pretty_fingerprint(gpg_keys.own)
    dialog.passphrase_edit.setText("wrong")
    dialog.import_button.click()
    assert "wrong" in dialog.message.text() and dialog.isVisible()
    assert backend.ctx.keys().own_fingerprints() == []
    dialog.passphrase_edit.setText(OWN_PASSPHRASE)
    dialog.import_button.click()
    assert backend.ctx.keys().own_fingerprints() == [gpg_keys.own]
    assert backend.ctx.keys().passphrase(gpg_keys.own) == OWN_PASSPHRASE
    assert page.key_data()[0]["own"] == "yes"


def test_remove_is_refused_while_a_connection_or_job_uses_the_key(backend: Backend, qtbot, gpg_keys: Keys) -> None:
    ctx = backend.ctx
    ctx.keys().save_public(pysequoia.Cert.from_file(str(gpg_keys.public(gpg_keys.bank_rsa))))
    ctx.config.connections["bank"] = Connection(
        "bank", "sftp://shop@127.0.0.1:2222/in", auth="key", key_file="/k",
        encryption=EncryptPolicy((gpg_keys.bank_rsa,)),
    )  # fmt: skip
    encryption = {"mode": "required", "recipients": [gpg_keys.bank_rsa]}
    ctx.config.other["jobs"] = {
        "out": {"kind": "push", "connection": "bank", "watch": "/tmp", "encryption": encryption}
    }
    ctx.config.save()
    page = KeysPage(backend)
    qtbot.addWidget(page)
    assert page.key_data()[0]["used_by"] == "connection bank, job out"
    asked: list[str] = []
    page.confirm = lambda _title, text: asked.append(text) or True
    page.select(gpg_keys.bank_rsa)
    page.remove_action.trigger()
    assert asked == []
    assert "used by connection bank, job out" in page.status.text()
    assert ctx.keys().fingerprints() == [gpg_keys.bank_rsa]

    ctx.config.connections["bank"].encryption = None
    del ctx.config.other["jobs"]
    backend.save_config()
    assert page.key_data()[0]["used_by"] == "-"
    page.select(gpg_keys.bank_rsa)
    page.remove_action.trigger()
    assert len(asked) == 1 and "Bank" in asked[0]
    assert ctx.keys().fingerprints() == [] and page.key_data() == []
