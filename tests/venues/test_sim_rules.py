"""The simulated exchange's matching rules, each observable through its events.

A still market (no volatility, no takers) with no latency: the other makers' ladder sits at
2999.7 / 3000.3 (ticks of 0.01, valid prices every 0.1 at this size), so every answer is
predictable.  Sizes are lots of 0.0001 ETH.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import TypeVar

from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    Modify,
    Place,
    QueryOrder,
    SetLeverage,
    SyncState,
    TimeInForce,
)
from core.events import (
    AckStatus,
    BookDelta,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    Event,
    Fill,
    Funding,
    LeverageInfo,
    Liquidated,
    Liquidity,
    ModifyAck,
    ModifyRejected,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PositionSnapshot,
    RejectionClass,
    Side,
    Trade,
    VenueStatus,
)
from core.simconfig import Delay, FaultConfig, FlowConfig, SimConfig
from core.venues.hyperliquid.errors import parse_leverage
from core.venues.sim.exchange import SimExchange

BID, ASK = Side.BID, Side.ASK
ALO, GTC, IOC = TimeInForce.ALO, TimeInForce.GTC, TimeInForce.IOC
BEST_BID, BEST_ASK = 299_970, 300_030
E = TypeVar("E")


def still_exchange(**settings: object) -> SimExchange:
    config = SimConfig.model_validate(
        {
            "seed": 1,
            "flow": FlowConfig.still(),
            "faults": FaultConfig.profile("instant"),
            **settings,
        }
    )
    exchange = SimExchange(config)
    exchange.connect(0.0)
    exchange.advance(0.0)
    return exchange


def send(
    exchange: SimExchange, *commands: Command, t: float = 1.0, batch_id: int = 1
) -> list[Event]:
    exchange.submit(Batch(batch_id, commands), t)
    return exchange.advance(t)


def only(events: list[Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def one(events: list[Event], kind: type[E]) -> E:
    found = only(events, kind)
    assert len(found) == 1, f"expected one {kind.__name__}, got {found}"
    return found[0]


def test_still_market_has_the_ladder_the_tests_assume() -> None:
    exchange = still_exchange()
    assert exchange.book.best_bid() == BEST_BID
    assert exchange.book.best_ask() == BEST_ASK


def test_alo_that_would_cross_is_rejected_D23() -> None:
    exchange = still_exchange()
    events = send(exchange, Place("c1", BID, BEST_ASK, 100, ALO))
    rejected = one(events, PlaceRejected)
    assert rejected.reason == (
        "Post only order would have immediately matched, bbo was 2999.7@3000.3. asset=0"
    )
    assert rejected.rclass is RejectionClass.PRICE_ERROR
    update = one(events, OrderUpdate)
    assert (update.cloid, update.status, update.raw_status) == (
        "c1",
        VenueStatus.REJECTED,
        "badAloPxRejected",
    )
    assert update.rclass is RejectionClass.PRICE_ERROR
    assert exchange.book.best_bid() == BEST_BID and exchange.open_orders() == ()


def test_alo_that_does_not_cross_rests_and_shows_in_the_book() -> None:
    exchange = still_exchange()
    events = send(exchange, Place("c1", BID, 299_980, 100, ALO))
    ack = one(events, PlaceAck)
    assert ack.status is AckStatus.RESTING and ack.filled == 0 and ack.batch_id == 1
    assert one(events, OrderUpdate).status is VenueStatus.OPEN
    assert (BID, 299_980, 100) in [(d.side, d.price, d.size) for d in only(events, BookDelta)]
    assert [o.oid for o in exchange.open_orders()] == [ack.oid]


def test_gtc_that_crosses_fills_at_once_and_rests_the_rest_D3() -> None:
    exchange = still_exchange()
    touch = exchange.book.level_size(ASK, BEST_ASK)
    events = send(exchange, Place("c1", BID, BEST_ASK, touch + 500, GTC))
    ack = one(events, PlaceAck)
    assert ack.status is AckStatus.PARTIALLY_FILLED
    assert ack.filled == touch and ack.filled_value == touch * BEST_ASK
    assert exchange.book.best_bid() == BEST_ASK  # the rest rests where it was priced
    assert [o.size for o in exchange.open_orders()] == [500]
    assert exchange.position == touch


def test_gtc_filled_entirely_at_once() -> None:
    exchange = still_exchange()
    events = send(exchange, Place("c1", BID, BEST_ASK, 300, GTC))
    ack = one(events, PlaceAck)
    assert ack.status is AckStatus.FILLED and ack.filled == 300
    assert one(events, OrderUpdate).status is VenueStatus.FILLED
    assert exchange.open_orders() == ()


def test_placement_answer_is_a_total_and_the_stream_repeats_the_trades_with_tids_D4() -> None:
    exchange = still_exchange()
    touch = exchange.book.level_size(ASK, BEST_ASK)
    events = send(exchange, Place("c1", BID, 300_040, touch + 700, GTC))
    ack = one(events, PlaceAck)
    fills = only(events, Fill)
    assert ack.filled == touch + 700 and ack.status is AckStatus.FILLED
    assert [(f.price, f.size) for f in fills] == [(BEST_ASK, touch), (300_040, 700)]
    assert sum(f.size for f in fills) == ack.filled
    assert sum(f.size * f.price for f in fills) == ack.filled_value
    assert len({f.tid for f in fills}) == 2
    assert all(f.oid == ack.oid and f.cloid == "c1" for f in fills)
    assert all(f.liquidity is Liquidity.TAKER and not f.snapshot for f in fills)
    assert [(t.side, t.size) for t in only(events, Trade)] == [(BID, touch), (BID, 700)]


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    exchange = still_exchange()
    touch = exchange.book.level_size(ASK, BEST_ASK)
    events = send(exchange, Place("c1", BID, BEST_ASK, touch + 500, IOC))
    ack = one(events, PlaceAck)
    assert ack.status is AckStatus.FILLED and ack.filled == touch  # nothing more will come
    assert one(events, OrderUpdate).status is VenueStatus.CANCELED
    assert exchange.open_orders() == ()
    assert exchange.book.best_bid() == BEST_BID


def test_ioc_with_nothing_to_match_is_rejected() -> None:
    exchange = still_exchange()
    events = send(exchange, Place("c1", BID, 299_980, 100, IOC))
    rejected = one(events, PlaceRejected)
    assert (
        rejected.reason == "Order could not immediately match against any resting orders. asset=0"
    )
    assert rejected.rclass is RejectionClass.OTHER
    assert one(events, OrderUpdate).raw_status == "iocCancelRejected"


def test_reduce_only_that_would_increase_position_is_rejected_D26() -> None:
    exchange = still_exchange()
    events = send(exchange, Place("c1", ASK, 300_040, 100, ALO, reduce_only=True))
    rejected = one(events, PlaceRejected)
    assert rejected.reason == "Reduce only order would increase position. asset=0"
    assert rejected.rclass is RejectionClass.STALE_POSITION  # D26: our position is stale
    assert one(events, OrderUpdate).raw_status == "reduceOnlyRejected"
    exchange.set_position(1000)
    assert one(send(exchange, Place("c2", ASK, 300_040, 500, ALO, reduce_only=True)), PlaceAck)
    too_big = send(exchange, Place("c3", ASK, 300_050, 1500, ALO, reduce_only=True))
    assert one(too_big, PlaceRejected).rclass is RejectionClass.STALE_POSITION


def test_resting_reduce_only_is_cancelled_once_it_would_increase_position() -> None:
    exchange = still_exchange()
    exchange.set_position(1000)
    ack = one(send(exchange, Place("c1", ASK, 300_040, 1000, ALO, reduce_only=True)), PlaceAck)
    events = send(exchange, Place("c2", ASK, BEST_BID, 1000, GTC))  # closes the position
    assert exchange.position == 0
    cancelled = [u for u in only(events, OrderUpdate) if u.oid == ack.oid]
    assert [(u.status, u.raw_status) for u in cancelled] == [
        (VenueStatus.VENUE_CANCELED, "reduceOnlyCanceled")
    ]
    assert exchange.open_orders() == ()


def test_price_off_the_grid_is_rejected() -> None:
    exchange = still_exchange()
    events = send(exchange, Place("c1", BID, 299_981, 100, ALO))  # 2999.81: six significant figures
    rejected = one(events, PlaceRejected)
    assert rejected.reason == "Order has invalid price. asset=0"
    assert rejected.rclass is RejectionClass.PRICE_ERROR
    assert one(events, OrderUpdate).raw_status == "tickRejected"


def test_zero_and_negative_sizes_are_rejected() -> None:
    exchange = still_exchange()
    zero = one(send(exchange, Place("c1", BID, 299_980, 0, ALO)), PlaceRejected)
    negative = one(send(exchange, Place("c2", BID, 299_980, -5, ALO)), PlaceRejected)
    assert zero.reason == "Order has zero size. asset=0"
    assert negative.reason == "Order has invalid size. asset=0"
    assert zero.rclass is negative.rclass is RejectionClass.PRICE_ERROR


def test_order_below_minimum_value_is_rejected() -> None:
    exchange = still_exchange()
    small = send(exchange, Place("c1", BID, 299_980, 33, ALO))  # 0.0033 x 2999.8 = $9.90
    rejected = one(small, PlaceRejected)
    assert rejected.reason == "Order must have minimum value of $10. asset=0"
    assert rejected.rclass is RejectionClass.PRICE_ERROR
    assert one(small, OrderUpdate).raw_status == "minTradeNtlRejected"
    assert one(send(exchange, Place("c2", BID, 299_980, 34, ALO)), PlaceAck)  # $10.20


def test_position_limit_rejects_orders_that_would_exceed_it_D11() -> None:
    exchange = still_exchange(max_position=Decimal("1"))
    events = send(exchange, Place("c1", BID, 299_980, 10_001, ALO))
    rejected = one(events, PlaceRejected)
    assert rejected.reason == (
        "Order would cause position to exceed margin tier limit at current leverage. asset=0"
    )
    assert rejected.rclass is RejectionClass.POSITION_LIMIT
    assert one(events, OrderUpdate).raw_status == "perpMaxPositionRejected"
    exchange.set_position(20_000)  # beyond the limit: reducing is still allowed
    assert one(send(exchange, Place("c2", ASK, 300_040, 5_000, ALO)), PlaceAck)


def test_margin_check_uses_collateral_and_leverage_D11() -> None:
    exchange = still_exchange(leverage=10)
    exchange.set_collateral(Decimal("100"))  # $1,000 of buying power at 10x
    events = send(exchange, Place("c1", BID, 299_980, 5_000, ALO))  # $1,500
    rejected = one(events, PlaceRejected)
    assert rejected.reason == "Insufficient margin to place order. asset=0"
    assert rejected.rclass is RejectionClass.MARGIN
    assert one(events, OrderUpdate).raw_status == "perpMarginRejected"
    assert one(send(exchange, Place("c2", BID, 299_980, 3_000, ALO)), PlaceAck)  # $900
    rejected_more = send(exchange, Place("c3", BID, 299_970, 1_000, ALO))  # $900 + $300
    assert one(rejected_more, PlaceRejected).rclass is RejectionClass.MARGIN
    send(exchange, SetLeverage(20))
    assert one(send(exchange, Place("c4", BID, 299_970, 1_000, ALO)), PlaceAck)


def test_a_round_trip_realises_its_pnl_in_equity_net_of_fees() -> None:
    exchange = still_exchange()
    bought = send(exchange, Place("c1", BID, BEST_ASK, 1_000, GTC))  # buy 0.1 at 3000.3
    sold = send(exchange, Place("c2", ASK, BEST_BID, 1_000, GTC))  # sell 0.1 at 2999.7
    assert exchange.position == 0
    # D36: both crossed, so both pay the taker rate (0.045 %): 0.135014 and 0.134986 USD
    # (half to even).
    fills = [e for e in [*bought, *sold] if isinstance(e, Fill)]
    assert [(f.fee, f.fee_token, f.closed_pnl) for f in fills] == [
        (135_014, "USDC", 0),
        (134_986, "USDC", -60_000),
    ]
    assert exchange.equity == Decimal("100000") - Decimal("0.06") - Decimal("0.270000")


def test_an_under_margined_account_may_still_reduce_its_position() -> None:
    exchange = still_exchange()
    exchange.set_position(10_000)
    # 1 ETH long (3000 USD) on 100 USD: far under the initial margin at 10x (300), above the
    # maintenance margin (60, D41) that would have the exchange liquidate it.
    exchange.set_collateral(Decimal("100"))
    assert one(send(exchange, Place("c1", BID, 299_980, 100, ALO)), PlaceRejected).rclass is (
        RejectionClass.MARGIN
    )
    assert one(send(exchange, Place("c2", ASK, 300_040, 5_000, ALO)), PlaceAck)


def test_swept_levels_are_refilled_on_a_later_cycle() -> None:
    exchange = still_exchange()
    touch = exchange.book.level_size(ASK, BEST_ASK)
    exchange.inject_taker(BID, touch)
    assert exchange.book.best_ask() != BEST_ASK
    exchange.advance(1.0)
    assert exchange.book.best_ask() == BEST_ASK
    assert exchange.book.level_size(ASK, BEST_ASK) == touch


def test_leverage_above_the_cap_is_capped_and_the_text_names_the_cap_D14() -> None:
    exchange = still_exchange(leverage_cap=25)
    info = one(send(exchange, SetLeverage(40)), LeverageInfo)
    assert info.leverage == 25 and exchange.leverage == 25
    assert " is 25x" in info.source
    assert parse_leverage(info.source, fallback=40) == 25
    assert one(send(exchange, SetLeverage(5)), LeverageInfo).leverage == 5


def test_cancel_of_an_order_the_venue_does_not_know_is_gone_D24() -> None:
    exchange = still_exchange()
    rejected = one(send(exchange, Cancel(None, 999)), CancelRejected)
    assert rejected.reason == "Order was never placed, already canceled, or filled. asset=0"
    assert rejected.gone and rejected.rclass is RejectionClass.OTHER


def test_cancel_after_the_order_filled_is_gone_S4() -> None:
    exchange = still_exchange()
    ack = one(send(exchange, Place("c1", BID, 299_980, 1_000, ALO)), PlaceAck)
    exchange.inject_taker(ASK, 1_000)
    fill = one(exchange.advance(1.0), Fill)
    assert (fill.oid, fill.size, fill.liquidity) == (ack.oid, 1_000, Liquidity.MAKER)
    rejected = one(send(exchange, Cancel("c1", ack.oid), t=2.0), CancelRejected)
    assert rejected.gone
    assert exchange.position == 1_000


def test_cancel_by_cloid() -> None:
    exchange = still_exchange()
    ack = one(send(exchange, Place("c1", BID, 299_980, 100, ALO)), PlaceAck)
    events = send(exchange, Cancel("c1", None))
    cancel = one(events, CancelAck)
    assert (cancel.cloid, cancel.oid) == ("c1", ack.oid)
    assert one(events, OrderUpdate).status is VenueStatus.CANCELED
    assert exchange.open_orders() == ()


def test_modify_replaces_the_order_under_a_new_oid_D5() -> None:
    exchange = still_exchange()
    ack = one(send(exchange, Place("c1", BID, 299_980, 100, ALO)), PlaceAck)
    events = send(exchange, Modify("c1", ack.oid, "c2", BID, 299_990, 200, ALO))
    modified = one(events, ModifyAck)
    assert (modified.cloid, modified.new_cloid) == ("c1", "c2")
    assert modified.oid != ack.oid and modified.status is AckStatus.RESTING
    updates = [(u.oid, u.status) for u in only(events, OrderUpdate)]
    assert updates == [(ack.oid, VenueStatus.CANCELED), (modified.oid, VenueStatus.OPEN)]
    assert [(o.cloid, o.price, o.size) for o in exchange.open_orders()] == [("c2", 299_990, 200)]


def test_modify_of_a_filled_order_says_the_original_is_gone_D5() -> None:
    exchange = still_exchange()
    ack = one(send(exchange, Place("c1", BID, 299_980, 100, ALO)), PlaceAck)
    exchange.inject_taker(ASK, 100)
    events = send(exchange, Modify("c1", ack.oid, "c2", BID, 299_990, 100, ALO), t=2.0)
    rejected = one(events, ModifyRejected)
    assert rejected.reason == "Cannot modify canceled or filled order"
    assert rejected.original_gone and rejected.rclass is RejectionClass.OTHER


def test_modify_whose_replacement_fails_has_still_cancelled_the_original_D5() -> None:
    exchange = still_exchange()
    ack = one(send(exchange, Place("c1", BID, 299_980, 100, ALO)), PlaceAck)
    events = send(exchange, Modify("c1", ack.oid, "c2", BID, BEST_ASK, 100, ALO))
    rejected = one(events, ModifyRejected)
    assert rejected.reason.startswith(
        "Error placing new order during modify: Post only order would have immediately matched"
    )
    assert rejected.rclass is RejectionClass.PRICE_ERROR and rejected.original_gone
    assert exchange.open_orders() == ()


def test_cancel_all_sweeps_orders_we_do_not_track_D25_S11() -> None:
    exchange = still_exchange()
    stranger = exchange.inject_account_order(BID, 299_900, 100)
    assert exchange.advance(0.5) and [o.oid for o in exchange.open_orders()] == [stranger]
    ours = one(send(exchange, Place("c1", ASK, 300_100, 100, ALO)), PlaceAck).oid
    events = send(exchange, CancelAll("kill"), batch_id=7)
    assert sorted(a.oid for a in only(events, CancelAck) if a.oid) == sorted([stranger, ours])
    assert one(events, CancelAllDone) == CancelAllDone(swept=2, failed=0, batch_id=7)
    assert exchange.open_orders() == ()


def test_sync_state_answers_open_orders_and_position() -> None:
    exchange = still_exchange()
    exchange.set_position(-300, entry_price=300_000)
    ack = one(send(exchange, Place("c1", BID, 299_980, 100, ALO)), PlaceAck)
    events = send(exchange, SyncState("check"), t=2.0)
    orders = one(events, OpenOrders).orders
    assert [(o.oid, o.cloid, o.side, o.price, o.size, o.orig_size) for o in orders] == [
        (ack.oid, "c1", BID, 299_980, 100, 100)
    ]
    assert one(events, PositionSnapshot) == PositionSnapshot(-300, 300 * 300_000, 2.0)


def test_query_order_is_definitive_and_says_not_found_for_strangers_D24() -> None:
    exchange = still_exchange()
    unknown = one(send(exchange, QueryOrder("nobody", None)), OrderStatusReport)
    assert unknown.status is VenueStatus.NOT_FOUND and unknown.raw_status == "unknownOid"
    ack = one(send(exchange, Place("c1", BID, 299_980, 100, ALO)), PlaceAck)
    live = one(send(exchange, QueryOrder("c1", None)), OrderStatusReport)
    assert (live.oid, live.status, live.remaining) == (ack.oid, VenueStatus.OPEN, 100)
    send(exchange, Cancel("c1", None))
    gone = one(send(exchange, QueryOrder(None, ack.oid)), OrderStatusReport)
    assert (gone.status, gone.remaining) == (VenueStatus.CANCELED, 0)
    send(exchange, Place("c2", BID, BEST_ASK, 100, ALO))
    rejected = one(send(exchange, QueryOrder("c2", None)), OrderStatusReport)
    assert (rejected.status, rejected.raw_status) == (VenueStatus.REJECTED, "badAloPxRejected")


def test_batch_answers_item_by_item_with_the_batch_id_D7_S7() -> None:
    exchange = still_exchange()
    events = send(
        exchange,
        Place("c1", BID, 299_980, 100, ALO),
        Place("c2", BID, BEST_ASK, 100, ALO),
        Place("c3", BID, 299_990, 100, ALO),
        batch_id=42,
    )
    answers = [e for e in events if isinstance(e, PlaceAck | PlaceRejected)]
    assert [(type(a).__name__, a.cloid, a.batch_id) for a in answers] == [
        ("PlaceAck", "c1", 42),
        ("PlaceRejected", "c2", 42),
        ("PlaceAck", "c3", 42),
    ]
    assert len(exchange.open_orders()) == 2


def test_takers_fill_our_resting_order_as_maker_with_unique_tids() -> None:
    exchange = still_exchange()
    ack = one(send(exchange, Place("c1", BID, 299_980, 1_000, ALO)), PlaceAck)
    exchange.inject_taker(ASK, 400)
    first = exchange.advance(1.5)
    exchange.inject_taker(ASK, 600)
    second = exchange.advance(2.0)
    fills = only(first, Fill) + only(second, Fill)
    assert [(f.size, f.liquidity) for f in fills] == [
        (400, Liquidity.MAKER),
        (600, Liquidity.MAKER),
    ]
    assert len({f.tid for f in fills}) == 2 and all(f.oid == ack.oid for f in fills)
    assert one(second, OrderUpdate).status is VenueStatus.FILLED
    assert exchange.position == 1_000


def test_our_aggressor_never_trades_with_our_own_resting_order() -> None:
    exchange = still_exchange()
    ask = one(send(exchange, Place("c1", ASK, 300_020, 100, ALO)), PlaceAck)
    events = send(exchange, Place("c2", BID, BEST_ASK, 300, IOC))
    fills = only(events, Fill)
    assert all(f.price == BEST_ASK and f.cloid == "c2" for f in fills)
    self_trade = [u for u in only(events, OrderUpdate) if u.oid == ask.oid]
    assert [(u.status, u.raw_status) for u in self_trade] == [
        (VenueStatus.VENUE_CANCELED, "selfTradeCanceled")
    ]
    assert exchange.position == 300


def test_a_calmed_market_trades_no_more_with_resting_orders_and_fair_stands_still() -> None:
    """The swarm's quiescence (D22): after ``calm_market`` nothing fills a resting order of
    ours, so the fills already on the wire drain and belief can be compared exactly."""
    busy = FlowConfig(taker_rate_per_s=50.0, volatility_bps=5.0, jump_rate_per_min=30.0)
    exchange = SimExchange(SimConfig(seed=7, flow=busy, faults=FaultConfig.profile("instant")))
    exchange.connect(0.0)
    exchange.advance(0.0)

    def quote_inside(t: float, tag: str) -> None:
        bid, ask = exchange.book.best_bid(), exchange.book.best_ask()
        assert bid is not None and ask is not None
        acks = send(
            exchange,
            Place(f"b{tag}", BID, bid + 10, 5_000, ALO),
            Place(f"a{tag}", ASK, ask - 10, 5_000, ALO),
            t=t,
        )
        assert [a.status for a in only(acks, PlaceAck)] == [AckStatus.RESTING] * 2

    quote_inside(1.0, "1")
    assert only(exchange.advance(10.0), Fill), "a busy market trades with resting orders"
    exchange.calm_market(10.0)
    quote_inside(10.0, "2")
    fair, position = exchange.fair_price, exchange.position
    later = exchange.advance(70.0)
    assert not only(later, Fill) and not only(later, Trade)
    assert exchange.fair_price == fair and exchange.position == position
    assert {"b2", "a2"} <= {o.cloid for o in exchange.open_orders()}


def test_a_batch_arriving_after_its_expiry_is_refused_not_executed_D24() -> None:
    """Hyperliquid's ``expiresAfter`` (reference 3.9): placements that reach the venue after
    their batch's expiry are refused whole -- the order never rests, the modified one stays."""
    slow = FaultConfig.profile("instant", request_latency=Delay(median_s=2.0, p99_s=2.0))
    exchange = still_exchange(faults=slow)
    exchange.submit(Batch(1, (Place("c1", BID, 299_950, 1_000, ALO),)), 1.0)
    ack = one(exchange.advance(4.0), PlaceAck)
    exchange.submit(Batch(2, (Place("c2", BID, 299_940, 1_000, ALO),), expires_in=1.5), 4.0)
    late_modify = Modify("c1", ack.oid, "c3", BID, 299_930, 1_000, ALO)
    exchange.submit(Batch(3, (late_modify,), expires_in=1.5), 4.0)
    events = exchange.advance(7.0)
    rejected = only(events, PlaceRejected)
    assert [(r.cloid, r.reason) for r in rejected] == [("c2", "Action already expired")]
    (modify,) = only(events, ModifyRejected)
    assert (modify.cloid, modify.original_gone) == ("c1", False)
    assert {o.cloid for o in exchange.open_orders()} == {"c1"}
    exchange.submit(Batch(4, (Place("c4", BID, 299_940, 1_000, ALO),), expires_in=2.5), 7.0)
    assert one(exchange.advance(10.0), PlaceAck).cloid == "c4"


