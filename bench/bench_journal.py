"""The journal's costs (issue 17): what recording every input costs the engine, how fast a
journal replays, how big it grows, and what a SIGKILL loses.

* **throughput**: the recorded mixed stream of ``bench_maker`` replayed into fresh makers with
  and without a ``Journal`` (the runner's calls after each ``handle``/``tick``, the writer
  thread committing every 0.1 s into a real file), interleaved, same run.  Two ratios: the
  engine's loop alone (what the loop pays: one tuple appended per input), and the loop plus the
  writer's drain at the end (everything the process pays on a saturated stream, the writer's
  encoding and compression competing for the interpreter).  Target: at most 5% of ``handle``
  throughput.
* **reaction**: the re-quote stream of ``bench_maker``; per book event that caused commands,
  ``handle`` plus the journal call against ``handle`` alone, p99 in microseconds, both
  saturated (no pause between events: the writer can only run by taking the interpreter from
  a reaction) and delivered at 5,000 events/s (``bench_kill``'s load).  Target: at most 10 us
  added.
* **size and replay speed**: a real headless session (``mm-console --no-ui``, default config,
  the embedded exchange on the wall clock) journaled for a minute (15 s with ``--quick``):
  MB per hour of default quoting (target at most 50), and ``replay --verify`` speed as a
  multiple of real time (target at least 100x).
* **SIGKILL loss**: headless sessions killed with SIGKILL at seeded random moments; the time
  between the kill and the last input in the journal (target: at most 250 ms).

    python -m bench.bench_journal [--quick]
"""

from __future__ import annotations

import gc
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_maker import Step, make_maker, record
from bench.results import Result, pct, quick_main
from bench.workload import requote_config
from core.events import BookDelta, BookSnapshot
from core.journal.recorder import Journal
from core.journal.replay import verify
from core.journal.store import JournalReader
from core.maker.recipe import MakerRecipe

SIZE_TARGET_MB_H = 50.0
SPEED_TARGET = 100.0
LOSS_TARGET_MS = 250.0
COST_TARGET = 0.95  # journaled throughput at least 95% of plain
REACTION_TARGET_US = 10.0
PACED_RATE = 5000.0
PACED_EVENTS = 30_000


def _journal(directory: Path, cfg: Any, instrument: Any, n: int) -> Journal:
    recipe = MakerRecipe(cfg, instrument, False, "bench", 7)
    return Journal(directory / f"bench-{n}.sqlite", recipe, seed=None, deferred=True)


def _throughput(
    cfg: Any, instrument: Any, steps: list[Step], journal: Journal | None
) -> tuple[float, float]:
    """(events/s of the loop, events/s including the writer's drain)."""
    maker = make_maker(cfg, instrument)
    maker.start(0.0)
    handle, tick = maker.handle, maker.tick
    events = sum(1 for _, e in steps if e is not None)
    perf = time.perf_counter
    t0 = perf()
    if journal is None:
        for now, event in steps:
            if event is None:
                tick(now)
            else:
                handle(event, now)
        loop = perf() - t0
        return events / loop, events / loop
    record_event, record_tick, settle = journal.event, journal.tick, journal.settle
    for now, event in steps:  # as the runner: record, (submit), then settle
        if event is None:
            record_tick(now, 0.0, tick(now))
        else:
            record_event(event, now, handle(event, now))
        settle()
    loop = perf() - t0
    journal.close()
    return events / loop, events / (perf() - t0)


def _reactions(
    cfg: Any, instrument: Any, steps: list[Step], journal: Journal | None, rate: float = 0.0
) -> tuple[list[float], list[float]]:
    """Per book event that caused commands, the reaction: ``handle``, book change to commands
    (the runner submits them before the journal encodes anything); and per input, what the
    journal cost the engine's thread (recording, then encoding after the submit).  ``rate``:
    deliver the events at that many per second of wall time, sleeping between them as a live
    engine waits on its socket; 0 is saturated."""
    maker = make_maker(cfg, instrument)
    maker.start(0.0)
    handle, tick = maker.handle, maker.tick
    perf = time.perf_counter
    book = (BookDelta, BookSnapshot)
    out: list[float] = []
    costs: list[float] = []
    gap = 1.0 / rate if rate else 0.0
    due = perf()
    for now, event in steps:
        if event is None:
            batches = tick(now)
            if journal is not None:
                journal.tick(now, 0.0, batches)
                journal.settle()
            continue
        if gap:
            due += gap
            wait = due - perf()
            if wait > 0:
                time.sleep(wait)
        t0 = perf()
        batches = handle(event, now)
        t1 = perf()
        if journal is not None:
            journal.event(event, now, batches)
            journal.settle()
            costs.append(perf() - t1)
        if batches and isinstance(event, book):
            out.append(t1 - t0)
    if journal is not None:
        journal.close()
    return out, costs


def _live_session(seconds: float, directory: Path) -> tuple[Path, float]:
    path = directory / "live.sqlite"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mm_console",
            "--no-ui",
            "--duration",
            f"{seconds:g}",
            "--seed",
            "11",
            "--journal",
            str(path),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "XDG_DATA_HOME": str(directory)},
    )
    return path, seconds


def _kill_loss(trial: int, directory: Path, chance: random.Random) -> float:
    path = directory / f"killed-{trial}.sqlite"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mm_console",
            "--no-ui",
            "--seed",
            str(trial),
            "--journal",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "XDG_DATA_HOME": str(directory)},
    )
    assert proc.stdout is not None
    for _ in range(2):
        proc.stdout.readline()
    time.sleep(chance.uniform(0.0, 1.0))  # a moment anywhere in the writer's cycle
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with JournalReader(path) as reader:
        last = max(row.wall for row in reader.inputs())
    return 1000.0 * (killed_at - last)


