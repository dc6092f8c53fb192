"""D13 (cancels never wait), D18 (the kill switch) and D25 (venue-wide cancel-all and its proof):
``core/maker/emergency.py`` and the sweep's table, ``core/maker/sweep.py``.

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

import random

from core.actions import CancelAllOrders, CancelOrder, Kill, Pause, Quit, Rearm, Resume
from core.commands import Cancel
from core.events import (
    AckStatus,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    OpenOrders,
    PlaceAck,
    PlaceRejected,
    RejectionClass,
    Side,
    VenueOrder,
)
from core.maker import JOIN_WINDOW_S, SweepPhase
from core.orders import OrderState
from core.view import Mode
from tests.maker.kit import (
    RATE_LIMITED,
    armed_recovery,
    three_levels,
    unmatched_fill,
)
from tests.maker_harness import (
    ASK,
    BID,
    INSTRUMENT,
    AutoVenue,
    Rig,
    book,
    cancel_alls,
    cancels,
    make_config,
    make_params,
    placements,
    places,
    running_maker,
    syncs,
    verify_empty,
)

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
    reason = s.view().kill_triggers[-1].reason
    long = INSTRUMENT.size_text(2 * limit + 1)
    assert reason.startswith(f"position runaway: {long} long beyond "), reason  # coin units


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


def _fail_the_sweep(s: Rig, listed: tuple[VenueOrder, ...]) -> None:
    """Answer every attempt of the sweep in flight with a venue that still lists ``listed``."""
    for _ in range(s.maker.params.sweep_attempts):
        assert s.maker.sweep_phase is SweepPhase.SWEEPING
        s.handle(CancelAllDone(0, len(listed)), s.now + 0.05)
        s.handle(OpenOrders(listed), s.now + 0.05)
    assert s.maker.sweep_phase is SweepPhase.FAILED


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
    s = armed_recovery()
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
