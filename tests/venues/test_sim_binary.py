"""The embedded exchange as a Polymarket-style binary market (issue 21; D38, D39, D40).

A binary market trades an outcome token priced in (0, 1) pUSD on a venue tick that can change,
with a minimum size in shares, balances instead of margin (no short selling), taker-only fees
``C x rate x p x (1 - p)``, trades that settle after matching (CONFIRMED, or FAILED and
reversed), a dead-man switch and a post-only mode.  Prices are ticks of 0.0001 (a 0.01 market
has a grid of 100), sizes lots of 0.01 share.  Times are virtual and seeded; nothing sleeps.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from pydantic import ValidationError

from core.clock import VirtualClock
from core.commands import (
    Batch,
    Cancel,
    Command,
    FetchFills,
    Modify,
    Place,
    QueryOrder,
    SyncState,
    TimeInForce,
)
from core.events import (
    Connected,
    Event,
    Fill,
    FillSettled,
    FillsFetched,
    HeartbeatState,
    ModifyRejected,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PositionSnapshot,
    RejectionClass,
    Side,
    TickSizeChanged,
    VenueStatus,
)
from core.harness.agents import TouchQuoter
from core.harness.loop import SimLoop
from core.simconfig import FaultConfig, FlowConfig, SimConfig
from core.units import Instrument
from core.venues.polymarket import errors as pe
from core.venues.polymarket import statuses as ps
from core.venues.sim.accounts import Exposure
from core.venues.sim.exchange import SimExchange
from tests.sim_harness import only

BID, ASK = Side.BID, Side.ASK
ALO, GTC, IOC = TimeInForce.ALO, TimeInForce.GTC, TimeInForce.IOC
SHARES = 100  # lots in one share


def binary(*, flow: FlowConfig | None = None, start: float = 0.0, **settings: Any) -> SimExchange:
    """A connected binary exchange: a still market at 0.50 (other makers 0.49 / 0.51, 10
    shares a level), no latency, only the given settings and faults."""
    faults = settings.pop("faults", {})
    config = SimConfig.model_validate(
        {
            "market": "binary",
            "seed": 7,
            "flow": flow if flow is not None else FlowConfig.still(level_size=Decimal(10)),
            "faults": FaultConfig.profile("instant", **faults),
            **settings,
        }
    )
    exchange = SimExchange(config, start=start)
    exchange.connect(start)
    exchange.advance(start)
    return exchange


def send(exchange: SimExchange, *commands: Command, t: float, batch_id: int = 1) -> list[Event]:
    exchange.submit(Batch(batch_id, commands), t)
    return exchange.advance(t)


def buy_at_bid(exchange: SimExchange, lots: int, t: float, cloid: str = "b1") -> list[Event]:
    """Rest a bid of ``lots`` at 0.49 behind the other makers and have a taker sweep through
    it: our fill (a maker's: no fee) is MATCHED at ``t``."""
    heard = send(exchange, Place(cloid, BID, 4900, lots, ALO), t=t)
    exchange.inject_taker(ASK, 10 * SHARES + lots)
    return heard + exchange.advance(t)


# ---- config ---------------------------------------------------------------------------------


def test_a_binary_market_defaults_to_a_yes_token_at_one_half_on_a_cent_tick() -> None:
    config = SimConfig(market="binary")
    assert (config.symbol, config.start_price, config.tick, config.min_size) == (
        "YES",
        Decimal("0.5"),
        Decimal("0.01"),
        Decimal("5"),
    )
    assert config.instrument() == Instrument.polymarket("YES", Decimal("0.01"), Decimal("5"))
    inst = config.instrument()
    assert (inst.grid, inst.min_ticks, inst.max_ticks, inst.min_lots) == (100, 100, 9900, 500)
    assert SimConfig().market == "perp"  # the perp stays the default


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tick": "0.02"}, "tick (0.02) must be one of the venue's ticks: 0.1, 0.01"),
        ({"start_price": "0.995"}, "start_price (0.995) must be within [tick, 1 - tick]"),
        ({"start_price": "0"}, "start_price"),
        ({"tick": "0.1", "start_price": "0.05"}, "[0.1, 0.9]"),
        ({"start_price": "0.505"}, "start_price (0.505) must be a multiple of tick (0.01)"),
        ({"leverage": 3}, "leverage (3): perp settings, not used by a binary market"),
        ({"maker_fee": "0.001", "margin_tiers": [["0", 5]]}, "margin_tiers ([['0', '5']])"),
        ({"funding": {"interval_s": 5}}, "funding (set and enabled)"),
        ({"start_position": "-1"}, "start_position (-1) must be >= 0 on a binary market"),
        ({"min_size": "0.001"}, "min_size (0.001) is not a multiple of the lot size 0.01"),
        ({"settlement": {"fail_probability": 0.7, "retrying_probability": 0.5}}, "must be <= 1"),
    ],
)
def test_bad_binary_settings_name_the_key_the_value_and_what_is_allowed(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=_literal(message)):
        SimConfig.model_validate({"market": "binary", **settings})


