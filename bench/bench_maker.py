"""MarketMaker.handle throughput and book-change-to-commands latency, inside the core.

A recorded stream: a seeded virtual-time run of the real maker against the embedded exchange is
recorded (events, ticks, their times), then replayed into fresh makers built the same way.  The
maker is deterministic, so the replay reproduces the same cloids and every answer in the stream
matches an order the replaying maker really placed: a realistic mix of book updates, order
answers and fills, not a synthetic loop of one event type.

    python -m bench.bench_maker [--seconds SIM_SECONDS] [--repeats N]

Figures: events per second of ``handle`` (medians over repeats) and the latency of ``handle`` on
book events that caused commands (the re-quote itself), p50/p99/max.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections import Counter
from typing import Any

from core.clock import VirtualClock
from core.commands import Batch
from core.config import Config
from core.events import BookDelta, BookSnapshot, Event
from core.maker import MakerParams, MarketMaker
from core.sim.loop import SimLoop
from core.venues.sim.config import FaultConfig, FlowConfig
from core.venues.sim.exchange import SimExchange

Step = tuple[str, float, Event | None]


class _Recorder:
    """Wraps the maker and writes down every call the loop makes."""

    def __init__(self, maker: MarketMaker) -> None:
        self.maker = maker
        self.steps: list[Step] = []

    def handle(self, event: Event, now: float) -> list[Batch]:
        self.steps.append(("event", now, event))
        return self.maker.handle(event, now)

    def tick(self, now: float) -> list[Batch]:
        self.steps.append(("tick", now, None))
        return self.maker.tick(now)


def _config(seed: int) -> Config:
    cfg = Config()
    flow = FlowConfig(taker_rate_per_s=20.0, refresh_rate_per_s=40.0, volatility_bps=2.0)
    sim = cfg.sim.model_copy(
        update={"seed": seed, "flow": flow, "faults": FaultConfig.profile("calm")}
    )
    return cfg.model_copy(update={"sim": sim})


def _maker(cfg: Config, instrument: Any) -> MarketMaker:
    return MarketMaker(
        MakerParams.from_config(cfg, instrument, live=False), instrument, cloid_prefix=7
    )


def record(seconds: float, seed: int = 11) -> tuple[Config, Any, list[Step]]:
    cfg = _config(seed)
    exchange = SimExchange(cfg.sim)
    maker = _maker(cfg, exchange.instrument)
    recorder = _Recorder(maker)
    clock = VirtualClock()
    loop = SimLoop(exchange, recorder, clock, tick_interval=cfg.strategy.tick_interval_s)
    for batch in maker.start(0.0):
        exchange.submit(batch, 0.0)
    loop.run_until(seconds)
    return cfg, exchange.instrument, recorder.steps


def replay(cfg: Config, instrument: Any, steps: list[Step]) -> tuple[float, int, list[float]]:
    """Returns (seconds in handle, events handled, latencies of book events that caused
    commands: the reaction the operator's market pays for)."""
    maker = _maker(cfg, instrument)
    maker.start(0.0)
    handle, tick = maker.handle, maker.tick
    perf = time.perf_counter
    spent = 0.0
    n = 0
    reactions: list[float] = []
    for _kind, now, event in steps:
        if event is None:
            tick(now)
            continue
        t0 = perf()
        commands = handle(event, now)
        dt = perf() - t0
        spent += dt
        n += 1
        if commands and isinstance(event, BookDelta | BookSnapshot):
            reactions.append(dt)
    return spent, n, reactions


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=300.0, help="simulated seconds to record")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    cfg, instrument, steps = record(args.seconds)
    mix = Counter(type(e).__name__ for kind, _, e in steps if e is not None)
    total = sum(mix.values())
    print(f"recorded {total} events over {args.seconds:g} simulated s; mix:")
    for name, count in mix.most_common():
        print(f"  {name:20s} {count:8d}  {100 * count / total:5.1f}%")
    rates: list[float] = []
    p50s: list[float] = []
    p99s: list[float] = []
    maxes: list[float] = []
    for _ in range(args.repeats):
        gc.collect()
        spent, n, reactions = replay(cfg, instrument, steps)
        rates.append(n / spent)
        if reactions:
            p50s.append(_pct(reactions, 0.5))
            p99s.append(_pct(reactions, 0.99))
            maxes.append(max(reactions))
    print(
        f"handle throughput: median {statistics.median(rates):,.0f} events/s "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}, {args.repeats} repeats)"
    )
    if p50s:
        print(
            f"book change -> commands: p50 {statistics.median(p50s) * 1e6:.1f} us, "
            f"p99 {statistics.median(p99s) * 1e6:.1f} us, max {max(maxes) * 1e6:.1f} us "
            f"(medians over repeats)"
        )


if __name__ == "__main__":
    main()
