"""PCI guard: find payment card numbers (PANs) in files before they are uploaded unencrypted.

A candidate is a run of digits joined by single spaces or dashes, not glued to a letter or digit, not right
after ``+`` (a phone number) and not a decimal fraction (``0.4111...``). In that run the scanner takes the
whole run when it has 13-19 digits and starts with a group of at least 4 digits, otherwise card-shaped parts
of it: one group of 14-19 digits, or groups in a card layout (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4, 4-3-3-3) with
one kind of separator. So ``qty 2 4111111111111111 12/27`` is caught, ``12 34 5678 9012 3456`` is not. A
candidate counts when it passes the Luhn check and its prefix and length fit a known issuer. An ungrouped
13-digit number never counts: EAN-13 barcodes fill every catalog export and 1 in 10 passes Luhn, while
13-digit Visa and Maestro numbers are no longer issued. Only masked numbers leave this module. Text must be in an
ASCII-compatible encoding (UTF-8, Latin-1, ...): UTF-16 text and compressed files are not looked into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from transferapp.errors import LocalFileError

LONG_RUN = 1 << 19  # a run of digits and single separators this long is data, not a place for card numbers
MAX_CARRY = 2 * LONG_RUN  # most bytes carried from one piece of a file into the next
_BLOCK = 128 << 10  # most bytes read and scanned at a time (fits the CPU cache, below malloc's mmap threshold)
_LAYOUTS = ((4, 4, 4, 4, 3), (4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 3, 3, 3))
_DIGITS = b"0123456789"
# The scan works on a copy where every digit is "0", a space or dash "-", anything else "x".
_MARKS = bytes(b"0"[0] if b in _DIGITS else b"-"[0] if b in b" -" else b"x"[0] for b in range(256))
# Fast prefilter on that copy: 4 digits starting 13+ digits with single separators, not an ungrouped 13 alone.
_RUN = re.compile(rb"0000(?=[0-]{10})" + rb"-?0" * 9 + rb"(?:(?=-?0)|(?<!0{13}))(?:-?0)*")
_GROUP = re.compile(r"([0-9]+)([ -]?)")
_GLUE = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


@dataclass(frozen=True)
class CardScan:
    """What a scan found in one file: how many card numbers and a few of them, masked."""

    path: Path
    count: int
    samples: tuple[str, ...]
    scanned_bytes: int

    @property
    def found(self) -> bool:
        """Whether the file holds at least one card number."""
        return self.count > 0


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn (mod 10) check."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    odd = sum(map(int, digits[-1::-2]))
    even = sum(_DOUBLED[int(d)] for d in digits[-2::-2])
    return (odd + even) % 10 == 0


def issuer(digits: str) -> str | None:
    """The card scheme whose prefix and length fit these digits (13-19 of them), or None."""
    n = len(digits)
    if not 13 <= n <= 19 or not digits.isascii() or not digits.isdigit():
        return None
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    checks = (
        (digits[0] == "4", "Visa", n in (13, 16, 19)),
        (51 <= p2 <= 55 or 2221 <= p4 <= 2720, "Mastercard", n == 16),
        (p2 in (34, 37), "American Express", n == 15),
        (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925, "Discover", n >= 16),
        (3528 <= p4 <= 3589, "JCB", n >= 16),
        (300 <= p3 <= 305 or p2 in (36, 38, 39), "Diners Club", n >= 14),
        (p2 == 62, "UnionPay", n >= 16),
        (p2 in (50, 56, 57, 58) or digits[0] == "6", "Maestro", True),
    )
    for prefix_fits, name, length_fits in checks:
        if prefix_fits:
            return name if length_fits else None
    return None


def mask(digits: str) -> str:
    """The digits with all but the first 6 and last 4 replaced by '*' (only the last 4 kept below 13 digits)."""
    digits = "".join(c for c in digits if c in "0123456789")
    n = len(digits)
    if n >= 13:
        return digits[:6] + "*" * (n - 10) + digits[-4:]
    return "*" * max(0, n - 4) + digits[-4:] if n > 4 else "*" * n


def _is_card(digits: str) -> bool:
    """Whether these 13-19 digits are a card number (issuer prefix and length, then Luhn)."""
    return issuer(digits) is not None and luhn_ok(digits)


def _window(groups: list[str], seps: list[str], i: int) -> int:
    """How many groups from ``groups[i]`` make a card: one long group or a card layout; 0 when none do."""
    if 14 <= len(groups[i]) <= 19:
        return 1 if _is_card(groups[i]) else 0
    for layout in _LAYOUTS if len(groups[i]) == 4 else ():
        part = groups[i : i + len(layout)]
        same_sep = len(set(seps[i : i + len(layout) - 1])) == 1
        if tuple(map(len, part)) == layout and same_sep and _is_card("".join(part)):
            return len(layout)
    return 0


def _cards_in_run(text: str) -> list[str]:
    """The masked card numbers in one run of digit groups (see the module docstring for the rules)."""
    pairs = _GROUP.findall(text)
    groups, seps = [g for g, _ in pairs], [s for _, s in pairs[:-1]]
    digits = "".join(groups)
    whole = 13 <= len(digits) <= 19 and len(groups[0]) >= 4 and (len(groups) > 1 or len(digits) > 13)
    if whole and _is_card(digits):
        return [mask(digits)]
    found, i = [], 0
    while i < len(groups):
        width = _window(groups, seps, i)
        if width:
            found.append(mask("".join(groups[i : i + width])))
        i += width or 1
    return found


def _scan(data: bytes, marks: bytes, lead: int, stop: int) -> list[str]:
    """Masked card numbers in the runs that end by ``stop``; a run starting before ``lead`` is the rest of a run
    split by a forced cut and does not count."""
    found: list[str] = []
    size = len(data)
    for match in _RUN.finditer(marks, 0, stop):
        start, end = match.span()
        while start > 0:  # the prefilter may start inside the run: walk back to its first digit
            if marks[start - 1] == 0x30:
                start -= 1
            elif start >= 2 and marks[start - 1] == 0x2D and marks[start - 2] == 0x30:
                start -= 2
            else:
                break
        before = data[start - 1] if start > 0 else 0x20
        before2 = data[start - 2] if start > 1 else 0x20
        after = data[end] if end < size else 0x20
        after2 = data[end + 1] if end + 1 < size else 0x20
        if start < lead or end - start >= LONG_RUN or before in _GLUE or after in _GLUE:
            continue
        if before == 0x2B:  # "+49 ...": a phone number
            continue
        if (before == 0x2E and before2 in _DIGITS) or (after == 0x2E and after2 in _DIGITS):  # 1.2345...
            continue
        if after in b" -" and after2 in _DIGITS:  # split by a forced cut: the run goes on
            continue
        found.extend(_cards_in_run(bytes(data[start:end]).decode("ascii")))
    return found


def find_cards(data: bytes) -> list[str]:
    """The masked card numbers in a bytes buffer, in order."""
    return _scan(data, data.translate(_MARKS), 0, len(data))


def scan_file(path: Path, max_samples: int = 5, chunk_size: int = 8 << 20) -> CardScan:
    """Scan a file for card numbers in chunks (memory stays flat); raise LocalFileError when it cannot be read."""
    path = Path(path)
    block = max(1, min(chunk_size, _BLOCK))  # bigger reads scan slower: they fall out of the CPU cache
    samples: list[str] = []
    count, scanned, buf, lead = 0, 0, b"", 0
    try:
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(block)
                scanned += len(chunk)
                buf, lead, found = _feed(buf + chunk if buf else chunk, lead, not chunk)
                count += len(found)
                for masked in found:
                    if len(samples) < max_samples and masked not in samples:
                        samples.append(masked)
                if not chunk:
                    break
    except OSError as exc:
        raise LocalFileError(
            f"Cannot read {path} for the card-number check: {exc.strerror or exc}",
            "check that the file exists and can be read",
        ) from exc
    return CardScan(path, count, tuple(samples), scanned)


def _feed(buf: bytes, lead: int, eof: bool) -> tuple[bytes, int, list[str]]:
    """Scan ``buf`` up to a cut no run crosses; return the bytes to carry into the next piece, its lead, the finds."""
    marks = buf.translate(_MARKS)
    if eof:
        return b"", 0, _scan(buf, marks, lead, len(buf))
    low = max(0, len(buf) - MAX_CARRY)  # cut at a byte that is no digit or separator, or inside a double separator
    stop = marks.rfind(b"x", low, len(buf) - 1)
    if stop < 2:
        stop = marks.rfind(b"--", low, len(buf) - 2) + 1
    if stop < 2:
        if len(buf) < MAX_CARRY:
            return buf, lead, []  # no cut possible yet: keep reading
        stop = len(buf) - 2  # forced: a long run is split, neither part counts
    return buf[stop - 2 :], 2, _scan(buf, marks, lead, stop)