def test_a_binary_market_may_switch_funding_off_and_keeps_no_funding_anyway() -> None:
    assert not SimConfig(market="binary", funding={"enabled": False}).funding.enabled  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tick": "0.001"}, "tick (0.001): binary-market settings"),
        ({"settlement": {"delay_s": 3}}, "settlement (delay_s=3.0"),
        ({"faults": {"tick_change_every_s": 30}}, "faults.tick_change_every_s (30.0)"),
        ({"faults": {"heartbeat_lapse_every_s": 30}}, "faults.heartbeat_lapse_every_s"),
        ({"faults": {"post_only_mode_every_s": 30}}, "faults.post_only_mode_every_s"),
    ],
)
def test_a_perp_refuses_the_binary_settings_by_name(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=_literal(message)):
        SimConfig.model_validate(settings)


# ---- rules: grid, bounds, minimum size, balances, fees --------------------------------------


def test_prices_off_the_grid_or_outside_zero_one_are_refused_as_bad_prices() -> None:
    exchange = binary()
    for price in (4950, 0, 10_000, 9_950):
        events = send(exchange, Place(f"c{price}", BID, price, 500, ALO), t=1.0)
        rejected = only(events, PlaceRejected)
        assert rejected and rejected[0].rclass is RejectionClass.PRICE_ERROR, price
        shown = {4950: "0.495", 0: "0", 10_000: "1", 9_950: "0.995"}[price]
        assert rejected[0].reason == (
            f"order c{price} is invalid. Price ({shown}) breaks minimum tick size rule: 0.01"
        )
    assert only(send(exchange, Place("ok", BID, 100, 500, ALO), t=1.0), PlaceAck)  # 0.01


def test_an_order_below_the_minimum_size_is_refused() -> None:
    exchange = binary()
    rejected = only(send(exchange, Place("c1", BID, 4800, 499, ALO), t=1.0), PlaceRejected)
    assert rejected[0].reason == "order c1 is invalid. Size (4.99) lower than the minimum: 5"
    assert rejected[0].rclass is RejectionClass.PRICE_ERROR
    assert only(send(exchange, Place("c2", BID, 4800, 500, ALO), t=1.0), PlaceAck)


def test_a_sell_needs_settled_shares_outcome_tokens_are_not_shortable() -> None:
    exchange = binary()
    events = send(exchange, Place("a1", ASK, 5200, 500, ALO), t=1.0)
    rejected = only(events, PlaceRejected)[0]
    assert rejected.rclass is RejectionClass.MARGIN
    assert rejected.reason == pe.NOT_ENOUGH_BALANCE
    [update] = only(events, OrderUpdate)
    assert (update.raw_status, update.rclass) == (ps.INVALID, RejectionClass.MARGIN)
    buy_at_bid(exchange, 600, t=2.0)
    assert (exchange.position, exchange.pending_position) == (600, 600)
    # The shares of a trade not settled yet cannot be sold (the venue's balance is on chain).
    assert only(send(exchange, Place("a2", ASK, 5200, 500, ALO), t=2.5), PlaceRejected)
    exchange.advance(10.0)  # confirmed
    assert exchange.confirmed_position == 600
    assert only(send(exchange, Place("a3", ASK, 5200, 500, ALO), t=10.0), PlaceAck)
    # what open asks hold is not free: 100 lots are left, below the minimum anyway
    assert only(send(exchange, Place("a4", ASK, 5300, 500, ALO), t=10.0), PlaceRejected)


