"""The synthetic market: it moves, it trades, it fills our quotes, and it is cheap to simulate.

Timings are printed (run with ``-s`` to see them), never asserted: CI machines differ.
"""

from __future__ import annotations

import time
from itertools import pairwise

from core.clock import VirtualClock
from core.commands import Batch
from core.events import BookDelta, Event, Fill, Liquidity, Side, Trade
from core.harness.agents import TouchQuoter
from core.harness.loop import SimLoop
from core.simconfig import FlowConfig, SimConfig
from core.venues.sim.exchange import SimExchange


class Idle:
    def handle(self, event: Event, now: float) -> list[Batch]:
        return []

    def tick(self, now: float) -> list[Batch]:
        return []


def test_one_simulated_minute_moves_the_book_and_trades_in_well_under_a_second() -> None:
    exchange = SimExchange(SimConfig(seed=4))
    start_fair = exchange.fair_price
    loop = SimLoop(exchange, Idle(), VirtualClock())
    started = time.process_time()
    loop.run_until(60.0)
    cpu = time.process_time() - started
    kinds = [type(e) for _, e in loop.log]
    trades, deltas = kinds.count(Trade), kinds.count(BookDelta)
    print(
        f"\none simulated minute: {loop.events} events ({trades} trades, {deltas} book deltas) "
        f"in {cpu * 1000:.1f} ms of CPU = {loop.events / cpu:,.0f} events/s"
    )
    assert trades > 60 and deltas > 600
    assert exchange.fair_price != start_fair
    prices = {e.price for _, e in loop.log if isinstance(e, BookDelta)}
    assert max(prices) - min(prices) > 20 * exchange.instrument.price_step(min(prices))


def test_throughput_of_a_simulated_hour_with_a_quoting_agent() -> None:
    """Prints the exchange's figures: events per CPU second with no agent, and with a naive
    quoting agent (whose own CPU is included) placing, cancelling and getting filled."""
    for name, agent in (("idle agent", Idle()), ("quoting agent", TouchQuoter(size=1_000))):
        exchange = SimExchange(SimConfig(seed=8))
        loop = SimLoop(exchange, agent, VirtualClock(), record=False)
        started = time.process_time()
        loop.run_until(3600.0)
        cpu = time.process_time() - started
        print(
            f"\none simulated hour, {name}: {loop.events} events, {loop.batches} batches in "
            f"{cpu:.2f} s of CPU = {loop.events / cpu:,.0f} events/s"
        )
        assert loop.events > 100_000


def test_the_book_is_never_crossed_and_the_ladder_keeps_its_depth() -> None:
    flow = FlowConfig(volatility_bps=3.0, jump_rate_per_min=10.0, jump_bps=20.0)
    exchange = SimExchange(SimConfig(seed=9, flow=flow))
    book = exchange.book

    def uncrossed(event: Event, now: float) -> None:
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None and ask is not None and bid < ask, (now, bid, ask)

    loop = SimLoop(exchange, TouchQuoter(size=1_000), VirtualClock(), observer=uncrossed)
    loop.run_until(300.0)
    ladder = exchange.ladder
    for side in (Side.BID, Side.ASK):
        prices = ladder[side]
        assert len(prices) == flow.depth_levels
        steps = {abs(a - b) for a, b in pairwise(prices)}
        assert steps == {exchange.instrument.price_step(prices[0])}  # contiguous grid


def test_takers_hit_our_quotes_and_we_are_the_maker() -> None:
    exchange = SimExchange(SimConfig(seed=6))
    loop = SimLoop(exchange, TouchQuoter(size=1_000), VirtualClock())
    loop.run_until(120.0)
    fills = [e for _, e in loop.log if isinstance(e, Fill)]
    assert len(fills) > 10
    assert {f.liquidity for f in fills} == {Liquidity.MAKER}
    assert len({f.tid for f in fills}) == len(fills)


def test_heavy_tailed_takers_sometimes_sweep_several_levels() -> None:
    flow = FlowConfig(taker_rate_per_s=5.0, taker_tail_alpha=1.1)
    exchange = SimExchange(SimConfig(seed=12, flow=flow))
    loop = SimLoop(exchange, Idle(), VirtualClock())
    loop.run_until(120.0)
    sweeps: dict[float | None, set[int]] = {}
    for _, event in loop.log:
        if isinstance(event, Trade):
            sweeps.setdefault(event.venue_time, set()).add(event.price)
    assert max(len(prices) for prices in sweeps.values()) >= 3
