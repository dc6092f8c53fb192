"""Helpers for tests of the embedded exchange alone (no maker): a still market, one fault.

``exchange_with(**faults)`` is a connected ``SimExchange`` on a market that does not move, with
no latency and only the given faults on, so that what a fault does is the only thing that
happens; ``send`` submits commands and returns what the client hears by then.  ``Idle`` is an
agent that only listens.
"""

from __future__ import annotations

from typing import TypeVar

from core.commands import Batch, Command
from core.events import Event
from core.simconfig import FaultConfig, FlowConfig, SimConfig
from core.venues.sim.exchange import SimExchange

E = TypeVar("E")


class Idle:
    """An agent that only listens."""

    def handle(self, event: Event, now: float) -> list[Batch]:
        return []

    def tick(self, now: float) -> list[Batch]:
        return []


def exchange_with(**faults: object) -> SimExchange:
    config = SimConfig(
        seed=1, flow=FlowConfig.still(), faults=FaultConfig.profile("instant", **faults)
    )
    exchange = SimExchange(config)
    exchange.connect(0.0)
    exchange.advance(0.0)
    return exchange


def send(exchange: SimExchange, *commands: Command, t: float, batch_id: int = 1) -> list[Event]:
    exchange.submit(Batch(batch_id, commands), t)
    return exchange.advance(t)


def only(events: list[Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]
