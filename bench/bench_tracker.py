"""Fills per second through ``OrderTracker.on_fill`` with 100 and with 20,000 live orders.

A peer's tracker fell from 63k to 2.2k fills/s at 20,000 orders because it scanned every
order on every fill (issue 2, item 6).  Ours indexes by cloid and oid and keeps exposure
incrementally, so the two figures should be the same within noise.

    python -m bench.bench_tracker [--quick] [--fills N] [--repeats R]

Each repeat builds a fresh tracker, rests the orders, then times N fills (unique tids, each too
small to complete its order).  Two access patterns:

* ``touch``: the fills hit the 20 orders nearest the touch, as in a real ladder (whatever else
  is tracked sits far away and rarely trades);
* ``spread``: every fill hits a different, pseudo-random one of all the orders: the worst case
  for the CPU cache, which is not the tracker's algorithm (``tests/unit/test_orders.py`` counts the
  lines each event executes and finds them equal for 100 and 20,000 orders).

Reports the median over the repeats with its spread, and the 20,000/100 ratio per repeat
(both sizes timed back to back).  Wall-clock numbers are for a human, never asserted by a
test.
"""

from __future__ import annotations

import argparse
import time

from bench.results import Result
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


def run(quick: bool = False, fills: int | None = None, repeats: int | None = None) -> list[Result]:
    fills = fills if fills is not None else (20_000 if quick else 100_000)
    repeats = repeats if repeats is not None else (3 if quick else 7)
    results: list[Result] = []
    for pattern in ("touch", "spread"):
        small: list[float] = []
        large: list[float] = []
        for _ in range(repeats):
            small.append(fills_per_second(100, fills, pattern))
            large.append(fills_per_second(20_000, fills, pattern))
        ratios = [b / a for a, b in zip(small, large, strict=True)]
        results += [
            Result(f"tracker ({pattern}): fills/s, 100 live orders", small, "fills/s"),
            Result(f"tracker ({pattern}): fills/s, 20,000 live orders", large, "fills/s"),
            Result(
                f"tracker ({pattern}): 20,000 / 100 orders",
                ratios,
                "x",
                note="an O(orders) scan per fill would make this ~0.01",
            ),
        ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--fills", type=int)
    parser.add_argument("--repeats", type=int)
    args = parser.parse_args()
    for r in run(args.quick, args.fills, args.repeats):
        print(r.line())


if __name__ == "__main__":
    main()
