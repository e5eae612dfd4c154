"""Fixtures of the job tests: a CLI with its own app home (no keyring) and a remote folder on the test sshd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.cli import Cli
from support.sshd import SshdServer


@pytest.fixture
def cli(ta_home: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    return Cli(ta_home, env)


@pytest.fixture
def remote(sshd: SshdServer, request: pytest.FixtureRequest) -> Path:
    return sshd.make_remote_dir(request.node.name[:40])
