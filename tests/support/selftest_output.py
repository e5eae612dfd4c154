"""``transferapp --self-test`` in tests: a clean environment to run it in, its check lines, the expected checks, and
the pyproject version."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK_NAMES = ("version", "qt", "keyring", "openpgp", "sftp", "webdav", "sqlite")
HIDDEN = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")  # no display and no keyring daemon


def clean_env(tmp_path: Path) -> dict[str, str]:
    """Offscreen, no keyring daemon, no Python settings, an empty HOME (made here) and a fresh app home."""
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN and not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path / "home"), TRANSFERAPP_HOME=str(tmp_path / "ta"))
    return env


def project_version() -> str:
    """The one version: pyproject.toml's [project] version."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def check_lines(output: str) -> dict[str, tuple[bool, str]]:
    """{check name: (passed, detail)} from the 'ok   name: detail' / 'FAIL name: detail' lines."""
    checks = {}
    for line in output.splitlines():
        status, _, rest = line.partition(" ")
        name, sep, detail = rest.strip().partition(": ")
        if status in ("ok", "FAIL") and sep:
            checks[name] = (status == "ok", detail)
    return checks


def assert_all_passed(output: str) -> dict[str, tuple[bool, str]]:
    """Every expected check is there and passed, and the summary says so; return the checks."""
    checks = check_lines(output)
    assert sorted(checks) == sorted(CHECK_NAMES), output
    failed = {name: detail for name, (ok, detail) in checks.items() if not ok}
    assert not failed, output
    assert output.rstrip().endswith("self-test passed"), output
    return checks
