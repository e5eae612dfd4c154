"""The drop confirmation: files, destination (connection or push job), encryption; refusals and wrong settings."""

from __future__ import annotations

from pathlib import Path

import pysequoia
import pytest
from support.pgp_keys import Keys

from transferapp.config import Connection
from transferapp.encryption import EncryptPolicy
from transferapp.gui import sending
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.drop_dialog import DropDialog
from transferapp.gui.sending import DropTarget, confirm_and_send


class Answers(list[DropDialog]):
    """The dialogs shown; ``accept`` says whether the user clicks Send."""

    accept = False

    def __call__(self, dialog: DropDialog) -> bool:
        self.append(dialog)
        return self.accept


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """Answer every confirmation without a modal loop (refusing, until a test sets ``accept``)."""
    answers = Answers()
    monkeypatch.setattr(sending, "confirm_hook", answers)
    sending.last_messages.clear()
    return answers


def add_connection(backend: Backend, encryption: EncryptPolicy | None = None) -> None:
    """A connection nothing listens on (these tests never reach a server)."""
    conn = Connection("pim", "sftp://feed@127.0.0.1:1/data/pim", "agent", encryption=encryption)
    backend.ctx.config.connections["pim"] = conn
    backend.ctx.config.save()


def files(tmp_path: Path, count: int) -> list[str]:
    """``count`` small files."""
    paths = []
    for n in range(count):
        path = tmp_path / f"orders_{n:02d}.xml"
        path.write_bytes(b"x" * 1024)
        paths.append(str(path))
    return paths


def test_the_dialog_lists_files_and_says_unencrypted_with_the_card_check(qtbot, backend, tmp_path, answers):
    add_connection(backend)
    assert confirm_and_send(None, backend, DropTarget("pim", "in/today"), files(tmp_path, 7)) is None
    (dialog,) = answers
    text = dialog.text()
    assert "7 files, 7.0 KiB" in text
    assert "orders_00.xml" in text and "orders_04.xml" in text and "orders_05.xml" not in text
    assert "and 2 more" in text
    assert "To: pim : /data/pim/in/today" in text
    assert "Not encrypted" in text and "Files are checked for card numbers before they are sent" in text
    assert dialog.send_button.accessibleName() and dialog.send_button.isDefault()
    assert backend.ctx.queue.items() == []  # refused: nothing queued


def test_no_card_check_line_when_the_guard_is_off(qtbot, backend, tmp_path, answers):
    add_connection(backend)
    backend.ctx.config.connections["pim"].options["pci_guard"] = False
    confirm_and_send(None, backend, DropTarget("pim"), files(tmp_path, 1))
    assert "Not encrypted" in answers[0].text() and "card numbers" not in answers[0].text()
    assert "1 file," in answers[0].text() and "To: pim : /data/pim" in answers[0].text()


def test_an_encrypting_connection_names_the_keys_and_queues_encrypted(
    qtbot, backend, tmp_path, answers, gpg_keys: Keys
):
    backend.ctx.keys().save_public(pysequoia.Cert.from_file(str(gpg_keys.public(gpg_keys.bank_rsa))))
    add_connection(backend, EncryptPolicy((gpg_keys.bank_rsa,)))
    answers.accept = True
    queued = confirm_and_send(None, backend, DropTarget("pim"), files(tmp_path, 2))
    assert "Encrypted with OpenPGP to Bank <pgp@bank.example>" in answers[0].text()
    assert "card numbers" not in answers[0].text()
    assert queued is not None and len(queued.ids) == 2
    items = backend.ctx.queue.items()
    assert [i.remote_path for i in items] == ["orders_00.xml.pgp", "orders_01.xml.pgp"]
    assert all(i.options["encrypt"]["recipients"] == [gpg_keys.bank_rsa] for i in items)


def test_a_push_job_target_uses_its_folder_and_encryption(qtbot, backend, tmp_path, answers, gpg_keys: Keys):
    backend.ctx.keys().save_public(pysequoia.Cert.from_file(str(gpg_keys.public(gpg_keys.oms_cv))))
    add_connection(backend)
    watch = tmp_path / "watch"
    watch.mkdir()
    backend.ctx.config.other["jobs"] = {
        "feed": {
            "kind": "push",
            "connection": "pim",
            "watch": str(watch),
            "remote_dir": "incoming",
            "encryption": {"mode": "required", "recipients": [gpg_keys.oms_cv]},
        }
    }
    answers.accept = True
    queued = confirm_and_send(None, backend, DropTarget("pim", job="feed"), files(tmp_path, 1))
    assert "To: pim : /data/pim/incoming" in answers[0].text()
    assert "Encrypted with OpenPGP to OMS <pgp@oms.example>" in answers[0].text()
    assert queued is not None
    assert backend.ctx.queue.get(queued.ids[0]).remote_path == "incoming/orders_00.xml.pgp"


def test_wrong_settings_and_missing_files_are_shown_with_the_fix(qtbot, backend, tmp_path, answers):
    assert confirm_and_send(None, backend, DropTarget("nowhere"), files(tmp_path, 1)) is None
    box = sending.last_messages[-1]
    assert "No connection named 'nowhere'" in box.text() and "connection add" in box.informativeText()
    assert box.isVisible() and not answers
    add_connection(backend)
    answers.accept = True
    queued = confirm_and_send(None, backend, DropTarget("pim"), [*files(tmp_path, 1), str(tmp_path / "gone.csv")])
    assert queued is not None and len(queued.ids) == 1
    assert "gone.csv does not exist" in sending.last_messages[-1].text()


def test_clicking_send_in_the_open_dialog_queues_the_files(qtbot, backend, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialog

    def click_send(dialog: DropDialog) -> bool:
        dialog.open()
        qtbot.waitExposed(dialog)
        assert dialog.pci_label.isVisible() and not dialog.problems_label.isVisible()
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
        return dialog.result() == QDialog.DialogCode.Accepted

    monkeypatch.setattr(sending, "confirm_hook", click_send)
    add_connection(backend)
    queued = confirm_and_send(None, backend, DropTarget("pim"), files(tmp_path, 3))
    assert queued is not None and len(backend.ctx.queue.items(batch=queued.batch)) == 3
