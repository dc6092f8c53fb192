"""DOMAIN.md D29-D35 and D37 through the real ``MarketMaker``: orderings the venue can produce.

Each test names its rule and was written against a case the simulator did not generate when
these rules were written down (issue 14): every one of them failed on the engine before its fix.
The maker runs on a virtual clock (``tests.maker_harness``); where time and pacing matter, a
``LaggyVenue`` answers with a round trip and counts the requests the maker sends.
"""

from __future__ import annotations

import io
import itertools

import pytest

from core.actions import CancelAllOrders, CancelOrder, Kill
from core.commands import CancelAll, FetchFills, Place, QueryOrder
from core.events import (
    AckStatus,
    CancelAllDone,
    CancelRejected,
    Channel,
    Fill,
    FillsFetched,
    Liquidity,
    MalformedMessage,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PositionSnapshot,
    RejectionClass,
    Side,
    SyncFailed,
    VenueOrder,
    VenueStatus,
)
from core.fillgaps import FillGaps
from core.maker import MarketMaker, SweepPhase
from core.orders import TRANSITIONS, OrderState, Trigger
from core.pacing import RetryPacing
from core.reporter import HeadlessReporter
from core.runner import RunResult
from core.view import Mode
from tests.maker_harness import (
    INSTRUMENT,
    LaggyVenue,
    Rig,
    cancel_alls,
    cancels,
    make_config,
    make_params,
    of_type,
    places,
    queries,
    quoting,
    running_maker,
    syncs,
)

RATE_LIMITED = LaggyVenue.RATE_LIMITED


def levels(n: int, **sections: dict) -> tuple[Rig, list]:
    return quoting(make_params(config=make_config(strategy={"levels": n}, **sections)))


# ==== D29: emergencies never amplify ===========================================================


def test_D29_a_kill_answered_429_item_by_item_stays_within_the_budget_and_empties_after() -> None:
    """D29: a kill whose cancels are answered 429 item by item, on a 20 ms link.  Every third
    refused cancel used to start another cancel-all and a verification sync: requests doubled
    every round trip.  Now the retries are paced and the cancel-all absorbs the escalations:
    the request rate stays small for the whole storm, and the venue is empty within a couple
    of seconds of the storm lifting."""
    s, _ = levels(5)
    venue = LaggyVenue(s, rtt=0.02)
    assert len(venue.resting) == 10
    t0 = s.now + 0.1
    venue.storm = (t0, t0 + 6.0)
    venue.send(s.operate(Kill("test"), t0), t0)
    venue.run(t0 + 6.0)
    during = venue.max_per_second()
    assert during <= 20, f"{during} requests in one second during the storm"
    assert len(venue.resting) == 10, "nothing could be cancelled during the storm"
    venue.run(t0 + 6.0 + s.maker.params.cancel_retry.cap + s.maker.params.sweep_retry.cap + 1.0)
    assert venue.resting == {}, "the venue is emptied promptly once the limit lifts"
    venue.run(s.now + 2.0)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED
    assert s.maker.mode is Mode.KILLED


def test_D29_a_refused_cancel_is_retried_paced_not_at_every_tick() -> None:
    """D29: an operator's cancel answered 429 again and again is retried after 0.1 s, 0.2 s,
    ... up to the cap, not at every quoting tick (which sent one a tick, for ever)."""
    s, first = levels(1, emergency={"escalate_after": 1000})
    (bid,) = places(first, Side.BID)
    venue = LaggyVenue(s, rtt=0.02, tick=0.05)
    t0 = s.now + 0.1
    venue.storm = (t0, t0 + 10.0)
    venue.send(s.operate(CancelOrder(bid.cloid), t0), t0)
    mark = len(s.sent)
    venue.run(t0 + 10.0)
    sent = len(cancels(s.sent[mark:]))
    assert sent <= 10, f"{sent} cancels for one order in 10 s"
    assert sent >= 4, "but it is retried"
    venue.run(t0 + 10.0 + s.maker.params.cancel_retry.cap + 0.5)
    assert s.order(bid.cloid).state.is_terminal or s.order(bid.cloid).state in (
        OrderState.CANCEL_CONFIRMED,
    )


