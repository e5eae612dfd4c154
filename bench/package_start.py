"""Packaged app: time to ``--self-test`` done from the PyInstaller bundle vs from the venv, plus bundle/.deb sizes.

Both run in the same session, interleaved, ``--repeat`` times each (median reported), offscreen, with an empty
HOME and app home. Ratio = venv time / bundle time (> 1: the bundle starts faster). Build first: ``make package``
(or pass ``--build``; ``bench.run_all`` does).
    python -m bench.package_start [--build] [--bundle DIR] [--deb FILE] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Reference, report

VENV = Reference("the same app from the venv", "venv", "venv", "python -m transferapp")
REPO = Path(__file__).resolve().parent.parent
DIST = REPO / "packaging" / "dist"
sys.path.insert(0, str(REPO / "packaging"))
from build import build, tree_size  # noqa: E402 - packaging/build.py, what make package runs


def timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds from start to exit of a passing ``--self-test``."""
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} --self-test failed:\n{result.stdout}{result.stderr}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Alternate bundle and venv runs; print medians, the ratio and the sizes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=DIST / "transferapp")
    parser.add_argument("--deb", type=Path, default=None, help="default: the newest packaging/dist/*.deb")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--build", action="store_true", help="build the bundle and .deb first (as make package)")
    args = parser.parse_args(argv)
    exe = args.bundle / "transferapp"
    if args.build:
        built = build(DIST, REPO / "packaging" / "build")
        exe, args.bundle = built.bundle / "transferapp", built.bundle
    if not exe.exists():
        raise SystemExit(f"no bundle at {args.bundle}: run 'make package' first (or pass --build)")
    debs = sorted(DIST.glob("transferapp_*.deb"), key=lambda p: p.stat().st_mtime)
    deb = args.deb or (debs[-1] if debs else None)
    with tempfile.TemporaryDirectory(prefix="transferapp-bench-") as folder:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(QT_QPA_PLATFORM="offscreen", HOME=folder, TRANSFERAPP_HOME=str(Path(folder) / "ta"))
        bundle_runs, venv_runs = [], []
        timed([str(exe), "--self-test"], env)  # one untimed run each: the page cache is warm for both
        timed([sys.executable, "-m", "transferapp", "--self-test"], env)
        for _ in range(args.repeat):
            bundle_runs.append(timed([str(exe), "--self-test"], env))
            venv_runs.append(timed([sys.executable, "-m", "transferapp", "--self-test"], env))
    bundle_s, venv_s = statistics.median(bundle_runs), statistics.median(venv_runs)
    size = tree_size(args.bundle)
    deb_size = deb.stat().st_size if deb is not None else None
    sizes = f"bundle {size / 1e6:.1f} MB unpacked (goal <= 150 MB)"
    if deb_size is not None:
        sizes += f", .deb {deb_size / 1e6:.1f} MB (goal <= 60 MB)"
    print(sizes)
    report(
        "bundle start to --self-test done",
        bundle_s,
        venv_s,
        None,
        f"median of {args.repeat}; {sizes}",
        {"bundle_bytes": size, "deb_bytes": deb_size},
        reference=VENV,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
