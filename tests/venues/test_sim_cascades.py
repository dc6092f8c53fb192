"""Issue 20 item 3: the embedded exchange produces the cascades the maker's signals detect.

The Hawkes takers keep the configured long-run rate whatever the branching (shocks apart); a
liquidation-like shock on one side drives the maker's own detector (``HawkesIntensity`` fed
the exchange's public trades) well past its threshold on that side and not the other; the same
seed gives the same market.
"""

from __future__ import annotations

import random

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


def test_a_shock_drives_the_detector_past_its_threshold_on_its_side_only() -> None:
    flow = FlowConfig(
        taker_rate_per_s=2.0,
        cascade_branching=0.5,
        cascade_rate_per_min=1.0,
        cascade_shock_takers=40.0,
        cascade_decay_s=2.0,
    )
    trades = _run(flow, 300.0)
    detectors = {side: HawkesIntensity() for side in (Side.BID, Side.ASK)}
    peaks = {Side.BID: 0.0, Side.ASK: 0.0}
    for trade in trades:
        assert trade.venue_time is not None
        detectors[trade.side].record(trade.venue_time)
        for side, detector in detectors.items():
            if detector.ready(trade.venue_time):
                peaks[side] = max(peaks[side], detector.ratio(trade.venue_time))
    assert max(peaks.values()) > 3.0, peaks  # a cascade, as the strategy's threshold reads it
    calm = _run(FlowConfig(taker_rate_per_s=2.0), 300.0)
    calm_detectors = {side: HawkesIntensity() for side in (Side.BID, Side.ASK)}
    calm_peak = 0.0
    for trade in calm:
        assert trade.venue_time is not None
        calm_detectors[trade.side].record(trade.venue_time)
        if calm_detectors[trade.side].ready(trade.venue_time):
            calm_peak = max(calm_peak, calm_detectors[trade.side].ratio(trade.venue_time))
    assert calm_peak < max(peaks.values())


def test_the_same_seed_gives_the_same_cascades() -> None:
    flow = FlowConfig(cascade_branching=0.7, cascade_rate_per_min=3.0)
    first = [(t.side, t.price, t.size, t.venue_time) for t in _run(flow, 60.0)]
    again = [(t.side, t.price, t.size, t.venue_time) for t in _run(flow, 60.0)]
    assert first == again and first
