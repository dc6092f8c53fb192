"""DOMAIN.md D9-D19 and D23-D28 through the real ``MarketMaker``, beyond what S1-S12 show.

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.actions import CancelAllOrders, CancelOrder, Kill, Pause, Quit, Rearm, Resume
from core.commands import Cancel, Command, Modify, Place, TimeInForce
from core.events import (
    AckStatus,
    BookSnapshot,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    CancelUnknown,
    Connected,
    Disconnected,
    Fill,
    LeverageInfo,
    Liquidity,
    ModifyAck,
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
    VenueOrder,
    VenueStatus,
)
from core.maker import JOIN_WINDOW_S, MarketMaker, SweepPhase
from core.orders import OrderState
from core.reconcile import PositionMoves
from core.recovery import RecoveryState
from core.view import Mode
from tests.maker_harness import (
    ASK,
    BID,
    INSTRUMENT,
    AutoVenue,
    Rig,
    assert_idle_sides_say_why,
    book,
    cancel_alls,
    cancels,
    fill,
    make_config,
    make_params,
    modifies,
    placements,
    places,
    queries,
    resting_ack,
    running_maker,
    settle,
    syncs,
    venue_order,
    verify_empty,
)

MARGIN = "Insufficient margin to place order. asset=0"
POST_ONLY = "Post only order would have immediately matched, bbo was 99@100. asset=0"
RATE_LIMITED = "Too many cumulative requests sent (1201 > 1200) for cumulative volume traded"
OI_CAP = "Order would increase open interest while open interest is capped. asset=0"
STRANGE = "Something the classifier has never seen"


def batch_of(s: Rig, cmd: Command) -> int:
    return next(b.batch_id for b in s.batches if cmd in b.commands)


def three_levels(**sections: dict) -> Rig:
    s, first = running_maker(make_params(config=make_config(strategy={"levels": 3}, **sections)))
    s.ack_all(first, 100)
    return s


def first_place(s: Rig, side: Side, until: float) -> Place | None:
    """Tick (data fresh) until the maker places on ``side``; that placement, or None."""
    while s.now < until - 1e-9:
        got = places(s.run(s.now + 0.1), side)
        if got:
            return got[0]
    return None


def unmatched_fill(tid: int, side: Side, size: int, price: int = BID) -> Fill:
    return Fill(tid, None, None, side, price, size, Liquidity.TAKER)


# ==== D9: grace period ==========================================================================


def test_D9_unacked_order_missing_from_a_young_snapshot_is_kept_then_asked() -> None:
    """D9: a placement not yet acknowledged is missing from a snapshot taken before it reached
    the venue: kept while younger than the grace period, queried by cloid once older."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    t0 = s.now
    s.handle(OpenOrders(()), t0 + 0.3)
    assert queries(s.tick(t0 + 0.4)) == []
    assert s.order(bid.cloid).state is OrderState.PENDING_NEW

    s.handle(OpenOrders(()), t0 + 2.5)
    asked = queries(s.tick(t0 + 2.6))
    assert (bid.cloid, None) in [(q.cloid, q.oid) for q in asked]
    assert s.order(bid.cloid).state is OrderState.PENDING_NEW  # asked, never guessed


def test_D9_snapshot_listing_an_unacked_order_confirms_it() -> None:
    """D9/D2: a snapshot that lists a placement before its ack makes it live under its oid."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.handle(OpenOrders((VenueOrder(77, bid.cloid, bid.side, bid.price, bid.size, bid.size),)))
    order = s.order(bid.cloid)
    assert (order.state, order.oid) == (OrderState.RESTING, 77)


def test_D9_grace_period_is_the_configured_one() -> None:
    """D9: the grace period comes from the configuration, not a constant."""
    config = make_config(reconcile={"grace_period_s": 0.5})
    s, first = running_maker(make_params(config=config))
    (bid,) = places(first, Side.BID)
    s.handle(PlaceAck(bid.cloid, 80, AckStatus.RESTING), s.now + 0.01)
    s.handle(OpenOrders(()), s.now + 0.7)
    assert bid.cloid in [q.cloid for q in queries(s.tick(s.now + 0.05))]


@pytest.mark.parametrize("policy", ["adopt", "cancel"])
def test_D9_late_snapshot_listing_an_order_we_finished_and_forgot_never_resurrects_it(
    policy: str,
) -> None:
    """D9, D1 (swarm seed 1033300): a snapshot answered at venue time T can reach us long after
    T.  By then an order it lists may have been cancelled, become terminal and been pruned from
    the tracker; it is ours and finished, not a stranger: never adopted (that was a ghost
    order, resurrected from Cancelled), only cancelled again in case the venue really kept it."""
    config = make_config(
        reconcile={
            "unknown_orders": policy,
            "terminal_retention_s": 10.0,
            "late_fill_window_s": 0.2,
        }
    )
    s, first = running_maker(make_params(config=config))
    (bid,) = places(first, Side.BID)
    s.handle(resting_ack(bid, 80), s.now + 0.05)
    listed = venue_order(bid, 80)
    s.handle(OrderUpdate(80, bid.cloid, VenueStatus.CANCELED, "canceled"), s.now + 0.1)
    s.run(s.now + 12.0)
    assert bid.cloid not in s.maker.tracker.by_cloid, "pruned after terminal_retention_s"
    sent = s.handle(OpenOrders((listed,), venue_time=1.0))
    assert bid.cloid not in s.maker.tracker.by_cloid
    assert all(o.oid != 80 for o in s.maker.tracker.by_cloid.values())
    assert [(c.cloid, c.oid) for c in cancels(sent)] == [(None, 80)]
    assert s.maker.untracked_venue_orders == 0


# ==== D10: fills and order updates are independent ==============================================


@pytest.mark.parametrize("update_first", [True, False], ids=["update-first", "fills-first"])
def test_D10_fills_and_updates_in_either_order(update_first: bool) -> None:
    """D10: the "filled" update and the fills may come in either order (or the update alone
    first); the order ends filled and the position counts each fill once."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.handle(PlaceAck(bid.cloid, 90, AckStatus.RESTING), s.now + 0.01)
    update = OrderUpdate(90, bid.cloid, VenueStatus.FILLED, "filled")
    fills = [fill(11, bid, size=6, oid=90), fill(12, bid, size=4, oid=90)]
    events = [update, *fills] if update_first else [*fills, update]
    for ev in events:
        s.handle(ev, s.now + 0.01)
    order = s.order(bid.cloid)
    assert order.state is OrderState.FILLED
    assert order.filled == 10
    assert s.maker.position.lots == 10
    assert s.maker.counters["illegal_transitions"] == 0


