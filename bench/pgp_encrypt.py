"""OpenPGP encryption of one large random file: transferapp vs GnuPG in the same run, plus our peak RSS.

Two cases, each run interleaved with the reference (ratio = reference time / transferapp time, > 1: transferapp
faster):

- encrypt only: transferapp's ``encrypt_file`` (binary, unsigned, one Curve25519 recipient made by gpg), run in a
  child Python process so its peak RSS can be measured, vs ``gpg --compress-algo none --encrypt -r FP``. The
  transferapp time is that of the ``encrypt_file`` call, timed inside the child (the child's whole wall time,
  interpreter start and imports included, is recorded too). Goal: transferapp's time <= 1.1 x gpg's, i.e.
  ratio >= 1/1.1 = 0.91; peak RSS of the child <= 64 MiB. gpg decrypts transferapp's output once to check it.
- encrypt + upload to the test sshd: ``transferapp send FILE --to CONN --encrypt-to FP`` (a real CLI run in an
  isolated home) vs ``gpg --compress-algo none -e`` to a temp file, then OpenSSH ``sftp -b`` put of it (and the
  temp file removed, as transferapp removes its spool file). Goal: transferapp's time <= 1.0 x the pipeline's,
  i.e. ratio >= 1.0.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import (
    MIB,
    BenchEnv,
    Comparison,
    Reference,
    RunResult,
    add_repeat_arg,
    clean_dir,
    compare,
    format_seconds,
    mib_per_s,
    report,
    run_cmd,
    sha256_file,
    write_random_file,
)
from bench.common import TRANSFERAPP as TRANSFERAPP_CLI

if TYPE_CHECKING:  # tests/support is on sys.path once bench.common is imported; main() imports it at run time
    from support.gnupg import GnupgHome

GPG = shutil.which("gpg")

ENCRYPT_GOAL = 1 / 1.1  # transferapp's time <= 1.1 x gpg's
SEND_GOAL = 1.0  # transferapp's time <= 1.0 x gpg + sftp
RSS_GOAL = 64 * MIB
GPG_REF = Reference("GnuPG gpg", "gpg", "gpg", "gpg")
PIPELINE_REF = Reference("gpg + OpenSSH sftp", "gpg+sftp", "gpg_sftp", "gpg, then sftp+ssh")
RECIPIENT = "Bench Partner <bench@partner.example>"

#: Prints the process's own peak RSS in bytes: VmHWM of its memory map. (wait4's ru_maxrss is no good here: Linux
#: carries the parent's peak over exec, so every child run_cmd starts reports at least this benchmark's own RSS.)
PRINT_HWM = """
def hwm():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
"""
#: The child that runs encrypt_file: prints the call's wall and CPU seconds and its peak RSS (argv: cert, src, dst).
ENCRYPT_CHILD = (
    PRINT_HWM
    + """
import sys, time
from pathlib import Path
import pysequoia
from transferapp.pgp.crypt import encrypt_file
cert = pysequoia.Cert.from_file(sys.argv[1])
wall, cpu = time.perf_counter(), time.process_time()
encrypt_file(Path(sys.argv[2]), Path(sys.argv[3]), [cert])
print(time.perf_counter() - wall, time.process_time() - cpu, hwm())
"""
)
#: The same child without the encryption: the interpreter and imports alone, for the RSS baseline.
BASELINE_CHILD = (
    PRINT_HWM
    + """
