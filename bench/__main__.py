"""``python -m bench``: run every benchmark, print the table, write ``bench/RESULTS.md``.

    python -m bench              # the suite (about 10 minutes on a 2-core machine)
    python -m bench --quick      # a short smoke run of every benchmark (about 2 minutes;
                                 # prints only, writes nothing)
    python -m bench --long       # what RESULTS.md reports: 10M-event memory run, 200 kill
                                 # presses per load level (about 20 minutes)
    python -m bench --only maker,book   # some of them (names: see --help)

Every benchmark also runs alone: ``python -m bench.bench_<name> [--quick]``.  The figures
are stored in ``bench/results.json`` per benchmark (with the command, date and load of the run
that measured them) and ``RESULTS.md`` is rendered from it, so ``--only`` replaces the rows of
the benchmarks it ran and keeps the others; the hand-written analysis below the ``ANALYSIS``
marker of ``RESULTS.md`` is kept too.  ``--no-write`` leaves both files alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    bench_attach,
    bench_book,
    bench_console,
    bench_estimators,
    bench_gc,
    bench_journal,
    bench_kill,
    bench_kill_tty,
    bench_maker,
    bench_memory,
    bench_quality,
    bench_startup,
    bench_swarm,
    bench_tracker,
)
from bench.results import Result, load_average, machine, markdown_table, table

RESULTS_PATH = Path(__file__).with_name("RESULTS.md")
JSON_PATH = Path(__file__).with_name("results.json")
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
    "estimators": (
        "market signals: volatility and cascade intensity, cost per event",
        lambda a: bench_estimators.run(a.quick),
    ),
    "quality": (
        "quoting quality with cascades: fixed ladder vs signal-aware, same seeds",
        lambda a: bench_quality.run(a.quick),
    ),
    "tracker": (
        "order tracker: fills/s with 100 vs 20,000 live orders",
        lambda a: bench_tracker.run(a.quick),
    ),
    "gc": (
        "the collector under load: collections inside a reaction, paced vs automatic",
        lambda a: bench_gc.run(a.quick),
    ),
    "swarm": (
        "swarm: seeds per minute, simulated events per second",
        lambda a: bench_swarm.run(a.quick),
    ),
    "memory": (
        "memory: RSS over a long virtual-time run",
        lambda a: bench_memory.run(a.quick, 10_000_000 if a.long else None),
    ),
    "attach": (
        "attach: an attached console's cost to the engine, kill through the socket",
        lambda a: bench_attach.run(a.quick),
    ),
    "journal": (
        "journal: cost to the engine, size per hour, replay speed, SIGKILL loss",
        lambda a: bench_journal.run(a.quick),
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
    "kill_tty": (
        "kill through a real terminal: the console on a pty with Textual's Linux driver, "
        "key byte to CancelAll at the venue, 5k and 20k events/s",
        lambda a: bench_kill_tty.run(a.quick, 200 if a.long else (None if a.quick else 60)),
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
    ap.add_argument(
        "--render",
        action="store_true",
        help="run nothing: re-render RESULTS.md from bench/results.json",
    )
    ap.add_argument("--output", type=Path, default=RESULTS_PATH, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick and args.long:
        ap.error("--quick and --long exclude each other")
    if args.render:
        stored = json.loads(args.output.with_name(JSON_PATH.name).read_text(encoding="utf-8"))
        write_results(args.output, stored)
        print(f"wrote {args.output}")
        return
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
    sections: dict[str, dict[str, object]] = {}
    command = " ".join(["python -m bench", *sys.argv[1:]])
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
        sections[name] = {
            "title": title,
            "command": command,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seconds": round(elapsed, 1),
            "load_before": load_before,
            "load_after": load_average(),
            "results": [dataclasses.asdict(r) for r in results],
        }
    total = time.perf_counter() - start
    info["load average (1/5/15 min) at end"] = load_average()
    print()
    print("\n".join(table(all_results)))
    missed = [r.name for r in all_results if r.met is False]
    print(f"\n{len(all_results)} figures, {len(missed)} targets missed, {total / 60:.1f} min")
    if args.quick:
        print("(--quick: RESULTS.md and results.json left alone)")
    elif not args.no_write:
        # Load and date belong to each benchmark's run (see Runs), not to the machine.
        machine_info = {
            k: v for k, v in info.items() if not k.startswith("load average") and k != "date"
        }
        stored = merge(args.output.with_name(JSON_PATH.name), machine_info, sections)
        write_results(args.output, stored)
        print(f"wrote {args.output} and {JSON_PATH.name}")


def merge(
    path: Path, info: dict[str, str], sections: dict[str, dict[str, object]]
) -> dict[str, object]:
    """Replace the benchmarks just run in the stored figures; keep the others."""
    stored: dict[str, object] = {"machine": info, "benchmarks": {}}
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        stored["benchmarks"] = dict(old.get("benchmarks", {}))
    benchmarks = stored["benchmarks"]
    assert isinstance(benchmarks, dict)
    benchmarks.update(sections)
    stored["benchmarks"] = {name: benchmarks[name] for name in BENCHMARKS if name in benchmarks}
    path.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    return stored


def _result(data: dict[str, object]) -> Result:
    fields = dict(data)
    target = fields.get("target")
    fields["target"] = tuple(target) if isinstance(target, list) else target
    return Result(**fields)  # type: ignore[arg-type]


def write_results(path: Path, stored: dict[str, object]) -> None:
    kept = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if MARKER in old:
            kept = old.split(MARKER, 1)[1].strip("\n") + "\n"
    info = {k: v for k, v in dict(stored["machine"]).items() if k != "date"}  # type: ignore[call-overload]
    benchmarks = stored["benchmarks"]
    assert isinstance(benchmarks, dict)
    results = [_result(r) for b in benchmarks.values() for r in b["results"]]
    commands = sorted({str(b["command"]) for b in benchmarks.values()})
    lines = [
        "# Benchmark results",
        "",
        f"Produced by {', '.join(f'`{c}`' for c in commands)} (which benchmark ran in which "
        "run: see Runs). Every figure is the median over repeated runs with its spread "
        "(min..max, n); ratios are measured in the same run. The machine is shared (see the "
        "load averages), so absolute times are noisy. Targets are from issue 8.",
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
        "| benchmark | what | command | date | wall time | load average before | after |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {b['title']} | `{b['command']}` | {b['date']} | {b['seconds']:.0f} s "
            f"| {b['load_before']} | {b['load_after']} |"
            for name, b in benchmarks.items()
        ),
        "",
        MARKER,
        "",
        "",
    ]
    path.write_text("\n".join(lines) + kept, encoding="utf-8")


if __name__ == "__main__":
    main()