def test_D10_cancelled_update_then_fill_from_before_the_cancel() -> None:
    """D10/D1: a venue "canceled" update followed by a fill that happened before it: the
    fill is counted and the order ends FilledDuringCancel, not live and not lost."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.handle(PlaceAck(bid.cloid, 91, AckStatus.RESTING), s.now + 0.01)
    s.handle(OrderUpdate(91, bid.cloid, VenueStatus.CANCELED, "canceled"), s.now + 0.01)
    s.handle(fill(13, bid, size=3, oid=91), s.now + 0.2)
    s.run(s.now + 1.5)
    assert s.order(bid.cloid).state is OrderState.FILLED_DURING_CANCEL
    assert s.maker.position.lots == 3


# ==== D11: classification effects ===============================================================


def _reject_first_bid(s: Rig, first: list, text: str, rclass: RejectionClass) -> Place:
    (bid,) = places(first, Side.BID)
    (ask,) = places(first, Side.ASK)
    s.handle(PlaceRejected(bid.cloid, text, rclass, batch_of(s, bid)), s.now + 0.01)
    s.handle(PlaceAck(ask.cloid, 200, AckStatus.RESTING), s.now)
    return bid


def test_D11_position_limit_stops_the_side_without_backoff() -> None:
    """D11: PositionLimit stops quoting that side ("position limit"), with no backoff; the other
    side keeps quoting."""
    s, first = running_maker()
    _reject_first_bid(s, first, OI_CAP, RejectionClass.POSITION_LIMIT)
    sent = s.run(s.now + 10)
    assert places(sent, Side.BID) == []
    view = s.view()
    assert view.side_reasons[Side.BID].startswith("position limit")
    bid_backoff = next(b for b in view.backoff if b.side is Side.BID)
    assert bid_backoff.remaining == 0.0  # a hold, not a backoff
    assert bid_backoff.rclass is RejectionClass.POSITION_LIMIT
    assert view.side_reasons[Side.ASK] is None


def test_D11_margin_backs_off_that_side_only() -> None:
    """D11: Margin is transient: that side backs off, the other side does not."""
    s, first = running_maker()
    _reject_first_bid(s, first, MARGIN, RejectionClass.MARGIN)
    t = s.now
    assert s.maker.rejections.placement_block(Side.BID, t) is not None
    assert s.maker.rejections.placement_block(Side.ASK, t) is None
    assert s.view().side_reasons[Side.BID].startswith("backoff Margin")
    again = first_place(s, Side.BID, t + 3)
    assert again is not None and s.now >= t + s.maker.params.rejection.backoff_base


def test_D11_single_price_error_reprices_without_backoff_repeated_ones_back_off() -> None:
    """D11: one PriceError re-prices on the next tick with no backoff; when it repeats
    (``price_error_threshold`` batches in a row) the side backs off."""
    s, first = running_maker()
    bid = _reject_first_bid(s, first, POST_ONLY, RejectionClass.PRICE_ERROR)
    assert s.maker.rejections.placement_block(Side.BID, s.now) is None
    threshold = s.maker.params.rejection.price_error_threshold
    for n in range(2, threshold + 1):
        nxt = places(s.tick(s.now + 0.1), Side.BID)
        assert len(nxt) == 1 and nxt[0].price < bid.price, "re-priced behind the refused one"
        bid = nxt[0]
        s.handle(
            PlaceRejected(bid.cloid, POST_ONLY, RejectionClass.PRICE_ERROR, batch_of(s, bid)),
            s.now + 0.01,
        )
        blocked = s.maker.rejections.placement_block(Side.BID, s.now)
        assert (blocked is not None) is (n >= threshold)
    assert s.view().side_reasons[Side.BID].startswith("backoff PriceError")


def test_D11_rate_limit_backs_off_all_placements() -> None:
    """D11: RateLimit backs off every placement, both sides."""
    s, first = running_maker()
    _reject_first_bid(s, first, RATE_LIMITED, RejectionClass.RATE_LIMIT)
    assert s.maker.rejections.placement_block(Side.ASK, s.now) is not None
    sent = s.handle(book(BID + 4, ASK + 4), s.now + 0.2)  # the resting ask is now stale
    assert placements(sent) == []
    assert cancels(sent), "stale quotes are still cancelled"
    view = s.view()
    assert all("RateLimit" in (view.side_reasons[side] or "") for side in Side)


def test_D11_other_backs_off_and_keeps_the_raw_text() -> None:
    """D11: an unknown text is Other, backs off, and the raw message reaches the operator."""
    s, first = running_maker()
    _reject_first_bid(s, first, STRANGE, RejectionClass.OTHER)
    view = s.view()
    assert s.maker.rejections.placement_block(Side.BID, s.now) is not None
    assert view.rejection_counts[RejectionClass.OTHER] == 1
    assert view.rejection_texts[-1].reason == STRANGE
    assert view.rejection_texts[-1].side is Side.BID


# ==== D12: batch = one event, exponential backoff ===============================================


def test_D12_backoff_grows_exponentially_caps_and_resets_on_success() -> None:
    """D12: each rejection event doubles the side's wait up to the cap; the countdown is
    visible and decreasing; an acceptance ends the run."""
    config = make_config(backoff={"base_s": 1.0, "factor": 2.0, "cap_s": 3.0})
    s, first = running_maker(make_params(config=config))
    (bid,) = places(first, Side.BID)
    s.ack_all(places(first, Side.ASK), 300)
    windows = []
    ask_view = None
    for _ in range(4):
        s.handle(PlaceRejected(bid.cloid, MARGIN, RejectionClass.MARGIN, batch_of(s, bid)))
        ask_view = next(b for b in s.view().backoff if b.side is Side.BID)
        windows.append(round(ask_view.remaining, 6))
        t = s.now
        s.run(t + 0.5)
        later = next(b for b in s.view().backoff if b.side is Side.BID).remaining
        assert later == pytest.approx(windows[-1] - 0.5)  # a countdown
        nxt = first_place(s, Side.BID, t + 10)
        assert nxt is not None
        bid = nxt
    assert windows == [1.0, 2.0, 3.0, 3.0]
    assert ask_view is not None and ask_view.consecutive == 4

    s.handle(PlaceAck(bid.cloid, 301, AckStatus.RESTING), s.now + 0.01)
    reset = next(b for b in s.view().backoff if b.side is Side.BID)
    assert (reset.consecutive, reset.remaining, reset.rclass) == (0, 0.0, None)


# ==== D13: backoff never blocks cancels =========================================================


def test_D13_backoff_never_blocks_operator_cancels_cancel_all_or_kill() -> None:
    """D13: under a global RateLimit backoff, an operator cancel, a cancel-all and a kill all
    go out on the very call."""
    s, first = running_maker(make_params(config=make_config(strategy={"levels": 2})))
    bids = places(first, Side.BID)
    s.ack_all(places(first, Side.ASK), 400)
    s.handle(PlaceAck(bids[0].cloid, 410, AckStatus.RESTING), s.now + 0.01)
    s.handle(PlaceRejected(bids[1].cloid, RATE_LIMITED, RejectionClass.RATE_LIMIT))
    assert s.maker.rejections.placement_block(Side.ASK, s.now) is not None

    assert cancels(s.operate(CancelOrder(bids[0].cloid), s.now + 0.1)) == [
        Cancel(bids[0].cloid, 410)
    ]
    assert cancel_alls(s.operate(CancelAllOrders(), s.now + 0.1))
    assert cancel_alls(s.operate(Kill(), s.now + 0.1))
    # D29: another cancel-all right behind them joins the one on its way.
    assert cancel_alls(s.operate(CancelAllOrders(), s.now + 0.1)) == []
    assert cancel_alls(s.operate(CancelAllOrders(), s.now + JOIN_WINDOW_S))


def test_D13_repeated_cancel_failures_escalate_to_one_cancel_all() -> None:
    """D13: cancels that keep failing escalate to exactly one venue-wide cancel-all."""
    s = three_levels()
    bids = [o for o in s.maker.tracker.non_terminal() if o.side is Side.BID]
    assert len(bids) == 3
    for order in bids:
        s.operate(CancelOrder(order.cloid), s.now + 0.01)
    escalated = []
    for order in bids:
        ev = CancelRejected(order.cloid, order.oid, RATE_LIMITED, False, RejectionClass.RATE_LIMIT)
        escalated += cancel_alls(s.handle(ev, s.now + 0.01))
    assert len(escalated) == 1
    assert s.maker.sweep_phase is SweepPhase.SWEEPING


# ==== D14: believe the venue's leverage =========================================================


def test_D14_venue_leverage_replaces_the_configured_one() -> None:
    """D14: when the venue says it applies another leverage, the maker believes it (and shows
    it), whatever the configuration said."""
    s, _ = running_maker()
    assert s.view().leverage == 5
    s.handle(LeverageInfo(3, "Max leverage at current position size is 3x"), s.now + 0.01)
    assert s.view().leverage == 3
    assert any("3x" in e.text for e in s.view().log)


def test_D14_quotes_are_sized_with_the_venues_leverage() -> None:
    """D14: "size with it": at 3x instead of the configured 5x a ladder needs 5/3 the margin,
    so quote sizes and the position limit shrink to 3/5; a higher figure never grows them."""
    s, _ = running_maker()
    planned = s.maker.params.strategy
    s.handle(LeverageInfo(3, "Max leverage at current position size is 3x"), s.now + 0.01)
    assert s.maker.strategy.size_lots == max(1, planned.size_lots * 3 // 5)
    assert s.maker.strategy.max_position_lots == max(1, planned.max_position_lots * 3 // 5)
    sent = s.tick(s.now + 1.0)
    assert all(p.size <= s.maker.strategy.size_lots for p in placements(sent) if p.level == 0)
    s.handle(LeverageInfo(20, "venue"), s.now + 1.1)
    assert s.maker.strategy == planned


# ==== D15: stuck reduce-only recovery (beyond S12) ==============================================


def _armed(**recovery: object) -> Rig:
    config = make_config(risk={"max_position": "1.0"}, recovery=recovery)
    s, first = running_maker(
        make_params(config=config), position=20, entry_value=20 * (BID + ASK) // 2
    )
    s.tick(s.now + 0.1)
    pending = [p for p in places(first, Side.ASK) if p.reduce_only]
    for _ in range(3):
        assert pending
        for p in pending:
            s.handle(PlaceRejected(p.cloid, POST_ONLY, RejectionClass.PRICE_ERROR, batch_of(s, p)))
        if s.maker.recovery.state is RecoveryState.ARMED:
            break
        nxt = first_place(s, Side.ASK, s.now + 5)
        pending = [nxt] if nxt is not None and nxt.reduce_only else []
    assert s.maker.recovery.state is RecoveryState.ARMED
    return s


def test_D15_recovery_gives_up_after_max_attempts() -> None:
    """D15: IOCs that never fill are retried after each cooldown up to max_attempts, then
    recovery shows GaveUp and sends nothing more."""
    s = _armed(max_attempts=2, cooldown_s=1.0)
    iocs: list[Place] = []
    for _ in range(40):
        for p in places(s.run(s.now + 0.1)):
            if p.tif is TimeInForce.IOC:
                iocs.append(p)
                s.handle(PlaceAck(p.cloid, 700 + len(iocs), AckStatus.FILLED), s.now + 0.01)
    assert len(iocs) == 2
    assert s.view().recovery.state is RecoveryState.GAVE_UP
    assert s.view().recovery.attempts == 2


def test_D15_no_recovery_ioc_while_killed_or_paused() -> None:
    """D15/D18/D28: recovery never overrides the kill switch or a pause."""
    s = _armed()
    s.operate(Pause(), s.now + 0.01)
    assert [p for p in places(s.run(s.now + 3)) if p.tif is TimeInForce.IOC] == []
    s.operate(Resume(), s.now + 0.01)
    s.operate(Kill(), s.now + 0.01)
    assert placements(s.run(s.now + 3)) == []


def test_D15_position_back_inside_the_limit_disarms() -> None:
    """D15: if the position comes back inside the limit before an IOC is needed, recovery
    stands down without sending one."""
    s = _armed()
    s.handle(unmatched_fill(5000, Side.ASK, 15), s.now + 0.01)
    sent = s.run(s.now + 0.5)
    assert [p for p in places(sent) if p.tif is TimeInForce.IOC] == []
    assert s.maker.recovery.state is RecoveryState.IDLE


# ==== D16: position reconciliation ==============================================================


def test_D16_drift_is_corrected_only_when_confirmed_twice() -> None:
    """D16: a drift is reported and re-checked with a fresh sync; the venue's position is
    adopted only when the same drift shows again with no fill in between."""
    s, _ = running_maker()
    settle(s)
    s.handle(PositionSnapshot(5), s.now + 0.01)
    assert s.maker.position.lots == 0
    recheck = syncs(s.run(s.now + 1.5))
    assert recheck, "a drift triggers a sync to re-check it"
    s.answer_sync(s.now + 0.01, position=5)
    assert s.maker.position.lots == 5


def test_D16_drift_with_a_fill_between_is_not_corrected() -> None:
    """D16: a fill counted between two equal drifts means the first snapshot may have been
    older than that fill: nothing is corrected until a third look agrees."""
    s, _ = running_maker()
    settle(s)
    s.handle(PositionSnapshot(3), s.now + 0.01)  # venue 3, local 0: drift +3
    s.handle(unmatched_fill(6000, Side.BID, 2), s.now + 0.01)  # local 2
    s.handle(PositionSnapshot(5), s.now + 1.0)  # drift +3 again, but a fill came between
    assert s.maker.position.lots == 2
    s.handle(PositionSnapshot(5), s.now + 1.0)
    assert s.maker.position.lots == 5


def test_D16_a_timed_fill_between_two_looks_does_not_hold_back_the_correction() -> None:
    """D16: with the snapshots and the fill lined up by venue time, a fill between two equal
    drifts cannot be the cause of the drift: it is corrected at the second look (a busy
    market no longer leaves a real drift standing), and the fill is neither lost nor doubled."""
    s, _ = running_maker()
    settle(s)
    t = s.now
    s.handle(PositionSnapshot(3, 0, t), t + 0.01)  # venue 3 at t, local 0: drift +3
    fill = Fill(6001, None, None, Side.BID, BID, 2, Liquidity.TAKER, venue_time=t + 0.5)
    s.handle(fill, t + 0.6)  # local 2
    s.handle(PositionSnapshot(5, 0, t + 1.0), t + 1.01)  # venue 5 at t+1: drift +3 again
    assert s.maker.position.lots == 5
    s.handle(fill, t + 1.2)  # a replay of the same trade moves nothing (D4)
    assert s.maker.position.lots == 5


def test_D16_no_adoption_while_an_untimed_immediate_fill_may_still_arrive() -> None:
    """D16, D4: an IOC traded at the venue, and its answer (Hyperliquid gives it no venue
    time) is slow: two snapshots show the trade as drift.  Adopting them and then counting
    the answer's fill would count it twice; the maker waits for the answer instead."""
    s, _ = running_maker()
    settle(s)
    ioc = Place("0x00000000000000000000000000000ioc", Side.BID, BID, 5, TimeInForce.IOC)
    s.maker.tracker.track_place(ioc, s.now)
    s.handle(PositionSnapshot(5), s.now + 0.01)
    s.handle(PositionSnapshot(5), s.now + 1.0)
    assert s.maker.position.lots == 0  # not adopted while the IOC is unanswered
    s.handle(PlaceAck(ioc.cloid, 9001, AckStatus.FILLED, 5, 5 * BID), s.now + 0.1)
    assert s.maker.position.lots == 5  # counted once, from the answer
    s.handle(PositionSnapshot(5), s.now + 1.0)
    assert s.maker.position.lots == 5


