"""ClockDriver: keeps a sans-I/O machine in step with a clock, on an asyncio loop.

The one driver of the embedded exchange on live time, shared by ``SimVenue`` (the exchange
behind the ``Venue`` protocol) and the loopback twin (the same exchange behind Hyperliquid's
wire).  Each gives a ``step(now)`` that runs its machine up to ``now`` and says when it next
has something due (None: nothing scheduled).  The driver reads the clock, steps, and sleeps
until that time -- at most ``idle_s``, so that time is looked at again even when nothing is
scheduled -- or until ``wake()`` is called (a submission may have made something due sooner).
A step due now yields to the loop once, never spins it.  The driver owns no state of the
machine and decides nothing about orders; an exception from ``step`` ends ``run``.
(``core.harness.loop.SimLoop`` is the virtual-time counterpart: it jumps instead of sleeping.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from core.clock import Clock

Step = Callable[[float], Awaitable[float | None]]


class ClockDriver:
    """Calls ``step(clock.now())`` whenever something is due, on the running loop."""

    def __init__(self, clock: Clock, step: Step, *, idle_s: float = 0.05) -> None:
        self._clock = clock
        self._step = step
        self._idle_s = idle_s  # longest sleep without looking at the clock again
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Step again now rather than at the next due time (call after a submission)."""
        self._wake.set()

    async def run(self) -> None:
        """Step until cancelled (or until ``step`` raises)."""
        clock = self._clock
        idle = self._idle_s
        while True:
            now = clock.now()
            due = await self._step(now)
            wait = idle if due is None else min(max(due - now, 0.0), idle)
            self._wake.clear()
            if wait <= 0:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
