"""SCENARIOS.md S1-S12, each driven through the real ``MarketMaker`` in virtual time.

Orders are created by the maker's own quoting, so a scenario's ``c1`` is the cloid of the Place
the maker emitted; oids, times and sizes are the scenario's (sizes in lots of 0.1, so 1.0 = 10
lots).  "t=0" is the moment the maker sent the order.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.actions import CancelOrder, Kill, Rearm
from core.commands import Cancel, Modify, Place, TimeInForce
from core.events import (
    AckStatus,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    CancelUnknown,
    Connected,
    Disconnected,
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
    VenueOrder,
    VenueStatus,
)
from core.maker import SweepPhase
from core.orders import OrderState
from core.recovery import RecoveryState
from core.view import Mode
from tests.maker_harness import (
    ASK,
    BID,
    Rig,
    book,
    cancel_alls,
    cancels,
    fill,
    make_config,
    make_params,
    placements,
    places,
    queries,
    running_maker,
    syncs,
    venue_order,
    with_strategy,
)

ALREADY_GONE = "Order was never placed, already canceled, or filled. asset=0"
POST_ONLY = "Post only order would have immediately matched, bbo was 99@100. asset=0"
MARGIN = "Insufficient margin to place order. asset=0"
STALE_REDUCE_ONLY = "Reduce only order would increase position. asset=0"


def batch_of(s: Rig, cmd: Place | Modify) -> int:
    """The batch id the maker gave the submission that carried ``cmd``."""
    return next(b.batch_id for b in s.batches if cmd in b.commands)


def resting_pair(s: Rig, first: list, bid_oid: int, ask_oid: int) -> tuple[Place, Place]:
    (bid,) = places(first, Side.BID)
    (ask,) = places(first, Side.ASK)
    s.handle(PlaceAck(bid.cloid, bid_oid, AckStatus.RESTING), s.now + 0.01)
    s.handle(PlaceAck(ask.cloid, ask_oid, AckStatus.RESTING), s.now)
    return bid, ask


# ---- S1 -------------------------------------------------------------------------------------


def test_S1_fill_before_ack() -> None:
    """S1 (D2, D10): a stream fill that overtakes the placement's ack is matched by cloid; the
    late ack then binds nothing new and the fill is counted exactly once."""
    s, first = running_maker()
    (c1,) = places(first, Side.BID)
    t0 = s.now
    assert c1.size == 10
    pending = s.order(c1.cloid)
    assert pending.state is OrderState.PENDING_NEW and pending.oid is None

    s.handle(fill(1, c1, size=4, oid=55, cloid=c1.cloid), t0 + 0.01)
    s.handle(PlaceAck(c1.cloid, 55, AckStatus.RESTING), t0 + 0.02)

    order = s.order(c1.cloid)
    assert order.state is OrderState.PARTIAL_FILLED
    assert (order.filled, order.remaining, order.oid) == (4, 6, 55)
    assert s.maker.position.lots == 4
    assert s.maker.counters["fills"] == 1
    assert order.fill_tids == [1]


# ---- S2 / S3 --------------------------------------------------------------------------------


def _s2() -> tuple[Rig, Place]:
    s, first = running_maker()
    (c2,) = places(first, Side.BID)
    t0 = s.now
    s.handle(
        PlaceAck(c2.cloid, 56, AckStatus.PARTIALLY_FILLED, filled=6, filled_value=6 * c2.price),
        t0 + 0.01,
    )
    s.handle(fill(2, c2, size=3, oid=56), t0 + 0.02)  # these two are the immediate 0.6 ...
    s.handle(fill(3, c2, size=3, oid=56), t0 + 0.03)
    s.handle(fill(4, c2, size=2, oid=56), t0 + 0.5)  # ... and this one is new
    return s, c2


def test_S2_partial_immediate_fill_then_same_trades_on_stream() -> None:
    """S2 (D3, D4): a partial immediate fill leaves the order live (PartialFilled, not
    FilledImmediately), and the stream's repeat of the immediate trades is skipped by amount."""
    s, c2 = _s2()
    order = s.order(c2.cloid)
    assert s.maker.position.lots == 8  # 0.8, not 1.4
    assert order.state is OrderState.PARTIAL_FILLED
    assert order.remaining == 2
    assert order.fill_tids == [2, 3, 4]
    assert s.maker.tracker.ledger.immediate_remaining(c2.cloid) == 0
    assert order in s.maker.tracker.live_for_intent(Side.BID, 0)


