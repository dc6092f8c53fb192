"""D1-D8, D24 and the scenarios S1-S6, S9, S10 at the level of the order tracker.

Sizes are lots (10 lots = 1.0 in SCENARIOS.md), prices ticks, times explicit seconds.  Every
test drives ``OrderTracker`` with the events a venue adapter produces and checks what we
believe about the order and how much position each event moved (``Outcome.position_delta``).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any

import pytest

from core.commands import Modify, Place
from core.events import (
    AckStatus,
    CancelAck,
    CancelRejected,
    CancelUnknown,
    Fill,
    Liquidity,
    ModifyAck,
    ModifyRejected,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    RejectionClass,
    Side,
    VenueStatus,
)
from core.fills import FillLedger
from core.orders import (
    TRANSITIONS,
    OrderState,
    OrderTracker,
    Outcome,
    TrackedOrder,
    TrackerError,
    Trigger,
)

S = OrderState
GONE_TEXT = "Order was never placed, already canceled, or filled. asset=0"


# ---- helpers: the events of a venue, briefly ----------------------------------------------


def place(
    tracker: OrderTracker,
    cloid: str,
    size: int = 10,
    *,
    side: Side = Side.BID,
    price: int = 100,
    now: float = 0.0,
    level: int | None = None,
) -> TrackedOrder:
    return tracker.track_place(Place(cloid, side, price, size, level=level), now)


def ack(
    tracker: OrderTracker,
    cloid: str,
    oid: int,
    *,
    status: AckStatus = AckStatus.RESTING,
    filled: int = 0,
    price: int = 100,
    now: float = 0.01,
) -> Outcome:
    return tracker.on_place_ack(PlaceAck(cloid, oid, status, filled, filled * price), now)


def fill(
    tracker: OrderTracker,
    tid: int,
    size: int,
    *,
    oid: int | None = None,
    cloid: str | None = None,
    side: Side = Side.BID,
    price: int = 100,
    now: float = 0.02,
    snapshot: bool = False,
) -> Outcome:
    ev = Fill(tid, oid, cloid, side, price, size, Liquidity.MAKER, snapshot=snapshot)
    return tracker.on_fill(ev, now)


def update(
    tracker: OrderTracker,
    status: VenueStatus,
    raw: str,
    *,
    oid: int | None = None,
    cloid: str | None = None,
    rclass: RejectionClass | None = None,
    now: float = 0.05,
) -> Outcome:
    return tracker.on_order_update(OrderUpdate(oid, cloid, status, raw, rclass), now)


def report(
    tracker: OrderTracker,
    status: VenueStatus,
    *,
    cloid: str | None = None,
    oid: int | None = None,
    now: float,
) -> Outcome:
    return tracker.on_status_report(OrderStatusReport(cloid, oid, status, status.value), now)


def resting(tracker: OrderTracker, cloid: str, oid: int, size: int = 10, **kw: Any) -> TrackedOrder:
    order = place(tracker, cloid, size, **kw)
    ack(tracker, cloid, oid, now=kw.get("now", 0.0) + 0.01)
    assert order.state is S.RESTING
    return order


def position(outcomes: list[Outcome]) -> int:
    return sum(o.position_delta for o in outcomes)


def lines_executed(action: Callable[[], object]) -> int:
    """How many Python lines ``action`` executes: a deterministic measure of work."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    # A garbage collection inside the action could run other tests' finalizers under the
    # tracer: collect first, then keep the collector out of the measurement.
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        action()
    finally:
        sys.settrace(previous)
        if gc_was_enabled:
            gc.enable()
    return count


# ---- D1: one state machine, as a table ---------------------------------------------------


def test_state_sets_match_the_domain_D1():
    assert {s for s in S if s.is_active} == {S.RESTING, S.PARTIAL_FILLED}
    assert {s for s in S if s.is_terminal} == {
        S.FILLED,
        S.FILLED_IMMEDIATELY,
        S.CANCELLED,
        S.FILLED_DURING_CANCEL,
        S.REJECTED,
    }
    assert {s for s in S if s.is_live} == {
        S.PENDING_NEW,
        S.RESTING,
        S.PARTIAL_FILLED,
        S.CANCEL_PENDING,
    }
    assert not S.CANCEL_CONFIRMED.is_terminal  # a fill may still be on its way


def test_transition_table_is_data_with_an_entry_for_every_state_D1():
    assert set(TRANSITIONS) == set(S)
    for state, row in TRANSITIONS.items():
        assert all(isinstance(trigger, Trigger) for trigger in row), state


def test_terminal_rows_never_lead_out_of_the_state_D1():
    """The table itself guarantees it: every legal trigger on a terminal order is a no-op."""
    for state in S:
        if state.is_terminal:
            assert set(TRANSITIONS[state].values()) == {state}, state


def test_only_the_late_fill_window_ends_cancel_confirmed_quietly_D1():
    row = TRANSITIONS[S.CANCEL_CONFIRMED]
    assert row[Trigger.WINDOW_CLOSED] is S.CANCELLED
    assert row[Trigger.WINDOW_CLOSED_FILLED] is S.FILLED_DURING_CANCEL
    assert row[Trigger.ACK_RESTING] is S.CANCEL_CONFIRMED  # a late ack does not resurrect
    assert Trigger.CANCEL_SENT not in row


def test_illegal_transition_is_counted_reported_and_never_applied_D1():
    tracker = OrderTracker()
    place(tracker, "c1")
    tracker.on_place_rejected(PlaceRejected("c1", "bad tick", RejectionClass.PRICE_ERROR), 0.01)
    order = tracker.get("c1")
    assert order is not None and order.state is S.REJECTED
    # The venue now says it rests: a contradiction, reported and never applied.
    out = ack(tracker, "c1", 55, now=0.02)
    assert out.illegal is not None
    assert out.illegal.state is S.REJECTED and out.illegal.trigger is Trigger.ACK_RESTING
    assert out.illegal.event == "PlaceAck"
    assert out.needs_query
    assert out.transition is None
    assert order.state is S.REJECTED
    assert tracker.illegal_count == 1
    assert tracker.pending_lots[Side.BID] == 0


def test_illegal_cancel_changes_nothing_about_the_order_D1():
    """A cancel for an order whose cancel is already confirmed is illegal; it must not even
    reset the cancel bookkeeping, or a fill that arrived in the window would be forgotten and
    the order would end Cancelled instead of FilledDuringCancel."""
    tracker = OrderTracker(late_fill_window=1.0)
    order = resting(tracker, "c5", 58)
    tracker.cancel_sent("c5", now=0.1)
    tracker.on_cancel_ack(CancelAck("c5", 58), now=0.2)
    fill(tracker, 6, 5, oid=58, now=0.3)
    before = (order.cancel_sent_at, order.filled_at_cancel, order.state)
    out = tracker.cancel_sent("c5", now=0.4)
    assert out.illegal is not None and out.illegal.trigger is Trigger.CANCEL_SENT
    assert (order.cancel_sent_at, order.filled_at_cancel, order.state) == before
    tracker.expire(now=1.5)
    assert order.state is S.FILLED_DURING_CANCEL
    assert order.filled == 5


def _to_terminal(tracker: OrderTracker, state: OrderState) -> TrackedOrder:
    """Drive a fresh order (cloid "t", oid 70, size 10) into ``state``."""
    order = place(tracker, "t")
    if state is S.REJECTED:
        tracker.on_place_rejected(PlaceRejected("t", "x", RejectionClass.OTHER), 0.01)
    elif state is S.FILLED_IMMEDIATELY:
        ack(tracker, "t", 70, status=AckStatus.FILLED, filled=10)
    else:
        ack(tracker, "t", 70)
        if state is S.FILLED:
            fill(tracker, 1, 10, oid=70, now=0.1)
        else:
            tracker.cancel_sent("t", 0.1)
            if state is S.FILLED_DURING_CANCEL:
                fill(tracker, 1, 10, oid=70, now=0.2)
            else:
                tracker.on_cancel_ack(CancelAck("t", 70), 0.2)
                tracker.expire(5.0)
    assert order.state is state
    return order


