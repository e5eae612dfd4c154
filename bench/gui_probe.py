"""Child process of bench/gui_launch.py: show a window, print when it is first painted, idle, print the RSS.

``python bench/gui_probe.py bare|app IDLE_SECONDS`` prints ``shown <epoch seconds>`` at the window's first
paint, ``loaded <epoch seconds>`` once its page is filled in and the agent started (app only; the bare
window has nothing to load), then ``rss <bytes>`` after idling. ``app`` starts as ``transferapp gui`` does.
"""

from __future__ import annotations

import sys
import time


def rss_bytes() -> int:
    """This process's resident set size (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def stamp(what: str) -> None:
    """Print ``what`` with the wall-clock time (the parent subtracts its launch time)."""
    print(f"{what} {time.time():.6f}", flush=True)


def main() -> int:
    """Show the bare window or the app, report, idle, report, quit."""
    mode, idle = sys.argv[1], float(sys.argv[2])
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QPaintEvent
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(["transferapp"])
    from transferapp.gui.gc_guard import MainThreadCollector

    collector = MainThreadCollector(app)  # noqa: F841 - as transferapp.gui.app.run does
    quit_app = app.quit

    def loaded() -> None:
        stamp("loaded")
        QTimer.singleShot(int(idle * 1000), finish)

    def finish() -> None:
        print(f"rss {rss_bytes()}", flush=True)
        quit_app()

    if mode == "bare":

        class Bare(QMainWindow):
            painted = False

            def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
                super().paintEvent(event)
                if not self.painted:
                    self.painted = True
                    stamp("shown")
                    QTimer.singleShot(0, loaded)

        window = Bare()
        window.resize(1100, 700)
        window.show()
    else:
        from transferapp.app import open_app
        from transferapp.gui.app import DesktopApp

        desktop = DesktopApp(open_app(), defer_pages=True)  # as run() starts it
        desktop.window.first_painted.connect(lambda: stamp("shown"))
        desktop.started.connect(loaded)
        quit_app = desktop.quit
        desktop.show_window()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