# ---- the account's costs and its liquidation (D36, D41) --------------------------------------


def test_funding_is_paid_hourly_on_the_position_and_replayed_after_a_reconnect() -> None:
    outage = {"median_s": 1.0, "p99_s": 1.0}
    exchange = still_exchange(
        funding={"interval_s": 3600.0, "mean_rate": 0.0001, "volatility": 0},
        faults=FaultConfig.profile("instant", disconnects_at=(3600.5,), outage=outage),
    )
    exchange.set_position(10_000)  # 1 ETH long at the mark, 3000.0
    paid = only(exchange.advance(3600.0), Funding)
    assert paid == [Funding(-300_000, 3600.0, "0.0001000")]  # a long pays 0.01 % of 3000
    assert exchange.account_money() == (0, -300_000)
    replayed = only(exchange.advance(3603.0), Funding)  # down at 3600.5, up again at 3601.5
    assert replayed == [dataclasses.replace(paid[0], snapshot=True)]


def test_an_account_below_maintenance_margin_is_liquidated_D41() -> None:
    """Maintenance is half the initial margin at the maximum leverage (25x: 2 % of notional):
    funding at the cap drains a thin account through it, and the exchange cancels the
    account's orders, closes the position at market with fills that say so, and says it."""
    exchange = still_exchange(
        collateral="100", funding={"interval_s": 1.0, "mean_rate": 0.04, "volatility": 0}
    )
    exchange.set_position(10_000)  # 3000 USD: maintenance 60 USD
    rested = send(exchange, Place("c1", ASK, BEST_ASK + 50, 1_000, ALO), t=0.5)
    assert one(rested, PlaceAck).status is AckStatus.RESTING
    events = exchange.advance(1.0)  # pays 120 USD: equity -20 < 60
    assert exchange.position == 0
    (cancelled,) = only(events, OrderUpdate)
    assert cancelled.raw_status == "liquidatedCanceled"
    closing = only(events, Fill)
    assert sum(f.size for f in closing) == 10_000 and all(f.side is ASK for f in closing)
    assert all(f.liquidation and f.liquidation.startswith("Liquidated Cross Long") for f in closing)
    assert only(events, Liquidated)
    assert exchange.fault_counts["liquidations"] == 1
