"""The main window: pages, shortcuts, remembered geometry and page, single instance, pause, tray."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from support.selftest_output import project_version

from transferapp.gui.app import DesktopApp
from transferapp.gui.main_window import PAGE_KEYS
from transferapp.gui.single_instance import ask_running_instance


def test_every_page_is_reachable_by_list_and_shortcut(desktop: DesktopApp, qtbot) -> None:
    window = desktop.window
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    assert window.ui.navList.count() == len(PAGE_KEYS)
    for number, key in enumerate(PAGE_KEYS, start=1):
        qtbot.keyClick(window.ui.navList, getattr(Qt.Key, f"Key_{number}"), Qt.KeyboardModifier.ControlModifier)
        assert window.current_page() == key
        assert window.ui.pageStack.currentWidget().accessibleName()


def test_geometry_and_last_page_are_remembered(gui_ctx, qtbot) -> None:
    first = DesktopApp(gui_ctx, start_agent=False)
    first.window.show()
    first.window.setGeometry(QRect(40, 50, 700, 500))  # Qt keeps the width at the pages' minimum
    chosen = first.window.size()
    assert chosen.height() == 500  # not the form's default 700: the check below can fail
    first.window.show_page("log")
    first.quit()
    second = DesktopApp(gui_ctx, start_agent=False)
    try:
        assert second.window.current_page() == "log"
        assert second.window.size() == chosen
    finally:
        second.quit()


def test_a_second_launch_raises_the_first(desktop: DesktopApp, qtbot, gui_ctx) -> None:
    with qtbot.waitSignal(desktop.server.raise_requested, timeout=3000):
        assert ask_running_instance(gui_ctx.paths)
    desktop.server.close()
    assert not ask_running_instance(gui_ctx.paths, timeout_ms=200)


def test_pause_stops_the_agent_and_resume_starts_it(desktop: DesktopApp, qtbot) -> None:
    assert desktop.backend.start() == "running"
    desktop.window.ui.actionPauseAll.trigger()
    assert desktop.backend.state == "paused"
    assert desktop.tray.state() == "paused"
    assert desktop.tray.pause_action.isChecked()
    desktop.window.ui.actionPauseAll.trigger()
    assert desktop.backend.state == "running"


def test_closing_without_tray_quits_and_with_tray_hides(desktop: DesktopApp, qtbot) -> None:
    desktop.window.tray_available = True
    desktop.window.ui.actionKeepInTray.setChecked(True)
    desktop.window.show()
    desktop.window.close()
    assert not desktop.window.isVisible() and not desktop.window.quitting
    desktop.show_window()
    desktop.window.ui.actionKeepInTray.setChecked(False)
    desktop.window.close()
    assert desktop.window.quitting and desktop.backend.state == "stopped"


def test_with_deferred_pages_the_window_paints_first_then_builds_its_pages(gui_ctx, qtbot) -> None:
    app = DesktopApp(gui_ctx, start_agent=False, defer_pages=True)
    try:
        assert app.window._pages == {}  # nothing built before the window is on screen
        with qtbot.waitSignal(app.started, timeout=5000):
            app.show_window()
        assert {"transfers", "connections"} <= set(app.window._pages)
        assert app.window.current_page() == "connections"
        assert not app.window.ui.actionQuit.shortcut().isEmpty()
    finally:
        app.quit()


def test_about_shows_the_pyproject_version_and_the_data_folder(desktop: DesktopApp) -> None:
    text = desktop.window.about_text()
    assert f"<h3>transferapp {project_version()}</h3>" in text
    assert str(desktop.window.backend.ctx.paths.data_dir) in text