TERMINALS = [S.FILLED, S.FILLED_IMMEDIATELY, S.CANCELLED, S.FILLED_DURING_CANCEL, S.REJECTED]

LATE_NEWS: list[tuple[str, Callable[[OrderTracker], Outcome]]] = [
    ("ack resting", lambda t: ack(t, "t", 70, now=6.0)),
    ("ack partial", lambda t: ack(t, "t", 70, status=AckStatus.PARTIALLY_FILLED, filled=3, now=6)),
    ("update open", lambda t: update(t, VenueStatus.OPEN, "open", oid=70, now=6.0)),
    ("update filled", lambda t: update(t, VenueStatus.FILLED, "filled", oid=70, now=6.0)),
    ("update canceled", lambda t: update(t, VenueStatus.CANCELED, "canceled", oid=70, now=6.0)),
    ("update rejected", lambda t: update(t, VenueStatus.REJECTED, "rejected", oid=70, now=6.0)),
    ("report open", lambda t: report(t, VenueStatus.OPEN, cloid="t", now=6.0)),
    ("report not found", lambda t: report(t, VenueStatus.NOT_FOUND, cloid="t", now=6.0)),
    ("cancel ack", lambda t: t.on_cancel_ack(CancelAck("t", 70), 6.0)),
    ("cancel gone", lambda t: t.on_cancel_rejected(CancelRejected("t", 70, GONE_TEXT, True), 6)),
    ("cancel failed", lambda t: t.on_cancel_rejected(CancelRejected("t", 70, "429", False), 6)),
    ("cancel unknown", lambda t: t.on_cancel_unknown(CancelUnknown("t", 70, "timeout"), 6.0)),
    ("place unknown", lambda t: t.on_place_unknown(PlaceUnknown("t", "timeout"), 6.0)),
    ("cancel sent", lambda t: t.cancel_sent("t", 6.0)),
    ("fill", lambda t: fill(t, 99, 1, oid=70, now=6.0)),
]


@pytest.mark.parametrize("state", TERMINALS, ids=[s.value for s in TERMINALS])
@pytest.mark.parametrize("news", LATE_NEWS, ids=[n for n, _ in LATE_NEWS])
def test_terminal_order_is_never_resurrected_by_late_news_D1(state, news):
    tracker = OrderTracker(retention=1e9)
    order = _to_terminal(tracker, state)
    _, deliver = news
    out = deliver(tracker)
    assert order.state is state
    assert out.transition is None
    assert tracker.pending_lots == {Side.BID: 0, Side.ASK: 0}
    assert tracker.state_counts[state] == 1
    assert order.remaining == 0


def test_cancel_confirmed_waits_for_the_window_then_is_cancelled_D1():
    tracker = OrderTracker(late_fill_window=1.0)
    order = resting(tracker, "c", 57)
    tracker.cancel_sent("c", now=0.1)
    out = tracker.on_cancel_ack(CancelAck("c", 57), now=0.2)
    assert out.transition is not None and out.transition.new is S.CANCEL_CONFIRMED
    assert not order.state.is_terminal
    assert tracker.expire(now=1.19) == []  # window not over yet
    assert order.state is S.CANCEL_CONFIRMED
    [closed] = tracker.expire(now=1.2)
    assert closed.transition is not None
    assert closed.transition.trigger is Trigger.WINDOW_CLOSED
    assert order.state is S.CANCELLED
    assert tracker.expire(now=2.0) == []  # closed once only


def test_late_fill_on_a_cancelled_order_counts_and_is_flagged_S6_D1():
    """S6: money moved, so the position moves; the fill is flagged (the maker reconciles);
    the order stays Cancelled and is never live again."""
    tracker = OrderTracker(late_fill_window=1.0)
    order = resting(tracker, "c6", 59)
    tracker.cancel_sent("c6", now=0.1)
    tracker.on_cancel_ack(CancelAck("c6", 59), now=0.2)
    tracker.expire(now=2.0)
    assert order.state is S.CANCELLED
    out = fill(tracker, 7, 1, oid=59, now=3.0)
    assert out.position_delta == 1
    assert out.value_delta == 100
    assert out.late_fill
    assert not out.duplicate and not out.unmatched
    assert out.transition is None
    assert order.state is S.CANCELLED
    assert order.filled == 1
    assert tracker.pending_lots[Side.BID] == 0


def test_late_fill_on_a_rejected_order_counts_and_is_flagged_D1():
    tracker = OrderTracker()
    place(tracker, "r")
    tracker.on_place_rejected(PlaceRejected("r", "x", RejectionClass.OTHER), 0.01)
    out = fill(tracker, 1, 2, cloid="r", side=Side.BID, now=0.1)
    assert out.position_delta == 2 and out.late_fill
    assert tracker.get("r").state is S.REJECTED  # type: ignore[union-attr]


def test_fill_on_an_order_the_venue_said_filled_is_expected_not_late_D1_D10():
    """D10: the 'filled' update may overtake the fills; they still count, unflagged."""
    tracker = OrderTracker()
    order = resting(tracker, "c", 60)
    update(tracker, VenueStatus.FILLED, "filled", oid=60, now=0.1)
    assert order.state is S.FILLED and order.remaining == 0
    assert tracker.pending_lots[Side.BID] == 0
    outs = [fill(tracker, 1, 4, oid=60, now=0.2), fill(tracker, 2, 6, oid=60, now=0.3)]
    assert position(outs) == 10
    assert not any(o.late_fill or o.overfill for o in outs)
    assert order.filled == 10 and order.state is S.FILLED


def test_overfill_is_counted_and_flagged_D1():
    tracker = OrderTracker()
    order = resting(tracker, "c", 61, size=5)
    fill(tracker, 1, 5, oid=61)
    out = fill(tracker, 2, 1, oid=61)
    assert out.position_delta == 1 and out.overfill
    assert order.filled == 6 and order.remaining == 0


def test_venue_cancel_of_a_partly_filled_order_ends_cancelled_D1():
    """Fills from before a venue-initiated cancel are not 'fills during cancel'; the outcome
    must not depend on who cancelled."""
    tracker = OrderTracker(late_fill_window=1.0)
    mine = resting(tracker, "mine", 1)
    theirs = resting(tracker, "theirs", 2)
    fill(tracker, 1, 3, oid=1, now=0.1)
    fill(tracker, 2, 3, oid=2, now=0.1)
    tracker.cancel_sent("mine", now=0.2)
    tracker.on_cancel_ack(CancelAck("mine", 1), now=0.3)
    update(tracker, VenueStatus.VENUE_CANCELED, "marginCanceled", oid=2, now=0.3)
    tracker.expire(now=2.0)
    assert mine.state is S.CANCELLED
    assert theirs.state is S.CANCELLED


def test_venue_cancel_then_fill_in_the_window_is_filled_during_cancel_D1():
    tracker = OrderTracker(late_fill_window=1.0)
    order = resting(tracker, "c", 3)
    fill(tracker, 1, 2, oid=3, now=0.1)
    update(tracker, VenueStatus.VENUE_CANCELED, "selfTradeCanceled", oid=3, now=0.2)
    assert order.state is S.CANCEL_CONFIRMED
    fill(tracker, 2, 1, oid=3, now=0.5)
    tracker.expire(now=2.0)
    assert order.state is S.FILLED_DURING_CANCEL
    assert order.filled == 3


# ---- D2: client order ids first ----------------------------------------------------------


