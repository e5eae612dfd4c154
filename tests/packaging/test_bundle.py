"""The packaged app: the PyInstaller bundle and the .deb are built the way ``make package`` builds them, then run.

Marked ``package`` (about a minute or two here): deselect with ``-m 'not package'``.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cli import Cli
from support.keyring_session import KeyringSession
from support.pgp_keys import Keys
from support.selftest_output import ROOT, assert_all_passed, clean_env, project_version
from support.sshd import SshdServer

pytestmark = [
    pytest.mark.package,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        importlib.util.find_spec("PyInstaller") is None,
        reason="PyInstaller is not installed: pip install -e '.[package]' (make package does)",
    ),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed (not a Debian system)"),
]

sys.path.insert(0, str(ROOT / "packaging"))
import build as packaging_build  # noqa: E402 - packaging/build.py, the builder make package runs


@dataclass(frozen=True)
class Package:
    """A built bundle and .deb."""

    bundle: Path
    deb: Path


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    """Build once for this module, in a temporary folder (never in the work tree)."""
    base = tmp_path_factory.mktemp("package")
    built = packaging_build.build(base / "dist", base / "work", deb=True)
    assert built.deb is not None
    yield Package(built.bundle, built.deb)


def _run(exe: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=120, cwd=env["HOME"])


def test_bundle_self_test_passes(package: Package, tmp_path: Path) -> None:
    result = _run(package.bundle / "transferapp", ["--self-test"], clean_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    checks = assert_all_passed(result.stdout)
    assert f"transferapp {project_version()} (bundle" in checks["version"][1]
    assert "platform offscreen, main window with 5 pages" in checks["qt"][1]
    assert "xcb" in checks["qt"][1] and "wayland" in checks["qt"][1]


def test_bundle_version_help_and_a_command(package: Package, tmp_path: Path) -> None:
    exe, env = package.bundle / "transferapp", clean_env(tmp_path)
    version = _run(exe, ["--version"], env)
    assert version.stdout.strip() == f"transferapp {project_version()}", version.stderr
    help_text = _run(exe, ["--help"], env)
    assert help_text.returncode == 0 and "--self-test" in help_text.stdout, help_text.stderr
    listed = _run(exe, ["connection", "list"], env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert (tmp_path / "ta" / "config").is_dir()  # the command ran against the temporary home


def test_bundle_leaves_out_unused_qt(package: Package) -> None:
    internal = package.bundle / "_internal"
    names = {p.name for p in internal.rglob("*")}
    for unused in ("QtQml.abi3.so", "QtQuick.abi3.so", "QtPdf.abi3.so", "libQt6Qml.so.6", "libqgtk3.so", "tkinter"):
        assert unused not in names
    assert {"libqxcb.so", "libqsvg.so", "libqsvgicon.so", "libqoffscreen.so"} <= names
    dangling = [str(p) for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling, dangling


def test_deb_fields_and_contents(package: Package) -> None:
    info = subprocess.run(["dpkg-deb", "--info", str(package.deb)], capture_output=True, text=True, check=True).stdout
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    fields = {"Package": "transferapp", "Version": project_version(), "Architecture": arch}
    for field, value in fields.items():
        assert f" {field}: {value}\n" in info, info
    assert "libxcb-cursor0" in info and "libxkbcommon-x11-0" in info and "Recommends: gnome-keyring" in info
    contents = subprocess.run(
        ["dpkg-deb", "--contents", str(package.deb)], capture_output=True, text=True, check=True
    ).stdout
    listed = {line.split()[5].removeprefix("."): line for line in contents.splitlines()}
    for path in (
        "/opt/transferapp/transferapp",
        "/usr/bin/transferapp",
        "/usr/share/applications/transferapp.desktop",
        "/usr/share/icons/hicolor/scalable/apps/transferapp.svg",
        "/usr/share/icons/hicolor/48x48/apps/transferapp.png",
        "/usr/lib/systemd/user/transferapp-agent.service",
    ):
        assert path in listed, path
        assert " root/root " in listed[path]
    assert "-> /opt/transferapp/transferapp" in listed["/usr/bin/transferapp"]
    assert listed["/opt/transferapp/transferapp"].startswith("-rwxr-xr-x")


def test_deb_installs_into_a_root_and_starts(package: Package, tmp_path: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["dpkg", "-x", str(package.deb), str(root)], check=True)
    result = _run(root / "opt" / "transferapp" / "transferapp", ["--self-test"], clean_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert_all_passed(result.stdout)
    unit = (root / "usr/lib/systemd/user/transferapp-agent.service").read_text()
    assert "ExecStart=/usr/bin/transferapp agent" in unit
    desktop = root / "usr/share/applications/transferapp.desktop"
    assert "Exec=transferapp gui" in desktop.read_text()
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate is not installed (scripts/install-system-deps.sh installs it)")
    validated = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert validated.returncode == 0 and not validated.stdout.strip(), validated.stdout + validated.stderr


def test_bundle_sends_over_sftp_with_a_keyring_password_and_encrypts(
    package: Package, tmp_path: Path, sshd: SshdServer, keyring_session: KeyringSession, gpg_keys: Keys
) -> None:
    """The frozen app's real stacks at work: Secret Service, paramiko, pysequoia, SQLite; GnuPG reads the result."""
    if not sshd.can_password:
        pytest.skip("password logins need root to create the test user")
    remote = sshd.make_remote_dir("bundle-send")
    env = keyring_session.child_env(clean_env(tmp_path))
    cli = Cli(tmp_path / "ta", env, command=[str(package.bundle / "transferapp")])
    url = f"sftp://{sshd.user}@127.0.0.1:{sshd.port}{remote}"
    cli.ok("connection", "add", "oms", "--url", url, "--password-stdin", "--trust-new-host-key",
           stdin=sshd.password + "\n")  # fmt: skip
    plain = tmp_path / "orders.xml"
    plain.write_text("<orders><order id='1001'><name>Main Street 42</name></order></orders>\n")
    cli.ok("send", str(plain), "--to", "oms")
    assert (remote / "orders.xml").read_bytes() == plain.read_bytes()
    cli.ok("key", "import", str(gpg_keys.public(gpg_keys.oms_cv)), "--yes")
    cli.ok("send", str(plain), "--to", "oms", "--encrypt-to", gpg_keys.oms_cv)
    decrypted = tmp_path / "decrypted.xml"
    assert gpg_keys.gpg.decrypt(remote / "orders.xml.pgp", decrypted).code == 0
    assert decrypted.read_bytes() == plain.read_bytes()
    assert "The transfer log is intact (2 rows checked)" in cli.ok("log", "verify").out
