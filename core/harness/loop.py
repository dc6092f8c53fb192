"""SimLoop: the embedded exchange and an agent in virtual time, as fast as the CPU allows.

The loop jumps straight to the next moment anything happens — the exchange's next due time or
the agent's next tick — sets the virtual clock there, hands every delivered event to the agent,
and submits the batches the agent returns.  Nothing waits for real time, so a simulated hour
takes seconds, and the same seed and agent give the same event log byte for byte (D22).  An
optional observer sees every event after the agent handled it (the swarm checks invariants
there).  The loop never reads the system clock and never interprets events itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from core.clock import VirtualClock
from core.commands import Batch
from core.events import Event
from core.venues.sim.exchange import SimExchange

Observer = Callable[[Event, float], None]


class Agent(Protocol):
    """Whatever trades against the exchange; the ``MarketMaker`` has this shape."""

    def handle(self, event: Event, now: float) -> list[Batch]: ...

    def tick(self, now: float) -> list[Batch]: ...


class SimLoop:
    """Drives ``exchange`` and ``agent`` on ``clock``; ticks the agent every ``tick_interval``."""

    def __init__(
        self,
        exchange: SimExchange,
        agent: Agent,
        clock: VirtualClock,
        *,
        tick_interval: float = 0.1,
        observer: Observer | None = None,
        record: bool = True,
    ) -> None:
        if not tick_interval > 0:
            raise ValueError(f"tick_interval must be > 0 seconds, got {tick_interval!r}")
        self.exchange = exchange
        self.agent = agent
        self.clock = clock
        self.tick_interval = tick_interval
        self.observer = observer
        self.log: list[tuple[float, Event]] = []  # (delivery time, event) when recording
        self.events = 0
        self.batches = 0
        self._record = record
        self._started = False
        self._origin = clock.now()
        self._ticks = 0

    def run_until(self, t_end: float) -> None:
        """Run until virtual time ``t_end`` (connecting the exchange on the first call).  On
        return the exchange stands at ``t_end`` too, so hooks called between runs act then."""
        clock = self.clock
        exchange = self.exchange
        if not self._started:
            self._started = True
            exchange.connect(clock.now())
        while True:
            next_tick = self._origin + self._ticks * self.tick_interval
            due = exchange.next_due()
            t = next_tick if due is None or next_tick <= due else due
            if t > t_end:
                break
            clock.set(t)
            events = exchange.advance(t)
            if events:
                self._deliver(events, t)
            if t == next_tick:
                self._ticks += 1
                batches = self.agent.tick(t)
                if batches:
                    self._submit(batches, t)
        clock.set(t_end)
        self._deliver(exchange.advance(t_end), t_end)  # nothing is due yet: moves time only

    def _deliver(self, events: list[Event], now: float) -> None:
        agent = self.agent
        observer = self.observer
        log = self.log if self._record else None
        self.events += len(events)
        for event in events:
            if log is not None:
                log.append((now, event))
            batches = agent.handle(event, now)
            if batches:
                self._submit(batches, now)
            if observer is not None:
                observer(event, now)

    def _submit(self, batches: list[Batch], now: float) -> None:
        for batch in batches:
            self.batches += 1
            self.exchange.submit(batch, now)
