"""Child process of bench/gui_launch.py: show a window, print when it is on screen, idle, print the RSS.

``python bench/gui_probe.py bare|app IDLE_SECONDS`` prints ``shown <epoch seconds>`` once the window has been
painted, then ``rss <bytes>`` after idling; ``app`` is the desktop app as ``transferapp gui`` starts it.
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


def main() -> int:
    """Show the bare window or the app, report, idle, report, quit."""
    mode, idle = sys.argv[1], float(sys.argv[2])
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(["transferapp"])
    from transferapp.gui.gc_guard import MainThreadCollector

    collector = MainThreadCollector(app)  # noqa: F841 - as transferapp.gui.app.run does
    if mode == "bare":
        window = QMainWindow()
        window.resize(1100, 700)
        window.show()
    else:
        from transferapp.app import open_app
        from transferapp.gui.app import DesktopApp

        desktop = DesktopApp(open_app())
        desktop.show_window()
        window = desktop.window

    def shown() -> None:
        window.repaint()
        print(f"shown {time.time():.6f}", flush=True)
        QTimer.singleShot(int(idle * 1000), finish)

    def finish() -> None:
        print(f"rss {rss_bytes()}", flush=True)
        if mode != "bare":
            desktop.quit()
        app.quit()

    QTimer.singleShot(0, shown)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
