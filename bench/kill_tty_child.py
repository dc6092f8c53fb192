"""The child of ``bench.bench_kill_tty``: the real console on the real engine, on a terminal.

    python -m bench.kill_tty_child --rate R --seed S --report-fd N

Run with stdin, stdout and stderr on the slave side of a pseudo-terminal: ``app.run()`` uses
Textual's real Linux driver (raw mode, its input thread reading the terminal, its writer
thread), exactly as ``mm-console`` does.  The engine is ``bench.live.Engine.paced``: the
embedded exchange on the wall clock pushing about R events per second.

Lines written to the report descriptor (one ``os.write`` per line, so lines from different
threads do not interleave; ``time.perf_counter`` is ``CLOCK_MONOTONIC`` on Linux, the same
clock in every process):

* ``cancel_all <t>``: a ``CancelAll`` reached the venue's ``submit`` at ``t`` (written on the
  engine thread, at the moment ``bench.live.InstrumentedVenue`` timestamps it);
* ``mode <MODE> <n_orders>``: the engine's latest view (polled every 5 ms) changed mode or
  went from no orders to some or back;
* ``events <n> <t>``: the engine had handled ``n`` events at ``t`` (once a second);
* ``exit <code>``: the console returned (then the engine is stopped).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
from collections.abc import Callable

from bench.live import Engine, console_app, console_process

POLL_S = 0.005
EVENTS_EVERY_S = 1.0


def _writer(fd: int) -> Callable[[str], None]:
    def write(line: str) -> None:
        with contextlib.suppress(OSError):  # the parent has gone: nothing to report to
            os.write(fd, (line + "\n").encode())

    return write


def _watch(engine: Engine, write: Callable[[str], None], stop: threading.Event) -> None:
    runner = engine.runner
    last: tuple[str, bool] | None = None
    next_events = 0.0
    while not stop.wait(POLL_S):
        view = runner.latest_view
        if view is not None:
            key = (view.mode.value, bool(view.orders))
            if key != last:
                last = key
                write(f"mode {key[0]} {len(view.orders)}")
        now = time.perf_counter()
        if now >= next_events:
            next_events = now + EVENTS_EVERY_S
            write(f"events {runner.events_handled} {now!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, required=True, help="events per second")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--report-fd", type=int, required=True)
    args = ap.parse_args()
    write = _writer(args.report_fd)
    engine = Engine.paced(args.rate, args.seed)
    engine.venue.on_cancel_all = lambda t: write(f"cancel_all {t!r}")
    engine.start()
    stop = threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(engine, write, stop), name="bench-watch", daemon=True
    )
    watcher.start()
    code: object = None
    try:
        with console_process():
            app = console_app(engine)
            app.run()
            code = app.return_code
    finally:
        stop.set()
        engine.stop()
        write(f"exit {code}")


if __name__ == "__main__":
    main()
