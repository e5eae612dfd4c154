"""Salesforce B2C Commerce instances: the WebDAV URL preset and Account Manager API-client tokens.

An API client logs in with the OAuth2 client-credentials grant at the Account Manager token URL; the
token is cached per client, refreshed a minute before it expires, and once when the instance answers 401.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from transferapp.errors import AuthError, NetworkError, TransferError

if TYPE_CHECKING:  # httpx loads in ~35 ms: only token requests need it, not URL building
    import httpx

DEFAULT_TOKEN_URL = "https://account.demandware.com/dwsso/oauth2/access_token"  # noqa: S105 - a URL, not a secret
DEFAULT_FOLDER = "Impex/src"
WEBDAV_ROOT = "/on/demandware.servlet/webdav/Sites"
MAX_UPLOAD_MB = 100  # instances refuse larger WebDAV uploads
REFRESH_MARGIN = 60.0  # seconds before expiry when a cached token is renewed


def instance_url(host: str, folder: str = DEFAULT_FOLDER, user: str | None = None) -> str:
    """The webdavs:// URL of a folder on an instance, e.g. Impex/src/catalog."""
    host = host.strip().removeprefix("https://").strip("/")
    login = f"{quote(user, safe='')}@" if user else ""
    return f"webdavs://{login}{host}{WEBDAV_ROOT}/{quote(folder.strip('/'), safe='/')}"


class TokenProvider:
    """Fetches and caches an Account Manager access token for one API client (thread-safe)."""

    def __init__(
        self,
        client_id: str,
        secret: Callable[[], str | None],
        token_url: str = DEFAULT_TOKEN_URL,
        verify: ssl.SSLContext | bool = True,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.token_url = token_url
        self._secret = secret
        self._verify = verify
        self._timeout = timeout
        self._clock = clock
        self._token = ""
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.fetches = 0  # how many tokens were requested (tests and diagnostics)

    def __call__(self, force: bool = False, rejected: str | None = None) -> str:
        """A valid bearer token; ``force`` fetches a new one (after the instance answered 401 to ``rejected``).

        Requests in flight on several connections may all get a 401 when a token is revoked: the first renews it,
        and the others, whose rejected token is no longer the current one, take the renewed token.
        """
        with self._lock:
            stale = not self._token or self._clock() >= self._expires_at - REFRESH_MARGIN
            if stale or (force and (rejected is None or rejected == self._token)):
                self._fetch()
            return self._token

    def _fetch(self) -> None:
        import httpx

        secret = self._secret()
        if not secret:
            raise AuthError(
                f"No client secret is stored for API client {self.client_id}",
                "store it with 'transferapp connection passwd NAME --client-secret-stdin'",
            )
        try:
            response = httpx.post(
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(self.client_id, secret),
                timeout=self._timeout,
                verify=self._verify,
                follow_redirects=False,
            )
        except httpx.TransportError as exc:
            raise NetworkError(f"Cannot reach the Account Manager at {self.token_url}: {exc}") from None
        self.fetches += 1
        if response.status_code in (400, 401, 403):
            reason = _oauth_error(response)
            raise AuthError(
                f"The Account Manager refused API client {self.client_id}: {reason}",
                "check the client id and secret in Account Manager, then store the secret again with "
                "'transferapp connection passwd NAME --client-secret-stdin'",
            )
        if response.status_code != 200:
            raise TransferError(
                f"The Account Manager answered {response.status_code} for a token",
                "it is tried again later",
                retryable=response.status_code >= 500,
            )
        try:
            body = response.json()
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 1800))
        except (ValueError, KeyError, TypeError):
            raise TransferError("The Account Manager's token answer is not valid JSON with an access_token") from None
        self._expires_at = self._clock() + lifetime


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return str(body.get("error_description") or body.get("error") or f"HTTP {response.status_code}")[:200]


_providers: dict[tuple[str, str, str], TokenProvider] = {}
_providers_lock = threading.Lock()


def shared_provider(
    connection: str,
    client_id: str,
    token_url: str,
    secret: Callable[[], str | None],
    verify: ssl.SSLContext | bool,
    timeout: float,
) -> TokenProvider:
    """One provider per connection and client, shared by all of its sessions (one token, not one per session)."""
    key = (connection, client_id, token_url)
    with _providers_lock:
        provider = _providers.get(key)
        if provider is None:
            provider = TokenProvider(client_id, secret, token_url, verify, timeout)
            _providers[key] = provider
        return provider
