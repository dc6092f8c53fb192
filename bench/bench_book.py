"""Book maintenance side by side with a peer: our ``LocalBook`` vs nautilus_trader's
``OrderBook`` (L2, ``apply_delta``) on the same delta stream, in the same process.

The stream is the embedded exchange's own market data (a seeded run), so level churn, touch
moves and removals are realistic.  Both sides get their delta objects built before timing: we
measure book maintenance, not object construction.  nautilus_trader is an optional ``bench``
extra; without it the comparison is skipped with a clear message.

Both books are timed in the same repeat, one after the other (alternating which goes first),
with the thread's CPU time as well as the wall clock, so that the ratio compares the two on the
same machine state; the judged ratio is the median of the per-repeat CPU-time ratios.

    python -m bench.bench_book [--quick] [--deltas N] [--repeats N]
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from bench.results import Result
from core.book import LocalBook
from core.clock import VirtualClock
from core.events import BookDelta, Event, Side
from core.harness.loop import SimLoop
from core.simconfig import FaultConfig, FlowConfig, SimConfig
from core.venues.sim.exchange import SimExchange


class _Idle:
    def handle(self, event: Event, now: float) -> list[Any]:
        return []

    def tick(self, now: float) -> list[Any]:
        return []


def delta_stream(count: int, seed: int = 5) -> tuple[list[BookDelta], SimConfig]:
    cfg = SimConfig(
        seed=seed,
        flow=FlowConfig(refresh_rate_per_s=50.0, taker_rate_per_s=20.0, volatility_bps=3.0),
        faults=FaultConfig.profile("instant"),
    )
    exchange = SimExchange(cfg)
    loop = SimLoop(exchange, _Idle(), VirtualClock(), record=True)
    deltas: list[BookDelta] = []
    t = 0.0
    while len(deltas) < count:
        t += 60.0
        loop.run_until(t)
        deltas.extend(e for _, e in loop.log if isinstance(e, BookDelta))
        loop.log.clear()
    return deltas[:count], cfg


def time_ours(deltas: list[BookDelta]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to apply every delta to a fresh ``LocalBook``."""
    book = LocalBook()
    apply = book.apply_delta
    c0, t0 = time.thread_time(), time.perf_counter()
    for d in deltas:
        apply(d)
    return time.perf_counter() - t0, time.thread_time() - c0


def nautilus_deltas(deltas: list[BookDelta], cfg: SimConfig) -> tuple[Any, list[Any]] | None:
    try:
        from nautilus_trader.model.book import OrderBook
        from nautilus_trader.model.data import BookOrder, OrderBookDelta
        from nautilus_trader.model.enums import BookAction, BookType, OrderSide
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.objects import Price, Quantity
    except ImportError:
        return None
    inst = cfg.instrument()
    iid = InstrumentId.from_str(f"{cfg.symbol}-PERP.SIM")
    seen: dict[tuple[Side, int], bool] = {}
    out = []
    for seq, d in enumerate(deltas, 1):
        key = (d.side, d.price)
        side = OrderSide.BUY if d.side is Side.BID else OrderSide.SELL
        price = Price.from_str(str(inst.ticks_to_price(d.price).quantize(inst.tick_size)))
        size = Quantity.from_str(str(inst.lots_to_size(d.size).quantize(inst.lot_size)))
        if d.size == 0:
            action = BookAction.DELETE
            seen.pop(key, None)
        elif key in seen:
            action = BookAction.UPDATE
        else:
            action = BookAction.ADD
            seen[key] = True
        order = BookOrder(side, price, size, 0)
        out.append(OrderBookDelta(iid, action, order, 0, seq, 0, 0))

    def make_book() -> Any:
        return OrderBook(iid, BookType.L2_MBP)

    return make_book, out


def time_theirs(make_book: Any, deltas: list[Any]) -> tuple[float, float]:
    book = make_book()
    apply = book.apply_delta
    c0, t0 = time.thread_time(), time.perf_counter()
    for d in deltas:
        apply(d)
    return time.perf_counter() - t0, time.thread_time() - c0


def run(quick: bool = False, deltas: int | None = None, repeats: int | None = None) -> list[Result]:
    deltas = deltas if deltas is not None else (50_000 if quick else 200_000)
    repeats = repeats if repeats is not None else (3 if quick else 9)
    stream, cfg = delta_stream(deltas)
    theirs_input = nautilus_deltas(stream, cfg)
    if theirs_input is None:
        ours = []
        for _ in range(repeats):
            gc.collect()
            ours.append(len(stream) / time_ours(stream)[1])
        return [
            Result("book: ours, L2 deltas per CPU-second", ours, "deltas/s"),
            Result.skipped_because(
                "book: ours / nautilus_trader",
                "nautilus_trader not installed (pip install -e '.[bench]')",
            ),
        ]
    make_book, theirs_stream = theirs_input
    ours_cpu: list[float] = []
    theirs_cpu: list[float] = []
    ratios_cpu: list[float] = []
    ratios_wall: list[float] = []
    for i in range(repeats):
        gc.collect()
        if i % 2 == 0:
            ow, oc = time_ours(stream)
            tw, tc = time_theirs(make_book, theirs_stream)
        else:
            tw, tc = time_theirs(make_book, theirs_stream)
            ow, oc = time_ours(stream)
        ours_cpu.append(len(stream) / oc)
        theirs_cpu.append(len(stream) / tc)
        ratios_cpu.append(tc / oc)
        ratios_wall.append(tw / ow)
    note = f"{len(stream):,} deltas of a seeded sim run, same stream, same process"
    return [
        Result("book: ours, L2 deltas per CPU-second", ours_cpu, "deltas/s", note=note),
        Result("book: nautilus_trader OrderBook L2", theirs_cpu, "deltas/s", note="apply_delta"),
        Result("book: ours / nautilus_trader (CPU)", ratios_cpu, "x", target=(">=", 1.0)),
        Result(
            "book: ours / nautilus_trader (wall)",
            ratios_wall,
            "x",
            target=(">=", 1.0),
            note="wall clock, same repeats",
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--deltas", type=int)
    ap.add_argument("--repeats", type=int)
    args = ap.parse_args()
    for r in run(args.quick, args.deltas, args.repeats):
        print(r.line())


if __name__ == "__main__":
    main()