def test_S1_fill_before_ack_D2():
    """S1: place 1.0 @ 100 as c1; fill 0.4 (tid 1, oid 55) arrives before the ack."""
    tracker = OrderTracker()
    order = place(tracker, "c1", 10, now=0.0)
    assert order.state is S.PENDING_NEW and order.oid is None
    outs = [fill(tracker, 1, 4, oid=55, cloid="c1", now=0.01)]
    assert order.state is S.PENDING_NEW  # still waiting for the ack
    assert order.oid == 55  # bound from the fill
    assert tracker.get(oid=55) is order
    outs.append(ack(tracker, "c1", 55, now=0.02))
    assert order.state is S.PARTIAL_FILLED
    assert order.oid == 55
    assert order.filled == 4 and order.remaining == 6
    assert order.fill_count == 1 and order.fill_tids == [1]
    assert position(outs) == 4
    assert tracker.pending_lots[Side.BID] == 6


def test_fill_before_ack_matched_by_cloid_even_without_oid_D2():
    tracker = OrderTracker()
    order = place(tracker, "c1", 10)
    out = fill(tracker, 1, 10, cloid="c1")
    assert out.position_delta == 10 and not out.unmatched
    assert order.state is S.FILLED
    assert ack(tracker, "c1", 55, status=AckStatus.RESTING).position_delta == 0
    assert order.state is S.FILLED and order.oid == 55


def test_tracked_under_cloid_before_the_request_leaves_D2():
    tracker = OrderTracker()
    order = place(tracker, "c1", 7, side=Side.ASK, price=105, now=3.0, level=2)
    assert tracker.get("c1") is order and len(tracker) == 1
    assert order.state is S.PENDING_NEW and order.placed_at == 3.0
    assert tracker.pending_lots == {Side.BID: 0, Side.ASK: 7}
    assert tracker.pending_value[Side.ASK] == 735
    assert tracker.live_for_intent(Side.ASK, 2) == [order]
    with pytest.raises(TrackerError, match="already tracked"):
        place(tracker, "c1")
    with pytest.raises(TrackerError, match="positive"):
        place(tracker, "c2", 0)


def test_unmatched_fill_still_moves_the_position_D2_D16():
    tracker = OrderTracker()
    out = fill(tracker, 1, 3, oid=999, side=Side.ASK, price=101)
    assert out.unmatched
    assert out.position_delta == -3 and out.value_delta == -303


# ---- D3: a partial immediate fill is not terminal ---------------------------------------


def test_partial_immediate_fill_stays_active_D3():
    tracker = OrderTracker()
    order = place(tracker, "c2", 10)
    out = ack(tracker, "c2", 56, status=AckStatus.PARTIALLY_FILLED, filled=6)
    assert order.state is S.PARTIAL_FILLED
    assert order.state.is_active and not order.state.is_terminal
    assert order.filled == 6 and order.remaining == 4
    assert out.position_delta == 6 and out.value_delta == 600
    assert tracker.pending_lots[Side.BID] == 4


def test_resting_ack_that_reports_a_fill_is_partial_D3():
    tracker = OrderTracker()
    order = place(tracker, "c", 10)
    ack(tracker, "c", 1, status=AckStatus.RESTING, filled=2)
    assert order.state is S.PARTIAL_FILLED and order.remaining == 8


def test_complete_immediate_fill_is_filled_immediately_D3():
    tracker = OrderTracker()
    order = place(tracker, "c", 10)
    out = ack(tracker, "c", 1, status=AckStatus.FILLED, filled=10)
    assert order.state is S.FILLED_IMMEDIATELY and out.position_delta == 10
    assert tracker.pending_lots[Side.BID] == 0


def test_ioc_with_remainder_cancelled_is_done_D3():
    """An IOC that traded 4 of 10: nothing rests, so nothing is orphaned by calling it done."""
    tracker = OrderTracker()
    order = place(tracker, "ioc", 10)
    out = ack(tracker, "ioc", 1, status=AckStatus.FILLED, filled=4)
    assert order.state is S.FILLED_IMMEDIATELY
    assert order.filled == 4 and order.remaining == 0
    assert out.position_delta == 4
    assert tracker.pending_lots[Side.BID] == 0


# ---- D4: each trade once -----------------------------------------------------------------


def test_S2_partial_immediate_fill_then_the_same_trades_on_the_stream_D3_D4():
    tracker = OrderTracker()
    order = place(tracker, "c2", 10, now=0.0)
    outs = [ack(tracker, "c2", 56, status=AckStatus.PARTIALLY_FILLED, filled=6, now=0.01)]
    outs.append(fill(tracker, 2, 3, oid=56, now=0.02))
    outs.append(fill(tracker, 3, 3, oid=56, now=0.03))
    assert position(outs) == 6  # the stream repeated the immediate 0.6
    outs.append(fill(tracker, 4, 2, oid=56, now=0.5))
    assert position(outs) == 8  # not 14
    assert order.state is S.PARTIAL_FILLED and order.remaining == 2
    assert order.fill_tids == [2, 3, 4]
    assert tracker.ledger.immediate_remaining("c2") == 0
    assert tracker.pending_lots[Side.BID] == 2


def test_S2_stream_fills_before_the_ack_are_not_counted_twice_D4():
    """D10: the stream may bring the immediate trades before the ack reports them."""
    tracker = OrderTracker()
    order = place(tracker, "c2", 10)
    outs = [fill(tracker, 2, 3, oid=56, cloid="c2", now=0.01)]
    outs.append(fill(tracker, 3, 3, oid=56, cloid="c2", now=0.02))
    outs.append(ack(tracker, "c2", 56, status=AckStatus.PARTIALLY_FILLED, filled=6, now=0.03))
    assert position(outs) == 6
    assert tracker.ledger.immediate_remaining("c2") == 0  # nothing left to skip
    outs.append(fill(tracker, 4, 2, oid=56, now=0.5))  # a genuine new fill is counted
    assert position(outs) == 8
    assert order.state is S.PARTIAL_FILLED and order.remaining == 2


def test_S2_part_of_the_immediate_fill_before_the_ack_D4():
    tracker = OrderTracker()
    order = place(tracker, "c2", 10)
    outs = [fill(tracker, 2, 3, cloid="c2", oid=56, now=0.01)]
    outs.append(ack(tracker, "c2", 56, status=AckStatus.PARTIALLY_FILLED, filled=6, now=0.02))
    assert position(outs) == 6
    assert tracker.ledger.immediate_remaining("c2") == 3
    outs.append(fill(tracker, 3, 3, oid=56, now=0.03))  # the rest of the immediate 0.6
    outs.append(fill(tracker, 4, 2, oid=56, now=0.5))
    assert position(outs) == 8
    assert order.filled == 8


def test_stream_fill_larger_than_the_immediate_rest_counts_the_excess_D4():
    """skip = min(remaining_immediate, fill.size): a stream message may merge trades."""
    tracker = OrderTracker()
    order = place(tracker, "c", 10)
    outs = [ack(tracker, "c", 5, status=AckStatus.PARTIALLY_FILLED, filled=6)]
    outs.append(fill(tracker, 1, 8, oid=5))
    assert position(outs) == 8 and order.filled == 8
    assert outs[-1].position_delta == 2


def test_immediate_fill_with_a_resting_fill_before_the_ack_D4():
    """Immediate 0.6 (two trades) and a resting 0.2 all on the stream before the ack."""
    tracker = OrderTracker()
    order = place(tracker, "c", 10)
    outs = [fill(tracker, t, s, cloid="c", oid=5) for t, s in ((1, 3), (2, 3), (3, 2))]
    outs.append(ack(tracker, "c", 5, status=AckStatus.PARTIALLY_FILLED, filled=6))
    assert position(outs) == 8 and order.filled == 8
    assert order.state is S.PARTIAL_FILLED and order.remaining == 2
    outs.append(fill(tracker, 4, 2, oid=5))
    assert position(outs) == 10 and order.state is S.FILLED