def test_S3_reconnect_replays_fills() -> None:
    """S3 (D4): after a reconnect the stream replays tids 2, 3, 4; they are recognised by tid
    and change nothing but the duplicate counter."""
    s, c2 = _s2()
    order = s.order(c2.cloid)
    before = (s.maker.position.lots, order.state, order.filled, s.maker.counters["fills"])
    duplicates = s.maker.counters["duplicate_fills"]

    s.handle(Disconnected("socket closed"), s.now + 0.1)
    s.handle(Connected("sim"), s.now + 0.5)
    for tid, size in ((2, 3), (3, 3), (4, 2)):
        s.handle(fill(tid, c2, size=size, oid=56, snapshot=True), s.now + 0.01)

    assert (s.maker.position.lots, order.state, order.filled, s.maker.counters["fills"]) == before
    assert s.maker.counters["duplicate_fills"] == duplicates + 3
    assert s.view().counters.duplicate_fills == duplicates + 3


# ---- S4 -------------------------------------------------------------------------------------


def test_S4_cancel_races_fill() -> None:
    """S4 (D5, D24): the fill wins the race with our cancel; "already gone" then confirms
    nothing more, the order ends filled, and its oid is never cancelled again."""
    s, first = running_maker()
    c4, _ask = resting_pair(s, first, 57, 157)
    t0 = s.now + 0.1

    sent = s.operate(CancelOrder(c4.cloid), t0)
    assert cancels(sent) == [Cancel(c4.cloid, 57)]
    assert s.order(c4.cloid).state is OrderState.CANCEL_PENDING
    mark = len(s.sent)

    s.handle(fill(5, c4, size=10, oid=57), t0 + 0.01)
    s.handle(CancelRejected(c4.cloid, 57, ALREADY_GONE, gone=True), t0 + 0.02)

    order = s.order(c4.cloid)
    assert order.state in (OrderState.FILLED, OrderState.FILLED_DURING_CANCEL)
    assert s.maker.position.lots == 10

    # Timers, the cancel's answer timeout, snapshots without it: nothing cancels 57 again.
    s.run(t0 + 12)
    s.handle(OpenOrders(()), s.now + 0.1)
    s.run(s.now + 6)
    again = [c for c in cancels(s.sent[mark:]) if c.oid == 57 or c.cloid == c4.cloid]
    assert again == []
    assert order.state in (OrderState.FILLED, OrderState.FILLED_DURING_CANCEL)
    assert s.maker.position.lots == 10


def test_S4_cancel_races_fill_answer_first() -> None:
    """S4 with the other arrival order (D10): "already gone" first, then the fill.  The end is
    the same: filled, position +1.0, no second cancel."""
    s, first = running_maker()
    c4, _ask = resting_pair(s, first, 57, 157)
    t0 = s.now + 0.1
    s.operate(CancelOrder(c4.cloid), t0)
    mark = len(s.sent)

    s.handle(CancelRejected(c4.cloid, 57, ALREADY_GONE, gone=True), t0 + 0.01)
    assert s.order(c4.cloid).state is OrderState.CANCEL_CONFIRMED  # not terminal (D24)
    s.handle(fill(5, c4, size=10, oid=57), t0 + 0.02)

    assert s.order(c4.cloid).state is OrderState.FILLED_DURING_CANCEL
    assert s.maker.position.lots == 10
    s.run(t0 + 8)
    assert [c for c in cancels(s.sent[mark:]) if c.oid == 57 or c.cloid == c4.cloid] == []


# ---- S5 -------------------------------------------------------------------------------------


