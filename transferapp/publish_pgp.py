"""The OpenPGP and PCI steps of the pipeline: encrypt to a spool file before upload, decrypt after download,
and refuse unencrypted uploads that hold card numbers.

Spool files are named after the queue row, so a retry (or a new process) reuses the same ciphertext and resumes
its upload; they are removed once the transfer ends (done, failed or cancelled), see ``purge_spool``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from transferapp import publish
from transferapp.encryption import DecryptPolicy, EncryptPolicy
from transferapp.errors import LocalFileError, TransferError
from transferapp.snapshot import BackgroundHash, Snapshot, local_stat, sha256_file

PREFIXES = ("upload-", "download-")


class PciGuardError(TransferError):
    """An unencrypted upload holds what look like payment card numbers; it is refused for good."""

    def __init__(self, message: str, hint: str, details: dict[str, Any]) -> None:
        super().__init__(message, hint, retryable=False)
        self.details = details


def pci_guard(local: Path, connection: str, enabled: bool) -> dict[str, Any]:
    """Scan a file about to be sent unencrypted; raise PciGuardError when it holds card numbers."""
    if not enabled:
        return {"encrypted": False, "pci_guard": "off"}
    from transferapp.pci import scan_file

    scan = scan_file(local)
    if not scan.found:
        return {"encrypted": False, "pci_guard": "clean"}
    shown = ", ".join(scan.samples)
    raise PciGuardError(
        f"{local.name} holds {scan.count} possible payment card number(s) ({shown}); it was not sent unencrypted",
        f"encrypt it (send --encrypt-to FINGERPRINT, or 'transferapp connection set {connection} --encrypt-to "
        f"FINGERPRINT'); if these are not card numbers, turn the guard off for this connection with "
        f"'transferapp connection set {connection} --pci-guard off'",
        {"encrypted": False, "pci_guard": "refused", "card_candidates": scan.count, "samples": list(scan.samples)},
    )


def upload_encrypted(
    job: publish.Job, policy: EncryptPolicy, keys: Any, spool: Path, item_id: int
) -> tuple[Snapshot, dict[str, Any]]:
    """Encrypt ``job.local`` into the spool (once per file version) and publish the ciphertext."""
    from transferapp.pgp.crypt import encrypt_file, signer_for
    from transferapp.pgp.keyinfo import inspect, require_usable

    plain = job.local
    info = local_stat(plain)
    recipients = [keys.cert(fp) for fp in policy.recipients]
    for cert in recipients:
        require_usable(inspect(cert))
    tag = hashlib.sha256(f"{info.st_size}:{info.st_mtime_ns}:{policy.to_json()}".encode()).hexdigest()[:12]
    cipher = spool / f"upload-{item_id}-{tag}.pgp"
    plain_hash = BackgroundHash(plain) if info.st_size > publish.INLINE_HASH_BYTES else None
    plain_sha = "" if plain_hash else sha256_file(plain)
    signer_fp = None
    if not cipher.exists():
        _remove_spool(spool, f"upload-{item_id}-")  # an older version of the file
        signer = None
        if policy.sign:
            signer_fp, signer = signer_for(keys)
        temp = cipher.with_name(f".{cipher.name}.tmp")
        encrypt_file(plain, temp, recipients, signer, compress=policy.gzip)
        if not Snapshot(info.st_size, info.st_mtime_ns, "").matches(plain):
            temp.unlink(missing_ok=True)
            raise LocalFileError(f"{plain} changed while it was encrypted", "it is encrypted again", retryable=True)
        os.replace(temp, cipher)
    elif policy.sign:
        signer_fp = keys.default_signer()
    snap = publish.upload(dataclasses.replace(job, local=cipher))
    details = {
        "encrypted": True,
        "recipients": list(policy.recipients),
        "signed": policy.sign,
        "signer": signer_fp,
        "gzip": policy.gzip,
        "plaintext_sha256": plain_hash.result() if plain_hash else plain_sha,
        "plaintext_bytes": info.st_size,
        "sent_sha256": snap.sha256,
        "sent_bytes": snap.size,
    }
    return snap, details


def download_decrypted(
    job: publish.Job, policy: DecryptPolicy, keys: Any, spool: Path, item_id: int
) -> tuple[Snapshot, dict[str, Any]]:
    """Download the ciphertext into the spool, decrypt (and verify) it into ``job.local``."""
    from transferapp.pgp.crypt import decrypt_file

    target = job.local
    cipher = spool / f"download-{item_id}-{Path(job.remote).name}"
    snap = publish.download(dataclasses.replace(job, local=cipher))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        result = decrypt_file(keys, cipher, target, policy.verify_from)
    except BaseException:
        cipher.unlink(missing_ok=True)
        raise
    if policy.keep_encrypted:
        shutil.move(str(cipher), str(target.parent / Path(job.remote).name))
    else:
        cipher.unlink(missing_ok=True)
    details = {
        "decrypted": True,
        "verified_signer": result.signer,
        "received_sha256": snap.sha256,
        "plaintext_sha256": sha256_file(target),
        "plaintext_bytes": target.stat().st_size,
    }
    return snap, details


def purge_spool(spool: Path, item_id: int) -> None:
    """Remove the spool files of a transfer that has ended."""
    for prefix in PREFIXES:
        _remove_spool(spool, f"{prefix}{item_id}-")


def _remove_spool(spool: Path, prefix: str) -> None:
    if not spool.exists():
        return
    for path in spool.iterdir():
        name = path.name.lstrip(".")
        if name.startswith(prefix):
            path.unlink(missing_ok=True)
