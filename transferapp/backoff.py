"""Exponential backoff with jitter for retryable failures (rclone pacer style)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1: base * 2^(n-1), capped, scaled by a random factor in [0.5, 1]."""

    base: float = 2.0
    cap: float = 120.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after ``attempt`` (1-based) failed."""
        raw = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return raw * (rng or random).uniform(0.5, 1.0)