def test_S3_reconnect_replays_are_ignored_and_counted_D4():
    tracker = OrderTracker()
    order = place(tracker, "c2", 10)
    outs = [ack(tracker, "c2", 56, status=AckStatus.PARTIALLY_FILLED, filled=6)]
    outs += [fill(tracker, 2, 3, oid=56), fill(tracker, 3, 3, oid=56), fill(tracker, 4, 2, oid=56)]
    snapshot = (order.state, order.filled, order.fill_tids[:], dict(tracker.pending_lots))
    replays = [
        fill(tracker, t, s, oid=56, snapshot=True, now=5.0) for t, s in ((2, 3), (3, 3), (4, 2))
    ]
    assert all(r.duplicate for r in replays)
    assert position(replays) == 0
    assert position(outs) == 8
    assert (order.state, order.filled, order.fill_tids, tracker.pending_lots) == snapshot
    assert tracker.ledger.duplicates == 3


def test_a_replay_of_a_pre_ack_fill_is_still_a_duplicate_D4():
    tracker = OrderTracker()
    place(tracker, "c", 10)
    outs = [fill(tracker, 1, 3, cloid="c", oid=5)]
    outs.append(ack(tracker, "c", 5, status=AckStatus.PARTIALLY_FILLED, filled=6))
    outs.append(fill(tracker, 1, 3, oid=5))  # replay of tid 1
    outs.append(fill(tracker, 2, 3, oid=5))  # the rest of the immediate fill
    outs.append(fill(tracker, 3, 1, oid=5))  # new
    assert outs[2].duplicate
    assert position(outs) == 7


# ---- D5: modify is cancel-and-replace ----------------------------------------------------


def _modify(cloid: str, oid: int, new_cloid: str, price: int = 101, size: int = 10) -> Modify:
    return Modify(cloid, oid, new_cloid, Side.BID, price, size, level=0)


def test_modify_sends_the_original_to_cancel_pending_and_tracks_the_replacement_D5():
    tracker = OrderTracker()
    old = resting(tracker, "a", 1, level=0)
    new, out = tracker.track_modify(_modify("a", 1, "b"), now=0.1)
    assert out.transition is not None and out.transition.new is S.CANCEL_PENDING
    assert old.state is S.CANCEL_PENDING
    assert new.state is S.PENDING_NEW and new.replaces == "a" and new.price == 101
    # Worst case counts both until the venue answers.
    assert tracker.pending_lots[Side.BID] == 20
    assert {o.cloid for o in tracker.live_for_intent(Side.BID, 0)} == {"a", "b"}


def test_modify_ack_confirms_the_cancel_and_acks_the_replacement_D5():
    tracker = OrderTracker(late_fill_window=1.0)
    old = resting(tracker, "a", 1, level=0)
    new, _ = tracker.track_modify(_modify("a", 1, "b"), now=0.1)
    _, new_out = tracker.on_modify_ack(
        ModifyAck("a", "b", 2, AckStatus.PARTIALLY_FILLED, filled=4, filled_value=404), now=0.2
    )
    assert old.state is S.CANCEL_CONFIRMED  # not terminal: a fill may be on its way (D1)
    assert new.state is S.PARTIAL_FILLED and new.oid == 2 and tracker.get(oid=2) is new
    assert new_out.position_delta == 4
    assert tracker.pending_lots[Side.BID] == 6
    # The replacement's immediate fill is repeated on the stream: skipped (D4).
    assert fill(tracker, 1, 4, oid=2, price=101).position_delta == 0
    # A fill of the original from before the modify still counts.
    assert fill(tracker, 2, 3, oid=1, now=0.5).position_delta == 3
    tracker.expire(now=2.0)
    assert old.state is S.FILLED_DURING_CANCEL
    assert [o.cloid for o in tracker.live_for_intent(Side.BID, 0)] == ["b"]


def test_modify_rejected_original_gone_awaits_its_fills_D5():
    """The answer "Cannot modify canceled or filled order": the original is gone, not to be
    retried."""
    tracker = OrderTracker(late_fill_window=1.0)
    old = resting(tracker, "a", 1)
    new, _ = tracker.track_modify(_modify("a", 1, "b"), now=0.1)
    _, new_out = tracker.on_modify_rejected(
        ModifyRejected(
            "a", "b", "Cannot modify canceled or filled order", RejectionClass.OTHER, True
        ),
        now=0.2,
    )
    assert old.state is S.CANCEL_CONFIRMED
    assert new.state is S.REJECTED and new_out.rejection is RejectionClass.OTHER
    assert new.last_reason == "Cannot modify canceled or filled order"
    assert tracker.pending_lots[Side.BID] == 0
    # It was filled: the fill arrives in the window.
    assert fill(tracker, 9, 10, oid=1, now=0.3).position_delta == 10
    assert old.state is S.FILLED_DURING_CANCEL


def test_modify_rejected_original_not_gone_stays_live_D5():
    tracker = OrderTracker()
    old = resting(tracker, "a", 1)
    fill(tracker, 1, 3, oid=1, now=0.05)
    new, _ = tracker.track_modify(_modify("a", 1, "b"), now=0.1)
    tracker.on_modify_rejected(
        ModifyRejected("a", "b", "Too many requests", RejectionClass.RATE_LIMIT, False), now=0.2
    )
    assert old.state is S.PARTIAL_FILLED  # back to the live state its fills imply
    assert new.state is S.REJECTED
    assert tracker.pending_lots[Side.BID] == 7


def test_refused_modify_leaves_the_original_untouched_D5():
    tracker = OrderTracker()
    old = resting(tracker, "a", 1)
    place(tracker, "b")
    with pytest.raises(TrackerError, match="already tracked"):
        tracker.track_modify(_modify("a", 1, "b"), now=0.1)
    assert old.state is S.RESTING and old.cancel_sent_at is None
    with pytest.raises(TrackerError, match="positive"):
        tracker.track_modify(_modify("a", 1, "c", size=0), now=0.1)
    assert old.state is S.RESTING
    assert tracker.get("c") is None


def test_modify_answers_for_unknown_orders_are_unmatched_D5():
    tracker = OrderTracker()
    old_out, new_out = tracker.on_modify_ack(ModifyAck("x", "y", 5, AckStatus.RESTING), 0.0)
    assert old_out.unmatched and new_out.unmatched and new_out.needs_query
    old_out, new_out = tracker.on_modify_rejected(
        ModifyRejected("x", "y", "?", RejectionClass.OTHER, True), 0.0
    )
    assert old_out.unmatched and new_out.unmatched


# ---- D6: rejections remove orders; unknown statuses are queried -------------------------


def test_rejected_update_removes_the_order_D6():
    tracker = OrderTracker()
    order = place(tracker, "c", 10, level=1)
    out = update(
        tracker,
        VenueStatus.REJECTED,
        "badAloPxRejected",
        cloid="c",
        oid=77,
        rclass=RejectionClass.PRICE_ERROR,
    )
    assert order.state is S.REJECTED
    assert out.rejection is RejectionClass.PRICE_ERROR
    assert order.last_reason == "badAloPxRejected"
    assert tracker.pending_lots[Side.BID] == 0
    assert tracker.live_for_intent(Side.BID, 1) == []


def test_place_rejected_carries_its_class_D6():
    tracker = OrderTracker()
    order = place(tracker, "c")
    out = tracker.on_place_rejected(
        PlaceRejected("c", "Insufficient margin to place order.", RejectionClass.MARGIN), 0.01
    )
    assert order.state is S.REJECTED and out.rejection is RejectionClass.MARGIN
    assert tracker.on_place_rejected(PlaceRejected("zz", "x", RejectionClass.OTHER), 0.01).unmatched


