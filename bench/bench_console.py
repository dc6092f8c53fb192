"""Console cost: what the console takes from the engine, as a ratio of the engine's capacity
with the console attached to its capacity headless, and the screen updates per second.

The load is the one issue 5 names: the embedded exchange on the wall clock pushing 5,000
events per second into the real threaded engine (``bench.live.Engine.paced``).  At that load
both set-ups keep up, so the events handled are equal and say nothing; what differs is how much
of the process the engine could still use.  Windows alternate on one engine: headless (the main
thread sleeps, as if there were no screen), then the real ``ConsoleApp`` attached
(``App.run_test``, 160x48, refreshing at ``ui.refresh_hz``), and so on.  In each window the
engine thread's CPU time (``pthread_getcpuclockid``) and, attached, the UI thread's are read:

* the UI share of the GIL: the UI thread's CPU time over the window (both threads run Python,
  so they share one GIL: time the UI holds it is time the engine cannot run);
* the engine's capacity attached relative to headless is at most ``1 - UI share`` (judged:
  target >= 0.8) — if the engine needs as much CPU per event in both set-ups, which the
  engine's CPU per event, measured in both windows, shows (it comes out a little lower
  attached: the engine's loop wakes less often and takes more events per wake-up);
* screen updates per second (compositor updates, target >= 10) and the UI thread's CPU per
  screen update.

The benchmark sets the same 1 ms GIL switch interval that ``run_console`` sets.

Then the direct measurement: the engine flooded (``Engine.flood``: the exchange in virtual
time, as fast as the engine takes its events) and its event rate with and without the console,
per pair of windows (target >= 0.8 too), with the screen updates the console still manages.
With Python's default 5 ms switch interval a flooded engine starved Textual so badly here that
the app had not finished starting after a minute; with 1 ms it runs.

Textual's headless driver skips only the last step of a frame (turning the compositor's
update into escape codes and writing them); layout, styles and line rendering all run.

    python -m bench.bench_console [--quick] [--pairs N] [--window SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.live import Engine, console_app, console_process
from bench.results import Result

RATIO_TARGET = 0.8
UPDATES_TARGET = 10.0
RATE = 5000
SIZE = (160, 48)


class _Meter:
    """Events handled and engine-thread CPU seconds since the last ``take``."""

    def __init__(self, engine: Engine) -> None:
        ident = engine.thread_ident
        assert ident is not None, "engine not started"
        self._clock = time.pthread_getcpuclockid(ident)
        self._engine = engine
        self._mark()

    def _mark(self) -> None:
        self._events = self._engine.runner.events_handled
        self._cpu = time.clock_gettime(self._clock)
        self._wall = time.perf_counter()

    def take(self) -> tuple[int, float, float]:
        events = self._engine.runner.events_handled - self._events
        cpu = time.clock_gettime(self._clock) - self._cpu
        wall = time.perf_counter() - self._wall
        self._mark()
        return events, cpu, wall


async def _attached(engine: Engine, seconds: float, warmup: float) -> dict[str, float]:
    """One window with the console attached; ``time.thread_time`` here is the main thread's,
    the one Textual runs on."""
    app = console_app(engine)
    async with app.run_test(size=SIZE):
        await asyncio.sleep(warmup)
        meter = _Meter(engine)
        f0, v0, c0 = app.frames, app.views, time.thread_time()
        await asyncio.sleep(seconds)
        events, engine_cpu, wall = meter.take()
        ui_cpu = time.thread_time() - c0
        frames = app.frames - f0
        if app.return_code is not None:  # the app died during the window: not a measurement
            raise RuntimeError(f"the console exited with code {app.return_code}")
        return {
            "events": events,
            "engine_cpu": engine_cpu,
            "wall": wall,
            "ui_share": ui_cpu / wall,
            "frames": frames / wall,
            "views": (app.views - v0) / wall,
            "cpu_per_frame_ms": 1e3 * ui_cpu / max(1, frames),
        }


def _attach(engine: Engine, window: float, warmup: float, crashes: list[str]) -> dict[str, Any]:
    for _ in range(3):
        try:
            return asyncio.run(_attached(engine, window, warmup))
        except Exception as exc:  # the app crashed: count it, attach a fresh one
            crashes.append(f"{type(exc).__name__}: {exc}")
    raise RuntimeError(f"the console crashed 3 times: {crashes[-1]}")


def run(quick: bool = False, pairs: int | None = None, window: float | None = None) -> list[Result]:
    pairs = pairs if pairs is not None else (2 if quick else 4)
    window = window if window is not None else (3.0 if quick else 6.0)
    with console_process():
        return _run(pairs, window, quick)


def _run(pairs: int, window: float, quick: bool) -> list[Result]:
    warmup = 1.0
    engine = Engine.paced(RATE)
    engine.start()
    headless: list[float] = []  # engine CPU per event, us
    attached: list[float] = []
    ratios: list[float] = []
    frames: list[float] = []
    views: list[float] = []
    per_frame: list[float] = []
    crashes: list[str] = []
    rates: list[float] = []
    try:
        if not engine.wait_quoting(30.0):
            raise RuntimeError("the engine never started quoting")
        for _ in range(pairs):
            time.sleep(warmup)
            meter = _Meter(engine)
            time.sleep(window)
            events, engine_cpu, wall = meter.take()
            out = _attach(engine, window, warmup, crashes)
            headless.append(1e6 * engine_cpu / events)
            attached.append(1e6 * out["engine_cpu"] / out["events"])
            ratios.append(1.0 - out["ui_share"])
            frames.append(out["frames"])
            views.append(out["views"])
            per_frame.append(out["cpu_per_frame_ms"])
            rates.append(events / wall)
    finally:
        engine.stop()
    note = (
        f"{pairs} alternating {window:g} s windows at {_median(rates):,.0f} events/s handled; "
        "engine-thread CPU time per event handled"
    )
    if crashes:
        note += f"; the console crashed {len(crashes)}x ({crashes[0]}) and was re-attached"
    return [
        Result("console: engine CPU per event, headless", headless, "us", note=note),
        Result("console: engine CPU per event, attached", attached, "us"),
        Result(
            "console: engine capacity attached / headless",
            ratios,
            "x",
            target=(">=", RATIO_TARGET),
            note=f"1 - UI share of the GIL per window (UI share median "
            f"{100 * (1 - _median(ratios)):.0f}%)",
        ),
        Result(
            "console: screen updates/s @5k/s",
            frames,
            "/s",
            target=(">=", UPDATES_TARGET),
            note=f"new views applied: {_median(views):.1f}/s",
        ),
        Result("console: UI thread CPU per screen update", per_frame, "ms", note="160x48"),
        *saturate(pairs=1 if quick else 3, window=3.0 if quick else 5.0),
    ]


def saturate(pairs: int = 2, window: float = 5.0) -> list[Result]:
    """The direct measurement on a flooded engine."""
    with console_process():
        return _saturate(pairs, window)


def _saturate(pairs: int, window: float) -> list[Result]:
    engine = Engine.flood()
    engine.start()
    headless: list[float] = []
    attached: list[float] = []
    frames: list[float] = []
    crashes: list[str] = []
    try:
        time.sleep(2.0)
        for _ in range(pairs):
            meter = _Meter(engine)
            time.sleep(window)
            events, _, wall = meter.take()
            headless.append(events / wall)
            out = _attach(engine, window, 1.0, crashes)
            attached.append(out["events"] / out["wall"])
            frames.append(out["frames"])
    finally:
        engine.stop()
    return [
        Result("console (saturated): engine events/s, headless", headless, "events/s"),
        Result("console (saturated): engine events/s, attached", attached, "events/s"),
        Result(
            "console (saturated): attached / headless",
            [a / h for a, h in zip(attached, headless, strict=True)],
            "x",
            target=(">=", RATIO_TARGET),
            note="per pair of windows",
        ),
        Result("console (saturated): screen updates/s", frames, "/s"),
    ]


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] if values else float("nan")


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
