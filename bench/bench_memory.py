"""Memory over a long run: resident set size after 1 million and after N million events of the
real maker against the embedded exchange in virtual time (the shared workload: about 15% of
the events are fills, so the fill ledger's trade-id retention is exercised, and orders finish
and are pruned all the time).

The run happens in a fresh child process (so nothing another benchmark allocated is counted)
with ``SimLoop(record=False)``; RSS is read from ``/proc/self/status`` (VmRSS) after a full
garbage collection at every million events.  The heap held by the maker and by the simulated
exchange (which lives in the same process, as it does in ``mm-console`` by default) is also
measured, by walking their object graphs in a forked copy of the process.  Target: growth
from 1M to 10M events <= 10 MB.
The full suite runs to 2M (about a minute here); ``--events 10000000`` is the long run
(several minutes), the one ``RESULTS.md`` reports.

    python -m bench.bench_memory [--quick] [--events N]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time

from bench.results import Result

GROWTH_TARGET_MB = 10.0
STEP = 1_000_000


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def deep_size(root: object) -> int:
    """Bytes reachable from ``root`` (each object once), not counting modules, classes and
    functions: the heap an object graph holds."""
    import types

    skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def sizes_in_fork(*roots: object) -> list[float]:
    """``deep_size`` of each root in MB, computed in a forked copy of this process, so that
    the walk's own allocations never show in this process's RSS."""
    import os

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: measure, report, vanish
        try:
            os.write(write_end, json.dumps([deep_size(r) / 2**20 for r in roots]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    os.close(read_end)
    os.waitpid(pid, 0)
    return [float(x) for x in json.loads(data)]


def child(events: int, step: int) -> dict[str, object]:
    from bench.bench_maker import make_maker
    from bench.workload import mix_config
    from core.clock import VirtualClock
    from core.harness.loop import SimLoop
    from core.venues.sim.exchange import SimExchange

    cfg = mix_config(seed=3)
    exchange = SimExchange(cfg.sim)
    maker = make_maker(cfg, exchange.instrument)
    loop = SimLoop(
        exchange, maker, VirtualClock(), tick_interval=cfg.strategy.tick_interval_s, record=False
    )
    for batch in maker.start(0.0):
        exchange.submit(batch, 0.0)
    points = []
    t = 0.0
    wall0 = time.perf_counter()
    next_mark = step
    while loop.events < events:
        t += 10.0
        loop.run_until(t)
        if loop.events >= next_mark:
            gc.collect()
            tracker = maker.tracker
            rss = rss_mb()
            maker_mb, exchange_mb = sizes_in_fork(maker, exchange)
            points.append(
                {
                    "events": loop.events,
                    "rss_mb": rss,
                    "maker_mb": maker_mb,
                    "exchange_mb": exchange_mb,
                    "simulated_s": t,
                    "wall_s": time.perf_counter() - wall0,
                    "tracked_orders": len(tracker),
                    "pruned_orders": tracker.pruned,
                    "tids": len(tracker.ledger),
                    "log": len(maker.log),
                    "mode": maker.mode.value,
                }
            )
            next_mark += step
    return {"points": points}


def run(quick: bool = False, events: int | None = None, verbose: bool = True) -> list[Result]:
    events = events if events is not None else (STEP if quick else 2 * STEP)
    step = STEP if not quick else STEP // 4
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_memory", "--child", str(events), "--step", str(step)],
        capture_output=True,
        text=True,
        check=True,
    )
    points = json.loads(proc.stdout.strip().splitlines()[-1])["points"]
    first, last = points[0], points[-1]
    if verbose:
        for p in points:
            print(
                f"  {p['events']:>11,} events: RSS {p['rss_mb']:7.1f} MB (maker "
                f"{p['maker_mb']:.1f} MB, simulated exchange {p['exchange_mb']:.1f} MB), "
                f"{p['tracked_orders']:,} orders tracked ({p['pruned_orders']:,} pruned), "
                f"{p['tids']:,} tids kept, {p['simulated_s'] / 3600:.1f} simulated h, "
                f"{p['wall_s']:.0f} s, {p['mode']}",
                flush=True,
            )
    growth = last["rss_mb"] - first["rss_mb"]
    n1, n2 = first["events"] / 1e6, last["events"] / 1e6
    rate = last["events"] / last["wall_s"]
    maker_growth = last["maker_mb"] - first["maker_mb"]
    exchange_growth = last["exchange_mb"] - first["exchange_mb"]
    return [
        Result(f"memory: RSS after {n1:g}M events", [first["rss_mb"]], "MB"),
        Result(
            f"memory: RSS after {n2:g}M events",
            [last["rss_mb"]],
            "MB",
            note=f"{last['tracked_orders']:,} orders tracked, {last['tids']:,} tids kept, "
            f"{last['simulated_s'] / 3600:.1f} simulated hours, {rate:,.0f} events/s",
        ),
        Result(
            f"memory: growth {n1:g}M -> {n2:g}M events",
            [growth],
            "MB",
            target=("<=", GROWTH_TARGET_MB) if last["events"] >= 10 * STEP else None,
            note=(
                "the target is for 1M -> 10M (python -m bench --long); "
                if last["events"] < 10 * STEP
                else ""
            )
            + f"of which the maker's heap {maker_growth:+.1f} MB, the simulated exchange's "
            f"{exchange_growth:+.1f} MB (object graphs, sys.getsizeof)",
        ),
        Result(
            f"memory: maker heap growth {n1:g}M -> {n2:g}M",
            [maker_growth],
            "MB",
            note=f"maker heap {first['maker_mb']:.1f} -> {last['maker_mb']:.1f} MB; "
            f"tids kept {first['tids']:,} -> {last['tids']:,}",
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--events", type=int, help="events to run (default 2M; 10M for the target)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--step", type=int, default=STEP, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.step)))
        return
    for r in run(args.quick, args.events):
        print(r.line())


if __name__ == "__main__":
    main()