@pytest.mark.parametrize("start", ["pending", "resting", "partial", "cancel_pending"])
def test_unknown_status_asks_the_venue_and_changes_nothing_D6(start):
    tracker = OrderTracker()
    order = place(tracker, "c")
    if start != "pending":
        ack(tracker, "c", 5)
    if start == "partial":
        fill(tracker, 1, 2, oid=5)
    if start == "cancel_pending":
        tracker.cancel_sent("c", 0.03)
    before = (order.state, order.filled, dict(tracker.pending_lots), tracker.illegal_count)
    out = update(tracker, VenueStatus.UNKNOWN, "someNewStatusCanceled", oid=5, cloid="c")
    assert out.needs_query
    assert out.transition is None and out.illegal is None
    assert (order.state, order.filled, dict(tracker.pending_lots), tracker.illegal_count) == before
    assert "someNewStatusCanceled" in order.last_reason


# ---- D7: a batch answer is per item ------------------------------------------------------


def test_mixed_batch_answers_are_applied_item_by_item_D7():
    """S7 at tracker level: resting, post-only rejection, resting — two live, one rejected."""
    tracker = OrderTracker()
    for i, cloid in enumerate(("b0", "b1", "b2")):
        place(tracker, cloid, 10, price=100 - i, level=i)
    outs = [
        tracker.on_place_ack(PlaceAck("b0", 60, AckStatus.RESTING, batch_id=7), 0.1),
        tracker.on_place_rejected(
            PlaceRejected(
                "b1",
                "Post only order would have immediately matched, bbo was 99@100. asset=0",
                RejectionClass.PRICE_ERROR,
                batch_id=7,
            ),
            0.1,
        ),
        tracker.on_place_ack(PlaceAck("b2", 61, AckStatus.RESTING, batch_id=7), 0.1),
    ]
    assert [o.order.state for o in outs if o.order] == [S.RESTING, S.REJECTED, S.RESTING]
    assert tracker.get(oid=60).cloid == "b0"  # type: ignore[union-attr]
    assert tracker.get(oid=61).cloid == "b2"  # type: ignore[union-attr]
    assert outs[1].rejection is RejectionClass.PRICE_ERROR
    assert tracker.state_counts[S.RESTING] == 2 and tracker.state_counts[S.REJECTED] == 1
    assert tracker.pending_lots[Side.BID] == 20
    assert tracker.live_for_intent(Side.BID, 1) == []


# ---- D8: a timeout is an unknown outcome -------------------------------------------------


def test_place_timeout_keeps_pending_new_and_asks_D8():
    tracker = OrderTracker()
    order = place(tracker, "c10", 10, now=0.0, level=2)
    out = tracker.on_place_unknown(PlaceUnknown("c10", "timeout"), now=5.0)
    assert order.state is S.PENDING_NEW
    assert order.unknown_since == 5.0
    assert out.needs_query and out.illegal is None
    assert tracker.pending_lots[Side.BID] == 10  # may be live: still exposure
    assert tracker.live_for_intent(Side.BID, 2) == [order]  # the intent stays occupied (S10)
    tracker.on_place_unknown(PlaceUnknown("c10", "timeout again"), now=6.0)
    assert order.unknown_since == 5.0  # since the first


def test_S10_status_report_resting_makes_it_live_D8():
    tracker = OrderTracker()
    order = place(tracker, "c10", now=0.0)
    tracker.on_place_unknown(PlaceUnknown("c10", "timeout"), now=5.0)
    out = report(tracker, VenueStatus.OPEN, cloid="c10", oid=63, now=5.5)
    assert order.state is S.RESTING and order.oid == 63
    assert order.unknown_since is None
    assert out.transition is not None
    assert tracker.get(oid=63) is order


def test_S10_not_found_within_the_grace_period_is_asked_again_D8():
    tracker = OrderTracker(grace_period=2.0)
    order = place(tracker, "c10", now=0.0)
    tracker.on_place_unknown(PlaceUnknown("c10", "timeout"), now=1.0)
    out = report(tracker, VenueStatus.NOT_FOUND, cloid="c10", now=1.5)
    assert out.requery_later and out.transition is None
    assert order.state is S.PENDING_NEW


def test_S10_not_found_while_the_request_may_still_arrive_is_asked_again_D24():
    """Swarm seed 8: a status query overtook its placement.  "Not found" for an unanswered
    placement is believed only once the request can no longer reach the venue."""
    tracker = OrderTracker(grace_period=2.0, request_lifetime=10.0)
    order = place(tracker, "c10", now=0.0, level=2)
    tracker.on_place_unknown(PlaceUnknown("c10", "timeout"), now=1.0)
    out = report(tracker, VenueStatus.NOT_FOUND, cloid="c10", now=5.0)
    assert out.requery_later and order.state is S.PENDING_NEW
    assert tracker.live_for_intent(Side.BID, 2) == [order]  # the intent stays occupied
    report(tracker, VenueStatus.NOT_FOUND, cloid="c10", now=10.5)
    assert order.state is S.REJECTED


def test_a_stray_occupies_its_intent_with_what_is_left_and_keeps_its_oid_D22_D24():
    """A placement given up on that the venue then rests: tracked again as a stray of its
    intent, carrying the fills already counted on the rejected record (only the rest may rest),
    and the oid stays the stray's even when the record's own late ack names it."""
    tracker = OrderTracker(grace_period=2.0, request_lifetime=2.0)
    gone = place(tracker, "c10", now=0.0, level=2)
    tracker.on_place_unknown(PlaceUnknown("c10", "timeout"), now=1.0)
    report(tracker, VenueStatus.NOT_FOUND, cloid="c10", now=5.0)
    assert gone.state is S.REJECTED and tracker.live_for_intent(Side.BID, 2) == []
    gone.filled = 4
    stray = tracker.track_stray(gone, 77, now=6.0)
    assert stray is not None and stray.filled == 4 and stray.level == 2
    assert tracker.live_for_intent(Side.BID, 2) == [stray]
    assert tracker.track_stray(gone, 77, now=6.1) is None, "claimed once"
    tracker.on_place_ack(PlaceAck("c10", 77, AckStatus.RESTING), now=6.2)
    assert tracker.get(None, 77) is stray and tracker.get("c10", 77) is stray
    gone.filled = gone.size
    assert tracker.track_stray(gone, 78, now=6.3) is None, "nothing left to rest"


def test_S10_not_found_after_the_grace_period_means_never_placed_D8():
    tracker = OrderTracker(grace_period=2.0, request_lifetime=2.0)
    order = place(tracker, "c10", now=0.0, level=2)
    tracker.on_place_unknown(PlaceUnknown("c10", "timeout"), now=1.0)
    out = report(tracker, VenueStatus.NOT_FOUND, cloid="c10", now=2.5)
    assert order.state is S.REJECTED
    assert order.unknown_since is None
    assert out.transition is not None and out.transition.trigger is Trigger.NOT_FOUND
    assert tracker.live_for_intent(Side.BID, 2) == []  # the intent may be placed again
    assert tracker.pending_lots[Side.BID] == 0


def test_S10_status_report_filled_resolves_the_unknown_D8():
    tracker = OrderTracker()
    order = place(tracker, "c", now=0.0)
    tracker.on_place_unknown(PlaceUnknown("c", "timeout"), now=5.0)
    report(tracker, VenueStatus.FILLED, cloid="c", oid=9, now=6.0)
    assert order.state is S.FILLED and order.unknown_since is None
    # The trades come on the stream (no immediate amount was registered): each counted once.
    assert fill(tracker, 1, 10, oid=9, now=6.1).position_delta == 10


def test_timeout_after_the_stream_said_it_rests_is_not_illegal_D8_D10():
    """The order update overtook the request's own timeout: expected news, not a contradiction."""
    tracker = OrderTracker()
    order = place(tracker, "c", now=0.0)
    update(tracker, VenueStatus.OPEN, "open", cloid="c", oid=5, now=0.1)
    assert order.state is S.RESTING
    out = tracker.on_place_unknown(PlaceUnknown("c", "timeout"), now=5.0)
    assert out.illegal is None and tracker.illegal_count == 0
    assert order.state is S.RESTING
    fill(tracker, 1, 2, oid=5, now=5.1)
    out = tracker.on_place_unknown(PlaceUnknown("c", "timeout"), now=5.2)
    assert out.illegal is None and order.state is S.PARTIAL_FILLED


