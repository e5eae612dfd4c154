"""Fixtures for the WebDAV transport tests."""

from support.webdav_kit import dav, large_file, open_dav  # noqa: F401 - fixtures by name
