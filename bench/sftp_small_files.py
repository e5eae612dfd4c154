"""Many small files over SFTP, on loopback and at 40 ms round trip: ``transferapp send DIR`` vs OpenSSH ``put -r``.

Through the delay proxy OpenSSH manages only a few files per second, so there it is timed on a subset and
its rate (after taking off the time a bare ``sftp`` login takes) is scaled to the full count.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from pathlib import Path

from bench.common import (
    KIB,
    BenchEnv,
    RunResult,
    add_repeat_arg,
    clean_dir,
    compare,
    copy_subset,
    report,
    verify_tree,
    write_small_files,
)

GOAL_LOOPBACK = 1.5  # issue 2
GOAL_DELAY = 30.0  # issue 2: OpenSSH sends one file at a time (about 8 files/s at 40 ms)


def ours_side(
    env: BenchEnv, remote: Path, source: Path, files: list[Path], **app: int | None
) -> Callable[[], RunResult]:
    """A fresh transferapp home (``app`` options) that sends folder ``source`` to ``remote`` and checks it."""

    def run() -> RunResult:
        result = env.app(remote, **app).send(source)
        verify_tree(source.parent, remote, files)
        return result

    return run


def ref_side(env: BenchEnv, remote: Path, source: Path, files: list[Path], port: int | None) -> Callable[[], RunResult]:
    """OpenSSH ``sftp put -r`` of folder ``source`` to ``remote`` (via ``port``), then the same check."""

    def run() -> RunResult:
        result = env.sftp([f"put -r {source} {remote / source.name}"], port=port)
        verify_tree(source.parent, remote, files)
        return result

    return run


def bench_loopback(env: BenchEnv, args: argparse.Namespace, source: Path, files: list[Path]) -> None:
    """Both tools send every file straight to sshd on loopback."""
    remote = env.remote_dir("small-loopback")
    ours = ours_side(env, remote, source, files, concurrency=args.concurrency)
    runs = compare(args.repeat, ours, ref_side(env, remote, source, files, None), before=lambda: clean_dir(remote))
    count = len(files)
    report(
        f"{count} x {args.kib} KiB files, loopback",
        runs.ours_s,
        runs.ref_s,
        GOAL_LOOPBACK,
        note=(
            f"files/s: transferapp {count / runs.ours_s:.1f}, OpenSSH {count / runs.ref_s:.1f}; "
            f"transferapp concurrency {args.concurrency or 'app default'}; {runs.summary()}"
        ),
        extra={"files": count, "file_bytes": args.kib * KIB, "concurrency": args.concurrency, **runs.timings()},
    )


def bench_delay(env: BenchEnv, args: argparse.Namespace, source: Path, files: list[Path]) -> None:
    """Both tools through the delay proxy; OpenSSH on a subset, its per-file rate scaled to all files."""
    remote = env.remote_dir("small-delay")
    subset = copy_subset(files[: args.ref_subset], source.parent, env.scratch / "subset")
    subset_source = env.scratch / "subset" / source.name
    count, rtt = len(files), 2 * args.delay_ms
    with env.proxy(args.delay_ms) as proxy:
        login_s = statistics.median(env.sftp(["pwd"], port=proxy.port).seconds for _ in range(3))
        ours = ours_side(env, remote, source, files, port=proxy.port, concurrency=args.delay_concurrency)
        ref = ref_side(env, remote, subset_source, subset, proxy.port)
        runs = compare(args.repeat, ours, ref, before=lambda: clean_dir(remote))
    ref_rate = len(subset) / max(1e-6, runs.ref_s - login_s)
    ref_full_s = login_s + count / ref_rate
    report(
        f"{count} x {args.kib} KiB files, {rtt:g} ms RTT",
        runs.ours_s,
        ref_full_s,
        GOAL_DELAY,
        note=(
            f"files/s: transferapp {count / runs.ours_s:.1f} (concurrency {args.delay_concurrency}), "
            f"OpenSSH {ref_rate:.1f}; OpenSSH timed on {len(subset)} files ({runs.ref_s:.2f} s, of which "
            f"{login_s:.2f} s bare login) and scaled to {count}; {runs.summary()}"
        ),
        extra={
            "files": count,
            "file_bytes": args.kib * KIB,
            "rtt_ms": rtt,
            "concurrency": args.delay_concurrency,
            "openssh_subset_files": len(subset),
            "openssh_login_s": round(login_s, 4),
            "openssh_files_per_s": round(ref_rate, 3),
            "openssh_scaled": True,
            **runs.timings(),
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Run the loopback and the delayed small-files comparisons."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="number of files (default 2000)")
    parser.add_argument("--kib", type=int, default=10, help="size of each file in KiB (default 10)")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="one-way delay of the proxy (default 20)")
    parser.add_argument("--ref-subset", type=int, default=200, help="files OpenSSH sends through the proxy")
    parser.add_argument("--concurrency", type=int, help="transferapp sessions on loopback (default: the app's)")
    parser.add_argument("--delay-concurrency", type=int, default=16, help="transferapp sessions through the proxy")
    parser.add_argument("--only", choices=("loopback", "delay"), help="run just one of the two cases")
    add_repeat_arg(parser, 1)
    args = parser.parse_args(argv)
    with BenchEnv() as env:
        source = env.scratch / "src" / "files"
        files = write_small_files(source, args.files, args.kib * KIB)
        if args.only in (None, "loopback"):
            bench_loopback(env, args, source, files)
        if args.only in (None, "delay"):
            bench_delay(env, args, source, files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
