"""The body of a WebDAV GET answer written into a download target: the wanted bytes only, in the blocks they come."""

from __future__ import annotations

import httpx

from transferapp.errors import NetworkError
from transferapp.transports.base import CancelToken, DownloadTarget
from transferapp.transports.webdav_auth import BLOCK
from transferapp.transports.webdav_errors import translate


def copy_body(
    response: httpx.Response, path: str, target: DownloadTarget, skip: int, length: int, cancel: CancelToken, host: str
) -> None:
    """Drop the first ``skip`` bytes of the body of the GET of ``path`` (a server that ignored the Range), then append
    ``length`` bytes to ``target``; NetworkError when the body ends (or the connection drops) before that."""
    remaining = length
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    try:
        for chunk in response.iter_bytes(BLOCK) if encoded else response.iter_raw():  # raw: no re-chunking
            cancel.check()
            if skip:
                dropped = min(skip, len(chunk))
                chunk, skip = chunk[dropped:], skip - dropped
            data = chunk[:remaining]
            if not data:
                continue
            target.write(data)
            remaining -= len(data)
            if remaining == 0:
                return
    except Exception as exc:
        raise translate(exc, "GET", path, host) from None
    raise NetworkError(
        f"The server sent {length - remaining} of {length} bytes ({response.status_code} to GET {path}): "
        "the file is shorter than expected or the connection dropped"
    )
