"""Desktop app: time from launch to a shown main window vs a bare PySide6 window, and idle RSS, in one run.

Each run starts a fresh Python process (``bench/gui_probe.py``), so imports are counted. The app opens an
installation with demo data (scripts/demo_data.py) and its in-process agent running, as a user would see it.
Goal: launch <= 2 x the bare window's time (ratio >= 0.5). Runs under QT_QPA_PLATFORM=offscreen.
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

from bench.common import REPO, KeyringSession, Reference, keyring_tools_available, report

BARE = Reference("bare PySide6 window", "bare PySide6", "bare_pyside6", "one Python process")
PROBE = REPO / "bench" / "gui_probe.py"


def launch(mode: str, env: dict[str, str], idle: float) -> tuple[float, float, int]:
    """Seconds from process start to shown window and to its page filled in, and RSS after idling."""
    started = time.time()
    proc = subprocess.run(
        [sys.executable, str(PROBE), mode, str(idle)], env=env, capture_output=True, text=True, timeout=120
    )
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    if proc.returncode != 0 or "shown" not in lines:
        raise SystemExit(f"{mode} probe failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return float(lines["shown"]) - started, float(lines["loaded"]) - started, int(lines.get("rss", "0"))


def main(argv: list[str] | None = None) -> int:
    """Alternate bare and app launches, report medians and idle RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds to idle before reading RSS")
    args = parser.parse_args(argv)
    if not keyring_tools_available():
        raise SystemExit("gnome-keyring and dbus are needed ('make test' installs them)")
    sys.path.insert(0, str(REPO / "scripts"))
    from demo_data import write_demo

    from transferapp.app import open_app

    keyring = KeyringSession()
    keyring.start()
    try:
        with tempfile.TemporaryDirectory(prefix="transferapp-gui-bench-") as home:
            env = {**os.environ, **keyring.env, "TRANSFERAPP_HOME": home, "QT_QPA_PLATFORM": "offscreen",
                   "PYTHONPATH": str(REPO)}  # fmt: skip
            os.environ["TRANSFERAPP_HOME"] = home
            write_demo(open_app(), Path(home))
            bare, ours, loaded, bare_rss, our_rss = [], [], [], [], []
            launch("app", env, 0.1)  # warm the OS file cache for both
            for _ in range(args.repeat):
                seconds, _, rss = launch("bare", env, args.idle)
                bare.append(seconds)
                bare_rss.append(rss)
                seconds, filled, rss = launch("app", env, args.idle)
                ours.append(seconds)
                loaded.append(filled)
                our_rss.append(rss)
    finally:
        keyring.stop()
    mib = 1 << 20
    note = (
        f"median of {args.repeat}; page filled in and agent started {statistics.median(loaded):.2f} s after launch; "
        f"idle RSS after {args.idle:.0f} s: app {statistics.median(our_rss) / mib:.0f} MiB, "
        f"bare window {statistics.median(bare_rss) / mib:.0f} MiB"
    )
    report("GUI launch to shown window", statistics.median(ours), statistics.median(bare), 0.5, note,
           {"app_rss_bytes": statistics.median(our_rss), "bare_rss_bytes": statistics.median(bare_rss),
            "app_page_loaded_s": round(statistics.median(loaded), 4)},
           reference=BARE)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
