"""``transferapp --self-test`` from the venv: every check passes, without a display and without touching the home."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.keyring_session import KeyringSession
from support.selftest_output import assert_all_passed, check_lines, clean_env, project_version

from transferapp import selftest


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "transferapp", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_self_test_passes_offscreen_and_leaves_the_home_alone(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    result = _run(["--self-test"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = assert_all_passed(result.stdout)
    assert f"transferapp {project_version()} (venv" in checks["version"][1]
    assert "platform offscreen" in checks["qt"][1] and "main window with 5 pages" in checks["qt"][1]
    assert "xcb" in checks["qt"][1]  # the desktop platform plugin is there, not only offscreen
    assert "no keyring daemon running here" in checks["keyring"][1]  # the backends load without a daemon
    assert "encrypted and decrypted" in checks["openpgp"][1]
    assert not (tmp_path / "ta").exists()
    assert list((tmp_path / "home").iterdir()) == []


def test_self_test_reports_a_running_keyring(tmp_path: Path, keyring_session: KeyringSession) -> None:
    env = keyring_session.child_env(clean_env(tmp_path))
    result = _run(["--self-test"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    detail = check_lines(result.stdout)["keyring"][1]
    assert "backend SecretService.Keyring: usable" in detail, detail


def test_a_failing_check_fails_the_self_test(monkeypatch, capsys) -> None:
    def broken() -> str:
        raise ImportError("No module named 'pysequoia'\nmore detail")

    monkeypatch.setattr(selftest, "CHECKS", (*selftest.CHECKS[2:3], ("openpgp", broken)))
    assert selftest.main() == 1
    out = capsys.readouterr().out
    assert "FAIL openpgp: ImportError: No module named 'pysequoia'" in out.splitlines()
    assert out.rstrip().endswith("self-test failed: openpgp")


def test_version_is_the_pyproject_version(tmp_path: Path) -> None:
    result = _run(["--version"], clean_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"transferapp {project_version()}"
