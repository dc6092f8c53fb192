"""Clocks: the one place in ``core`` that may read the system time.

Everything in the core takes ``now`` as an argument; the shell asks a ``Clock`` for it.  The wall
clock reads ``time.monotonic`` (never the calendar clock: a clock that jumps back would reorder
timers); the virtual clock is set by the simulation loop and only moves forward, so that a seeded
run is repeatable.  Nothing else in ``core`` may import ``time`` to read the clock.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Seconds on a monotonic time line; the origin is arbitrary."""

    def now(self) -> float: ...

    def epoch_offset(self) -> float | None:
        """What to add to ``now()`` for seconds since the Unix epoch (UTC), so that times can
        be shown as the calendar's and matched with the venue's records; None when this time
        line is not the calendar's (virtual time)."""
        ...


class WallClock:
    """Real time, for the console and the live runner."""

    def now(self) -> float:
        return time.monotonic()

    def epoch_offset(self) -> float:
        return time.time() - time.monotonic()


class VirtualClock:
    """Time that moves only when the simulation says so; never backwards."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def epoch_offset(self) -> None:
        return None

    def set(self, t: float) -> None:
        """Jump to ``t``.  Going back would let an effect precede its cause, so it is refused."""
        if t < self._now:
            raise ValueError(f"virtual clock cannot go back from {self._now!r} to {t!r}")
        self._now = t

    def advance(self, dt: float) -> None:
        if dt < 0:
            raise ValueError(f"virtual clock cannot advance by a negative amount ({dt!r})")
        self._now += dt


# The shell's other readings of the time, here so that this module stays the only reader:
# calendar time for journal stamps and file names, a monotonic reading for the journal's lag
# and the metrics' request rate, and a fine-grained counter for budgets and elapsed times.
def unix_now() -> float:
    return time.time()


def monotonic_now() -> float:
    return time.monotonic()


def counter() -> float:
    return time.perf_counter()
