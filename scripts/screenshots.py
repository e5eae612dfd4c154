"""``make screenshots``: open each page of the app with demo data under Xvfb and save PNGs in docs/screenshots/.

Starts its own Xvfb (a free display) and a private D-Bus + gnome-keyring, so it never touches the user's
session; stops both by their own process ids.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]
OUT = ROOT / "docs" / "screenshots"
SIZE = (1180, 720)


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb on the first free display it finds (it writes the number to a pipe)."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"], pass_fds=(write,)
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        display = pipe.readline().strip()
    if not display:
        proc.kill()
        raise SystemExit("Xvfb did not start (install it: 'make test' installs the Debian packages)")
    return proc, f":{display}"


def shoot(out: Path, pages: list[str]) -> list[Path]:
    """Build the demo home, open the app, save one PNG per page; return the files."""
    from demo_data import write_demo
    from PySide6.QtWidgets import QApplication

    from transferapp.app import open_app

    app = QApplication.instance() or QApplication(["transferapp"])
    from transferapp.gui.app import DesktopApp
    from transferapp.gui.gc_guard import MainThreadCollector

    MainThreadCollector(app)

    home = Path(os.environ["TRANSFERAPP_HOME"])
    ctx = open_app()
    write_demo(ctx, home)
    desktop = DesktopApp(ctx, start_agent=False)
    window = desktop.window
    window.resize(*SIZE)
    desktop.show_window()
    saved = []
    for key in pages:
        window.show_page(key)
        settle(1000)  # let background loads (log counts, key lists) land
        if key == "log":  # a failed transfer, selected: the details pane shows its error and fix
            log_page = window.log
            log_page.status_box.setCurrentIndex(log_page.status_box.findData("failed"))
            log_page.apply_filter()
            settle(800)
            log_page.view.selectRow(0)
            settle(300)
        path = out / f"{key}.png"
        window.grab().save(str(path))
        saved.append(path)
    saved += shoot_dialogs(desktop, out, home)
    desktop.quit()
    del app
    return saved


def settle(ms: int = 600) -> None:
    """Let the event loop paint (and background reads land)."""
    from PySide6.QtCore import QCoreApplication, QThread

    for _ in range(ms // 50):
        QCoreApplication.processEvents()
        QThread.msleep(50)


def shoot_dialogs(desktop: object, out: Path, home: Path) -> list[Path]:
    """The connection editor, the drop confirmation, a changed host key and the job editor."""
    import paramiko

    from transferapp.errors import HostKeyError
    from transferapp.gui.dialogs.connection_dialog import ConnectionDialog
    from transferapp.gui.dialogs.drop_dialog import DropDialog
    from transferapp.gui.dialogs.host_key_dialog import HostKeyDialog
    from transferapp.gui.dialogs.job_dialog import JobDialog
    from transferapp.gui.sending import DropTarget, plan_drop
    from transferapp.jobs.model import load_jobs
    from transferapp.transports.hostkeys import fingerprint

    backend = desktop.backend  # type: ignore[attr-defined]
    window = desktop.window  # type: ignore[attr-defined]
    exports = home / "exports"
    drop = [str(exports / "orders_2026-12-04_0001.xml"), str(exports / "orders_2026-12-04_0002.xml")]
    old, new = paramiko.ECDSAKey.generate(), paramiko.ECDSAKey.generate()
    backend.ctx.hostkeys.pin("sftp.pim-partner.example", 22, old)
    changed = HostKeyError("HOST KEY CHANGED", "confirm the new fingerprint with the server's administrator")
    changed.offered, changed.key_type, changed.changed = fingerprint(new), new.get_name(), True
    changed.server = "sftp.pim-partner.example"
    dialogs = {
        "dialog-connection": ConnectionDialog(backend, "pim-sftp", window),
        "dialog-drop": DropDialog(plan_drop(backend, DropTarget("oms-sftp"), drop), window),
        "dialog-host-key-changed": HostKeyDialog(backend, "pim-sftp", changed, window),
        "dialog-job": JobDialog(backend, load_jobs(backend.ctx.config)["orders-nightly"], window),
    }
    saved = []
    for name, dialog in dialogs.items():
        dialog.show()
        settle()
        path = out / f"{name}.png"
        dialog.grab().save(str(path))
        dialog.close()
        saved.append(path)
    return saved


def main() -> int:
    """Run under a private Xvfb and keyring; print the files written."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--page", action="append", help="only these pages (connections, transfers, log, jobs, keys)")
    args = parser.parse_args()
    from support.keyring_session import KeyringSession

    from transferapp.gui.main_window import PAGE_KEYS

    args.out.mkdir(parents=True, exist_ok=True)
    xvfb, display = start_xvfb()
    keyring = KeyringSession()
    try:
        keyring.start()
        keyring.activate()
        with tempfile.TemporaryDirectory(prefix="transferapp-demo-") as home:
            os.environ.update(TRANSFERAPP_HOME=home, DISPLAY=display, QT_QPA_PLATFORM="xcb")
            for path in shoot(args.out, args.page or list(PAGE_KEYS)):
                print(f"wrote {path}")
    finally:
        keyring.stop()
        xvfb.terminate()
        xvfb.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
