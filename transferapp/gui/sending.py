"""Sending dropped files: the confirmation (remote folder, encryption) and queueing them for the agent."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from transferapp.gui.backend import Backend
from transferapp.uploads import QueuedUpload


@dataclass(frozen=True)
class DropTarget:
    """Where dropped files go: a connection (and folder under it), or a push job's connection, folder and encryption."""

    connection: str
    remote_dir: str | None = None
    job: str | None = None


def confirm_and_send(parent: QWidget, backend: Backend, target: DropTarget, paths: list[str]) -> QueuedUpload | None:
    """Ask for confirmation (showing the remote folder and whether the files are encrypted), then queue them;
    None when the user cancels or a setting is wrong (shown to the user)."""
    raise NotImplementedError("built by the transfers/drop work")