def test_a_buy_needs_the_pusd_beside_what_open_bids_reserve() -> None:
    exchange = binary(collateral="10")  # 10 pUSD: 20 shares at 0.50
    assert only(send(exchange, Place("b1", BID, 4800, 2000, ALO), t=1.0), PlaceAck)  # 9.60
    assert only(send(exchange, Place("b2", BID, 4800, 500, ALO), t=1.0), PlaceRejected)
    send(exchange, Cancel("b1", None), t=1.0)
    assert only(send(exchange, Place("b3", BID, 4800, 500, ALO), t=1.0), PlaceAck)


@pytest.mark.parametrize(
    ("price", "lots", "millionths"),
    [
        (5000, 100 * SHARES, 1_000_000),  # 100 x 0.04 x 0.25 = 1 pUSD
        (100, 5 * SHARES, 1_980),  # 5 x 0.04 x 0.01 x 0.99 = 0.00198
        (5000, 1 * SHARES, 10_000),
        (100, 1, 10),  # 0.00000396 rounds to 0: the minimum fee is 0.00001
        (3333, 7 * SHARES, 62_220),  # 0.0622177... -> 0.06222
    ],
)
def test_a_taker_pays_c_rate_p_one_minus_p_rounded_to_five_decimals(
    price: int, lots: int, millionths: int
) -> None:
    exchange = binary()
    assert exchange._market.binary_fee(price, lots) == millionths


def test_makers_pay_no_fee_and_takers_pay_the_formula_in_pusd() -> None:
    exchange = binary()
    maker = only(buy_at_bid(exchange, 500, t=1.0), Fill)[0]
    assert (maker.fee, maker.fee_token, maker.final) == (0, "pUSD", False)
    exchange.advance(10.0)
    taker = only(send(exchange, Place("t1", BID, 5100, 500, IOC), t=10.0), Fill)[0]
    assert taker.fee == exchange._market.binary_fee(5100, 500) == 49_980  # 5 x .04 x .51 x .49
    assert exchange.account_money() == (49_980, 0)


# ---- D38: provisional fills, settlement, FAILED reversed --------------------------------------


def test_a_fill_is_provisional_until_the_venue_confirms_it_D38() -> None:
    exchange = binary(settlement={"delay_s": 2.0})
    fill = only(buy_at_bid(exchange, 600, t=1.0), Fill)[0]
    assert not fill.final
    assert exchange.trade_status(fill.tid) == "MATCHED"
    assert (exchange.position, exchange.confirmed_position) == (600, 0)
    events = exchange.advance(5.0)  # the delay is drawn within 1..3 s
    (settled,) = only(events, FillSettled)
    assert (settled.tid, settled.confirmed, settled.status) == (fill.tid, True, "CONFIRMED")
    assert settled.venue_time is not None and 2.0 <= settled.venue_time <= 4.0
    assert (exchange.position, exchange.confirmed_position, exchange.pending_trades()) == (
        600,
        600,
        (),
    )
    assert exchange.trade_status(fill.tid) == "CONFIRMED"


