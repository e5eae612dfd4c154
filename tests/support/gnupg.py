"""A throw-away GnuPG home for interoperability tests: make keys with gpg, export them, encrypt and decrypt."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

GPG = shutil.which("gpg")


def gpg_available() -> bool:
    """Whether GnuPG is installed."""
    return GPG is not None


@dataclass
class GpgResult:
    """One gpg run: exit code, status lines (--status-fd) and stderr."""

    code: int
    status: list[str]
    stderr: str

    def has(self, keyword: str) -> list[list[str]]:
        """The status lines '[GNUPG:] KEYWORD ...' split into fields."""
        return [line.split()[2:] for line in self.status if line.split()[1:2] == [keyword]]


class GnupgHome:
    """A private GNUPGHOME in a short temp path (its agent socket must fit); stop() kills its agent."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="ta-test-gpg-"))
        self.path.chmod(0o700)

    @property
    def env(self) -> dict[str, str]:
        """Environment for gpg with this home."""
        import os

        return {**os.environ, "GNUPGHOME": str(self.path)}

    def run(self, *args: str, stdin: bytes = b"", passphrase: str = "") -> GpgResult:
        """Run gpg in batch mode with loopback pinentry and a status pipe on stdout."""
        assert GPG is not None
        command = [GPG, "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", passphrase,
                   "--status-fd", "1", *args]  # fmt: skip
        proc = subprocess.run(command, env=self.env, input=stdin, capture_output=True, timeout=120, check=False)
        status = [line for line in proc.stdout.decode(errors="replace").splitlines() if line.startswith("[GNUPG:]")]
        return GpgResult(proc.returncode, status, proc.stderr.decode(errors="replace"))

    def make_key(
        self,
        user_id: str,
        kind: str = "cv25519",
        passphrase: str = "",
        expire: str = "never",
        encrypt: bool = True,
        faked_time: str | None = None,
    ) -> str:
        """Make a key (kind 'rsa3072' or 'cv25519'), with an encryption subkey unless ``encrypt`` is False."""
        primary, sub = ("rsa3072", "rsa3072") if kind == "rsa3072" else ("ed25519", "cv25519")
        fake = ["--faked-system-time", faked_time] if faked_time else []
        made = self.run(*fake, "--quick-gen-key", user_id, primary, "cert,sign", expire, passphrase=passphrase)
        assert made.code == 0, made.stderr
        fingerprint = made.has("KEY_CREATED")[0][1]
        if encrypt:
            added = self.run(*fake, "--quick-add-key", fingerprint, sub, "encr", expire, passphrase=passphrase)
            assert added.code == 0, added.stderr
        return fingerprint

    def revoke(self, fingerprint: str) -> None:
        """Apply the revocation certificate gpg made with the key."""
        text = (self.path / "openpgp-revocs.d" / f"{fingerprint}.rev").read_text()
        cert = "\n".join(line[1:] if line.startswith(":-----") else line for line in text.splitlines())
        assert self.run("--import", stdin=cert.encode()).code == 0

    def export(self, fingerprint: str, target: Path, armor: bool = True) -> Path:
        """Write the public key to ``target``."""
        result = self.run(*(["--armor"] if armor else []), "--output", str(target), "--export", fingerprint)
        assert result.code == 0, result.stderr
        return target

    def export_secret(self, fingerprint: str, target: Path, passphrase: str = "") -> Path:
        """Write the secret key (still passphrase-protected) to ``target``."""
        result = self.run(
            "--armor", "--output", str(target), "--export-secret-keys", fingerprint, passphrase=passphrase
        )
        assert result.code == 0, result.stderr
        return target

    def import_key(self, path: Path) -> None:
        """Import a key file."""
        result = self.run("--import", str(path))
        assert result.code == 0, result.stderr

    def decrypt(self, source: Path, target: Path, passphrase: str = "") -> GpgResult:
        """gpg --decrypt (verifying any signature) into ``target``."""
        return self.run("--trust-model", "always", "--output", str(target), "--decrypt", str(source),
                        passphrase=passphrase)  # fmt: skip

    def encrypt(self, source: Path, target: Path, recipients: list[str], *extra: str, passphrase: str = "") -> None:
        """gpg --encrypt with the given extra options (e.g. --sign -u FP, --compress-algo none)."""
        to = [arg for fp in recipients for arg in ("--recipient", fp)]
        result = self.run("--trust-model", "always", *to, *extra, "--output", str(target), "--encrypt", str(source),
                          passphrase=passphrase)  # fmt: skip
        assert result.code == 0, result.stderr

    def stop(self) -> None:
        """Kill this home's gpg-agent and remove the folder."""
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=self.env, capture_output=True, check=False)
        shutil.rmtree(self.path, ignore_errors=True)
