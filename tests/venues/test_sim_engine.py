"""The matching engine holds several markets: one book each, one cross-margin account."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import Place, TimeInForce
from core.events import (
    CancelAck,
    CancelAllDone,
    CancelRejected,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    RejectionClass,
    Side,
    VenueStatus,
)
from core.units import Instrument
from core.venues.sim.accounts import Account
from core.venues.sim.dialect import HYPERLIQUID
from core.venues.sim.engine import Market, MatchingEngine

BID = Side.BID
ALO = TimeInForce.ALO


def test_several_markets_have_their_own_books_and_share_one_margin_account() -> None:
    engine = MatchingEngine()
    eth = Market(Instrument.hyperliquid_perp("ETH", 4, 25, asset_id=1), 10**6, 300_000, HYPERLIQUID)
    btc = Market(Instrument.hyperliquid_perp("BTC", 5, 40, asset_id=0), 10**6, 600_000, HYPERLIQUID)
    engine.add_market(eth)
    engine.add_market(btc)
    account = engine.open_account("a", collateral=1_000 * 10**6, leverage=10, replay_fills=10)
    engine.place(account, eth, Place("e1", BID, 299_000, 20_000, ALO), 0.0, 1)  # $5,980
    engine.place(account, btc, Place("b1", BID, 590_000, 1_000, ALO), 0.0, 2)  # $590
    engine.place(account, btc, Place("b2", BID, 590_000, 10_000, ALO), 0.0, 3)  # $5,900
    answers = engine.answers
    assert [type(a) for a in answers] == [PlaceAck, PlaceAck, PlaceRejected]
    rejected = answers[2]
    assert isinstance(rejected, PlaceRejected)
    assert rejected.reason == "Insufficient margin to place order. asset=0"  # BTC's asset id
    assert rejected.rclass is RejectionClass.MARGIN
    assert eth.book.best_bid() == 299_000 and btc.book.best_bid() == 590_000
    assert btc.book.level_size(BID, 590_000) == 1_000


def _one_market() -> tuple[MatchingEngine, Market, Account]:
    engine = MatchingEngine()
    eth = Market(Instrument.hyperliquid_perp("ETH", 4, 25, asset_id=1), 10**6, 300_000, HYPERLIQUID)
    engine.add_market(eth)
    account = engine.open_account("a", collateral=10**12, leverage=10, replay_fills=10)
    return engine, eth, account


def test_a_venue_close_takes_the_order_off_the_book_and_the_account_D31() -> None:
    """D31: the venue's own cancel or rejection leaves the book and the account's open orders,
    and the status the stream names is what a status query answers afterwards."""
    engine, eth, account = _one_market()
    engine.place(account, eth, Place("e1", BID, 299_000, 20_000, ALO), 0.0, 1)
    engine.place(account, eth, Place("e2", BID, 298_000, 20_000, ALO), 0.0, 1)
    engine.stream.clear()
    first, second = account.exposure("ETH").open.values()
    engine.venue_close(account, eth, first, "marginCanceled", 1.0)
    engine.venue_close(account, eth, second, "scheduledCancel", 1.0, non_user=True)
    assert engine.stream == [
        OrderUpdate(first.oid, "e1", VenueStatus.VENUE_CANCELED, "marginCanceled", None, 1.0, 0),
        OrderUpdate(second.oid, None, VenueStatus.VENUE_CANCELED, "nonUserCancel", None, 1.0),
    ]
    assert account.exposure("ETH").open == {} and account.exposure("ETH").open_bid_value == 0
    assert eth.book.best_bid() is None
    report = engine.status(account, eth, second.oid, None)
    assert (report.cloid, report.status, report.raw_status) == (
        "e2",
        VenueStatus.VENUE_CANCELED,
        "scheduledCancel",
    )


def test_a_cancel_all_refused_item_by_item_counts_what_failed_D25_D29() -> None:
    """D29: the cancels a storm refuses keep their orders resting; the sweep says how many."""
    engine, eth, account = _one_market()
    for i in range(4):
        engine.place(account, eth, Place(f"e{i}", BID, 299_000 - 100 * i, 10_000, ALO), 0.0, 1)
    engine.answers.clear()
    refusals = iter((True, False, True, False))
    engine.cancel_all(account, eth, 1.0, 7, lambda: next(refusals))
    kinds = [type(a) for a in engine.answers]
    assert kinds == [CancelRejected, CancelAck, CancelRejected, CancelAck, CancelAllDone]
    assert engine.answers[-1] == CancelAllDone(2, 2, 7)
    assert [o.cloid for o in account.exposure("ETH").open.values()] == ["e0", "e2"]


def _equity_reference(engine: MatchingEngine, account: Account) -> int:
    """The equity as exact fractions, the way it was computed before integers."""
    total = account.collateral + account.realized - account.fees + account.funding
    for symbol, ex in account.exposures.items():
        m = engine.markets[symbol]
        signed_entry = ex.entry_value if ex.position >= 0 else -ex.entry_value
        total += (ex.position * m.mark - signed_entry) * m.micro
    return math.floor(total)


@settings(max_examples=400, deadline=None)
@given(
    collateral=st.integers(0, 10**12),
    fees=st.integers(-(10**7), 10**7),
    funding=st.integers(-(10**7), 10**7),
    realized=st.fractions(max_denominator=10**6).map(lambda f: f * 10**6),
    moves=st.lists(
        st.tuples(st.sampled_from(["ETH", "BTC"]), st.integers(-500, 500), st.integers(1, 10**6)),
        max_size=12,
    ),
    marks=st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)),
)
def test_equity_in_integers_is_the_floor_of_the_exact_sum(
    collateral: int,
    fees: int,
    funding: int,
    realized: Fraction,
    moves: list[tuple[str, int, int]],
    marks: tuple[int, int],
) -> None:
    """The margin and liquidation checks read ``equity`` with integers alone; it is the same
    floor as the sum of the exact realised PnL and entry values (average cost leaves them
    with any denominator), in one market or several."""
    engine = MatchingEngine()
    eth = Market(
        Instrument.hyperliquid_perp("ETH", 4, 25, asset_id=1), 10**6, marks[0], HYPERLIQUID
    )
    btc = Market(
        Instrument.hyperliquid_perp("BTC", 5, 40, asset_id=0), 10**6, marks[1], HYPERLIQUID
    )
    engine.add_market(eth)
    engine.add_market(btc)
    account = engine.open_account("a", collateral=collateral, leverage=10, replay_fills=10)
    account.fees, account.funding, account.realized = fees, funding, realized
    for symbol, lots, price in moves:
        if lots:
            account.realized += account.exposure(symbol).apply_fill(lots, price)
    assert engine.equity(account) == _equity_reference(engine, account)
