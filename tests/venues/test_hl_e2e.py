"""The Hyperliquid connector end to end, over real sockets on 127.0.0.1, against the loopback
twin (the embedded exchange behind Hyperliquid's protocol, signatures checked).

Every wait is on a condition or an event with a timeout; nothing sleeps to let time pass.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace

import httpx

from core.actions import Kill
from core.clock import WallClock
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    FetchFills,
    Place,
    QueryOrder,
    SetLeverage,
    SyncState,
)
from core.commands import TimeInForce as Tif
from core.config import Config
from core.events import (
    AckStatus,
    BookSnapshot,
    CancelAck,
    CancelAllDone,
    Channel,
    Connected,
    Disconnected,
    Fill,
    FillsFetched,
    LeverageInfo,
    MalformedMessage,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    PositionSnapshot,
    QueryFailed,
    RejectionClass,
    Side,
    SyncFailed,
    Trade,
    VenueNotice,
    VenueStatus,
)
from core.maker import MakerParams, MarketMaker
from core.runner import Runner, RunResult
from core.venues.hyperliquid.signing import Signer
from core.venues.hyperliquid.venue import HyperliquidVenue
from core.venues.hyperliquid.wire import OrderAction, action_dict
from core.venues.keys import PrivateKey
from core.venues.loopback.faults import TwinFaults
from core.view import ConsoleView, Mode, SweepPhase
from tests.hl_loopback import KEY, OTHER_KEY, Collector, Loopback, lively, loopback

CLOIDS = [f"0x{0xABC0 + i:032x}" for i in range(20)]


def maker_and_runner(venue: HyperliquidVenue) -> tuple[MarketMaker, Runner]:
    params = MakerParams.from_config(Config(), venue.instrument, live=True)
    maker = MarketMaker(params, venue.instrument, venue="hyperliquid (loopback)", cloid_prefix=7)
    runner = Runner(maker, venue, WallClock(), tick_interval=0.05, publish_hz=20)
    return maker, runner


async def view_until(runner: Runner, done: Callable[[ConsoleView], bool], timeout: float) -> None:
    """Wait until a published view satisfies ``done`` (the runner publishes at 20 Hz)."""
    reached = asyncio.Event()

    def check(view: ConsoleView) -> None:
        if done(view):
            reached.set()

    runner.on_view = check
    async with asyncio.timeout(timeout):
        await reached.wait()
    runner.on_view = None


async def stop(runner: Runner, task: asyncio.Task[RunResult]) -> RunResult:
    runner.request_stop("test finished")
    async with asyncio.timeout(20):
        return await task


async def connected_venue(lb: Loopback, **kwargs: object) -> tuple[HyperliquidVenue, Collector]:
    venue = await lb.venue(**kwargs)  # type: ignore[arg-type]
    await venue.connect()
    events = Collector(venue)
    await events.wait_for(Connected)
    return venue, events


# ---- the maker, quoting for real ---------------------------------------------------------


def test_quotes_get_filled_and_the_run_ends_with_the_venue_empty_D19_D25() -> None:
    """The real Runner + MarketMaker against the twin: start-up sweep, quotes, fills, and a
    clean stop that leaves no order on the venue; the position agrees with the exchange."""

    async def scenario() -> None:
        async with loopback(lively(seed=3)) as lb:
            venue = await lb.venue()
            maker, runner = maker_and_runner(venue)
            task = asyncio.create_task(runner.run())
            await view_until(runner, lambda v: v.counters.fills >= 3, timeout=20)
            assert lb.twin.open_order_count() > 0  # quoting
            view = runner.latest_view
            assert view is not None
            # The header's venue answer time and UTC clock (issue 16): the loopback answers
            # in well under a second, and the runner knows the calendar.
            assert view.answer_s is not None and 0 < view.answer_s < 1.0
            assert view.epoch_offset is not None and view.started is not None
            result = await stop(runner, task)
            assert result.clean and not result.errors, result
            assert result.sweep is SweepPhase.VERIFIED
            assert lb.twin.open_order_count() == 0
            assert maker.position.lots == lb.twin.position
            assert maker.counters["places_sent"] > 0
            assert venue.counters["posts_ws"] > 0  # actions went by WebSocket post

    asyncio.run(scenario())


def test_fills_missed_in_a_disconnect_are_replayed_and_counted_once_D4_D16() -> None:
    """Drop the WebSocket, trade against our quotes while it is down, let it reconnect: the
    missed fills arrive through the replay and the catch-up, every fill counts exactly once."""

    async def scenario() -> None:
        async with loopback(lively(seed=5)) as lb:
            venue = await lb.venue()
            maker, runner = maker_and_runner(venue)
            task = asyncio.create_task(runner.run())
            await view_until(
                runner, lambda v: v.counters.fills >= 2 and len(v.orders) >= 4, timeout=20
            )
            before = lb.twin.fill_tids
            await lb.twin.disconnect_all()
            lb.twin.take(Side.BID, 40_000)  # sweeps the asks, ours included, while we are away
            lb.twin.take(Side.ASK, 40_000)
            missed = lb.twin.fill_tids
            assert missed - before, "the sweeps should have filled some of our quotes"
            await view_until(
                runner, lambda v: venue.counters["reconnects"] >= 1 and v.connected, timeout=10
            )
            await view_until(
                runner,
                lambda v: missed <= {f.tid for f in maker.fills if f.tid is not None},
                timeout=10,
            )
            result = await stop(runner, task)
            assert result.clean and not result.errors, result
            assert maker.counters["duplicate_fills"] > 0  # the replay repeated what we had
            assert maker.position.lots == lb.twin.position
            seen = [f.tid for f in maker.fills if f.tid is not None]
            assert len(seen) == len(set(seen))
            assert set(seen) == lb.twin.fill_tids

    asyncio.run(scenario())


def test_kill_cancels_everything_at_the_venue_D18_D25() -> None:
    async def scenario() -> None:
        async with loopback(lively(seed=4)) as lb:
            venue = await lb.venue()
            _, runner = maker_and_runner(venue)
            task = asyncio.create_task(runner.run())
            await view_until(runner, lambda v: lb.twin.open_order_count() >= 4, timeout=20)
            runner.operate(Kill("test"))
            await view_until(
                runner,
                lambda v: v.mode is Mode.KILLED and v.sweep is SweepPhase.VERIFIED,
                timeout=10,
            )
            assert lb.twin.open_order_count() == 0
            result = await stop(runner, task)
            assert result.mode is Mode.KILLED and result.clean

    asyncio.run(scenario())


# ---- the connector, command by command ---------------------------------------------------


def test_place_sync_query_and_cancel_over_ws_and_over_rest() -> None:
    async def scenario(post_over_ws: bool) -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb, post_over_ws=post_over_ws)
            book = await events.wait_for(BookSnapshot)
            bid = book.bids[0][0] - 100
            await venue.submit(Batch(1, (Place(CLOIDS[0], Side.BID, bid, 5000),)))
            ack = await events.wait_for(PlaceAck)
            assert (ack.cloid, ack.status, ack.batch_id) == (CLOIDS[0], AckStatus.RESTING, 1)
            await venue.submit(Batch(2, (SyncState("test"), QueryOrder(CLOIDS[0], None))))
            orders = await events.wait_for(OpenOrders)
            assert [(o.oid, o.cloid, o.price, o.size) for o in orders.orders] == [
                (ack.oid, CLOIDS[0], bid, 5000)
            ]
            assert (await events.wait_for(PositionSnapshot)).position == 0
            report = await events.wait_for(OrderStatusReport)
            assert (report.oid, report.status, report.remaining) == (
                ack.oid,
                VenueStatus.OPEN,
                5000,
            )
            await venue.submit(Batch(3, (Cancel(CLOIDS[0], ack.oid),)))
            assert await events.wait_for(CancelAck) == CancelAck(CLOIDS[0], ack.oid, 3)
            assert lb.twin.open_order_count() == 0
            expected = "posts_ws" if post_over_ws else "posts_rest"
            assert venue.counters[expected] == 2
            await venue.close()
            await events.stop()

    asyncio.run(scenario(True))
    asyncio.run(scenario(False))


def test_a_placement_past_its_expiry_is_refused_by_the_venue_D24() -> None:
    """A placement batch carries its expiry into the signed action (``expiresAfter``): one
    that reaches the venue too late is refused there, never rests.  Within it, it rests."""

    async def scenario() -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb)
            book = await events.wait_for(BookSnapshot)
            bid = book.bids[0][0] - 100
            late = Batch(1, (Place(CLOIDS[0], Side.BID, bid, 5000),), expires_in=-1.0)
            await venue.submit(late)
            rejected = await events.wait_for(PlaceRejected)
            assert (rejected.cloid, rejected.reason) == (CLOIDS[0], "Action already expired")
            assert lb.twin.open_order_count() == 0
            await venue.submit(Batch(2, (Place(CLOIDS[1], Side.BID, bid, 5000),), 5.0))
            ack = await events.wait_for(PlaceAck)
            assert (ack.cloid, ack.status) == (CLOIDS[1], AckStatus.RESTING)
            await venue.close()
            await events.stop()

    asyncio.run(scenario())


def test_cancel_all_sweeps_orders_we_never_tracked_D25() -> None:
    async def scenario() -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb)
            book = await events.wait_for(BookSnapshot)
            places = tuple(
                Place(CLOIDS[i], Side.BID, book.bids[0][0] - 100 * (i + 1), 5000) for i in range(3)
            )
            await venue.submit(Batch(1, places))
            await events.wait_for(PlaceAck, lambda a: a.cloid == CLOIDS[2])
            assert lb.twin.open_order_count() == 3
            await venue.submit(Batch(2, (CancelAll("test"),)))
            done = await events.wait_for(CancelAllDone)
            assert (done.swept, done.failed, done.batch_id) == (3, 0, 2)
            assert lb.twin.open_order_count() == 0
            await venue.close()
            await events.stop()

    asyncio.run(scenario())


def test_a_partial_immediate_fill_is_reported_as_partial_D3() -> None:
    async def scenario() -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb)
            book = await events.wait_for(BookSnapshot)
            best_ask, ask_size = book.asks[0]
            size = ask_size + 5000
            await venue.submit(Batch(1, (Place(CLOIDS[0], Side.BID, best_ask, size, Tif.GTC),)))
            ack = await events.wait_for(PlaceAck)
            assert ack.status is AckStatus.PARTIALLY_FILLED
            assert ack.filled == ask_size and ack.filled_value == ask_size * best_ask
            fills = [await events.wait_for(Fill)]
            assert fills[0].cloid == CLOIDS[0] and not fills[0].snapshot
            assert lb.twin.open_order_count() == 1
            await venue.close()
            await events.stop()

    asyncio.run(scenario())


def test_unknown_outcomes_are_resolved_by_order_status_D8() -> None:
    """The twin executes the placement but its answer never comes: over WebSocket the post
    times out, over REST the connection closes; either way the order is unknown, and
    ``orderStatus`` by cloid finds it resting."""

    async def scenario(post_over_ws: bool) -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb, post_over_ws=post_over_ws, timeout_s=0.5)
            book = await events.wait_for(BookSnapshot)
            lb.twin.drop_next_answers(1)
            await venue.submit(Batch(1, (Place(CLOIDS[1], Side.ASK, book.asks[0][0] + 100, 5000),)))
            unknown = await events.wait_for(PlaceUnknown)
            assert unknown.cloid == CLOIDS[1] and unknown.batch_id == 1
            assert not events.of(PlaceAck)
            await venue.submit(Batch(2, (QueryOrder(CLOIDS[1], None),)))
            report = await events.wait_for(OrderStatusReport)
            assert report.status is VenueStatus.OPEN and report.cloid == CLOIDS[1]
            assert report.oid is not None
            await venue.close()
            await events.stop()

    asyncio.run(scenario(True))
    asyncio.run(scenario(False))


def test_rate_limits_become_rate_limit_rejections_D11() -> None:
    """A 429 storm (HTTP 429, or its WebSocket post twin) and an exhausted address budget
    ("Too many cumulative requests") both reach the maker as RateLimit, raw text kept; and the
    connector refuses locally before the venue has to, once its own budget is spent."""

    async def scenario() -> None:
        async with loopback(faults=TwinFaults(address_budget=3)) as lb:
            for post_over_ws in (True, False):
                venue, events = await connected_venue(lb, post_over_ws=post_over_ws)
                lb.twin.storm(30)
                await venue.submit(Batch(1, (Place(CLOIDS[0], Side.BID, 200000, 5000),)))
                rejected = await events.wait_for(PlaceRejected)
                assert rejected.rclass is RejectionClass.RATE_LIMIT and "429" in rejected.reason
                lb.twin.fault_state.end_storm()
                await venue.close()
                await events.stop()
            venue, events = await connected_venue(lb)
            places = tuple(Place(CLOIDS[i], Side.BID, 200000 - i, 5000) for i in range(4))
            await venue.submit(Batch(2, places))  # the connector knows the cap is 3
            local = await events.wait_for(PlaceRejected, lambda r: r.batch_id == 2)
            assert local.rclass is RejectionClass.RATE_LIMIT
            assert local.reason == "local rate budget: address requests 0 of 3 used"
            assert venue.budget.view(0).refused_locally == 1
            venue.budget.set_address(used=0, cap=1000)  # a stale view: the venue says no itself
            await venue.submit(Batch(3, places))
            venue_says = await events.wait_for(PlaceRejected, lambda r: r.batch_id == 3)
            assert venue_says.reason.startswith("Too many cumulative requests sent (4 > 3)")
            assert venue_says.rclass is RejectionClass.RATE_LIMIT
            assert len([r for r in events.of(PlaceRejected) if r.batch_id == 3]) == 4
            assert lb.twin.open_order_count() == 0
            await venue.close()
            await events.stop()

    asyncio.run(scenario())


def test_a_signing_bug_fails_at_the_twin_like_at_the_venue() -> None:
    """A signature by a key the account never approved recovers to a stranger."""

    async def scenario() -> None:
        async with loopback() as lb:
            stranger = Signer(PrivateKey(OTHER_KEY), is_mainnet=False)
            venue, events = await connected_venue(lb, signer=stranger)
            await venue.submit(Batch(1, (Place(CLOIDS[0], Side.BID, 200000, 5000),)))
            rejected = await events.wait_for(PlaceRejected)
            assert rejected.reason == (
                f"L1 error: User or API Wallet {stranger.address} does not exist."
            )
            assert lb.twin.fault_state.counts["bad_signatures"] == 1
            mainnet_signer = Signer(PrivateKey(KEY), is_mainnet=True)  # source "a": wrong here
            body = mainnet_signer.envelope(action_dict(OrderAction(orders=[])))
            async with httpx.AsyncClient() as client:
                answer = (await client.post(f"{lb.server.url}/exchange", json=body)).json()
            assert answer["status"] == "err" and "does not exist" in answer["response"]
            await venue.close()
            await events.stop()

    asyncio.run(scenario())


def test_nonces_are_checked_per_signer_and_malformed_bodies_get_422() -> None:
    async def scenario() -> None:
        async with loopback() as lb:
            body = lb.signer.envelope({"type": "noop"})
            async with httpx.AsyncClient(base_url=lb.server.url) as client:
                first = (await client.post("/exchange", json=body)).json()
                again = (await client.post("/exchange", json=body)).json()
                assert first == {"status": "ok", "response": {"type": "default"}}
                assert again == {
                    "status": "err",
                    "response": f"Invalid nonce: duplicate nonce {body['nonce']}",
                }
                bad = dict(
                    body,
                    action={"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 5.5},
                )
                reply = await client.post("/exchange", json=bad)
                assert reply.status_code == 422
                assert reply.text.startswith("Failed to deserialize the JSON body")

    asyncio.run(scenario())


def test_leverage_above_the_cap_believes_the_venue_D14() -> None:
    async def scenario() -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb)
            await venue.submit(Batch(1, (SetLeverage(50),)))
            capped = await events.wait_for(LeverageInfo)
            assert capped.leverage == 25 and "25x" in capped.source
            await venue.submit(Batch(2, (SetLeverage(10),)))
            ok = await events.wait_for(LeverageInfo, lambda e: e.leverage == 10)
            assert ok.source == "updateLeverage accepted"
            assert lb.twin.exchange.leverage == 10
            await venue.close()
            await events.stop()

    asyncio.run(scenario())


def test_dead_man_switch_is_armed_and_the_volume_gate_is_shown() -> None:
    async def scenario(gate: bool) -> None:
        minimum = 1_000_000 if gate else 0  # the venue's gate; 0: an account that has traded
        async with loopback(faults=TwinFaults(dead_man_min_volume=minimum)) as lb:
            venue, events = await connected_venue(lb, dead_man_s=10.0)
            if gate:
                notice = await events.wait_for(VenueNotice, lambda n: "dead man" in n.kind)
                assert "Required: $1000000" in notice.text
                assert venue.dead_man_status.startswith("unavailable: Cannot set scheduled")
            else:
                armed = await events.wait_for(VenueNotice, lambda n: "dead man" in n.kind)
                assert armed.text.startswith("armed")
                assert lb.twin.dead_man_armed
                assert venue.dead_man_status.startswith("armed")
            await venue.close()
            assert not lb.twin.dead_man_armed  # a clean exit clears it
            await events.stop()

    asyncio.run(scenario(False))
    asyncio.run(scenario(True))


def test_a_malformed_stream_message_is_reported_and_its_good_rows_kept_D34() -> None:
    """D34: a message that cannot be read at all is one MalformedMessage; one bad row among
    good ones loses only itself -- the good trades arrive, one report follows them.  An
    unknown channel is a notice, and the connection stays up throughout."""

    async def scenario() -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb)
            trade = {"coin": "ETH", "side": "A", "px": "3001.5", "sz": "0.3", "time": 1, "tid": 5}
            lb.twin.send_raw("trades", {"not": "a list"})
            lb.twin.send_raw("l2Book", {"coin": "ETH", "time": 1, "levels": [[{"px": "x"}], []]})
            lb.twin.send_raw("trades", [trade, {**trade, "px": "NaN"}, trade])
            lb.twin.send_raw("mystery", [1, 2, 3])
            await events.wait_for(VenueNotice, lambda n: n.kind == "unknown channel")
            whole, book, salvaged = events.of(MalformedMessage)
            assert (whole.channel, whole.bad_rows, whole.good_rows) == (Channel.MARKET, 1, 0)
            assert whole.text.startswith("trades: ") and book.text.startswith("l2Book: ")
            assert (salvaged.bad_rows, salvaged.good_rows) == (1, 2)
            assert [t.price for t in events.of(Trade)] == [300150, 300150]
            assert events.events.index(salvaged) > events.events.index(events.of(Trade)[-1])
            assert venue.ws_up
            await venue.close()
            await events.stop()

    asyncio.run(scenario())


def test_a_rate_limit_storm_is_told_to_the_maker_without_asking_twice_D29() -> None:
    """D29: during a 429 storm a cancel-all whose listing is refused says so at once
    (``CancelAllDone`` with ``error`` and ``rate_limited``) and cancels nothing; status
    queries, syncs and fill fetches fail as rate-limited too -- each costing the venue one
    refused request, never a second one by the other door.  Once the storm is over the
    cancel-all sweeps everything."""

    async def scenario(post_over_ws: bool) -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb, post_over_ws=post_over_ws)
            book = await events.wait_for(BookSnapshot)
            places = tuple(
                Place(CLOIDS[i], Side.BID, book.bids[0][0] - 100 * (i + 1), 5000) for i in range(2)
            )
            await venue.submit(Batch(1, places))
            await events.wait_for(PlaceAck, lambda a: a.cloid == CLOIDS[1])
            refused = lb.twin.fault_state.counts["http_429"]
            lb.twin.storm(30)
            await venue.submit(Batch(2, (CancelAll("kill"),)))
            done = await events.wait_for(CancelAllDone)
            assert (done.swept, done.failed, done.batch_id, done.rate_limited) == (0, 0, 2, True)
            assert done.error.startswith("could not list open orders: ") and "429" in done.error
            assert lb.twin.open_order_count() == 2
            assert lb.twin.fault_state.counts["http_429"] == refused + 1  # asked once
            await venue.submit(Batch(3, (QueryOrder(CLOIDS[0], None), FetchFills(60.0, "gap"))))
            assert (await events.wait_for(QueryFailed)).rate_limited
            fetched = await events.wait_for(FillsFetched)
            assert fetched.rate_limited and fetched.count == 0 and "429" in fetched.error
            assert lb.twin.fault_state.counts["http_429"] == refused + 3
            await venue.submit(Batch(4, (SyncState("verify"),)))
            assert (await events.wait_for(SyncFailed)).rate_limited
            lb.twin.fault_state.end_storm()
            await venue.submit(Batch(5, (CancelAll("kill"),)))
            swept = await events.wait_for(CancelAllDone, lambda d: d.batch_id == 5)
            assert (swept.swept, swept.failed, swept.error) == (2, 0, "")
            assert lb.twin.open_order_count() == 0
            await venue.close()
            await events.stop()

    asyncio.run(scenario(True))
    asyncio.run(scenario(False))


def test_what_traded_is_told_by_updates_and_status_and_fills_are_fetched_by_time_D33() -> None:
    """D33: a GTC bid that trades part of its size at once and is then cancelled: the
    cancel's ``OrderUpdate`` and the status query say how much traded (original size minus
    what was left), and ``FetchFills`` replays those fills by time as ``Fill(snapshot=True)``,
    then ``FillsFetched`` with their count -- over WebSocket and over REST."""

    async def scenario(post_over_ws: bool) -> None:
        async with loopback() as lb:
            venue, events = await connected_venue(lb, post_over_ws=post_over_ws)
            book = await events.wait_for(BookSnapshot)
            best_ask, ask_size = book.asks[0]
            place = Place(CLOIDS[0], Side.BID, best_ask, ask_size + 5000, Tif.GTC)
            await venue.submit(Batch(1, (place,)))
            ack = await events.wait_for(PlaceAck)
            assert ack.status is AckStatus.PARTIALLY_FILLED and ack.filled == ask_size
            await venue.submit(Batch(2, (Cancel(CLOIDS[0], ack.oid),)))
            update = await events.wait_for(
                OrderUpdate, lambda u: u.oid == ack.oid and u.status is not VenueStatus.OPEN
            )
            assert (update.status, update.filled) == (VenueStatus.CANCELED, ask_size)
            await venue.submit(Batch(3, (QueryOrder(CLOIDS[0], None),)))
            report = await events.wait_for(OrderStatusReport)
            assert (report.status, report.remaining, report.filled) == (
                VenueStatus.CANCELED,
                0,
                ask_size,
            )
            live = [f for f in events.of(Fill) if not f.snapshot]
            assert sum(f.size for f in live) == ask_size
            await venue.submit(Batch(4, (FetchFills(60.0, "gap"),)))
            fetched = await events.wait_for(FillsFetched)
            replayed = [f for f in events.of(Fill) if f.snapshot]
            assert fetched == FillsFetched(len(live))
            assert [(f.tid, f.size, f.price) for f in replayed] == [
                (f.tid, f.size, f.price) for f in live
            ]
            await venue.close()
            await events.stop()

    asyncio.run(scenario(True))
    asyncio.run(scenario(False))


def test_the_twin_speaks_the_documented_shapes() -> None:
    """A few raw requests, as any Hyperliquid client would send them."""

    async def scenario() -> None:
        async with loopback() as lb:
            async with httpx.AsyncClient(base_url=lb.server.url) as client:
                meta = (await client.post("/info", json={"type": "meta"})).json()
                assert meta["universe"][0] == {"name": "ETH", "szDecimals": 4, "maxLeverage": 25}
                book = (await client.post("/info", json={"type": "l2Book", "coin": "ETH"})).json()
                assert len(book["levels"]) == 2 and set(book["levels"][0][0]) == {"px", "sz", "n"}
                status = (
                    await client.post(
                        "/info",
                        json={"type": "orderStatus", "user": lb.signer.address, "oid": CLOIDS[9]},
                    )
                ).json()
                assert status == {"status": "unknownOid"}
                assert (await client.get("/info")).status_code == 404
            import websockets

            url = lb.server.url.replace("http", "ws", 1) + "/ws"
            async with websockets.connect(url) as ws:
                assert await ws.recv() == "Websocket connection established."
                await ws.send(json.dumps({"method": "ping"}))
                assert json.loads(await ws.recv()) == {"channel": "pong"}
                sub = {"type": "userEvents", "user": lb.signer.address}
                await ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
                ack = json.loads(await ws.recv())
                assert ack["channel"] == "subscriptionResponse"
                assert ack["data"]["subscription"]["user"] == lb.signer.address.lower()
                await ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
                assert json.loads(await ws.recv())["data"].startswith("Already subscribed")

    asyncio.run(scenario())


def test_an_idle_socket_closed_by_the_venue_reconnects_and_resyncs_D16() -> None:
    """Without pings the venue closes a silent connection (60 s live, 0.3 s here); the
    connector reconnects with backoff, resubscribes, syncs state, and says Connected again."""

    async def scenario() -> None:
        async with loopback(faults=TwinFaults(idle_timeout_s=0.3)) as lb:
            venue, events = await connected_venue(lb)
            await events.wait_for(Disconnected)
            second = await events.wait_for(Connected, lambda c: venue.counters["reconnects"] >= 1)
            assert second == Connected("hyperliquid")
            assert events.of(OpenOrders) and events.of(PositionSnapshot)  # the resync
            assert venue.rate_budget.ws_messages_used > 0
            await venue.close()
            await events.stop()

    asyncio.run(scenario())


def test_app_level_pings_keep_a_quiet_connection_alive() -> None:
    async def scenario() -> None:
        async with loopback(faults=TwinFaults(idle_timeout_s=0.3)) as lb:
            inst_venue = await lb.venue()
            venue = HyperliquidVenue(
                inst_venue.instrument,
                lb.signer,
                replace(inst_venue.settings, ws_ping_interval_s=0.05),
                WallClock(),
            )
            await venue.connect()
            events = Collector(venue)
            await events.wait_for(Connected)
            await venue.submit(Batch(1, (Place(CLOIDS[0], Side.BID, 200000, 5000),)))
            await events.wait_for(PlaceAck)
            sent = venue.rate_budget.ws_messages_used
            async with asyncio.timeout(5):  # ten pings: well past the 0.3 s idle timeout
                while venue.rate_budget.ws_messages_used < sent + 10:
                    await asyncio.sleep(0.02)
            await venue.submit(Batch(2, (QueryOrder(CLOIDS[0], None),)))
            await events.wait_for(OrderStatusReport)
            assert not events.of(Disconnected) and venue.counters["reconnects"] == 0
            await venue.close()
            await events.stop()

    asyncio.run(scenario())
