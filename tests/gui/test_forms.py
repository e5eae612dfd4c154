"""The compiled forms and resources in transferapp/gui/forms/ match ui/*.ui and resources/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_compiled_forms_match_their_sources() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_forms.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_form_has_a_compiled_module() -> None:
    forms = {p.stem for p in (ROOT / "ui").glob("*.ui")}
    compiled = {p.stem.removeprefix("ui_") for p in (ROOT / "transferapp" / "gui" / "forms").glob("ui_*.py")}
    assert forms and forms == compiled


def test_a_changed_form_is_reported_stale(tmp_path: Path) -> None:
    """The check can fail: a form edited without rebuilding is named."""
    form = ROOT / "ui" / "main_window.ui"  # a form that holds the edited string
    original = form.read_text(encoding="utf-8")
    try:
        form.write_text(original.replace("<string>transferapp</string>", "<string>transferapp edited</string>", 1))
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "build_forms.py"), "--check"], capture_output=True, text=True
        )
    finally:
        form.write_text(original, encoding="utf-8")
    assert result.returncode == 1
    assert f"ui_{form.stem}.py" in result.stdout