def _resting_bid(s: Rig, first: list[Command]) -> tuple[Place, int]:
    """The first ladder's bid, acknowledged as resting; returns it and its oid."""
    oids = s.ack_all(first, 700, s.now + 0.01)
    bid = places(first, Side.BID)[0]
    return bid, oids[bid.cloid]


def test_D16_fill_on_the_wire_when_the_venue_position_is_adopted_counts_once() -> None:
    """D16, D4 (swarm seeds 1004877, 1002048, 1003238): a position snapshot taken at venue
    time T already holds every fill the venue made up to T, including fills still on their
    way to us (a backed-up stream, a disconnect before the replay).  While the stream is
    behind, the same drift shows twice with no fill in between and is adopted; the fills that
    then arrive from before T must not move the position again.  A fill after T still does."""
    s, first = running_maker()
    settle(s)
    bid, oid = _resting_bid(s, first)
    t0 = s.now
    on_the_wire = Fill(6100, oid, bid.cloid, Side.BID, bid.price, 5, Liquidity.MAKER, venue_time=t0)
    s.handle(PositionSnapshot(5, 5 * bid.price, venue_time=t0 + 0.5), t0 + 0.6)
    assert s.maker.position.lots == 0, "one look at a drift is not enough (D16)"
    s.handle(PositionSnapshot(5, 5 * bid.price, venue_time=t0 + 1.5), t0 + 1.6)
    assert s.maker.position.lots == 5, "the same drift twice: the venue's position is adopted"
    s.handle(on_the_wire, t0 + 1.7)
    assert s.maker.position.lots == 5, "a fill from before the adopted snapshot counts once"
    order = s.maker.tracker.get(bid.cloid)
    assert order is not None and order.filled == 5, "the order still learns that it traded"
    later = Fill(6101, oid, bid.cloid, Side.BID, bid.price, 2, Liquidity.MAKER, venue_time=t0 + 2)
    s.handle(later, t0 + 2.1)
    assert s.maker.position.lots == 7, "a fill after the snapshot is not in it"
    s.handle(PositionSnapshot(7, 7 * bid.price, venue_time=t0 + 2.5), t0 + 2.6)
    assert s.maker.position.lots == 7


def test_D16_drift_is_judged_as_of_the_snapshots_venue_time() -> None:
    """D16: a fill the stream brought before the snapshot's answer, but made after the venue
    took the snapshot, is not drift: ours is compared as of the snapshot's time.  (Before, the
    same apparent drift twice was adopted and the fill vanished from the position.)"""
    s, first = running_maker()
    settle(s)
    bid, oid = _resting_bid(s, first)
    t0 = s.now
    s.handle(Fill(6200, oid, bid.cloid, Side.BID, bid.price, 3, Liquidity.MAKER, venue_time=t0))
    assert s.maker.position.lots == 3
    for look in (1, 2, 3):
        s.handle(PositionSnapshot(0, 0, venue_time=t0 - 0.1), t0 + look)
        assert s.maker.position.lots == 3
    assert not [e for e in s.maker.log if "drift" in e.text]


def test_D16_snapshot_older_than_the_adopted_one_is_ignored() -> None:
    """D16: answers overtake each other; a position snapshot older than the one adopted
    cannot be lined up with ours and never moves the position."""
    s, _ = running_maker()
    settle(s)
    t0 = s.now
    s.handle(PositionSnapshot(4, venue_time=t0 + 0.1), t0 + 0.2)
    s.handle(PositionSnapshot(4, venue_time=t0 + 0.3), t0 + 0.4)
    assert s.maker.position.lots == 4
    for look in (1, 2):
        s.handle(PositionSnapshot(9, venue_time=t0 + 0.05), t0 + 0.4 + look)
    assert s.maker.position.lots == 4


def test_D16_position_moves_line_up_by_venue_time_within_their_horizon() -> None:
    """D16: ``PositionMoves`` returns the moves after a snapshot's time, refuses a snapshot
    older than what it remembers or than the adopted one, and after adopting treats moves up
    to that time as already in the position.  Untimed moves are never placed in time."""
    moves = PositionMoves(horizon=10.0)
    moves.record(1.0, 3, 300)
    moves.record(None, 7, 700)
    moves.record(5.0, -2, -200)
    assert moves.after(0.5) == [(3, 300), (-2, -200)]
    assert moves.after(None) == []
    moves.record(12.0, 1, 100)  # 1.0 is now beyond the horizon
    assert moves.after(0.5) is None
    assert moves.after(4.0) == [(-2, -200), (1, 100)]
    moves.adopted(6.0)
    assert moves.included(6.0) and not moves.included(6.5) and not moves.included(None)
    assert moves.after(5.5) is None
    assert moves.after(7.0) == [(1, 100)]


