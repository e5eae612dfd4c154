"""Encrypt a file for recipients (optionally signed), decrypt one, verify its signer; files in, files out, streamed."""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysequoia

from transferapp.errors import DecryptError, LocalFileError, TransferError
from transferapp.pgp.gpg_verify import gpg_decrypt_verify, gpg_path
from transferapp.pgp.keyinfo import pretty_fingerprint
from transferapp.pgp.keystore import KeyStore, first_line

UNSUPPORTED_STRUCTURE = "Unexpected message structure"


class SigningKeyError(TransferError):
    """The own signing or decryption key cannot be opened (missing, or wrong passphrase in the keyring)."""


@dataclass(frozen=True)
class Decrypted:
    """What decrypting produced: who signed it, when verification was asked for."""

    signer: str | None


def new_private_file(path: Path) -> None:
    """Create (or empty) ``path`` readable by the owner only, before anything sensitive is written to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def require_signer(keys: KeyStore) -> str:
    """The default own signing key's fingerprint, or SigningKeyError saying how to import one."""
    fingerprint = keys.default_signer()
    if not fingerprint:
        raise SigningKeyError(
            "Signing was asked for, but no own secret key is imported",
            "import one with 'transferapp key import-secret FILE --passphrase-stdin'",
        )
    return fingerprint


def signer_for(keys: KeyStore, fingerprint: str | None = None) -> tuple[str, pysequoia.PySigner]:
    """The own signing key (the default one unless named), unlocked with its passphrase from the keyring."""
    fingerprint = fingerprint or require_signer(keys)
    try:
        return fingerprint, keys.tsk(fingerprint).signer(keys.passphrase(fingerprint))
    except RuntimeError as exc:
        raise SigningKeyError(
            f"Cannot unlock the signing key {pretty_fingerprint(fingerprint)}: {_passphrase_reason(exc)}",
            f"store the right passphrase with 'transferapp key passwd {fingerprint} --passphrase-stdin'",
        ) from None


def encrypt_file(
    source: Path,
    target: Path,
    recipients: Sequence[pysequoia.Cert],
    signer: pysequoia.PySigner | None = None,
    compress: bool = False,
) -> None:
    """Write ``source`` encrypted (binary OpenPGP, SEIPDv1) to ``target`` (0600); optionally gzip first."""
    new_private_file(target)
    plain = source
    if compress:
        plain = target.with_name(target.name + ".gz.tmp")
        _gzip(source, plain)
    try:
        pysequoia.encrypt_file(str(plain), str(target), recipients=list(recipients), signer=signer, armor=False)
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise LocalFileError(f"Cannot encrypt {source}: {exc.strerror or exc}") from None
    except RuntimeError as exc:
        target.unlink(missing_ok=True)
        raise LocalFileError(f"Cannot encrypt {source}: {first_line(exc)}") from None
    finally:
        if plain != source:
            plain.unlink(missing_ok=True)


def decrypt_file(keys: KeyStore, source: Path, target: Path, verify_from: str | None = None) -> Decrypted:
    """Decrypt ``source`` into ``target`` through a temp file; with ``verify_from``, require that key's signature.

    Nothing is left at ``target`` when decryption or verification fails.
    """
    temp = target.with_name(f".{target.name}.decrypting")
    new_private_file(temp)
    try:
        result = _decrypt(keys, source, temp, verify_from)
        os.replace(temp, target)
        return result
    finally:
        temp.unlink(missing_ok=True)


def _decrypt(keys: KeyStore, source: Path, temp: Path, verify_from: str | None) -> Decrypted:
    owners = keys.own_fingerprints()
    if not owners:
        raise DecryptError(
            f"Cannot decrypt {source.name}: no own secret key is imported",
            "import the key the partner encrypts to with 'transferapp key import-secret FILE --passphrase-stdin'",
        )
    sender = keys.cert(verify_from) if verify_from else None
    reasons = []
    for fingerprint in owners:
        try:
            decryptor = keys.tsk(fingerprint).decryptor(keys.passphrase(fingerprint))
        except RuntimeError as exc:
            reasons.append(f"key {fingerprint[-16:]}: {_passphrase_reason(exc)}")
            continue
        try:
            if sender is None:
                pysequoia.decrypt_file(str(source), str(temp), decryptor=decryptor)
                return Decrypted(None)
            result = pysequoia.decrypt_file(str(source), str(temp), decryptor=decryptor, store=lambda _ids: [sender])
            if not any(str(s.certificate).upper() == verify_from for s in result.valid_sigs):
                raise DecryptError(f"{source.name} is not signed by {pretty_fingerprint(str(verify_from))}")
            return Decrypted(verify_from)
        except RuntimeError as exc:
            reason = first_line(exc)
            if sender is not None and UNSUPPORTED_STRUCTURE in reason:
                return _verify_with_gpg(keys, fingerprint, source, temp, str(verify_from))
            if "No suitable decryption subkey" in reason or "No key to decrypt" in reason:
                reasons.append(f"key {fingerprint[-16:]} is not a recipient")
                continue
            raise _decrypt_error(source, reason, verify_from) from None
    raise DecryptError(
        f"Cannot decrypt {source.name}: {'; '.join(reasons)}",
        "the file was encrypted to a key transferapp does not hold; ask the sender which key they used",
    )


def _verify_with_gpg(keys: KeyStore, fingerprint: str, source: Path, temp: Path, verify_from: str) -> Decrypted:
    """gpg's default messages (signature inside compression) are verified by GnuPG itself, when installed."""
    if gpg_path() is None:
        raise DecryptError(
            f"{source.name} is signed inside a compressed layer (GnuPG's default), which only GnuPG can verify here",
            "install GnuPG (gpg) so transferapp can verify it, or ask the sender to sign with --compress-algo none",
        )
    secret, passphrase = bytes(keys.tsk(fingerprint)), keys.passphrase(fingerprint)
    gpg_decrypt_verify(source, temp, secret, passphrase, bytes(keys.cert(verify_from)), verify_from)
    return Decrypted(verify_from)


def _decrypt_error(source: Path, reason: str, verify_from: str | None) -> DecryptError:
    if "no valid signatures" in reason.lower() and verify_from:
        return DecryptError(
            f"{source.name} does not carry a valid signature from {pretty_fingerprint(verify_from)}",
            "nothing was written; check with the sender which key signs their files",
        )
    if "manipulated" in reason or "checksum" in reason.lower():
        return DecryptError(
            f"{source.name} is corrupted or was tampered with ({reason})",
            "nothing was written; ask the sender to send it again",
        )
    return DecryptError(f"Cannot decrypt {source.name}: {reason}", "nothing was written; is it an OpenPGP file?")


def _passphrase_reason(exc: RuntimeError) -> str:
    reason = first_line(exc)
    if "encrypted" in reason:
        return "it is protected by a passphrase and the keyring holds none"
    return "the passphrase stored in the keyring is wrong"


def _gzip(source: Path, target: Path) -> None:
    new_private_file(target)
    with open(source, "rb") as reader, gzip.open(target, "wb", compresslevel=6) as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
