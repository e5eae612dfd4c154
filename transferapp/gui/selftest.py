"""The Qt part of ``transferapp --self-test``: PySide6, the platform plugins, the resources and the main window load."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from transferapp.gui.main_window import PAGE_KEYS


def check_qt() -> str:
    """Start a QApplication (offscreen unless QT_QPA_PLATFORM says otherwise) and build the main window with every page.

    The window works on a fresh installation in a temporary folder, so the user's data is never touched.
    Returns a one-line description; raises when any part is missing.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import PySide6
    from PySide6.QtCore import QLibraryInfo, qVersion
    from PySide6.QtGui import QIcon, QImageReader
    from PySide6.QtWidgets import QApplication

    import transferapp.gui.forms.resources_rc  # noqa: F401 - registers the :/icons resources

    app = QApplication.instance() or QApplication(["transferapp"])
    assert isinstance(app, QApplication)
    icon = QIcon(":/icons/transferapp.svg")
    if icon.isNull() or icon.pixmap(32, 32).isNull():
        raise RuntimeError("the app icon :/icons/transferapp.svg does not render (resources or the SVG plugin missing)")
    if b"svg" not in [bytes(f.data()) for f in QImageReader.supportedImageFormats()]:
        raise RuntimeError("the Qt SVG image format plugin is missing")
    pages = _build_main_window()
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    available = sorted(p.name.split(".")[0].removeprefix("lib").removeprefix("q") for p in plugins.glob("*q*.*"))
    return (
        f"PySide6 {PySide6.__version__} (Qt {qVersion()}), platform {app.platformName()}, "
        f"main window with {pages} pages; platform plugins: {', '.join(available) or 'none found'}"
    )


def _build_main_window() -> int:
    """Build a MainWindow over a fresh installation in a temporary folder; return how many pages it built."""
    from transferapp.app import open_app
    from transferapp.gui.backend import Backend
    from transferapp.gui.main_window import MainWindow
    from transferapp.gui.settings import gui_settings
    from transferapp.paths import AppPaths

    with tempfile.TemporaryDirectory(prefix="transferapp-selftest-") as folder:
        root = Path(folder)
        paths = AppPaths(root / "config", root / "data", root / "spool", root / "logs")
        ctx = open_app(paths)
        try:
            backend = Backend(ctx)
            window = MainWindow(backend, gui_settings(paths), defer_pages=True)
            window.load_pages()
            for key in PAGE_KEYS:
                window.page(key)
            built = len(PAGE_KEYS)
            window.quitting = True
            window.close()
            window.deleteLater()
            backend.shutdown()
            backend.deleteLater()
        finally:
            ctx.db.close()
    return built