@pytest.mark.parametrize(
    "trigger",
    ["unmatched fill", "rejection", "reconnect", "periodic"],
)
def test_D16_reconcile_triggers(trigger: str) -> None:
    """D16: fills that match no order, rejections, reconnects and a periodic timer each lead
    to a state sync."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    settle(s)
    expected = {
        "unmatched fill": "fill for an unknown order",
        "rejection": "Margin rejection",
        "reconnect": "reconnect",
        "periodic": "periodic",
    }[trigger]
    horizon = 1.5
    if trigger == "unmatched fill":
        s.handle(unmatched_fill(7000, Side.ASK, 1), s.now + 0.01)
    elif trigger == "rejection":
        s.handle(PlaceRejected(bid.cloid, MARGIN, RejectionClass.MARGIN), s.now + 0.01)
    elif trigger == "reconnect":
        s.handle(Disconnected("lost"), s.now + 0.01)
        s.handle(Connected("sim"), s.now + 0.2)
    else:
        horizon = s.maker.params.sync_interval + 0.5
    reasons = [c.reason for c in syncs(s.run(s.now + horizon))]
    assert expected in reasons


# ==== D17: pending exposure and worst case ======================================================


def test_D17_pending_exposure_and_worst_case_in_the_view() -> None:
    """D17: pending bid/ask lots and notional from every order that may rest (unanswered
    placements included), net pending change, and the worst-case positions."""
    s, first = running_maker(make_params(config=make_config(strategy={"levels": 3})))
    bids, asks = places(first, Side.BID), places(first, Side.ASK)
    ex = s.view().exposure
    assert (ex.pending_bid, ex.pending_ask) == (30, 30)  # PendingNew counts
    assert ex.bid_notional == sum(p.price * p.size for p in bids)
    assert ex.ask_notional == sum(p.price * p.size for p in asks)
    assert ex.net_pending_change == 0
    assert (ex.worst_case_max_position, ex.worst_case_min_position) == (30, -30)
    assert not ex.breached

    s.ack_all(first, 100)
    s.handle(fill(20, bids[0], size=4), s.now + 0.01)
    ex = s.view().exposure
    assert (ex.position, ex.pending_bid, ex.pending_ask) == (4, 26, 30)
    assert (ex.worst_case_max_position, ex.worst_case_min_position) == (30, -26)

    s.operate(CancelOrder(asks[0].cloid), s.now + 0.01)  # CancelPending may still fill
    assert s.view().exposure.pending_ask == 30


def test_D17_worst_case_beyond_the_limit_is_a_warning_not_a_block() -> None:
    """D17: orders found on the venue can push the worst case past the limit; that shows as a
    breach, and quoting goes on."""
    config = make_config(reconcile={"on_start": "adopt"})
    s = Rig(MarketMaker(make_params(config=config), INSTRUMENT))
    s.start()
    s.handle(OpenOrders((VenueOrder(1, None, Side.BID, BID - 100, 45, 45),)), 0.01)
    s.handle(PositionSnapshot(10), 0.02)
    assert s.maker.mode is Mode.RUNNING
    s.handle(Connected("sim"), 0.2)
    sent = s.handle(book(), 0.3)
    ex = s.view().exposure
    assert ex.breaches_long and ex.worst_case_max_position > ex.max_position
    assert places(sent, Side.ASK), "a worst-case breach does not block quoting"


# ==== D18: the kill switch ======================================================================


def test_D18_operator_kill_is_latched_until_rearm() -> None:
    """D18: the operator's kill cancels everything at once, is recorded with its reason and
    time, and stays latched through ticks until re-armed."""
    s, first = running_maker()
    s.ack_all(first, 100)
    t = s.now + 0.1
    assert cancel_alls(s.operate(Kill("test"), t))
    trigger = s.view().kill_triggers[-1]
    assert (trigger.time, trigger.reason) == (t, "operator: test")
    s.run(t + 5)
    assert s.maker.mode is Mode.KILLED
    assert s.view().mode_reason == "operator: test"
    s.operate(Rearm(), s.now + 0.01)
    assert s.maker.mode is Mode.RUNNING


def test_D18_position_runaway_kills() -> None:
    """D18/D30: |position| beyond 2x the limit kills, on the very fill that takes it there;
    exactly 2x does not."""
    s, _ = running_maker()
    limit = s.maker.params.risk.max_position
    assert cancel_alls(s.handle(unmatched_fill(8000, Side.BID, 2 * limit), s.now + 0.01)) == []
    assert cancel_alls(s.run(s.now + 0.3)) == []
    assert s.maker.mode is Mode.RUNNING
    sent = s.handle(unmatched_fill(8001, Side.BID, 1), s.now + 0.01)
    assert cancel_alls(sent)
    assert s.maker.mode is Mode.KILLED
    assert s.view().kill_triggers[-1].reason.startswith("position runaway")


def test_D18_stale_market_data_kills() -> None:
    """D18: market data older than the limit kills."""
    s, first = running_maker()
    s.ack_all(first, 100)
    stale = s.maker.params.risk.stale_data_s
    sent = s.run(s.now + stale + 0.5, fresh_data=False)
    assert cancel_alls(sent)
    assert s.maker.mode is Mode.KILLED
    assert s.view().kill_triggers[-1].reason.startswith("stale market data")


def test_D18_loss_limit_kills() -> None:
    """D18: PnL below minus the loss limit kills."""
    config = make_config(risk={"loss_limit": "1"})  # 1.00 in quote currency = 1000 tick-lots
    mid = (BID + ASK) // 2
    s, _ = running_maker(make_params(config=config), position=10, entry_value=10 * mid)
    assert s.maker.mode is Mode.RUNNING
    s.handle(book(BID - 50, ASK - 50), s.now + 0.1)  # -500: inside the limit
    assert cancel_alls(s.tick(s.now + 0.1)) == []
    s.handle(book(BID - 150, ASK - 150), s.now + 0.1)  # -1500: beyond it
    assert cancel_alls(s.tick(s.now + 0.1))
    assert s.view().kill_triggers[-1].reason.startswith("loss limit")


def test_D18_no_placement_while_killed_over_many_ticks_and_book_moves() -> None:
    """D18: from the kill until the re-arm, not one Place or Modify, whatever the book does and
    whatever answers arrive for orders that were in flight when the kill came."""
    rng = random.Random(18)
    s, first = running_maker(make_params(config=make_config(strategy={"levels": 3})))
    venue = AutoVenue(s)
    in_flight = list(first)  # the kill comes before the venue answered these
    mark = len(s.sent)
    venue.answer(s.operate(Kill(), s.now + 0.01))
    venue.answer(in_flight)
    mid = (BID + ASK) // 2
    for _ in range(300):
        mid += rng.randint(-8, 8)
        spread = rng.randint(1, 15)
        venue.answer(
            s.handle(book(mid - spread, mid + spread), s.now + rng.choice((0.01, 0.06, 0.2)))
        )
        if rng.random() < 0.3:
            venue.answer(s.tick(s.now + 0.1))
    assert s.maker.mode is Mode.KILLED
    assert s.maker.sweep_phase is SweepPhase.VERIFIED
    assert placements(s.sent[mark:]) == []
    assert not [o for o in s.maker.tracker.non_terminal() if o.state.is_active]


def test_D18_rearm_during_the_kill_sweep_waits_for_the_verification() -> None:
    """D18/D25: a re-arm that comes while the kill's sweep is still unverified does not let
    quoting start on top of orders that may still rest."""
    s, first = running_maker()
    s.ack_all(first, 100)
    s.operate(Kill(), s.now + 0.1)
    s.operate(Rearm(), s.now + 0.05)
    assert placements(s.run(s.now + 1.0)) == []
    verify_empty(s, 2)
    for order in s.maker.tracker.non_terminal():
        if order.state is OrderState.CANCEL_PENDING:
            s.handle(CancelAck(order.cloid, order.oid))
    assert places(s.run(s.now + 0.5)), "quoting resumes once the venue is verified empty"


# ==== D19: restart ==============================================================================


def _venue_orders() -> tuple[VenueOrder, ...]:
    return (
        VenueOrder(501, "0xfeed", Side.BID, BID - 5, 10, 10),
        VenueOrder(502, None, Side.ASK, ASK + 5, 10, 10),
    )


def test_D19_start_up_sweeps_orders_left_on_the_venue() -> None:
    """D19: on start the maker learns the venue's orders and position, cancels every order
    there, verifies, and only then quotes (nothing before, even with a book)."""
    s = Rig(MarketMaker(make_params(), INSTRUMENT))
    s.start(0.0)
    s.handle(Connected("sim"), 0.01)
    assert placements(s.handle(book(), 0.02)) == []
    s.handle(OpenOrders(_venue_orders()), 0.05)
    assert cancel_alls(s.handle(PositionSnapshot(3), 0.06))
    s.handle(CancelAllDone(2, 0), 0.1)
    resweep = s.handle(OpenOrders(_venue_orders()[:1]), 0.15)  # one survived
    assert cancel_alls(resweep)
    assert s.view().untracked_venue_orders == 1
    s.handle(CancelAllDone(1, 0), 0.2)
    s.handle(OpenOrders(()), 0.25)
    assert placements(s.sent) == [] and s.maker.mode is Mode.STARTING
    s.tick(0.6)
    s.handle(OpenOrders(()), 0.65)
    assert s.maker.mode is Mode.RUNNING
    assert s.maker.position.lots == 3
    assert places(s.run(1.0))


def test_D19_kill_during_start_up_keeps_the_venue_position() -> None:
    """D19/D18: a kill that comes before the venue answered the start-up sync must not make
    the maker forget that answer: the venue's position is adopted, the venue is swept, and
    after the re-arm the maker quotes from the real position."""
    s = Rig(MarketMaker(make_params(), INSTRUMENT))
    s.start(0.0)
    assert cancel_alls(s.operate(Kill(), 0.01))
    s.handle(OpenOrders(_venue_orders()), 0.02)
    swept = s.handle(PositionSnapshot(30), 0.03)
    assert s.maker.position.lots == 30
    assert s.maker.mode is Mode.KILLED
    # D29: the kill's venue-wide cancel-all, still on its way, sweeps what start-up found:
    # the start-up sweep joins it rather than sending a second one.
    assert cancel_alls(swept) == []
    assert s.maker.sweep_phase is SweepPhase.SWEEPING
    s.handle(CancelAllDone(2, 0), 0.05)
    s.handle(OpenOrders(()), 0.06)
    s.tick(0.4)
    s.handle(OpenOrders(()), 0.45)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED
    s.operate(Rearm(), 0.5)
    assert s.maker.mode is Mode.RUNNING
    s.handle(Connected("sim"), 0.6)
    sent = s.handle(book(), 0.7)
    assert sum(p.size for p in places(sent, Side.BID)) <= 50 - 30  # room from the real 3.0


def test_D19_adopt_on_start_tracks_the_venue_orders() -> None:
    """D19: with on_start = "adopt" the orders found are tracked (adopted), not cancelled."""
    s = Rig(
        MarketMaker(make_params(config=make_config(reconcile={"on_start": "adopt"})), INSTRUMENT)
    )
    s.start(0.0)
    s.handle(OpenOrders(_venue_orders()), 0.01)
    assert cancel_alls(s.handle(PositionSnapshot(0), 0.02)) == []
    assert s.maker.mode is Mode.RUNNING
    adopted = [o for o in s.view().orders if o.adopted]
    assert sorted(o.oid for o in adopted if o.oid is not None) == [501, 502]


def test_D19_live_mode_halts_when_the_start_up_cancel_all_keeps_failing() -> None:
    """D19: in live mode a start-up cancel-all that keeps failing halts with a clear message
    instead of quoting on top of unknown orders."""
    s = Rig(MarketMaker(make_params(live=True), INSTRUMENT))
    s.start(0.0)
    s.handle(Connected("sim"), 0.01)
    s.handle(OpenOrders(_venue_orders()), 0.02)
    s.handle(PositionSnapshot(0), 0.03)
    for _ in range(s.maker.params.sweep_attempts):
        assert s.maker.mode is Mode.STARTING
        s.handle(CancelAllDone(2, 2), s.now + 0.05)
        s.handle(OpenOrders(_venue_orders()), s.now + 0.05)
    assert s.maker.mode is Mode.HALTED
    assert "start-up" in s.view().mode_reason and "failed" in s.view().mode_reason
    s.handle(book(), s.now + 0.1)
    assert placements(s.sent) == []
    assert placements(s.run(s.now + 10)) == []
    assert s.view().side_reasons == {Side.BID: "halted", Side.ASK: "halted"}


def test_D19_live_mode_halts_when_the_start_up_cancel_all_is_never_answered() -> None:
    """D19: silence is a failure too: unanswered start-up sweeps time out, retry, then halt."""
    s = Rig(MarketMaker(make_params(live=True), INSTRUMENT))
    s.start(0.0)
    s.handle(OpenOrders(_venue_orders()), 0.01)
    s.handle(PositionSnapshot(0), 0.02)
    sweeps = cancel_alls(s.sent) + cancel_alls(
        s.run(s.maker.params.sweep_timeout * (s.maker.params.sweep_attempts + 1))
    )
    assert len(sweeps) == s.maker.params.sweep_attempts
    assert s.maker.mode is Mode.HALTED
    assert placements(s.sent) == []


def test_D19_live_mode_halts_when_the_start_up_sync_keeps_failing() -> None:
    """D19: without the venue's state there is no safe start in live mode."""
    s = Rig(MarketMaker(make_params(live=True), INSTRUMENT))
    s.start(0.0)
    for i in range(3):
        s.handle(SyncFailed("HTTP 502"), 0.1 * (i + 1))
    assert s.maker.mode is Mode.HALTED
    assert "start-up sync failed" in s.view().mode_reason