def test_a_failed_trade_is_reversed_exactly_and_the_order_stays_matched_D38() -> None:
    exchange = binary(settlement={"fail_probability": 1.0}, collateral="1000")
    exchange.advance(9.0)
    equity_before = exchange.equity
    taker = only(send(exchange, Place("t1", BID, 5100, 700, IOC), t=9.0), Fill)[0]
    assert taker.fee > 0 and not taker.final
    assert exchange.position == 700 and exchange.account_money()[0] == taker.fee
    events = exchange.advance(20.0)
    assert [(s.tid, s.confirmed, s.status) for s in only(events, FillSettled)] == [
        (taker.tid, False, "FAILED")
    ]
    assert (exchange.position, exchange.pending_position) == (0, 0)
    assert exchange.account_money() == (0, 0)  # the fee is given back
    assert exchange.equity == equity_before  # cash exactly as before
    assert exchange.fault_counts["trades_failed"] == 1
    # The order keeps what it matched (a documented choice: the venue's is unconfirmed).
    status = only(send(exchange, QueryOrder("t1", None), t=20.0), OrderStatusReport)[0]
    assert (status.status, status.filled) == (VenueStatus.FILLED, 700)


def test_a_failed_sell_gives_the_shares_back_D38() -> None:
    exchange = binary(start_position="10", settlement={"fail_probability": 1.0})
    equity = exchange.equity
    sell = only(send(exchange, Place("s1", ASK, 4900, 600, IOC), t=1.0), Fill)[0]
    assert exchange.position == 400
    exchange.advance(10.0)
    assert exchange.position == 1000
    assert exchange.equity == equity
    assert exchange.trade_status(sell.tid) == "FAILED"


def test_after_a_failure_the_account_is_as_if_the_trade_never_was_D38() -> None:
    """Average cost is path-dependent: a FAILED trade between others is taken out by a
    replay, so entry, realised PnL and every later fill's PnL are what they would have been."""
    exchange = binary(start_position="20", settlement={"delay_s": 5.0, "fail_probability": 0.5})
    trades = [
        only(send(exchange, Place("s1", ASK, 4900, 800, IOC), t=1.0), Fill)[0],
        only(send(exchange, Place("b1", BID, 5100, 1500, IOC), t=1.1), Fill)[0],
        only(send(exchange, Place("s2", ASK, 4900, 1200, IOC), t=1.2), Fill)[0],
    ]
    exchange.advance(30.0)
    failed = [f.tid for f in trades if exchange.trade_status(f.tid) == "FAILED"]
    assert failed and len(failed) < len(trades)  # seeded: some fail, some not
    replay = Exposure(1)
    replay.apply_fill(2000, 5000)  # the shares held at the start, at the mark
    realized = Fraction(0)
    for fill in trades:
        if fill.tid not in failed:
            realized += replay.apply_fill(fill.side.sign * fill.size, fill.price)
    account = exchange._account
    ex = account.exposure("YES")
    assert (ex.position, ex.entry_value, account.realized) == (
        replay.position,
        replay.entry_value,
        realized,
    )
    assert account.fees == sum(f.fee for f in trades if f.tid not in failed)


def test_fills_told_again_carry_their_finality_now_D38() -> None:
    exchange = binary(settlement={"fail_probability": 0.5}, faults={"replay_fills": 50})
    tids = []
    for i in range(8):
        fill = only(buy_at_bid(exchange, 500, t=float(i), cloid=f"b{i}"), Fill)[0]
        tids.append(fill.tid)
    pending = only(buy_at_bid(exchange, 500, t=30.0, cloid="late"), Fill)[0]
    statuses_now = {tid: exchange.trade_status(tid) for tid in tids}
    assert set(statuses_now.values()) == {"CONFIRMED", "FAILED"}  # seeded: both occur
    events = send(exchange, FetchFills(100.0, "check"), t=30.0)
    fetched = {f.tid: f for f in only(events, Fill)}
    assert only(events, FillsFetched)[0].count == len(fetched) == 9
    for tid, status in statuses_now.items():
        assert fetched[tid].snapshot and fetched[tid].final is (status == "CONFIRMED")
    assert not fetched[pending.tid].final
    failed = [s.tid for s in only(events, FillSettled)]
    assert failed == [tid for tid in tids if statuses_now[tid] == "FAILED"]
    # Each FAILED fill is followed by its FillSettled, so a client that missed it reverses.
    for tid in failed:
        i = next(n for n, e in enumerate(events) if isinstance(e, Fill) and e.tid == tid)
        assert events[i + 1] == FillSettled(tid, False, "FAILED", 30.0)
    # The replay after a reconnect says the same.
    exchange._on_timer(30.0, "disconnect")
    exchange._on_timer(30.0, "connect")
    replay = exchange.advance(30.0)
    assert {f.tid: f.final for f in only(replay, Fill)} == {t: f.final for t, f in fetched.items()}
    assert [s.tid for s in only(replay, FillSettled)] == failed


