"""The embedded exchange speaks the words of the venue its market models (issue 21).

A perp speaks Hyperliquid's words and a binary market Polymarket's, read back with each
connector's own classifier; a rule's refusal keeps its class on both venues (so the maker meets
the same decision either way), and a client of a binary market never meets a Hyperliquid word.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from core.commands import Batch, Cancel, Command, Modify, Place, TimeInForce
from core.events import (
    CancelRejected,
    Event,
    ModifyRejected,
    OrderStatusReport,
    OrderUpdate,
    PlaceRejected,
    RejectionClass,
    Side,
    VenueStatus,
)
from core.simconfig import FaultConfig, FlowConfig, SimConfig
from core.units import Instrument
from core.venues.hyperliquid import statuses as hs
from core.venues.polymarket import errors as pe
from core.venues.polymarket import statuses as ps
from core.venues.sim.dialect import HYPERLIQUID, POLYMARKET, Dialect, Refusal, for_market
from core.venues.sim.exchange import SimExchange
from core.venues.sim.faults import TOMORROW_STATUSES

R = RejectionClass
PERP = Instrument.hyperliquid_perp("ETH", 4, 25, asset_id=1)
BINARY = Instrument.polymarket("YES", Decimal("0.01"), Decimal("5"), asset_id=1)


def _refusals(d: Dialect, inst: Instrument) -> dict[str, Refusal]:
    """Every refusal of an order's terms the engine can make on ``inst``'s market."""
    out = {
        "bad_size": d.bad_size(inst, "c1", 0),
        "bad_price": d.bad_price(inst, "c1", inst.grid + 1),
        "reduce_only": d.reduce_only(inst),
        "no_funds": d.no_funds(inst),
        "alo_crosses": d.alo_crosses(inst, 4900, 5000),
        "ioc_unmatched": d.ioc_unmatched(inst),
    }
    if not inst.bounded:
        out["below_min_value"] = d.below_min_value(inst)
        out["above_max_position"] = d.above_max_position(inst)
    return out


def test_a_perp_is_hyperliquid_s_and_a_binary_market_polymarket_s() -> None:
    assert for_market("perp") is HYPERLIQUID
    assert for_market("binary") is POLYMARKET
    assert SimExchange(SimConfig()).dialect is HYPERLIQUID
    assert SimExchange(SimConfig(market="binary")).dialect is POLYMARKET


def test_on_a_perp_a_refusal_s_text_and_its_status_word_have_one_class() -> None:
    """The stream's rejection takes the class of the answer's text; on Hyperliquid that is the
    class its own status word carries, so a perp's stream reads as the connector reads it."""
    for rule, (text, word) in _refusals(HYPERLIQUID, PERP).items():
        if word is not None:
            assert HYPERLIQUID.venue_status(word) == (
                VenueStatus.REJECTED,
                HYPERLIQUID.classify(text),
            ), rule


def test_a_rule_s_refusal_has_the_same_class_on_both_venues() -> None:
    """What the maker does about a refusal depends on its class only; the venue changes the
    words, not the decision -- except reduce-only, which Polymarket does not have: what it
    refuses is a sell of shares not held, for balance."""
    perp = {rule: HYPERLIQUID.classify(r.text) for rule, r in _refusals(HYPERLIQUID, PERP).items()}
    binary = {
        rule: POLYMARKET.classify(r.text) for rule, r in _refusals(POLYMARKET, BINARY).items()
    }
    assert perp.pop("reduce_only") is R.STALE_POSITION
    assert binary.pop("reduce_only") is R.MARGIN
    assert binary == {rule: perp[rule] for rule in binary}
    assert HYPERLIQUID.classify(HYPERLIQUID.rate_limited(PERP)) is R.RATE_LIMIT
    assert POLYMARKET.classify(POLYMARKET.rate_limited(BINARY)) is R.RATE_LIMIT
    assert HYPERLIQUID.classify(HYPERLIQUID.expired()) is R.OTHER
    assert POLYMARKET.classify(POLYMARKET.expired()) is R.OTHER


def test_polymarket_s_refusals_are_its_verbatim_texts() -> None:
    r = _refusals(POLYMARKET, BINARY)
    assert r["bad_size"].text == "order c1 is invalid. Size (0) lower than the minimum: 5"
    assert r["bad_price"].text == (
        "order c1 is invalid. Price (0.0101) breaks minimum tick size rule: 0.01"
    )
    assert r["no_funds"].text == pe.NOT_ENOUGH_BALANCE
    assert r["alo_crosses"].text == pe.POST_ONLY_CROSSES
    assert r["ioc_unmatched"].text == pe.FAK_NO_MATCH
    assert {refusal.status for refusal in r.values()} == {None, ps.INVALID}
    assert POLYMARKET.cancel_gone(BINARY) == pe.NOT_FOUND_OR_CANCELED
    assert POLYMARKET.modify_failed(pe.NOT_ENOUGH_BALANCE) == pe.NOT_ENOUGH_BALANCE
    assert POLYMARKET.rate_limited(BINARY) == pe.TOO_MANY_REQUESTS
    assert POLYMARKET.post_only_mode() == pe.POST_ONLY_MODE


