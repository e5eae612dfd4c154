"""Render the app icon (resources/icons/transferapp.svg) to PNGs, a Windows .ico or a macOS .iconset, with Qt.

python packaging/render_icons.py hicolor OUT      # OUT/hicolor/NxN/apps/transferapp.png (Linux packages)
python packaging/render_icons.py ico OUT.ico      # Windows installer and exe icon
python packaging/render_icons.py iconset OUT.iconset   # macOS: iconutil -c icns OUT.iconset
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "transferapp.svg"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256)


def _render(size: int):  # -> QImage
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read the icon {SVG}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def _app() -> object:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication(["render_icons"])


def hicolor(out: Path) -> list[Path]:
    """PNGs in the freedesktop hicolor layout under ``out``."""
    _app()
    written = []
    for size in HICOLOR_SIZES:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / "transferapp.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not _render(size).save(str(target), "PNG"):
            raise SystemExit(f"cannot write {target}")
        written.append(target)
    return written


def ico(out: Path) -> Path:
    """A 256x256 .ico (Qt's ico plugin writes one image; Windows scales it down for small icons)."""
    from PySide6.QtGui import QImageWriter

    _app()
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = QImageWriter(str(out), b"ico")
    if not writer.write(_render(256)):
        raise SystemExit(f"cannot write {out}: {writer.errorString()}")
    return out


def iconset(out: Path) -> Path:
    """The PNGs ``iconutil -c icns`` turns into an .icns."""
    _app()
    out.mkdir(parents=True, exist_ok=True)
    for size in (16, 32, 128, 256, 512):
        _render(size).save(str(out / f"icon_{size}x{size}.png"), "PNG")
        _render(size * 2).save(str(out / f"icon_{size}x{size}@2x.png"), "PNG")
    return out


def main(argv: list[str]) -> int:
    """Command line: KIND OUT."""
    if len(argv) != 2 or argv[0] not in ("hicolor", "ico", "iconset"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, out = argv[0], Path(argv[1])
    {"hicolor": hicolor, "ico": ico, "iconset": iconset}[kind](out)
    print(f"icons written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
