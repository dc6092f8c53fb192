"""D17 — position, PnL and worst-case exposure, all exact (ticks, lots, Fractions)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import Place
from core.events import AckStatus, CancelAck, Fill, Liquidity, PlaceAck, Side
from core.exposure import Exposure, Position, exposure
from core.orders import OrderTracker


def buy(pos: Position, lots: int, price: int) -> None:
    pos.apply(lots, lots * price)


def sell(pos: Position, lots: int, price: int) -> None:
    pos.apply(-lots, -lots * price)


# ---- Position ---------------------------------------------------------------------------


def test_average_entry_is_volume_weighted_D17():
    pos = Position()
    buy(pos, 10, 100)
    buy(pos, 30, 104)
    assert pos.lots == 40
    assert pos.average_entry == Fraction(10 * 100 + 30 * 104, 40) == 103
    buy(pos, 1, 101)
    assert pos.average_entry == Fraction(10 * 100 + 30 * 104 + 101, 41)  # exact, no float
    assert isinstance(pos.average_entry, Fraction)
    assert pos.fills == 3 and pos.volume == 41


def test_partial_close_realises_pnl_and_keeps_the_average_D17():
    pos = Position()
    buy(pos, 10, 100)
    sell(pos, 4, 110)
    assert pos.realized == 40
    assert pos.lots == 6
    assert pos.average_entry == 100


def test_flip_long_to_short_realises_the_long_and_opens_at_the_fill_price_D17():
    pos = Position()
    buy(pos, 10, 100)
    sell(pos, 15, 110)  # closes 10 at +10 each, opens 5 short at 110
    assert pos.realized == 100
    assert pos.lots == -5
    assert pos.average_entry == 110
    buy(pos, 5, 100)  # closes the short at +10 each
    assert pos.realized == 150
    assert pos.lots == 0
    assert pos.average_entry is None
    assert pos.cost == 0


def test_short_side_pnl_has_the_right_sign_D17():
    pos = Position()
    sell(pos, 10, 100)
    assert pos.average_entry == 100
    assert pos.unrealized(90) == 100  # short 10 from 100, mark 90: +100
    assert pos.unrealized(105) == -50
    buy(pos, 4, 90)
    assert pos.realized == 40
    assert pos.lots == -6 and pos.average_entry == 100
    buy(pos, 10, 120)  # closes 6 at -20 each, opens 4 long at 120
    assert pos.realized == 40 - 120
    assert pos.lots == 4 and pos.average_entry == 120
    assert pos.total_pnl(125) == -80 + 20


def test_unrealized_needs_a_mark_and_a_position_D17():
    pos = Position()
    assert pos.unrealized(100) == 0
    buy(pos, 2, 100)
    assert pos.unrealized(None) == 0
    assert pos.unrealized(103) == 6


def test_fractional_average_price_stays_exact_over_many_fills_D17():
    pos = Position()
    for _ in range(3):
        buy(pos, 1, 100)
    buy(pos, 1, 101)  # average 100.25
    for _ in range(3):
        sell(pos, 1, 101)  # each realises 0.75 exactly
    assert pos.realized == Fraction(9, 4)
    assert pos.average_entry == Fraction(401, 4)


def test_position_from_the_venue_D17():
    pos = Position(-5, entry_value=500)  # short 5 at 100
    assert pos.average_entry == 100
    buy(pos, 5, 90)
    assert pos.realized == 50
    pos.reset(8, entry_value=808)
    assert pos.lots == 8 and pos.average_entry == 101
    pos.reset(10, entry_value=None)  # same side, no entry price: keep the average
    assert pos.average_entry == 101
    pos.reset(-3, entry_value=None)  # side changed and no entry price: nothing to keep
    assert pos.cost == 0


def test_flat_position_carries_no_cost_D17():
    """A flat venue position that still reports an entry value must not leak that value into
    the next position's average entry."""
    pos = Position(0, entry_value=500)
    buy(pos, 10, 100)
    assert pos.average_entry == 100
    pos = Position(10, entry_value=1000)
    pos.reset(0, entry_value=1000)
    sell(pos, 5, 100)
    assert pos.average_entry == 100
    assert pos.realized == 0


