"""PolymarketVenue against the loopback twin over real sockets (127.0.0.1): the real
connector, the twin's CLOB (official-client-compatible REST, both WebSocket channels).

What it proves end to end: the market is read from the venue (D20); credentials are derived
over L1 and every private call passes the twin's L2 check; our computed digest is the order id
the venue answers with (D2); placements are answered per item (D7), post-only crossing is a
price error (D23); a taker's trade reaches us as a provisional maker fill that the chain later
confirms or fails (D38); cancels and cancel-all (D24, D25); the state sync (D16); a tick-size
change re-grids (D39); operating modes refuse as rate limits with the venue's Retry-After
(D29); the dead-man switch arms and its lapse is said (D40); a dropped socket is resynced over
REST before ``Connected`` (D16).  Waits are on conditions with deadlines, never sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from core.clock import WallClock
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    FetchFills,
    Place,
    QueryOrder,
    SyncState,
    TimeInForce,
)
from core.events import (
    AckStatus,
    BookSnapshot,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    Connected,
    Disconnected,
    Event,
    Fill,
    FillSettled,
    FillsFetched,
    HeartbeatState,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PositionSnapshot,
    RejectionClass,
    Side,
    TickSizeChanged,
    VenueStatus,
)
from core.venues.keys import PrivateKey
from core.venues.loopback.polymarket import PmTwinSettings
from core.venues.polymarket.market import fetch_market
from core.venues.polymarket.signing import PmSigner
from core.venues.polymarket.venue import PmSettings, PolymarketVenue
from tests.pm_loopback import KEY, Running, binary, running

E = TypeVar("E")
WAIT = 5.0


class Collector:
    """Every event the venue says, in order; ``wait_for`` waits for one that matches."""

    def __init__(self, venue: PolymarketVenue) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._pump(venue))

    async def _pump(self, venue: PolymarketVenue) -> None:
        async for event in venue.events():
            self.events.append(event)
            self._changed.set()

    async def wait_for(
        self,
        kind: type[E],
        where: Callable[[E], bool] = lambda _: True,
        timeout: float = WAIT,
        since: int = 0,
    ) -> E:
        """The first ``kind`` event matching ``where`` at or after position ``since``."""
        seen = since
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events[seen:]:
                    if isinstance(event, kind) and where(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture
def twin() -> Iterator[Running]:
    with running() as r:
        yield r


async def on_twin(twin: Running, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on the twin's own loop, without blocking ours."""
    return await asyncio.to_thread(twin.call, fn)


@asynccontextmanager
async def connected(
    twin: Running, **settings: Any
) -> AsyncIterator[tuple[PolymarketVenue, Collector]]:
    market = await asyncio.to_thread(fetch_market, twin.url, twin.twin.condition_id + ":Yes")
    signer = PmSigner(PrivateKey(KEY), chain_id=137)
    options: dict[str, Any] = {"request_timeout_s": 2.0} | settings
    venue = PolymarketVenue(market, signer, PmSettings.loopback(twin.url, **options), WallClock())
    collector = Collector(venue)
    try:
        await venue.connect()
        await collector.wait_for(Connected)
        yield venue, collector
    finally:
        await venue.close()
        await collector.stop()


def run(twin: Running, body: Callable[[PolymarketVenue, Collector], Any], **settings: Any) -> None:
    async def main() -> None:
        async with connected(twin, **settings) as (venue, collector):
            await body(venue, collector)

    asyncio.run(main())


_ids = iter(range(1, 10_000))


async def submit(venue: PolymarketVenue, *commands: Command) -> int:
    batch_id = next(_ids)
    await venue.submit(Batch(batch_id, tuple(commands)))
    return batch_id


def bid(cloid: str, price: int, size: int = 1000, tif: TimeInForce = TimeInForce.ALO) -> Place:
    return Place(cloid, Side.BID, price, size, tif)


def test_market_is_read_from_the_venue(twin: Running) -> None:
    market = fetch_market(twin.url, twin.twin.condition_id)
    assert (
        market.token_id == twin.twin.yes.token_id and market.other_token_id == twin.twin.no.token_id
    )
    assert market.tick == Decimal("0.01") and market.min_size == Decimal("5")
    by_token = fetch_market(twin.url, twin.twin.no.token_id)
    assert by_token.token_id == twin.twin.no.token_id and by_token.outcome == "No"
    inst = market.instrument()
    assert inst.grid == 100 and inst.min_lots == 500 and inst.title == market.title


