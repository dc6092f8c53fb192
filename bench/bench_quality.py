"""Quoting quality with cascades on (issue 20 item 5): the fixed ladder against the
signal-aware one, same seeds, same market.

Each session is the real ``MarketMaker`` against the embedded exchange in virtual time, no
faults, a market with self-exciting takers and liquidation-like shocks a few times a minute
(``core.venues.sim.cascades``).  Both variants see the identical market path until their own
orders change it.  Per session:

- net PnL at the end (realised + unrealised at the mid - fees + funding, D36), USD;
- mark-out of our fills at 1 s and 10 s: ``side x (mid after - fill price)`` summed over fills,
  in bps of the notional filled (positive: the market moved our way; negative: adverse
  selection -- the cost a cascade inflicts on a stale quote);
- time quoted per side: the share of 0.1 s samples with at least one of our orders resting;
- fill ratio: fills per order sent (placements and re-prices);
- maximum drawdown of net PnL, sampled each second, USD.

The figures are per-seed medians across seeds with their spread; whichever way they point is
reported as measured.

    python -m bench.bench_quality [--quick]
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from bench.results import Result, quick_main
from core.clock import VirtualClock
from core.config import Config
from core.events import Event, Fill, Side
from core.harness.loop import SimLoop
from core.maker import MakerParams, MarketMaker
from core.simconfig import FaultConfig
from core.venues.sim.exchange import SimExchange

CASCADES = {
    "volatility_bps": 1.0,
    "taker_rate_per_s": 3.0,
    "cascade_branching": 0.6,
    "cascade_decay_s": 2.0,
    "cascade_rate_per_min": 2.0,
    "cascade_shock_takers": 40.0,
    "cascade_jump_bps": 10.0,
}
FIXED = {"volatility_multiplier": 0, "cascade_enter": 0}
AWARE: dict[str, Any] = {}  # the defaults: what a user gets


@dataclass(slots=True)
class Session:
    pnl: float
    markout_1s_bps: float
    markout_10s_bps: float
    quoted_bid: float
    quoted_ask: float
    fill_ratio: float
    drawdown: float
    fills: int


def _session(seed: int, signals: dict[str, Any], seconds: float) -> Session:
    config = Config.model_validate(
        {
            "sim": {
                "seed": seed,
                "flow": CASCADES,
                "faults": FaultConfig.profile("instant").model_dump(),
            },
            "signals": signals,
            "risk": {"loss_limit": "1000000", "max_notional": "1000000"},
        }
    )
    exchange = SimExchange(config.sim)
    inst = exchange.instrument
    maker = MarketMaker(MakerParams.from_config(config, inst, live=False), inst)
    fills: dict[int, Fill] = {}

    def observe(event: Event, now: float) -> None:
        if isinstance(event, Fill) and event.tid not in fills:
            fills[event.tid] = event

    loop = SimLoop(exchange, maker, VirtualClock(), tick_interval=0.1, observer=observe)
    for batch in maker.start(0.0):
        exchange.submit(batch, 0.0)
    times: list[float] = []
    mids: list[float] = []
    quoted = {Side.BID: 0, Side.ASK: 0}
    samples = 0
    peak, drawdown = 0.0, 0.0
    t = 0.0
    while t < seconds:
        t = round(t + 0.1, 6)
        loop.run_until(t)
        bid, ask = exchange.book.best_bid(), exchange.book.best_ask()
        if bid is not None and ask is not None:
            times.append(t)
            mids.append((bid + ask) / 2)
        sides = {o.side for o in exchange.open_orders()}
        for side in sides:
            quoted[side] += 1
        samples += 1
        if abs(t - round(t)) < 1e-9:
            pnl = maker.view(t).pnl()
            peak = max(peak, pnl)
            drawdown = max(drawdown, peak - pnl)

    def markout(horizon: float) -> float:
        gained = notional = 0.0
        for fill in fills.values():
            at = (fill.venue_time or 0.0) + horizon
            i = bisect.bisect_left(times, at)
            if i >= len(times):
                continue
            sign = 1 if fill.side is Side.BID else -1
            gained += sign * (mids[i] - fill.price) * fill.size
            notional += fill.price * fill.size
        return 1e4 * gained / notional if notional else 0.0

    sent = maker.counters["places_sent"] + maker.counters["modifies_sent"]
    return Session(
        pnl=maker.view(t).pnl(),
        markout_1s_bps=markout(1.0),
        markout_10s_bps=markout(10.0),
        quoted_bid=100.0 * quoted[Side.BID] / samples,
        quoted_ask=100.0 * quoted[Side.ASK] / samples,
        fill_ratio=len(fills) / sent if sent else 0.0,
        drawdown=drawdown,
        fills=len(fills),
    )


def run(quick: bool = False, verbose: bool = True) -> list[Result]:
    seeds = range(1, 4) if quick else range(1, 9)
    seconds = 180.0 if quick else 600.0
    runs: dict[str, list[Session]] = {"fixed": [], "aware": []}
    for seed in seeds:
        for name, signals in (("fixed", FIXED), ("aware", AWARE)):
            session = _session(seed, signals, seconds)
            runs[name].append(session)
            if verbose:
                print(
                    f"  seed {seed} {name:5}: pnl {session.pnl:+9.2f}  mark-out 1s "
                    f"{session.markout_1s_bps:+6.2f} 10s {session.markout_10s_bps:+6.2f} bps  "
                    f"quoted b{session.quoted_bid:5.1f}% a{session.quoted_ask:5.1f}%  "
                    f"fills {session.fills:4}  ratio {session.fill_ratio:.3f}  "
                    f"drawdown {session.drawdown:7.2f}"
                )
    note = f"{len(seeds)} seeds x {seconds:g} s simulated, cascades on, no faults"
    metrics = (
        ("net PnL", "pnl", "USD"),
        ("mark-out 1 s", "markout_1s_bps", "bps"),
        ("mark-out 10 s", "markout_10s_bps", "bps"),
        ("time quoted, bid", "quoted_bid", "%"),
        ("time quoted, ask", "quoted_ask", "%"),
        ("fill ratio", "fill_ratio", "fills/order"),
        ("max drawdown", "drawdown", "USD"),
    )
    out: list[Result] = []
    for label, attr, unit in metrics:
        for name, title in (("fixed", "fixed ladder"), ("aware", "signal-aware")):
            samples = [float(getattr(s, attr)) for s in runs[name]]
            out.append(Result(f"quality: {label}, {title}", samples, unit, note=note))
    return out


def main() -> None:
    quick_main(__doc__ or "", run)


if __name__ == "__main__":
    main()
