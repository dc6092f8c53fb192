"""SimVenue: the embedded exchange on the wall clock, behind the async ``Venue`` protocol.

This is what ``mm-console`` trades against by default.  One asyncio task (the ``ClockDriver``
the loopback twin uses too) keeps the sans-I/O ``SimExchange`` in step with the clock: it
advances the exchange to ``clock.now()``, queues what the exchange delivered, and sleeps until
the exchange's next due time (or until a submission wakes it).  Submissions go straight to
the exchange, stamped with the clock; their answers come back on ``events()`` after the
simulated latency.  The driver never blocks the loop, never decides anything about orders, and
owns no state the exchange does not already hold.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.clock import Clock
from core.commands import Batch
from core.events import Event
from core.simconfig import SimConfig
from core.units import Instrument
from core.venues.sim.driver import ClockDriver
from core.venues.sim.exchange import SimExchange


@dataclass(frozen=True, slots=True)
class _End:
    """Marks the end of the event stream; carries the driver's crash, if it crashed."""

    error: BaseException | None = None


class SimVenue:
    """The simulated exchange as a live venue, bound to its one market."""

    def __init__(
        self, config: SimConfig, clock: Clock, *, name: str = "sim", idle_s: float = 0.05
    ) -> None:
        self.name = name
        self.config = config
        self.instrument: Instrument = config.instrument()
        self._clock = clock
        self._exchange: SimExchange | None = None
        self._queue: asyncio.Queue[Event | _End] = asyncio.Queue()
        self._driver = ClockDriver(clock, self._step, idle_s=idle_s)
        self._task: asyncio.Task[None] | None = None

    @property
    def exchange(self) -> SimExchange:
        """The exchange behind the venue (for the view and for tests); exists after connect."""
        if self._exchange is None:
            raise RuntimeError(f"venue {self.name!r} is not connected yet: call connect() first")
        return self._exchange

    async def connect(self) -> None:
        if self._task is not None:
            return
        now = self._clock.now()
        self._exchange = SimExchange(self.config, start=now, name=self.name)
        self._exchange.connect(now)
        self._task = asyncio.create_task(self._drive(), name=f"{self.name}-driver")

    async def events(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    async def submit(self, batch: Batch) -> None:
        self.exchange.submit(batch, self._clock.now())
        self._driver.wake()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._queue.put_nowait(_End())

    async def _drive(self) -> None:
        try:
            await self._driver.run()
        except Exception as exc:
            self._queue.put_nowait(_End(exc))

    async def _step(self, now: float) -> float | None:
        """Advance the exchange to ``now``, queue what it delivered; when it is next due."""
        exchange = self.exchange
        queue = self._queue
        for event in exchange.advance(now):
            queue.put_nowait(event)
        return exchange.next_due()