def test_settlement_news_is_lost_with_the_stream_and_found_by_a_fetch_D38() -> None:
    exchange = binary(
        settlement={"delay_s": 2.0, "fail_probability": 1.0},
        faults={
            "disconnects_at": (1.5,),
            "outage": {"median_s": 5.0, "p99_s": 5.0},
            "replay_fills": 0,  # Polymarket replays nothing after a reconnect
        },
    )
    fill = only(buy_at_bid(exchange, 500, t=1.0), Fill)[0]
    heard = exchange.advance(8.0)
    assert only(heard, FillSettled) == []  # it settled while the stream was down
    assert exchange.trade_status(fill.tid) == "FAILED" and exchange.position == 0
    fetched = send(exchange, FetchFills(60.0, "reconnect"), t=8.0)
    assert [(s.tid, s.confirmed) for s in only(fetched, FillSettled)] == [(fill.tid, False)]


def test_trades_settle_out_of_order_and_some_retry_first_D38() -> None:
    exchange = binary(settlement={"delay_s": 2.0, "retrying_probability": 0.5})
    exchange.keep_trade_statuses = True
    tids = [
        only(buy_at_bid(exchange, 500, t=0.1 * i, cloid=f"b{i}"), Fill)[0].tid for i in range(8)
    ]
    settled = [s.tid for s in only(exchange.advance(20.0), FillSettled)]
    assert sorted(settled) == tids and settled != tids
    history = exchange.drain_trade_statuses()
    paths: dict[int, list[str]] = {}
    for _, tid, status in history:
        paths.setdefault(tid, []).append(status)
    assert {tuple(p) for p in paths.values()} == {
        ("MATCHED", "MINED", "CONFIRMED"),
        ("MATCHED", "RETRYING", "MINED", "CONFIRMED"),
    }
    assert [t for t, _, _ in history] == sorted(t for t, _, _ in history)
    assert exchange.drain_trade_statuses() == []


def test_a_final_word_may_come_twice_D38() -> None:
    exchange = binary(settlement={"fail_probability": 0.5, "repeat_probability": 1.0})
    heard: list[Event] = []
    for i in range(4):
        heard += buy_at_bid(exchange, 500, t=float(i), cloid=f"b{i}")
    heard += exchange.advance(30.0)
    tids = [f.tid for f in only(heard, Fill)]
    words = [(s.tid, s.status) for s in only(heard, FillSettled)]
    assert sorted(words) == sorted(2 * [(tid, exchange.trade_status(tid)) for tid in tids])
    assert exchange.fault_counts["settlements_repeated"] == 4
    assert exchange.position == 500 * sum(exchange.trade_status(t) == "CONFIRMED" for t in tids)


def test_a_test_may_script_the_next_trades_paths_D38() -> None:
    exchange = binary(settlement={"delay_s": 2.0})
    exchange.keep_trade_statuses = True
    exchange.script_settlement(("MINED", "RETRYING", "FAILED"), count=2)
    tids = [
        only(buy_at_bid(exchange, 500, t=1.0 + i, cloid=f"b{i}"), Fill)[0].tid for i in range(3)
    ]
    exchange.advance(20.0)
    paths: dict[int, list[tuple[float, str]]] = {}
    for t, tid, status in exchange.drain_trade_statuses():
        paths.setdefault(tid, []).append((t, status))
    for i, tid in enumerate(tids[:2]):
        begun = 1.0 + i
        assert [status for _, status in paths[tid]] == ["MATCHED", "MINED", "RETRYING", "FAILED"]
        times = [t - begun for t, _ in paths[tid]]
        assert times == pytest.approx([0.0, 2 / 3, 4 / 3, 2.0])  # evenly over delay_s
        assert exchange.trade_status(tid) == "FAILED"
    assert [s for _, s in paths[tids[2]]] == ["MATCHED", "MINED", "CONFIRMED"]  # drawn again
    for bad in ((), ("MINED",), ("FAILED", "CONFIRMED"), ("SETTLED",)):
        with pytest.raises(ValueError, match="ending with one of"):
            exchange.script_settlement(bad)


