"""Console cost: the engine's throughput with the console attached vs headless, and the
screen updates per second the console achieves while the engine is saturated.

The engine (``bench.live.Engine.flood``: the real Runner on its own thread, the workload's
market in virtual time advanced exactly as fast as the engine consumes it) runs for the whole
benchmark; its throughput is its capacity in events per second.  Windows alternate: headless
(the main thread idle, as ``mm-console --no-ui`` would leave the engine alone), then the real
``ConsoleApp`` attached (``App.run_test``, 160x48, refreshing at ``ui.refresh_hz``), and so
on.  Each pair gives a ratio measured on the same engine within seconds, so the machine's load
drifts less between the two sides than between two separate runs.  The app shares the
process, and therefore the GIL, with the engine: that is the cost measured.

Note: Textual's headless driver skips only the last step of a frame (turning the compositor's
update into escape codes and writing them); layout, styles and line rendering all run.

    python -m bench.bench_console [--quick] [--pairs N] [--window SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.live import Engine, console_app
from bench.results import Result

RATIO_TARGET = 0.8
SIZE = (160, 48)


def _rate(engine: Engine, seconds: float) -> float:
    runner = engine.runner
    e0, t0 = runner.events_handled, time.perf_counter()
    time.sleep(seconds)
    return (runner.events_handled - e0) / (time.perf_counter() - t0)


async def _attached(engine: Engine, seconds: float, warmup: float) -> dict[str, float]:
    """One window with the console attached; ``time.thread_time`` here is the main thread's,
    the one Textual runs on."""
    app = console_app(engine)
    runner = engine.runner
    async with app.run_test(size=SIZE):
        await asyncio.sleep(warmup)
        f0, v0 = app.frames, app.views
        e0, t0, c0 = runner.events_handled, time.perf_counter(), time.thread_time()
        await asyncio.sleep(seconds)
        dt = time.perf_counter() - t0
        cpu = time.thread_time() - c0
        frames = app.frames - f0
        return {
            "rate": (runner.events_handled - e0) / dt,
            "frames": frames / dt,
            "views": (app.views - v0) / dt,
            "ui_cpu_share": cpu / dt,
            "cpu_per_frame_ms": 1e3 * cpu / max(1, frames),
        }


def run(quick: bool = False, pairs: int | None = None, window: float | None = None) -> list[Result]:
    pairs = pairs if pairs is not None else (2 if quick else 4)
    window = window if window is not None else (3.0 if quick else 6.0)
    warmup = 1.0
    engine = Engine.flood()
    engine.start()
    headless: list[float] = []
    attached: list[float] = []
    ratios: list[float] = []
    frames: list[float] = []
    views: list[float] = []
    ui_share: list[float] = []
    per_frame: list[float] = []
    crashes: list[str] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        time.sleep(2.0)  # start-up sync and sweep, first quotes
        for _ in range(pairs):
            time.sleep(warmup)
            h = _rate(engine, window)
            for _attempt in range(3):
                try:
                    out = asyncio.run(_attached(engine, window, warmup))
                    break
                except Exception as exc:  # the app crashed: count it, attach a fresh one
                    crashes.append(f"{type(exc).__name__}: {exc}")
            else:
                raise RuntimeError(f"the console crashed 3 times: {crashes[-1]}")
            headless.append(h)
            attached.append(out["rate"])
            ratios.append(out["rate"] / h)
            frames.append(out["frames"])
            views.append(out["views"])
            ui_share.append(out["ui_cpu_share"])
            per_frame.append(out["cpu_per_frame_ms"])
    finally:
        engine.stop()
    share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    note = (
        f"{pairs} alternating {window:g} s windows; this process used {share:.2f} CPUs "
        f"on average (2 cores, shared)"
    )
    if crashes:
        note += f"; the console crashed {len(crashes)}x ({crashes[0]}) and was re-attached"
    return [
        Result("console: engine capacity, headless", headless, "events/s", note=note),
        Result("console: engine capacity, console attached", attached, "events/s"),
        Result(
            "console: attached / headless throughput",
            ratios,
            "x",
            target=(">=", RATIO_TARGET),
            note="per pair of windows",
        ),
        Result(
            "console: screen updates/s, engine saturated",
            frames,
            "/s",
            target=(">=", 10.0),
            note=f"new views applied: {sorted(views)[len(views) // 2]:.1f}/s",
        ),
        Result(
            "console: UI thread CPU per screen update",
            per_frame,
            "ms",
            note=f"UI thread busy {100 * sorted(ui_share)[len(ui_share) // 2]:.0f}% of the "
            "window (CPU time); the engine gets the GIL only for the rest",
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--pairs", type=int)
    ap.add_argument("--window", type=float)
    args = ap.parse_args()
    for r in run(args.quick, args.pairs, args.window):
        print(r.line())


if __name__ == "__main__":
    main()
