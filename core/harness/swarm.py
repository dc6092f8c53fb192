"""The swarm: many seeded scenarios of the real maker against the embedded exchange (D22).

``run_seed`` builds one seed's scenario (``core.harness.scenario``), runs the real
``MarketMaker`` behind a ``Probe`` (``core.harness.probe``) against a ``SimExchange`` in
virtual time, plays the operator script, ends the fault plan, lets the maker settle (pausing it
halfway, orders kept, so quoting stops churning, and calming the market so nothing fills them),
and judges quiescence.  It stops at the first violation and returns a report with the recent
history and the one command that replays exactly that run with a trace; ``shrink`` finds the
least of a failing seed's plan that still fails.  ``run_swarm`` runs many seeds in worker
processes and sums them up into ``Summary``; ``render_summary`` is the plain-text table (the CLI
may draw a progress bar on top; nothing here imports rich or textual).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from core.actions import Pause
from core.clock import VirtualClock, WallClock
from core.harness.loop import SimLoop
from core.harness.probe import Probe
from core.harness.scenario import FaultChoice, build
from core.journal.recorder import Journal
from core.maker.recipe import MakerRecipe
from core.venues.sim.exchange import SimExchange
from core.venues.sim.faults import FAULT_KINDS

DEFAULT_DURATION = 120.0
DEFAULT_SETTLE = 30.0
_STEP = 1.0  # run in slices this long, so a violation stops the run promptly
_WALL = WallClock()  # wall time of the runs, for the report only (the runs are virtual)
_SAMPLE = 0.25  # quiescence is sampled this often during the second half of the settle phase


@dataclass(frozen=True, slots=True)
class SeedResult:
    seed: int
    events: int
    simulated_s: float
    wall_s: float
    fault_counts: dict[str, int]
    invariant: str | None = None  # the violated invariant, None when the run was clean
    report: tuple[str, ...] = ()  # the violation report, one line each
    max_request_rate: int = 0  # the most request weight sent in one second (D29)


@dataclass(slots=True)
class Summary:
    seeds: int = 0
    events: int = 0
    simulated_s: float = 0.0
    wall_s: float = 0.0
    fault_counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    violations: list[SeedResult] = field(default_factory=list)
    max_request_rate: int = 0  # the most request weight any seed sent in one second (D29)
    max_request_seed: int | None = None

    def add(self, result: SeedResult) -> None:
        self.seeds += 1
        if result.max_request_rate > self.max_request_rate:
            self.max_request_rate = result.max_request_rate
            self.max_request_seed = result.seed
        self.events += result.events
        self.simulated_s += result.simulated_s
        for kind, n in result.fault_counts.items():
            self.fault_counts[kind] = self.fault_counts.get(kind, 0) + n
        if result.invariant is not None:
            self.violations.append(result)


def replay_command(
    seed: int, duration: float, faults: FaultChoice, without: Iterable[str] = ()
) -> str:
    """The one command that replays exactly this seed's run, with a trace."""
    cmd = f"mm-console swarm --seeds 1 --start {seed}"
    if duration != DEFAULT_DURATION:
        cmd += f" --duration {duration:g}"
    if faults != "swarm":
        cmd += f" --faults {faults}"
    off = sorted(without)
    if off:
        cmd += f" --without {','.join(off)}"
    return cmd + " --trace"


def evidence_command(
    seed: int, duration: float, faults: FaultChoice, without: Iterable[str] = ()
) -> str:
    """The same run recorded, then shown in the console (issue 17)."""
    base = replay_command(seed, duration, faults, without).removesuffix(" --trace")
    path = f"seed-{seed}.sqlite"
    return f"{base} --journal {path}; mm-console replay {path}"  # it exits 1: ";"