# ==== D23: maker-only ===========================================================================


def _check_maker_only(s: Rig, cmds: list[Command]) -> None:
    bid, ask = s.maker.book.best_bid, s.maker.book.best_ask
    for c in placements(cmds):
        if c.tif is not TimeInForce.ALO:
            continue
        if c.side is Side.BID:
            assert ask is None or c.price < ask, f"bid {c.price} would take the ask {ask}"
        else:
            assert bid is None or c.price > bid, f"ask {c.price} would take the bid {bid}"
        assert INSTRUMENT.is_valid_ticks(c.price)


_STEP = st.tuples(
    st.integers(-20, 20),  # mid move, ticks
    st.integers(1, 12),  # half spread of the market, ticks
    st.integers(1, 60),  # size at the best bid
    st.integers(1, 60),  # size at the best ask
    st.sampled_from(["ack", "ack", "ack", "fill", "price-error", "tick"]),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_STEP, min_size=5, max_size=40))
def test_D23_no_alo_quote_ever_crosses_the_touch(steps: list) -> None:
    """D23: over random book moves, fills (skew, limits, reduce-only) and post-only
    rejections (price fences), no ALO bid is ever sent at or above the best ask and no ALO ask
    at or below the best bid the maker knows.  Along the way: one quoting order per intent,
    and after each tick every side without quotes says why (D27)."""
    config = make_config(
        strategy={
            "levels": 3,
            "half_spread_ticks": 1,
            "level_spacing_ticks": 1,
            "skew_ticks_per_unit": "3",
        },
        risk={"max_position": "2.0"},
    )
    s, first = running_maker(make_params(config=config))
    _check_maker_only(s, first)
    mid, oid, tid = (BID + ASK) // 2, 10_000, 1
    pending: list[Command] = list(first)
    for move, half, bid_size, ask_size, answer in steps:
        mid = max(100, mid + move)
        snapshot = BookSnapshot(((mid - half, bid_size),), ((mid + half, ask_size),))
        reacted = s.handle(snapshot, s.now + 0.06)
        _check_maker_only(s, reacted)
        pending += reacted
        for cmd in placements(pending):
            oid += 1
            cloid = cmd.new_cloid if isinstance(cmd, Modify) else cmd.cloid
            if answer == "price-error":
                rejected = PlaceRejected(cloid, POST_ONLY, RejectionClass.PRICE_ERROR)
                out = s.handle(rejected, s.now + 0.001)
            elif isinstance(cmd, Modify):
                out = s.handle(ModifyAck(cmd.cloid, cloid, oid, AckStatus.RESTING))
            else:
                out = s.handle(PlaceAck(cloid, oid, AckStatus.RESTING))
            _check_maker_only(s, out)
        for cancel in cancels(pending):
            s.handle(CancelAck(cancel.cloid, cancel.oid))
        if answer == "fill":
            live = [o for o in s.maker.tracker.non_terminal() if o.state.is_active]
            if live:
                target = live[0]
                tid += 1
                s.handle(fill(tid, target, size=target.remaining, oid=target.oid))
        pending = s.tick(s.now + 0.1) if answer == "tick" else []
        _check_maker_only(s, pending)
        _check_one_order_per_intent(s)
        if answer == "tick":
            assert_idle_sides_say_why(s.view())
    assert s.maker.counters["taker_fills"] == 0


def _check_one_order_per_intent(s: Rig) -> None:
    """D22 (as the executor promises it): never two orders that quote for one intent."""
    quoting = (OrderState.PENDING_NEW, OrderState.RESTING, OrderState.PARTIAL_FILLED)
    for intent, cloids in s.maker.tracker.intents.items():
        live = [c for c in cloids if s.maker.tracker.by_cloid[c].state in quoting]
        assert len(live) <= 1, (intent, live)


# ==== D24: no answer is not "not found" =========================================================


