"""An attached console's cost to the engine, and the kill through the socket (issue 18).

* **throughput**: fresh flooded engines (``bench.live.Engine.flood``: as many events as they
  can take; the same seed) serving their control socket, in pairs: one with no console, one
  with a console attached from another process (``ControlClient``, decoding every view it
  gets, as the attached console does); events per second over 300,000 events, the order
  alternating; the median attached over the median alone.  Target: at least 0.95x.  Fresh
  engines differ by up to 20% with nothing attached (their timers fall between different
  events), so the same runs also measure the engine thread's CPU time spent serving the
  console -- the cost itself: at most 5%.
* **kill latency**: the engine on the wall clock at about 5,000 events/s
  (``Engine.paced``), a console in another process sends ``Kill`` and re-arms, over and over;
  from the moment it sends (``time.perf_counter``, one clock for every process on the machine)
  to the ``CancelAll`` reaching the venue's ``submit``.  Target: p99 within 20 ms.
* **prompt latency**: ``mm-console attach`` on a real pseudo-terminal (Textual's Linux driver,
  160x48), its engine at about 5,000 events/s; from writing ``k`` to the kill prompt read back
  from the terminal (``escape`` aborts each).  Target: p99 within 50 ms.

    python -m bench.bench_attach [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.live import Engine, attach_on_pty
from bench.results import Result, pct, quick_main
from core.control.server import ControlServer
from core.gcpolicy import quiet_collector

THROUGHPUT_TARGET = 0.95
KILL_P99_TARGET_MS = 20.0
PROMPT_P99_TARGET_MS = 50.0

_WATCHER = """
import sys, time
from pathlib import Path
from core.control.client import ControlClient
c = ControlClient.attach(Path(sys.argv[1]))
print("attached", flush=True)
sys.stdin.readline()
c.close()
"""

_KILLER = """
import json, sys, time
from pathlib import Path
from core.actions import Kill, Rearm
from core.control.client import ControlClient
from core.view import Mode
c = ControlClient.attach(Path(sys.argv[1]))
def mode(m):
    return lambda c: c.latest_view is not None and c.latest_view.mode is m and (
        m is not Mode.RUNNING or bool(c.latest_view.orders))
sent = []
for _ in range(int(sys.argv[2])):
    assert c.wait_for(mode(Mode.RUNNING), 60), c.lost
    sent.append(time.perf_counter())
    c.operate(Kill("bench"))
    assert c.wait_for(mode(Mode.KILLED), 60), c.lost
    c.operate(Rearm())
