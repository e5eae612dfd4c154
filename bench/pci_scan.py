"""PCI guard: ``scan_file`` over 1 GiB of merchant exports vs ``grep -c -E`` in the same run, plus our peak RSS.

The file is the output of the shared sample maker (catalog XML, order XML with ``--leak 2`` unmasked test card
numbers, customer CSV) repeated until it reaches ``--size-mb`` MiB, in a temporary folder removed afterwards.
It is read once before the runs so both tools read from the page cache.

- transferapp: ``transferapp.pci.scan_file`` in a child Python process; the time is that of the call, timed inside
  the child (the child's whole wall time is recorded too). Peak RSS is the child's VmHWM (wait4's ru_maxrss
  would carry this process's own peak over exec). The count must be exactly 2 per copy of the samples.
- reference: ``LC_ALL=C grep -c -E '[0-9]([ -]?[0-9]){12,18}'``, the classic "13-19 digits" pattern, which
  counts matching lines (no Luhn, no issuer, no masking).

Goal: scan_file >= 200 MB/s (decimal MB). The ratio (grep time / scan_file time) only informs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import MIB, Reference, RunResult, add_repeat_arg, compare, report, run_cmd

GOAL_MB_S = 200.0
LEAKS = 2  # unmasked card numbers per copy of the sample exports
MAKE_SAMPLES = Path("/work/shared/samples/make_samples.py")
GREP_PATTERN = "[0-9]([ -]?[0-9]){12,18}"
GREP_REF = Reference("grep -c -E", "grep", "grep", "grep")

#: Defines hwm(): the process's own peak RSS in bytes (VmHWM).
PRINT_HWM = """
def hwm():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
"""
#: Runs scan_file on argv[1]; prints the call's wall and CPU seconds, peak RSS, count and scanned bytes.
SCAN_CHILD = (
    PRINT_HWM
    + """
import sys, time
from pathlib import Path
from transferapp.pci import scan_file
wall, cpu = time.perf_counter(), time.process_time()
result = scan_file(Path(sys.argv[1]))
print(time.perf_counter() - wall, time.process_time() - cpu, hwm(), result.count, result.scanned_bytes)
"""
)
#: The interpreter and the import alone, for the RSS baseline.
BASELINE_CHILD = PRINT_HWM + "import transferapp.pci\nprint(hwm())\n"


def build_corpus(folder: Path, size: int, make_samples: Path) -> tuple[Path, int]:
    """Write the sample exports into ``folder`` and repeat them into one file of at least ``size`` bytes.

    Returns the file and how many card numbers it holds (``LEAKS`` per copy, checked on one copy).
    """
    from transferapp.pci import find_cards

    samples = folder / "samples"
    cmd = [sys.executable, str(make_samples), str(samples), "--leak", str(LEAKS)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    block = b"".join(path.read_bytes() for path in sorted(samples.iterdir()))
    if len(find_cards(block)) != LEAKS:
        raise RuntimeError(f"the sample exports should hold {LEAKS} card numbers, found {len(find_cards(block))}")
    copies = max(1, -(-size // len(block)))
    corpus = folder / "merchant-exports.dat"
    with open(corpus, "wb") as handle:
        batch = block * 32
        for _ in range(copies // 32):
            handle.write(batch)
        handle.write(block * (copies % 32))
    return corpus, copies * LEAKS


def read_once(path: Path) -> None:
    """Read the file so it sits in the page cache for both tools."""
    buf = bytearray(8 * MIB)
    with open(path, "rb", buffering=0) as handle:
        while handle.readinto(buf):
            pass


def mb_per_s(size: int, seconds: float) -> float:
    """Throughput in decimal MB/s."""
    return size / 1e6 / seconds if seconds > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    """Scan a ``--size-mb`` MiB corpus with both tools ``--repeat`` times and report the medians."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024, help="corpus size in MiB (default 1024)")
    parser.add_argument("--make-samples", type=Path, default=MAKE_SAMPLES, help=f"default {MAKE_SAMPLES}")
    add_repeat_arg(parser, 3)
    args = parser.parse_args(argv)
    if shutil.which("grep") is None:
        raise RuntimeError("grep, the reference tool, is not installed")
    folder = Path(tempfile.mkdtemp(prefix="ta-bench-pci-"))
    try:
        corpus, expected = build_corpus(folder, args.size_mb * MIB, args.make_samples)
        size = corpus.stat().st_size
        read_once(corpus)
        process_s: list[float] = []
        grep_lines: list[int] = []

        def ours() -> RunResult:
            run = run_cmd([sys.executable, "-c", SCAN_CHILD, str(corpus)])
            call_s, call_cpu, hwm, count, scanned = run.stdout.split()
            if int(count) != expected or int(scanned) != size:
                raise RuntimeError(f"scan_file found {count} cards in {scanned} bytes, expected {expected} in {size}")
            process_s.append(run.seconds)
            return RunResult(float(call_s), float(call_cpu), int(hwm), run.stdout, run.stderr)

        def ref() -> RunResult:
            script = 'grep -c -E "$0" "$1"; test $? -le 1'  # exit 1 only means "no line matched"
            run = run_cmd(["sh", "-c", script, GREP_PATTERN, str(corpus)], env={**os.environ, "LC_ALL": "C"})
            grep_lines.append(int(run.stdout))
            return run

        runs = compare(args.repeat, ours, ref, before=lambda: None, reference=GREP_REF)
        baseline = int(run_cmd([sys.executable, "-c", BASELINE_CHILD]).stdout)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ours_mb, grep_mb = mb_per_s(size, runs.ours_s), mb_per_s(size, runs.ref_s)
    peak_rss = max(r.max_rss_bytes for r in runs.ours)
    meets = ours_mb >= GOAL_MB_S
    print(
        f"scan_file {ours_mb:.0f} MB/s (goal >= {GOAL_MB_S:.0f} MB/s) [{'ok' if meets else 'BELOW GOAL'}], "
        f"grep -E {grep_mb:.0f} MB/s, ratio {runs.ref_s / runs.ours_s:.2f} x grep; "
        f"scan peak RSS {peak_rss / MIB:.1f} MiB (interpreter + import alone {baseline / MIB:.1f} MiB)",
        flush=True,
    )
    report(
        f"{size / MIB:.0f} MiB PCI card-number scan of merchant exports",
        runs.ours_s,
        runs.ref_s,
        None,
        note=(
            f"scan_file {ours_mb:.0f} MB/s (goal >= {GOAL_MB_S:.0f} MB/s: {'ok' if meets else 'BELOW GOAL'}), "
            f"grep {grep_mb:.0f} MB/s; {runs.summary()}; child process median {statistics.median(process_s):.2f} s; "
            f"scan peak RSS {peak_rss / MIB:.1f} MiB (baseline {baseline / MIB:.1f} MiB); "
            f"{expected} cards found as planted; grep matched {grep_lines[0]} lines"
        ),
        extra={
            "size_bytes": size,
            "transferapp_mb_per_s": round(ours_mb, 1),
            "grep_mb_per_s": round(grep_mb, 1),
            "goal_mb_per_s": GOAL_MB_S,
            "meets_speed_goal": meets,
            "transferapp_peak_rss_bytes": peak_rss,
            "python_baseline_rss_bytes": baseline,
            "cards_found": expected,
            "grep_matching_lines": grep_lines[0],
            "transferapp_process_runs_s": [round(s, 4) for s in process_s],
            **runs.timings(),
        },
        reference=GREP_REF,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
