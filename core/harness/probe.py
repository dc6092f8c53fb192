"""The probe: the real maker as the simulation loop's agent, watched by the invariants.

``Probe`` calls the maker's entry points, checks every batch the maker sends against the state
the maker was in when it sent it, checks the maker's and the exchange's state after every
event (the loop's observer) with the rules in ``core.harness.invariants``, and records the
recent history for the violation report.  The probe never changes what the maker does: it
only reads the maker's state and the exchange's inspection properties.  (One class of about
450 lines: each hook of the loop is a method, and they share the watch's state.)
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Callable, Iterable
from typing import TextIO

from core.actions import Action, Resume
from core.commands import (
    Batch,
)
from core.events import (
    Event,
    Fill,
    FillSettled,
    Side,
    VenueStatus,
)
from core.harness.invariants import (
    MARKET_DATA,
    SAMPLE_S,
    Bounds,
    MoneyTold,
    OrderWatch,
    Settled,
    TradeNews,
    Violation,
    backoff_blocks_only_placements,
    cancels_never_wait,
    converged,
    failed_reversed_once,
    fill_counted_once,
    gone_oid,
    liquidation_kills,
    maker_only_never_crosses,
    net_pnl_agrees,
    no_placement_while_killed,
    no_quotes_beside_an_unverified_sweep,
    one_venue_order_per_intent,
    order_state_sound,
    request_weight,
    risk_judged_on_the_fill,
)
from core.journal.recorder import Journal
from core.maker import MarketMaker, SweepPhase, quotes_now
from core.orders import OrderState, TrackedOrder
from core.venues.sim.exchange import SimExchange


class Probe:
    """The loop's agent: the real maker, watched.  Stops at the first violation."""

    def __init__(
        self,
        maker: MarketMaker,
        exchange: SimExchange,
        *,
        bounds: Bounds | None = None,
        history: int = 40,
        trace: TextIO | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.maker = maker
        # Issue 17: a seed run with a journal leaves the evidence -- every input the maker
        # was given, with what it returned -- and ``mm-console replay`` reproduces it.
        self.journal = journal
        self.exchange = exchange
        self.bounds = bounds if bounds is not None else Bounds()
        self.violation: Violation | None = None
        self.history: deque[tuple[float, str, object]] = deque(maxlen=history)
        self.checks = 0
        self._trace = trace
        self._orders = OrderWatch()
        self._quiet = False  # the last event was market data
        self._observed_at: float | None = None  # the moment the venue's state was last checked
        self._tids: set[int] = set()
        self._settled = Settled()  # D38
        self._money = MoneyTold()
        self._killed_at: float | None = None
        self._runaway_since: float | None = None
        self._kill_position = maker.params.risk.kill_position
        # Seen by the probe itself, not read from the maker's pause: the failed cancel-all
        # no verified sweep or operator resume has answered yet.
        self._unverified: str | None = None
        self._sweep_seen = maker.sweep_phase
        # D29: request weight sent in the last second, and the most ever seen in one
        self._requests: deque[tuple[float, int]] = deque()
        self._request_sum = 0
        self.max_request_rate = 0
        # Sampled checks (stalls, phantoms, convergence) run once per ``SAMPLE_S``.
        self._next_sample = 0.0
        self._silent: dict[tuple[Side, int], float] = {}  # level -> unquoted, unexplained since
        self._gone: dict[int, float] = {}  # oid -> when the venue first told us it is gone
        self._news = TradeNews(exchange, maker)
        self._orphans: dict[int, float] = {}  # oid -> resting unknown to the maker since
        self._ghosts: dict[int, float] = {}  # oid -> shown live, not on the venue, since

    # ---- the agent's entry points -----------------------------------------------------

    def start(self, now: float) -> list[Batch]:
        return self._call("start", None, now, self.maker.start)

    def handle(self, event: Event, now: float) -> list[Batch]:
        if isinstance(event, MARKET_DATA):
            return self._handle_market_data(event, now)
        self._note(now, "event", event)
        before = self.maker.position.lots
        held = None
        if isinstance(event, FillSettled):
            entry = self.maker.settlements.pending.get(event.tid)
            held = None if entry is None else entry.lots
        batches = self._call("handle", event, now, self.maker.handle, event)
        self._quiet = False
        if self.violation is None:
            moved = self.maker.position.lots - before
            news = isinstance(event, Fill) and event.tid not in self._tids
            self._check("liquidation_kills", now, liquidation_kills(event, news, self.maker))
            if self.exchange.binary:
                self._check(
                    "failed_reversed_once",
                    now,
                    failed_reversed_once(
                        event, moved, held, news, self._settled, self.maker, self.exchange
                    ),
                )
            self._check("fill_counted_once", now, fill_counted_once(event, self._tids, moved))
            if self._money.told(event):
                self._check(
                    "net_pnl_agrees",
                    now,
                    net_pnl_agrees(self.maker, self._money, self.exchange, event),
                )
            if moved:
                self._check(
                    "risk_judged_on_the_fill",
                    now,
                    risk_judged_on_the_fill(self.maker, before, self._kill_position),
                )
            oid = gone_oid(event)
            if oid is not None:
                self._gone.setdefault(oid, now)
            self._news.told(event)
        return batches

    def tick(self, now: float) -> list[Batch]:
        batches = self._call("tick", None, now, self.maker.tick)
        if self.violation is None and now >= self._next_sample:
            self._next_sample = now + SAMPLE_S
            self._sample(now)
        return batches

    def operate(self, action: Action, now: float) -> list[Batch]:
        self._note(now, "operator", action)
        maker = self.maker
        sweep_was_active = maker.sweep_phase.is_active
        in_flight = maker.cancel_all_in_flight(now)
        batches = self._call("operate", action, now, maker.operate, action)
        if self.violation is None:
            commands = [c for b in batches for c in b.commands]
            self._check(
                "cancels_never_wait",
                now,
                cancels_never_wait(action, commands, sweep_was_active, in_flight),
            )
        return batches

    def observe(self, event: Event, now: float) -> None:
        """The loop's observer: state invariants after the maker handled ``event``."""
        if self.violation is not None:
            return
        maker = self.maker
        self.checks += 1
        # Market data moves no order's fills and ends no order: the walk runs after order
        # events (its full scan every ``FULL_SCAN_EVERY`` of them).
        if not self._quiet and not self._check(
            "order_state_sound", now, order_state_sound(maker, self._orders)
        ):
            return
        if now == self._observed_at:
            # The venue's own state changes only as time moves (``SimExchange.advance``): the
            # checks of it below already saw this moment (several events arrive at once).
            return
        self._observed_at = now
        if not self._check(
            "one_venue_order_per_intent", now, one_venue_order_per_intent(maker, self.exchange)
        ):
            return
        self._check_kill(now)
        self._check_runaway(now)

    def converged(self, now: float) -> str | None:
        """Whether belief and venue agree yet (``None`` when they do); an unsound order found
        by the full walk is a violation at once, not a reason to wait."""
        self._check(
            "order_state_sound", now, order_state_sound(self.maker, self._orders, full=True)
        )
        return converged(self.maker, self.exchange)

    def fail(self, invariant: str, now: float, detail: str) -> None:
        if self.violation is None:
            self.violation = Violation(invariant, now, detail)
            if self.journal is not None:
                self.journal.violation(invariant, now, detail)

    def _record(
        self, entry: str, arg: object, now: float, batches: list[Batch], raised: bool = False
    ) -> None:
        journal = self.journal
        if journal is None:
            return
        if entry == "handle":
            journal.event(arg, now, batches, raised)  # type: ignore[arg-type]
        elif entry == "tick":
            journal.tick(now, self.maker.loop_lag, batches, raised)
        elif entry == "operate":
            journal.action(arg, "the seed's operator script", now, batches, raised)  # type: ignore[arg-type]
        else:
            journal.start(now, batches)

    # ---- internals ----------------------------------------------------------------------

    def _handle_market_data(self, event: Event, now: float) -> list[Batch]:
        """Most events are market data, so they take a short path.  Market data moves no
        position, ends no order and changes no sweep, kill switch or backoff (at most a
        re-quote follows): the state the sent commands are judged against is the same after
        the call as before it, and nothing is judged when nothing was sent."""
        self._quiet = True
        if self.violation is not None:
            return []
        if self._trace is not None:
            self._note(now, "event", event)
        try:
            batches = self.maker.handle(event, now)
        except Exception as exc:  # the invariant is precisely that this never happens
            self._record("handle", event, now, [], raised=True)
            tb = traceback.format_exception(exc)
            where = f"handle({type(event).__name__})"
            self.fail("maker_never_raises", now, f"{where} raised {exc!r}\n{''.join(tb)}")
            return []
        if self.journal is not None:
            self.journal.event(event, now, batches)
        if batches:
            maker = self.maker
            blocked = {} if maker.rejections.never_blocked else self._blocked(now)
            self._check_sent(batches, now, maker.kill_switch.latched, blocked, self._unverified)
        return batches

    def _call(
        self,
        entry: str,
        arg: object,
        now: float,
        call: Callable[..., list[Batch]],
        *args: object,
    ) -> list[Batch]:
        """``call(*args, now)``: one entry point of the maker, watched."""
        if self.violation is not None:
            return []
        maker = self.maker
        killed = maker.kill_switch.latched
        blocked = {} if maker.rejections.never_blocked else self._blocked(now)
        try:
            batches = call(*args, now)
        except Exception as exc:  # the invariant is precisely that this never happens
            self._record(entry, arg, now, [], raised=True)
            where = f"{entry}({type(arg).__name__})" if arg is not None else f"{entry}()"
            tb = traceback.format_exception(exc)
            self.fail("maker_never_raises", now, f"{where} raised {exc!r}\n{''.join(tb)}")
            return []
        self._record(entry, arg, now, batches)
        unverified = self._follow_sweep(now, arg)
        if batches:
            self._check_sent(batches, now, killed or maker.kill_switch.latched, blocked, unverified)
        return batches

    def _check_sent(
        self,
        batches: list[Batch],
        now: float,
        killed: bool,
        blocked: dict[Side, str],
        unverified: str | None,
    ) -> None:
        """The per-command invariants of everything one call sent."""
        maker = self.maker
        best_bid, best_ask = maker.book.best_bid, maker.book.best_ask
        if not self._count_requests(batches, now):
            return
        for batch in batches:
            self._note(now, "sent", batch)
            for cmd in batch.commands:
                if not (
                    self._check(
                        "no_placement_while_killed", now, no_placement_while_killed(cmd, killed)
                    )
                    and self._check(
                        "maker_only_never_crosses",
                        now,
                        maker_only_never_crosses(cmd, best_bid, best_ask),
                    )
                    and self._check(
                        "backoff_blocks_only_placements",
                        now,
                        backoff_blocks_only_placements(cmd, blocked),
                    )
                    and self._check(
                        "no_quotes_beside_an_unverified_sweep",
                        now,
                        no_quotes_beside_an_unverified_sweep(cmd, unverified),
                    )
                ):
                    return

    def _follow_sweep(self, now: float, arg: object) -> str | None:
        """Whether a failed cancel-all is still unanswered after this call: a sweep seen to
        fail starts it; a sweep seen verified, or the operator's resume, ends it."""
        phase = self.maker.sweep_phase
        if phase is not self._sweep_seen:
            if phase is SweepPhase.FAILED:
                self._unverified = f"the cancel-all that failed at t={now:.3f}s"
            elif phase is SweepPhase.VERIFIED:
                self._unverified = None
            self._sweep_seen = phase
        if isinstance(arg, Resume) and not self.maker.life.stopping:
            self._unverified = None
        return self._unverified

    def _blocked(self, now: float) -> dict[Side, str]:
        blocked: dict[Side, str] = {}
        for side in (Side.BID, Side.ASK):
            block = self.maker.rejections.placement_block(side, now)
            if block is not None:
                blocked[side] = block.describe()
        return blocked

    def _count_requests(self, batches: list[Batch], now: float) -> bool:
        """D29 no_amplification: the request weight of the last second stays within the
        venue's budget, whatever the answers were; the most seen is kept for the report."""
        requests = self._requests
        for batch in batches:
            weight = request_weight(batch)
            if weight:
                requests.append((now, weight))
                self._request_sum += weight
        while requests and now - requests[0][0] >= 1.0:
            self._request_sum -= requests.popleft()[1]
        if self._request_sum > self.max_request_rate:
            self.max_request_rate = self._request_sum
        return self._check(
            "no_amplification",
            now,
            None
            if self._request_sum <= self.bounds.max_requests_per_s
            else f"{self._request_sum} requests in one second (budget "
            f"{self.bounds.max_requests_per_s})",
        )

    def _check_kill(self, now: float) -> None:
        """D18, D25, D29 kill_empties_the_venue_after_the_storm: after a kill, zero live orders
        on the venue within a bounded time of the kill -- or of the end of the rate-limit storm
        that held the cancels back, whichever is later."""
        if not self.maker.kill_switch.latched:
            self._killed_at = None
            return
        storm = self.exchange.storm_until
        if self._killed_at is None or now < storm:
            self._killed_at = now if self._killed_at is None else max(self._killed_at, now)
            return
        since = max(self._killed_at, storm)
        if now - since > self.bounds.kill_clean_s:
            left = self.exchange.open_orders()
            if left:
                self.fail(
                    "kill_empties_the_venue_after_the_storm",
                    now,
                    f"{len(left)} orders still on the venue {now - since:.1f}s after the kill "
                    f"or the storm that held it back (bound {self.bounds.kill_clean_s:g}s)",
                )

    # ---- sampled checks ---------------------------------------------------------------

    def _sample(self, now: float) -> None:
        for check in (self._check_stalls, self._check_phantoms, self._check_convergence):
            check(now)
            if self.violation is not None:
                return

    def _check_stalls(self, now: float) -> None:
        """D27, D31 no_silent_stall: every level the ladder wants, on a side that gives no
        reason not to quote, is quoted or says why (``MarketMaker.stalls``) in bounded time."""
        maker = self.maker
        desired, reasons = maker.side_plan(now)
        stalls = maker.stalls(now, desired, reasons)
        silent: dict[tuple[Side, int], float] = {}
        for side in (Side.BID, Side.ASK):
            if reasons[side] is not None:
                continue
            for quote in desired[side]:
                key = (side, quote.level)
                if f"{side.value} L{quote.level}" in stalls or any(
                    quotes_now(o) for o in maker.tracker.live_for_intent(side, quote.level)
                ):
                    continue
                since = silent[key] = self._silent.get(key, now)
                if now - since > self.bounds.stall_s:
                    self.fail(
                        "no_silent_stall",
                        now,
                        f"{side.value} level {quote.level} wanted, not quoted and no reason for "
                        f"{now - since:.1f}s (bound {self.bounds.stall_s:g}s)",
                    )
                    return
        self._silent = silent

    def _live_order(self, oid: int) -> TrackedOrder | None:
        """The maker's order for a venue oid (bound, or by the cloid the venue knows), if the
        maker shows it live (placed, resting, partly filled)."""
        tracker = self.maker.tracker
        order = tracker.by_oid.get(oid)
        if order is None:
            cloid = self.exchange.order_status(oid, None).cloid
            order = tracker.by_cloid.get(cloid) if cloid is not None else None
        if order is None or not (order.state.is_active or order.state is OrderState.PENDING_NEW):
            return None
        return order

    def _check_phantoms(self, now: float) -> None:
        """D32 no_phantom: an order the venue has told us is gone is not shown live past a
        bounded time (however the news was told: by oid alone, ahead of its ack, ...)."""
        for oid, told in list(self._gone.items()):
            if self._live_order(oid) is None or self._venue_rests(oid):
                del self._gone[oid]
            elif now - told > self.bounds.phantom_s:
                self.fail(
                    "no_phantom",
                    now,
                    f"oid {oid} shown live {now - told:.1f}s after the venue said it is gone "
                    f"(bound {self.bounds.phantom_s:g}s)",
                )
                return

    def _venue_rests(self, oid: int) -> bool:
        return self.exchange.order_status(oid, None).status is VenueStatus.OPEN

    def _check_convergence(self, now: float) -> None:
        """D16, D22 prompt_convergence: not only at quiescence -- the maker's position is one
        the venue had within the last ``converge_s`` (it may lag, never drift), and no order
        is an orphan on the venue or a ghost in the tracker for longer than that."""
        bound = self.maker.params.sync_interval + self.bounds.converge_slack_s
        if not self.exchange.connected:
            # The stream is down: the maker cannot hear the news (replayed on reconnect).
            self._orphans.clear()
            self._ghosts.clear()
            return
        problem = self._position_behind_the_news(now)
        if problem is None and now < self.exchange.storm_until:
            # D29: a rate-limit storm may refuse every status query and every sync, and the
            # news of an order's end may have been lost: no maker can learn it until the storm
            # lifts (back-to-back storms held seed 1325940 blind for 24 s).  The orphan and
            # ghost clocks start again when it does, as the kill's clock does.
            self._orphans.clear()
            self._ghosts.clear()
        elif problem is None:
            problem = self._orders_disagree(now, bound)
        if problem is not None:
            self.fail("prompt_convergence", now, problem)

    def _position_behind_the_news(self, now: float) -> str | None:
        """Every trade the venue has told the maker of -- by the fill itself, a status or an
        ack naming how much of the order traded, an open-orders row, a position snapshot -- is
        counted within ``told_counted_s`` (D16, D33: a "filled" whose fills are lost is news; a
        trade nobody has mentioned yet is not).  While a rate-limit storm keeps the maker from
        asking, the clock waits."""
        hold = now < self.exchange.storm_until
        oldest = self._news.oldest_uncounted(now, hold=hold)
        if oldest is None or oldest[1] <= self.bounds.told_counted_s:
            return None
        tid, age = oldest
        return (
            f"trade {tid} told {age:.1f}s ago is not counted: position {self.maker.position.lots}"
            f" lots, venue {self.exchange.position}"
        )

    def _orders_disagree(self, now: float, bound: float) -> str | None:
        tracker = self.maker.tracker
        orphans: dict[int, float] = {}
        for resting in self.exchange.resting_orders():
            oid, cloid = resting.oid, resting.cloid
            order = tracker.by_oid.get(oid)
            if order is None and cloid is not None:
                order = tracker.by_cloid.get(cloid)
            if order is not None and not order.state.is_terminal:
                continue
            since = orphans[oid] = self._orphans.get(oid, now)
            if now - since > bound:
                return f"oid {oid} rests on the venue unknown to the maker for {now - since:.1f}s"
        self._orphans = orphans
        ghosts: dict[int, float] = {}
        for order in tracker.by_cloid.values():
            if not order.state.is_active or order.oid is None or self._venue_rests(order.oid):
                continue
            since = ghosts[order.oid] = self._ghosts.get(order.oid, now)
            if now - since > bound:
                return (
                    f"{order.cloid} (oid {order.oid}) shown {order.state.value}, gone from the "
                    f"venue for {now - since:.1f}s"
                )
        self._ghosts = ghosts
        return None

    def _check_runaway(self, now: float) -> None:
        """D18: |position| beyond the kill threshold trips the kill switch in bounded time."""
        if abs(self.exchange.position) <= self._kill_position or self.maker.kill_switch.latched:
            self._runaway_since = None
            return
        if self._runaway_since is None:
            self._runaway_since = now
        elif now - self._runaway_since > self.bounds.runaway_s:
            self.fail(
                "runaway_kills_in_time",
                now,
                f"venue position {self.exchange.position} lots beyond the kill threshold "
                f"{self._kill_position} for {now - self._runaway_since:.1f}s, not killed",
            )

    def _check(self, invariant: str, now: float, detail: str | None) -> bool:
        if detail is None:
            return True
        self.fail(invariant, now, detail)
        return False

    def _note(self, now: float, kind: str, item: object) -> None:
        if not isinstance(item, MARKET_DATA):  # the report shows order traffic only
            self.history.append((now, kind, item))
        if self._trace is not None:
            self._trace.write(f"{now:12.6f} {kind:8} {item!r}\n")

    def recent(self) -> Iterable[str]:
        for t, kind, item in self.history:
            yield f"{t:12.6f} {kind:8} {item!r}"