print(json.dumps(sent), flush=True)
c.close()
"""


def _serve(engine: Engine, directory: Path) -> Path:
    path = directory / "bench.sock"
    engine.runner.control = ControlServer(path, name="bench")
    return path


def _rate(attached: bool, events: int, directory: Path) -> tuple[float, float]:
    """Events per second of a fresh flooded engine (the same seed and market, though not the
    same events: its timers run on the wall clock, so ticks and views fall between different
    events from run to run) over the ``events`` after its first 20,000, with or without a
    console attached from another process before the count starts; and the share of the
    engine thread's CPU time spent serving consoles (``ControlServer.serving_s``)."""
    engine = Engine.flood()
    path = _serve(engine, directory)
    server = engine.runner.control
    assert isinstance(server, ControlServer)
    engine.start()
    watcher = None
    try:
        if attached:
            watcher = subprocess.Popen(
                [sys.executable, "-c", _WATCHER, str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert watcher.stdout is not None
            watcher.stdout.readline()
        runner = engine.runner
        assert engine.thread_ident is not None
        cpu = time.pthread_getcpuclockid(engine.thread_ident)
        while runner.events_handled < 20_000:
            time.sleep(0.002)
        start, t0 = runner.events_handled, time.perf_counter()
        cpu0, serving0 = time.clock_gettime(cpu), server.serving_s
        while runner.events_handled < start + events:
            time.sleep(0.002)
        rate = (runner.events_handled - start) / (time.perf_counter() - t0)
        return rate, (server.serving_s - serving0) / (time.clock_gettime(cpu) - cpu0)
    finally:
        if watcher is not None and watcher.stdin is not None:
            watcher.stdin.write("\n")
            watcher.stdin.flush()
            watcher.wait(timeout=30)
        engine.stop()


def _throughput(
    events: int, rounds: int, directory: Path
) -> tuple[list[float], list[float], list[float]]:
    """Rates alone and attached, in pairs with the order alternating so that drift favours
    neither, and the attached engines' shares of time spent serving the console."""
    alone: list[float] = []
    attached: list[float] = []
    shares: list[float] = []
    for i in range(rounds):
        for with_console in (True, False) if i % 2 else (False, True):
            rate, share = _rate(with_console, events, directory)
            (attached if with_console else alone).append(rate)
            if with_console:
                shares.append(100.0 * share)
    return alone, attached, shares


def _kill_latency(kills: int, directory: Path) -> list[float]:
    engine = Engine.paced(5000.0)
    path = _serve(engine, directory)
    engine.start()
    try:
        if not engine.wait_quoting():
            raise RuntimeError("the engine did not start quoting")
        proc = subprocess.run(
            [sys.executable, "-c", _KILLER, str(path), str(kills)],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        sent = json.loads(proc.stdout.strip().splitlines()[-1])
        arrivals = sorted(engine.venue.cancel_all_at)
    finally:
        engine.stop()
    out = []
    for t in sent:
        first = next((a for a in arrivals if a >= t), None)
        if first is not None:
            out.append(1000.0 * (first - t))
    return out


def _prompt_latency(presses: int, directory: Path) -> list[float]:
    """First ``k`` on an attached console (``mm-console attach`` on a pty, its engine at about
    5,000 events/s in this process) to the kill prompt read back from the terminal; ``escape``
    aborts each one."""
    engine = Engine.paced(5000.0)
    path = _serve(engine, directory)
    engine.start()
    console, master, term = attach_on_pty(str(path))
    out: list[float] = []
    try:
        if not engine.wait_quoting() or term.painted(b"ATTACHED to", 0, 30) is None:
            raise RuntimeError("the attached console did not come up")
        for _ in range(presses):
            time.sleep(0.3)  # the operator looks, then presses
            mark = len(term.output)
            t0 = time.perf_counter()
            os.write(master, b"k")
            seen = term.painted(b"stop quoting?", mark, 5.0)
            if seen is not None:
                out.append(1000.0 * (seen - t0))
            os.write(master, b"\x1b")  # escape: abort the kill
            time.sleep(0.3)
        os.write(master, b"q")
        console.wait(timeout=30)
    finally:
        if console.poll() is None:
            console.kill()
        os.close(master)
        engine.stop()
    return out


def run(quick: bool = False, verbose: bool = True) -> list[Result]:
    quiet_collector()  # the collector's policy of the headless engine (``run_headless``)
    with tempfile.TemporaryDirectory(prefix="mm-attach-bench-") as tmp:
        directory = Path(tmp)
        directory.chmod(0o700)
        alone, attached, shares = _throughput(
            100_000 if quick else 300_000, 2 if quick else 8, directory
        )
        ratio = statistics.median(attached) / statistics.median(alone)
        if verbose:
            print("  events/s alone:    " + ", ".join(f"{r:,.0f}" for r in alone))
            print("  events/s attached: " + ", ".join(f"{r:,.0f}" for r in attached))
            print("  serving it, % of engine CPU: " + ", ".join(f"{x:.2f}" for x in shares))
        latencies = _kill_latency(10 if quick else 60, directory)
        if verbose:
            print(
                f"  kills through the socket: {len(latencies)}, p50 "
                f"{pct(latencies, 0.5):.1f} ms, max {max(latencies):.1f} ms"
            )
        prompts = _prompt_latency(10 if quick else 60, directory)
        if verbose:
            print(
                f"  prompts: {len(prompts)}, p50 {pct(prompts, 0.5):.1f} ms, "
                f"max {max(prompts):.1f} ms"
            )
    return [
        Result(
            "attach: engine throughput, one console attached",
            [ratio],
            "x alone",
            target=(">=", THROUGHPUT_TARGET),
            note=f"median events/s of {len(attached)} fresh flooded engines attached over "
            f"{len(alone)} alone, 300,000 events each (alone {min(alone):,.0f}.."
            f"{max(alone):,.0f}); the console in another process decodes every view",
        ),
        Result(
            "attach: engine CPU spent serving one console",
            shares,
            "%",
            target=("<=", 100.0 * (1.0 - THROUGHPUT_TARGET)),
            note="ControlServer.serving_s over the engine thread's CPU time, flooded: "
            "encoding views and writing frames",
        ),
        Result(
            "attach: kill through the socket -> CancelAll at the venue, p99",
            [pct(latencies, 0.99)],
            "ms",
            target=("<=", KILL_P99_TARGET_MS),
            note=f"{len(latencies)} kills at about 5,000 events/s; p50 "
            f"{pct(latencies, 0.5):.1f} ms, max {max(latencies):.1f} ms",
        ),
        Result(
            "attach: first k -> kill prompt on the terminal, p99",
            [pct(prompts, 0.99)],
            "ms",
            target=("<=", PROMPT_P99_TARGET_MS),
            note=f"mm-console attach on a 160x48 pty, its engine at about 5,000 events/s; "
            f"{len(prompts)} presses; p50 {pct(prompts, 0.5):.1f} ms, max {max(prompts):.1f} ms",
        ),
    ]


def main() -> None:
    quick_main(__doc__ or "", run)


if __name__ == "__main__":
    main()
