"""Nonces for signed actions: strictly increasing and unique, one source per signer.

Hyperliquid keeps the 100 highest nonces of each signer and refuses a nonce it has seen or one
below the smallest it keeps; nonces must also sit within a day or two of the block time in
milliseconds (reference 3.7).  ``NonceSource.next`` returns ``max(last + 1, now_ms)`` under a
lock, so two actions built in the same millisecond — on the event loop or in the signing
threads — never share a nonce, and a clock step backwards never produces a lower one.

The venue wants calendar milliseconds, not the core's monotonic time line, so this module (and
only it, in the connector) reads the calendar clock.  It never signs and never sends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def epoch_ms() -> int:
    """Milliseconds since the Unix epoch (the venue's nonce and timestamp unit)."""
    return time.time_ns() // 1_000_000


class NonceSource:
    """One signer's nonces.  Thread-safe; share one instance per signing key."""

    __slots__ = ("_clock_ms", "_last", "_lock")

    def __init__(self, clock_ms: Callable[[], int] = epoch_ms) -> None:
        self._clock_ms = clock_ms
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            nonce = max(self._last + 1, self._clock_ms())
            self._last = nonce
            return nonce

    @property
    def last(self) -> int:
        return self._last
