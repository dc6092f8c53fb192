"""Core throughput and reaction latency: ``MarketMaker.handle`` on a recorded mixed stream.

A seeded virtual-time run of the real maker against the embedded exchange (the shared
benchmark workload, ``bench.workload.mix_config``: about 70% market data, 15% order updates and
answers with acks and rejections, 15% fills) is recorded — every ``handle`` and ``tick`` call
with its time — and replayed into fresh makers built the same way.  The maker is deterministic,
so the replay reproduces the same cloids, and every answer in the stream matches an order the
replaying maker really placed.

Figures (median over repeats, spread min..max):

* ``handle`` events per second on the recorded mix (time inside ``handle`` only; ticks run but
  are not timed), and the same re-weighted to exactly 70/15/15 from the mean cost per category
  measured in the same replays;
* reaction latency: the time ``handle`` takes on a book event that caused commands (the
  re-quote itself, book change to commands), p50/p99/max.

The recorded stream is moved out of the garbage collector's reach (``gc.freeze``) before the
replays, so a collection scans what a live engine holds, not the recording.

    python -m bench.bench_maker [--quick] [--seconds SIM_SECONDS] [--repeats N]
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from bench.results import Result, pct
from bench.workload import CATEGORIES, TARGET_MIX, category, describe_mix, mix_config
from core.clock import VirtualClock
from core.commands import Batch
from core.config import Config
from core.events import BookDelta, BookSnapshot, Event
from core.maker import MakerParams, MarketMaker
from core.sim.loop import SimLoop
from core.venues.sim.exchange import SimExchange

Step = tuple[float, Event | None]  # (now, event) or (now, None) for a tick

THROUGHPUT_TARGET = 300_000.0
REACTION_P99_TARGET_US = 100.0


class _Recorder:
    """Wraps the maker and writes down every call the loop makes."""

    def __init__(self, maker: MarketMaker) -> None:
        self.maker = maker
        self.steps: list[Step] = []

    def handle(self, event: Event, now: float) -> list[Batch]:
        self.steps.append((now, event))
        return self.maker.handle(event, now)

    def tick(self, now: float) -> list[Batch]:
        self.steps.append((now, None))
        return self.maker.tick(now)


def make_maker(cfg: Config, instrument: Any) -> MarketMaker:
    return MarketMaker(
        MakerParams.from_config(cfg, instrument, live=False), instrument, cloid_prefix=7
    )


def record(
    seconds: float, seed: int = 11, config: Config | None = None
) -> tuple[Config, Any, list[Step]]:
    cfg = config if config is not None else mix_config(seed)
    exchange = SimExchange(cfg.sim)
    maker = make_maker(cfg, exchange.instrument)
    recorder = _Recorder(maker)
    loop = SimLoop(
        exchange, recorder, VirtualClock(), tick_interval=cfg.strategy.tick_interval_s, record=False
    )
    for batch in maker.start(0.0):
        exchange.submit(batch, 0.0)
    loop.run_until(seconds)
    return cfg, exchange.instrument, recorder.steps


def replay(cfg: Config, instrument: Any, steps: list[Step]) -> dict[str, Any]:
    """One replay into a fresh maker: time in ``handle``, per category, and the reactions."""
    maker = make_maker(cfg, instrument)
    maker.start(0.0)
    handle, tick = maker.handle, maker.tick
    perf = time.perf_counter
    cat_time = dict.fromkeys(CATEGORIES, 0.0)
    cat_count = dict.fromkeys(CATEGORIES, 0)
    reactions: list[float] = []
    book_types = (BookDelta, BookSnapshot)
    wall0, cpu0 = perf(), time.thread_time()
    for now, event in steps:
        if event is None:
            tick(now)
            continue
        t0 = perf()
        commands = handle(event, now)
        dt = perf() - t0
        cat = category(event)
        cat_time[cat] += dt
        cat_count[cat] += 1
        if commands and isinstance(event, book_types):
            reactions.append(dt)
    wall, cpu = perf() - wall0, time.thread_time() - cpu0
    spent = sum(cat_time.values())
    n = sum(cat_count.values())
    return {
        "rate": n / spent,
        # The share of the replay this thread really ran (the rest it was preempted: the
        # machine is shared); scaling by it estimates events per second of CPU.
        "cpu_rate": n / (spent * min(1.0, cpu / wall)),
        "mean_us": {c: 1e6 * cat_time[c] / max(1, cat_count[c]) for c in CATEGORIES},
        "reactions": reactions,
    }


def run(quick: bool = False, seconds: float | None = None, repeats: int | None = None,
        verbose: bool = True) -> list[Result]:
    seconds = seconds if seconds is not None else (60.0 if quick else 300.0)
    repeats = repeats if repeats is not None else (2 if quick else 7)
    cfg, instrument, steps = record(seconds)
    _, _, mix_text = describe_mix(e for _, e in steps if e is not None)
    if verbose:
        print(f"  recorded {seconds:g} simulated s: {mix_text}", flush=True)
    gc.collect()
    gc.freeze()  # the recording is not part of a live engine's heap
    try:
        rates: list[float] = []
        weighted: list[float] = []
        p50s: list[float] = []
        p99s: list[float] = []
        maxes: list[float] = []
        reaction_counts: list[int] = []
        means: dict[str, list[float]] = {c: [] for c in CATEGORIES}
        for _ in range(repeats):
            out = replay(cfg, instrument, steps)
            rates.append(out["rate"])
            mean = out["mean_us"]
            for c in CATEGORIES:
                means[c].append(mean[c])
            weighted.append(1e6 / sum(TARGET_MIX[c] * mean[c] for c in CATEGORIES))
            reactions = out["reactions"]
            reaction_counts.append(len(reactions))
            if reactions:
                p50s.append(1e6 * pct(reactions, 0.50))
                p99s.append(1e6 * pct(reactions, 0.99))
                maxes.append(1e6 * max(reactions))
    finally:
        gc.unfreeze()
    cost = ", ".join(
        f"{c} {sorted(v)[len(v) // 2]:.1f} us" for c, v in means.items()
    )
    results = [
        Result(
            "core: handle, recorded mix",
            rates,
            "events/s",
            target=(">=", THROUGHPUT_TARGET),
            note=f"{mix_text}; mean cost per event: {cost}",
        ),
        Result(
            "core: handle, reweighted to 70/15/15",
            weighted,
            "events/s",
            target=(">=", THROUGHPUT_TARGET),
            note="from the per-category mean costs of the same replays",
        ),
    ]
    n_react = sorted(reaction_counts)[len(reaction_counts) // 2] if reaction_counts else 0
    note = f"{n_react:,} book events that caused commands per replay"
    results += [
        Result("core: book change -> commands p50", p50s, "us", note=note),
        Result(
            "core: book change -> commands p99",
            p99s,
            "us",
            target=("<=", REACTION_P99_TARGET_US),
            note=note,
        ),
        Result("core: book change -> commands max", maxes, "us", note=note),
    ]
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--seconds", type=float, help="simulated seconds to record")
    ap.add_argument("--repeats", type=int)
    args = ap.parse_args()
    for r in run(args.quick, args.seconds, args.repeats):
        print(r.line())


if __name__ == "__main__":
    main()
