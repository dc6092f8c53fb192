"""Retry pacing: how long to wait before asking the venue again after it would not answer (D29).

An emergency is sent at once (D13), but its *retries* are paced: a cancel refused with a 429, a
cancel-all whose listing was refused, a status query that failed, a verification sync that
failed.  Retrying each at once, or at the quoting tick, turns a rate limit into a request storm
that deepens the limit it is fighting (seed note: a kill answered 429 item by item doubled its
requests every round trip).  The wait doubles with each failure in a row and is capped short,
so the venue is emptied promptly once the limit lifts.  This is never the placement backoff:
placements have their own, much longer one (``core.rejections``).

Pure arithmetic; time is the caller's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPacing:
    """Waits of ``base``, ``2 x base``, ``4 x base`` ... capped at ``cap`` seconds."""

    base: float
    cap: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.base) and math.isfinite(self.cap)):
            raise ValueError("retry pacing needs finite base and cap")
        if self.base <= 0 or self.cap < self.base:
            raise ValueError(f"retry pacing needs 0 < base <= cap (got {self.base}, {self.cap})")

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failures in a row (0: no wait)."""
        if failures <= 0:
            return 0.0
        if failures > 60:  # 2**60 x any base is past any cap
            return self.cap
        return min(self.cap, self.base * 2.0 ** (failures - 1))


class TokenBucket:
    """At most ``burst`` at once and ``rate`` a second on average: how many status queries may
    go out now.  One query per order is right, but fifty orders whose cancels went unanswered
    at once would be fifty requests in one tick; the rest wait their turn (D29)."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int) -> None:
        if not (rate > 0 and burst >= 1):
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1 ({rate}, {burst})")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._at: float | None = None

    def take(self, now: float) -> bool:
        if self._at is not None and now > self._at:
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now if self._at is None else max(self._at, now)
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
