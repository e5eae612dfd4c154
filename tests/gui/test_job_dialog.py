"""The job editor: checks as you type with the core's validators, and saves a job the CLI reads back."""

from __future__ import annotations

from pathlib import Path

import pysequoia
from PySide6.QtWidgets import QDialogButtonBox
from support.pgp_keys import Keys

from transferapp.app import AppContext
from transferapp.config import Connection, load_config
from transferapp.gui.backend import Backend
from transferapp.gui.dialogs.job_dialog import JobDialog
from transferapp.gui.pages.jobs import JobsPage
from transferapp.jobs.model import load_jobs
from transferapp.jobs.schedule import Schedule


def add_connection(ctx: AppContext, name: str = "pim") -> None:
    """A key-login SFTP connection (nothing needs to listen: the editor never connects)."""
    ctx.config.connections[name] = Connection(name, "sftp://shop@127.0.0.1:2222/in", auth="key", key_file="/k")
    ctx.config.save()


def ok_button(dialog: JobDialog):  # noqa: ANN201 - a QPushButton
    return dialog.ui.buttonBox.button(QDialogButtonBox.StandardButton.Ok)


def test_the_editor_validates_as_you_type(backend: Backend, qtbot, tmp_path: Path) -> None:
    add_connection(backend.ctx)
    dialog = JobDialog(backend)
    qtbot.addWidget(dialog)
    ui = dialog.ui
    ui.nameEdit.setText("orders-out")
    ui.connectionCombo.setCurrentText("pim")
    assert not ok_button(dialog).isEnabled()
    assert "Watch folder" in ui.messageLabel.text()

    ui.watchEdit.setText(str(tmp_path / "missing"))
    assert not ok_button(dialog).isEnabled()
    assert "does not exist" in ui.messageLabel.text()
    ui.watchEdit.setText(str(tmp_path))
    assert ok_button(dialog).isEnabled(), ui.messageLabel.text()
    assert ui.messageLabel.text() == ""

    ui.scheduleCombo.setCurrentIndex(ui.scheduleCombo.findData("cron"))
    ui.cronEdit.setText("99 2 * * *")
    assert not ok_button(dialog).isEnabled()
    assert "minute must be 0-59" in ui.messageLabel.text()
    assert "minute must be 0-59" in ui.previewLabel.text()
    ui.cronEdit.setText("0 2 * * *")
    assert ok_button(dialog).isEnabled(), ui.messageLabel.text()
    assert "daily at 02:00" in ui.previewLabel.text() and "Next runs" in ui.previewLabel.text()

    ui.connectionCombo.setCurrentText("nowhere")
    assert not ok_button(dialog).isEnabled()
    assert "No connection named 'nowhere'" in ui.messageLabel.text()
    ui.connectionCombo.setCurrentText("pim")
    assert ok_button(dialog).isEnabled()

    ui.windowCheck.setChecked(True)  # 01:00-05:00 covers 02:00
    assert ok_button(dialog).isEnabled(), ui.messageLabel.text()
    ui.cronEdit.setText("0 12 * * *")
    assert not ok_button(dialog).isEnabled()
    assert "none of its run times falls inside the window" in ui.messageLabel.text()


