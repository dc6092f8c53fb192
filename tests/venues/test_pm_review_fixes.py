"""The Polymarket connector's review findings (/work/notes/review-pm.md), one test (or two)
each: the position sync against provisional fills (1), the reconnect race (2), dust (3), a
cancel or query overtaking its placement (4), the tick learnt after an outage or from a refusal
(5), fills of our key on the other token (6), immediate-fill amounts (7), the heartbeat (8),
settlements (10), forgotten ids (11), post-only-mode refusals (12).  The venue's REST is
replaced by a script; no sockets."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from core.clock import VirtualClock, WallClock
from core.commands import Batch, Cancel, Place, QueryOrder, SyncState, TimeInForce
from core.events import (
    AckStatus,
    BookSnapshot,
    CancelRejected,
    CancelUnknown,
    Connected,
    Disconnected,
    Event,
    Fill,
    HeartbeatState,
    OrderStatusReport,
    PlaceAck,
    PlaceRejected,
    QueryFailed,
    RejectionClass,
    Side,
    TickSizeChanged,
    VenueNotice,
)
from core.venues.keys import PrivateKey
from core.venues.polymarket import errors as pe
from core.venues.polymarket import venue as venue_module
from core.venues.polymarket.auth import ApiCredentials
from core.venues.polymarket.ids import oid_of
from core.venues.polymarket.mapping import Settlements
from core.venues.polymarket.market import PmMarket
from core.venues.polymarket.rest import RestRefused, RestUnknown
from core.venues.polymarket.signing import PmSigner
from core.venues.polymarket.venue import PmSettings, PolymarketVenue
from core.venues.polymarket.wire import Book
from tests.venues.test_pm_mapping import (
    API_KEY,
    CID,
    MARKET,
    NO,
    OURS,
    YES,
    place,
    sightings,
    tr,
    trade_event,
)

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
FOREIGN = "0xfe" + "7" * 62  # an order of our API key this venue never placed


class FakeRest:
    """Answers the venue's REST calls from a script and records them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.tick = "0.01"
        self.balance = "0"
        self.post_answer: Any = None
        self.cancel_answer: Any = {"canceled": [], "not_canceled": {}}

    async def private(self, method: str, path: str, **kw: Any) -> Any:
        self.sent.append((method, path))
        if path == "/orders" and method == "POST":
            if self.post_answer is not None:
                return self.post_answer
            return [{"success": False, "errorMsg": "unscripted", "orderID": ""} for _ in kw["body"]]
        if path in ("/order", "/orders"):
            return self.cancel_answer
        if path == "/balance-allowance":
            return {"balance": self.balance, "allowances": {}}
        if path == "/balance-allowance/update":
            return {}
        raise AssertionError(f"unexpected {method} {path}")

    async def pages(self, path: str, params: dict[str, str]) -> list[Any]:
        self.sent.append(("GET", path))
        return []

    async def public(self, path: str, params: dict[str, str] | None = None) -> Any:
        self.sent.append(("GET", path))
        assert path == "/tick-size"
        return {"minimum_tick_size": float(self.tick)}

    async def aclose(self) -> None:
        return None


def make_venue(market: PmMarket = MARKET, clock: Any = None) -> tuple[PolymarketVenue, FakeRest]:
    venue = PolymarketVenue(
        market,
        PmSigner(PrivateKey(KEY)),
        PmSettings.loopback("http://127.0.0.1:1", heartbeat_s=None),
        clock or WallClock(),
        creds=ApiCredentials(API_KEY, "AAAA", "p"),
    )
    rest = FakeRest()
    venue._rest = rest  # type: ignore[assignment]
    return venue, rest


def drain(venue: PolymarketVenue) -> list[Event]:
    out: list[Event] = []
    while not venue._queue.empty():
        item = venue._queue.get_nowait()
        assert isinstance(item, Event.__args__)  # type: ignore[attr-defined]
        out.append(item)
    return out


async def settle(venue: PolymarketVenue) -> None:
    while venue._tasks:
        await asyncio.gather(*venue._tasks, return_exceptions=True)


# ---- 1: the position sync ------------------------------------------------------------------