def test_D29_escalations_are_absorbed_by_the_cancel_all_under_way() -> None:
    """D13/D29: cancels that keep failing escalate to one cancel-all; failures while it is
    under way (its own items refused) never start another."""
    s, _ = levels(3)
    for order in s.maker.tracker.non_terminal():
        s.operate(CancelOrder(order.cloid), s.now + 0.01)
    escalated: list[CancelAll] = []
    for _ in range(4):
        for order in list(s.maker.tracker.non_terminal()):
            ev = CancelRejected(
                order.cloid, order.oid, RATE_LIMITED, False, RejectionClass.RATE_LIMIT
            )
            escalated += cancel_alls(s.handle(ev, s.now + 0.01))
    assert len(escalated) == 1


def test_D29_a_cancel_all_whose_listing_is_refused_is_retried_promptly_and_paced() -> None:
    """D29: the venue refuses to list the open orders for a cancel-all (429).  The sweep used
    to wait a fixed 5 s before trying again; now it retries after 0.2 s, 0.4 s ... (capped),
    so the venue is swept within a moment of the limit lifting."""
    s, _ = levels(2)
    venue = LaggyVenue(s, rtt=0.02)
    t0 = s.now + 0.1
    venue.storm = (t0, t0 + 1.0)
    venue.send(s.operate(CancelAllOrders("test"), t0), t0)
    venue.run(t0 + 0.5)
    assert s.maker.sweep_phase is SweepPhase.RETRYING
    swept = set(venue.resting)
    venue.run(t0 + 1.0 + s.maker.params.sweep_retry.cap + 0.2)
    assert not swept & set(venue.resting)
    venue.run(s.now + 1.0)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED
    sweeps = [t for t, w in venue.requests if w == 2]
    assert 2 <= len(sweeps) <= 12


def test_D29_rate_limited_attempts_never_fail_the_sweep() -> None:
    """D29: a long rate limit is not a failed cancel-all: the sweep keeps retrying at the cap
    (never halting a kill for a 429) and verifies once the limit lifts."""
    s, _ = levels(2)
    venue = LaggyVenue(s, rtt=0.02)
    t0 = s.now + 0.1
    venue.storm = (t0, t0 + 30.0)
    venue.send(s.operate(Kill("test"), t0), t0)
    venue.run(t0 + 30.0)
    assert s.maker.mode is Mode.KILLED
    assert s.maker.sweep_phase is SweepPhase.RETRYING
    assert venue.max_per_second() <= 20
    venue.run(t0 + 34.0)
    assert venue.resting == {} and s.maker.sweep_phase is SweepPhase.VERIFIED


def test_D29_verification_syncs_are_coalesced_with_the_one_in_flight() -> None:
    """D29/D25: a sync already in flight when the cancel-all is done: no second one is sent
    beside it; its answer, older than the cancel-all, cannot verify, so one fresh
    verification follows it."""
    s, _ = levels(1)
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    s.maker.reconciler.trigger("test")
    in_flight = syncs(s.tick(s.now + 1.1))
    assert in_flight
    assert syncs(s.handle(CancelAllDone(2, 0), s.now + 0.01)) == []
    fresh = syncs(s.handle(OpenOrders(()), s.now + 0.01))
    assert len(fresh) == 1
    s.handle(PositionSnapshot(0))
    assert s.maker.sweep_phase is SweepPhase.VERIFYING


def test_D29_a_failed_verification_sync_is_retried_paced_not_counted_as_a_failed_sweep() -> None:
    """D29: the verification sync refused with a 429 is asked again after a pause; the sweep
    neither fails nor sends another cancel-all for it."""
    s, _ = levels(1)
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    assert syncs(s.handle(CancelAllDone(2, 0), s.now + 0.01))
    mark = len(s.sent)
    for _ in range(6):
        s.handle(SyncFailed(RATE_LIMITED, rate_limited=True), s.now + 0.01)
        assert syncs(s.tick(s.now + 0.05)) == []
        assert syncs(s.run(s.now + s.maker.params.sweep_retry.cap + 0.1))
    assert s.maker.sweep_phase is SweepPhase.VERIFYING
    assert cancel_alls(s.sent[mark:]) == []