def test_S5_cancel_acknowledged_fill_still_in_flight() -> None:
    """S5 (D1): CancelAck is CancelConfirmed, not terminal; a fill inside the late-fill window
    makes it FilledDuringCancel, and the twin with no fill ends Cancelled."""
    s, first = running_maker()
    c5, twin = resting_pair(s, first, 58, 59)
    t0 = s.now + 0.1
    s.operate(CancelOrder(c5.cloid), t0)
    s.operate(CancelOrder(twin.cloid), t0)

    s.handle(CancelAck(c5.cloid, 58), t0 + 0.01)
    s.handle(CancelAck(twin.cloid, 59), t0 + 0.01)
    assert s.order(c5.cloid).state is OrderState.CANCEL_CONFIRMED
    assert not s.order(c5.cloid).state.is_terminal

    s.handle(fill(6, c5, size=5, oid=58), t0 + 0.05)
    assert s.order(c5.cloid).state is OrderState.CANCEL_CONFIRMED  # still waiting
    assert s.maker.position.lots == 5

    s.run(t0 + 0.01 + s.maker.params.late_fill_window + 0.2)
    c5_order, twin_order = s.order(c5.cloid), s.order(twin.cloid)
    assert c5_order.state is OrderState.FILLED_DURING_CANCEL
    assert c5_order.filled == 5
    assert twin_order.state is OrderState.CANCELLED
    assert s.maker.position.lots == 5


# ---- S6 -------------------------------------------------------------------------------------


def test_S6_fill_for_terminal_order() -> None:
    """S6 (D1, D16): a fill for an order that is already Cancelled still moves the position,
    is flagged, triggers a reconcile, and never makes the order live again."""
    s, first = running_maker()
    c6, _ask = resting_pair(s, first, 60, 160)
    t0 = s.now + 0.1
    s.operate(CancelOrder(c6.cloid), t0)
    s.handle(CancelAck(c6.cloid, 60), t0 + 0.01)
    s.run(t0 + 2.0)  # the late-fill window passes
    s.answer_sync()  # the reconnect sync is answered; none is in flight
    assert s.order(c6.cloid).state is OrderState.CANCELLED
    syncs_before = len(syncs(s.sent))

    s.handle(fill(7, c6, size=1, oid=60), s.now + 0.01)

    assert s.maker.position.lots == 1
    assert s.maker.counters["late_fills"] == 1
    last = s.view().fills[-1]
    assert (last.tid, last.flagged) == (7, "late")
    assert s.order(c6.cloid).state is OrderState.CANCELLED

    s.run(s.now + 1.5)
    assert any(
        sync.reason == "fill for a finished order" for sync in syncs(s.sent)[syncs_before:]
    ), "a late fill triggers a reconcile"
    s.run(s.now + 5)
    assert s.order(c6.cloid).state is OrderState.CANCELLED
    assert all(o.cloid != c6.cloid for o in s.view().orders)  # never live again


# ---- S7 -------------------------------------------------------------------------------------


def test_S7_mixed_batch() -> None:
    """S7 (D7, D11, D23): a batch of three bids answered item by item keeps the two accepted
    orders; the PriceError one is Rejected without backing the side off, and its level is
    re-priced strictly behind the refused price on the next quote."""
    s, first = running_maker(make_params(config=make_config(strategy={"levels": 3})))
    bids = places(first, Side.BID)
    assert len(bids) == 3
    batch = batch_of(s, bids[0])
    assert {batch_of(s, b) for b in bids} == {batch}, "the three bids travel in one batch"
    s.ack_all(places(first, Side.ASK), 160)

    t0 = s.now + 0.01
    s.handle(PlaceAck(bids[0].cloid, 60, AckStatus.RESTING, batch_id=batch), t0)
    s.handle(PlaceRejected(bids[1].cloid, POST_ONLY, RejectionClass.PRICE_ERROR, batch), t0)
    s.handle(PlaceAck(bids[2].cloid, 61, AckStatus.RESTING, batch_id=batch), t0)

    live = {o.oid for o in s.maker.tracker.non_terminal() if o.side is Side.BID}
    assert live == {60, 61}
    assert s.order(bids[1].cloid).state is OrderState.REJECTED
    view = s.view()
    assert view.rejection_counts[RejectionClass.PRICE_ERROR] == 1
    assert view.rejection_texts[-1].reason == POST_ONLY  # the raw text is kept
    assert s.maker.rejections.placement_block(Side.BID, s.now) is None
    assert view.backoff[0].remaining == 0.0

    refused = bids[1].price
    nxt = placements(s.tick(t0 + 0.1))
    level1 = [c for c in nxt if c.side is Side.BID and c.level == 1]
    assert len(level1) == 1, "the rejected level is quoted again, re-priced"
    assert level1[0].price < refused
    assert all(c.price < refused for c in nxt if c.side is Side.BID)


