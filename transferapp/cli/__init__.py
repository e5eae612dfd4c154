"""The ``transferapp`` command line: argparse, one module per command group, one-line errors."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys

from transferapp.cli.output import error
from transferapp.errors import TransferAppError
from transferapp.paths import app_paths


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    from transferapp import __version__
    from transferapp.cli import connections, jobs, keys, logs, transfers  # here: the GUI imports cli.output alone

    parser = argparse.ArgumentParser(
        prog="transferapp",
        description="Send and fetch files over SFTP with a verifiable transfer log. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"transferapp {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="print debug messages on stderr")
    parser.add_argument(
        "--self-test", action="store_true", help="check that Qt, the keyring, OpenPGP, SFTP, WebDAV and SQLite load"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    connections.register(commands)
    transfers.register(commands)
    logs.register(commands)
    keys.register(commands)
    jobs.register(commands)
    gui = commands.add_parser("gui", help="open the desktop app")
    gui.set_defaults(handler=run_gui)
    return parser


def run_gui(_args: argparse.Namespace) -> int:
    """Open the desktop app when it is installed."""
    try:
        from transferapp.gui.app import run
    except ImportError:
        error("the desktop app is not part of this installation yet; use the commands listed by 'transferapp --help'")
        return 2
    return int(run())


def has_display() -> bool:
    """Whether a desktop session is there to show a window in (always on Windows and macOS)."""
    if sys.platform in ("win32", "darwin"):
        return True
    return any(os.environ.get(var) for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def setup_logging(verbose: bool) -> None:
    """Log to a rotating file in the log folder, and to stderr with --verbose."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("paramiko").setLevel(logging.DEBUG if verbose else logging.WARNING)
    try:
        folder = app_paths().ensure().log_dir
        handler = logging.handlers.RotatingFileHandler(
            folder / "transferapp.log", maxBytes=5 << 20, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    except OSError as exc:
        print(f"transferapp: warning: cannot write the log file: {exc}", file=sys.stderr)
    if verbose:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)


def main(argv: list[str]) -> int:
    """Run one command; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:  # before logging: it must not write to the user's folders
        from transferapp.selftest import main as self_test

        return self_test()
    if args.command is None:
        if not has_display():
            parser.print_help()
            print("\nNo display was found, so the desktop app was not opened; on a desktop, run 'transferapp gui'.")
            return 0
        setup_logging(args.verbose)
        return run_gui(args)
    setup_logging(args.verbose)
    try:
        return int(args.handler(args) or 0)
    except TransferAppError as exc:
        logging.getLogger("transferapp").info("command failed: %s", exc)
        error(str(exc))
        return 1
    except KeyboardInterrupt:
        error("interrupted; queued transfers resume with 'transferapp queue run'")
        return 130
