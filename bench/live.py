"""The real threaded engine for the live benchmarks, built from public APIs only.

``Engine`` is what ``run_console`` runs: a ``MarketMaker`` inside a ``Runner`` whose asyncio
loop lives on its own thread, built from a config the way ``core.session.build_session`` builds
it, but trading through an ``InstrumentedVenue`` that counts what the venue delivers and
timestamps every ``CancelAll`` the moment it reaches ``submit`` (on the engine thread, with
``time.perf_counter``, which every thread shares).

Two venues sit behind it:

* the embedded exchange on the wall clock (``SimVenue``), with the workload's market activity
  scaled so that it pushes a chosen number of events per second (``calibrate``);
* ``FloodVenue``: the same exchange in virtual time, advanced exactly as fast as the engine
  consumes its events (a closed loop, so nothing queues up without bound).  The runner runs on
  that virtual clock, so the engine's throughput is its capacity; that is how the console's
  cost is measured.

``CountingConsole`` is the real ``ConsoleApp`` with a counter of screen updates (Textual's
``App._display``, called once per compositor update — the one private hook the benchmarks use),
and ``press`` delivers a key the way Textual's pilot does, minus the pilot's wait-for-idle
(which, with an engine thread always busy, waits a full second per key).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from bench.bench_maker import record
from bench.workload import mix_config
from core.clock import Clock, VirtualClock, WallClock
from core.commands import Batch, CancelAll
from core.config import Config
from core.events import Event
from core.gcpolicy import quiet_collector
from core.maker import MakerParams, MarketMaker
from core.runner import Runner, RunResult
from core.simconfig import SimConfig
from core.venues.sim.exchange import SimExchange
from core.venues.sim.venue import SimVenue

BASE_EVENT_RATE = 430.0  # events per simulated second of ``mix_config`` at rate_scale 1
SWITCH_INTERVAL = 0.001  # the GIL switch interval ``tui.run.run_console`` sets


@contextlib.contextmanager
def console_process() -> Iterator[None]:
    """The process settings ``run_console`` makes for the console and the engine threads."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