# ---- S8 -------------------------------------------------------------------------------------


def test_S8_whole_batch_rejected_for_margin() -> None:
    """S8 (D12, D13): 25 margin rejections in one ask batch are one backoff event
    (consecutive +1, total +25); the ask side backs off with a visible countdown, and during
    the backoff a cancel of an existing ask still goes out at once.

    The ladder has 26 ask levels: the venue accepts the first and runs out of margin for the
    other 25, so an existing ask is there to be cancelled."""
    params = with_strategy(
        make_params(
            config=make_config(
                strategy={"size": "0.1", "level_spacing_ticks": 1}, risk={"max_position": "10.0"}
            )
        ),
        levels=26,  # beyond what config.toml allows, so set on the core parameters
    )
    s, first = running_maker(params)
    asks = places(first, Side.ASK)
    assert len(asks) == 26
    batch = batch_of(s, asks[0])
    assert {batch_of(s, a) for a in asks} == {batch}
    s.ack_all(places(first, Side.BID), 500)

    t0 = s.now + 0.01
    s.handle(PlaceAck(asks[0].cloid, 100, AckStatus.RESTING, batch_id=batch), t0)
    for ask in asks[1:]:
        s.handle(PlaceRejected(ask.cloid, MARGIN, RejectionClass.MARGIN, batch), t0)

    view = s.view()
    ask_backoff = next(b for b in view.backoff if b.side is Side.ASK)
    assert ask_backoff.rclass is RejectionClass.MARGIN
    assert ask_backoff.consecutive == 1  # not 25
    assert s.maker.rejections.total(Side.ASK) == 25
    assert view.rejection_counts[RejectionClass.MARGIN] == 25
    assert 0.0 < ask_backoff.remaining <= params.rejection.backoff_base
    assert s.maker.rejections.placement_block(Side.BID, t0) is None  # only the ask side

    # The book moves during the backoff: the existing ask is stale and is cancelled at once;
    # nothing new is placed on the ask side.
    t1 = t0 + 0.2
    sent = s.handle(book(BID - 3, ASK - 3), t1)
    assert Cancel(asks[0].cloid, 100) in cancels(sent)
    assert placements(sent) and not [c for c in placements(sent) if c.side is Side.ASK]
    reason = s.view().side_reasons[Side.ASK]
    assert reason is not None and reason.startswith("backoff Margin")
    assert s.maker.rejections.placement_block(Side.ASK, t1) is not None


# ---- S9 -------------------------------------------------------------------------------------


def test_S9_stale_snapshot_and_grace_period() -> None:
    """S9 (D9, D24): an open-orders snapshot that misses a fresh order is not believed; past
    the grace period the order is queried, a failed query is retried, and only the venue's
    definitive "not found" takes the order off the venue."""
    s, first = running_maker()
    (c9,) = places(first, Side.BID)
    (ask,) = places(first, Side.ASK)
    t0 = s.now
    s.handle(PlaceAck(c9.cloid, 62, AckStatus.RESTING), t0 + 0.1)
    s.handle(PlaceAck(ask.cloid, 162, AckStatus.RESTING), t0 + 0.1)
    listed = OpenOrders((venue_order(ask, 162),))

    s.handle(listed, t0 + 0.5)
    assert s.order(c9.cloid).state is OrderState.RESTING
    assert queries(s.tick(t0 + 0.6)) == []

    s.run(t0 + 2.9)
    s.handle(listed, t0 + 3.0)
    asked = queries(s.tick(t0 + 3.1))
    assert [(q.cloid, q.oid) for q in asked] == [(c9.cloid, 62)]
    assert s.order(c9.cloid).state is OrderState.RESTING  # asked, not removed

    s.handle(QueryFailed(c9.cloid, 62, "timeout"), t0 + 3.2)
    assert s.order(c9.cloid).state is OrderState.RESTING
    retried = queries(s.run(t0 + 4.5))
    assert [(q.cloid, q.oid) for q in retried] == [(c9.cloid, 62)]

    s.handle(OrderStatusReport(c9.cloid, 62, VenueStatus.NOT_FOUND, "unknownOid"), t0 + 4.6)
    assert s.order(c9.cloid).state is OrderState.CANCEL_CONFIRMED  # fills may be in flight
    s.run(t0 + 6.0)
    assert s.order(c9.cloid).state is OrderState.CANCELLED


