"""Edges of D13, D19, D25 and D29-D34 that a review of issue 14's first fixes found broken.

Each failed on the maker before its fix: an operator's cancel refused while paused (or of an
adopted order) never retried; a held cancel-all key during a 429 storm sending a sweep per
press; an unreadable open-orders row keeping a sweep verifying for ever; a live start-up whose
verifications fail (not rate-limited) never halting; a start-up retry whose answer is lost never
sent again; queries by oid outside the query budget; a runaway position adopted at start-up
judged only at the next tick; a late cancel of a partly filled order read as "all of it traded".
Scenarios run the real ``MarketMaker`` on the virtual clock of ``tests.maker_harness``.
"""

from __future__ import annotations

from core.actions import CancelAllOrders, CancelOrder, Pause
from core.commands import CancelAll, FetchFills, SyncState
from core.events import (
    CancelAck,
    CancelAllDone,
    CancelRejected,
    Connected,
    Fill,
    FillsFetched,
    Liquidity,
    OpenOrders,
    OrderUpdate,
    PositionSnapshot,
    RejectionClass,
    Side,
    SyncFailed,
    Trade,
    VenueOrder,
    VenueStatus,
)
from core.maker import QUERY_BURST, MarketMaker, SweepPhase
from core.view import Mode
from tests.maker_harness import (
    BID,
    INSTRUMENT,
    LaggyVenue,
    Rig,
    book,
    cancel_alls,
    cancels,
    make_params,
    of_type,
    places,
    queries,
    quoting,
    syncs,
)

RATE_LIMITED = "HTTP 429 Too Many Requests"


def _quoting(**overrides: object) -> tuple[Rig, list]:
    return quoting(make_params(**overrides) if overrides else None)


def _refuse(s: Rig, cloid: str, oid: int | None) -> None:
    s.handle(
        CancelRejected(cloid, oid, RATE_LIMITED, False, RejectionClass.RATE_LIMIT), s.now + 0.02
    )


# ---- 1. cancels that are never retried (D13, D29) -----------------------------------------


def test_D13_an_operator_cancel_refused_while_paused_is_retried() -> None:
    """D13/D28/D29: the operator paused keeping orders, then cancelled one; the venue said
    429.  The cancel is retried, paced, until it goes -- a paused side's orders are not the
    executor's to touch, so it once rested for as long as the pause lasted."""
    s, first = _quoting()
    (bid,) = places(first, Side.BID)
    s.operate(Pause(cancel_orders=False), s.now + 0.01)
    assert cancels(s.operate(CancelOrder(bid.cloid), s.now + 0.01))
    _refuse(s, bid.cloid, 100)
    later = s.run(s.now + 10.0)
    assert [c for c in cancels(later) if c.cloid == bid.cloid], "the refused cancel is retried"


def test_D13_an_operator_cancel_of_an_adopted_order_refused_is_retried() -> None:
    """D13/D29: an adopted order (no ladder level, so no intent) cancelled by the operator and
    refused with a 429 is sent again (the executor, which walks intents only, never did)."""
    s, _ = _quoting(unknown_orders="adopt")
    s.maker.reconciler.trigger("test")
    assert syncs(s.tick(s.now + 1.1))
    foreign = VenueOrder(999, None, Side.BID, 9_000, 5, 5)
    s.handle(OpenOrders((*s.venue_orders(), foreign)), s.now + 0.01)
    s.handle(PositionSnapshot(0))
    adopted = s.maker.tracker.get(None, 999)
    assert adopted is not None and adopted.adopted
    assert cancels(s.operate(CancelOrder(adopted.cloid), s.now + 0.01))
    _refuse(s, adopted.cloid, 999)
    later = s.run(s.now + 10.0)
    assert [c for c in cancels(later) if c.oid == 999], "the refused cancel is retried"


