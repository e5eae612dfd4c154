"""A stand-in for the Account Manager token endpoint: OAuth2 client credentials over HTTP Basic, on loopback."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class TokenServer:
    """Issues bearer tokens to one client id/secret; counts requests; tokens live ``lifetime`` seconds."""

    def __init__(self, client_id: str, client_secret: str, lifetime: int = 1800) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                server.requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                auth = self.headers.get("Authorization", "")
                expected = base64.b64encode(f"{server.client_id}:{server.client_secret}".encode()).decode()
                if form.get("grant_type") != ["client_credentials"]:
                    self._answer(400, {"error": "unsupported_grant_type"})
                elif auth != f"Basic {expected}":
                    self._answer(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
                else:
                    token = secrets.token_urlsafe(24)
                    server.issued.append(token)
                    self._answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": server.lifetime})

            def _answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The token endpoint."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/dwsso/oauth2/access_token"

    def valid(self, token: str) -> bool:
        """Whether the token was issued by this server (the newest ones only, if tokens were revoked)."""
        return token in self.issued

    def revoke_all(self) -> None:
        """Forget every token issued so far (the instance answers 401 to them)."""
        self.issued.clear()

    def __enter__(self) -> TokenServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