# ---- S10 ------------------------------------------------------------------------------------


def _s10() -> tuple[Rig, Place, float]:
    s, first = running_maker(make_params(config=make_config(strategy={"levels": 3})))
    c10 = next(p for p in places(first, Side.BID) if p.level == 2)
    t0 = s.now
    s.ack_all([p for p in first if p is not c10], 300, t0 + 0.05)
    s.run(t0 + 4.9)
    s.handle(PlaceUnknown(c10.cloid, "timeout"), t0 + 5.0)
    sent = s.tick(t0 + 5.0)
    assert [q.cloid for q in queries(sent)] == [c10.cloid], "asked by cloid"
    s.run(t0 + 5.5)
    return s, c10, t0


def _bid_level2_placements(cmds: list) -> list:
    return [c for c in placements(cmds) if c.side is Side.BID and c.level == 2]


def test_S10_unknown_outcome_then_resting() -> None:
    """S10 (D8): while c10's outcome is unknown nothing else is placed for (bid, level 2);
    when the query says it rests as oid 63, it is live."""
    s, c10, t0 = _s10()
    order = s.order(c10.cloid)
    assert order.state is OrderState.PENDING_NEW and order.unknown_since is not None
    assert _bid_level2_placements(s.sent[s.sent.index(c10) + 1 :]) == []

    s.handle(OrderStatusReport(c10.cloid, 63, VenueStatus.OPEN, "open"), t0 + 6.0)
    assert (order.state, order.oid, order.unknown_since) == (OrderState.RESTING, 63, None)
    s.run(t0 + 8.0)
    assert _bid_level2_placements(s.sent[s.sent.index(c10) + 1 :]) == []


def test_S10_unknown_outcome_never_placed() -> None:
    """S10 (D8, D9, D24): the venue does not know c10 and a snapshot taken past the grace period
    agrees.  While the request could still reach the venue (``request_lifetime``), "not found"
    is only a reason to ask again; after it, c10 is marked never-placed and the intent is placed
    again with a fresh cloid."""
    s, c10, t0 = _s10()
    others = tuple(
        VenueOrder(o.oid, o.cloid, o.side, o.price, o.size, o.size)
        for o in s.maker.tracker.non_terminal()
        if o.oid is not None
    )
    s.handle(OpenOrders(others), t0 + 6.0)
    assert _bid_level2_placements(s.sent[s.sent.index(c10) + 1 :]) == []
    s.handle(OrderStatusReport(c10.cloid, None, VenueStatus.NOT_FOUND, "unknownOid"), t0 + 6.1)
    assert s.order(c10.cloid).state is OrderState.PENDING_NEW, "may still be on its way"
    assert _bid_level2_placements(s.tick(t0 + 6.2)) == []

    late = s.order(c10.cloid).placed_at + s.maker.params.request_lifetime + 0.1
    s.handle(OpenOrders(others), late - 0.05)
    assert _asks_about(s, c10, late - 0.01), "the maker asks again (D24)"
    s.handle(OrderStatusReport(c10.cloid, None, VenueStatus.NOT_FOUND, "unknownOid"), late)
    assert s.order(c10.cloid).state is OrderState.REJECTED

    again = _bid_level2_placements(s.tick(late + 0.1))
    assert len(again) == 1 and isinstance(again[0], Place)
    assert again[0].cloid != c10.cloid


def _given_up(s: Rig, c10: Place, t0: float) -> float:
    """S10 up to the point where c10 is believed never placed; returns that time."""
    others = tuple(
        VenueOrder(o.oid, o.cloid, o.side, o.price, o.size, o.size)
        for o in s.maker.tracker.non_terminal()
        if o.oid is not None
    )
    late = s.order(c10.cloid).placed_at + s.maker.params.request_lifetime + 0.1
    s.handle(OpenOrders(others), late - 0.05)
    assert _asks_about(s, c10, late - 0.01), "the maker asks again (D24)"
    s.handle(OrderStatusReport(c10.cloid, None, VenueStatus.NOT_FOUND, "unknownOid"), late)
    assert s.order(c10.cloid).state is OrderState.REJECTED
    return late


