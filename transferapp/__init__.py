"""transferapp: a transfer-server manager for merchants (SFTP, WebDAV) with a verifiable transfer log."""

from __future__ import annotations

APP_NAME = "transferapp"


def __getattr__(name: str) -> str:
    """``__version__`` from the installed package metadata (pyproject.toml), read on first use only."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("transferapp")
    except PackageNotFoundError:  # running from a source tree that was not installed
        value = "0.0.0+source"
    globals()["__version__"] = value
    return value
