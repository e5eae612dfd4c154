"""Backoff grows exponentially, is capped, and is jittered."""

from __future__ import annotations

import random

from transferapp.backoff import Backoff


def test_delays_grow_and_stay_within_jitter_bounds() -> None:
    backoff = Backoff(base=1.0, cap=30.0)
    rng = random.Random(7)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (9, 30.0)]:
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(full * 0.5 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full * 0.3  # jittered, not a fixed value
