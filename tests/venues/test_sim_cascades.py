"""Issue 20 item 3: the embedded exchange produces the cascades the maker's signals detect.

The Hawkes takers keep the configured long-run rate whatever the branching (shocks apart);
liquidation-like shocks drive the maker's own detector (``HawkesIntensity`` fed the exchange's
public trades) past the strategy's threshold, which calm Poisson flow never reaches; the same
seed gives the same market.
"""

from __future__ import annotations

import random

from core.config import SignalsConfig
from core.estimators.hawkes import HawkesIntensity
from core.events import Side, Trade
from core.simconfig import FaultConfig, FlowConfig, SimConfig
from core.venues.sim.cascades import HawkesTakers
from core.venues.sim.exchange import SimExchange


def test_the_long_run_taker_rate_is_the_configured_one_at_any_branching() -> None:
    for branching in (0.0, 0.5, 0.8):
        takers = HawkesTakers(4.0, branching, 2.0, random.Random(7))
        t, n = 0.0, 0
        while t < 5_000.0:
            t, side = takers.next_event(t)
            takers.taken(side, t)
            n += 1
        assert 3.6 < n / t < 4.4, (branching, n / t)


def _run(flow: FlowConfig, seconds: float) -> list[Trade]:
    config = SimConfig(seed=5, flow=flow, faults=FaultConfig.profile("instant"))
    exchange = SimExchange(config)
    exchange.connect(0.0)
    trades: list[Trade] = []
    t = 0.0
    while t < seconds:
        t += 0.1
        trades += [e for e in exchange.advance(t) if isinstance(e, Trade)]
    return trades


def _peaks(trades: list[Trade]) -> dict[Side, float]:
    """The highest cascade ratio the maker's detector read per aggressor side, once ready."""
    detectors = {side: HawkesIntensity() for side in (Side.BID, Side.ASK)}
    peaks = {Side.BID: 0.0, Side.ASK: 0.0}
    for trade in trades:
        assert trade.venue_time is not None
        detector = detectors[trade.side]
        detector.record(trade.venue_time)
        if detector.ready(trade.venue_time):
            peaks[trade.side] = max(peaks[trade.side], detector.ratio(trade.venue_time))
    return peaks


def test_shocks_drive_the_detector_past_its_threshold_and_calm_flow_does_not() -> None:
    shocks = FlowConfig(
        taker_rate_per_s=2.0,
        cascade_branching=0.5,
        cascade_rate_per_min=1.0,
        cascade_shock_takers=40.0,
        cascade_decay_s=2.0,
    )
    cascade = max(_peaks(_run(shocks, 300.0)).values())
    calm = max(_peaks(_run(FlowConfig(taker_rate_per_s=2.0), 300.0)).values())
    # Against the strategy's default threshold (signals.cascade_enter).
    assert cascade > SignalsConfig().cascade_enter > calm, (cascade, calm)


def test_the_same_seed_gives_the_same_cascades() -> None:
    flow = FlowConfig(cascade_branching=0.7, cascade_rate_per_min=3.0)
    first = [(t.side, t.price, t.size, t.venue_time) for t in _run(flow, 60.0)]
    again = [(t.side, t.price, t.size, t.venue_time) for t in _run(flow, 60.0)]
    assert first == again and first