def test_a_job_made_in_the_editor_round_trips_through_the_config_file(backend: Backend, qtbot, tmp_path: Path) -> None:
    add_connection(backend.ctx)
    outbox, archive = tmp_path / "outbox", tmp_path / "archive"
    outbox.mkdir()
    page = JobsPage(backend)
    qtbot.addWidget(page)
    dialog = page.add_job()
    ui = dialog.ui
    ui.nameEdit.setText("orders-out")
    ui.connectionCombo.setCurrentText("pim")
    ui.remoteDirEdit.setText("incoming")
    ui.watchEdit.setText(str(outbox))
    ui.includeEdit.setText("*.xml, *.csv")
    ui.excludeEdit.setText("*.tmp")
    ui.doneMarkerEdit.setText("done")
    ui.stableSpin.setValue(2.5)
    ui.afterCombo.setCurrentIndex(ui.afterCombo.findData("archive"))
    assert not ok_button(dialog).isEnabled()  # archive needs its folder
    assert "archive" in ui.messageLabel.text()
    ui.archiveEdit.setText(str(archive))
    ui.scheduleCombo.setCurrentIndex(ui.scheduleCombo.findData("every"))
    ui.everyEdit.setText("15m")
    assert "every 15 min" in ui.previewLabel.text()
    assert ok_button(dialog).isEnabled(), ui.messageLabel.text()
    with qtbot.waitSignal(backend.config_changed):
        ok_button(dialog).click()

    job = load_jobs(load_config(backend.ctx.paths.config_file))["orders-out"]
    assert (job.kind, job.connection, job.remote_dir, job.watch) == ("push", "pim", "incoming", outbox)
    assert job.include == ("*.xml", "*.csv") and job.exclude == ("*.tmp",)
    assert (job.done_marker, job.stable_seconds, job.after, job.archive_dir) == (".done", 2.5, "archive", archive)
    assert job.schedule == Schedule(every=900.0)
    assert page.model.row_of("orders-out") >= 0

    page.select("orders-out")
    again = page.edit_job()
    assert again is not None
    assert again.ui.nameEdit.isReadOnly()
    assert again.ui.includeEdit.text() == "*.xml, *.csv"
    assert again.ui.everyEdit.text() == "15m"
    assert ok_button(again).isEnabled(), again.ui.messageLabel.text()
    assert again.job == job


def test_a_pull_job_needs_its_pattern_and_an_own_key_to_decrypt(backend: Backend, qtbot, tmp_path: Path) -> None:
    add_connection(backend.ctx)
    dialog = JobDialog(backend)
    qtbot.addWidget(dialog)
    ui = dialog.ui
    ui.nameEdit.setText("orders-in")
    ui.kindCombo.setCurrentIndex(1)
    ui.connectionCombo.setCurrentText("pim")
    ui.targetEdit.setText(str(tmp_path / "inbox"))
    assert "Pattern" in ui.messageLabel.text()
    ui.patternEdit.setText("sub/orders_*.xml")
    assert "must be a file-name glob" in ui.messageLabel.text()
    ui.patternEdit.setText("orders_*.xml")
    assert ok_button(dialog).isEnabled(), ui.messageLabel.text()
    assert "every 5 minutes" in ui.previewLabel.text()
    ui.decryptCheck.setChecked(True)
    assert not ok_button(dialog).isEnabled()
    assert "own secret key" in ui.messageLabel.text()


def test_encryption_lists_imported_keys_and_signing_needs_an_own_key(
    backend: Backend, qtbot, tmp_path: Path, gpg_keys: Keys
) -> None:
    add_connection(backend.ctx)
    backend.ctx.keys().save_public(pysequoia.Cert.from_file(str(gpg_keys.public(gpg_keys.bank_rsa))))
    dialog = JobDialog(backend)
    qtbot.addWidget(dialog)
    ui = dialog.ui
    ui.nameEdit.setText("secure-out")
    ui.connectionCombo.setCurrentText("pim")
    ui.watchEdit.setText(str(tmp_path))
    assert ui.recipientsList.count() == 1 and not ui.signCheck.isEnabled()
    ui.recipientsList.item(0).setCheckState(ui.recipientsList.item(0).checkState().Checked)
    assert ui.signCheck.isEnabled()
    assert ok_button(dialog).isEnabled(), ui.messageLabel.text()
    assert dialog.job is not None and dialog.job.encryption is not None
    assert dialog.job.encryption.recipients == (gpg_keys.bank_rsa,)
    ui.signCheck.setChecked(True)
    assert not ok_button(dialog).isEnabled()
    assert "no own secret key" in ui.messageLabel.text()
