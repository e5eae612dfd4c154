"""WebDAV PROPFIND: the request body, and the multistatus answer turned into RemoteEntry objects."""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET  # noqa: S405 - hardened below: no DTDs, and expat resolves no external entities
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urljoin, urlsplit

from transferapp.transports.base import RemoteEntry

DAV = "{DAV:}"
PROPFIND_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<d:propfind xmlns:d="DAV:"><d:prop>'
    b"<d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/>"
    b"</d:prop></d:propfind>"
)


class MultistatusError(ValueError):
    """The server's PROPFIND answer is not a readable multistatus document."""


@dataclass(frozen=True)
class DavResource:
    """One ``response`` of a multistatus: the decoded absolute path its href names, and its properties."""

    href_path: str
    size: int
    mtime: float | None
    is_dir: bool
    etag: str | None

    def entry(self, path: str) -> RemoteEntry:
        """This resource as a RemoteEntry at ``path``."""
        return RemoteEntry(path=path, size=self.size, mtime=self.mtime, is_dir=self.is_dir, etag=self.etag)


def parse_multistatus(body: bytes, request_url: str) -> list[DavResource]:
    """The resources of a 207 answer, in document order; members the server reports as failed are left out."""
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise MultistatusError("the answer holds a DTD, which a multistatus never needs")
    try:
        root = ET.fromstring(body)  # noqa: S314 - DTDs refused above; expat never fetches external entities
    except ET.ParseError as exc:
        raise MultistatusError(f"the answer is not valid XML ({exc})") from None
    if root.tag != f"{DAV}multistatus":
        raise MultistatusError(f"the answer is a {root.tag!r} document, not a DAV multistatus")
    resources = []
    for response in root.findall(f"{DAV}response"):
        resource = _resource(response, request_url)
        if resource is not None:
            resources.append(resource)
    return resources


def _resource(response: ET.Element, request_url: str) -> DavResource | None:
    href = (response.findtext(f"{DAV}href") or "").strip()
    if not href:
        return None
    status = response.findtext(f"{DAV}status")
    if status is not None and not _ok(status):
        return None
    props: dict[str, ET.Element] = {}
    for propstat in response.findall(f"{DAV}propstat"):
        if not _ok(propstat.findtext(f"{DAV}status") or "HTTP/1.1 200 OK"):
            continue
        prop = propstat.find(f"{DAV}prop")
        if prop is not None:
            for child in prop:
                props[child.tag] = child
    if status is None and not props:
        return None  # every property failed: nothing is known about this member
    resourcetype = props.get(f"{DAV}resourcetype")
    is_dir = resourcetype is not None and resourcetype.find(f"{DAV}collection") is not None
    return DavResource(
        href_path=href_to_path(href, request_url),
        size=0 if is_dir else _int(_text(props, "getcontentlength")),
        mtime=http_date(_text(props, "getlastmodified")),
        is_dir=is_dir,
        etag=_text(props, "getetag") or None,
    )


def href_to_path(href: str, request_url: str) -> str:
    """The decoded absolute path of an href (absolute URL, absolute path or relative), without a trailing slash."""
    path = unquote(urlsplit(urljoin(request_url, href)).path)
    path = posixpath.normpath(path) if path else "/"
    return "/" + path.lstrip("/") if path.startswith("//") else path


def http_date(text: str | None) -> float | None:
    """An RFC 1123 date (``Fri, 04 Dec 2026 18:36:13 GMT``) as epoch seconds; None when missing or unreadable."""
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # '-0000' (or no zone) means UTC in HTTP dates
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _ok(status: str) -> bool:
    parts = status.split()
    return len(parts) >= 2 and parts[1].startswith("2")


def _text(props: dict[str, ET.Element], name: str) -> str:
    element = props.get(f"{DAV}{name}")
    return (element.text or "").strip() if element is not None else ""


def _int(text: str) -> int:
    try:
        return max(0, int(text))
    except ValueError:
        return 0