def run_seed(
    seed: int,
    duration: float = DEFAULT_DURATION,
    faults: FaultChoice = "swarm",
    *,
    settle: float = DEFAULT_SETTLE,
    trace: TextIO | None = None,
    without: Iterable[str] = (),
    journal: Path | None = None,
) -> SeedResult:
    """One seeded run, checked after every event and at quiescence (``without``: the parts of
    the seed's plan switched off, see ``core.harness.scenario.build``).  ``journal``: record
    the maker's inputs and batches there (issue 17), for ``mm-console replay``."""
    wall0 = _WALL.now()
    scenario = build(seed, duration, faults, settle, without)
    settle = scenario.settle  # it may need longer than asked (``scenario.FOUND_BY_SYNC_S``)
    config = scenario.config
    exchange = SimExchange(config.sim)
    recipe = MakerRecipe(config, exchange.instrument, False, f"swarm {seed}", seed & 0xFFFFFFFF)
    maker = recipe.build()
    recorder = None if journal is None else Journal(journal, recipe, seed=seed)
    probe = Probe(maker, exchange, trace=trace, journal=recorder)
    loop = SimLoop(
        exchange,
        probe,
        VirtualClock(),
        tick_interval=config.strategy.tick_interval_s,
        observer=probe.observe,
        record=False,
    )

    def run_to(t_end: float) -> bool:
        t = loop.clock.now()
        while t < t_end and probe.violation is None:
            t = min(t_end, t + _STEP)
            loop.run_until(t)
        return probe.violation is None

    for batch in probe.start(0.0):
        exchange.submit(batch, 0.0)
    for at, action in scenario.actions:
        if not run_to(at):
            break
        for batch in probe.operate(action, at):
            exchange.submit(batch, at)
    end = duration + settle
    if run_to(duration):
        exchange.end_faults(duration)
        if run_to(duration + settle / 2):
            # Quiescence: the operator pauses (orders stay), so quoting stops churning, and the
            # market calms (nothing trades with the resting orders any more), so everything in
            # flight is delivered and answered; then belief and venue must agree exactly.  In
            # a busy market a lagging stream always has fills on the wire (seed 1024197).
            t = duration + settle / 2
            for batch in probe.operate(Pause(cancel_orders=False), t):
                exchange.submit(batch, t)
            exchange.calm_market(t)
            problem = probe.converged(t)
            while problem is not None and t < end and probe.violation is None:
                t = min(end, t + _SAMPLE)
                loop.run_until(t)
                problem = probe.converged(t)
            if problem is not None:
                probe.fail("converged", loop.clock.now(), problem)
    violation = probe.violation
    if recorder is not None:
        recorder.close({"reason": f"swarm seed {seed}", "mode": maker.mode.value})
    report: tuple[str, ...] = ()
    if violation is not None:
        report = (
            f"seed {seed}: {violation.invariant} violated at t={violation.time:.3f}s",
            f"  {violation.detail}",
            *(f"  {line}" for line in scenario.describe()),
            f"  last {len(probe.history)} events and commands before it:",
            *(f"    {line}" for line in probe.recent()),
            f"  evidence: {evidence_command(seed, duration, faults, scenario.without)}",
            f"  replay: {replay_command(seed, duration, faults, scenario.without)}",
        )
    return SeedResult(
        seed=seed,
        events=loop.events,
        simulated_s=loop.clock.now(),
        wall_s=_WALL.now() - wall0,
        fault_counts=exchange.fault_counts,
        invariant=None if violation is None else violation.invariant,
        report=report,
        max_request_rate=probe.max_request_rate,
    )


def shrink(
    seed: int,
    duration: float = DEFAULT_DURATION,
    faults: FaultChoice = "swarm",
    *,
    settle: float = DEFAULT_SETTLE,
    without: Iterable[str] = (),
    first: SeedResult | None = None,
) -> tuple[tuple[str, ...], SeedResult]:
    """The least of a failing seed's plan that still breaks the same invariant: what was
    switched off (``without`` to start with), and the run without it (``first``: that run, if
    already done).

    Greedy, one part at a time (each fault the seed switched on, then the operator script):
    a part stays off when the run without it still violates the same invariant, and passes
    repeat until none can go.  A seed that does not fail comes back as it ran."""
    off = tuple(without)
    best = run_seed(seed, duration, faults, settle=settle, without=off) if first is None else first
    invariant = best.invariant
    changed = invariant is not None
    while changed:
        changed = False
        for part in build(seed, duration, faults, settle, off).parts:
            trial = run_seed(seed, duration, faults, settle=settle, without=(*off, part))
            if trial.invariant == invariant:
                best, off, changed = trial, (*off, part), True
    return off, best


