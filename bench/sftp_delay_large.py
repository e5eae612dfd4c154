"""One large random file through a 40 ms round-trip delay proxy: ``transferapp send`` vs OpenSSH ``sftp put``."""

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

GOAL = 1.5  # issue 2: a distant server, where requests in flight matter


def main(argv: list[str] | None = None) -> int:
    """Upload a ``--mib`` MiB file through the proxy with both tools and report the median ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=64, help="file size in MiB (default 64)")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="one-way delay of the proxy (default 20)")
    parser.add_argument("--streams", type=int, help="transferapp parallel streams (default: the app's default)")
    add_repeat_arg(parser, 2)
    args = parser.parse_args(argv)
    size, rtt = args.mib * MIB, 2 * args.delay_ms
    with BenchEnv() as env, env.proxy(args.delay_ms) as proxy:
        local = write_random_file(env.scratch / "src" / "delay-large.bin", size)
        remote = env.remote_dir("delay-large")

        def ours() -> RunResult:
            result = env.app(remote, port=proxy.port, streams=args.streams).send(local)
            verify_tree(local.parent, remote, [local], checksum=True)
            return result

        def ref() -> RunResult:
            result = env.sftp([f"put {local} {remote / local.name}"], port=proxy.port)
            verify_tree(local.parent, remote, [local], checksum=True)
            return result

        runs = compare(args.repeat, ours, ref, before=lambda: clean_dir(remote))
    report(
        f"{args.mib} MiB upload, {rtt:g} ms RTT",
        runs.ours_s,
        runs.ref_s,
        GOAL,
        note=(
            f"transferapp {mib_per_s(size, runs.ours_s)}, OpenSSH {mib_per_s(size, runs.ref_s)}; "
            f"streams {args.streams or 'app default'}; {runs.summary()}"
        ),
        extra={"size_bytes": size, "rtt_ms": rtt, "streams": args.streams, **runs.timings()},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