def test_status_report_for_an_unknown_order_D8():
    tracker = OrderTracker()
    assert report(tracker, VenueStatus.OPEN, cloid="x", oid=1, now=0.0).unmatched
    assert not report(tracker, VenueStatus.NOT_FOUND, cloid="x", now=0.0).unmatched


def test_answers_for_untracked_orders_are_unmatched_D8():
    tracker = OrderTracker()
    out = ack(tracker, "ghost", 1)
    assert out.unmatched and out.needs_query
    assert tracker.on_place_unknown(PlaceUnknown("ghost", "t"), 0.0).unmatched
    assert tracker.on_cancel_ack(CancelAck("ghost", 1), 0.0).unmatched
    assert tracker.on_cancel_rejected(CancelRejected("ghost", 1, "x", True), 0.0).unmatched
    assert tracker.on_cancel_unknown(CancelUnknown("ghost", 1, "t"), 0.0).unmatched
    assert update(tracker, VenueStatus.OPEN, "open", oid=1).unmatched
    with pytest.raises(TrackerError, match="untracked"):
        tracker.cancel_sent("ghost", 0.0)


# ---- D24: no answer is not "not found" ---------------------------------------------------


def test_cancel_answered_already_gone_is_confirmed_not_cancelled_D24():
    tracker = OrderTracker(late_fill_window=1.0)
    order = resting(tracker, "c", 5)
    tracker.cancel_sent("c", now=0.1)
    out = tracker.on_cancel_rejected(CancelRejected("c", 5, GONE_TEXT, gone=True), now=0.2)
    assert order.state is S.CANCEL_CONFIRMED
    assert out.transition is not None and out.transition.trigger is Trigger.CANCEL_GONE
    assert order.cancel_failures == 0
    tracker.expire(now=1.3)
    assert order.state is S.CANCELLED


def test_cancel_without_answer_is_queried_and_stays_pending_D24():
    tracker = OrderTracker()
    order = resting(tracker, "c", 5)
    tracker.cancel_sent("c", now=0.1)
    out = tracker.on_cancel_unknown(CancelUnknown("c", 5, "timeout"), now=5.0)
    assert order.state is S.CANCEL_PENDING
    assert out.needs_query and out.illegal is None
    assert tracker.pending_lots[Side.BID] == 10  # may still fill
    # The query answers: cancelled.  Now confirmed, not yet terminal.
    report(tracker, VenueStatus.CANCELED, cloid="c", oid=5, now=5.5)
    assert order.state is S.CANCEL_CONFIRMED


@pytest.mark.parametrize(
    "filled_before, acked, expected",
    [(0, True, S.RESTING), (3, True, S.PARTIAL_FILLED), (0, False, S.PENDING_NEW)],
)
def test_failed_cancel_returns_to_the_live_state_D24(filled_before, acked, expected):
    tracker = OrderTracker()
    order = place(tracker, "c", 10)
    if acked:
        ack(tracker, "c", 5)
    if filled_before:
        fill(tracker, 1, filled_before, oid=5)
    tracker.cancel_sent("c", now=0.1)
    assert order.state is S.CANCEL_PENDING
    out = tracker.on_cancel_rejected(
        CancelRejected(
            "c", 5 if acked else None, "Too many requests", False, RejectionClass.RATE_LIMIT
        ),
        now=0.2,
    )
    assert order.state is expected
    assert out.transition is not None and out.transition.trigger is Trigger.CANCEL_FAILED
    assert order.cancel_failures == 1
    assert tracker.pending_lots[Side.BID] == 10 - filled_before


def test_not_found_for_an_acked_order_is_gone_pending_confirmation_D24():
    tracker = OrderTracker(grace_period=2.0, late_fill_window=1.0)
    order = resting(tracker, "c", 5)
    report(tracker, VenueStatus.NOT_FOUND, cloid="c", oid=5, now=10.0)
    assert order.state is S.CANCEL_CONFIRMED
    tracker.expire(now=11.5)
    assert order.state is S.CANCELLED


def test_not_found_asked_before_the_venue_showed_the_order_is_asked_again_D24():
    """Swarm seed 1003829: a "not found" that may answer a query sent before the venue first
    showed us the order is older than the venue's news (the query overtook the placement),
    however late it lands: not believed, the intent stays occupied.  One asked after the venue
    showed it is definitive."""
    tracker = OrderTracker(grace_period=2.0, request_lifetime=10.0)
    order = place(tracker, "c", 10, now=0.0, level=2)
    ack(tracker, "c", 5, now=0.6)
    assert order.venue_seen_at == 0.6
    stale = OrderStatusReport("c", None, VenueStatus.NOT_FOUND, "unknownOid")
    out = tracker.on_status_report(stale, 5.0, asked_at=0.4)
    assert out.requery_later and out.transition is None
    assert order.state is S.RESTING
    assert tracker.live_for_intent(Side.BID, 2) == [order]
    tracker.on_status_report(stale, 5.5, asked_at=0.7)
    assert order.state is S.CANCEL_CONFIRMED


def test_venue_seen_at_is_the_first_time_the_venue_showed_the_order_D24():
    tracker = OrderTracker(grace_period=2.0)
    a = place(tracker, "a", 10, now=0.0)
    tracker.on_status_report(OrderStatusReport("a", None, VenueStatus.NOT_FOUND, "x"), 0.5)
    assert a.venue_seen_at is None, "not found is no sign that the venue knows it"
    update(tracker, VenueStatus.OPEN, "open", cloid="a", oid=1, now=0.7)
    ack(tracker, "a", 1, now=0.9)
    assert a.venue_seen_at == 0.7
    b = place(tracker, "b", 10, now=0.0)
    fill(tracker, 1, 3, cloid="b", now=0.3)
    assert b.venue_seen_at == 0.3
    c = place(tracker, "c", 10, now=0.0)
    report(tracker, VenueStatus.OPEN, cloid="c", oid=3, now=0.4)
    assert c.venue_seen_at == 0.4
    d = tracker.adopt(oid=4, cloid=None, side=Side.ASK, price=100, size=1, now=0.8)
    assert d.venue_seen_at == 0.8


def test_cancel_that_overtook_its_placement_does_not_orphan_it_D24():
    """An operator cancels an unanswered placement; the cancel reaches the venue first and is
    answered "never placed".  That is not definitive about an order the venue has never shown
    us: the placement can still arrive and rest.  Believing it gone would leave it resting
    unseen and free its intent for a second order."""
    tracker = OrderTracker(late_fill_window=1.0, grace_period=2.0, request_lifetime=10.0)
    order = place(tracker, "c1", 10, now=0.0, level=0)
    tracker.cancel_sent("c1", now=0.1)
    out = tracker.on_cancel_rejected(CancelRejected("c1", None, GONE_TEXT, gone=True), now=0.2)
    assert out.needs_query and out.transition is None and out.illegal is None
    assert order.state is S.CANCEL_PENDING
    assert tracker.live_for_intent(Side.BID, 0) == [order]  # the intent stays occupied
    assert tracker.pending_lots[Side.BID] == 10  # and it may still fill
    # The placement lands after all: still a cancel to make, never silently Cancelled.
    ack(tracker, "c1", 55, now=0.3)
    tracker.expire(now=5.0)
    assert order.state is S.CANCEL_PENDING and order.oid == 55
    # The query says it rests (the maker cancels again); the second cancel succeeds.
    report(tracker, VenueStatus.OPEN, cloid="c1", oid=55, now=5.1)
    assert order.state is S.CANCEL_PENDING
    tracker.cancel_sent("c1", now=5.2)
    tracker.on_cancel_ack(CancelAck("c1", 55), now=5.3)
    tracker.expire(now=6.5)
    assert order.state is S.CANCELLED