def _run_shrunk(
    seed: int, duration: float, faults: FaultChoice, without: tuple[str, ...] = ()
) -> SeedResult:
    """A worker's run: the seed as drawn (its counts are the summary's); a violation report
    ends with the smallest plan that still fails and the command that replays that."""
    result = run_seed(seed, duration, faults, without=without)
    if result.invariant is None:
        return result
    off, smallest = shrink(seed, duration, faults, without=without, first=result)
    if off == without:
        return replace(result, report=(*result.report, "  shrunk: no part could be switched off"))
    kept = build(seed, duration, faults, without=off).parts
    return replace(
        result,
        report=(
            *result.report,
            f"  shrunk: {result.invariant} still fails with only "
            f"{', '.join(kept) or 'the market and the maker'} "
            f"(switched off: {', '.join(sorted(off))}): {smallest.report[0]}",
            f"  replay shrunk: {replay_command(seed, duration, faults, off)}",
        ),
    )


def run_swarm(
    seeds: Iterable[int],
    duration: float = DEFAULT_DURATION,
    faults: FaultChoice = "swarm",
    *,
    jobs: int | None = None,
    on_result: Callable[[SeedResult], None] | None = None,
    without: tuple[str, ...] = (),
) -> Summary:
    """Run ``seeds`` in ``jobs`` worker processes (1: in this process); results are summed in
    seed order of completion, and ``on_result`` sees each one as it arrives.  ``without``
    switches those parts of every seed's plan off."""
    summary = Summary()
    wall0 = _WALL.now()
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    results: Iterator[SeedResult]
    if jobs <= 1:
        results = (_run_shrunk(seed, duration, faults, without) for seed in seeds)
    else:
        results = _parallel(seeds, duration, faults, jobs, without)
    for result in results:
        summary.add(result)
        if on_result is not None:
            on_result(result)
    summary.wall_s = _WALL.now() - wall0
    summary.violations.sort(key=lambda r: r.seed)
    return summary


def _parallel(
    seeds: Iterable[int],
    duration: float,
    faults: FaultChoice,
    jobs: int,
    without: tuple[str, ...],
) -> Iterator[SeedResult]:
    """A bounded window of futures, so a million seeds never sit in memory at once."""
    pending: set[Future[SeedResult]] = set()
    todo = iter(seeds)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for seed in todo:
            pending.add(pool.submit(_run_shrunk, seed, duration, faults, without))
            if len(pending) >= jobs * 4:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        for future in pending:
            yield future.result()


def render_summary(summary: Summary) -> list[str]:
    """The swarm's table, plain text."""
    wall = max(summary.wall_s, 1e-9)
    rows = [
        ("seeds run", f"{summary.seeds:,}"),
        ("simulated hours", f"{summary.simulated_s / 3600:,.2f}"),
        ("events processed", f"{summary.events:,}"),
        ("violations", f"{len(summary.violations):,}"),
        ("wall time", f"{summary.wall_s:,.1f} s"),
        ("seeds/min", f"{summary.seeds * 60 / wall:,.1f}"),
        ("events/s", f"{summary.events / wall:,.0f}"),
        (
            "max requests in 1 s",
            f"{summary.max_request_rate:,}"
            + (f" (seed {summary.max_request_seed})" if summary.max_request_seed else ""),
        ),
    ]
    rows += [(f"fault: {kind}", f"{n:,}") for kind, n in summary.fault_counts.items()]
    width = max(len(name) for name, _ in rows)
    return [f"{name:<{width}}  {value:>14}" for name, value in rows]
