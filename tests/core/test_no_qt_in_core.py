"""The core never imports Qt: only transferapp/gui/ may."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "transferapp"
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "PySide2", "qtpy", "shiboken6")


def qt_imports(path: Path) -> list[str]:
    """The Qt modules a Python file imports (at any depth, including inside functions)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [n for n in names if n.split(".")[0] in QT_MODULES]
    return found


def test_core_modules_do_not_import_qt() -> None:
    offenders = {
        str(path.relative_to(PACKAGE.parent)): qt_imports(path)
        for path in PACKAGE.rglob("*.py")
        if "gui" not in path.relative_to(PACKAGE).parts and qt_imports(path)
    }
    assert offenders == {}


def test_the_checker_sees_qt_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from PySide6.QtCore import QObject\nimport os\n")
    assert qt_imports(sample) == ["PySide6.QtCore"]
