"""One large random file over SFTP on loopback: ``transferapp send`` vs OpenSSH ``sftp put``, plus our peak RSS."""

from __future__ import annotations

import argparse

from bench.common import (
    MIB,
    BenchEnv,
    RunResult,
    add_repeat_arg,
    clean_dir,
    compare,
    mib_per_s,
    report,
    verify_tree,
    write_random_file,
)

GOAL = 1.0


def main(argv: list[str] | None = None) -> int:
    """Upload a ``--mib`` MiB file with both tools ``--repeat`` times and report the median ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=512, help="file size in MiB (default 512)")
    add_repeat_arg(parser, 3)
    parser.add_argument("--streams", type=int, help="transferapp parallel streams (default: the app's default)")
    args = parser.parse_args(argv)
    size = args.mib * MIB
    with BenchEnv() as env:
        local = write_random_file(env.scratch / "src" / "large.bin", size)
        remote = env.remote_dir("large")

        def ours() -> RunResult:
            result = env.app(remote, streams=args.streams).send(local)
            verify_tree(local.parent, remote, [local], checksum=True)
            return result

        def ref() -> RunResult:
            result = env.sftp([f"put {local} {remote / local.name}"])
            verify_tree(local.parent, remote, [local], checksum=True)
            return result

        runs = compare(args.repeat, ours, ref, before=lambda: clean_dir(remote))
    peak_rss = max(r.max_rss_bytes for r in runs.ours)
    ref_rss = max(r.max_rss_bytes for r in runs.ref)
    streams = args.streams or "app default"
    report(
        f"{args.mib} MiB upload, loopback",
        runs.ours_s,
        runs.ref_s,
        GOAL,
        note=(
            f"transferapp {mib_per_s(size, runs.ours_s)}, OpenSSH {mib_per_s(size, runs.ref_s)}; "
            f"streams {streams}; {runs.summary()}; "
            f"transferapp peak RSS {peak_rss / MIB:.0f} MiB (sftp+ssh: {ref_rss / MIB:.0f} MiB)"
        ),
        extra={
            "size_bytes": size,
            "streams": args.streams,
            "transferapp_peak_rss_bytes": peak_rss,
            "openssh_peak_rss_bytes": ref_rss,
            **runs.timings(),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