def test_overtaken_cancel_answered_after_the_stream_shows_the_order_D24_D10():
    """Found by the venue model: the cancel overtook the placement, but its "never placed"
    answer reaches us after the update stream already said the order rests.  What matters is
    what the venue knew when the cancel went out, not what we know when the answer lands."""
    tracker = OrderTracker(late_fill_window=1.0)
    order = place(tracker, "c2", 1, side=Side.ASK, now=0.04)
    tracker.cancel_sent("c2", now=0.05)
    update(tracker, VenueStatus.OPEN, "open", cloid="c2", oid=1001, now=0.07)
    assert order.state is S.CANCEL_PENDING and order.oid == 1001
    out = tracker.on_cancel_rejected(CancelRejected("c2", None, GONE_TEXT, gone=True), now=0.08)
    assert out.needs_query and out.transition is None
    ack(tracker, "c2", 1001, now=0.09)
    tracker.expire(now=3.1)
    assert order.state is S.CANCEL_PENDING  # still to be cancelled, never silently Cancelled
    assert tracker.pending_lots[Side.ASK] == 1


def test_stale_gone_answer_after_a_later_cancel_by_oid_is_still_checked_D24():
    """Found by the venue model: a cancel by cloid overtakes the placement; the order rests
    and is acked; a second cancel goes out, now by oid; then the first cancel's late "never
    placed" arrives.  Answers are not matched to the cancel they answer, so it is checked."""
    tracker = OrderTracker(late_fill_window=1.0)
    order = place(tracker, "c6", 10, side=Side.ASK, now=0.0)
    tracker.cancel_sent("c6", now=5.0)  # by cloid: overtakes the placement
    ack(tracker, "c6", 1004, status=AckStatus.PARTIALLY_FILLED, filled=2, now=18.7)
    tracker.cancel_sent("c6", now=18.73)  # by oid
    out = tracker.on_cancel_rejected(CancelRejected("c6", None, GONE_TEXT, gone=True), 18.8)
    assert out.needs_query and order.state is S.CANCEL_PENDING
    # The second cancel fails (rate limit): the order is live again, as it is on the venue.
    tracker.on_cancel_rejected(
        CancelRejected("c6", 1004, "429", False, RejectionClass.RATE_LIMIT), now=18.85
    )
    tracker.expire(now=22.0)
    assert order.state is S.PARTIAL_FILLED and order.remaining == 8


def test_cancel_gone_for_a_placement_that_never_arrives_ends_cancelled_D24():
    tracker = OrderTracker(late_fill_window=1.0, grace_period=2.0, request_lifetime=10.0)
    order = place(tracker, "c1", 10, now=0.0, level=0)
    tracker.cancel_sent("c1", now=0.1)
    tracker.on_cancel_rejected(CancelRejected("c1", None, GONE_TEXT, gone=True), now=0.2)
    # "Not found" is believed only once the placement can no longer arrive.
    assert report(tracker, VenueStatus.NOT_FOUND, cloid="c1", now=5.0).requery_later
    assert order.state is S.CANCEL_PENDING
    report(tracker, VenueStatus.NOT_FOUND, cloid="c1", now=10.5)
    assert order.state is S.CANCEL_CONFIRMED
    tracker.expire(now=12.0)
    assert order.state is S.CANCELLED
    assert tracker.live_for_intent(Side.BID, 0) == []


def test_cancel_gone_then_the_placement_is_rejected_D24():
    tracker = OrderTracker()
    order = place(tracker, "c1", 10, now=0.0)
    tracker.cancel_sent("c1", now=0.1)
    tracker.on_cancel_rejected(CancelRejected("c1", None, GONE_TEXT, gone=True), now=0.2)
    tracker.on_place_rejected(PlaceRejected("c1", "bad", RejectionClass.PRICE_ERROR), now=0.3)
    assert order.state is S.REJECTED


def test_cancel_gone_after_a_fill_before_the_ack_is_believed_D24():
    """The venue has shown us the order (a fill bound its oid): "gone" means filled or
    cancelled there, so it is confirmed and waits for late fills as usual."""
    tracker = OrderTracker()
    order = place(tracker, "c1", 10, now=0.0)
    fill(tracker, 1, 4, cloid="c1", oid=55, now=0.05)
    tracker.cancel_sent("c1", now=0.1)
    tracker.on_cancel_rejected(CancelRejected("c1", 55, GONE_TEXT, gone=True), now=0.2)
    assert order.state is S.CANCEL_CONFIRMED


# ---- S4, S5 --------------------------------------------------------------------------------


def test_S4_cancel_races_a_fill_D5_D24():
    tracker = OrderTracker()
    order = resting(tracker, "c4", 57)
    tracker.cancel_sent("c4", now=0.0)
    assert order.state is S.CANCEL_PENDING
    f = fill(tracker, 5, 10, oid=57, now=0.01)
    assert f.position_delta == 10
    assert order.state is S.FILLED_DURING_CANCEL
    out = tracker.on_cancel_rejected(CancelRejected("c4", 57, GONE_TEXT, gone=True), now=0.02)
    assert out.transition is None
    assert order.state is S.FILLED_DURING_CANCEL  # terminal: no further cancel is legal
    assert tracker.cancel_sent("c4", now=0.03).illegal is not None
    assert tracker.pending_lots[Side.BID] == 0


def test_S4_cancel_rejected_before_the_fill_arrives_D5_D24():
    tracker = OrderTracker(late_fill_window=1.0)
    order = resting(tracker, "c4", 57)
    tracker.cancel_sent("c4", now=0.0)
    tracker.on_cancel_rejected(CancelRejected("c4", 57, GONE_TEXT, gone=True), now=0.01)
    assert order.state is S.CANCEL_CONFIRMED
    assert fill(tracker, 5, 10, oid=57, now=0.02).position_delta == 10
    assert order.state is S.FILLED_DURING_CANCEL


def test_S5_cancel_acknowledged_fill_still_in_flight_D1():
    tracker = OrderTracker(late_fill_window=1.0)
    c5 = resting(tracker, "c5", 58)
    twin = resting(tracker, "twin", 59)
    for cloid, oid in (("c5", 58), ("twin", 59)):
        tracker.cancel_sent(cloid, now=0.0)
        tracker.on_cancel_ack(CancelAck(cloid, oid), now=0.01)
    assert c5.state is S.CANCEL_CONFIRMED and twin.state is S.CANCEL_CONFIRMED
    out = fill(tracker, 6, 5, oid=58, now=0.05)
    assert out.position_delta == 5 and not out.late_fill
    assert c5.state is S.CANCEL_CONFIRMED  # still waiting out the window
    closed = tracker.expire(now=1.02)
    assert {o.order.cloid: o.order.state for o in closed if o.order} == {
        "c5": S.FILLED_DURING_CANCEL,
        "twin": S.CANCELLED,
    }
    assert c5.filled == 5
    assert tracker.pending_lots[Side.BID] == 0


# ---- S9: snapshot grace is the reconciler's; the tracker keeps what it was told ---------


def test_S9_acked_order_keeps_its_state_until_a_definitive_answer_D9_D24():
    tracker = OrderTracker(grace_period=2.0)
    order = place(tracker, "c9", now=0.0)
    ack(tracker, "c9", 62, now=0.1)
    assert report(tracker, VenueStatus.NOT_FOUND, cloid="c9", now=0.5).requery_later
    assert order.state is S.RESTING
    assert tracker.non_terminal() == [order]
    report(tracker, VenueStatus.OPEN, cloid="c9", oid=62, now=3.0)
    assert order.state is S.RESTING