class InstrumentedVenue:
    """A venue wrapper: counts delivered events, timestamps CancelAll arrivals."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.instrument = inner.instrument
        self.delivered = 0
        self.cancel_all_at: list[float] = []
        self.on_cancel_all: Callable[[float], None] | None = None

    async def connect(self) -> None:
        await self.inner.connect()

    async def events(self) -> AsyncIterator[Event]:
        async for event in self.inner.events():
            self.delivered += 1
            yield event

    async def submit(self, batch: Batch) -> None:
        for command in batch.commands:
            if isinstance(command, CancelAll):
                t = time.perf_counter()
                self.cancel_all_at.append(t)
                if self.on_cancel_all is not None:
                    self.on_cancel_all(t)
                break
        await self.inner.submit(batch)

    async def close(self) -> None:
        await self.inner.close()


class FloodVenue:
    """The embedded exchange in virtual time, as fast as the engine takes its events."""

    def __init__(self, config: SimConfig, clock: VirtualClock) -> None:
        self.config = config
        self.instrument = config.instrument()
        self._clock = clock
        self._exchange: SimExchange | None = None
        self._closed = False

    async def connect(self) -> None:
        now = self._clock.now()
        self._exchange = SimExchange(self.config, start=now, name="flood")
        self._exchange.connect(now)

    async def events(self) -> AsyncIterator[Event]:
        exchange = self._exchange
        assert exchange is not None, "connect() first"
        clock = self._clock
        buffer: deque[Event] = deque()
        while not self._closed:
            if not buffer:
                due = exchange.next_due()
                now = clock.now()
                t = now + 0.001 if due is None else max(now, due)
                clock.set(t)
                buffer.extend(exchange.advance(t))
                continue
            yield buffer.popleft()

    async def submit(self, batch: Batch) -> None:
        assert self._exchange is not None
        self._exchange.submit(batch, self._clock.now())

    async def close(self) -> None:
        self._closed = True


class Engine:
    """A maker and runner on their own thread and event loop, as ``run_console`` runs them."""

    def __init__(self, config: Config, venue: Any, clock: Clock, *, seed: int = 11) -> None:
        self.config = config
        self.venue = InstrumentedVenue(venue)
        instrument = venue.instrument
        params = MakerParams.from_config(config, instrument, live=False)
        self.maker = MarketMaker(params, instrument, venue="bench", cloid_prefix=seed)
        self.runner = Runner(
            self.maker,
            self.venue,
            clock,
            tick_interval=config.strategy.tick_interval_s,
            publish_hz=config.ui.refresh_hz,
            paced_collections=True,  # as the console's engine runs (core/gcpolicy.py)
        )
        self.result: RunResult | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mm-engine", daemon=True)

    @classmethod
    def paced(cls, rate: float, seed: int = 11) -> Engine:
        """The embedded exchange on the wall clock, pushing about ``rate`` events/s."""
        config = mix_config(seed, rate_scale=calibrate(rate, seed))
        clock = WallClock()
        return cls(config, SimVenue(config.sim, clock), clock, seed=seed)

    @classmethod
    def flood(cls, seed: int = 11, rate_scale: float = 1.0) -> Engine:
        config = mix_config(seed, rate_scale=rate_scale)
        clock = VirtualClock()
        return cls(config, FloodVenue(config.sim, clock), clock, seed=seed)

    def _run(self) -> None:
        try:
            self.result = asyncio.run(self.runner.run())
        except BaseException as exc:
            self.error = exc

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        if not self.runner.wait_ready(timeout):
            raise RuntimeError(f"engine not ready in {timeout}s: {self.error!r}")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def thread_ident(self) -> int | None:
        return self._thread.ident

    def stop(self, timeout: float = 20.0) -> None:
        if self._thread.is_alive():
            self.runner.request_stop("benchmark done")
        self._thread.join(timeout)

    def wait_quoting(self, timeout: float = 15.0) -> bool:
        """Block until the engine has orders resting (start-up sync and sweep are done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            view = self.runner.latest_view
            if view is not None and view.mode.value == "RUNNING" and view.orders:
                return True
            time.sleep(0.02)
        return False


def calibrate(rate: float, seed: int = 11, simulated: float = 3.0) -> float:
    """The ``rate_scale`` of the workload at which the maker receives ``rate`` events per
    second (measured in virtual time, two refinements)."""
    scale = max(1.0, rate / BASE_EVENT_RATE)
    for _ in range(2):
        _, _, steps = record(simulated, seed, config=mix_config(seed, rate_scale=scale))
        got = sum(1 for _, e in steps if e is not None) / simulated
        scale *= rate / max(got, 1.0)
    return scale


# ---- the console ------------------------------------------------------------------------------


def console_app(engine: Engine) -> Any:
    """The real ``ConsoleApp`` on ``engine``, counting screen updates and new views."""
    from pathlib import Path

    from textual.app import App

    import tui.app
    from themes import load_themes
    from tui.app import ConsoleApp

    runner = engine.runner

    class CountingConsole(ConsoleApp):
        # Textual resolves a relative CSS_PATH against the subclass's module: pin the original.
        CSS_PATH = str(Path(tui.app.__file__).with_name(str(ConsoleApp.CSS_PATH)))
        frames = 0
        views = 0
        _last_view: object = None

        def _display(self, screen: Any, renderable: Any) -> None:
            # One call per compositor update of the screen (Textual's private hook).
            if renderable is not None and not self._batch_count:
                self.frames += 1
            App._display(self, screen, renderable)

    app: Any = None

    def view_source() -> Any:
        view = runner.latest_view
        if view is not None and view is not app._last_view:
            app._last_view = view
            app.views += 1
        return view

    app = CountingConsole(
        view_source=view_source,
        operate=runner.operate,
        request_stop=runner.request_stop,
        engine_finished=lambda: not engine.alive,
        started=quiet_collector,  # as run_console does
        ui=engine.config.ui,
        themes=load_themes(None),
        state=None,
    )
    return app


def press(app: Any, key: str) -> None:
    """Deliver a key press to the app as Textual's pilot does, without its idle waits."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app.post_message(event)


async def wait_until(check: Callable[[], bool], timeout: float, poll: float = 0.002) -> bool:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(poll)
    return True


class PtyTerminal(threading.Thread):
    """The master side of a pty, as a terminal emulator holds it: drains what the console
    paints (a child blocks when its output is not read) and waits for a text in it."""

    def __init__(self, fd: int) -> None:
        super().__init__(name="pty-reader", daemon=True)
        self.fd = fd
        self.output = bytearray()
        self.changed = threading.Condition()

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            with self.changed:
                if chunk:
                    self.output += chunk
                self.changed.notify_all()
                if not chunk:
                    return

    def painted(self, text: bytes, start: int, timeout: float) -> float | None:
        with self.changed:
            ok = self.changed.wait_for(lambda: text in self.output[start:], timeout)
        return time.perf_counter() if ok else None


def attach_on_pty(
    target: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int, PtyTerminal]:
    """``mm-console attach TARGET`` on a fresh 160x48 pseudo-terminal (Textual's real Linux
    driver), the way an operator's terminal runs it: the process, the master side to write
    keys to, and its drained output."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))
    console = subprocess.Popen(
        [sys.executable, "-m", "mm_console", "attach", target],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**(env if env is not None else os.environ), "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    term = PtyTerminal(master)
    term.start()
    return console, master, term
