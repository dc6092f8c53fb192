"""D19: restart is idempotent (``core/maker/startup.py``).

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

from core.actions import Kill, Rearm
from core.events import (
    CancelAllDone,
    Connected,
    Fill,
    Liquidity,
    OpenOrders,
    PositionSnapshot,
    Side,
    SyncFailed,
    VenueOrder,
)
from core.maker import MarketMaker, SweepPhase
from core.view import Mode
from tests.maker_harness import (
    ASK,
    BID,
    INSTRUMENT,
    Rig,
    book,
    cancel_alls,
    make_config,
    make_params,
    placements,
    places,
)

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
