"""D27 (one reason per idle side) and D28 (pause is not stop): ``core/maker/lifecycle.py``.

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

import pytest

from core.actions import CancelOrder, Kill, Pause, Resume
from core.commands import Cancel, Modify, Place
from core.events import (
    CancelAck,
    CancelAllDone,
    Disconnected,
    OpenOrders,
    PlaceRejected,
    RejectionClass,
    Side,
    SyncFailed,
)
from core.maker import MarketMaker, SweepPhase
from core.orders import OrderState
from core.view import Mode
from tests.maker.kit import (
    MARGIN,
    armed_recovery,
    unmatched_fill,
)
from tests.maker_harness import (
    ASK,
    BID,
    INSTRUMENT,
    Rig,
    assert_idle_sides_say_why,
    book,
    cancel_alls,
    fill,
    make_config,
    make_params,
    placements,
    places,
    running_maker,
    settle,
    syncs,
)

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
    s = armed_recovery()
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
