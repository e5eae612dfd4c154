"""Account Manager tokens: fetched with client credentials, cached, refreshed before expiry and on demand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.token_server import TokenServer

from transferapp.errors import AuthError
from transferapp.sfcc import TokenProvider, instance_url


@pytest.fixture
def server() -> Iterator[TokenServer]:
    with TokenServer("client-1", "s3cret", lifetime=300) as token_server:
        yield token_server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_is_fetched_once_and_cached(server: TokenServer) -> None:
    provider = TokenProvider("client-1", lambda: "s3cret", server.url)
    first = provider()
    assert server.valid(first)
    assert provider() == first and server.requests == 1


def test_token_is_renewed_before_it_expires_and_when_forced(server: TokenServer) -> None:
    clock = Clock()
    provider = TokenProvider("client-1", lambda: "s3cret", server.url, clock=clock)
    first = provider()
    clock.now += 200  # 300 s lifetime, renewed 60 s early
    assert provider() == first
    clock.now += 50
    second = provider()
    assert second != first and server.requests == 2
    assert provider(force=True) not in (first, second) and server.requests == 3


def test_401s_of_requests_in_flight_renew_the_token_once(server: TokenServer) -> None:
    provider = TokenProvider("client-1", lambda: "s3cret", server.url)
    revoked = provider()
    renewed = provider(force=True, rejected=revoked)  # the first request that got a 401
    assert [provider(force=True, rejected=revoked) for _ in range(3)] == [renewed] * 3  # the others in flight
    assert renewed != revoked and server.requests == 2
    assert provider(force=True, rejected=renewed) not in (revoked, renewed) and server.requests == 3


def test_wrong_secret_is_a_clear_error_without_a_retry_storm(server: TokenServer) -> None:
    provider = TokenProvider("client-1", lambda: "wrong", server.url)
    with pytest.raises(AuthError, match="refused API client client-1: Client authentication failed") as info:
        provider()
    assert not info.value.retryable and "wrong" not in str(info.value)
    assert server.requests == 1


def test_missing_secret_names_the_fix() -> None:
    provider = TokenProvider("client-1", lambda: None, "http://127.0.0.1:9/none")
    with pytest.raises(AuthError, match="No client secret is stored") as info:
        provider()
    assert "--client-secret-stdin" in info.value.hint


def test_instance_url() -> None:
    assert instance_url("dev01-eu01-acme.demandware.net") == (
        "webdavs://dev01-eu01-acme.demandware.net/on/demandware.servlet/webdav/Sites/Impex/src"
    )
    assert instance_url("https://host/", "Impex/src/catalog feeds", "bm.user@acme.com") == (
        "webdavs://bm.user%40acme.com@host/on/demandware.servlet/webdav/Sites/Impex/src/catalog%20feeds"
    )