def test_D29_start_up_sync_failures_are_retried_paced() -> None:
    """D29: a start-up sync refused by the venue used to be re-sent on the very answer, one per
    round trip for ever (outside live mode); now it waits 0.2 s, 0.4 s ... up to the cap."""
    s = Rig(MarketMaker(make_params(), INSTRUMENT))
    s.start(0.0)
    sent_at: list[float] = []
    for _ in range(8):
        assert syncs(s.handle(SyncFailed(RATE_LIMITED, rate_limited=True), s.now + 0.02)) == []
        while True:
            got = syncs(s.tick(round(s.now + 0.05, 9)))
            if got:
                sent_at.append(s.now)
                break
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert gaps[-1] >= s.maker.params.sweep_retry.cap - 0.1
    assert all(g >= 0.2 for g in gaps)


def test_D29_emergency_pacing_and_sweep_timeouts_come_from_config() -> None:
    """D29, issue 14 item 4: the sweep's answer timeout, attempts, verification gap, retry
    pacing and the escalation count are the operator's, from [emergency]."""
    config = make_config(
        emergency={
            "cancel_retry_base_s": 0.3,
            "cancel_retry_cap_s": 0.9,
            "sweep_retry_base_s": 0.5,
            "sweep_retry_cap_s": 4.0,
            "sweep_timeout_s": 1.5,
            "sweep_attempts": 2,
            "verify_gap_s": 0.7,
            "escalate_after": 7,
        }
    )
    p = make_params(config=config)
    assert (p.cancel_retry.base, p.cancel_retry.cap) == (0.3, 0.9)
    assert (p.sweep_retry.base, p.sweep_retry.cap) == (0.5, 4.0)
    assert (p.sweep_timeout, p.sweep_attempts, p.verify_gap, p.cancel_escalation) == (
        1.5,
        2,
        0.7,
        7,
    )
    s, _ = running_maker(p)
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    assert cancel_alls(s.run(s.now + 1.4)) == []
    assert cancel_alls(s.run(s.now + 0.2)), "unanswered for sweep_timeout_s: sent again"


def test_D29_config_refuses_a_cap_below_its_base() -> None:
    from core.config import ConfigError, parse

    with pytest.raises(ConfigError) as err:
        parse({"emergency": {"cancel_retry_base_s": 3.0, "cancel_retry_cap_s": 1.0}})
    assert "cancel_retry_cap_s" in str(err.value)


# ==== D30: risk is judged on the event that moves it ===========================================


def test_D30_a_fill_past_the_runaway_threshold_kills_in_the_same_step() -> None:
    """D30: the fill that takes |position| past the kill threshold returns the kill's
    cancel-all from the very ``handle`` call, with every quote still resting."""
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    kill_at = s.maker.params.risk.kill_position
    big = Fill(9001, 100, bid.cloid, Side.BID, bid.price, kill_at + 1, Liquidity.MAKER)
    sent = s.handle(big, s.now + 0.01)
    assert cancel_alls(sent)
    assert s.maker.mode is Mode.KILLED
    assert s.view().kill_triggers[-1].reason.startswith("position runaway")


def test_D30_an_adopted_venue_position_past_the_threshold_kills_in_the_same_step() -> None:
    """D30: a confirmed drift adopts the venue's position; if that is a runaway, the answer
    that moved it kills."""
    s, _ = levels(1)
    kill_at = s.maker.params.risk.kill_position
    s.maker.reconciler.trigger("test")
    assert syncs(s.tick(s.now + 1.1))
    s.handle(OpenOrders(s.venue_orders()), s.now + 0.01)
    assert cancel_alls(s.handle(PositionSnapshot(kill_at + 5))) == []  # drift seen once
    s.maker.reconciler.trigger("test")
    assert syncs(s.tick(s.now + 1.1))
    s.handle(OpenOrders(s.venue_orders()), s.now + 0.01)
    assert cancel_alls(s.handle(PositionSnapshot(kill_at + 5)))
    assert s.maker.mode is Mode.KILLED


# ==== D31: every terminal status has a row ======================================================

_VENUE_TRIGGERS = (
    Trigger.ACK_RESTING,
    Trigger.ACK_PARTIAL,
    Trigger.ACK_FILLED,
    Trigger.VENUE_FILLED,
    Trigger.CANCEL_ACKED,
    Trigger.REJECT,
    Trigger.NOT_FOUND,
)