def test_connect_book_heartbeat_and_a_resting_bid_D2_D40(twin: Running) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        book = await col.wait_for(BookSnapshot)
        assert book.bids and book.asks and book.bids[0][0] < book.asks[0][0]
        armed = await col.wait_for(HeartbeatState)
        assert armed.armed and not armed.lapsed
        price = book.bids[0][0] - 300
        batch = await submit(venue, bid("c1", price))
        ack = await col.wait_for(PlaceAck, lambda e: e.cloid == "c1")
        assert ack.status is AckStatus.RESTING and ack.batch_id == batch
        full = venue.full_order_id(ack.oid)
        assert full is not None and full in twin.twin.orders  # our digest is the venue's id
        update = await col.wait_for(OrderUpdate, lambda e: e.oid == ack.oid)
        assert update.status is VenueStatus.OPEN and update.cloid == "c1"

    run(twin, body)


def test_a_taker_fills_our_bid_provisionally_then_confirmed_D38(twin: Running) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        book = await col.wait_for(BookSnapshot)
        price = book.bids[0][0]  # join the best bid: the taker's sale reaches us
        await submit(venue, bid("c1", price, 1000))
        ack = await col.wait_for(PlaceAck, lambda e: e.cloid == "c1")
        await on_twin(twin, lambda: twin.twin.take(False, "100", str(Decimal(price) / 10000)))
        fill = await col.wait_for(Fill, lambda f: f.oid == ack.oid)
        assert fill.final is False and fill.side is Side.BID and fill.price == price
        assert fill.cloid == "c1" and 0 < fill.size <= 1000
        settled = await col.wait_for(FillSettled, lambda s: s.tid == fill.tid)
        assert settled.confirmed is True and settled.status == "CONFIRMED"

    run(twin, body)


def test_a_failed_trade_is_reversed_once_D38(twin: Running) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        book = await col.wait_for(BookSnapshot)
        price = book.bids[0][0]
        await on_twin(twin, lambda: twin.twin.script_trades(["RETRYING", "FAILED"], 5))
        await submit(venue, bid("c1", price, 1000))
        ack = await col.wait_for(PlaceAck, lambda e: e.cloid == "c1")
        await on_twin(twin, lambda: twin.twin.take(False, "100", str(Decimal(price) / 10000)))
        fill = await col.wait_for(Fill, lambda f: f.oid == ack.oid)
        settled = await col.wait_for(FillSettled, lambda s: s.tid == fill.tid)
        assert settled.confirmed is False and settled.status == "FAILED"
        assert len([s for s in col.of(FillSettled) if s.tid == fill.tid]) == 1

    run(twin, body)


def test_post_only_crossing_is_a_price_error_and_batches_answer_per_item_D7_D23(
    twin: Running,
) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        book = await col.wait_for(BookSnapshot)
        ask = book.asks[0][0]
        await submit(
            venue, bid("ok", book.bids[0][0] - 200), bid("cross", ask), bid("tiny", 4000, 100)
        )
        ok = await col.wait_for(PlaceAck, lambda e: e.cloid == "ok")
        cross = await col.wait_for(PlaceRejected, lambda e: e.cloid == "cross")
        tiny = await col.wait_for(PlaceRejected, lambda e: e.cloid == "tiny")
        assert ok.status is AckStatus.RESTING
        assert cross.rclass is RejectionClass.PRICE_ERROR and "crosses" in cross.reason
        assert tiny.rclass is RejectionClass.PRICE_ERROR and "minimum" in tiny.reason

    run(twin, body)


def test_cancel_then_cancel_again_is_gone_and_cancel_all_sweeps_D24_D25(twin: Running) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        book = await col.wait_for(BookSnapshot)
        low = book.bids[0][0] - 500
        await submit(venue, bid("a", low), bid("b", low - 100), bid("c", low - 200))
        acks = [await col.wait_for(PlaceAck, lambda e, c=c: e.cloid == c) for c in "abc"]
        await submit(venue, Cancel("a", acks[0].oid))
        await col.wait_for(CancelAck, lambda e: e.cloid == "a")
        await submit(venue, Cancel("a", acks[0].oid))
        again = await col.wait_for(CancelRejected, lambda e: e.cloid == "a")
        assert again.gone
        await submit(venue, CancelAll("test"))
        done = await col.wait_for(CancelAllDone)
        assert (done.swept, done.failed, done.error) == (2, 0, "")
        await submit(venue, SyncState("verify"))
        listing = await col.wait_for(OpenOrders)
        assert listing.orders == () and listing.bad_rows == 0
        await submit(venue, QueryOrder("b", acks[1].oid))
        report = await col.wait_for(OrderStatusReport, lambda r: r.cloid == "b")
        assert report.status is VenueStatus.CANCELED

    run(twin, body)


