"""Host keys: unknown keys are refused with their fingerprint, accepted ones pinned, changed ones always refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from support.sshd import SshdServer

from transferapp.config import Connection
from transferapp.errors import HostKeyError
from transferapp.transports.hostkeys import HostKeyStore
from transferapp.transports.sftp import SftpTransport

MakeConn = Callable[..., Connection]

Open = Callable[..., SftpTransport]


def test_unknown_host_key_is_refused_with_its_fingerprint(
    sshd: SshdServer, make_conn: MakeConn, open_sftp: Open, hostkeys: HostKeyStore
) -> None:
    with pytest.raises(HostKeyError, match="Unknown host key") as info:
        open_sftp(make_conn(accept=None))
    offered = sshd.host_key_fingerprints["ssh-ed25519"]
    assert offered in str(info.value)
    assert f"--accept-host-key {offered}" in info.value.hint
    assert not info.value.retryable
    assert hostkeys.pinned("127.0.0.1", sshd.port) == {}


def test_accepted_fingerprint_is_pinned_and_reused(
    sshd: SshdServer, make_conn: MakeConn, open_sftp: Open, hostkeys: HostKeyStore
) -> None:
    open_sftp(make_conn())
    assert list(hostkeys.pinned("127.0.0.1", sshd.port)) == ["ssh-ed25519"]
    assert open_sftp(make_conn(accept=None)).is_alive()  # the pin now suffices


def test_wrong_accepted_fingerprint_is_refused(make_conn: MakeConn, open_sftp: Open) -> None:
    with pytest.raises(HostKeyError, match="not the fingerprint"):
        open_sftp(make_conn(accept="SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))


def test_trust_new_pins_the_first_key(
    sshd: SshdServer, make_conn: MakeConn, open_sftp: Open, hostkeys: HostKeyStore
) -> None:
    open_sftp(make_conn(accept=None), trust_new=True)
    assert hostkeys.pinned("127.0.0.1", sshd.port)


@pytest.fixture
def private_sshd() -> Iterator[SshdServer]:
    """A server of this test's own, so that changing its host keys disturbs no other test."""
    with SshdServer() as server:
        yield server


def test_changed_host_key_is_always_refused(private_sshd: SshdServer, open_sftp: Open, hostkeys: HostKeyStore) -> None:
    server = private_sshd

    def make_conn(port: int, accept: str | None, path: str) -> Connection:
        url = f"sftp://{server.user}@127.0.0.1:{port}{path}"
        return Connection("changed", url, "key", str(server.client_keys["ed25519"]), accept)

    old = server.host_key_fingerprints["ssh-ed25519"]
    open_sftp(make_conn(port=server.port, accept=old, path="/tmp"))
    server.rekey_host()
    new = server.host_key_fingerprints["ssh-ed25519"]
    assert new != old
    for accept, trust_new in ((None, True), (new, False), (old, False)):
        with pytest.raises(HostKeyError, match="HOST KEY CHANGED") as info:
            open_sftp(make_conn(port=server.port, accept=accept, path="/tmp"), trust_new=trust_new)
        assert new in str(info.value) and old in str(info.value)
        assert "forget-host-key" in info.value.hint
    assert hostkeys.forget("127.0.0.1", server.port)
    assert open_sftp(make_conn(port=server.port, accept=new, path="/tmp")).is_alive()