def test_end_faults_confirms_every_trade_matched_afterwards_D38() -> None:
    exchange = binary(settlement={"fail_probability": 1.0})
    exchange.end_faults(0.5)
    fill = only(buy_at_bid(exchange, 500, t=1.0), Fill)[0]
    exchange.advance(10.0)
    assert exchange.trade_status(fill.tid) == "CONFIRMED"


# ---- the flow stays inside (0, 1) and on the grid ---------------------------------------------


@pytest.mark.parametrize(("start", "tick"), [("0.5", "0.01"), ("0.02", "0.01"), ("0.97", "0.001")])
def test_fair_stays_strictly_inside_and_the_ladder_within_the_bounds_on_the_grid(
    start: str, tick: str
) -> None:
    flow = FlowConfig(
        volatility_bps=3000.0, jump_rate_per_min=30.0, jump_bps=3000.0, taker_rate_per_s=10.0
    )
    exchange = binary(flow=flow, start_price=start, tick=tick)
    inst = exchange.instrument
    lowest, highest = inst.min_ticks, inst.max_ticks
    seen_low = seen_high = False
    for step in range(1, 3001):
        exchange.advance(step * 0.1)
        assert lowest < exchange.fair_price < highest
        for side, prices in exchange.ladder.items():
            assert prices, side
            assert all(lowest <= p <= highest and p % inst.grid == 0 for p in prices)
        for side in (BID, ASK):  # (a side the takers swept may be empty for a moment)
            assert all(lowest <= p <= highest for p, _ in exchange.book.depth(side))
        seen_low |= exchange.fair_price < lowest + 2 * inst.grid
        seen_high |= exchange.fair_price > highest - 2 * inst.grid
    assert seen_low or seen_high  # the walk did press on a bound


# ---- D39: the tick changes ---------------------------------------------------------------------


def test_a_tick_change_is_told_first_then_the_old_grid_is_refused_D39() -> None:
    exchange = binary()
    resting = only(send(exchange, Place("r1", BID, 4800, 500, ALO), t=1.0), PlaceAck)[0]
    exchange.change_tick(1000, 2.0)  # 0.01 -> 0.1
    events = exchange.advance(2.0)
    assert isinstance(events[0], TickSizeChanged)
    assert (events[0].grid, events[0].tick, events[0].venue_time) == (1000, "0.1", 2.0)
    assert exchange.instrument.grid == 1000 and exchange.fault_counts["tick_changes"] == 1
    # the other makers re-quote on the new grid; our resting order stays where it was
    assert all(p % 1000 == 0 for prices in exchange.ladder.values() for p in prices)
    assert [o.oid for o in exchange.open_orders()] == [resting.oid]
    events = send(exchange, Place("c2", BID, 4900, 500, ALO), t=2.5)
    rejected = only(events, PlaceRejected)[0]
    assert rejected.rclass is RejectionClass.PRICE_ERROR
    # the venue's words name the new tick (the connector reads it from them, D39)
    assert rejected.reason == "order c2 is invalid. Price (0.49) breaks minimum tick size rule: 0.1"
    assert [u.raw_status for u in only(events, OrderUpdate)] == [ps.INVALID]
    assert only(send(exchange, Place("c3", BID, 4000, 500, ALO), t=2.5), PlaceAck)
    # and back to a finer grid: 0.001
    exchange.change_tick(10, 3.0)
    assert only(exchange.advance(3.0), TickSizeChanged)[0].tick == "0.001"
    assert only(send(exchange, Place("c4", BID, 4810, 500, ALO), t=3.5), PlaceAck)


