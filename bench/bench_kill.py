"""Kill under load: the console (headless, ``App.run_test``) on the real threaded engine, the
embedded exchange on the wall clock pushing 5,000 and 20,000 events per second; the time from
the confirming key press to the ``CancelAll`` reaching the venue's ``submit``.

Per load level: an engine (``bench.live.Engine.paced``: a Runner on its own thread, the
workload's market scaled to the rate) and the real ``ConsoleApp`` at 160x48.  First the app is
watched for a few seconds untouched: screen updates per second (compositor updates), new views
per second and the events per second the engine really handled.  Then, repeatedly: wait until
the maker is quoting (orders resting), wait a random 20-120 ms, press ``k``, wait until the
confirmation dialog is painted, wait a random 50-250 ms (the operator reads it), press ``k``
again — the clock starts here — and wait for the ``CancelAll`` at the venue; then re-arm
(``r``, ``y``) and start over.  A press that cannot be timed (the dialog's 2 s window ran out
on a loaded machine, no CancelAll within 5 s, ...) is counted by reason and the app brought
back to a known state; a console that crashes (its ``return_code`` is set: ``run_test`` only
re-raises the app's exception when the session ends) is replaced by a fresh app on the same
engine.
Both are reported next to the figures.  Keys go in the way the pilot sends them
(``bench.live.press``), without the pilot's wait-for-idle, which under a busy engine thread
waits a full second per key.

Figures: confirm press -> CancelAll at the venue p50/p99/max (targets: p99 <= 20 ms at 5k/s,
<= 50 ms at 20k/s), first ``k`` -> dialog painted, screen updates per second (target >= 10 at
5k/s) and the load achieved.

    python -m bench.bench_kill [--quick] [--presses N] [--rates 5000,20000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from bench.live import Engine, console_app, console_process, press, wait_until
from bench.results import Result, pct
from core.view import Mode

TARGET_P99_MS = {5000: 20.0, 20000: 50.0}
SCREEN_UPDATES_TARGET = 10.0
SIZE = (160, 48)


MAX_FAILURES = 40


async def _rearm(app: Any) -> bool:
    """Re-arm through the keys (r, then y in the dialog), as an operator would."""
    from tui.screens import ConfirmScreen

    for _ in range(3):
        await wait_until(
            lambda: (
                app.view is not None
                and app.view.mode is Mode.KILLED
                and not isinstance(app.screen, ConfirmScreen)
            ),
            5.0,
        )
        press(app, "r")
        if await wait_until(lambda: isinstance(app.screen, ConfirmScreen), 5.0):
            press(app, "y")
        if await wait_until(lambda: app.view is not None and app.view.mode is not Mode.KILLED, 5.0):
            return True
    return False


async def _fail(app: Any, out: dict[str, Any], reason: str) -> None:
    """Count a press that could not be timed and bring the app back to a known state."""
    from tui.screens import ConfirmScreen

    out["failed"][reason] = out["failed"].get(reason, 0) + 1
    if app.emergency.armed:
        press(app, "escape")
        await wait_until(lambda: not app.emergency.armed, 5.0)
    if isinstance(app.screen, ConfirmScreen):
        press(app, "escape")
        await wait_until(lambda: not isinstance(app.screen, ConfirmScreen), 5.0)
    if app.view is not None and app.view.mode is Mode.KILLED:
        await _rearm(app)


def _quoting(app: Any) -> bool:
    view = app.view
    return view is not None and view.mode is Mode.RUNNING and bool(view.orders)


async def _drive(
    engine: Engine, presses: int, observe_s: float, rng: random.Random, out: dict[str, Any]
) -> None:
    """One console session: observe (if ``observe_s``), then press until ``out`` holds
    ``presses`` timings.  Results go into ``out`` as they come, so they survive a crash."""
    app = console_app(engine)
    runner = engine.runner
    loop = asyncio.get_running_loop()
    async with app.run_test(size=SIZE):
        if not await wait_until(lambda: _quoting(app), 30.0, poll=0.02):
            raise RuntimeError("the engine never started quoting")
        await asyncio.sleep(1.0)  # settle
        if observe_s > 0:
            f0, v0, e0, t0 = app.frames, app.views, runner.events_handled, time.perf_counter()
            await asyncio.sleep(observe_s)
            dt = time.perf_counter() - t0
            out["frames_per_s"] = (app.frames - f0) / dt
            out["views_per_s"] = (app.views - v0) / dt
            out["events_per_s"] = (runner.events_handled - e0) / dt
        e0, t0 = runner.events_handled, time.perf_counter()
        while len(out["confirm"]) < presses and sum(out["failed"].values()) < MAX_FAILURES:
            if app.return_code is not None:
                # The app died (run_test re-raises its exception when this session ends).
                raise RuntimeError(f"the console exited with code {app.return_code}")
            if not await wait_until(lambda: _quoting(app), 15.0):
                await _fail(app, out, "the maker was not quoting again within 15 s")
                continue
            await asyncio.sleep(rng.uniform(0.02, 0.12))
            arrived: asyncio.Future[float] = loop.create_future()

            def on_cancel_all(t: float, fut: asyncio.Future[float] = arrived) -> None:
                loop.call_soon_threadsafe(lambda: fut.done() or fut.set_result(t))

            first = time.perf_counter()
            press(app, "k")
            painted = app.frames
            shown = await wait_until(lambda: app.kill_prompt_shown, 5.0) and await wait_until(
                lambda n=painted: app.frames > n, 5.0
            )
            if not shown:
                await _fail(app, out, "the confirmation dialog was not painted within 5 s")
                continue
            out["dialog"].append(time.perf_counter() - first)
            # The operator reads the dialog, then confirms.
            await asyncio.sleep(rng.uniform(0.05, 0.25))
            if not app.emergency.armed:
                await _fail(app, out, "the dialog's 2 s window ran out before the confirm key")
                continue
            engine.venue.on_cancel_all = on_cancel_all
            confirm = time.perf_counter()
            press(app, "k")
            try:
                at = await asyncio.wait_for(arrived, 5.0)
            except TimeoutError:
                await _fail(app, out, "no CancelAll at the venue within 5 s of the confirm key")
                continue
            finally:
                engine.venue.on_cancel_all = None
            out["confirm"].append(at - confirm)
            await _rearm(app)
            out["press_events"] += runner.events_handled - e0
            out["press_seconds"] += time.perf_counter() - t0
            e0, t0 = runner.events_handled, time.perf_counter()


def measure(rate: float, presses: int, observe_s: float, seed: int = 11) -> dict[str, Any]:
    """One engine at ``rate``; console sessions until ``presses`` kills were timed (a session
    that crashes is counted and replaced by a fresh app on the same engine)."""
    with console_process():
        return _measure(rate, presses, observe_s, seed)


def _measure(rate: float, presses: int, observe_s: float, seed: int) -> dict[str, Any]:
    engine = Engine.paced(rate, seed)
    engine.start()
    rng = random.Random(seed)
    out: dict[str, Any] = {
        "confirm": [],
        "dialog": [],
        "failed": {},
        "crashes": [],
        "press_events": 0,
        "press_seconds": 0.0,
    }
    try:
        for _ in range(4):
            try:
                asyncio.run(_drive(engine, presses, observe_s, rng, out))
            except Exception as exc:
                out["crashes"].append(f"{type(exc).__name__}: {exc}")
            if len(out["confirm"]) >= presses or sum(out["failed"].values()) >= MAX_FAILURES:
                break
            observe_s = 0.0 if "frames_per_s" in out else observe_s
        return out
    finally:
        engine.stop()


def failures_note(out: dict[str, Any], crashed: str, restarted: str) -> str:
    """The presses that could not be timed, and the crashes, for a figure's note."""
    note = ""
    if out["failed"]:
        note += "; presses not timed: " + ", ".join(
            f"{n}x {reason}" for reason, n in out["failed"].items()
        )
    if out["crashes"]:
        note += f"; {crashed} {len(out['crashes'])}x ({out['crashes'][0]}) and was {restarted}"
    return note