def test_pending_lots_count_only_trades_the_chain_has_not_moved_finding_1() -> None:
    """MATCHED / RETRYING: the balance lacks the fill, so it is added; MINED: the chain has
    moved it (the balance may hold it already), so it is not; a late MATCHED is no step back."""
    book = Settlements()
    [matched] = sightings([trade_event("MATCHED")])  # we sold 10 (a maker ask)
    book.see(matched)
    assert book.pending_lots() == -1000
    book.see(sightings([trade_event("MINED")])[0])
    assert book.pending_lots() == 0
    book.see(sightings([trade_event("RETRYING")])[0])
    assert book.pending_lots() == -1000
    book.see(sightings([trade_event("MINED")])[0])
    assert book.pending_lots() == -1000  # MINED seen already: repeats are nothing
    other = Settlements()
    other.see(sightings([trade_event("MINED")])[0])
    other.see(sightings([trade_event("MATCHED")])[0])  # told late: not a step back
    assert other.pending_lots() == 0


def test_a_sync_asks_the_venue_to_refresh_the_balance_at_most_every_few_seconds_finding_1() -> None:
    clock = VirtualClock(100.0)
    venue, rest = make_venue(clock=clock)

    async def main() -> None:
        await venue._sync()
        await venue._sync()
        clock.advance(6.0)
        await venue._sync()

    asyncio.run(main())
    paths = [p for _, p in rest.sent if p.startswith("/balance-allowance")]
    assert paths == [
        "/balance-allowance/update",
        "/balance-allowance",
        "/balance-allowance",
        "/balance-allowance/update",
        "/balance-allowance",
    ]


# ---- 2: the reconnect race -----------------------------------------------------------------


class FakeWs:
    def __init__(self) -> None:
        self.up = True


def test_a_channel_lost_during_the_catch_up_is_caught_up_again_finding_2() -> None:
    venue, _ = make_venue()
    market, user = FakeWs(), FakeWs()
    venue._market_ws, venue._user_ws = market, user  # type: ignore[assignment]
    catch_ups: list[float] = []

    async def fake_catch_up(down_since: float) -> None:
        catch_ups.append(down_since)
        if len(catch_ups) == 1:  # the user channel drops while the REST resync runs
            user.up = False
            venue._on_down("ws://x/ws/user", "dropped during the catch-up")

    venue._catch_up = fake_catch_up  # type: ignore[method-assign]

    async def main() -> None:
        await venue._on_up()  # first connect
        market.up = False
        venue._on_down("ws://x/ws/market", "drop 1")
        market.up = True
        await venue._on_up()  # reconnect 1: the user channel drops during its catch-up
        assert not venue._connected  # never Connected with a channel down
        user.up = True
        await venue._on_up()  # reconnect 2
        assert venue._connected

    asyncio.run(main())
    said = [type(e) for e in drain(venue) if isinstance(e, Connected | Disconnected)]
    assert said == [Connected, Disconnected, Connected]
    assert len(catch_ups) == 2


def test_an_outage_during_the_catch_up_with_the_channel_back_catches_up_again_finding_2() -> None:
    """The channel drops and is back before the catch-up ends: the generation moved, so the
    catch-up runs again before ``Connected``."""
    venue, _ = make_venue()
    venue._market_ws, venue._user_ws = FakeWs(), FakeWs()  # type: ignore[assignment]
    catch_ups: list[float] = []

    async def fake_catch_up(down_since: float) -> None:
        catch_ups.append(down_since)
        if len(catch_ups) == 1:
            venue._on_down("ws://x/ws/user", "a blip")  # and back at once (ws still up)

    venue._catch_up = fake_catch_up  # type: ignore[method-assign]

    async def main() -> None:
        await venue._on_up()
        venue._on_down("ws://x/ws/market", "drop")
        await venue._on_up()

    asyncio.run(main())
    assert len(catch_ups) == 2
    said = [type(e) for e in drain(venue) if isinstance(e, Connected | Disconnected)]
    assert said == [Connected, Disconnected, Connected]


# ---- 3: dust -------------------------------------------------------------------------------


