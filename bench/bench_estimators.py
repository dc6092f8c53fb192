"""What the market signals cost per event (issue 20): ``MidVolatility.update`` per mid change
and ``HawkesIntensity.record`` per aggressive trade, plus reading the cascade ratio, on a
seeded random walk of mids and trade times.  Target: at most 1 us per market event.

    python -m bench.bench_estimators [--quick]
"""

from __future__ import annotations

import random
import time

from bench.results import Result, quick_main
from core.estimators.hawkes import HawkesIntensity
from core.estimators.volatility import MidVolatility

TARGET_US = 1.0


def _stream(n: int) -> tuple[list[float], list[int]]:
    rng = random.Random(20)
    t, mid = 0.0, 300_000
    times, mids = [], []
    for _ in range(n):
        t += rng.expovariate(50.0)
        mid = max(1, mid + rng.choice((-1, 0, 0, 1)))
        times.append(t)
        mids.append(mid)
    return times, mids


def _per_event_us(fn, times: list[float], mids: list[int]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(times, mids)
    return 1e6 * (time.perf_counter() - start) / len(times)


def _vol(times: list[float], mids: list[int]) -> None:
    vol = MidVolatility()
    update = vol.update
    for t, m in zip(times, mids, strict=True):
        update(t, m)


def _hawkes(times: list[float], mids: list[int]) -> None:
    hawkes = HawkesIntensity()
    record, ratio = hawkes.record, hawkes.ratio
    for t in times:
        record(t)
        ratio(t)


def run(quick: bool = False, verbose: bool = True) -> list[Result]:
    times, mids = _stream(50_000 if quick else 200_000)
    rounds = 3 if quick else 7
    vol = [_per_event_us(_vol, times, mids) for _ in range(rounds)]
    hawkes = [_per_event_us(_hawkes, times, mids) for _ in range(rounds)]
    if verbose:
        print(f"  volatility update: {', '.join(f'{x:.3f}' for x in vol)} us")
        print(f"  hawkes record + ratio: {', '.join(f'{x:.3f}' for x in hawkes)} us")
    return [
        Result(
            "estimators: MidVolatility.update per mid change",
            vol,
            "us",
            target=("<=", TARGET_US),
            note=f"{len(times):,} events of a seeded random walk, {rounds} runs",
        ),
        Result(
            "estimators: HawkesIntensity.record + ratio per trade",
            hawkes,
            "us",
            target=("<=", TARGET_US),
            note="one side's trade and a read of its cascade ratio",
        ),
    ]


def main() -> None:
    quick_main(__doc__ or "", run)


if __name__ == "__main__":
    main()
