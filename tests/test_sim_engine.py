"""The matching engine holds several markets: one book each, one cross-margin account."""

from __future__ import annotations

from core.commands import Place, TimeInForce
from core.events import PlaceAck, PlaceRejected, RejectionClass, Side
from core.units import Instrument
from core.venues.sim.engine import Market, MatchingEngine

BID = Side.BID
ALO = TimeInForce.ALO


def test_several_markets_have_their_own_books_and_share_one_margin_account() -> None:
    engine = MatchingEngine()
    eth = Market(Instrument.hyperliquid_perp("ETH", 4, 25, asset_id=1), 10**6, mark=300_000)
    btc = Market(Instrument.hyperliquid_perp("BTC", 5, 40, asset_id=0), 10**6, mark=600_000)
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
