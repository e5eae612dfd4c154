"""WebDAV logins (Basic, Digest, bearer, SFCC tokens) and TLS verification against real WsgiDAV."""

from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path

import pytest
from support.webdav_kit import Counter, MakeServer, Open, Tokens

from transferapp.errors import (
    AuthError,
    ConfigError,
    TransferError,
)
from transferapp.transports.base import CancelToken

MiB = 1024 * 1024
LARGE = 50 * MiB
USER, PASSWORD = "merchant", "s3cret pass"
_names = itertools.count(1)


# -- logins --------------------------------------------------------------------------------------
def test_digest_login_is_primed_at_connect(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest")
    transport = open_dav(server)
    assert transport.auth_scheme == "digest"
    assert transport.rtt is not None and 0 < transport.rtt < 5
    assert [(r.method, r.status) for r in server.requests] == [("PROPFIND", 401), ("PROPFIND", 207)]
    assert server.requests[1].headers["authorization"].startswith("Digest ")
    transport.stat("/dav")
    transport.create("/dav/x.txt")
    later = server.requests[2:]
    assert [r.status for r in later] == [207, 201], "after the first challenge every request is signed up front"
    assert all(r.headers["authorization"].startswith("Digest ") for r in later)


def test_basic_login_over_http_warns(dav: MakeServer, open_dav: Open, caplog: pytest.LogCaptureFixture) -> None:
    server = dav("basic")
    with caplog.at_level(logging.WARNING, logger="transferapp.transports.webdav"):
        transport = open_dav(server)
    assert transport.auth_scheme == "basic"
    assert server.requests[-1].headers["authorization"].startswith("Basic ")
    assert "plain http" in caplog.text
    transport.create("/dav/x.txt")
    assert server.requests[-1].status == 201 and server.requests[-1].headers["authorization"].startswith("Basic ")


def test_digest_is_preferred_when_basic_is_offered_too(dav: MakeServer, open_dav: Open) -> None:
    server = dav("both")
    server.tweaks.extra_challenge = 'Basic realm="/dav"'
    transport = open_dav(server)
    assert transport.auth_scheme == "digest"
    assert server.requests[0].status == 401 and server.requests[1].status == 207
    assert server.requests[1].headers["authorization"].startswith("Digest ")


@pytest.mark.parametrize("mode", ["digest", "basic"])
def test_wrong_password_is_an_auth_error(dav: MakeServer, open_dav: Open, mode: str) -> None:
    server = dav(mode)
    transport = open_dav(server, password="wrong", connect=False)
    with pytest.raises(AuthError) as caught:
        transport.connect()
    assert not caught.value.retryable
    assert "401" in str(caught.value) and "PROPFIND /dav" in str(caught.value)
    assert f"transferapp connection passwd {transport.conn.name} --password-stdin" in str(caught.value)
    assert not transport.is_alive()


def test_missing_password_names_the_command(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest")
    transport = open_dav(server, password=None, connect=False)
    with pytest.raises(AuthError, match=f"connection passwd {transport.conn.name} --password-stdin"):
        transport.connect()
    assert server.requests == []


def test_bearer_token_from_the_keyring(dav: MakeServer, open_dav: Open) -> None:
    server = dav("bearer")
    server.bearer_tokens.add("tok-1")
    transport = open_dav(server, auth="token", token="tok-1")
    transport.create("/dav/a.txt")
    assert (server.root / "a.txt").exists()
    assert {r.headers.get("authorization") for r in server.requests} == {"Bearer tok-1"}
    stale = open_dav(server, auth="token", token="tok-old", connect=False)
    with pytest.raises(AuthError, match="--token-stdin"):
        stale.connect()
    missing = open_dav(server, auth="token", connect=False)
    with pytest.raises(AuthError, match=f"passwd {missing.conn.name} --token-stdin"):
        missing.connect()


def test_api_client_token_is_refreshed_once_on_401(dav: MakeServer, open_dav: Open, tmp_path: Path) -> None:
    server = dav("bearer")
    server.bearer_tokens.add("fresh")
    tokens = Tokens("expired", "fresh", "newer")
    transport = open_dav(server, auth="sfcc-client", token_provider=tokens)
    assert tokens.calls == [False, True]
    assert [r.status for r in server.requests] == [401, 207]
    transport.stat("/dav")
    assert tokens.calls == [False, True, False]
    # the token expires mid-session: the file body is read again from the file for the retried PUT
    server.bearer_tokens.clear()
    server.bearer_tokens.add("newer")
    local = tmp_path / "two.bin"
    local.write_bytes(os.urandom(2 * MiB + 5))
    progress = Counter()
    transport.put_file(local, "/dav/two.bin", progress, CancelToken())
    assert (server.root / "two.bin").read_bytes() == local.read_bytes()
    assert progress.done == local.stat().st_size, "a re-sent body is not counted twice"
    assert tokens.calls == [False, True, False, False, True]
    assert [r.status for r in server.seen("PUT")] == [401, 201]


def test_api_client_refused_after_refresh_is_an_auth_error(dav: MakeServer, open_dav: Open) -> None:
    server = dav("bearer")
    tokens = Tokens("a", "b", "c")
    transport = open_dav(server, auth="sfcc-client", token_provider=tokens, connect=False)
    with pytest.raises(AuthError) as caught:
        transport.connect()
    assert not caught.value.retryable
    assert tokens.calls == [False, True], "one forced refresh per request, never a loop"
    assert len(server.requests) == 2


# -- HTTPS ----------------------------------------------------------------------------------------
def test_https_with_the_servers_ca(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest", tls=True)
    transport = open_dav(server)
    transport.create("/dav/secure.txt")
    assert (server.root / "secure.txt").exists()
    assert transport.base.startswith("https://127.0.0.1:")


def test_https_without_the_ca_is_refused(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest", tls=True)
    transport = open_dav(server, ca_file=False, connect=False)
    with pytest.raises(TransferError) as caught:
        transport.connect()
    assert not caught.value.retryable
    assert "certificate of 127.0.0.1 could not be verified" in str(caught.value)
    assert "--ca-file" in caught.value.hint
    assert server.requests == [], "nothing, credentials least of all, was sent to the unverified server"


def test_https_certificate_for_another_name_is_refused(dav: MakeServer, open_dav: Open) -> None:
    server = dav("digest", tls=True, tls_args={"hosts": ("files.example.com",)})
    transport = open_dav(server, connect=False)
    with pytest.raises(TransferError, match="certificate of 127.0.0.1 could not be verified") as caught:
        transport.connect()
    assert "mismatch" in str(caught.value).lower()


def test_unreadable_ca_file_is_a_config_error(dav: MakeServer, open_dav: Open, tmp_path: Path) -> None:
    server = dav("digest", tls=True)
    transport = open_dav(server, connect=False)
    transport.conn.ca_file = str(tmp_path / "missing-ca.pem")
    with pytest.raises(ConfigError, match="missing-ca.pem"):
        transport.connect()