def test_D29_a_cancel_all_key_held_during_a_rate_limit_is_not_a_burst_of_sweeps() -> None:
    """D29: a cancel-all key held down is not a burst of venue-wide sweeps, in a 429 storm
    too: the answer comes back in one round trip and the sweep waits (RETRYING), and a press
    within JOIN_WINDOW_S of the last cancel-all sent joins it (once, 60 went out in 3 s)."""
    s, _ = _quoting()
    venue = LaggyVenue(s, rtt=0.02)
    t0 = s.now + 0.1
    venue.storm = (t0, t0 + 10.0)
    venue.send(s.operate(CancelAllOrders("first"), t0), t0)
    mark = len(s.sent)
    t = t0
    while t < t0 + 3.0:
        t = round(t + 0.05, 9)
        venue.run(t)
        venue.send(s.operate(CancelAllOrders("key held"), t), t)
    sent = len(cancel_alls(s.sent[mark:]))
    assert sent <= 4, f"{sent} cancel-alls in 3 s during a rate limit"


# ---- 2. sweeps that never end (D25, D34, D19, D29) ---------------------------------------


def _answer_syncs_for(s: Rig, out: list, seconds: float, answer) -> int:
    """Drive ticks (with fresh data) for ``seconds``; every SyncState gets ``answer(s)``.
    CancelAlls are answered as done.  Returns how many syncs were sent."""
    n = 0
    until = s.now + seconds
    while s.now < until:
        for cmd in out:
            if isinstance(cmd, SyncState):
                n += 1
                answer(s)
            elif isinstance(cmd, CancelAll):
                s.handle(CancelAllDone(0, 0), s.now + 0.02)
        t = round(s.now + 0.1, 9)
        out = s.handle(Trade(Side.BID, BID, 1), t) + s.tick(t)
    return n


def test_D25_D34_a_permanently_unreadable_row_does_not_keep_a_sweep_verifying_for_ever() -> None:
    """D25/D34/D29: an open-orders row the adapter can never read (the same row every time)
    is a failed attempt each time, so the sweep ends (failed, with the reason) instead of
    verifying for ever with a sync every 0.3 s, quoting held, a quit never quiescent."""
    s, _ = _quoting()
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    for order in list(s.maker.tracker.non_terminal()):
        s.handle(CancelAck(order.cloid, order.oid), s.now + 0.01)
    out = s.handle(CancelAllDone(2, 0), s.now + 0.01)

    def unreadable(s: Rig) -> None:
        s.handle(OpenOrders((), bad_rows=1), s.now + 0.01)
        s.handle(PositionSnapshot(0))

    n = _answer_syncs_for(s, out, 120.0, unreadable)
    assert s.maker.sweep_phase is not SweepPhase.VERIFYING, f"still verifying after {n} syncs"
    assert n <= 60, f"{n} verification syncs in two minutes"


def test_D19_a_live_start_up_whose_verification_syncs_keep_failing_halts() -> None:
    """D19/D29: only a rate-limited verification is a paced retry; one the venue can never
    answer (a 502) is a failed attempt, so a live start-up halts with a clear message (it
    once stayed STARTING for ever, every failure pushing the sweep's deadline out)."""
    s = Rig(MarketMaker(make_params(live=True), INSTRUMENT))
    s.start(0.0)
    s.handle(OpenOrders(()), 0.01)
    assert cancel_alls(s.handle(PositionSnapshot(0), 0.02))
    out = s.handle(CancelAllDone(0, 0), 0.05)

    def bad_gateway(s: Rig) -> None:
        s.handle(SyncFailed("HTTP 502 Bad Gateway"), s.now + 0.02)

    _answer_syncs_for(s, out, 120.0, bad_gateway)
    assert s.maker.mode is Mode.HALTED, (s.maker.mode, s.maker.sweep_phase)