def test_state_sync_and_fill_fetch_D16_D33(twin: Running) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        book = await col.wait_for(BookSnapshot)
        price = book.bids[0][0]
        await submit(venue, bid("c1", price, 1000), bid("c2", price - 400, 600))
        first = await col.wait_for(PlaceAck, lambda e: e.cloid == "c1")
        await col.wait_for(PlaceAck, lambda e: e.cloid == "c2")
        await on_twin(twin, lambda: twin.twin.take(False, "100", str(Decimal(price) / 10000)))
        fill = await col.wait_for(Fill, lambda f: f.oid == first.oid)
        await col.wait_for(FillSettled, lambda s: s.tid == fill.tid)
        await submit(venue, SyncState("check"))
        listing = await col.wait_for(OpenOrders)
        position = await col.wait_for(PositionSnapshot)
        assert [o.cloid for o in listing.orders] == ["c2"]
        assert position.position == sum(f.size for f in col.of(Fill) if f.side is Side.BID)
        await submit(venue, FetchFills(60.0, "gap"))
        fetched = await col.wait_for(FillsFetched)
        # The fill was already delivered (and settled): the fetch finds it and repeats nothing.
        assert (fetched.count, fetched.error, fetched.bad_rows) == (0, "", 0)

    run(twin, body)


def test_tick_size_change_regrids_D39(twin: Running) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        await col.wait_for(BookSnapshot)
        await on_twin(twin, lambda: twin.twin.change_tick("0.001"))
        change = await col.wait_for(TickSizeChanged)
        assert change.grid == 10 and change.tick in ("0.001", "0.0010")
        assert venue.instrument.grid == 10

    run(twin, body)


def test_operating_modes_refuse_as_rate_limits_with_retry_after_D29(twin: Running) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        book = await col.wait_for(BookSnapshot)
        low = book.bids[0][0] - 500
        await on_twin(twin, lambda: twin.twin.set_mode("cancel_only", 30))
        await submit(venue, bid("c1", low))
        refused = await col.wait_for(PlaceRejected, lambda e: e.cloid == "c1")
        assert refused.rclass is RejectionClass.RATE_LIMIT
        assert venue.trading_mode != "normal"
        await on_twin(twin, lambda: twin.twin.restart(30, 60))
        await submit(venue, bid("c2", low))
        restarting = await col.wait_for(PlaceRejected, lambda e: e.cloid == "c2")
        assert restarting.rclass is RejectionClass.RATE_LIMIT and "retry after" in restarting.reason

    run(twin, body)


def test_a_dropped_socket_is_resynced_before_connected_D16(twin: Running) -> None:
    async def body(venue: PolymarketVenue, col: Collector) -> None:
        book = await col.wait_for(BookSnapshot)
        await submit(venue, bid("c1", book.bids[0][0] - 300))
        await col.wait_for(PlaceAck, lambda e: e.cloid == "c1")
        before = len(col.events)
        await on_twin(twin, twin.twin.drop_ws)
        down = await col.wait_for(Disconnected, since=before)
        start = before + col.events[before:].index(down) + 1
        await col.wait_for(Connected, timeout=15, since=start)
        after = col.events[start:]
        kinds = [type(e) for e in after]
        assert OpenOrders in kinds and PositionSnapshot in kinds
        assert kinds.index(OpenOrders) < kinds.index(Connected)
        listing = next(e for e in after if isinstance(e, OpenOrders))
        assert [o.cloid for o in listing.orders] == ["c1"]

    run(twin, body)


def test_heartbeat_lapse_is_said_and_rearmed_D40() -> None:
    settings = PmTwinSettings(heartbeat_timeout_s=0.3)
    with running(binary(), settings) as twin:

        async def body(venue: PolymarketVenue, col: Collector) -> None:
            first = await col.wait_for(HeartbeatState)
            assert first.armed
            lapse = await col.wait_for(HeartbeatState, lambda h: h.lapsed)
            assert not lapse.armed and "refused" in lapse.text
            rearmed = await col.wait_for(HeartbeatState, since=col.events.index(lapse) + 1)
            assert rearmed.armed  # a new chain, armed again

        run(twin, body, heartbeat_s=0.6)


def test_a_silent_socket_is_detected_and_replaced_D16(twin: Running) -> None:
    """Reference 7.9: streams freeze without an error; no PONG and no data in time is a stall,
    the socket is replaced and the state resynced."""

    async def body(venue: PolymarketVenue, col: Collector) -> None:
        await col.wait_for(BookSnapshot)
        await on_twin(twin, twin.twin.stall_ws)
        down = await col.wait_for(Disconnected)
        assert "closed" in down.reason or "stall" in down.reason
        await on_twin(twin, twin.twin.resume_ws)
        start = len(col.events)
        await col.wait_for(Connected, timeout=15, since=start)

    run(twin, body, ws_ping_interval_s=0.2, ws_silence_s=0.3)
