"""Build the packaged app here: the PyInstaller bundle and, on Debian-like Linux, the .deb.

    python packaging/build.py [--dist DIR] [--work DIR] [--no-deb]

``make package`` runs this; tests/packaging/test_bundle.py runs it with its own folders. Prints the bundle and
.deb paths with their sizes. Windows and macOS: see packaging/windows/BUILD.md and packaging/macos/build_dmg.sh.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "transferapp.spec"


@dataclass(frozen=True)
class Built:
    """What a build produced."""

    bundle: Path  # the onedir folder holding the transferapp executable
    deb: Path | None
    seconds: float


def tree_size(folder: Path) -> int:
    """Bytes in all files under ``folder`` (like du -sb, symlinks not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def build_bundle(dist: Path, work: Path) -> Path:
    """Run PyInstaller on the spec; return the bundle folder."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("PyInstaller is not installed: pip install -e '.[package]' (make package does)") from None
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level=WARN"]
    command += ["--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    subprocess.run(command, check=True, cwd=ROOT)
    bundle = dist / "transferapp"
    if not (bundle / "transferapp").exists() and not (bundle / "transferapp.exe").exists():
        raise SystemExit(f"PyInstaller finished but {bundle} has no transferapp executable")
    return bundle


def build_deb(bundle: Path, out: Path, work: Path) -> Path:
    """Render the hicolor PNGs and run linux/build_deb.sh; return the .deb."""
    icons = work / "icons"
    subprocess.run([sys.executable, str(HERE / "render_icons.py"), "hicolor", str(icons)], check=True)
    result = subprocess.run(
        ["bash", str(HERE / "linux" / "build_deb.sh"), str(bundle), str(out), str(icons)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(result.stdout.strip().splitlines()[-1])


def build(dist: Path, work: Path, deb: bool = True) -> Built:
    """Bundle, then the .deb when asked and dpkg-deb is there."""
    start = time.monotonic()
    bundle = build_bundle(dist, work)
    package = None
    if deb and sys.platform.startswith("linux"):
        if shutil.which("dpkg-deb") is None:
            print("dpkg-deb not found: the .deb was not built", file=sys.stderr)
        else:
            package = build_deb(bundle, dist, work)
    return Built(bundle, package, time.monotonic() - start)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", type=Path, default=HERE / "dist", help="output folder (default packaging/dist)")
    parser.add_argument("--work", type=Path, default=HERE / "build", help="PyInstaller work folder")
    parser.add_argument("--no-deb", action="store_true", help="build the bundle only")
    args = parser.parse_args(argv)
    built = build(args.dist.resolve(), args.work.resolve(), deb=not args.no_deb)
    print(f"bundle: {built.bundle} ({tree_size(built.bundle) / 1e6:.1f} MB unpacked)")
    if built.deb is not None:
        print(f"deb:    {built.deb} ({built.deb.stat().st_size / 1e6:.1f} MB)")
    print(f"built in {built.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