def kill_results(
    name: str,
    k: str,
    confirm_ms: list[float],
    dialog_ms: list[float],
    load: str,
    target: float | None,
) -> list[Result]:
    """The figures of one load level of a kill benchmark (``name`` says which way in)."""
    n = len(confirm_ms)
    results = [
        Result(
            f"{name} @{k}: confirm key -> CancelAll p50", [pct(confirm_ms, 0.5)], "ms", note=load
        ),
        Result(
            f"{name} @{k}: confirm key -> CancelAll p99",
            [pct(confirm_ms, 0.99)],
            "ms",
            target=("<=", target) if target else None,
            note=f"n={n}",
        ),
        Result(
            f"{name} @{k}: confirm key -> CancelAll max", [max(confirm_ms)], "ms", note=f"n={n}"
        ),
    ]
    if dialog_ms:
        results.append(
            Result(
                f"{name} @{k}: first k -> dialog painted p99",
                [pct(dialog_ms, 0.99)],
                "ms",
                note=f"p50 {pct(dialog_ms, 0.5):.1f} ms, max {max(dialog_ms):.1f} ms",
            )
        )
    return results


def run(
    quick: bool = False,
    presses: int | None = None,
    rates: tuple[int, ...] = (5000, 20000),
    verbose: bool = True,
) -> list[Result]:
    presses = presses if presses is not None else (15 if quick else 200)
    observe_s = 3.0 if quick else 6.0
    results: list[Result] = []
    for rate in rates:
        out = measure(rate, presses, observe_s)
        k = f"{rate // 1000}k/s"
        confirm_ms = [1e3 * x for x in out["confirm"]]
        dialog_ms = [1e3 * x for x in out["dialog"]]
        n = len(confirm_ms)
        rate_seen = out["press_events"] / max(out["press_seconds"], 1e-9)
        load = f"{n} presses in {out['press_seconds']:.0f} s at {rate_seen:,.0f} events/s handled"
        load += failures_note(out, "the console crashed", "restarted on the same engine")
        if verbose:
            print(f"  {k}: {load}", flush=True)
        if n:
            results += kill_results("kill", k, confirm_ms, dialog_ms, load, TARGET_P99_MS.get(rate))
        if "frames_per_s" not in out:
            results.append(Result.skipped_because(f"console @{k}: screen updates/s", load))
            continue
        results.append(
            Result(
                f"console @{k}: screen updates/s",
                [out["frames_per_s"]],
                "/s",
                target=(">=", SCREEN_UPDATES_TARGET) if rate == 5000 else None,
                note=(
                    f"{observe_s:g} s untouched: {out['views_per_s']:.1f} new views/s, "
                    f"{out['events_per_s']:,.0f} events/s handled"
                ),
            )
        )
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--presses", type=int)
    ap.add_argument("--rates", default="5000,20000", help="events per second, comma-separated")
    args = ap.parse_args()
    rates = tuple(int(r) for r in args.rates.split(","))
    for r in run(args.quick, args.presses, rates):
        print(r.line())


if __name__ == "__main__":
    main()