def test_zero_fill_is_ignored_D17():
    pos = Position()
    pos.apply(0, 0)
    assert pos.fills == 0 and pos.lots == 0


fills = st.lists(
    st.tuples(st.integers(-20, 20).filter(bool), st.integers(90, 110)), min_size=1, max_size=40
)


@settings(max_examples=200, deadline=None)
@given(fills=fills, mark=st.integers(80, 120))
def test_pnl_is_conserved_D17(fills, mark):
    """Realised + unrealised equals the cash flow of all fills marked to market, exactly."""
    pos = Position()
    cash = 0
    for lots, price in fills:
        pos.apply(lots, lots * price)
        cash -= lots * price
    assert pos.lots == sum(lots for lots, _ in fills)
    assert pos.total_pnl(mark) == cash + pos.lots * mark
    if pos.lots:
        assert pos.average_entry is not None and 90 <= pos.average_entry <= 110


# ---- Exposure ---------------------------------------------------------------------------


def test_worst_case_and_notional_D17():
    ex = exposure(
        position=3,
        pending_lots={Side.BID: 10, Side.ASK: 4},
        pending_value={Side.BID: 990, Side.ASK: 404},
        max_position=12,
    )
    assert isinstance(ex, Exposure)
    assert ex.pending_bid == 10 and ex.pending_ask == 4
    assert ex.net_pending_change == 6
    assert ex.worst_case_max_position == 13  # every bid fills
    assert ex.worst_case_min_position == -1  # every ask fills
    assert ex.bid_notional == 990 and ex.ask_notional == 404
    assert ex.breaches_long and not ex.breaches_short and ex.breached


def test_worst_case_breach_flags_are_strict_D17():
    at_limit = exposure(0, {Side.BID: 5, Side.ASK: 5}, {Side.BID: 0, Side.ASK: 0}, 5)
    assert not at_limit.breached
    short = exposure(-2, {Side.BID: 0, Side.ASK: 4}, {Side.BID: 0, Side.ASK: 0}, 5)
    assert short.worst_case_min_position == -6
    assert short.breaches_short and not short.breaches_long and short.breached


def test_exposure_from_the_tracker_counts_pending_and_unanswered_cancels_D17():
    """Worst case includes orders not yet acked and cancels not yet answered; a confirmed
    cancel or a fill takes the size out."""
    tracker = OrderTracker()
    tracker.track_place(Place("b1", Side.BID, 100, 10), now=0.0)  # PendingNew
    tracker.track_place(Place("b2", Side.BID, 99, 5), now=0.0)
    tracker.track_place(Place("a1", Side.ASK, 102, 7), now=0.0)
    tracker.on_place_ack(PlaceAck("b2", 2, AckStatus.RESTING), now=0.1)
    tracker.on_place_ack(PlaceAck("a1", 3, AckStatus.RESTING), now=0.1)
    tracker.cancel_sent("b2", now=0.2)  # CancelPending: may still fill
    ex = exposure(0, tracker.pending_lots, tracker.pending_value, max_position=12)
    assert (ex.pending_bid, ex.pending_ask) == (15, 7)
    assert ex.bid_notional == 10 * 100 + 5 * 99
    assert ex.ask_notional == 7 * 102
    assert ex.worst_case_max_position == 15 and ex.breaches_long

    tracker.on_cancel_ack(CancelAck("b2", 2), now=0.3)
    tracker.on_fill(Fill(1, 3, "a1", Side.ASK, 102, 3, Liquidity.MAKER), now=0.4)
    ex = exposure(-3, tracker.pending_lots, tracker.pending_value, max_position=12)
    assert (ex.pending_bid, ex.pending_ask) == (10, 4)
    assert ex.bid_notional == 1000 and ex.ask_notional == 4 * 102
    assert ex.worst_case_max_position == 7 and ex.worst_case_min_position == -7
    assert not ex.breached
