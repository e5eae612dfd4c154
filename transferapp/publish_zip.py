"""Zip before upload, then have the server unzip (Salesforce B2C Commerce takes at most 100 MB per upload).

The archive is written to the spool folder (owner-only), published through the normal pipeline as
``NAME.zip``, extracted by the server into the same folder, and deleted there; the local archive is always
removed. The log records the original file's SHA-256.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import uuid
import zipfile
from pathlib import Path

from transferapp.errors import LocalFileError, TransferError, VerifyError, local_write_error
from transferapp.publish import Job, upload
from transferapp.snapshot import Snapshot, take_snapshot


def upload_zipped(job: Job, spool: Path) -> Snapshot:
    """Publish ``job.local`` as a zip that the server extracts to ``job.remote``; returns the original's snapshot."""
    unzip = getattr(job.transport, "unzip", None)
    if unzip is None:
        raise TransferError("This server cannot unzip uploads", "turn zip_upload off for this connection")
    original = take_snapshot(job.local, job.snapshot)
    archive = _make_zip(job.local, spool)
    remote_zip = job.remote + ".zip"
    try:
        zipped_mb = archive.stat().st_size / 1_000_000
        if job.max_upload_mb and zipped_mb > job.max_upload_mb:
            raise TransferError(
                f"{job.local.name} is still {zipped_mb:.1f} MB when zipped; this server takes uploads up to "
                f"{job.max_upload_mb} MB",
                "split the export into smaller files (for example fewer products or orders per file)",
            )
        zipped = dataclasses.replace(
            job,
            local=archive,
            remote=remote_zip,
            snapshot=None,
            resume=None,
            publishing=False,
            save_state=lambda **_: None,
        )
        upload(zipped)
        try:
            unzip(remote_zip)
        finally:
            job.transport.remove(remote_zip)  # never leave the archive for the instance's import jobs
    finally:
        archive.unlink(missing_ok=True)
    entry = job.transport.stat(job.remote)
    if entry is None or entry.size != original.size:
        raise VerifyError(
            f"After unzipping, {posixpath.basename(job.remote)} is "
            f"{entry.size if entry else 'missing'} on the server, expected {original.size} bytes"
        )
    if not original.matches(job.local):
        raise LocalFileError(f"{job.local} changed while it was being sent", retryable=True)
    return original


def _make_zip(local: Path, spool: Path) -> Path:
    """Deflate ``local`` into an owner-only archive in the spool folder (streamed: flat memory)."""
    spool.mkdir(parents=True, exist_ok=True)
    archive = spool / f"{uuid.uuid4().hex}-{local.name}.zip"
    try:
        fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with (
            os.fdopen(fd, "wb") as handle,
            zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as bundle,
        ):
            bundle.write(local, arcname=local.name)
    except OSError as exc:
        archive.unlink(missing_ok=True)
        raise local_write_error(exc, spool) from None
    return archive
