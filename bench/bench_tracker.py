"""Fills per second through ``OrderTracker.on_fill`` with 100 and with 20,000 live orders.

A peer's tracker fell from 63k to 2.2k fills/s at 20,000 orders because it scanned every
order on every fill (issue 2, item 6).  Ours indexes by cloid and oid and keeps exposure
incrementally, so the two figures should be the same within noise.

    python bench/bench_tracker.py [--fills N] [--repeats R]

Each repeat builds a fresh tracker, rests the orders, then times N fills (unique tids, each too
small to complete its order).  Two access patterns:

* ``touch``: the fills hit the 20 orders nearest the touch, as in a real ladder (whatever else
  is tracked sits far away and rarely trades);
* ``spread``: every fill hits a different, pseudo-random one of all the orders: the worst case
  for the CPU cache, which is not the tracker's algorithm (``tests/test_orders.py`` counts the
  lines each event executes and finds them equal for 100 and 20,000 orders).

Prints the median over the repeats.  Wall-clock numbers are for a human, never asserted by a
test.
"""

from __future__ import annotations

import argparse
import statistics
import time

from core.commands import Place
from core.events import AckStatus, Fill, Liquidity, PlaceAck, Side
from core.orders import OrderTracker


def build(n_orders: int) -> OrderTracker:
    tracker = OrderTracker()
    for i in range(n_orders):
        side = Side.BID if i % 2 else Side.ASK
        tracker.track_place(Place(f"c{i}", side, 100_000 + i % 50, 10**9, level=None), 0.0)
        tracker.on_place_ack(PlaceAck(f"c{i}", 1_000_000 + i, AckStatus.RESTING), 0.0)
    return tracker


def fills_per_second(n_orders: int, n_fills: int, pattern: str) -> float:
    tracker = build(n_orders)
    # Prebuild the events so that only the tracker is timed.  Every 7th fill carries only the
    # oid (matched through the oid index), the rest carry the cloid too.
    events = []
    for tid in range(n_fills):
        i = tid % 20 if pattern == "touch" else (tid * 7919) % n_orders
        side = Side.BID if i % 2 else Side.ASK
        cloid = None if tid % 7 == 0 else f"c{i}"
        events.append(Fill(tid, 1_000_000 + i, cloid, side, 100_000, 1, Liquidity.MAKER))
    on_fill = tracker.on_fill
    start = time.perf_counter()
    for k, ev in enumerate(events):
        on_fill(ev, 1.0 + k * 1e-6)
    elapsed = time.perf_counter() - start
    assert tracker.ledger.duplicates == 0
    return n_fills / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"median of {args.repeats} repeats x {args.fills:,} fills")
    for pattern in ("touch", "spread"):
        results: dict[int, float] = {}
        for n_orders in (100, 20_000):
            runs = [fills_per_second(n_orders, args.fills, pattern) for _ in range(args.repeats)]
            results[n_orders] = statistics.median(runs)
            print(
                f"{pattern:>6}: {n_orders:>6} live orders: {results[n_orders]:>10,.0f} fills/s "
                f"(min {min(runs):,.0f}, max {max(runs):,.0f})"
            )
        ratio = results[20_000] / results[100]
        print(f"{pattern:>6}: 20,000 vs 100 orders: {ratio:.2f}x the throughput")


if __name__ == "__main__":
    main()
