"""Where the time goes in ``MarketMaker.handle``: per event kind, per area of the code, in a
reaction (book change -> commands), and the collector's full pauses under load (issue 22).

Not a benchmark with targets: a profiling aid whose output ``bench/PROFILE.md`` quotes.  It
records the same two streams as ``bench.bench_maker`` (the recorded mix and the re-quote
stream) and then

* times ``handle`` per event type (``perf_counter`` around each call, no profiler attached);
* replays under ``cProfile`` and groups the functions' own time by area (book, strategy,
  executor, tracker, exact arithmetic, view, ...), for the whole mix and for the book events
  that caused commands only (the reaction);
* replays with ``gc.callbacks`` logging every collection's generation and duration, once with
  CPython's default thresholds and once with the live engine's policy (``core.gcpolicy``:
  freeze after start-up, full collections ten times rarer).

    python -m bench.profile_maker [--seconds S] [--section types,areas,reaction,gc]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import time
from collections import defaultdict
from typing import Any

from bench.bench_maker import Step, make_maker, record
from bench.workload import requote_config
from core.config import Config
from core.events import BookDelta, BookSnapshot

# (substring of the file path or function label, area); the first match wins.
AREAS: tuple[tuple[str, str], ...] = (
    ("core/book.py", "book (LocalBook)"),
    ("core/strategy.py", "strategy (desired_ladder)"),
    ("core/executor.py", "executor (diff)"),
    ("core/orders.py", "tracker (orders, fills, exposure)"),
    ("core/fills.py", "tracker (orders, fills, exposure)"),
    ("core/exposure.py", "tracker (orders, fills, exposure)"),
    ("core/pnl.py", "position and PnL (pnl, settlement)"),
    ("core/settlement.py", "position and PnL (pnl, settlement)"),
    ("fractions.py", "Fraction arithmetic (stdlib)"),
    ("decimal.Decimal", "Decimal (C)"),
    ("core/spread.py", "spread and signals"),
    ("core/estimators", "spread and signals"),
    ("core/view.py", "view (projection)"),
    ("core/maker/projection.py", "view (projection)"),
    ("core/maker/quoting.py", "maker: quoting room"),
    ("core/maker/engine.py", "maker: handle dispatch"),
    ("core/maker/base.py", "maker: base (batches, log, facts)"),
    ("core/maker/lifecycle.py", "maker: lifecycle tables"),
    ("core/maker/", "maker: other rooms"),
    ("core/rejections.py", "rejections, pacing, news"),
    ("core/pacing.py", "rejections, pacing, news"),
    ("core/oidnews.py", "rejections, pacing, news"),
    ("core/fillgaps.py", "rejections, pacing, news"),
    ("core/risk.py", "risk"),
    ("core/commands.py", "commands and events (dataclasses)"),
    ("core/events.py", "commands and events (dataclasses)"),
    ("<string>", "generated dataclass __init__/__eq__/__hash__"),
    ("enum.py", "enum (stdlib)"),
    ("core/", "core: other"),
    ("<built-in", "builtins (C: isinstance, len, dict/list methods, ...)"),
    ("<method", "builtins (C: isinstance, len, dict/list methods, ...)"),
    ("~", "builtins (C: isinstance, len, dict/list methods, ...)"),
)

# Functions whose inclusive time is reported (label substring, shown name).
KEY_FUNCTIONS: tuple[tuple[str, str], ...] = (
    ("engine.py:handle", "MarketMaker.handle"),
    ("quoting.py:_quote", "Quoter._quote (the reaction)"),
    ("strategy.py:desired_ladder", "strategy.desired_ladder"),
    ("executor.py:plan", "Executor.plan (diff)"),
    ("quoting.py:_sides", "Quoter._sides (gates, spreads)"),
    ("quoting.py:_fenced", "Quoter._fenced"),
    ("base.py:_batches", "MakerBase._batches"),
    ("base.py:_facts", "MakerBase._facts"),
    ("book.py:apply_delta", "LocalBook.apply_delta"),
    ("orders.py:on_fill", "OrderTracker.on_fill"),
    ("fills.py:_on_fill", "FillCounting._on_fill"),
    ("engine.py:_mid_moved", "MarketMaker._mid_moved"),
    ("engine.py:_risk", "risk check"),
    ("emergency.py:_risk", "Emergency._risk"),
    ("fractions.py", "Fraction (all methods)"),
)


def _label(func: tuple[str, int, str]) -> str:
    filename, _, name = func
    return f"{filename}:{name}"


def area_of(label: str) -> str:
    for needle, area in AREAS:
        if needle in label:
            return area
    return "other (stdlib, typing)"


def per_type(cfg: Config, instrument: Any, steps: list[Step], repeats: int) -> None:
    """Time per ``handle`` call by event type (and, for book events, with or without
    commands), no profiler attached; median of the repeats' totals."""
    totals: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = {}
    for _ in range(repeats):
        maker = make_maker(cfg, instrument)
        maker.start(0.0)
        handle, tick, perf = maker.handle, maker.tick, time.perf_counter
        spent: dict[str, float] = defaultdict(float)
        n: dict[str, int] = defaultdict(int)
        for now, event in steps:
            if event is None:
                tick(now)
                continue
            t0 = perf()
            out = handle(event, now)
            dt = perf() - t0
            kind = type(event).__name__
            if isinstance(event, BookDelta | BookSnapshot):
                kind += " -> commands" if out else " (no commands)"
            spent[kind] += dt
            n[kind] += 1
        for k, v in spent.items():
            totals[k].append(v)
        counts = dict(n)
    med = {k: sorted(v)[len(v) // 2] for k, v in totals.items()}
    whole = sum(med.values())
    print("| event kind | events | share of events | mean us/event | share of handle time |")
    print("|---|---:|---:|---:|---:|")
    n_all = sum(counts.values())
    for k in sorted(med, key=lambda k: -med[k]):
        print(
            f"| {k} | {counts[k]:,} | {100 * counts[k] / n_all:.1f}% | "
            f"{1e6 * med[k] / counts[k]:.1f} | {100 * med[k] / whole:.1f}% |"
        )
    print(f"| all | {n_all:,} | 100% | {1e6 * whole / n_all:.2f} | 100% |")
    print(f"\n{n_all / whole:,.0f} events/s inside handle (median of {repeats})\n")


def _profile(cfg: Config, instrument: Any, steps: list[Step], reactions_only: bool) -> pstats.Stats:
    """One replay under cProfile: the whole of ``handle`` or, with ``reactions_only``, only
    the book events' ``handle`` calls (the profiler is enabled around those calls alone;
    calls that caused no commands are profiled too, they are most of the book events)."""
    maker = make_maker(cfg, instrument)
    maker.start(0.0)
    prof = cProfile.Profile()
    book_types = (BookDelta, BookSnapshot)
    for now, event in steps:
        if event is None:
            maker.tick(now)
            continue
        if reactions_only and not isinstance(event, book_types):
            maker.handle(event, now)
            continue
        prof.enable()
        maker.handle(event, now)
        prof.disable()
    return pstats.Stats(prof)


def areas(stats: pstats.Stats, title: str) -> None:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    by_func: dict[str, float] = defaultdict(float)
    total = 0.0
    for func, (_cc, _nc, tt, _ct, _callers) in raw.items():
        label = _label(func)
        by_area[area_of(label)] += tt
        by_func[label] += tt
        total += tt
    print(f"#### {title}: own time by area (cProfile, total {total:.3f} s)\n")
    print("| area | share of own time |")
    print("|---|---:|")
    for area, t in sorted(by_area.items(), key=lambda kv: -kv[1]):
        print(f"| {area} | {100 * t / total:.1f}% |")
    print(f"\n#### {title}: top 25 functions by own time\n")
    print("| function | calls | own time share |")
    print("|---|---:|---:|")
    calls = {_label(f): v[1] for f, v in raw.items()}
    for label, t in sorted(by_func.items(), key=lambda kv: -kv[1])[:25]:
        short = label.split("/wt22/")[-1].split("site-packages/")[-1].split("/lib/python3.11/")[-1]
        print(f"| `{short}` | {calls[label]:,} | {100 * t / total:.1f}% |")
    print(f"\n#### {title}: inclusive time of the key functions\n")
    print("| function | inclusive share |")
    print("|---|---:|")
    handle_total = total
    for needle, name in KEY_FUNCTIONS:
        ct = sum(
            v[3] if needle != "fractions.py" else v[2]
            for f, v in raw.items()
            if needle in _label(f).replace(f"{f[0]}:", f"{f[0].rsplit('/', 1)[-1]}:")
        )
        if ct:
            print(f"| {name} | {100 * ct / handle_total:.1f}% |")
    print()


def gc_pauses(cfg: Config, instrument: Any, steps: list[Step], policy: bool) -> None:
    """Replay the stream with ``gc.callbacks`` logging every collection."""
    log: list[tuple[int, float]] = []
    starts: dict[int, float] = {}

    def callback(phase: str, info: dict[str, int]) -> None:
        gen = info["generation"]
        if phase == "start":
            starts[gen] = time.perf_counter()
        else:
            log.append((gen, time.perf_counter() - starts.pop(gen, time.perf_counter())))

    saved = gc.get_threshold()
    gc.collect()
    gc.freeze()  # the recording is not part of a live engine's heap (as bench_maker)
    maker = make_maker(cfg, instrument)
    maker.start(0.0)
    if policy:
        gc.freeze()
        young, middle, _ = saved
        gc.set_threshold(young, middle, 100)
    gc.callbacks.append(callback)
    t0 = time.perf_counter()
    try:
        for now, event in steps:
            if event is None:
                maker.tick(now)
            else:
                maker.handle(event, now)
    finally:
        wall = time.perf_counter() - t0
        gc.callbacks.remove(callback)
        gc.set_threshold(*saved)
        gc.unfreeze()
    name = "engine policy (freeze + full every 100 gen-1)" if policy else "CPython default"
    for gen in (0, 1, 2):
        pauses = sorted(1e3 * d for g, d in log if g == gen)
        if pauses:
            print(
                f"| {name} | gen {gen} | {len(pauses)} | {60 * len(pauses) / wall:.1f} | "
                f"{pauses[len(pauses) // 2]:.3f} | {pauses[-1]:.3f} | {sum(pauses):.1f} | "
                f"{100 * sum(pauses) / 1e3 / wall:.2f}% |"
            )
        else:
            print(f"| {name} | gen {gen} | 0 | 0 | - | - | 0 | 0% |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--section", default="types,areas,reaction,gc")
    args = ap.parse_args()
    sections = set(args.section.split(","))
    cfg, inst, steps = record(args.seconds)
    rq_cfg, rq_inst, rq_steps = record(args.seconds, config=requote_config())
    gc.collect()
    gc.freeze()
    if "types" in sections:
        print("### handle per event kind, recorded mix\n")
        per_type(cfg, inst, steps, args.repeats)
        print("### handle per event kind, re-quote stream\n")
        per_type(rq_cfg, rq_inst, rq_steps, args.repeats)
    if "areas" in sections:
        areas(_profile(cfg, inst, steps, False), "recorded mix, all of handle")
    if "reaction" in sections:
        areas(_profile(rq_cfg, rq_inst, rq_steps, True), "re-quote stream, book events")
    gc.unfreeze()
    if "gc" in sections:
        print("### collections during a replay (gc.callbacks)\n")
        print("| policy | generation | count | per minute | p50 ms | max ms | total ms | share |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for stream, (c, i, s) in (
            ("mix", (cfg, inst, steps)),
            ("re-quote", (rq_cfg, rq_inst, rq_steps)),
        ):
            print(f"| **{stream} stream** | | | | | | | |")
            for policy in (False, True):
                gc_pauses(c, i, s, policy)


if __name__ == "__main__":
    main()
