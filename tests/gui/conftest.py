"""GUI test fixtures: Qt offscreen, a fresh installation home with the private keyring, the app's backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the QApplication

import pytest  # noqa: E402
from support.keyring_session import KeyringSession  # noqa: E402

from transferapp.app import AppContext, open_app  # noqa: E402
from transferapp.secrets import SecretStore  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def collect_in_gui_thread(qapp: object) -> Iterator[None]:
    """As in the app: Python's cyclic GC runs only in the GUI thread, never in an engine or pool thread."""
    from transferapp.gui.gc_guard import MainThreadCollector

    collector = MainThreadCollector()
    yield
    collector.stop()


@pytest.fixture
def gui_ctx(ta_home: Path, keyring_session: KeyringSession) -> AppContext:
    """An AppContext over a fresh home, with secrets in the private gnome-keyring."""
    return open_app(secrets=SecretStore())


@pytest.fixture
def backend(qtbot: object, gui_ctx: AppContext) -> Iterator[object]:
    """A Backend whose agent is not started (tests start it when they need transfers to run)."""
    from transferapp.gui.backend import Backend

    backend = Backend(gui_ctx)
    yield backend
    backend.shutdown()


@pytest.fixture
def desktop(qtbot: object, gui_ctx: AppContext) -> Iterator[object]:
    """The whole app (window, tray, backend) without its agent running; closed at the end."""
    from transferapp.gui.app import DesktopApp

    app = DesktopApp(gui_ctx, start_agent=False)
    qtbot.addWidget(app.window)  # type: ignore[attr-defined]
    yield app
    app.window.quitting = True
    app.backend.shutdown()
    app.server.close()
    app.tray.icon.hide()