def test_a_dust_level_is_dropped_and_the_rest_of_the_book_applies_finding_3() -> None:
    frame = {
        "event_type": "book",
        "asset_id": YES,
        "market": CID,
        "bids": [{"price": "0.47", "size": "120"}, {"price": "0.48", "size": "0.0038"}],
        "asks": [{"price": "0.53", "size": "200"}, {"price": "0.52", "size": "25"}],
        "timestamp": "1757908892351",
        "hash": "0x",
    }
    t = tr()
    book = t.book(Book.model_validate(frame))
    assert book == BookSnapshot(((4700, 12000),), ((5200, 2500), (5300, 20000)), 1757908892.351)
    assert t.dust_levels == 1


def test_a_fractional_fill_is_floored_to_lots_and_the_remainder_is_told_finding_3() -> None:
    venue, _ = make_venue()
    entry = {
        "order_id": OURS,
        "owner": API_KEY,
        "matched_amount": "17.5438",
        "price": "0.57",
        "asset_id": YES,
        "side": "SELL",
    }
    venue._ids.remember(OURS)
    events = venue._user_event(trade_event(maker_orders=[entry]))
    events += venue._user_event(trade_event("MINED", maker_orders=[entry]))
    fills = [e for e in events if isinstance(e, Fill)]
    assert [f.size for f in fills] == [1754]
    told = [e for e in events if isinstance(e, VenueNotice) and e.kind == "fill truncated"]
    assert len(told) == 1 and "0.0038" in told[0].text
    assert venue.counters["truncated_fills"] == 1


# ---- 4: a cancel or query overtaking its placement -----------------------------------------


def test_a_cancel_and_a_query_for_a_placement_being_signed_wait_or_ask_again_finding_4() -> None:
    venue, rest = make_venue()
    signer = venue._signer
    real = signer.sign_orders

    signed = asyncio.Event()  # held until the cancel and the query have been submitted
    signing = asyncio.Event()

    async def slow_sign(specs: Any) -> Any:
        signing.set()
        await signed.wait()  # queued behind another batch's signatures
        return await real(specs)

    signer.sign_orders = slow_sign  # type: ignore[method-assign]

    async def main() -> list[Event]:
        await venue.submit(Batch(1, (Place("c1", Side.BID, 4800, 500, TimeInForce.ALO),)))
        await signing.wait()  # the placement is being signed
        await venue.submit(Batch(2, (Cancel("c1", None),)))
        await venue.submit(Batch(3, (QueryOrder("c1", None),)))
        signed.set()
        await settle(venue)
        return drain(venue)

    # The POST answer names the digest the venue will use: our own.
    def answer_with_digest() -> None:
        digest = venue._id_by_cloid.get("c1", "")
        rest.post_answer = [{"success": True, "errorMsg": "", "orderID": digest, "status": "live"}]

    original = rest.private

    async def private(method: str, path: str, **kw: Any) -> Any:
        if path == "/orders" and method == "POST":
            answer_with_digest()
        if path == "/order" and method == "DELETE":
            rest.sent.append((method, path))
            return {"canceled": [kw["body"]["orderID"]], "not_canceled": {}}
        return await original(method, path, **kw)

    rest.private = private  # type: ignore[method-assign]
    events = asyncio.run(main())
    assert not any(isinstance(e, CancelRejected) for e in events)
    assert not any(isinstance(e, OrderStatusReport) for e in events)
    assert any(isinstance(e, QueryFailed) and e.cloid == "c1" for e in events)
    kinds = [type(e).__name__ for e in events if not isinstance(e, VenueNotice | QueryFailed)]
    assert kinds == ["PlaceAck", "CancelAck"]  # the cancel went out after the placement
    assert ("DELETE", "/order") in rest.sent


# ---- 5: the tick learnt after an outage or from a refusal ----------------------------------


FINE = PmMarket(CID, YES, NO, "Yes", "No", "Will it?", Decimal("0.001"), Decimal("5"), False)


def test_the_catch_up_reads_the_tick_size_finding_5() -> None:
    venue, rest = make_venue(FINE)
    rest.tick = "0.01"  # the grid got coarser during the outage
    asyncio.run(venue._catch_up(0.0))
    changes = [e for e in drain(venue) if isinstance(e, TickSizeChanged)]
    assert [(c.grid, c.tick) for c in changes] == [(100, "0.01")]
    assert venue.instrument.grid == 100
    rest.tick = "0.01"
    asyncio.run(venue._catch_up(0.0))  # unchanged: nothing said
    assert not any(isinstance(e, TickSizeChanged) for e in drain(venue))


