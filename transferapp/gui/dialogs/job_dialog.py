"""The job editor: every setting of a push or pull job, checked as you type by the same code as the CLI."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QLabel, QLineEdit, QListWidgetItem, QWidget

from transferapp.errors import ConfigError, TransferAppError
from transferapp.gui.backend import Backend
from transferapp.gui.forms.ui_job_dialog import Ui_JobDialog
from transferapp.gui.models.jobs_model import format_time
from transferapp.jobs.model import JobSpec, job_from_toml
from transferapp.jobs.schedule import Schedule, local_now
from transferapp.pgp.keyinfo import KeyInfo, pretty_fingerprint

AFTER = ("keep", "delete", "archive")
SOURCE = "the job editor"
ERROR_STYLE = "color: #c62828;"


def split_globs(text: str) -> list[str]:
    """'*.xml, *.csv' -> ['*.xml', '*.csv']."""
    return [part.strip() for part in text.split(",") if part.strip()]


def next_runs(schedule: Schedule, now: datetime, count: int = 3) -> list[datetime]:
    """The schedule's next run times after now (a window-only schedule: when the window opens)."""
    if schedule.cron is None and schedule.every is None:
        return [schedule.window.next_open(now)] if schedule.window else []
    runs, moment = [], now
    for _ in range(count):
        moment = schedule.next_run(moment)
        runs.append(moment)
    return runs