@pytest.mark.parametrize("state", [s for s in OrderState if not s.is_terminal])
def test_D31_every_venue_status_has_a_row_from_every_live_state(state: OrderState) -> None:
    """D31: whatever the venue says of an order that is not finished (open, filled, canceled
    by us or by the venue, rejected, unknown to it), the table has a row for it."""
    missing = [t.value for t in _VENUE_TRIGGERS if t not in TRANSITIONS[state]]
    assert missing == []


@pytest.mark.parametrize("how", ["stream", "status answer"])
def test_D31_rejected_for_a_resting_order_ends_it_and_the_intent_is_quoted_again(how: str) -> None:
    """D31: "rejected" for an order we hold as resting used to be illegal: a status query went
    out, the truthful answer "rejected" was illegal again, ten queries a second for ever, and
    the intent was never quoted again.  Now the order is Rejected and the intent re-quoted."""
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    if how == "stream":
        s.handle(
            OrderUpdate(
                100, bid.cloid, VenueStatus.REJECTED, "perpMarginRejected", RejectionClass.MARGIN
            ),
            s.now + 0.01,
        )
    else:
        s.handle(OrderStatusReport(bid.cloid, 100, VenueStatus.REJECTED, "rejected"), s.now + 0.01)
    assert s.order(bid.cloid).state is OrderState.REJECTED
    assert s.view().counters.illegal_transitions == 0
    later = s.run(s.now + 40.0)
    assert [q for q in queries(later) if q.cloid == bid.cloid] == []
    assert places(later, Side.BID), "the intent is quoted again"


def test_D31_an_answer_that_settles_nothing_is_asked_again_paced_and_shown() -> None:
    """D31: a status query that keeps getting an answer the maker cannot apply (a status it
    does not know) is asked again after 0.25 s, 0.5 s, ... up to the cap -- a handful of
    queries a minute, not ten a second -- and the order says why it is stuck."""
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.operate(CancelOrder(bid.cloid), s.now + 0.01)
    asked = queries(s.run(s.now + s.maker.params.answer_timeout + 0.2))
    assert asked
    mark = len(s.sent)
    until = s.now + 60.0
    while s.now < until:
        for q in queries(s.run(s.now + 0.1)):
            s.handle(OrderStatusReport(q.cloid, q.oid, VenueStatus.UNKNOWN, "frozenByRisk"))
    n = len(queries(s.sent[mark:]))
    assert 4 <= n <= 15, f"{n} queries in a minute"
    view = s.view()
    assert view.counters.unknown_statuses >= 4
    said = [*view.stalls.values(), *(r or "" for r in view.side_reasons.values())]
    assert any("frozenByRisk" in r for r in said), said


def test_D35_a_not_found_delivered_twice_is_believed_at_most_once() -> None:
    """D24/D35: a status answer the venue delivers twice answers one question: the copy of
    a "not found" that no query waits for never ends an order (it is asked about again)."""
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.operate(CancelOrder(bid.cloid), s.now + 0.01)
    asked = [q for q in queries(s.run(s.now + 6.0)) if q.cloid == bid.cloid]
    assert asked
    s.handle(OrderStatusReport(bid.cloid, 100, VenueStatus.OPEN, "open"), s.now + 0.01)
    state = s.order(bid.cloid).state
    s.handle(OrderStatusReport(bid.cloid, 100, VenueStatus.NOT_FOUND, "unknownOid"))
    assert s.order(bid.cloid).state is state, "a copy that answers no question changes nothing"
    assert [q for q in queries(s.run(s.now + 3.0)) if q.cloid == bid.cloid]


# ==== D32: news can name an oid before we know it ==============================================


def _one_unacked_bid() -> tuple[Rig, Place]:
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.handle(OrderUpdate(100, bid.cloid, VenueStatus.CANCELED, "canceled"), s.now + 0.01)
    new = places(s.run(s.now + 1.5), Side.BID)
    assert new
    return s, new[0]


