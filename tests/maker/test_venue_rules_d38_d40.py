"""D38 (provisional fills), D39 (the grid moves) and D40 (the dead-man switch) in the maker.

A fill the venue may still undo moves the position at once and is shown pending; the worst
case counts it both ways; a FAILED trade is reversed exactly once, whatever order the venue's
words arrive in and however often they repeat, leaving no trace in position, entry, realised
PnL or fees.  A tick-size change re-grids at once and the old grid's refusals are not held
against us.  A lapsed heartbeat means every order is gone: sweep, verify, hold until the venue
takes heartbeats again.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import Place, TimeInForce
from core.events import (
    FillSettled,
    HeartbeatState,
    OrderUpdate,
    PlaceRejected,
    PositionSnapshot,
    RejectionClass,
    Side,
    TickSizeChanged,
    VenueStatus,
)
from core.exposure import Position
from core.maker import MakerParams
from core.maker.reconciling import SETTLED_QUIET_S
from core.settlement import Settlements
from core.strategy import NoQuoteReason, Quote, StrategyParams, desired_ladder
from core.units import Instrument
from core.view import Mode
from tests.maker_harness import (
    cancel_alls,
    cancels,
    fill,
    make_config,
    places,
    quoting,
    running_maker,
    settle,
    verify_empty,
)


def _provisional(tid: int, order, size: int, price: int | None = None):  # type: ignore[no-untyped-def]
    return dataclasses.replace(fill(tid, order, size=size, price=price), final=False)


# ---- D38 --------------------------------------------------------------------------------


def test_D38_a_provisional_fill_moves_the_position_and_shows_pending() -> None:
    s, first = quoting()
    (bid,) = places(first, Side.BID)[:1]
    s.handle(_provisional(1, bid, 3), s.now + 0.01)
    view = s.view()
    assert view.position == 3
    ex = view.exposure
    assert (ex.unsettled_bought, ex.unsettled_sold, ex.confirmed_position) == (3, 0, 0)
    # The worst case counts the pending buy both ways: it may vanish.
    assert ex.worst_case_min_position == 3 - ex.pending_ask - 3
    assert view.fills[-1].flagged == "pending"
    s.handle(FillSettled(1, True, "CONFIRMED"), s.now + 0.01)
    view = s.view()
    assert view.position == 3 and view.exposure.unsettled_bought == 0
    assert view.exposure.confirmed_position == 3
    assert view.fills[-1].flagged == ""


def test_D38_a_failed_trade_is_reversed_exactly_once_and_leaves_no_trace() -> None:
    s, first = quoting()
    (bid,) = places(first, Side.BID)[:1]
    (ask,) = places(first, Side.ASK)[:1]
    s.handle(fill(1, bid, size=10), s.now + 0.01)  # final: 10 long at the bid
    before = (s.maker.position.lots, s.maker.position.cost, s.maker.position.realized)
    paid = dataclasses.replace(_provisional(2, ask, 4), fee=1_000, fee_token="USDC")
    s.handle(paid, s.now + 0.01)  # a provisional sell closes 4 at the ask: PnL realised
    assert s.maker.position.realized > 0 and s.maker.costs.fees == 1_000
    for _ in range(3):  # told again and again: reversed once
        s.handle(FillSettled(2, False, "FAILED"), s.now + 0.01)
        s.handle(dataclasses.replace(paid, snapshot=True), s.now + 0.01)
    p = s.maker.position
    assert (p.lots, p.cost, p.realized) == before
    assert s.maker.costs.fees == 0
    view = s.view()
    assert view.counters.failed_fills == 1
    assert view.fills[-1].flagged == "FAILED"
    assert any("FAILED at the venue: reversed" in e.text for e in view.log)


def test_D38_failed_before_its_fill_arrives_never_moves_the_position() -> None:
    s, first = quoting()
    (bid,) = places(first, Side.BID)[:1]
    s.handle(FillSettled(7, False, "FAILED"), s.now + 0.01)
    s.handle(_provisional(7, bid, 2), s.now + 0.01)
    view = s.view()
    assert view.position == 0 and view.exposure.unsettled_bought == 0
    assert view.fills[-1].flagged == "FAILED"
    s.handle(FillSettled(8, True, "CONFIRMED"), s.now + 0.01)  # confirmed first: final
    s.handle(_provisional(8, bid, 2), s.now + 0.01)
    assert s.view().position == 2 and s.view().exposure.unsettled_bought == 0


def test_D38_asks_of_an_unshortable_token_offer_only_confirmed_shares() -> None:
    """Pitfall 4 of the reference: shares from a MATCHED buy cannot be sold before they
    settle -- the ask side sizes on the confirmed position."""
    inst = Instrument.polymarket("YES", Decimal("0.01"), Decimal("5"))
    params = StrategyParams(
        levels=2,
        level_spacing_ticks=100,
        half_spread_ticks=100,
        size_lots=1000,
        max_position_lots=10_000,
        size_step_lots=0,
        skew_ticks_per_lot=0.0,
    )
    ladder = desired_ladder(inst, 4900, 5100, 1500, params, sellable=600)
    assert sum(q.size for q in ladder.asks) == 600 or not ladder.asks
    assert ladder.asks == () or all(q.size >= inst.min_lots for q in ladder.asks)
    flat = desired_ladder(inst, 4900, 5100, 0, params, sellable=0)
    assert flat.asks == () and flat.ask_reason is NoQuoteReason.NO_SHARES
    few = desired_ladder(inst, 4900, 5100, 484, params, sellable=484)  # 4.84 < 5 shares
    assert few.asks == () and few.ask_reason is NoQuoteReason.NO_SHARES


def test_binary_prices_stay_inside_zero_and_one_on_the_grid() -> None:
    inst = Instrument.polymarket("YES", Decimal("0.01"), Decimal("5"))
    params = StrategyParams(
        levels=3,
        level_spacing_ticks=100,
        half_spread_ticks=50,
        size_lots=500,
        max_position_lots=100_000,
        size_step_lots=0,
        skew_ticks_per_lot=0.0,
    )
    high = desired_ladder(inst, 9800, 9900, 50_000, params)
    assert all(q.price <= inst.max_ticks and q.price % 100 == 0 for q in high.asks)
    assert all(q.price % 100 == 0 for q in high.bids)
    low = desired_ladder(inst, 100, 200, 0, params)
    assert all(q.price >= inst.min_ticks and q.price % 100 == 0 for q in low.bids)
    assert len(low.bids) <= 1


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-50, 50).filter(bool),  # signed lots
            st.integers(1, 9_999),  # price
            st.booleans(),  # provisional
        ),
        min_size=1,
        max_size=25,
    ),
    st.data(),
)
def test_D38_any_failures_leave_exactly_the_position_without_them(
    trades: list[tuple[int, int, bool]], data: st.DataObject
) -> None:
    """Property: after any mix of final and provisional fills and any subset of them failing,
    in any order, the position, entry and realised PnL are those of the fills that stood."""
    book = Settlements()
    position = Position()
    for tid, (lots, price, provisional) in enumerate(trades):
        book.before_move(position, not provisional)
        position.apply(lots, lots * price)
        book.moved(tid, lots, lots * price)
        if provisional:
            book.hold(tid, lots, lots * price, 0, "")
    pending = [t for t, (_, _, p) in enumerate(trades) if p]
    failing = data.draw(st.lists(st.sampled_from(pending), unique=True) if pending else st.just([]))
    order = data.draw(st.permutations(pending))
    for tid in order:
        book.settle(tid, tid not in failing, position)
        book.settle(tid, False, position)  # a repeat changes nothing
    stood = Position()
    for tid, (lots, price, _) in enumerate(trades):
        if tid not in failing:
            stood.apply(lots, lots * price)
    assert (position.lots, position.cost, position.realized) == (
        stood.lots,
        stood.cost,
        stood.realized,
    )
    assert book.bought == book.sold == 0 and not book.pending
    assert isinstance(position.realized, Fraction)


# ---- D39 --------------------------------------------------------------------------------


PM = Instrument.polymarket("YES", Decimal("0.001"), Decimal("5"))


def _pm_quoting():  # type: ignore[no-untyped-def]
    config = make_config(
        strategy={"size": "10", "half_spread_ticks": 35, "level_spacing_ticks": 20, "levels": 3},
        risk={"max_position": "500"},
    )
    params = MakerParams.from_config(config, PM, live=False)
    s, first = running_maker(params, instrument=PM, bid=4800, ask=5200)
    s.ack_all(first, 100)
    settle(s)
    return s, first


def test_D39_a_coarser_grid_cancels_what_is_off_it_and_old_refusals_are_not_ours() -> None:
    s, first = _pm_quoting()
    resting = places(first)
    off = [p for p in resting if p.price % 100]
    assert off, "a ladder on 0.001 must have prices off the 0.01 grid"
    out = s.handle(TickSizeChanged(100, "0.01"), s.now + 0.01)
    assert {c.cloid for c in cancels(out)} >= {p.cloid for p in off}
    assert s.maker.instrument.grid == 100
    assert all(p.price % 100 == 0 for p in places(out) + places(s.run(s.now + 1.0)))
    before = s.view().counters.rejections
    s.handle(
        PlaceRejected(
            off[0].cloid,
            f"order {off[0].cloid} is invalid. Price (0.485) breaks minimum tick size rule: 0.01",
            RejectionClass.PRICE_ERROR,
        ),
        s.now + 0.01,
    )
    view = s.view()
    assert view.counters.rejections == before
    assert view.counters.tick_changes == 1
    assert all(b.remaining == 0 for b in view.backoff)


def test_D39_a_grid_the_market_cannot_take_is_shown_never_a_crash() -> None:
    s, _ = quoting()  # a Hyperliquid-shaped instrument: a significant-figure grid
    s.handle(TickSizeChanged(10, "0.1"), s.now + 0.01)
    s.handle(TickSizeChanged(0, "0"), s.now + 0.01)
    view = s.view()
    assert s.maker.instrument.grid == 1
    assert view.counters.venue_notices == 2
    assert any("tick size change" in e.text and "refused" in e.text for e in view.log)


# ---- D40 --------------------------------------------------------------------------------


def test_D40_a_lapsed_heartbeat_sweeps_holds_and_resumes_when_beats_return() -> None:
    s, _ = quoting()
    s.handle(HeartbeatState(True, False, "armed"), s.now + 0.01)
    out = s.handle(HeartbeatState(True, True, "no answer for 10 s"), s.now + 0.01)
    assert cancel_alls(out), "a lapse means every order may be gone: sweep (D40)"
    for order in list(s.maker.tracker.by_cloid.values()):  # the venue's cancellations
        s.handle(OrderUpdate(order.oid, None, VenueStatus.CANCELED, "CANCELED"), s.now + 0.01)
    verify_empty(s)
    view = s.view()
    assert view.heartbeat is not None and view.heartbeat.lapsed
    assert "heartbeat lapsed" in (view.side_reasons[Side.BID] or "")
    assert not places(s.run(s.now + 2.0)), "no quoting while the switch is lapsed"
    s.handle(HeartbeatState(True, False, "accepted"), s.now + 0.01)
    assert places(s.run(s.now + 2.0)), "quoting resumes by rule once beats are accepted"
    assert s.maker.mode is Mode.RUNNING
    assert s.view().counters.heartbeat_lapses == 1


# ---- the review's findings on the maker side ----------------------------------------------


def test_D23_the_price_fence_never_pushes_an_ask_past_one() -> None:
    s, _ = _pm_quoting()
    m = s.maker
    top, bottom = m.instrument.max_ticks, m.instrument.min_ticks  # 0.999 and 0.001
    m._fences[Side.ASK] = (top, s.now + 10)  # a post-only refusal of our ask at 0.999
    assert m._fenced(Side.ASK, (Quote(Side.ASK, 0, top, 500, False),), s.now) == ()
    m._fences[Side.BID] = (bottom, s.now + 10)  # and a bid refused at 0.001: none below it
    assert m._fenced(Side.BID, (Quote(Side.BID, 0, bottom, 500, False),), s.now) == ()


def test_D38_D16_a_drift_seen_while_fills_settle_is_never_adopted() -> None:
    """The venue's balance lags or leads the stream around settlement: two looks at the same
    drift while a fill is pending (or just settled) adopt nothing; once quiet, they do."""
    s, first = _pm_quoting()
    (bid,) = places(first, Side.BID)[:1]
    s.handle(_provisional(1, bid, 300), s.now + 0.01)
    for _ in range(2):  # the balance without the pending buy, twice
        s.handle(PositionSnapshot(0, None, venue_time=s.now + 0.02), s.now + 0.05)
    assert s.maker.position.lots == 300
    assert any("while trades settle" in e.text for e in s.view().log)
    s.handle(FillSettled(1, True, "CONFIRMED"), s.now + 0.01)
    s.handle(PositionSnapshot(0, None, venue_time=s.now + 0.02), s.now + 0.05)  # lagging
    s.handle(PositionSnapshot(0, None, venue_time=s.now + 0.02), s.now + 0.05)
    assert s.maker.position.lots == 300, "just settled: the balance may lag"
    later = s.now + SETTLED_QUIET_S + 1
    s.handle(PositionSnapshot(250, None, venue_time=later), later)
    s.handle(PositionSnapshot(250, None, venue_time=later + 0.5), later + 0.5)
    assert s.maker.position.lots == 250, "quiet again: a real drift is adopted (D16)"


def test_D38_a_recovery_ioc_sells_only_settled_shares() -> None:
    s, _ = _pm_quoting()
    m = s.maker
    m.position.apply(1500, 1500 * 5000)  # 15 shares held, 6 of them still settling
    m.settlements.hold(99, 600, 600 * 5000, 0, "", s.now)
    m.settlements.bought = 600

    class Wanted:
        side = Side.ASK
        price = 4700
        size = 1500
        reduce_only = True

    m.recovery.update = lambda *a, **k: Wanted()  # type: ignore[method-assign]
    out = m._recovery(s.now)
    iocs = [c for c in out if isinstance(c, Place)]
    assert iocs and iocs[0].size == 900 and iocs[0].tif is TimeInForce.IOC
    m.settlements.bought = 1100  # 4 settled shares: below the venue's 5-share minimum
    assert not [c for c in m._recovery(s.now + 1) if isinstance(c, Place)]
