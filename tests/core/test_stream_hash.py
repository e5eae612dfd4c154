"""StreamHash: the SHA-256 of a download, computed in a thread as blocks arrive (and over a resumed prefix)."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from transferapp.snapshot import StreamHash


def test_digest_equals_hashlib_over_many_blocks_and_types() -> None:
    blocks = [os.urandom(n) for n in (1, 0, 65536, 262144, 7, 100_000)]
    hasher = StreamHash(depth=2)  # a small queue: update() must wait for the thread, not drop blocks
    for index, block in enumerate(blocks):
        hasher.update(bytearray(block) if index % 2 else memoryview(block))
    assert hasher.hexdigest() == hashlib.sha256(b"".join(blocks)).hexdigest()
    assert hasher.hexdigest() == hashlib.sha256(b"".join(blocks)).hexdigest()  # asking twice gives the same


def test_a_reused_buffer_is_copied_before_it_is_hashed() -> None:
    buffer = bytearray(b"a" * 4096)
    hasher = StreamHash()
    hasher.update(buffer)
    buffer[:] = b"b" * 4096  # the caller reuses its buffer before the thread has hashed it
    assert hasher.hexdigest() == hashlib.sha256(b"a" * 4096).hexdigest()


def test_a_resumed_download_hashes_the_prefix_on_disk_first(tmp_path: Path) -> None:
    part = tmp_path / ".file.part"
    earlier = os.urandom(3 * (1 << 20) + 17)  # what an earlier attempt received, more than one read block
    part.write_bytes(earlier + b"garbage past the resume point")
    hasher = StreamHash(part, len(earlier))
    rest = os.urandom(5000)
    hasher.update(rest)
    assert hasher.hexdigest() == hashlib.sha256(earlier + rest).hexdigest()


def _hash_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "sha256-stream")


def test_close_without_digest_ends_the_thread() -> None:
    before = _hash_threads()
    hasher = StreamHash()
    assert _hash_threads() == before + 1
    hasher.update(b"partial")
    hasher.close()
    hasher.close()  # twice is harmless
    assert _hash_threads() == before