@pytest.mark.parametrize("d", [HYPERLIQUID, POLYMARKET], ids=["hyperliquid", "polymarket"])
def test_the_status_words_read_back_as_the_connector_reads_them(d: Dialect) -> None:
    assert d.venue_status(d.open) == (VenueStatus.OPEN, None)
    assert d.venue_status(d.filled) == (VenueStatus.FILLED, None)
    assert d.venue_status(d.canceled) == (VenueStatus.CANCELED, None)
    for word in (d.self_trade_canceled, d.reduce_only_canceled, d.liquidated_canceled):
        assert d.venue_status(word)[0] in (VenueStatus.CANCELED, VenueStatus.VENUE_CANCELED)
    for word in (*d.venue_cancels, d.heartbeat_canceled):
        assert d.venue_status(word)[0] in (VenueStatus.CANCELED, VenueStatus.VENUE_CANCELED)
    for word in d.resting_rejects:
        assert d.venue_status(word)[0] is VenueStatus.REJECTED
    for word in TOMORROW_STATUSES:  # the adversary's unknown words are unknown to both
        assert d.venue_status(word) == (VenueStatus.UNKNOWN, None)


def test_a_rule_the_venue_does_not_have_is_never_worded() -> None:
    with pytest.raises(ValueError, match="no minimum order value"):
        POLYMARKET.below_min_value(BINARY)
    with pytest.raises(ValueError, match="no position limit"):
        POLYMARKET.above_max_position(BINARY)
    with pytest.raises(ValueError, match="no post-only mode"):
        HYPERLIQUID.post_only_mode()
    assert POLYMARKET.leverage(5, 1, 1)[0] == 1
    assert HYPERLIQUID.leverage(50, 10, 25) == (
        25,
        "Leverage 50x is above the maximum allowed for this position size, max is 25x.",
    )


# ---- a binary market's exchange, end to end --------------------------------------------------

_HL_WORDS = {
    hs.OPEN,
    hs.FILLED,
    hs.CANCELED,
    hs.TICK_REJECTED,
    hs.MARGIN_REJECTED,
    hs.ALO_REJECTED,
    hs.IOC_REJECTED,
    hs.REDUCE_ONLY_REJECTED,
    hs.SCHEDULED_CANCEL,
    hs.UNKNOWN_OID,
    "insufficientSpotBalanceRejected",
}


_BATCH_IDS = itertools.count(1)
_TICK_RULE = "breaks minimum tick size rule: 0.01"


def _send(exchange: SimExchange, *commands: Command, t: float) -> list[Event]:
    exchange.submit(Batch(next(_BATCH_IDS), commands), t)
    return exchange.advance(t + 0.5)


def test_a_binary_market_s_client_never_meets_a_hyperliquid_word() -> None:
    config = SimConfig(
        market="binary",
        faults=FaultConfig.profile("instant"),
        flow=FlowConfig.still(),
        collateral=Decimal("10"),
    )
    exchange = SimExchange(config)
    exchange.connect(0.0)
    exchange.advance(0.1)
    bid, ask = exchange.book.best_bid(), exchange.book.best_ask()
    assert bid is not None and ask is not None
    events = _send(
        exchange,
        Place("off-grid", Side.BID, bid - 50, 500, TimeInForce.ALO),
        Place("too-small", Side.BID, bid - 100, 499, TimeInForce.ALO),
        Place("no-shares", Side.ASK, ask + 100, 500, TimeInForce.ALO),
        Place("crosses", Side.BID, ask, 500, TimeInForce.ALO),
        Place("nothing", Side.BID, bid - 100, 500, TimeInForce.IOC),
        Place("rests", Side.BID, bid - 100, 500, TimeInForce.ALO),
        Place("too-dear", Side.BID, bid - 100, 5000, TimeInForce.ALO),
        Cancel("never", None),
        t=1.0,
    )
    rests = next(e for e in events if isinstance(e, OrderUpdate) and e.cloid == "rests")
    assert rests.oid is not None
    events += _send(
        exchange,
        Modify("rests", rests.oid, "off-grid-2", Side.BID, bid - 150, 500, TimeInForce.ALO),
        Modify("rests", rests.oid, "again", Side.BID, bid - 200, 500, TimeInForce.ALO),
        t=2.0,
    )
    reasons = {e.cloid: e.reason for e in events if isinstance(e, PlaceRejected | CancelRejected)}
    reasons |= {e.new_cloid: e.reason for e in events if isinstance(e, ModifyRejected)}
    price = exchange.instrument.ticks_to_price(bid - 50)
    assert reasons == {
        "off-grid": f"order off-grid is invalid. Price ({price}) {_TICK_RULE}",
        "too-small": "order too-small is invalid. Size (4.99) lower than the minimum: 5",
        "no-shares": pe.NOT_ENOUGH_BALANCE,
        "crosses": pe.POST_ONLY_CROSSES,
        "nothing": pe.FAK_NO_MATCH,
        "too-dear": pe.NOT_ENOUGH_BALANCE,
        "never": pe.NOT_FOUND_OR_CANCELED,
        "off-grid-2": reasons["off-grid-2"],
        "again": pe.NOT_FOUND_OR_CANCELED,  # the first modify's cancel leg took it
    }
    assert reasons["off-grid-2"].startswith("order off-grid-2 is invalid. Price (")
    words = {e.raw_status for e in events if isinstance(e, OrderUpdate)}
    assert words <= {ps.LIVE, ps.MATCHED, ps.CANCELED, ps.INVALID} and not words & _HL_WORDS
    report = exchange.order_status(None, "never")
    assert report == OrderStatusReport("never", None, VenueStatus.NOT_FOUND, pe.ORDER_NOT_FOUND)
    assert not any(" asset=" in text for text in reasons.values())