def _asks_about(s: Rig, order: Place, at: float) -> bool:
    """Tick at ``at``: does the maker send a status query about ``order``?  (A "not found" is
    believed only as the answer to a question it asked, D24.)"""
    return any(q.cloid == order.cloid for q in queries(s.tick(at)))


@pytest.mark.parametrize(
    "news",
    [
        PlaceAck("c10", 77, AckStatus.RESTING),
        OrderUpdate(77, "c10", VenueStatus.OPEN, "open"),
        OrderStatusReport("c10", 77, VenueStatus.OPEN, "open"),
    ],
    ids=["ack", "order update", "status answer"],
)
def test_S10_the_placement_given_up_on_arrives_after_all_D22_D24(news: object) -> None:
    """S10, then worse (swarm seed 1038750): c10's request reaches the venue after every "not
    found" and after its lifetime, and the venue says it rests.  It is cancelled at once, and
    its intent stays occupied until the venue confirms the cancel: never a second order for
    (bid, level 2) while c10 may rest.  (The late ack used to be ignored as news for a
    rejected order, and the intent was placed again 0.1 s later.)"""
    s, c10, t0 = _s10()
    late = _given_up(s, c10, t0)
    news = replace(news, cloid=c10.cloid)  # type: ignore[type-var]
    sent = s.handle(news, late + 0.02)  # type: ignore[arg-type]
    assert cancels(sent) == [Cancel("stray-77", 77)]
    assert s.order(c10.cloid).state is OrderState.REJECTED, "D1: the record stays terminal"
    assert _bid_level2_placements(s.run(late + 1.0)) == [], "held while the stray may rest"
    repeated = s.handle(OrderUpdate(77, c10.cloid, VenueStatus.OPEN, "open"), late + 1.05)
    assert cancels(repeated) == [], "claimed once"
    s.handle(CancelAck("stray-77", 77), late + 1.1)
    again = _bid_level2_placements(s.run(late + 3.0))
    assert len(again) == 1 and isinstance(again[0], Place)


def test_S10_a_stray_is_asked_about_by_oid_and_the_answer_by_cloid_settles_it_D24() -> None:
    """The stray's cancel goes unanswered: it is asked about by oid (its key is no venue
    cloid), the venue answers with the order's real cloid, and that answer settles the stray,
    not the rejected record that shares the cloid."""
    s, c10, t0 = _s10()
    late = _given_up(s, c10, t0)
    s.handle(PlaceAck(c10.cloid, 77, AckStatus.RESTING), late + 0.02)
    s.handle(CancelUnknown("stray-77", 77, "timeout"), late + 0.1)
    asked = queries(s.tick(late + 0.2))
    assert [(q.cloid, q.oid) for q in asked] == [(None, 77)]
    gone = OrderStatusReport(c10.cloid, 77, VenueStatus.NOT_FOUND, "unknownOid")
    s.handle(gone, late + 2.5)  # past the grace period, and asked after the venue showed it
    assert s.order("stray-77").state is OrderState.CANCEL_CONFIRMED
    assert [q for q in queries(s.run(late + 8.0)) if q.oid == 77] == []


def test_S10_a_snapshot_lists_the_placement_given_up_on_D9_D24() -> None:
    """The same late placement, seen first in an open-orders snapshot: it is cancelled by the
    oid the snapshot gives (the cancel used to carry neither oid nor cloid: a rejected order
    never told us its oid) and claimed as a stray of its intent."""
    s, c10, t0 = _s10()
    late = _given_up(s, c10, t0)
    s.run(late + 2.5)
    listed = VenueOrder(77, c10.cloid, c10.side, c10.price, c10.size, c10.size)
    rows = tuple(
        VenueOrder(o.oid, o.cloid, o.side, o.price, o.size, o.size)
        for o in s.maker.tracker.non_terminal()
        if o.oid is not None
    )
    sent = s.handle(OpenOrders((*rows, listed)), late + 2.6)
    assert cancels(sent) == [Cancel("stray-77", 77)]
    stray = s.order("stray-77")
    assert s.maker.tracker.get(c10.cloid, 77) is stray
    # The placement's own ack comes after: the oid stays the stray's (a review found the ack
    # handing it back to the rejected record, after which the cancel's answer was ignored and
    # the stray stayed CancelPending for ever, its intent never quoted again).
    s.handle(PlaceAck(c10.cloid, 77, AckStatus.RESTING), late + 2.7)
    assert s.maker.tracker.get(None, 77) is stray
    s.handle(CancelAck("stray-77", 77), late + 2.8)
    assert stray.state is OrderState.CANCEL_CONFIRMED