@pytest.mark.parametrize(
    ("status", "raw"),
    [
        (VenueStatus.CANCELED, "canceled"),
        (VenueStatus.VENUE_CANCELED, "nonUserCancel"),
        (VenueStatus.REJECTED, "perpMarginRejected"),
    ],
)
def test_D32_an_end_named_by_oid_before_the_ack_is_applied_when_the_ack_binds_it(
    status: VenueStatus, raw: str
) -> None:
    """D32: the venue ends an order and says so by oid alone, before our placement's ack
    told us that oid.  The news used to be dropped and the ack then showed a resting order
    that was not on the venue: a phantom until the periodic sync."""
    s, bid = _one_unacked_bid()
    s.handle(OrderUpdate(555, None, status, raw), s.now + 0.01)
    s.handle(PlaceAck(bid.cloid, 555, AckStatus.RESTING), s.now + 0.01)
    order = s.order(bid.cloid)
    assert not order.state.is_active, order.state
    assert all(
        o.cloid != bid.cloid or o.state not in (OrderState.RESTING, OrderState.PARTIAL_FILLED)
        for o in s.view().orders
    )


def test_D32_a_fill_named_by_oid_before_the_ack_moves_the_order_and_the_position_once() -> None:
    """D32/D4: a fill naming only an oid, then the ack reporting the same trade as an
    immediate fill: the position moves once, and the order knows the fill."""
    s, bid = _one_unacked_bid()
    before = s.maker.position.lots
    s.handle(Fill(31, 556, None, Side.BID, bid.price, 4, Liquidity.MAKER), s.now + 0.01)
    assert s.maker.position.lots == before + 4
    s.handle(PlaceAck(bid.cloid, 556, AckStatus.PARTIALLY_FILLED, 4, 4 * bid.price), s.now + 0.01)
    assert s.maker.position.lots == before + 4
    order = s.order(bid.cloid)
    assert (order.state, order.filled) == (OrderState.PARTIAL_FILLED, 4)


def test_D32_a_fill_named_by_oid_then_a_resting_ack_leaves_the_order_partly_filled() -> None:
    s, bid = _one_unacked_bid()
    s.handle(Fill(32, 557, None, Side.BID, bid.price, 3, Liquidity.MAKER), s.now + 0.01)
    s.handle(PlaceAck(bid.cloid, 557, AckStatus.RESTING), s.now + 0.01)
    order = s.order(bid.cloid)
    assert (order.state, order.filled) == (OrderState.PARTIAL_FILLED, 3)
    assert s.view().exposure.pending_bid == bid.size - 3


def test_D32_news_nothing_binds_is_asked_about_by_oid_and_applied_with_the_answer() -> None:
    """D32: the ack never comes (lost): the oid is asked about; the answer names our cloid,
    binds the oid, and the kept news is applied."""
    s, bid = _one_unacked_bid()
    s.handle(OrderUpdate(558, None, VenueStatus.CANCELED, "canceled"), s.now + 0.01)
    asked = queries(s.run(s.now + s.maker.params.answer_timeout + 0.2))
    assert QueryOrder(None, 558) in asked
    s.handle(OrderStatusReport(bid.cloid, 558, VenueStatus.CANCELED, "canceled"), s.now + 0.01)
    assert not s.order(bid.cloid).state.is_active


# ==== D33: a terminal status without its fills is a gap =======================================


def test_D33_filled_without_its_fills_is_fetched_within_a_bounded_time() -> None:
    """D33: "filled" arrives, its fills do not: the position used to stay one order short
    until the 30 s sync.  Now the fills are fetched by time after a short wait."""
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.handle(OrderUpdate(100, bid.cloid, VenueStatus.FILLED, "filled"), s.now + 0.01)
    assert s.maker.position.lots == 0
    sent = s.run(s.now + s.maker.params.fill_gap_wait + 0.3)
    (fetch,) = of_type(sent, FetchFills)
    assert fetch.lookback_s >= s.now - s.order(bid.cloid).placed_at
    s.handle(
        Fill(40, 100, bid.cloid, Side.BID, bid.price, bid.size, Liquidity.MAKER, snapshot=True),
        s.now + 0.02,
    )
    s.handle(FillsFetched(1))
    assert s.maker.position.lots == bid.size
    assert of_type(s.run(s.now + 10), FetchFills) == []


