"""Entry point: ``python -m transferapp`` and the ``transferapp`` console script."""

from __future__ import annotations

import sys

from transferapp.cli import main as cli_main
from transferapp.memory import tune_malloc


def main() -> None:
    """Run the command line and exit with its status."""
    tune_malloc()  # before any worker thread exists
    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