class JobDialog(QDialog):
    """Add (``job`` None) or edit a job; ``self.job`` holds the checked JobSpec while the form is valid."""

    def __init__(self, backend: Backend, job: JobSpec | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.original = job
        self.job: JobSpec | None = None
        self.error = ""
        self.ui = Ui_JobDialog()
        self.ui.setupUi(self)
        self._keys: list[KeyInfo] = []
        self._fill_choices()
        self._name_buddies()
        if job is not None:
            self.setWindowTitle(self.tr("Edit job {0}").format(job.name))
            self._load(job)
            self.ui.nameEdit.setReadOnly(True)
        else:
            self.setWindowTitle(self.tr("Add job"))
            self.ui.enabledCheck.setChecked(True)
        self.ui.buttonBox.accepted.connect(self.accept)
        self.ui.buttonBox.rejected.connect(self.reject)
        self._connect_browse()
        self._watch_changes()
        self._update_visibility()
        self.validate()

    # -- setup -------------------------------------------------------------------------------------
    def _fill_choices(self) -> None:
        ui = self.ui
        ui.kindCombo.addItem(self.tr("Push: send files from a local folder"), "push")
        ui.kindCombo.addItem(self.tr("Pull: fetch files from the server"), "pull")
        ui.connectionCombo.setEditable(True)
        ui.connectionCombo.addItems(sorted(self.backend.ctx.config.connections))
        for combo in (ui.afterCombo, ui.remoteAfterCombo):
            combo.addItem(self.tr("Keep"), "keep")
            combo.addItem(self.tr("Delete after a verified transfer"), "delete")
            combo.addItem(self.tr("Move to the archive folder"), "archive")
        ui.afterCombo.setItemText(1, self.tr("Delete after a verified upload"))
        ui.remoteAfterCombo.setItemText(1, self.tr("Delete the remote file after download"))
        ui.scheduleCombo.addItem(self.tr("Watch the folder / default"), "none")
        ui.scheduleCombo.addItem(self.tr("At an interval"), "every")
        ui.scheduleCombo.addItem(self.tr("On a cron schedule"), "cron")
        ui.extensionCombo.addItems([".pgp", ".gpg"])
        ui.windowStart.setTime(QTime(1, 0))
        ui.windowEnd.setTime(QTime(5, 0))
        try:
            self._keys = self.backend.ctx.keys().infos()
        except TransferAppError:
            self._keys = []
        ui.verifyCombo.addItem(self.tr("(no signature required)"), "")
        for info in self._keys:
            text = f"{info.label} ({pretty_fingerprint(info.fingerprint)})"
            item = QListWidgetItem(text, ui.recipientsList)
            item.setData(Qt.ItemDataRole.UserRole, info.fingerprint)
            item.setCheckState(Qt.CheckState.Unchecked)
            if info.problems:
                item.setToolTip(self.tr("cannot be used: {0}").format("; ".join(info.problems)))
            ui.verifyCombo.addItem(text, info.fingerprint)
        ui.recipientsList.setAccessibleName(self.tr("Recipient keys"))
        ui.messageLabel.setAccessibleName(self.tr("Validation message"))
        ui.previewLabel.setAccessibleName(self.tr("Next runs"))
        for browse in (ui.watchBrowse, ui.archiveBrowse, ui.failedBrowse, ui.targetBrowse):
            browse.setAccessibleName(self.tr("Choose a folder"))
            browse.setToolTip(self.tr("Choose a folder"))

    def _name_buddies(self) -> None:
        """Give every control the accessible name of its label."""
        for label in self.findChildren(QLabel):
            buddy = label.buddy()
            if buddy is not None and not buddy.accessibleName():
                buddy.setAccessibleName(label.text().replace("&", "").rstrip(":"))
        self.ui.windowEnd.setAccessibleName(self.tr("Window end"))
        for check in (self.ui.enabledCheck, self.ui.recursiveCheck, self.ui.pollingCheck, self.ui.windowCheck,
                      self.ui.signCheck, self.ui.gzipCheck, self.ui.decryptCheck):  # fmt: skip
            check.setAccessibleName(check.text().replace("&", ""))

    def _connect_browse(self) -> None:
        ui = self.ui
        for button, edit in ((ui.watchBrowse, ui.watchEdit), (ui.archiveBrowse, ui.archiveEdit),
                             (ui.failedBrowse, ui.failedEdit), (ui.targetBrowse, ui.targetEdit)):  # fmt: skip
            button.clicked.connect(lambda _c=False, e=edit: self._browse(e))

    def _browse(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder"), edit.text())
        if folder:
            edit.setText(folder)

    def _watch_changes(self) -> None:
        ui = self.ui
        for edit in self.findChildren(QLineEdit):
            edit.textChanged.connect(self._changed)
        for combo in (ui.kindCombo, ui.connectionCombo, ui.afterCombo, ui.remoteAfterCombo, ui.scheduleCombo,
                      ui.extensionCombo, ui.verifyCombo):  # fmt: skip
            combo.currentIndexChanged.connect(self._changed)
        for check in (ui.enabledCheck, ui.recursiveCheck, ui.pollingCheck, ui.windowCheck, ui.signCheck,
                      ui.gzipCheck, ui.decryptCheck):  # fmt: skip
            check.toggled.connect(self._changed)
        ui.stableSpin.valueChanged.connect(self._changed)
        ui.windowStart.timeChanged.connect(self._changed)
        ui.windowEnd.timeChanged.connect(self._changed)
        ui.recipientsList.itemChanged.connect(self._changed)

    def _changed(self, *_args: object) -> None:
        self._update_visibility()
        self.validate()

    def _update_visibility(self) -> None:
        ui = self.ui
        push = self.kind() == "push"
        ui.pushGroup.setVisible(push)
        ui.pullGroup.setVisible(not push)
        ui.pushEncryptionGroup.setVisible(push)
        ui.pullEncryptionGroup.setVisible(not push)
        mode = ui.scheduleCombo.currentData()
        for widget in (ui.everyLabel, ui.everyEdit):
            widget.setVisible(mode == "every")
        for widget in (ui.cronLabel, ui.cronEdit):
            widget.setVisible(mode == "cron")
        ui.windowStart.setEnabled(ui.windowCheck.isChecked())
        ui.windowEnd.setEnabled(ui.windowCheck.isChecked())
        ui.archiveEdit.setEnabled(ui.afterCombo.currentData() == "archive")
        ui.archiveBrowse.setEnabled(ui.afterCombo.currentData() == "archive")
        ui.remoteArchiveEdit.setEnabled(ui.remoteAfterCombo.currentData() == "archive")
        encrypting = bool(self.recipients())
        ui.signCheck.setEnabled(encrypting)
        ui.gzipCheck.setEnabled(encrypting)
        ui.extensionCombo.setEnabled(encrypting)
        ui.verifyCombo.setEnabled(ui.decryptCheck.isChecked())
        ui.scheduleCombo.setItemText(
            0, self.tr("Watch the folder (send files as they appear)") if push else self.tr("Every 5 minutes (default)")
        )

    def _load(self, job: JobSpec) -> None:
        ui = self.ui
        ui.nameEdit.setText(job.name)
        ui.kindCombo.setCurrentIndex(0 if job.kind == "push" else 1)
        ui.connectionCombo.setCurrentText(job.connection)
        ui.remoteDirEdit.setText(job.remote_dir)
        ui.enabledCheck.setChecked(job.enabled)
        ui.watchEdit.setText(str(job.watch or ""))
        ui.recursiveCheck.setChecked(job.recursive)
        ui.includeEdit.setText(", ".join(job.include))
        ui.excludeEdit.setText(", ".join(job.exclude))
        ui.stableSpin.setValue(job.stable_seconds)
        ui.doneMarkerEdit.setText(job.done_marker or "")
        ui.pollingCheck.setChecked(job.polling)
        ui.afterCombo.setCurrentIndex(AFTER.index(job.after))
        ui.archiveEdit.setText(str(job.archive_dir or ""))
        ui.failedEdit.setText(str(job.failed_dir or ""))
        ui.patternEdit.setText(job.pattern)
        ui.targetEdit.setText(str(job.target or ""))
        ui.remoteAfterCombo.setCurrentIndex(AFTER.index(job.remote_after))
        ui.remoteArchiveEdit.setText(job.remote_archive)
        ui.decryptCheck.setChecked(job.decrypt)
        ui.verifyCombo.setCurrentIndex(max(0, ui.verifyCombo.findData(job.verify_from or "")))
        schedule = job.schedule
        if schedule is not None:
            mode = "cron" if schedule.cron else "every" if schedule.every else "none"
            ui.scheduleCombo.setCurrentIndex(ui.scheduleCombo.findData(mode))
            settings = schedule.to_toml()
            ui.cronEdit.setText(settings.get("schedule", ""))
            ui.everyEdit.setText(settings.get("every", ""))
            if schedule.window is not None:
                ui.windowCheck.setChecked(True)
                ui.windowStart.setTime(QTime(schedule.window.start.hour, schedule.window.start.minute))
                ui.windowEnd.setTime(QTime(schedule.window.end.hour, schedule.window.end.minute))
        if job.encryption is not None:
            wanted = set(job.encryption.recipients)
            for row in range(ui.recipientsList.count()):
                item = ui.recipientsList.item(row)
                if item.data(Qt.ItemDataRole.UserRole) in wanted:
                    item.setCheckState(Qt.CheckState.Checked)
            ui.signCheck.setChecked(job.encryption.sign)
            ui.gzipCheck.setChecked(job.encryption.gzip)
            ui.extensionCombo.setCurrentText(job.encryption.extension)

    # -- reading the form --------------------------------------------------------------------------
    def kind(self) -> str:
        """'push' or 'pull'."""
        return str(self.ui.kindCombo.currentData())

    def recipients(self) -> list[str]:
        """Fingerprints of the checked recipient keys."""
        items = (self.ui.recipientsList.item(row) for row in range(self.ui.recipientsList.count()))
        return [
            str(item.data(Qt.ItemDataRole.UserRole)) for item in items if item.checkState() == Qt.CheckState.Checked
        ]

    def table(self) -> dict[str, Any]:
        """The ``[jobs.NAME]`` table the form describes (what the config file will hold)."""
        ui = self.ui
        table: dict[str, Any] = {"kind": self.kind(), "connection": ui.connectionCombo.currentText().strip()}
        if not ui.enabledCheck.isChecked():
            table["enabled"] = False
        if ui.remoteDirEdit.text().strip():
            table["remote_dir"] = ui.remoteDirEdit.text().strip()
        mode = ui.scheduleCombo.currentData()
        if mode == "every":
            table["every"] = ui.everyEdit.text().strip()
        elif mode == "cron":
            table["schedule"] = ui.cronEdit.text().strip()
        if ui.windowCheck.isChecked():
            table["window"] = f"{ui.windowStart.time().toString('HH:mm')}-{ui.windowEnd.time().toString('HH:mm')}"
        if self.kind() == "push":
            self._push_table(table)
        else:
            self._pull_table(table)
        return table

    def _push_table(self, table: dict[str, Any]) -> None:
        ui = self.ui
        table["watch"] = ui.watchEdit.text().strip()
        if ui.recursiveCheck.isChecked():
            table["recursive"] = True
        table["include"] = split_globs(ui.includeEdit.text()) or ["*"]
        if split_globs(ui.excludeEdit.text()):
            table["exclude"] = split_globs(ui.excludeEdit.text())
        table["stable_seconds"] = ui.stableSpin.value()
        if ui.doneMarkerEdit.text().strip():
            table["done_marker"] = ui.doneMarkerEdit.text().strip()
        if ui.pollingCheck.isChecked():
            table["polling"] = True
        after = ui.afterCombo.currentData()
        table["after"] = f"archive:{ui.archiveEdit.text().strip()}" if after == "archive" else after
        if ui.failedEdit.text().strip():
            table["failed_dir"] = ui.failedEdit.text().strip()
        if self.recipients():
            table["encryption"] = {
                "mode": "required",
                "recipients": self.recipients(),
                "sign": ui.signCheck.isChecked(),
                "gzip": ui.gzipCheck.isChecked(),
                "extension": ui.extensionCombo.currentText(),
            }

    def _pull_table(self, table: dict[str, Any]) -> None:
        ui = self.ui
        table["pattern"] = ui.patternEdit.text().strip()
        table["target"] = ui.targetEdit.text().strip()
        after = ui.remoteAfterCombo.currentData()
        table["remote_after"] = f"archive:{ui.remoteArchiveEdit.text().strip()}" if after == "archive" else after
        if ui.decryptCheck.isChecked():
            table["decrypt"] = True
            if ui.verifyCombo.currentData():
                table["verify_from"] = ui.verifyCombo.currentData()

    # -- checking ----------------------------------------------------------------------------------
    def build(self) -> JobSpec:
        """The checked JobSpec, or ConfigError naming the field and the fix (same checks as 'job add')."""
        ctx = self.backend.ctx
        name = self.ui.nameEdit.text().strip()
        if not name:
            raise ConfigError(self.tr("Name: give the job a name"), self.tr("e.g. orders-out"))
        tables = ctx.config.other.get("jobs", {})
        if self.original is None and isinstance(tables, dict) and name in tables:
            raise ConfigError(self.tr("Name: a job named {0!r} already exists").format(name), self.tr("pick another"))
        table = self.table()
        if self.kind() == "push" and not table["watch"]:
            raise ConfigError(self.tr("Watch folder: a push job needs the folder whose files are sent"),
                              self.tr("choose the folder on the Files tab"))  # fmt: skip
        if self.kind() == "pull" and not table["target"]:
            raise ConfigError(self.tr("Local folder: a pull job needs the folder files are fetched into"),
                              self.tr("choose the folder on the Files tab"))  # fmt: skip
        if self.kind() == "pull" and not table["pattern"]:
            raise ConfigError(self.tr("Pattern: name the remote files to fetch"), self.tr("e.g. orders_*.xml"))
        job = job_from_toml(name, table, SOURCE)
        conn = ctx.config.connection(job.connection)
        if job.watch is not None and not job.watch.is_dir():
            state = self.tr("is not a folder") if job.watch.exists() else self.tr("does not exist")
            raise ConfigError(
                self.tr("Watch folder: {0} {1}").format(job.watch, state),
                self.tr("create the folder first (a watched folder is never created for you)"),
            )
        if job.target is not None and job.target.exists() and not job.target.is_dir():
            raise ConfigError(self.tr("Local folder: {0} is not a folder").format(job.target))
        if job.encryption is not None:
            from transferapp.pgp.policy import build_policy

            policy = job.encryption
            args = (policy.recipients, policy.sign, policy.gzip, policy.extension)
            job.encryption = build_policy(ctx.keys(), conn.encryption, *args)
        if job.decrypt:
            keys = ctx.keys()
            if not keys.own_fingerprints():
                raise ConfigError(self.tr("Decrypt: needs an own secret key"),
                                  self.tr("import it on the Keys page (Import own key)"))  # fmt: skip
            if job.verify_from:
                job = dataclasses.replace(job, verify_from=keys.resolve(job.verify_from))
        return job

    def validate(self) -> bool:
        """Check the form; enable OK only when valid, else show the message naming the field."""
        try:
            self.job = self.build()
            self.error = ""
        except TransferAppError as exc:
            self.job = None
            self.error = exc.message + (f" ({exc.hint})" if exc.hint else "")
        ok = self.ui.buttonBox.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.job is not None)
        self.ui.messageLabel.setText(self.error)
        self.ui.messageLabel.setStyleSheet(ERROR_STYLE if self.error else "")
        self._preview()
        return self.job is not None

    def _preview(self) -> None:
        """'Next runs: …' for the schedule typed, or why it is not valid."""
        ui = self.ui
        mode = ui.scheduleCombo.currentData()
        window = None
        if ui.windowCheck.isChecked():
            window = f"{ui.windowStart.time().toString('HH:mm')}-{ui.windowEnd.time().toString('HH:mm')}"
        if mode == "none" and window is None:
            text = (
                self.tr("Sent as soon as files are complete.")
                if self.kind() == "push"
                else self.tr("Looks for new files every 5 minutes.")
            )
            ui.previewLabel.setText(text)
            ui.previewLabel.setStyleSheet("")
            return
        try:
            cron = ui.cronEdit.text().strip() if mode == "cron" else None
            every = ui.everyEdit.text().strip() if mode == "every" else None
            schedule = Schedule.parse(cron, every, window)
            now = local_now()
            runs = ", ".join(format_time(moment, now) for moment in next_runs(schedule, now))
            ui.previewLabel.setText(self.tr("{0}. Next runs: {1}").format(schedule.describe(), runs))
            ui.previewLabel.setStyleSheet("")
        except TransferAppError as exc:
            ui.previewLabel.setText(exc.message + (f" ({exc.hint})" if exc.hint else ""))
            ui.previewLabel.setStyleSheet(ERROR_STYLE)

    def accept(self) -> None:
        """Close only with a valid job."""
        if self.validate():
            super().accept()
