"""Run every benchmark in sequence (``python -m bench.run_all [--quick]``); results go to bench/out/results.jsonl."""

from __future__ import annotations

import argparse
import time
import traceback
from collections.abc import Callable

from bench import (
    gui_launch,
    gui_log,
    jobs_agent,
    package_start,
    pci_scan,
    pgp_encrypt,
    sftp_delay_large,
    sftp_large_upload,
    sftp_small_files,
    webdav_transfers,
)
from bench.common import RESULTS_FILE

#: name -> (entry point, arguments for a full run, arguments for a --quick smoke run)
BENCHMARKS: dict[str, tuple[Callable[[list[str] | None], int], list[str], list[str]]] = {
    "sftp_large_upload": (sftp_large_upload.main, [], ["--mib", "64", "--repeat", "1"]),
    "sftp_small_files": (sftp_small_files.main, [], ["--files", "200", "--ref-subset", "50"]),
    "sftp_delay_large": (sftp_delay_large.main, [], ["--mib", "16", "--repeat", "1"]),
    "webdav_transfers": (webdav_transfers.main, [], ["--quick"]),
    "webdav_distant": (webdav_transfers.main, ["--delay-ms", "20", "--repeat", "2"], ["--delay-ms", "20", "--quick"]),
    "pgp_encrypt": (pgp_encrypt.main, [], ["--size-mb", "32", "--repeat", "1"]),
    "pci_scan": (pci_scan.main, [], ["--size-mb", "64"]),
    "jobs_agent": (jobs_agent.main, [], ["--files", "200", "--existing", "2000"]),
    "gui_launch": (gui_launch.main, [], ["--repeat", "2", "--idle", "2"]),
    "gui_log": (gui_log.main, [], ["--rows", "100000", "--repeat", "1"]),
    "package_start": (package_start.main, ["--build"], ["--build", "--repeat", "1"]),
}


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks; a failing one is reported and the others still run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes and one run each (a smoke test)")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run just these (repeatable)")
    args = parser.parse_args(argv)
    failed = []
    for name in args.only or BENCHMARKS:
        entry, full, quick = BENCHMARKS[name]
        bench_args = quick if args.quick else full
        print(f"== {name} {' '.join(bench_args)}".rstrip(), flush=True)
        start = time.monotonic()
        try:
            entry(bench_args)
        except Exception:
            failed.append(name)
            traceback.print_exc()
        print(f"   ({time.monotonic() - start:.0f} s)", flush=True)
    print(f"Results appended to {RESULTS_FILE}.")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
