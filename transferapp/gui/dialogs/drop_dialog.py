"""The confirmation shown before dropped files are sent: which files, where to, and whether they are encrypted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QStyle, QWidget

from transferapp.gui.forms.ui_drop_dialog import Ui_DropDialog
from transferapp.units import human_bytes

if TYPE_CHECKING:
    from transferapp.gui.sending import DropPlan

SHOWN_NAMES = 5  # how many file names the dialog lists before "and N more"


class DropDialog(QDialog):
    """Asks "Send N files (size) to CONNECTION : FOLDER?" and says whether they go encrypted."""

    def __init__(self, plan: DropPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.ui = Ui_DropDialog()
        self.ui.setupUi(self)
        self.summary_label, self.names_label = self.ui.summaryLabel, self.ui.namesLabel
        self.target_label, self.encryption_label = self.ui.targetLabel, self.ui.encryptionLabel
        self.pci_label, self.problems_label = self.ui.pciLabel, self.ui.problemsLabel
        count = len(plan.files)
        summary = self.tr("1 file") if count == 1 else self.tr("{0} files").format(count)
        self.summary_label.setText(self.tr("{0}, {1}").format(summary, human_bytes(plan.total_bytes)))
        names = [relative for _, relative in plan.files[:SHOWN_NAMES]]
        if count > SHOWN_NAMES:
            names.append(self.tr("and {0} more").format(count - SHOWN_NAMES))
        self.names_label.setText("\n".join(names))
        self.target_label.setText(self.tr("To: {0} : {1}").format(plan.connection.name, plan.remote_display))
        if plan.policy is not None:
            text = self.tr("Encrypted with OpenPGP to {0}").format(", ".join(plan.key_labels))
        else:
            text = self.tr("Not encrypted")
        self.encryption_label.setText(text)
        pci = self.tr("Files are checked for card numbers before they are sent") if plan.pci_guard else ""
        self.pci_label.setText(pci)
        self.pci_label.setVisible(bool(pci))
        self.problems_label.setText("\n".join(plan.problems))
        self.problems_label.setVisible(bool(plan.problems))
        self.buttons = self.ui.buttonBox
        self.send_button = self.buttons.addButton(self.tr("&Send"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_ArrowUp))
        self.send_button.setAccessibleName(self.tr("Send the files"))
        self.send_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(self.tr("Do not send"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def text(self) -> str:
        """Everything the dialog tells the user, one line each (for tests and screen readers)."""
        labels = (self.summary_label, self.names_label, self.target_label, self.encryption_label, self.pci_label)
        return "\n".join(label.text() for label in labels if label.text())
