"""SimVenue: the same exchange behind the async Venue protocol, on the wall clock.

No sleeping: each test awaits the events it expects, with a generous timeout so that a broken
driver fails instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

from core.clock import WallClock
from core.commands import Batch, Place, TimeInForce
from core.events import BookSnapshot, Connected, Event, OrderUpdate, PlaceAck, Side, VenueStatus
from core.simconfig import FaultConfig, FlowConfig, SimConfig
from core.venues.base import Venue
from core.venues.sim.venue import SimVenue

E = TypeVar("E")


def still_venue() -> SimVenue:
    config = SimConfig(flow=FlowConfig.still(), faults=FaultConfig.profile("instant"))
    return SimVenue(config, WallClock())


async def next_of(events: AsyncIterator[Event], kind: type[E]) -> E:
    async with asyncio.timeout(5.0):
        async for event in events:
            if isinstance(event, kind):
                return event
    raise AssertionError(f"the stream ended before a {kind.__name__}")


def test_sim_venue_satisfies_the_venue_protocol() -> None:
    venue: Venue = still_venue()
    assert venue.name == "sim"


def test_connect_delivers_connected_and_a_book_snapshot_then_answers_a_placement() -> None:
    async def scenario() -> None:
        venue = still_venue()
        await venue.connect()
        events = venue.events()
        assert await next_of(events, Connected) == Connected("sim")
        snapshot = await next_of(events, BookSnapshot)
        best_bid = snapshot.bids[0][0]
        await venue.submit(Batch(1, (Place("c1", Side.BID, best_bid, 100, TimeInForce.ALO),)))
        ack = await next_of(events, PlaceAck)
        assert ack.cloid == "c1" and ack.batch_id == 1
        update = await next_of(events, OrderUpdate)
        assert update.status is VenueStatus.OPEN
        assert [o.oid for o in venue.exchange.open_orders()] == [ack.oid]
        await venue.close()

    asyncio.run(scenario())


def test_close_ends_the_event_stream() -> None:
    async def scenario() -> list[Event]:
        venue = still_venue()
        await venue.connect()
        events = venue.events()
        await next_of(events, BookSnapshot)
        await venue.close()
        async with asyncio.timeout(5.0):
            return [event async for event in events]

    assert asyncio.run(scenario()) == []


def test_a_lively_market_streams_on_the_wall_clock() -> None:
    async def scenario() -> int:
        config = SimConfig(seed=1, faults=FaultConfig.profile("instant"))
        venue = SimVenue(config, WallClock())
        await venue.connect()
        events = venue.events()
        await next_of(events, BookSnapshot)
        seen = 0
        async with asyncio.timeout(5.0):
            async for _ in events:
                seen += 1
                if seen == 5:
                    break
        await venue.close()
        return seen

    assert asyncio.run(scenario()) == 5