def test_a_tick_size_refusal_names_the_tick_before_the_rejection_finding_5() -> None:
    venue, rest = make_venue(FINE)
    text = pe.Texts.price_breaks_tick("0xabc", "0.505", "0.01")
    rest.post_answer = [{"success": False, "errorMsg": text, "orderID": ""}]

    async def main() -> list[Event]:
        await venue.submit(Batch(1, (Place("c1", Side.BID, 5050, 500, TimeInForce.ALO),)))
        await settle(venue)
        return drain(venue)

    events = [e for e in asyncio.run(main()) if not isinstance(e, VenueNotice)]
    assert [type(e) for e in events] == [TickSizeChanged, PlaceRejected]
    assert events[0].grid == 100  # type: ignore[union-attr]


# ---- 6: fills of our key on the other token ------------------------------------------------


def test_an_order_of_our_key_on_the_other_token_we_did_not_place_is_foreign_finding_6() -> None:
    venue, _ = make_venue()
    entry = {
        "order_id": FOREIGN,
        "owner": API_KEY,
        "matched_amount": "10",
        "price": "0.43",
        "asset_id": NO,
        "side": "BUY",
    }
    events: list[Event] = []
    for status in ("MATCHED", "MINED", "CONFIRMED"):
        events += venue._user_event(trade_event(status, asset_id=NO, maker_orders=[entry]))
    assert not any(isinstance(e, Fill) for e in events)
    foreign = [e for e in events if isinstance(e, VenueNotice) and e.kind == "foreign fill"]
    assert len(foreign) == 1
    # ... while an order we placed (known, on our token) is converted at 1 - p.
    venue._ids.remember(OURS)
    ours_entry = entry | {"order_id": OURS}
    [fill] = [
        e
        for e in venue._user_event(trade_event(asset_id=NO, maker_orders=[ours_entry]))
        if isinstance(e, Fill)
    ]
    assert (fill.side, fill.price, fill.size) == (Side.ASK, 5700, 1000)


def test_an_entry_of_our_key_on_our_token_is_still_ours_finding_6() -> None:
    """An order of our key on our own token (a previous run's quote) is ours: the position
    holds it (unchanged behaviour)."""
    venue, _ = make_venue()
    entry = {
        "order_id": FOREIGN,
        "owner": API_KEY,
        "matched_amount": "10",
        "price": "0.57",
        "asset_id": YES,
        "side": "SELL",
    }
    fills = [e for e in venue._user_event(trade_event(maker_orders=[entry])) if isinstance(e, Fill)]
    assert len(fills) == 1 and fills[0].oid == oid_of(FOREIGN)


# ---- 7: immediate-fill amounts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("taking", "making"),
    [
        ("10000000", "5200000"),  # 6-decimal base units: 10^6 times the order's size
        ("10", "12"),  # 10 shares for 12 pUSD: a price of 1.2
        ("10", "0"),  # shares for nothing
    ],
)
def test_immediate_fill_amounts_that_cannot_be_are_unreadable_finding_7(
    taking: str, making: str
) -> None:
    t = tr()
    order_id = "0xa" + "0" * 63
    answer = [
        {
            "success": True,
            "errorMsg": "",
            "orderID": order_id,
            "status": "matched",
            "takingAmount": taking,
            "makingAmount": making,
        }
    ]
    cmd = place("c1", Side.BID, size=1000, tif=TimeInForce.IOC)
    [(ack, _)] = t.place_answers([cmd], [order_id], answer, 1)
    assert isinstance(ack, PlaceAck)
    assert (ack.filled, ack.filled_value) == (0, 0)
    assert [n.kind for n in t.take_notices()] == ["immediate fill unreadable"]
    # A readable one is unchanged: 4 shares for 2.08 pUSD (0.52 each).
    good = [answer[0] | {"takingAmount": "4", "makingAmount": "2.08"}]
    [(ack, _)] = t.place_answers([place("c2", Side.BID, size=1000)], [order_id], good, 1)
    assert isinstance(ack, PlaceAck) and ack.status is AckStatus.PARTIALLY_FILLED
    assert (ack.filled, ack.filled_value) == (400, 2_080_000)


