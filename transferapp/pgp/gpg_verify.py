"""Decrypt and verify with GnuPG in a throw-away home: for gpg's default messages, which pysequoia cannot verify.

pysequoia 0.1.3x refuses signatures under a compression layer ("Unexpected message structure"), which is what
gpg writes by default. GnuPG itself reads them; it runs in a private temporary GNUPGHOME that holds only the
sender's public key and the own (passphrase-protected) secret key, and is removed with its agent afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from transferapp.errors import DecryptError

TIMEOUT = 3600.0


def gpg_path() -> str | None:
    """The gpg program, if installed."""
    return shutil.which("gpg") or shutil.which("gpg2")


def gpg_decrypt_verify(
    source: Path, target: Path, secret_key: bytes, passphrase: str | None, sender_key: bytes, sender: str
) -> None:
    """Decrypt ``source`` to ``target`` with gpg and require a good signature whose primary key is ``sender``."""
    gpg = gpg_path()
    assert gpg is not None
    home = Path(tempfile.mkdtemp(prefix="ta-gpg-"))
    env = {**os.environ, "GNUPGHOME": str(home)}
    base = [gpg, "--batch", "--no-tty", "--quiet", "--pinentry-mode", "loopback"]
    try:
        for key in (sender_key, secret_key):
            _run([*base, "--passphrase-fd", "0", "--import"], env, (passphrase or "").encode() + b"\n", key)
        code, status = _run(
            [*base, "--trust-model", "always", "--passphrase-fd", "0", "--status-fd", "2", "--yes",
             "--output", str(target), "--decrypt", str(source)],
            env,
            (passphrase or "").encode() + b"\n",
        )  # fmt: skip
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)
    lines = status.splitlines()
    if "[GNUPG:] DECRYPTION_OKAY" not in lines:
        target.unlink(missing_ok=True)
        detail = [line for line in lines if line and not line.startswith("[GNUPG:]")]
        raise DecryptError(
            f"GnuPG could not decrypt {source.name}: {detail[-1] if detail else 'exit ' + str(code)}",
            "nothing was written; ask the sender to send it again, or check which key they encrypted to",
        )
    good = [line.split() for line in lines if line.startswith("[GNUPG:] VALIDSIG")]
    bad = [line for line in lines if line.split()[1:2] in (["BADSIG"], ["ERRSIG"], ["EXPKEYSIG"], ["REVKEYSIG"])]
    if bad or not any(fields[-1].upper() == sender for fields in good):
        target.unlink(missing_ok=True)
        raise DecryptError(
            f"{source.name} does not carry a valid signature from {sender}",
            "nothing was written; check with the sender which key signs their files",
        )


def _run(command: list[str], env: dict[str, str], stdin: bytes, payload: bytes | None = None) -> tuple[int, str]:
    """Run gpg; with ``payload``, it is written to a temp file given as the last argument. Returns exit and stderr."""
    temp = None
    if payload is not None:
        handle = tempfile.NamedTemporaryFile(dir=env["GNUPGHOME"], delete=False)  # noqa: SIM115
        handle.write(payload)
        handle.close()
        temp = handle.name
        command = [*command, temp]
    result = subprocess.run(command, env=env, input=stdin, capture_output=True, timeout=TIMEOUT, check=False)
    if result.returncode != 0 and payload is not None:
        raise DecryptError("GnuPG could not import a key for verification", "check the key with 'key show'")
    return result.returncode, result.stderr.decode(errors="replace")