def test_a_modify_onto_the_old_grid_loses_the_original_and_the_replacement_D39() -> None:
    exchange = binary()
    ack = only(send(exchange, Place("r1", BID, 4800, 500, ALO), t=1.0), PlaceAck)[0]
    exchange.change_tick(1000, 1.0)
    exchange.advance(1.0)
    events = send(exchange, Modify("r1", ack.oid, "r2", BID, 4700, 500, ALO), t=1.5)
    [rejected] = only(events, ModifyRejected)
    # Polymarket cannot amend: the placement leg's own refusal, as the connector passes it on
    assert rejected.reason == "order r2 is invalid. Price (0.47) breaks minimum tick size rule: 0.1"
    assert (rejected.original_gone, rejected.raced) == (True, False)
    assert exchange.open_orders() == ()


def test_the_fault_plan_changes_the_tick_to_one_that_fits_fair_D39() -> None:
    exchange = binary(faults={"tick_change_every_s": 5.0})
    grids = []
    for step in range(1, 121):
        for event in exchange.advance(step * 0.5):
            if isinstance(event, TickSizeChanged):
                grids.append(event.grid)
                assert exchange.instrument.grid == event.grid
    assert len(grids) >= 5 and len(set(grids)) >= 3
    assert all(g in (1000, 100, 50, 25, 10, 1) for g in grids)
    assert exchange.fault_counts["tick_changes"] == len(grids)


def test_a_perp_tick_never_changes() -> None:
    exchange = SimExchange(SimConfig())
    with pytest.raises(ValueError, match="only a binary market"):
        exchange.change_tick(10, 0.0)


# ---- D40: the dead-man switch --------------------------------------------------------------


def test_connecting_arms_the_heartbeat_D40() -> None:
    config = SimConfig(market="binary", flow=FlowConfig.still())
    exchange = SimExchange(config)
    exchange.connect(0.0)
    events = exchange.advance(1.0)
    assert isinstance(events[0], Connected)
    assert events[1] == HeartbeatState(True, False, "heartbeats accepted", 0.0)


def test_a_heartbeat_lapse_cancels_every_order_after_saying_so_D40() -> None:
    exchange = binary(faults={"heartbeat_lapse_every_s": 20.0, "heartbeat_lapse_s": 2.0})
    send(exchange, Place("b1", BID, 4800, 500, ALO), Place("b2", BID, 4700, 500, ALO), t=0.5)
    events = exchange.advance(60.0)
    lapse = next(i for i, e in enumerate(events) if isinstance(e, HeartbeatState) and e.lapsed)
    cancels = [
        (i, e)
        for i, e in enumerate(events)
        if isinstance(e, OrderUpdate) and e.status is VenueStatus.CANCELED
    ]
    assert [e.cloid for _, e in cancels] == ["b1", "b2"]
    assert all(i > lapse for i, _ in cancels)
    # Polymarket's user channel says CANCELED whoever cancelled
    assert {e.raw_status for _, e in cancels} == {ps.CANCELED}
    resumed = [e for e in events[lapse:] if isinstance(e, HeartbeatState) and not e.lapsed]
    assert resumed and resumed[0].venue_time == events[lapse].venue_time + 2.0  # type: ignore[union-attr]
    assert exchange.open_orders() == ()
    assert exchange.fault_counts["heartbeat_lapses"] >= 1


def test_a_stream_down_longer_than_the_window_lapses_the_heartbeat_D40() -> None:
    long_outage = {"median_s": 15.0, "p99_s": 15.0}
    exchange = binary(faults={"disconnects_at": (1.0,), "outage": long_outage})
    send(exchange, Place("b1", BID, 4800, 500, ALO), t=0.5)
    events = exchange.advance(12.0)
    assert [e.text for e in only(events, HeartbeatState)] == [
        "no heartbeat for 10s (connection down)"
    ]
    assert only(events, OrderUpdate) == []  # the cancellation went out on the dead stream
    assert exchange.open_orders() == ()
    after = exchange.advance(20.0)  # reconnected at 16 s: armed again
    assert [(h.armed, h.lapsed) for h in only(after, HeartbeatState)] == [(True, False)]