import pysequoia
from transferapp.pgp.crypt import encrypt_file
print(hwm())
"""
)


def gpg_encrypt_cmd(fingerprint: str, source: Path, target: Path) -> list[str]:
    """The reference command: unsigned, uncompressed, binary, to one recipient."""
    assert GPG is not None
    return [GPG, "--batch", "--yes", "--trust-model", "always", "--compress-algo", "none",
            "--encrypt", "-r", fingerprint, "-o", str(target), str(source)]  # fmt: skip


def check_decrypts(gpg: GnupgHome, cipher: Path, plain: Path, scratch: Path, what: str) -> None:
    """gpg --decrypt ``cipher`` must give back ``plain`` exactly (sha256); the plaintext copy is removed again."""
    out = scratch / "check-decrypted.bin"
    try:
        result = gpg.decrypt(cipher, out)
        if result.code != 0:
            raise RuntimeError(f"gpg cannot decrypt {what}: {result.stderr[-2000:]}")
        if sha256_file(out) != sha256_file(plain):
            raise RuntimeError(f"gpg's decryption of {what} differs from the input")
    finally:
        out.unlink(missing_ok=True)


def encrypt_only(
    env: BenchEnv, gpg: GnupgHome, fingerprint: str, cert: Path, local: Path, size_mb: int, repeat: int
) -> None:
    """Case 1: ``encrypt_file`` in a child process vs ``gpg --encrypt``."""
    size = local.stat().st_size
    out_dir = env.scratch / "encrypted"
    out_dir.mkdir()
    ours_out, ref_out = out_dir / "transferapp.pgp", out_dir / "gpg.pgp"
    process_s: list[float] = []
    wait4_rss: list[int] = []

    def ours() -> RunResult:
        run = run_cmd([sys.executable, "-c", ENCRYPT_CHILD, str(cert), str(local), str(ours_out)])
        call_s, call_cpu, hwm = run.stdout.split()
        process_s.append(run.seconds)
        wait4_rss.append(run.max_rss_bytes)
        return RunResult(float(call_s), float(call_cpu), int(hwm), run.stdout, run.stderr)

    def ref() -> RunResult:
        return run_cmd(gpg_encrypt_cmd(fingerprint, local, ref_out), env=gpg.env)

    before_checked = [False]

    def before() -> None:
        if ours_out.exists() and not before_checked[0]:  # the first transferapp output, checked once
            check_decrypts(gpg, ours_out, local, env.scratch, "transferapp's encrypt_file output")
            before_checked[0] = True
        clean_dir(out_dir)

    runs = compare(repeat, ours, ref, before=before, reference=GPG_REF)
    if not before_checked[0]:
        raise RuntimeError("transferapp's output was never checked")
    clean_dir(out_dir)
    baseline = int(run_cmd([sys.executable, "-c", BASELINE_CHILD]).stdout)
    peak_rss = max(r.max_rss_bytes for r in runs.ours)
    gpg_rss = max(r.max_rss_bytes for r in runs.ref)
    rss_ok = peak_rss <= RSS_GOAL
    median_process = statistics.median(process_s)
    report(
        f"{size_mb} MiB OpenPGP encrypt (Curve25519, unsigned, uncompressed)",
        runs.ours_s,
        runs.ref_s,
        ENCRYPT_GOAL,
        note=(
            f"goal: transferapp time <= 1.1 x gpg's, i.e. ratio gpg/transferapp >= {ENCRYPT_GOAL:.2f}; "
            f"transferapp = the encrypt_file call ({mib_per_s(size, runs.ours_s)}; its whole child process incl. "
            f"Python start and imports: {format_seconds(median_process)}), gpg = the whole gpg process "
            f"({mib_per_s(size, runs.ref_s)}); {_cpu_summary(runs)}; transferapp peak RSS {peak_rss / MIB:.1f} MiB "
            f"(goal <= {RSS_GOAL // MIB} MiB) [{'ok' if rss_ok else 'ABOVE GOAL'}] of which {baseline / MIB:.1f} MiB "
            f"is the interpreter and imports alone (VmHWM); gpg peak RSS <= {gpg_rss / MIB:.1f} MiB (wait4, which "
            f"counts this benchmark's own RSS too); "
            f"gpg --decrypt of transferapp's output checked (sha256)"
        ),
        extra={
            "case": "encrypt",
            "size_bytes": size,
            "transferapp_peak_rss_bytes": peak_rss,
            "transferapp_baseline_rss_bytes": baseline,
            "transferapp_wait4_rss_bytes": wait4_rss,
            "rss_goal_bytes": RSS_GOAL,
            "rss_meets_goal": rss_ok,
            "gpg_peak_rss_bytes": gpg_rss,
            "transferapp_process_runs_s": [round(s, 4) for s in process_s],
            **runs.timings(),
        },
        reference=GPG_REF,
    )
    print(
        f"    transferapp encrypt_file peak RSS {peak_rss / MIB:.1f} MiB (goal <= {RSS_GOAL // MIB} MiB) "
        f"[{'ok' if rss_ok else 'ABOVE GOAL'}]",
        flush=True,
    )


def encrypt_and_upload(
    env: BenchEnv, gpg: GnupgHome, fingerprint: str, cert: Path, local: Path, size_mb: int, repeat: int
) -> None:
    """Case 2: ``transferapp send --encrypt-to`` vs gpg to a temp file, then ``sftp put``."""
    size = local.stat().st_size
    remote = env.remote_dir("pgp-encrypt")
    remote_file = remote / f"{local.name}.pgp"
    temp = env.scratch / "pipeline" / f"{local.name}.pgp"
    temp.parent.mkdir()
    checked = [False]

    def ours() -> RunResult:
        home = env.app(remote)  # a fresh home per run, as in sftp_large_upload (not timed)
        run_cmd([str(TRANSFERAPP_CLI), "key", "import", str(cert), "--yes"], env=home.env, timeout=60)
        result = run_cmd([*home.send_cmd(local), "--encrypt-to", fingerprint], env=home.env)
        if sorted(p.name for p in remote.iterdir()) != [remote_file.name]:
            raise RuntimeError(f"unexpected remote files after transferapp send: {sorted(remote.iterdir())}")
        leftovers = list((home.path / "spool").glob("*")) if (home.path / "spool").exists() else []
        if leftovers:
            raise RuntimeError(f"transferapp left spool files: {leftovers}")
        if not checked[0]:
            check_decrypts(gpg, remote_file, local, env.scratch, "the file transferapp uploaded")
            checked[0] = True
        return result

    def ref() -> RunResult:
        start = time.perf_counter()
        encrypted = run_cmd(gpg_encrypt_cmd(fingerprint, local, temp), env=gpg.env)
        sent = env.sftp([f"put {temp} {remote_file}"])
        cipher_size = temp.stat().st_size
        temp.unlink()
        seconds = time.perf_counter() - start
        if remote_file.stat().st_size != cipher_size:
            raise RuntimeError(f"sftp uploaded {remote_file.stat().st_size} of {cipher_size} bytes")
        return RunResult(
            seconds,
            encrypted.cpu_s + sent.cpu_s,
            max(encrypted.max_rss_bytes, sent.max_rss_bytes),
            encrypted.stdout + sent.stdout,
            encrypted.stderr + sent.stderr,
        )

    def before() -> None:
        clean_dir(remote)
        temp.unlink(missing_ok=True)

    runs = compare(repeat, ours, ref, before=before, reference=PIPELINE_REF)
    clean_dir(remote)
    peak_rss = max(r.max_rss_bytes for r in runs.ours)
    ref_rss = max(r.max_rss_bytes for r in runs.ref)
    report(
        f"{size_mb} MiB OpenPGP encrypt + SFTP upload, loopback",
        runs.ours_s,
        runs.ref_s,
        SEND_GOAL,
        note=(
            f"goal: transferapp time <= 1.0 x gpg+sftp's, i.e. ratio (gpg+sftp)/transferapp >= {SEND_GOAL:.1f}; "
            f"transferapp = 'send --encrypt-to' (encrypt to spool, upload, hashes, log), "
            f"reference = gpg -e to a temp file, sftp -b put, temp file removed; "
            f"plaintext rate: transferapp {mib_per_s(size, runs.ours_s)}, reference {mib_per_s(size, runs.ref_s)}; "
            f"{runs.summary()}; transferapp peak RSS {peak_rss / MIB:.0f} MiB "
            f"(largest reference process: {ref_rss / MIB:.0f} MiB); "
            f"gpg --decrypt of transferapp's upload checked (sha256)"
        ),
        extra={
            "case": "encrypt_upload",
            "size_bytes": size,
            "transferapp_peak_rss_bytes": peak_rss,
            "gpg_sftp_peak_rss_bytes": ref_rss,
            **runs.timings(),
        },
        reference=PIPELINE_REF,
    )


def _cpu_summary(runs: Comparison) -> str:
    """How many runs the medians cover and the median CPU time of each side."""
    ours = statistics.median(r.cpu_s for r in runs.ours)
    ref = statistics.median(r.cpu_s for r in runs.ref)
    return f"median of {len(runs.ours)}; CPU: encrypt_file call {ours:.2f} s, gpg {ref:.2f} s"


def main(argv: list[str] | None = None) -> int:
    """Encrypt (and encrypt + upload) a ``--size-mb`` MiB file with both tools ``--repeat`` times; report medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=256, help="file size in MiB (default 256)")
    add_repeat_arg(parser, 3)
    args = parser.parse_args(argv)
    from support.gnupg import GnupgHome

    if GPG is None:
        raise RuntimeError("GnuPG (gpg), the reference, is not installed")
    size = args.size_mb * MIB
    with BenchEnv() as env, contextlib.ExitStack() as stack:
        gpg = GnupgHome()
        stack.callback(gpg.stop)
        fingerprint = gpg.make_key(RECIPIENT, kind="cv25519")
        cert = gpg.export(fingerprint, env.scratch / "partner.pub.asc")
        local = write_random_file(env.scratch / "src" / "large.bin", size)
        encrypt_only(env, gpg, fingerprint, cert, local, args.size_mb, args.repeat)
        encrypt_and_upload(env, gpg, fingerprint, cert, local, args.size_mb, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
