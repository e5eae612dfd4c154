"""The details pane of the Transfer log page: every field of one log row as an HTML table."""

from __future__ import annotations

import html
import json

from PySide6.QtCore import QCoreApplication, QLocale

from transferapp.gui.models.log_model import DIRECTION_LABELS, STATUS_LABELS, format_duration, local_time
from transferapp.store.log import LogEntry
from transferapp.store.log_filter import split_error
from transferapp.units import human_bytes


def _tr(text: str) -> str:
    return QCoreApplication.translate("LogDetails", text)


def details_html(entry: LogEntry, hints: list[str]) -> str:
    """All of ``entry``'s fields; the error is split into message and hint when a known hint ends it."""
    message, hint = split_error(entry.error, hints)
    rows = [
        (_tr("Time"), f"{local_time(entry.at)} ({entry.at})"),
        (_tr("Status"), _tr(STATUS_LABELS.get(entry.status, entry.status))),
        (_tr("Error"), message),  # first: what went wrong and the fix are what staff look for
        (_tr("How to fix it"), hint),
        (_tr("Connection"), entry.connection),
        (_tr("Direction"), _tr(DIRECTION_LABELS.get(entry.direction, entry.direction))),
        (_tr("Local file"), entry.local_path),
        (_tr("Remote path"), entry.remote_path),
        (_tr("Size"), _tr("{0} ({1} bytes)").format(human_bytes(entry.bytes), QLocale().toString(entry.bytes))),
        (_tr("Duration"), format_duration(entry.duration)),
        (_tr("SHA-256"), entry.sha256 or _tr("(none)")),
        (_tr("Attempt"), str(entry.attempt)),
        (_tr("Transfer"), _tr("#{0}").format(entry.transfer_id) if entry.transfer_id is not None else ""),
        (_tr("Log row"), _tr("#{0}").format(entry.id)),
    ]
    cells = "".join(
        f"<tr><th align='left' valign='top' style='padding-right:12px'>{html.escape(name)}</th>"
        f"<td style='white-space:pre-wrap'>{html.escape(value)}</td></tr>"
        for name, value in rows
        if value
    )
    details = json.dumps(entry.details, indent=2, sort_keys=True, ensure_ascii=False) if entry.details else ""
    extra = f"<h4>{html.escape(_tr('Details'))}</h4><pre>{html.escape(details)}</pre>" if details else ""
    return f"<table cellspacing='2'>{cells}</table>{extra}"