def run(quick: bool = False, verbose: bool = True) -> list[Result]:
    seconds = 60.0 if quick else 300.0
    repeats = 2 if quick else 5
    cfg, instrument, steps = record(seconds)
    rq_cfg, rq_instrument, rq_steps = record(seconds, config=requote_config())
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mm-journal-bench-") as tmp:
        directory = Path(tmp)
        plain: list[float] = []
        loop_ratio: list[float] = []
        drain_ratio: list[float] = []
        p99_added: list[float] = []
        p99_plain: list[float] = []
        paced_added: list[float] = []
        costs: list[float] = []
        cost_p99: list[float] = []
        paced_plain: list[float] = []
        paced_steps = rq_steps[: PACED_EVENTS * 2]
        gc.collect()
        gc.freeze()
        try:
            for i in range(repeats):
                base, _ = _throughput(cfg, instrument, steps, None)
                loop, drained = _throughput(
                    cfg, instrument, steps, _journal(directory, cfg, instrument, 2 * i)
                )
                plain.append(base)
                loop_ratio.append(loop / base)
                drain_ratio.append(drained / base)
                without, _ = _reactions(rq_cfg, rq_instrument, rq_steps, None)
                with_j, cost = _reactions(
                    rq_cfg,
                    rq_instrument,
                    rq_steps,
                    _journal(directory, rq_cfg, rq_instrument, 2 * i + 1),
                )
                costs.append(1e6 * pct(cost, 0.5))
                cost_p99.append(1e6 * pct(cost, 0.99))
                p99_plain.append(1e6 * pct(without, 0.99))
                p99_added.append(1e6 * (pct(with_j, 0.99) - pct(without, 0.99)))
                slow, _ = _reactions(rq_cfg, rq_instrument, paced_steps, None, PACED_RATE)
                slow_j, _ = _reactions(
                    rq_cfg,
                    rq_instrument,
                    paced_steps,
                    _journal(directory, rq_cfg, rq_instrument, 100 + i),
                    PACED_RATE,
                )
                paced_plain.append(1e6 * pct(slow, 0.99))
                paced_added.append(1e6 * (pct(slow_j, 0.99) - pct(slow, 0.99)))
                if verbose:
                    print(
                        f"  repeat {i + 1}: {base:,.0f} ev/s plain; journaled {loop / base:.3f}x "
                        f"(loop), {drained / base:.3f}x (with the drain); reaction p99 "
                        f"{p99_plain[-1]:.1f} us, +{p99_added[-1]:.1f} us saturated, "
                        f"+{paced_added[-1]:.1f} us at {PACED_RATE:,.0f} events/s",
                        flush=True,
                    )
        finally:
            gc.unfreeze()
        results += [
            Result(
                "journal: handle throughput, loop",
                loop_ratio,
                "x plain",
                target=(">=", COST_TARGET),
                note=f"recorded mix, {seconds:g} simulated s; plain median "
                f"{sorted(plain)[len(plain) // 2]:,.0f} events/s",
            ),
            Result(
                "journal: handle throughput, with drain",
                drain_ratio,
                "x plain",
                target=(">=", COST_TARGET),
                note="the writer's encoding and compression included (saturated stream)",
            ),
            Result(
                "journal: engine-thread cost per input",
                costs,
                "us",
                note=f"recording, then encoding after the submit (median of per-input p50); "
                f"p99 {sorted(cost_p99)[len(cost_p99) // 2]:.1f} us",
            ),
            Result(
                "journal: reaction p99 added, saturated",
                p99_added,
                "us",
                target=("<=", REACTION_TARGET_US),
                note=f"re-quote stream, no pause between events; p99 without the journal "
                f"median {sorted(p99_plain)[len(p99_plain) // 2]:.1f} us",
            ),
            Result(
                f"journal: reaction p99 added, {PACED_RATE / 1000:g}k events/s",
                paced_added,
                "us",
                target=("<=", REACTION_TARGET_US),
                note=f"the same stream delivered at {PACED_RATE:,.0f} events/s (bench_kill's "
                f"load); p99 without the journal median "
                f"{sorted(paced_plain)[len(paced_plain) // 2]:.1f} us",
            ),
        ]
        live_s = 15.0 if quick else 60.0
        path, span = _live_session(live_s, directory)
        size = sum(p.stat().st_size for p in directory.glob(path.name + "*"))
        report = verify(path)
        assert report.ok, report.lines()
        speeds = [report.recorded_s / report.elapsed_s]
        for _ in range(2 if quick else 4):
            again = verify(path)
            speeds.append(again.recorded_s / again.elapsed_s)
        results += [
            Result(
                "journal: size per hour, default quoting",
                [size / 1e6 * 3600.0 / span],
                "MB/h",
                target=("<=", SIZE_TARGET_MB_H),
                note=f"a {live_s:g} s headless session: {report.inputs:,} inputs "
                f"({report.inputs / span:,.0f}/s), {size / 1e6:.2f} MB",
            ),
            Result(
                "journal: replay --verify speed",
                speeds,
                "x real time",
                target=(">=", SPEED_TARGET),
                note=f"{report.inputs:,} inputs, every batch compared",
            ),
        ]
        chance = random.Random(17)
        losses = [_kill_loss(t, directory, chance) for t in range(3 if quick else 10)]
        results.append(
            Result(
                "journal: inputs lost to SIGKILL",
                losses,
                "ms",
                target=("<=", LOSS_TARGET_MS),
                note=f"{len(losses)} sessions killed at random moments; max {max(losses):.0f} ms",
            )
        )
    return results


def main() -> None:
    quick_main(__doc__ or "", run)


if __name__ == "__main__":
    main()
