"""The async shell around the sans-I/O maker: venue events in, command batches out.

Three loops share one asyncio event loop: the *pump* feeds every venue event to
``MarketMaker.handle``, the *ticker* drives ``MarketMaker.tick`` on a timer and measures how late
it wakes (the loop lag the console shows), and the *publisher* puts the latest ``ConsoleView``
into a single slot at a bounded rate — readers pull it; no per-event message crosses threads.

Operator actions take a priority path: ``operate`` may be called from any thread; it schedules
``MarketMaker.operate`` on the runner's loop ahead of the pump's backlog (the pump yields every
few events so a flood of market data can never starve a kill), and the resulting cancels are
submitted at once (D13).

Stopping is graceful: cancel everything, keep pumping until the venue is verified empty or a
bound passes, then report what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import statistics
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from core.actions import Action, Halt, Kill, Quit
from core.clock import Clock
from core.commands import Batch
from core.control.server import ControlServer
from core.exitcodes import EXIT_HALTED, EXIT_OK
from core.gcpolicy import PacedCollections, collect_due
from core.journal.recorder import Journal
from core.maker import MarketMaker
from core.venues.base import Venue
from core.view import ConsoleView, JournalView, Mode, SweepPhase

_YIELD_EVERY = 16
# How many batches' send times are kept to time the venue's answers, and how many recent answer
# times the header's median is taken over (issue 16).
_ANSWERS_KEPT = 2000
_ANSWER_WINDOW = 64


@dataclass(slots=True)
class RunResult:
    reason: str
    mode: Mode
    live_orders: int
    untracked_venue_orders: int
    errors: list[str] = field(default_factory=list)
    sweep: SweepPhase = SweepPhase.IDLE
    mode_reason: str = ""  # D37: why a halt or kill happened, for every output
    liquidations: int = 0  # D41: the venue liquidated this account during the run

    @property
    def clean(self) -> bool:
        return self.live_orders == 0 and self.untracked_venue_orders == 0

    @property
    def stopped_by_safety(self) -> bool:
        """D37: a safety rule (or the operator's kill) stopped the engine: halted, or the kill
        switch still latched at the end -- even if the venue was left clean; D41: a run in
        which the account was liquidated, even if the operator re-armed since."""
        return self.mode in (Mode.HALTED, Mode.KILLED) or self.liquidations > 0

    @property
    def exit_code(self) -> int:
        """0 a normal stop; 3 stopped by a safety rule, orders left on the venue, or an engine
        error (the command line's contract, D37)."""
        return EXIT_HALTED if self.stopped_by_safety or not self.clean or self.errors else EXIT_OK


class Runner:
    def __init__(
        self,
        maker: MarketMaker,
        venue: Venue,
        clock: Clock,
        *,
        tick_interval: float = 0.1,
        publish_hz: float = 10.0,
        stop_timeout: float = 10.0,
        on_view: Callable[[ConsoleView], None] | None = None,
        journal: Journal | None = None,
        journal_required: bool = False,
        paced_collections: bool = False,
    ) -> None:
        self.maker = maker
        # The garbage collector runs between events, not inside a reaction (core/gcpolicy.py):
        # the processes that run an engine for an operator ask for it; tests leave it alone.
        self.paced_collections = paced_collections
        self.venue = venue
        self.clock = clock
        self.tick_interval = tick_interval
        self.publish_interval = 1.0 / publish_hz
        self._sent_at: dict[int, float] = {}  # batch id -> when it was sent
        self._answer_times: deque[float] = deque(maxlen=_ANSWER_WINDOW)
        self.started_at: float | None = None  # when run() began (the session's uptime)
        self.stop_timeout = stop_timeout
        self.on_view = on_view
        self.latest_view: ConsoleView | None = None
        self.errors: list[str] = []
        self.batches_sent = 0
        self.events_handled = 0
        self.on_batch: Callable[[Batch], None] | None = None
        # Issue 17: every input the maker receives and every batch it returns, recorded.
        self.journal = journal
        self.journal_required = journal_required
        self.journal_problem: str | None = None  # why this session is not recorded, if so
        # Issue 18: consoles attached over the control socket (``core.control.server``).
        self.control: ControlServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_reason: str | None = None
        self._stop = asyncio.Event()
        self._ready = threading.Event()

    # ---- thread-safe controls -----------------------------------------------------------

    def operate(self, action: Action, source: str = "operator") -> None:
        """Run an operator action on the runner's loop, ahead of queued events.  ``source``
        says who asked (a console key, a signal, the runner itself), for the journal."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the runner is not running")
        if _on_loop(loop):
            self._operate_now(action, source)
        else:
            loop.call_soon_threadsafe(self._operate_now, action, source)

    def journal_failed(self, reason: str) -> None:
        """From the journal's writer thread, once: it stopped recording.  Quoting continues,
        unless the config requires a journal: then the engine halts (cancel everything)."""
        loop = self._loop
        if not self.journal_required or loop is None:
            return
        halt = Halt(f"journal required, and it failed: {reason}")
        loop.call_soon_threadsafe(self._operate_now, halt, "journal")

    def request_stop(self, reason: str) -> None:
        loop = self._loop
        if loop is None:
            self._stop_reason = self._stop_reason or reason
            return
        if _on_loop(loop):
            self._request_stop_now(reason)
        else:
            loop.call_soon_threadsafe(self._request_stop_now, reason)

    def wait_ready(self, timeout: float) -> bool:
        """For another thread: block until the loop runs (the console waits on this)."""
        return self._ready.wait(timeout)

    # ---- the run ----------------------------------------------------------------------

    async def run(
        self, duration: float | None = None, *, install_signals: bool = False
    ) -> RunResult:
        if not self.paced_collections:
            return await self._run(duration, install_signals)
        with PacedCollections():
            return await self._run(duration, install_signals)

    async def _run(self, duration: float | None, install_signals: bool) -> RunResult:
        self._loop = asyncio.get_running_loop()
        self.started_at = self.clock.now()
        self._stop = asyncio.Event()
        if self._stop_reason is not None:
            self._stop.set()
        if install_signals:
            self._install_signals()
        if self.control is not None:
            await self.control.start(self)  # an unsafe or taken socket: before any trading
        await self.venue.connect()
        self._ready.set()
        now = self.clock.now()
        batches = self.maker.start(now)
        if self.journal is not None:
            self.journal.start(now, batches)
        await self._submit(batches)
        self._settle()
        tasks = [
            asyncio.create_task(self._pump(), name="pump"),
            asyncio.create_task(self._ticker(), name="ticker"),
            asyncio.create_task(self._publisher(), name="publisher"),
        ]
        try:
            if duration is None:
                await self._stop.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), duration)
                if self._stop_reason is None:
                    self._stop_reason = f"duration of {duration:g}s reached"
            await self._shutdown()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.venue.close()
            self._publish()
            if self.control is not None:
                await self.control.close(self._stop_reason or "stopped")
            # From here an action could only be queued on a loop that never runs it again:
            # ``operate`` now refuses, so the caller can say it was not sent.
            self._loop = None
            if self.journal is not None:  # whatever happened above: the end facts and the rest
                result = self._result()
                self.journal.close(
                    {
                        "reason": result.reason,
                        "mode": result.mode.value,
                        "exit_code": result.exit_code,
                    }
                )
        return self._result()

    async def _shutdown(self) -> None:
        """Cancel everything and wait (bounded) until the venue is verified empty."""
        self._operate_now(Quit(self._stop_reason or "stop"), "runner")
        deadline = self.clock.now() + self.stop_timeout
        while not self.maker.quiescent_after_stop and self.clock.now() < deadline:
            await asyncio.sleep(0.02)

    def _result(self) -> RunResult:
        maker = self.maker
        live = sum(1 for o in maker.tracker.by_cloid.values() if o.state.is_live)
        return RunResult(
            reason=self._stop_reason or "stopped",
            mode=maker.mode,
            mode_reason=maker.view_mode_reason(),
            live_orders=live,
            untracked_venue_orders=maker.untracked_venue_orders,
            errors=list(self.errors),
            sweep=maker.sweep_phase,
            liquidations=maker.counters["liquidations"],
        )

    # ---- the three loops --------------------------------------------------------------

    async def _pump(self) -> None:
        maker, clock, journal = self.maker, self.clock, self.journal
        paced = self.paced_collections
        n = 0
        async for event in self.venue.events():
            now = clock.now()
            try:
                batches = maker.handle(event, now)
            except Exception:
                if journal is not None:
                    journal.event(event, now, None, raised=True)
                self._engine_error("handle", event)
                continue
            if journal is not None:
                # Recorded before any await (the journal's order is the maker's), encoded
                # after the batches went out (a reaction never waits for the journal).
                journal.event(event, now, batches)
            self.events_handled += 1
            answered = getattr(event, "batch_id", None)
            if answered is not None:
                sent = self._sent_at.pop(answered, None)
                if sent is not None:
                    self._answer_times.append(clock.now() - sent)
            if batches:
                await self._submit(batches)
            if journal is not None:
                journal.settle()
            if paced:
                collect_due()
            n += 1
            if n % _YIELD_EVERY == 0:
                await asyncio.sleep(0)

    async def _ticker(self) -> None:
        maker, clock = self.maker, self.clock
        interval = self.tick_interval
        expected = clock.now() + interval
        while True:
            await asyncio.sleep(max(0.0, expected - clock.now()))
            now = clock.now()
            maker.loop_lag = lag = max(0.0, now - expected)
            expected = max(expected + interval, now)
            try:
                batches = maker.tick(now)
            except Exception:
                if self.journal is not None:
                    self.journal.tick(now, lag, None, raised=True)
                self._engine_error("tick", None)
                continue
            if self.journal is not None:
                self.journal.tick(now, lag, batches)
            if batches:
                await self._submit(batches)
            self._settle()
            if self.paced_collections:
                collect_due()

    async def _publisher(self) -> None:
        while True:
            self._publish()
            await asyncio.sleep(self.publish_interval)

    def _publish(self) -> None:
        try:
            view = self.maker.view(self.clock.now())
        except Exception:
            self._engine_error("view", None)
            return
        times = self._answer_times
        view = dataclasses.replace(
            view,
            epoch_offset=self.clock.epoch_offset(),
            started=self.started_at,
            answer_s=statistics.median(times) if times else None,
            journal=self._journal_view(),
        )
        self.latest_view = view
        if self.on_view is not None:
            self.on_view(view)
        if self.control is not None:
            self.control.publish(view)

    # ---- internals ----------------------------------------------------------------------

    def _settle(self) -> None:
        if self.journal is not None:
            self.journal.settle()

    def _journal_view(self) -> JournalView | None:
        if self.journal is None:
            if self.journal_problem is None:
                return None
            return JournalView("", 0, 0.0, 0, self.journal_problem, self.journal_required)
        status = self.journal.status()
        return JournalView(
            str(self.journal.path),
            status.size_bytes,
            status.lag_s,
            status.recorded,
            status.failed,
            self.journal_required,
        )

    def _operate_now(self, action: Action, source: str = "operator") -> None:
        now = self.clock.now()
        try:
            batches = self.maker.operate(action, now)
        except Exception:
            if self.journal is not None:
                self.journal.action(action, source, now, None, raised=True)
            self._engine_error("operate", action)
            return
        if self.journal is not None:
            self.journal.action(action, source, now, batches)
        if batches:
            for batch in batches:
                self._count(batch)
            task = asyncio.ensure_future(self._send_all(batches))
            task.add_done_callback(self._check_send)
        self._settle()
        self._publish()

    def _request_stop_now(self, reason: str) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        self._stop.set()

    async def _submit(self, batches: list[Batch]) -> None:
        for batch in batches:
            self._count(batch)
        await self._send_all(batches)

    async def _send_all(self, batches: list[Batch]) -> None:
        for batch in batches:
            await self.venue.submit(batch)

    def _count(self, batch: Batch) -> None:
        self.batches_sent += 1
        self._sent_at[batch.batch_id] = self.clock.now()
        if len(self._sent_at) > _ANSWERS_KEPT:
            del self._sent_at[next(iter(self._sent_at))]  # never answered: forgotten
        if self.on_batch is not None:
            self.on_batch(batch)

    def _check_send(self, task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(f"submit failed: {task.exception()!r}")

    def _engine_error(self, where: str, what: object) -> None:
        """The maker raised: a bug.  Record it and make the venue safe (kill); never crash
        silently, never keep quoting on a state we no longer trust."""
        text = f"engine error in {where}({type(what).__name__}): {traceback.format_exc(limit=3)}"
        self.errors.append(text)
        if len(self.errors) > 100:
            del self.errors[:50]
        if where != "operate":
            with contextlib.suppress(Exception):
                self._operate_now(Kill(f"engine error in {where}"), "runner")

    def _install_signals(self) -> None:
        loop = self._loop
        assert loop is not None
        for sig, name in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._request_stop_now, f"{name} received")
        if hasattr(signal, "SIGHUP"):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(
                    signal.SIGHUP, self._request_stop_now, "SIGHUP: terminal gone"
                )


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
