"""``python -m bench``: run every benchmark, print the table, write ``bench/RESULTS.md``.

    python -m bench              # the suite (about 10 minutes on a 2-core machine)
    python -m bench --quick      # a short smoke run of every benchmark (about 2 minutes)
    python -m bench --long       # what RESULTS.md reports: 10M-event memory run, 200 kill
                                 # presses per load level (about 30 minutes)
    python -m bench --only maker,book   # some of them (names: see --help)

Every benchmark also runs alone: ``python -m bench.bench_<name> [--quick]``.  ``RESULTS.md``
is rewritten from the run (machine, date, load, table, per-benchmark notes); the hand-written
analysis below its ``ANALYSIS`` marker is kept.  ``--no-write`` leaves it alone.
"""

from __future__ import annotations

import argparse
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    bench_book,
    bench_console,
    bench_kill,
    bench_maker,
    bench_memory,
    bench_startup,
    bench_swarm,
    bench_tracker,
)
from bench.results import Result, load_average, machine, markdown_table, table

RESULTS_PATH = Path(__file__).with_name("RESULTS.md")
MARKER = "<!-- ANALYSIS: everything below this line is kept by `python -m bench` -->"

Runner = Callable[[argparse.Namespace], list[Result]]

BENCHMARKS: dict[str, tuple[str, Runner]] = {
    "maker": (
        "core throughput and reaction latency (MarketMaker.handle, recorded stream)",
        lambda a: bench_maker.run(a.quick),
    ),
    "book": (
        "book maintenance: LocalBook vs nautilus_trader OrderBook (L2 deltas)",
        lambda a: bench_book.run(a.quick),
    ),
    "tracker": (
        "order tracker: fills/s with 100 vs 20,000 live orders",
        lambda a: bench_tracker.run(a.quick),
    ),
    "swarm": (
        "swarm: seeds per minute, simulated events per second",
        lambda a: bench_swarm.run(a.quick),
    ),
    "memory": (
        "memory: RSS over a long virtual-time run",
        lambda a: bench_memory.run(a.quick, 10_000_000 if a.long else None),
    ),
    "startup": (
        "start-up: first quote headless, first frame in a pty",
        lambda a: bench_startup.run(a.quick),
    ),
    "console": (
        "console cost: engine capacity attached vs headless, screen updates",
        lambda a: bench_console.run(a.quick),
    ),
    "kill": (
        "kill under load: key press to CancelAll at the venue, 5k and 20k events/s",
        lambda a: bench_kill.run(a.quick, 200 if a.long else (None if a.quick else 60)),
    ),
}


def main() -> None:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks, print a table, write bench/RESULTS.md.",
    )
    ap.add_argument("--quick", action="store_true", help="short smoke run of everything")
    ap.add_argument(
        "--long",
        action="store_true",
        help="the RESULTS.md run: memory to 10M events, 200 kill presses per load level",
    )
    ap.add_argument(
        "--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}", default=""
    )
    ap.add_argument("--no-write", action="store_true", help="do not rewrite RESULTS.md")
    ap.add_argument("--output", type=Path, default=RESULTS_PATH, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick and args.long:
        ap.error("--quick and --long exclude each other")
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")

    info = machine()
    mode = "--quick" if args.quick else "--long" if args.long else "default"
    print(f"python -m bench ({mode}) on {info['cpu']}, {info['cores']}, {info['python']}")
    print(f"load average at start: {info['load average (1/5/15 min) at start']}", flush=True)
    start = time.perf_counter()
    all_results: list[Result] = []
    sections: list[tuple[str, str, float, str, str]] = []
    for name in names:
        title, runner = BENCHMARKS[name]
        print(f"\n== {name}: {title}", flush=True)
        load_before = load_average()
        t0 = time.perf_counter()
        try:
            results = runner(args)
        except Exception as exc:
            traceback.print_exc()
            results = [Result.skipped_because(f"{name}: failed", f"{type(exc).__name__}: {exc}")]
        elapsed = time.perf_counter() - t0
        for r in results:
            print(r.line(), flush=True)
        print(f"   ({elapsed:.0f} s)", flush=True)
        all_results.extend(results)
        sections.append((name, title, elapsed, load_before, load_average()))
    total = time.perf_counter() - start
    info["load average (1/5/15 min) at end"] = load_average()
    print()
    print("\n".join(table(all_results)))
    missed = [r.name for r in all_results if r.met is False]
    print(f"\n{len(all_results)} figures, {len(missed)} targets missed, {total / 60:.1f} min")
    if not args.no_write:
        write_results(args.output, info, mode, all_results, sections, total)
        print(f"wrote {args.output}")


def write_results(
    path: Path,
    info: dict[str, str],
    mode: str,
    results: list[Result],
    sections: list[tuple[str, str, float, str, str]],
    total: float,
) -> None:
    kept = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if MARKER in old:
            kept = old.split(MARKER, 1)[1].lstrip("\n")
    command = "python -m bench" + ("" if mode == "default" else f" {mode}")
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{command}` ({total / 60:.1f} min). Every figure is the median over "
        "repeated runs with its spread (min..max, n); ratios are measured in the same run. "
        "The machine is shared (see the load average), so absolute times are noisy; "
        "targets are from issue 8.",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in info.items()),
        "",
        "## Results",
        "",
        *markdown_table(results),
        "",
        "## Runs",
        "",
        "| benchmark | what | wall time | load average before | after |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {title} | {elapsed:.0f} s | {before} | {after} |"
            for name, title, elapsed, before, after in sections
        ),
        "",
        MARKER,
        "",
    ]
    path.write_text("\n".join(lines) + kept, encoding="utf-8")


if __name__ == "__main__":
    main()
