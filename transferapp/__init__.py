"""transferapp: a transfer-server manager for merchants (SFTP, WebDAV) with a verifiable transfer log."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("transferapp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

APP_NAME = "transferapp"
