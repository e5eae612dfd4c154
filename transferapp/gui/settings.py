"""The desktop app's own preferences (window geometry, last page, tray), in the installation's config folder."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from transferapp.paths import AppPaths


def gui_settings(paths: AppPaths) -> QSettings:
    """An INI file next to config.toml, so every installation (and every test home) has its own."""
    return QSettings(str(paths.config_dir / "gui.ini"), QSettings.Format.IniFormat)