def test_D33_fills_that_arrive_on_their_own_need_no_fetch() -> None:
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.handle(OrderUpdate(100, bid.cloid, VenueStatus.FILLED, "filled"), s.now + 0.01)
    s.handle(Fill(41, 100, bid.cloid, Side.BID, bid.price, bid.size, Liquidity.MAKER), s.now + 0.3)
    assert of_type(s.run(s.now + 5), FetchFills) == []


@pytest.mark.parametrize("how", ["cancel with filled size", "status answer", "open orders row"])
def test_D33_any_venue_word_of_more_traded_than_counted_is_a_gap(how: str) -> None:
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    if how == "cancel with filled size":
        s.handle(
            OrderUpdate(100, bid.cloid, VenueStatus.CANCELED, "canceled", filled=3), s.now + 0.01
        )
    elif how == "status answer":
        s.handle(
            OrderStatusReport(bid.cloid, 100, VenueStatus.OPEN, "open", bid.size - 3, 3),
            s.now + 0.01,
        )
    else:
        row = VenueOrder(100, bid.cloid, Side.BID, bid.price, bid.size - 3, bid.size)
        s.maker.reconciler.trigger("test")
        s.tick(s.now + 1.1)
        s.handle(OpenOrders((row,)), s.now + 0.01)
        s.handle(PositionSnapshot(0))
    assert of_type(s.run(s.now + s.maker.params.fill_gap_wait + 0.3), FetchFills)


def test_D33_a_gap_the_fetch_cannot_close_goes_to_position_reconciliation() -> None:
    """D33/D16: the venue's fills do not show what its status said: after a few paced
    fetches, the position is checked against the venue's (a sync), and fetching stops."""
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.handle(OrderUpdate(100, bid.cloid, VenueStatus.FILLED, "filled"), s.now + 0.01)
    fetches = 0
    for _ in range(400):
        for _fetch in of_type(s.run(s.now + 0.1), FetchFills):
            fetches += 1
            s.handle(FillsFetched(0), s.now + 0.02)
    assert fetches == s.maker.fill_gaps.max_fetches
    assert "fills missing after fetching" in s.maker.reconciler.triggers


def test_D33_a_position_drift_fetches_the_fills_since_the_position_last_agreed() -> None:
    """D33/D16: a drift is not only re-checked (which never confirms while lost fills keep
    changing it): the fills since the two positions last agreed are fetched by time."""
    s, _ = levels(1)
    agreed = s.now
    s.run(s.now + 5.0)
    s.maker.reconciler.trigger("test")
    assert syncs(s.tick(s.now + 1.1))
    s.handle(OpenOrders(s.venue_orders()), s.now + 0.01)
    s.handle(PositionSnapshot(7))
    (fetch,) = of_type(s.run(s.now + s.maker.params.fill_gap_wait + 0.3), FetchFills)
    assert fetch.lookback_s >= s.now - agreed


def test_D33_a_drift_seen_while_a_fetch_is_on_its_way_is_fetched_after_it() -> None:
    """D33: a fetch answers what it asked for; a drift noted while it was on its way (and
    perhaps older than it looked) stays open for a fetch of its own (swarm seed 1301064)."""
    gaps = FillGaps(wait=1.0, pacing=RetryPacing(0.25, 8.0), timeout=5.0)
    gaps.note("0xabc", 5, since=10.0, now=20.0)
    plan = gaps.due(21.0)
    assert plan is not None
    gaps.note_drift(since=0.0, now=21.01)
    gaps.fetched(21.02, failed=False)
    later = gaps.due(22.1)
    assert later is not None and later.lookback_s >= 22.1, later


# ==== D34: salvage what is good ================================================================


def test_D34_an_unreadable_fill_row_is_counted_and_fetched_again() -> None:
    s, _ = levels(1)
    s.handle(MalformedMessage(Channel.FILLS, 1, 2, "malformed row: sz"), s.now + 0.01)
    view = s.view()
    assert view.counters.malformed_rows == 1
    assert any("malformed fills" in e.text for e in view.log)
    sent = s.run(s.now + s.maker.params.fill_gap_wait + 1.2)
    assert of_type(sent, FetchFills)
    assert syncs(sent)