def test_D24_unanswered_cancel_becomes_a_status_query_retried_until_definitive() -> None:
    """D24: a cancel with no answer times out into a status query; a failed query is retried,
    never read as "cancelled"; "still open" sends the cancel again; "canceled" confirms it."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.ack_all(first, 100)
    t0 = s.now + 0.1
    s.operate(CancelOrder(bid.cloid), t0)
    sent = s.run(t0 + s.maker.params.answer_timeout + 0.2)
    assert [(q.cloid, q.oid) for q in queries(sent)] == [(bid.cloid, 100)]
    order = s.order(bid.cloid)

    for _ in range(3):
        s.handle(QueryFailed(bid.cloid, 100, "timeout"), s.now + 0.01)
        assert order.state is OrderState.CANCEL_PENDING
        assert queries(s.run(s.now + 1.1)), "retried"

    again = s.handle(OrderStatusReport(bid.cloid, 100, VenueStatus.OPEN, "open"), s.now + 0.01)
    assert cancels(again) == [Cancel(bid.cloid, 100)]
    s.handle(OrderStatusReport(bid.cloid, 100, VenueStatus.CANCELED, "canceled"), s.now + 0.5)
    assert order.state is OrderState.CANCEL_CONFIRMED
    s.run(s.now + 1.5)
    assert order.state is OrderState.CANCELLED


def test_D24_placements_expire_at_the_venue_within_half_their_request_lifetime() -> None:
    """D24 (swarm seed 1052759): "not found" is believed once a placement can no longer
    arrive, so the venue must refuse one that arrives later (Hyperliquid's expiresAfter): every
    placement batch carries an expiry of half the request lifetime (the other half is margin
    for clock skew and the refusal's way back).  Cancels never expire: late is still useful."""
    config = make_config(reconcile={"request_lifetime_s": 8.0})
    s, _ = running_maker(make_params(config=config))
    assert s.batches and all(
        b.expires_in == (4.0 if any(isinstance(c, Place | Modify) for c in b.commands) else None)
        for b in s.batches
    )
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    assert s.batches[-1].expires_in is None and cancel_alls(s.batches[-1].commands)


def _bid_placement_unknown_and_asked_about() -> tuple[Rig, Place, float]:
    """A running maker whose first bid timed out (outcome unknown) and was asked about."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.ack_all(places(first, Side.ASK), 200)
    t0 = s.now
    s.handle(PlaceUnknown(bid.cloid, "timeout"), t0 + 0.3)
    assert [q.cloid for q in queries(s.tick(t0 + 0.4))] == [bid.cloid]
    return s, bid, t0


def _asked_again_until_definitive_never_placed_twice(
    s: Rig, bid: Place, t0: float, mark: int
) -> None:
    """After a stale "not found": asked again, no second order for the intent, and the
    definitive "open" ends the questions."""
    again = s.run(t0 + 5.0)
    assert bid.cloid in [q.cloid for q in queries(again)], "asked again"
    assert places(s.sent[mark:], Side.BID) == [], "no second order for the intent"
    s.handle(OrderStatusReport(bid.cloid, 77, VenueStatus.OPEN, "open"), s.now + 0.01)
    assert s.order(bid.cloid).state is OrderState.RESTING
    assert queries(s.run(s.now + 8.0)) == []


def test_D24_not_found_older_than_the_venues_own_news_is_not_believed() -> None:
    """D24: a status query can overtake the placement it asks about.  When the venue has shown
    the order alive after we asked, a "not found" answer is stale: the order stays live, its
    intent is not placed twice, and the maker asks again until the answer is definitive."""
    s, bid, t0 = _bid_placement_unknown_and_asked_about()
    s.handle(OrderUpdate(77, bid.cloid, VenueStatus.OPEN, "open"), t0 + 0.6)
    mark = len(s.sent)
    stale = OrderStatusReport(bid.cloid, None, VenueStatus.NOT_FOUND, "unknownOid")
    s.handle(stale, t0 + 2.5)  # older than the grace period, yet older than the news
    order = s.order(bid.cloid)
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    _asked_again_until_definitive_never_placed_twice(s, bid, t0, mark)


def test_D24_not_found_asked_before_a_snapshot_listed_the_order_is_not_believed() -> None:
    """D24, D9, D22 (swarm seed 1003829): a status query overtakes the placement it asks about,
    and before its "not found" lands, an open-orders snapshot lists the order.  The snapshot
    settles the question but not the query: that answer is still on its way and older than the
    snapshot's news.  Believing it freed the intent, and a second order rested beside the
    first."""
    s, bid, t0 = _bid_placement_unknown_and_asked_about()
    s.handle(OpenOrders((*s.venue_orders(), venue_order(bid, 77))), t0 + 0.6)
    order = s.order(bid.cloid)
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    mark = len(s.sent)
    stale = OrderStatusReport(bid.cloid, None, VenueStatus.NOT_FOUND, "unknownOid")
    s.handle(stale, t0 + 2.5)  # past the grace period, but the question predates the snapshot
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    _asked_again_until_definitive_never_placed_twice(s, bid, t0, mark)


def test_D24_not_found_answered_after_a_later_query_said_open_is_not_believed() -> None:
    """D24, D10: answers are not matched to the queries they answer, and they can arrive in
    any order.  A query leaves before the venue has shown us the order, a second one after;
    the "open" answer lands first, then the first query's stale "not found".  One answer
    accounts for one query only: the older query may still be the one being answered."""
    s, bid, t0 = _bid_placement_unknown_and_asked_about()
    s.handle(OrderUpdate(77, bid.cloid, VenueStatus.OPEN, "open"), t0 + 0.6)
    resent = s.run(t0 + 0.4 + s.maker.params.query_timeout + 0.1)
    assert [q.cloid for q in queries(resent)] == [bid.cloid], "unanswered: asked again"
    s.handle(OrderStatusReport(bid.cloid, 77, VenueStatus.OPEN, "open"), s.now + 0.01)
    mark = len(s.sent)
    stale = OrderStatusReport(bid.cloid, None, VenueStatus.NOT_FOUND, "unknownOid")
    s.handle(stale, s.now + 0.05)
    order = s.order(bid.cloid)
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    s.run(s.now + 3.0)
    assert places(s.sent[mark:], Side.BID) == [], "no second order for the intent"


def test_D24_cancel_unknown_is_queried() -> None:
    """D24: a cancel whose answer was lost is asked about, not assumed."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.ack_all(first, 100)
    s.operate(CancelOrder(bid.cloid), s.now + 0.1)
    s.handle(CancelUnknown(bid.cloid, 100, "connection reset"), s.now + 0.01)
    assert s.order(bid.cloid).state is OrderState.CANCEL_PENDING
    assert [q.cloid for q in queries(s.tick(s.now + 0.1))] == [bid.cloid]


def test_D24_unanswered_modify_asks_about_both_orders() -> None:
    """D24/D8: a modify with no answer is a cancel and a placement with unknown outcomes: both
    the original and its replacement are queried, so the intent is never stuck."""
    s, first = running_maker()
    s.ack_all(first, 100)
    sent = s.handle(book(BID + 5, ASK + 5), s.now + 0.1)
    mods = modifies(sent)
    assert mods
    asked = queries(s.run(s.now + s.maker.params.answer_timeout + 0.2))
    cloids = {q.cloid for q in asked}
    for m in mods:
        assert m.cloid in cloids and m.new_cloid in cloids
        assert s.order(m.new_cloid).unknown_since is not None


def test_D24_sweep_cancels_without_answers_are_resolved_by_queries() -> None:
    """D24/D25: orders a kill sweep marked CancelPending but whose cancel answers were lost are
    asked about after the timeout; once the venue says "canceled", exposure is clear and,
    after the re-arm, the maker quotes again (no silent stall)."""
    s, first = running_maker()
    s.ack_all(first, 100)
    s.run(s.now + 10)  # the placements' own answer deadlines are long gone
    s.operate(Kill(), s.now + 0.1)
    verify_empty(s, 2)
    asked = queries(s.run(s.now + s.maker.params.answer_timeout))
    assert {q.oid for q in asked} == {100, 101}
    for q in asked[:2]:
        s.handle(OrderStatusReport(q.cloid, q.oid, VenueStatus.CANCELED, "canceled"))
    s.run(s.now + 1.5)
    assert all(o.state.is_terminal for o in s.maker.tracker.by_cloid.values())
    ex = s.view().exposure
    assert (ex.pending_bid, ex.pending_ask) == (0, 0)
    s.operate(Rearm(), s.now + 0.01)
    assert places(s.run(s.now + 0.5))


def _fail_the_sweep(s: Rig, listed: tuple[VenueOrder, ...]) -> None:
    """Answer every attempt of the sweep in flight with a venue that still lists ``listed``."""
    for _ in range(s.maker.params.sweep_attempts):
        assert s.maker.sweep_phase is SweepPhase.SWEEPING
        s.handle(CancelAllDone(0, len(listed)), s.now + 0.05)
        s.handle(OpenOrders(listed), s.now + 0.05)
    assert s.maker.sweep_phase is SweepPhase.FAILED


def test_D13_D25_a_cancel_all_that_cannot_be_verified_pauses_quoting_until_the_operator() -> None:
    """D13/D25/D27: the operator's cancel-all keeps finding orders at the venue, attempt after
    attempt.  Quoting on top of orders we cannot take down piles them up: quoting pauses, says
    why, keeps reconciling (D28), and resumes only when the operator says so."""
    s, first = running_maker()
    s.ack_all(first, 100)
    stuck = s.venue_orders()
    assert stuck
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    _fail_the_sweep(s, stuck)
    mark = len(s.sent)
    s.run(s.now + s.maker.reconciler.interval + 10)
    assert placements(s.sent[mark:]) == []
    view = s.view()
    assert view.mode is Mode.PAUSED
    assert "cancel-all not verified" in view.mode_reason and "p resumes" in view.mode_reason
    assert all(r.startswith("paused: cancel-all not verified") for r in view.side_reasons.values())
    assert syncs(s.sent[mark:]), "reconciliation keeps running while paused (D28)"
    s.operate(Resume(), s.now + 0.1)
    assert s.view().mode is Mode.RUNNING and s.view().mode_reason == ""


FOREIGN = (VenueOrder(9001, None, Side.BID, BID - 500, 10, 10),)  # not ours, will not go


def _verify_empty(s: Rig, swept: int = 0) -> None:
    """Answer the sweep in flight: ``swept`` cancelled, then the venue empty twice, a verify
    gap apart."""
    s.handle(CancelAllDone(swept, 0), s.now + 0.05)
    s.handle(OpenOrders(()), s.now + 0.05)
    s.run(s.now + s.maker.params.verify_gap + 0.1)
    s.handle(OpenOrders(()), s.now + 0.01)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED


def test_D25_a_later_cancel_all_that_verifies_the_venue_empty_resumes_the_paused_quoting() -> None:
    """D25: the pause after an unverified cancel-all lasts until the venue is seen empty; an
    operator's own pause outlasts any sweep."""
    s, first = running_maker()
    s.ack_all(first, 100)
    stuck = s.venue_orders()
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    _fail_the_sweep(s, stuck)
    assert s.view().mode is Mode.PAUSED
    s.operate(CancelAllOrders("again"), s.now + 0.1)
    _verify_empty(s, swept=2)
    assert s.view().mode is Mode.RUNNING
    # The orders the first sweep could not cancel are still asked about; nothing else waits.
    assert set(s.view().side_reasons.values()) == {"reconciling (waiting for cancel answers)"}

    s.operate(Pause(cancel_orders=True), s.now + 0.1)
    _fail_the_sweep(s, FOREIGN)
    s.operate(CancelAllOrders("again"), s.now + 0.1)
    _verify_empty(s)
    assert s.view().mode is Mode.PAUSED, "the operator's pause is the operator's"


def _pause_on_a_failed_cancel_all(s: Rig) -> None:
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    _fail_the_sweep(s, FOREIGN)
    assert s.maker.life.held_reason


def test_D25_a_quit_after_the_cancel_all_pause_stays_stopped_and_sends_no_recovery() -> None:
    """D25/D15: the quit's own sweep verifies the venue empty; that must not lift the pause a
    stopping maker is in (a recovery IOC went out after a verified quit)."""
    s = _armed()
    _pause_on_a_failed_cancel_all(s)
    s.operate(Quit("bye"), s.now + 0.1)
    _verify_empty(s)
    assert s.maker.mode is Mode.PAUSED
    assert placements(s.run(s.now + 5)) == []


def test_D18_a_kill_behind_the_cancel_all_pause_resumes_at_the_rearm_however_timed() -> None:
    """D18/D27: the kill's verified sweep ends the pause's cause; a re-arm before or after
    that verification ends in the same mode, with no stale reason left."""
    modes = []
    for rearm_first in (False, True):
        s, first = running_maker()
        s.ack_all(first, 100)
        _pause_on_a_failed_cancel_all(s)
        s.operate(Kill(), s.now + 0.1)
        if rearm_first:
            s.operate(Rearm(), s.now + 0.05)
        _verify_empty(s)
        if not rearm_first:
            s.operate(Rearm(), s.now + 0.1)
        view = s.view()
        modes.append(view.mode)
        assert "not verified" not in view.mode_reason
        assert not any("not verified" in r for r in view.side_reasons.values() if r)
    assert modes == [Mode.RUNNING, Mode.RUNNING]


def test_D13_an_escalated_cancel_all_that_fails_pauses_quoting_too() -> None:
    """D13: cancels keep failing, the escalated cancel-all cannot clear the venue either: no
    new quote goes out beside the orders that would not cancel."""
    s = three_levels()
    bids = [o for o in s.maker.tracker.non_terminal() if o.side is Side.BID]
    stuck = s.venue_orders()
    for order in bids:
        s.operate(CancelOrder(order.cloid), s.now + 0.01)
    for order in bids:
        ev = CancelRejected(order.cloid, order.oid, RATE_LIMITED, False, RejectionClass.RATE_LIMIT)
        s.handle(ev, s.now + 0.01)
    _fail_the_sweep(s, stuck)
    mark = len(s.sent)
    s.run(s.now + 10)
    assert placements(s.sent[mark:]) == []
    assert s.view().mode is Mode.PAUSED
    assert "cancel failures" in s.view().mode_reason


# ==== D25: cancel-all is venue-wide =============================================================


def test_D25_cancel_all_verifies_the_venue_empty_twice_a_moment_apart() -> None:
    """D25: a cancel-all is followed by two empty open-orders snapshots, a verify gap apart,
    before it counts as done; quoting waits for it."""
    s, first = running_maker()
    s.ack_all(first, 100)
    assert cancel_alls(s.operate(CancelAllOrders(), s.now + 0.1))
    mark = len(s.sent)
    assert syncs(s.handle(CancelAllDone(2, 0), s.now + 0.05))
    s.handle(OpenOrders(()), s.now + 0.05)
    assert s.maker.sweep_phase is SweepPhase.VERIFYING
    gap = s.maker.params.verify_gap
    assert [c for c in syncs(s.tick(s.now + gap / 3)) if "verify" in c.reason] == []
    assert [c for c in syncs(s.tick(s.now + gap)) if "verify" in c.reason]
    assert placements(s.sent[mark:]) == []
    s.handle(OpenOrders(()), s.now + 0.05)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED


def test_D25_the_second_empty_look_comes_a_moment_after_the_first() -> None:
    """D25: two empty snapshots that arrive together are one look, not two: the venue is
    verified only by a check made at least the verify gap after the first."""
    s, first = running_maker()
    s.ack_all(first, 100)
    s.operate(CancelAllOrders(), s.now + 0.1)
    s.handle(CancelAllDone(2, 0), s.now + 0.05)
    s.handle(OpenOrders(()), s.now + 0.05)
    s.handle(OpenOrders(()), s.now + 0.01)  # e.g. another sync's answer, right behind it
    assert s.maker.sweep_phase is SweepPhase.VERIFYING
    s.run(s.now + s.maker.params.verify_gap)
    s.handle(OpenOrders(()), s.now + 0.01)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED


def test_D25_quit_sweeps_and_nothing_is_placed_again() -> None:
    """D25: a quit sweeps the venue and leaves it empty: placements answered late are
    cancelled, and a resume during the stop cannot bring quoting back."""
    s, first = running_maker()  # the first ladder is still unanswered
    mark = len(s.sent)
    assert cancel_alls(s.operate(Quit(), s.now + 0.01))
    s.operate(Resume(), s.now + 0.01)
    late = s.ack_all(first, 300, s.now + 0.05)  # they landed after the cancel-all
    s.handle(CancelAllDone(0, 0), s.now + 0.01)
    assert cancel_alls(s.handle(OpenOrders(s.venue_orders()), s.now + 0.05)), "swept again"
    for cloid, oid in late.items():
        s.handle(CancelAck(cloid, oid))
    s.handle(CancelAllDone(2, 0), s.now + 0.01)
    s.handle(OpenOrders(()), s.now + 0.01)
    s.run(s.now + 0.5)
    s.handle(OpenOrders(()), s.now + 0.01)
    assert s.maker.quiescent_after_stop
    assert placements(s.sent[mark:]) == []
    assert placements(s.run(s.now + 3)) == []
    assert s.view().side_reasons == {Side.BID: "stopping", Side.ASK: "stopping"}


def test_D25_untracked_venue_orders_are_counted_and_cancelled() -> None:
    """D25: an order of our account that we do not track is shown as its own number and (with
    unknown_orders = "cancel") cancelled."""
    s, first = running_maker()
    s.ack_all(first, 100)
    stranger = VenueOrder(999, None, Side.ASK, ASK + 40, 5, 5)
    sent = s.handle(OpenOrders((*s.venue_orders(), stranger)), s.now + 0.1)
    assert s.view().untracked_venue_orders == 1
    assert Cancel(None, 999) in cancels(sent)


def test_D25_an_empty_snapshot_does_not_verify_while_placements_are_unanswered() -> None:
    """D25: while a placement of ours is unanswered, an empty snapshot proves nothing: the
    placement may still land after the sweep."""
    s, first = running_maker()  # the first ladder is still unanswered
    s.operate(Kill(), s.now + 0.01)
    s.handle(CancelAllDone(0, 0), s.now + 0.05)
    s.handle(OpenOrders(()), s.now + 0.05)
    s.run(s.now + 0.5)
    s.handle(OpenOrders(()), s.now + 0.05)
    assert s.maker.sweep_phase is SweepPhase.VERIFYING
    late = s.ack_all(first, 300)  # they did land: cancel them, sweep again
    s.handle(OpenOrders(s.venue_orders()), s.now + 0.4)
    assert late and s.maker.sweep_phase is SweepPhase.SWEEPING


# ==== D26: reduce-only from the freshest position ===============================================


def test_D26_reduce_only_sizes_follow_the_freshest_position() -> None:
    """D26: reduce-only quotes never add up to more than the position, and shrink with it."""
    config = make_config(strategy={"levels": 3}, risk={"max_position": "1.0"})
    s, first = running_maker(make_params(config=config), position=20)
    asks = places(first, Side.ASK)
    assert all(a.reduce_only for a in asks) and sum(a.size for a in asks) == 20
    s.ack_all(first, 100)
    s.handle(fill(30, asks[0], size=7), s.now + 0.01)
    assert s.maker.position.lots == 13
    sent = s.tick(s.now + 0.1)
    s.ack_all(sent, 200)
    tracked = [o for o in s.maker.tracker.non_terminal() if o.side is Side.ASK]
    live = [o for o in tracked if o.state.is_live]
    assert all(o.reduce_only for o in live)
    assert sum(o.remaining for o in live) <= 13


# ==== D27: say why a side is not quoting ========================================================


def _mode_starting() -> tuple[Rig, dict[Side, str]]:
    s = Rig(MarketMaker(make_params(), INSTRUMENT))
    s.start(0.0)
    return s, {Side.BID: "reconciling (start-up)", Side.ASK: "reconciling (start-up)"}


def _mode_paused() -> tuple[Rig, dict[Side, str]]:
    s, first = running_maker()
    s.ack_all(first, 100)
    s.operate(Pause(cancel_orders=True), s.now + 0.1)
    s.handle(CancelAllDone(2, 0), s.now + 0.05)
    s.handle(OpenOrders(()), s.now + 0.05)
    s.run(s.now + 0.4)
    s.handle(OpenOrders(()), s.now + 0.05)
    return s, {Side.BID: "paused", Side.ASK: "paused"}


def _mode_killed() -> tuple[Rig, dict[Side, str]]:
    s, first = running_maker()
    s.ack_all(first, 100)
    s.operate(Kill(), s.now + 0.1)
    return s, {Side.BID: "killed", Side.ASK: "killed"}


def _mode_halted() -> tuple[Rig, dict[Side, str]]:
    s = Rig(MarketMaker(make_params(live=True), INSTRUMENT))
    s.start(0.0)
    for i in range(3):
        s.handle(SyncFailed("down"), 0.1 * (i + 1))
    return s, {Side.BID: "halted", Side.ASK: "halted"}


def _mode_backoff() -> tuple[Rig, dict[Side, str]]:
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.handle(PlaceRejected(bid.cloid, MARGIN, RejectionClass.MARGIN), s.now + 0.01)
    return s, {Side.BID: "backoff Margin"}


def _mode_position_limit() -> tuple[Rig, dict[Side, str]]:
    s, _ = running_maker(position=50)
    return s, {Side.BID: "position limit"}


def _mode_stale_data() -> tuple[Rig, dict[Side, str]]:
    config = make_config(risk={"kill_on_stale_data": False})
    s, first = running_maker(make_params(config=config))
    s.ack_all(first, 100)
    s.run(s.now + 6.0, fresh_data=False)
    return s, {Side.BID: "stale market data", Side.ASK: "stale market data"}


def _mode_recovery() -> tuple[Rig, dict[Side, str]]:
    s = _armed()
    return s, {Side.BID: "recovery", Side.ASK: "recovery"}


def _mode_disconnected() -> tuple[Rig, dict[Side, str]]:
    s, first = running_maker()
    s.ack_all(first, 100)
    s.handle(Disconnected("socket closed"), s.now + 0.01)
    return s, {Side.BID: "venue disconnected", Side.ASK: "venue disconnected"}


@pytest.mark.parametrize(
    "setup",
    [
        _mode_starting,
        _mode_paused,
        _mode_killed,
        _mode_halted,
        _mode_backoff,
        _mode_position_limit,
        _mode_stale_data,
        _mode_recovery,
        _mode_disconnected,
    ],
    ids=lambda f: f.__name__.removeprefix("_mode_"),
)
def test_D27_every_side_without_quotes_says_why(setup) -> None:
    """D27: in every mode, a side with no quotes carries exactly one current reason, at once
    (before any tick) and still after ticks."""
    s, expected = setup()
    for _ in range(2):
        view = s.view()
        assert_idle_sides_say_why(view)
        for side, prefix in expected.items():
            reason = view.side_reasons[side]
            assert reason is not None and reason.startswith(prefix), (side, reason)
        s.tick(s.now + 0.1)


def test_D27_a_side_waiting_for_cancel_answers_says_so() -> None:
    """D27: a side whose only orders wait for cancel answers is not a silent stall."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.ack_all(first, 100)
    s.operate(CancelOrder(bid.cloid), s.now + 0.1)
    s.run(s.now + 2.0)  # the venue does not answer
    view = s.view()
    assert_idle_sides_say_why(view)
    assert view.side_reasons[Side.BID] == "reconciling (waiting for cancel answers)"
    s.handle(CancelAck(bid.cloid, 100), s.now + 0.01)
    assert places(s.tick(s.now + 0.1), Side.BID)
    assert s.view().side_reasons[Side.BID] is None


def test_D27_reason_changes_at_once_with_an_operator_action() -> None:
    """D27: the reason shown is the one that holds now, not the one of the last quote."""
    s, first = running_maker()
    s.ack_all(first, 100)
    s.operate(Pause(), s.now + 0.01)
    assert s.view().side_reasons == {Side.BID: "paused", Side.ASK: "paused"}
    s.operate(Resume(), s.now + 0.01)
    assert s.view().side_reasons == {Side.BID: None, Side.ASK: None}
    s.operate(Kill(), s.now + 0.01)
    assert s.view().side_reasons == {Side.BID: "killed", Side.ASK: "killed"}


# ==== D28: pause is not stop ====================================================================


def test_D28_pause_keeps_orders_data_fills_reconcile_and_risk_running() -> None:
    """D28: a pause that keeps orders stops new quotes only: resting orders stay untouched,
    market data, fills and the periodic reconcile go on, and the kill switch still fires."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.ack_all(first, 100)
    settle(s)
    mark = len(s.sent)
    assert s.operate(Pause(), s.now + 0.01) == []
    assert s.maker.mode is Mode.PAUSED

    s.handle(book(BID + 7, ASK + 7), s.now + 0.1)
    assert s.view().best_bid == BID + 7  # data keeps flowing
    s.handle(fill(40, bid, size=3, oid=100), s.now + 0.01)
    assert s.maker.position.lots == 3  # fills keep counting
    reasons = [c.reason for c in syncs(s.run(s.now + s.maker.params.sync_interval + 1))]
    assert "periodic" in reasons  # reconciliation keeps running
    assert [c for c in s.sent[mark:] if isinstance(c, Place | Modify | Cancel)] == []
    assert s.order(bid.cloid).state is OrderState.PARTIAL_FILLED

    limit = s.maker.params.risk.max_position
    killed = s.handle(unmatched_fill(41, Side.BID, 2 * limit), s.now + 0.01)
    assert cancel_alls(killed), "risk keeps running while paused (D30: on the fill itself)"
    assert s.maker.mode is Mode.KILLED


def test_D28_pause_with_cancel_sweeps_and_resume_quotes_again() -> None:
    """D28: the operator may choose to cancel on pause: a venue-wide sweep, still paused
    after it, quoting again only on resume."""
    s, first = running_maker()
    s.ack_all(first, 100)
    assert cancel_alls(s.operate(Pause(cancel_orders=True), s.now + 0.1))
    s.handle(CancelAllDone(2, 0), s.now + 0.05)
    for order in list(s.maker.tracker.non_terminal()):
        s.handle(CancelAck(order.cloid, order.oid))
    s.handle(OpenOrders(()), s.now + 0.05)
    s.run(s.now + 0.4)
    s.handle(OpenOrders(()), s.now + 0.05)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED
    assert s.maker.mode is Mode.PAUSED
    assert placements(s.run(s.now + 2)) == []
    s.operate(Resume(), s.now + 0.01)
    assert places(s.run(s.now + 0.3))


def test_D19_history_replayed_at_start_up_is_not_counted_twice() -> None:
    """D19, D4: fills replayed as history when the stream opens (``snapshot=True``) are already
    in the venue's start-up position; they are remembered, not counted, and a later replay of
    the same trade ids after a reconnect changes nothing."""
    from core.events import Fill, Liquidity, OpenOrders, PositionSnapshot

    maker = MarketMaker(make_params(), INSTRUMENT)
    maker.start(0.0)
    history = Fill(9, 77, None, Side.BID, 10_000, 5, Liquidity.MAKER, snapshot=True)
    maker.handle(history, 0.01)
    maker.handle(OpenOrders(()), 0.02)
    maker.handle(PositionSnapshot(5, 50_000), 0.03)
    assert maker.position.lots == 5
    maker.handle(history, 5.0)  # replayed again after a reconnect
    assert maker.position.lots == 5
    assert maker.counters["history_fills"] == 1


def test_D19_history_arriving_after_the_start_up_position_is_not_counted() -> None:
    """D19, D16, D4: the stream's history can reach us after the start-up position (they come
    on different channels); a trade the venue made before that position's venue time is in
    it already.  A fill made after it is not, and still counts."""
    maker = MarketMaker(make_params(), INSTRUMENT)
    maker.start(0.0)
    maker.handle(OpenOrders(()), 0.02)
    maker.handle(PositionSnapshot(5, 50_000, venue_time=0.025), 0.03)
    history = Fill(9, 77, None, Side.BID, 10_000, 5, Liquidity.MAKER, 0.001, snapshot=True)
    maker.handle(history, 0.04)
    assert maker.position.lots == 5
    fresh = Fill(10, 78, None, Side.ASK, 10_010, 2, Liquidity.MAKER, 0.035)
    maker.handle(fresh, 0.05)
    assert maker.position.lots == 3