# ---- pruning and O(1) ---------------------------------------------------------------------


def test_terminal_orders_are_pruned_after_retention_D1():
    tracker = OrderTracker(retention=60.0, late_fill_window=1.0)
    done = resting(tracker, "done", 1, level=0)
    live = resting(tracker, "live", 2, level=0)
    fill(tracker, 1, 10, oid=1, now=1.0)
    assert done.state is S.FILLED
    tracker.expire(now=60.9)
    assert tracker.get("done") is done  # not yet
    tracker.expire(now=61.0)
    assert tracker.get("done") is None and tracker.get(oid=1) is None
    assert tracker.get("live") is live
    assert tracker.pruned == 1 and len(tracker) == 1
    assert tracker.state_counts[S.FILLED] == 0 and tracker.state_counts[S.RESTING] == 1
    # A fill for a pruned order is unmatched but still moves the position.
    out = fill(tracker, 2, 1, oid=1, now=62.0)
    assert out.unmatched and out.position_delta == 1


def test_pruning_waits_for_the_stream_to_repeat_an_immediate_fill_D4():
    """An order filled at once, whose trades the stream has not yet repeated (a long
    disconnect, then the userFills snapshot): pruning it would count the trades twice."""
    ledger = FillLedger(retention=3600.0)
    tracker = OrderTracker(retention=60.0, ledger=ledger)
    place(tracker, "ioc", 10, now=0.0)
    outs = [ack(tracker, "ioc", 9, status=AckStatus.FILLED, filled=10, now=0.1)]
    tracker.expire(now=100.0)
    assert tracker.get("ioc") is not None  # kept: 10 lots still to be repeated
    outs.append(fill(tracker, 1, 10, oid=9, cloid="ioc", snapshot=True, now=120.0))
    assert position(outs) == 10
    tracker.expire(now=200.0)
    assert tracker.get("ioc") is None  # repeated: now it goes


def test_pruning_gives_up_waiting_after_the_ledger_retention_D4():
    ledger = FillLedger(retention=300.0)
    tracker = OrderTracker(retention=60.0, ledger=ledger)
    place(tracker, "ioc", 10, now=0.0)
    ack(tracker, "ioc", 9, status=AckStatus.FILLED, filled=10, now=0.1)
    tracker.expire(now=100.0)
    assert tracker.get("ioc") is not None
    tracker.expire(now=301.0)
    assert tracker.get("ioc") is None
    assert ledger.immediate_remaining("ioc") == 0


def test_zero_retention_prunes_at_once_D1():
    tracker = OrderTracker(retention=0.0)
    place(tracker, "c", now=0.0)
    tracker.on_place_rejected(PlaceRejected("c", "x", RejectionClass.OTHER), 1.0)
    tracker.expire(now=1.0)
    assert len(tracker) == 0


def test_adopted_orders_are_tracked_by_oid_D19():
    tracker = OrderTracker()
    order = tracker.adopt(oid=77, cloid=None, side=Side.ASK, price=105, size=4, now=0.0)
    assert order.adopted and order.state is S.RESTING
    assert tracker.get(oid=77) is order and order.cloid == "adopted-77"
    assert tracker.pending_lots[Side.ASK] == 4
    assert fill(tracker, 1, 4, oid=77, side=Side.ASK).position_delta == -4
    assert order.state is S.FILLED
    with pytest.raises(TrackerError):
        tracker.adopt(oid=77, cloid=None, side=Side.ASK, price=105, size=4, now=0.0)


def _tracker_with_live_orders(n: int) -> OrderTracker:
    """``n`` resting orders; the first 10 hold the ladder intents (5 levels per side), the
    rest are live orders outside the ladder (adopted, recovery), as many as we like."""
    tracker = OrderTracker(late_fill_window=1.0, retention=60.0)
    for i in range(n):
        side = Side.BID if i % 2 else Side.ASK
        level = i // 2 if i < 10 else None
        tracker.track_place(Place(f"c{i}", side, 100, 10, level=level), 0.0)
        tracker.on_place_ack(PlaceAck(f"c{i}", 1000 + i, AckStatus.RESTING), 0.0)
    return tracker


def _work_per_event(tracker: OrderTracker) -> list[int]:
    """Lines executed by each kind of event on one order, in a fixed script."""
    t = 10.0
    script: list[Callable[[], object]] = [
        lambda: tracker.track_place(Place("new", Side.BID, 100, 10, level=1), t),
        lambda: tracker.on_place_ack(PlaceAck("new", 1, AckStatus.RESTING), t),
        lambda: tracker.get(oid=1),
        lambda: tracker.get("new"),
        lambda: tracker.on_fill(Fill(1, 1, None, Side.BID, 100, 2, Liquidity.MAKER), t),
        lambda: tracker.on_fill(Fill(1, 1, None, Side.BID, 100, 2, Liquidity.MAKER), t),
        lambda: tracker.on_order_update(OrderUpdate(1, None, VenueStatus.OPEN, "open"), t),
        lambda: tracker.expire(t),  # nothing due
        lambda: tracker.cancel_sent("new", t),
        lambda: tracker.on_cancel_ack(CancelAck(None, 1), t),
        lambda: tracker.on_fill(Fill(2, 1, None, Side.BID, 100, 1, Liquidity.MAKER), t),
        lambda: tracker.expire(t + 1.5),  # one window due
        lambda: tracker.live_for_intent(Side.BID, 1),
    ]
    return [lines_executed(step) for step in script]


def test_every_event_costs_the_same_with_100_or_20000_orders_D1():
    """Counting, not timing: the Python lines each event executes do not depend on how many
    orders are tracked (a peer's tracker scanned every order on every fill)."""
    small = _work_per_event(_tracker_with_live_orders(100))
    large = _work_per_event(_tracker_with_live_orders(20_000))
    assert small == large
    assert max(small) < 200  # and small: a few dozen lines per event


def test_expire_with_nothing_due_touches_nothing_D1():
    tracker = _tracker_with_live_orders(20_000)
    assert tracker.expire(1.0) == []
    lines = lines_executed(lambda: tracker.expire(2.0))
    assert lines < 15
    assert len(tracker) == 20_000


def test_pruning_costs_what_is_due_not_what_is_tracked_D1():
    def prune_ten(n: int) -> int:
        tracker = _tracker_with_live_orders(n)
        for i in range(10):
            tracker.on_fill(Fill(i, 1000 + i, None, Side.BID, 100, 10, Liquidity.MAKER), 1.0)
        lines = lines_executed(lambda: tracker.expire(100.0))
        assert tracker.pruned == 10
        return lines

    assert prune_ten(100) == prune_ten(20_000)


def test_indexes_are_dicts_D1():
    tracker = _tracker_with_live_orders(3)
    assert type(tracker.by_cloid) is dict and type(tracker.by_oid) is dict
    assert tracker.by_oid[1001] is tracker.by_cloid["c1"]


# ---- TrackedOrder ----------------------------------------------------------------------


def test_tracked_order_derived_fields():
    tracker = OrderTracker()
    order = place(tracker, "c", 10, now=2.0)
    ack(tracker, "c", 1, now=2.1)
    assert order.average_fill_price is None and order.fill_count == 0
    fill(tracker, 1, 2, oid=1, price=100, now=2.5)
    fill(tracker, 2, 1, oid=1, price=103, now=3.0)
    assert order.average_fill_price == pytest.approx(101) and order.average_fill_price == 101
    assert order.fill_count == 2 and order.last_fill_at == 3.0
    assert order.age(5.0) == 3.0 and order.age(1.0) == 0.0
    assert order.remaining == 7 and order.signed_remaining == 7
    assert order.state_changed_at == 2.5  # Resting -> PartialFilled
    ask_order = place(tracker, "a", 5, side=Side.ASK)
    assert ask_order.signed_remaining == -5
