"""D9 (grace for fresh orders) and D16 (positions): ``core/maker/reconciling.py``.

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

import pytest

from core.commands import Command, Place, TimeInForce
from core.events import (
    AckStatus,
    Connected,
    Disconnected,
    Fill,
    Liquidity,
    OpenOrders,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PositionSnapshot,
    RejectionClass,
    Side,
    VenueOrder,
    VenueStatus,
)
from core.orders import OrderState
from core.reconcile import PositionMoves
from tests.maker.kit import (
    MARGIN,
    unmatched_fill,
)
from tests.maker_harness import (
    BID,
    INSTRUMENT,
    Rig,
    cancels,
    make_config,
    make_params,
    places,
    queries,
    resting_ack,
    running_maker,
    settle,
    syncs,
    venue_order,
)

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


def test_D16_drift_is_told_in_coin_units() -> None:
    """D16 (issue 16): the operator reads a drift as the venue shows positions, in the coin,
    not in the core's lots."""
    s, _ = running_maker()
    settle(s)
    s.handle(PositionSnapshot(5), s.now + 0.01)
    drift = INSTRUMENT.size_text(5, signed=True)
    assert drift.endswith(f" {INSTRUMENT.symbol}") and drift.startswith("+")
    lines = [e.text for e in s.view().log if e.kind == "reconcile"]
    assert any(f"position drift {drift}; re-checking" in t for t in lines), lines
    assert not any("lots" in t for t in lines), lines


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