def test_D34_a_snapshot_with_unreadable_rows_never_verifies_a_sweep() -> None:
    """D34/D25: an open-orders answer with a row we could not read may hide an order: it is
    not proof of an empty venue.  The sweep tries again; a row that stays unreadable fails it
    with the reason (quoting pauses), never a verification that goes on for ever."""
    s, _ = levels(1)
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    for _ in range(s.maker.params.sweep_attempts):
        assert s.maker.sweep_phase is SweepPhase.SWEEPING
        s.handle(CancelAllDone(0, 0), s.now + 0.01)
        s.handle(OpenOrders((), bad_rows=1), s.now + 0.01)
        s.handle(PositionSnapshot(0))
        assert s.maker.sweep_phase is not SweepPhase.VERIFIED
    assert s.maker.sweep_phase is SweepPhase.FAILED
    assert "unreadable rows" in s.view().mode_reason


# ==== D35: duplicates must agree ===============================================================


def test_D35_a_trade_id_repeated_with_different_content_is_counted_logged_and_reconciled() -> None:
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.handle(Fill(50, 100, bid.cloid, Side.BID, bid.price, 3, Liquidity.MAKER), s.now + 0.01)
    s.handle(Fill(50, 100, bid.cloid, Side.BID, bid.price, 5, Liquidity.MAKER), s.now + 0.01)
    assert s.maker.position.lots == 3
    view = s.view()
    assert view.counters.inconsistent_fills == 1
    assert any("trade id 50" in e.text for e in view.log)
    assert syncs(s.run(s.now + 1.2))
    s.handle(Fill(50, 100, bid.cloid, Side.BID, bid.price, 3, Liquidity.MAKER, snapshot=True))
    assert s.view().counters.inconsistent_fills == 1, "a faithful replay is no conflict"


def test_D35_an_unknown_status_string_is_counted_logged_and_asked_about() -> None:
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.handle(OrderUpdate(100, bid.cloid, VenueStatus.UNKNOWN, "expiredByRisk"), s.now + 0.01)
    view = s.view()
    assert view.counters.unknown_statuses == 1
    assert any("expiredByRisk" in e.text for e in view.log)
    assert [q.cloid for q in queries(s.run(s.now + 0.5))] == [bid.cloid]


# ==== D37: a halt says why, everywhere =========================================================


def _killed_by_a_rule() -> Rig:
    s, _ = levels(1)
    s.run(s.now + s.maker.params.risk.stale_data_s + 0.5, fresh_data=False)
    assert s.maker.mode is Mode.KILLED
    return s


def test_D37_the_headless_text_line_says_why_the_engine_was_killed() -> None:
    """D37: the text status line used to say only "KILLED"; the reason was in --json alone."""
    s = _killed_by_a_rule()
    reporter = HeadlessReporter(INSTRUMENT, json_lines=False, out=io.StringIO())
    line = reporter.line(s.view())
    assert "KILLED (stale market data" in line
    assert reporter.status(s.view())["mode_reason"].startswith("stale market data")


def test_D37_the_exit_summary_and_code_say_a_safety_rule_stopped_the_engine() -> None:
    """D37: exit code 3 whenever a safety rule stopped the engine, even with the venue left
    clean (a stale-data kill used to exit 0), and the summary says why."""
    s = _killed_by_a_rule()
    result = RunResult("stop", s.maker.mode, 0, 0, mode_reason=s.maker.view_mode_reason())
    assert result.clean and result.exit_code == 3
    summary = HeadlessReporter(INSTRUMENT, json_lines=True, out=io.StringIO()).summary(
        s.view(), result
    )
    assert summary["mode_reason"].startswith("stale market data")
    assert summary["exit_code"] == 3
    assert RunResult("stop", Mode.RUNNING, 0, 0).exit_code == 0
    assert RunResult("stop", Mode.HALTED, 0, 0, mode_reason="x").exit_code == 3


def test_D35_anomalies_are_shown_in_the_headless_output() -> None:
    s, first = levels(1)
    (bid,) = places(first, Side.BID)
    s.handle(OrderUpdate(100, bid.cloid, VenueStatus.UNKNOWN, "expiredByRisk"), s.now + 0.01)
    reporter = HeadlessReporter(INSTRUMENT, json_lines=False, out=io.StringIO())
    assert "anomalies 1 unknown statuses" in reporter.line(s.view())
    assert reporter.status(s.view())["anomalies"] == {"unknown_statuses": 1}
