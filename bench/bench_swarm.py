"""Swarm: seeded adversarial simulations per minute and simulated events per second.

Uses ``core.harness.swarm.run_swarm`` — what ``mm-console swarm`` runs: each seed draws its own
fault mix, market regime, maker config and operator script, runs the real maker against the
embedded exchange in virtual time with every invariant checked after every event, then settles
and judges quiescence.  Batches of seeds run with one worker process per core; each batch is
one sample, and 64 seeds long so that starting the pool and waiting for the last seed weigh
little, as in a long run.  If the swarm module is not importable, the SimLoop + MarketMaker
scenario is measured directly (no invariant checks) and the figures say so.

    python -m bench.bench_swarm [--quick] [--seeds N] [--batches N] [--duration SIM_SECONDS]
"""

from __future__ import annotations

import argparse
import os
import time

from bench.results import Result


def _direct(seeds: range, duration: float) -> tuple[int, int, float]:
    """Fallback: the maker against the exchange in virtual time, no invariants."""
    from bench.bench_maker import make_maker
    from bench.workload import mix_config
    from core.clock import VirtualClock
    from core.harness.loop import SimLoop
    from core.venues.sim.exchange import SimExchange

    t0 = time.perf_counter()
    events = 0
    for seed in seeds:
        cfg = mix_config(seed)
        exchange = SimExchange(cfg.sim)
        maker = make_maker(cfg, exchange.instrument)
        loop = SimLoop(exchange, maker, VirtualClock(), record=False)
        for batch in maker.start(0.0):
            exchange.submit(batch, 0.0)
        loop.run_until(duration)
        events += loop.events
    return len(seeds), events, time.perf_counter() - t0


def run(
    quick: bool = False,
    seeds: int | None = None,
    batches: int | None = None,
    duration: float | None = None,
) -> list[Result]:
    seeds = seeds if seeds is not None else (4 if quick else 64)
    batches = batches if batches is not None else (1 if quick else 3)
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    jobs = jobs or 1
    try:
        from core.harness.swarm import DEFAULT_DURATION, run_swarm
    except ImportError as exc:
        how = f"core.harness.swarm not importable ({exc}); SimLoop + MarketMaker directly"
        duration = duration if duration is not None else 150.0
        per_min, per_s = [], []
        for b in range(batches):
            n, events, wall = _direct(range(b * seeds, (b + 1) * seeds), duration)
            per_min.append(60 * n / wall)
            per_s.append(events / wall)
    else:
        how = f"core.harness.swarm.run_swarm, {jobs} worker processes"
        duration = duration if duration is not None else DEFAULT_DURATION
        per_min, per_s = [], []
        violations = 0
        for b in range(batches):
            summary = run_swarm(range(b * seeds, (b + 1) * seeds), duration, jobs=jobs)
            wall = max(summary.wall_s, 1e-9)
            per_min.append(60 * summary.seeds / wall)
            per_s.append(summary.events / wall)
            violations += len(summary.violations)
        how += f"; {violations} invariant violations"
    note = f"{seeds} seeds x {duration:g} simulated s per batch; {how}"
    return [
        Result("swarm: seeds per minute", per_min, "seeds/min", note=note),
        Result("swarm: simulated events per second", per_s, "events/s", note="all workers"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--batches", type=int)
    ap.add_argument("--duration", type=float, help="simulated seconds of faults per seed")
    args = ap.parse_args()
    for r in run(args.quick, args.seeds, args.batches, args.duration):
        print(r.line())


if __name__ == "__main__":
    main()
