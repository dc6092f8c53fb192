"""The garbage collector under load: where collections land and how long they take, in the real
threaded engine (``bench.live.Engine.paced``: a Runner on its own thread, the embedded
exchange on the wall clock pushing 5,000 and 20,000 events per second).

Every collection is timed with ``gc.callbacks`` and marked by whether it began inside
``MarketMaker.handle`` (a reaction) or outside it.  Two policies, one after the other at each
rate:

* ``paced`` -- what the console and headless engines run (``core/gcpolicy.py``): automatic
  collection off, the runner collecting the due generation after an event's commands left;
* ``automatic`` -- CPython's own trigger (the engine before issue 22), for comparison.

Both after ``quiet_collector`` (start-up frozen, rarer full collections), as the console does.
A full collection is rare at these thresholds (one every 100 middle ones), so at the end of each
run one is forced and timed: what a full collection of that engine's heap costs when it comes.

    python -m bench.bench_gc [--quick] [--seconds S] [--rates 5000,20000]
"""

from __future__ import annotations

import argparse
import gc
import threading
import time
from typing import Any

from bench.live import Engine
from bench.results import Result, pct
from core.gcpolicy import quiet_collector


class _Watch:
    """``gc.callbacks``: each collection's generation, pause, and whether the engine thread was
    inside ``handle`` when it began."""

    def __init__(self) -> None:
        self.inside = False
        self.engine_thread: int | None = None
        self.pauses: list[tuple[int, float, bool]] = []
        self._t0 = 0.0
        self._gen = 0
        self._in = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
            self._gen = info["generation"]
            self._in = self.inside and threading.get_ident() == self.engine_thread
        else:
            self.pauses.append((self._gen, time.perf_counter() - self._t0, self._in))


def _run(rate: float, seconds: float, paced: bool) -> tuple[_Watch, float, int]:
    """(the watch, the forced full collection's seconds, events handled)."""
    engine = Engine.paced(rate)
    engine.runner.paced_collections = paced
    watch = _Watch()
    maker = engine.maker
    original = maker.handle

    def handle(event: Any, now: float) -> Any:
        watch.inside = True
        try:
            return original(event, now)
        finally:
            watch.inside = False

    maker.handle = handle  # type: ignore[method-assign]
    engine.start()
    watch.engine_thread = engine.thread_ident
    engine.wait_quoting()
    handled0 = engine.runner.events_handled
    gc.callbacks.append(watch)
    try:
        time.sleep(seconds)
    finally:
        gc.callbacks.remove(watch)
    handled = engine.runner.events_handled - handled0
    t0 = time.perf_counter()
    gc.collect(2)
    full = time.perf_counter() - t0
    engine.stop()
    return watch, full, handled


def run(
    quick: bool = False, seconds: float | None = None, rates: list[float] | None = None
) -> list[Result]:
    seconds = seconds if seconds is not None else (5.0 if quick else 30.0)
    rates = rates if rates is not None else [5000.0, 20000.0]
    quiet_collector()
    results: list[Result] = []
    for rate in rates:
        label = f"{rate / 1000:g}k/s"
        for paced in (True, False):
            policy = "paced" if paced else "automatic"
            watch, full, handled = _run(rate, seconds, paced)
            inside = [p for g, p, i in watch.pauses if i]
            young = [p for g, p, _ in watch.pauses if g < 2]
            counts = [sum(1 for g, _, _ in watch.pauses if g == k) for k in range(3)]
            note = (
                f"{handled / seconds:,.0f} events/s handled over {seconds:g} s; collections by "
                f"generation {counts[0]}/{counts[1]}/{counts[2]}; {len(inside)} began inside "
                f"handle (max {1e3 * max(inside, default=0.0):.2f} ms)"
            )
            results.append(
                Result(
                    f"gc @{label} {policy}: collections inside handle",
                    [float(len(inside))],
                    "",
                    target=("<=", 0.0) if paced else None,
                    note=note,
                )
            )
            results.append(
                Result(
                    f"gc @{label} {policy}: young collection max",
                    [1e3 * max(young, default=0.0)],
                    "ms",
                    note=f"p50 {1e3 * pct(young, 0.5) if young else 0.0:.2f} ms, "
                    f"p99 {1e3 * pct(young, 0.99) if young else 0.0:.2f} ms",
                )
            )
            results.append(
                Result(
                    f"gc @{label} {policy}: a full collection of the engine's heap",
                    [1e3 * full],
                    "ms",
                    note="forced at the end of the run (one every 100 middle collections)",
                )
            )
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--rates", help="comma-separated events per second, e.g. 5000,20000")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")] if args.rates else None
    for r in run(args.quick, args.seconds, rates):
        print(r.line())


if __name__ == "__main__":
    main()