# ---- 8: the heartbeat ----------------------------------------------------------------------


class Script:
    """A heartbeat REST whose every call is scripted: a value to answer, or an exception."""

    steps: ClassVar[list[Any]] = []
    calls: ClassVar[list[str]] = []
    wanted: ClassVar[int] = 0
    reached: ClassVar[asyncio.Event | None] = None  # set once ``wanted`` calls were answered
    clock: ClassVar[VirtualClock | None] = None
    advance: ClassVar[list[float]] = []

    def __init__(self, *args: Any, **kw: Any) -> None:
        self.creds: ApiCredentials | None = None

    async def private(self, method: str, path: str, **kw: Any) -> Any:
        n = len(Script.calls)
        if n >= Script.wanted and Script.reached is not None:
            Script.reached.set()  # a further beat: the wanted ones were answered and read
        Script.calls.append(kw["body"]["heartbeat_id"])
        if Script.clock is not None and n < len(Script.advance):
            Script.clock.advance(Script.advance[n])
        step = Script.steps[n] if n < len(Script.steps) else {"heartbeat_id": f"h{n + 1}"}
        if isinstance(step, BaseException):
            raise step
        return step

    async def aclose(self) -> None:
        return None


def run_heartbeats(
    monkeypatch: pytest.MonkeyPatch, calls: int, window_s: float, clock: Any = None
) -> list[HeartbeatState]:
    monkeypatch.setattr(venue_module, "PmRest", Script)
    Script.calls = []
    venue, _ = make_venue(clock=clock)

    async def main() -> None:
        Script.wanted, Script.reached = calls, asyncio.Event()
        task = asyncio.create_task(venue._heartbeats(0.01, window_s))
        async with asyncio.timeout(5):
            await Script.reached.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    return [e for e in drain(venue) if isinstance(e, HeartbeatState)]


def test_invalid_id_after_a_lost_answer_rechains_without_a_lapse_finding_8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = RestRefused(pe.INVALID_HEARTBEAT_ID, status=400, expected_id="h2")
    Script.steps = [{"heartbeat_id": "h1"}, RestUnknown("no answer"), refused]
    Script.clock, Script.advance = None, []
    states = run_heartbeats(monkeypatch, 5, window_s=5.0)
    assert Script.calls[:4] == ["", "h1", "h1", "h2"]  # re-chained from the venue's id
    assert not any(s.lapsed for s in states)


def test_the_window_runs_from_the_send_time_of_the_last_accepted_beat_finding_8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = VirtualClock(1000.0)
    # Beat 1 is sent at 1000 and answered at 1004; beat 2 is lost at 1010.5: 10.5 s after
    # the last accepted send (a lapse), 6.5 s after its answer.
    Script.steps = [{"heartbeat_id": "h1"}, RestUnknown("no answer")]
    Script.clock, Script.advance = clock, [4.0, 6.5]
    states = run_heartbeats(monkeypatch, 2, window_s=10.0, clock=clock)
    Script.clock = None
    assert [(s.armed, s.lapsed) for s in states[:2]] == [(True, False), (False, True)]


def test_an_unexpected_error_in_the_loop_is_a_lapse_and_the_loop_goes_on_finding_8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Script.steps = [{"heartbeat_id": "h1"}, RuntimeError("a bug")]
    Script.clock, Script.advance = None, []
    states = run_heartbeats(monkeypatch, 3, window_s=5.0)
    assert [(s.armed, s.lapsed) for s in states[:3]] == [
        (True, False),
        (False, True),
        (True, False),
    ]


# ---- 10: settlements -----------------------------------------------------------------------


def changed(status: str, amount: str) -> Any:
    entry = {
        "order_id": OURS,
        "owner": API_KEY,
        "matched_amount": amount,
        "price": "0.57",
        "asset_id": YES,
        "side": "SELL",
    }
    [s] = sightings([trade_event(status, maker_orders=[entry])])
    return s