def test_D19_D24_a_start_up_retry_whose_answer_is_lost_is_sent_again() -> None:
    """D19/D24: the start-up sync failed (429), the paced retry went out and its answer was
    lost: that is a failure too, and the sync is sent again (the reconciler's timeout used to
    be polled only once start-up was over: nothing was ever sent again)."""
    s = Rig(MarketMaker(make_params(live=True), INSTRUMENT))
    s.start(0.0)
    s.handle(SyncFailed(RATE_LIMITED, rate_limited=True), 0.02)
    sent = syncs(s.run(60.0))
    assert len(sent) >= 2 or s.maker.mode is Mode.HALTED, (sent, s.maker.mode)


# ---- 3. D29: status queries by oid bypass the query budget --------------------------------


def test_D29_queries_by_oid_go_through_the_query_budget() -> None:
    """D29/D32: oid-only news nothing binds is asked about by oid within the query budget
    (burst 10, 5/s): sixty venue cancels of another process's orders (oid only) once became
    sixty status queries in one tick."""
    s, _ = _quoting()
    t = s.now + 0.01
    for i in range(60):
        s.handle(OrderUpdate(50_000 + i, None, VenueStatus.VENUE_CANCELED, "marginCanceled"), t)
    per_tick = [len(queries(s.tick(round(s.now + 0.1, 9)))) for _ in range(80)]
    assert max(per_tick) <= QUERY_BURST, f"{max(per_tick)} status queries in one tick"


# ---- 4. D30: risk on the position that start-up adopts -------------------------------------


def test_D30_a_runaway_position_adopted_at_start_up_kills_before_any_quote() -> None:
    """D30/D18: risk is judged when the start-up sweep verifies: with a venue position past
    the kill threshold no book event may quote first (one did, in RUNNING mode, the kill
    waiting for the next timer tick)."""
    params = make_params()
    runaway = params.risk.kill_position + 5
    s = Rig(MarketMaker(params, INSTRUMENT))
    s.start(0.0)
    s.handle(OpenOrders(()), 0.01)
    s.handle(PositionSnapshot(runaway), 0.02)
    s.handle(CancelAllDone(0, 0), 0.03)
    s.handle(OpenOrders(()), 0.04)
    s.handle(PositionSnapshot(runaway))
    s.tick(0.04 + params.verify_gap)
    s.handle(OpenOrders(()), s.now + 0.01)
    s.handle(PositionSnapshot(runaway))
    s.handle(Connected("sim"), s.now + 0.1)
    first = s.handle(book(), s.now + 0.1)
    assert places(first) == [], "quoted on a runaway position"
    assert s.maker.mode is Mode.KILLED


# ---- 5. D33: a false fill gap --------------------------------------------------------------


def test_D33_late_cancel_news_for_a_partly_filled_cancelled_order_opens_no_gap() -> None:
    """D33: only a "filled" status without an amount means "all of it traded"; a late
    "canceled" for a partly filled, cancelled order (a nonUserCancel never carries an amount)
    once opened a gap for the whole size: three fill fetches and a "fills missing" reconcile
    for fills that never existed."""
    s, first = _quoting()
    (bid,) = places(first, Side.BID)
    s.operate(CancelOrder(bid.cloid), s.now + 0.01)
    s.handle(Fill(70, 100, bid.cloid, Side.BID, bid.price, 3, Liquidity.MAKER), s.now + 0.01)
    s.handle(CancelAck(bid.cloid, 100), s.now + 0.01)
    s.run(s.now + 1.5)
    assert s.order(bid.cloid).filled == 3
    s.handle(OrderUpdate(100, bid.cloid, VenueStatus.CANCELED, "canceled"), s.now + 0.01)
    fetches = 0
    for _ in range(100):
        for _fetch in of_type(s.run(s.now + 0.1), FetchFills):
            fetches += 1
            s.handle(FillsFetched(0), s.now + 0.02)
    assert fetches == 0
    assert "fills missing after fetching" not in s.maker.reconciler.triggers