# ---- S11 ------------------------------------------------------------------------------------


def test_S11_kill_while_backed_off_with_untracked_order() -> None:
    """S11 (D13, D18, D25): a kill during a Margin backoff sends the venue-wide cancel-all on
    the very call; an order we never tracked is swept too, the venue is verified empty, the mode
    is KILLED, and no placement is produced again until the operator re-arms."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    (ask,) = places(first, Side.ASK)
    s.handle(PlaceRejected(bid.cloid, MARGIN, RejectionClass.MARGIN, batch_of(s, bid)), s.now)
    s.handle(PlaceAck(ask.cloid, 70, AckStatus.RESTING), s.now)
    t0 = s.now + 0.1
    assert s.maker.rejections.placement_block(Side.BID, t0) is not None
    stranger = VenueOrder(999, None, Side.BID, BID - 50, 7, 7)  # not ours as far as we know
    mark = len(s.sent)

    sent = s.operate(Kill(), t0)
    assert cancel_alls(sent), "cancel-all on the very call"
    assert s.maker.mode is Mode.KILLED

    assert syncs(s.handle(CancelAllDone(1, 0), t0 + 0.05))
    # The first check still sees the stranger: counted on its own, and swept again.
    again = s.handle(OpenOrders((stranger,)), t0 + 0.1)
    assert s.view().untracked_venue_orders == 1
    assert cancel_alls(again)
    s.handle(CancelAllDone(1, 0), t0 + 0.15)
    s.handle(OpenOrders(()), t0 + 0.2)
    s.run(t0 + 0.6)
    s.handle(OpenOrders(()), s.now + 0.01)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED
    assert s.view().untracked_venue_orders == 0
    assert s.maker.mode is Mode.KILLED

    for i in range(60):  # ticks and book moves: still never a placement
        s.handle(book(BID + (i % 7) - 3, ASK + (i % 7) - 3), s.now + 0.05)
        s.run(s.now + 0.2)
    assert placements(s.sent[mark:]) == []

    s.operate(Rearm(), s.now + 0.1)
    assert s.maker.mode is Mode.RUNNING
    assert places(s.run(s.now + 3.0)), "quoting resumes after the re-arm"


# ---- S12 ------------------------------------------------------------------------------------


def _s12(text: str, rclass: RejectionClass) -> tuple[Rig, list]:
    """Max position 1.0, position +2.0: only reduce-only asks are quoted."""
    params = make_params(
        config=make_config(risk={"max_position": "1.0"}, recovery={"cooldown_s": 2.0})
    )
    s, first = running_maker(params, position=20, entry_value=20 * (BID + ASK) // 2)
    asks = places(first, Side.ASK)
    assert places(first, Side.BID) == []
    assert s.view().side_reasons[Side.BID] == "position limit"
    assert asks and all(a.reduce_only for a in asks)
    assert sum(a.size for a in asks) <= 20
    return s, asks


def _reject_reduce_only_asks(s: Rig, cmds: list, text: str, rclass: RejectionClass) -> int:
    asks = [c for c in places(cmds, Side.ASK) if c.reduce_only]
    for a in asks:
        s.handle(PlaceRejected(a.cloid, text, rclass, batch_of(s, a)), s.now + 0.01)
    return len(asks)


def _run_until_placed(s: Rig, limit: float) -> list:
    sent: list = []
    while s.now < limit:
        sent = s.run(s.now + 0.1)
        if places(sent):
            return sent
    return sent


def _recover(s: Rig) -> None:
    """Armed -> Sending an IOC -> Cooldown (partial fill) -> Sending -> Done -> quoting."""
    max_position = s.maker.params.risk.max_position
    min_ioc = s.maker.params.recovery.min_ioc_size
    sent = s.run(s.now + 0.1)
    ioc = [p for p in places(sent) if p.tif is TimeInForce.IOC]
    assert len(ioc) == 1, sent
    first_ioc = ioc[0]
    assert first_ioc.side is Side.ASK and first_ioc.reduce_only
    assert first_ioc.size >= min_ioc
    assert first_ioc.price < BID  # through the touch
    assert s.maker.recovery.state is RecoveryState.SENDING
    assert s.view().recovery.state is RecoveryState.SENDING
    assert all(p.tif is TimeInForce.IOC for p in placements(sent)), "normal quoting skipped"
    assert s.view().side_reasons[Side.ASK] == "recovery Sending"

    s.handle(
        PlaceAck(first_ioc.cloid, 900, AckStatus.FILLED, filled=5, filled_value=5 * BID),
        s.now + 0.05,
    )
    assert s.maker.position.lots == 15
    assert s.maker.recovery.state is RecoveryState.COOLDOWN
    assert s.view().recovery.cooldown_left > 0
    cooldown = s.maker.params.recovery.cooldown
    during = s.run(s.now + cooldown - 0.2)
    assert placements(during) == [], "nothing is sent during the cooldown"

    after = s.run(s.now + 0.5)
    second = [p for p in places(after) if p.tif is TimeInForce.IOC]
    assert len(second) == 1 and second[0].size >= min_ioc
    assert s.maker.recovery.attempts == 2
    s.handle(
        PlaceAck(second[0].cloid, 901, AckStatus.FILLED, filled=5, filled_value=5 * BID),
        s.now + 0.05,
    )
    assert s.maker.position.lots == max_position == 10

    resumed = s.run(s.now + 0.3)
    assert s.maker.recovery.state is RecoveryState.DONE
    quotes = [p for p in places(resumed) if p.tif is TimeInForce.ALO]
    assert quotes, "normal quoting resumes"
    assert s.view().side_reasons[Side.ASK] is None


def test_S12_stuck_reduce_only_post_only_rejections() -> None:
    """S12 (D15): three post-only rejections of the reduce-only asks in a row while over the
    limit arm recovery; IOCs of at least min_ioc_size go out with a cooldown between them,
    normal quoting is skipped, and it ends Done with quoting resumed."""
    s, asks = _s12(POST_ONLY, RejectionClass.PRICE_ERROR)
    pending = list(asks)
    for attempt in range(3):
        assert s.maker.recovery.state is RecoveryState.IDLE
        assert _reject_reduce_only_asks(s, pending, POST_ONLY, RejectionClass.PRICE_ERROR)
        if attempt < 2:
            pending = _run_until_placed(s, s.now + 10)
    assert s.maker.recovery.state is RecoveryState.ARMED
    _recover(s)


def test_S12_stuck_reduce_only_stale_position() -> None:
    """S12 (D15, D26): "Reduce only order would increase position" first refreshes the
    position and retries once; when it keeps coming, it is the stuck case and recovery runs."""
    s, asks = _s12(STALE_REDUCE_ONLY, RejectionClass.STALE_POSITION)
    assert _reject_reduce_only_asks(s, asks, STALE_REDUCE_ONLY, RejectionClass.STALE_POSITION)
    sent = s.run(s.now + 0.2)
    assert any("stale" in sync.reason for sync in syncs(sent)), "position refresh (D26)"
    assert placements(sent) == [], "no retry before the fresh position"
    assert s.view().side_reasons[Side.ASK].startswith("position limit")
    assert s.maker.recovery.state is RecoveryState.IDLE

    pending: list = []
    for attempt in range(3):
        s.handle(OpenOrders(()), s.now + 0.05)
        s.handle(PositionSnapshot(20), s.now)
        pending = _run_until_placed(s, s.now + 5)
        assert [p for p in places(pending, Side.ASK) if p.reduce_only], f"retry {attempt}"
        _reject_reduce_only_asks(s, pending, STALE_REDUCE_ONLY, RejectionClass.STALE_POSITION)
        if attempt < 2:
            assert s.maker.recovery.state is RecoveryState.IDLE
    assert s.maker.recovery.state is RecoveryState.ARMED
    s.handle(OpenOrders(()), s.now + 0.05)
    s.handle(PositionSnapshot(20), s.now)
    _recover(s)