def test_no_fill_for_a_failed_trade_told_again_with_other_content_finding_10() -> None:
    book = Settlements()
    [notice] = book.see(changed("FAILED", "10"))
    assert isinstance(notice, VenueNotice)
    again = book.see(changed("MATCHED", "7"))
    assert not any(isinstance(e, Fill) for e in again)
    assert any(isinstance(e, VenueNotice) for e in again)
    assert book.pending_lots() == 0


def test_a_changed_content_is_flagged_once_then_remembered_finding_10() -> None:
    book = Settlements()
    book.see(changed("MATCHED", "10"))
    [flagged] = book.see(changed("MATCHED", "7"))
    assert isinstance(flagged, Fill) and flagged.size == 700
    assert book.see(changed("MINED", "7")) == []
    assert book.pending_lots() == 0  # MINED
    settled = book.see(changed("CONFIRMED", "7"))
    assert [type(e).__name__ for e in settled] == ["FillSettled"]


# ---- 11: forgotten ids ---------------------------------------------------------------------


def test_a_cancel_for_an_id_not_known_here_is_unknown_never_gone_finding_11() -> None:
    venue, rest = make_venue()

    async def main() -> list[Event]:
        await venue.submit(Batch(1, (Cancel(None, oid_of("0x" + "ab" * 32)),)))
        await settle(venue)
        return drain(venue)

    [event] = [e for e in asyncio.run(main()) if not isinstance(e, VenueNotice)]
    assert isinstance(event, CancelUnknown)
    assert rest.sent == []


# ---- 12: post-only mode --------------------------------------------------------------------


def test_a_post_only_mode_refusal_of_a_non_post_only_order_does_not_hold_all_sides_finding_12() -> (
    None
):
    """Per item, post-only mode refuses only orders that are not post-only: for the recovery
    IOC it is PriceError (no side backs off on one; an accepted quote resets the run), never
    RateLimit (which holds every placement, the post-only quotes the venue still takes
    included).  A post-only order refused so is still RateLimit."""
    order_id = "0xa" + "0" * 63
    answer = [{"success": False, "errorMsg": pe.POST_ONLY_MODE, "orderID": ""}]
    [(ioc, _)] = tr().place_answers(
        [place("c1", Side.ASK, tif=TimeInForce.IOC)], [order_id], answer, 1
    )
    assert isinstance(ioc, PlaceRejected) and ioc.rclass is RejectionClass.PRICE_ERROR
    [(alo, _)] = tr().place_answers([place("c2", Side.ASK)], [order_id], answer, 1)
    assert isinstance(alo, PlaceRejected) and alo.rclass is RejectionClass.RATE_LIMIT


def test_sync_still_answers_after_the_fixes() -> None:
    """A smoke test of the sync path with the balance refresh in front of it."""
    venue, rest = make_venue()
    rest.balance = "5000000"

    async def main() -> list[Event]:
        await venue.submit(Batch(1, (SyncState("test"),)))
        await settle(venue)
        return drain(venue)

    events = asyncio.run(main())
    assert any(type(e).__name__ == "PositionSnapshot" for e in events)


def test_a_query_for_a_forgotten_id_finds_it_in_the_venues_listing_finding_11() -> None:
    venue, rest = make_venue()
    forgotten = "0x" + "ab" * 32
    listed = {
        "id": forgotten,
        "status": "LIVE",
        "asset_id": YES,
        "market": CID,
        "side": "BUY",
        "price": "0.48",
        "original_size": "10",
        "size_matched": "0",
        "owner": API_KEY,
    }

    async def pages(path: str, params: dict[str, str]) -> list[Any]:
        rest.sent.append(("GET", path))
        return [listed]

    original = rest.private

    async def private(method: str, path: str, **kw: Any) -> Any:
        if path == f"/data/order/{forgotten}":
            rest.sent.append((method, path))
            return listed
        return await original(method, path, **kw)

    rest.pages = pages  # type: ignore[method-assign]
    rest.private = private  # type: ignore[method-assign]
    asyncio.run(venue._query(QueryOrder(None, oid_of(forgotten))))
    [report] = [e for e in drain(venue) if isinstance(e, OrderStatusReport)]
    assert report.status.name == "OPEN" and report.remaining == 1000
    assert ("GET", f"/data/order/{forgotten}") in rest.sent