def test_a_short_outage_does_not_lapse_the_heartbeat_D40() -> None:
    short = {"median_s": 3.0, "p99_s": 3.0}
    exchange = binary(faults={"disconnects_at": (1.0,), "outage": short})
    send(exchange, Place("b1", BID, 4800, 500, ALO), t=0.5)
    events = exchange.advance(30.0)
    assert all(not h.lapsed for h in only(events, HeartbeatState))
    assert len(exchange.open_orders()) == 1


# ---- post-only mode ------------------------------------------------------------------------


def test_post_only_mode_refuses_placements_that_are_not_post_only() -> None:
    exchange = binary(faults={"post_only_mode_every_s": 5.0, "post_only_mode_s": 1000.0})
    exchange.advance(100.0)
    assert exchange.fault_counts["post_only_modes"] >= 1
    events = send(
        exchange, Place("ioc", BID, 5100, 500, IOC), Place("gtc", BID, 4800, 500, GTC), t=100.0
    )
    assert [(r.cloid, r.reason) for r in only(events, PlaceRejected)] == [
        ("ioc", pe.POST_ONLY_MODE),
        ("gtc", pe.POST_ONLY_MODE),
    ]
    assert only(send(exchange, Place("alo", BID, 4800, 500, ALO), t=100.0), PlaceAck)
    exchange.end_faults(100.0)
    assert only(send(exchange, Place("ioc2", BID, 5100, 500, IOC), t=100.0), Fill)


# ---- the whole: seeded, deterministic ----------------------------------------------------------


def _busy_binary_log(seed: int) -> list[tuple[float, Event]]:
    config = SimConfig.model_validate(
        {
            "market": "binary",
            "seed": seed,
            "flow": {"volatility_bps": 50.0, "taker_rate_per_s": 5.0, "level_size": "20"},
            "settlement": {"fail_probability": 0.2, "retrying_probability": 0.2},
            "faults": FaultConfig.profile(
                "adversarial",
                tick_change_every_s=20.0,
                heartbeat_lapse_every_s=30.0,
                post_only_mode_every_s=30.0,
            ).model_dump(),
        }
    )
    exchange = SimExchange(config)
    loop = SimLoop(exchange, TouchQuoter(5 * SHARES), VirtualClock(), tick_interval=0.1)
    loop.run_until(90.0)
    return loop.log


def test_a_busy_binary_market_with_every_fault_replays_byte_for_byte() -> None:
    first = _busy_binary_log(11)
    assert repr(first) == repr(_busy_binary_log(11))
    kinds = {type(e) for _, e in first}
    assert {Fill, FillSettled, TickSizeChanged, HeartbeatState} <= kinds
    assert repr(first) != repr(_busy_binary_log(12))


def test_the_venue_truth_agrees_with_what_it_answers_after_faults() -> None:
    config = SimConfig.model_validate(
        {
            "market": "binary",
            "seed": 3,
            "flow": {"volatility_bps": 50.0, "taker_rate_per_s": 5.0, "level_size": "20"},
            "settlement": {"fail_probability": 0.3},
        }
    )
    exchange = SimExchange(config)
    loop = SimLoop(exchange, TouchQuoter(5 * SHARES), VirtualClock(), tick_interval=0.1)
    loop.run_until(60.0)
    exchange.end_faults(60.0)
    exchange.calm_market(60.0)
    loop.run_until(70.0)
    assert exchange.pending_trades() == ()
    exchange.submit(Batch(1, (SyncState("check"),)), 70.0)
    told = only(exchange.advance(71.0), PositionSnapshot)[0]
    assert told.position == exchange.position == exchange.confirmed_position
    # position = the sum of the trades that did not fail
    fills = [f for f in exchange.fills_after(0) if exchange.trade_status(f.tid) != "FAILED"]
    assert exchange.position == sum(f.side.sign * f.size for f in fills)
    assert exchange.fault_counts["trades_failed"] > 0
    assert math.isfinite(float(exchange.equity))


def _literal(message: str) -> str:
    return "".join("\\" + c if c in "()[].*+?" else c for c in message)
