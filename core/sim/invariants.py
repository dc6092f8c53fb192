"""The swarm's invariants: what must hold after every event, every command and at quiescence.

Each invariant is a named function with the D-rule it proves; it returns ``None`` when the
rule holds and a one-line description of what is wrong otherwise.  ``Probe`` wraps the real
``MarketMaker`` as the simulation loop's agent: it calls the maker's entry points, checks every
batch the maker sends against the state the maker was in when it sent it, checks the maker's
and the exchange's state after every event (the loop's observer), and records the recent
history for the violation report.  The probe never changes what the maker does: it only
reads the maker's state and the exchange's inspection properties.
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from core.actions import Action, CancelAllOrders, Kill, Resume
from core.commands import Batch, CancelAll, Command, Modify, Place, TimeInForce
from core.events import BookDelta, BookSnapshot, Event, Fill, Side, Trade
from core.maker import MarketMaker, SweepPhase
from core.orders import OrderState, TrackedOrder
from core.venues.sim.exchange import SimExchange

_MARKET_DATA = (BookDelta, BookSnapshot, Trade)
_TERMINAL_STATES = frozenset(state for state in OrderState if state.is_terminal)


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    time: float
    detail: str


@dataclass(frozen=True, slots=True)
class Bounds:
    """How long a safety property may take to hold again (simulated seconds)."""

    kill_clean_s: float = 40.0  # after a kill, the venue holds none of our orders
    runaway_s: float = 30.0  # |position| beyond the kill threshold, kill switch not latched


# ---- per-command invariants ---------------------------------------------------------------


def no_placement_while_killed(cmd: Command, killed: bool) -> str | None:
    """D18: a kill stops placing and stays latched until the operator re-arms it."""
    if killed and isinstance(cmd, Place | Modify):
        return f"{type(cmd).__name__} {cmd.side.value} {cmd.price} sent while killed"
    return None


def maker_only_never_crosses(
    cmd: Command, best_bid: int | None, best_ask: int | None
) -> str | None:
    """D23: a post-only (ALO) quote is never sent at a price that crosses the book the maker
    knew when it sent it (it would be rejected, or churn reject/replace)."""
    if not isinstance(cmd, Place | Modify) or cmd.tif is not TimeInForce.ALO:
        return None
    if cmd.side is Side.BID and best_ask is not None and cmd.price >= best_ask:
        return f"ALO bid at {cmd.price} crosses the known best ask {best_ask}"
    if cmd.side is Side.ASK and best_bid is not None and cmd.price <= best_bid:
        return f"ALO ask at {cmd.price} crosses the known best bid {best_bid}"
    return None


def backoff_blocks_only_placements(cmd: Command, blocked: dict[Side, str]) -> str | None:
    """D11-D13: a backed-off (or position-held) side sends no placement; recovery IOCs are
    exempt (D15), and cancels are never held back (see ``cancels_never_wait``)."""
    if isinstance(cmd, Place | Modify) and cmd.tif is not TimeInForce.IOC and cmd.side in blocked:
        return f"{type(cmd).__name__} {cmd.side.value} sent while blocked: {blocked[cmd.side]}"
    return None


def no_quotes_beside_an_unverified_sweep(cmd: Command, unverified: str | None) -> str | None:
    """D13, D25: once a cancel-all has failed to clear the venue, no resting quote is sent
    until the operator resumes or a later cancel-all verifies the venue empty (orders that
    will not go must not be joined by more); recovery IOCs do not rest and are exempt (D15)."""
    if unverified and isinstance(cmd, Place | Modify) and cmd.tif is not TimeInForce.IOC:
        return f"{type(cmd).__name__} {cmd.side.value} {cmd.price} sent after {unverified}"
    return None


def cancels_never_wait(
    action: Action, commands: list[Command], sweep_was_active: bool
) -> str | None:
    """D13, D25: cancel-all and kill go out on the operator's very call, backoff or not
    (a kill while a sweep is already under way joins that sweep)."""
    wants = isinstance(action, CancelAllOrders) or (
        isinstance(action, Kill) and not sweep_was_active
    )
    if wants and not any(isinstance(c, CancelAll) for c in commands):
        return f"{type(action).__name__} returned no CancelAll"
    return None


# ---- per-event state invariants -----------------------------------------------------------


class OrderWatch:
    """What ``order_state_sound`` remembers between checks: every order seen terminal (kept
    after the tracker prunes it, so a resurrected cloid is caught), the orders not yet seen
    terminal, and every cloid seen at all (to find the tracker's new orders cheaply)."""

    FULL_SCAN_EVERY = 256  # checks between walks over every tracked order

    def __init__(self) -> None:
        self.terminal: dict[str, OrderState] = {}
        self.live: dict[str, TrackedOrder] = {}
        self.known: set[str] = set()
        self.checks = 0


def order_state_sound(
    maker: MarketMaker, watch: OrderWatch, *, full: bool = False, quiet: bool = False
) -> str | None:
    """D1, D3, D22: no order has negative remaining size or more filled than its size, and no
    terminal order ever changes state or becomes live again.

    After every event it checks every order not yet seen terminal (the only ones a correct
    tracker changes) and the orders new since the last check, unless the event was ``quiet``
    (market data the maker sent nothing for: its orders cannot have changed).  Every
    ``FULL_SCAN_EVERY`` checks, and when ``full`` (at quiescence), it walks every tracked
    order, so an order that left a terminal state, or changed on a quiet event, is caught
    within that many events even if no table row let it."""
    by_cloid = maker.tracker.by_cloid
    terminal, live = watch.terminal, watch.live
    watch.checks += 1
    if full or watch.checks % watch.FULL_SCAN_EVERY == 0:
        watch.known.update(by_cloid)
        for cloid, order in by_cloid.items():
            filled = order.filled
            if filled < 0 or filled > order.size:
                return f"order {cloid}: filled {filled} of size {order.size}"
            state = order.state
            seen = terminal.get(cloid)
            if seen is None:
                if state in _TERMINAL_STATES:
                    terminal[cloid] = state
                    live.pop(cloid, None)
                else:
                    live[cloid] = order
            elif state is not seen:
                return f"terminal order {cloid} went {seen.value} -> {state.value}"
    elif not quiet:
        known = watch.known
        for cloid in reversed(by_cloid):
            if cloid in known:
                break
            known.add(cloid)
            live[cloid] = by_cloid[cloid]
        # ``live`` and ``terminal`` never share a cloid: no terminal lookup is needed here.
        done: list[str] = []
        for cloid, order in live.items():
            filled = order.filled
            if filled < 0 or filled > order.size:
                return f"order {cloid}: filled {filled} of size {order.size}"
            if order.state in _TERMINAL_STATES:
                done.append(cloid)
        for cloid in done:
            terminal[cloid] = live.pop(cloid).state
    for side, lots in maker.tracker.pending_lots.items():
        if lots < 0:
            return f"pending exposure on {side.value} is negative ({lots} lots)"
    return None


def fill_counted_once(event: Event, seen_tids: set[int], moved: int) -> str | None:
    """D4: a trade id seen before (a replay after reconnect, a repeat) never moves the
    position again.  ``moved`` is the position change the event caused."""
    if not isinstance(event, Fill):
        return None
    if event.tid in seen_tids:
        if moved:
            return f"replayed fill tid {event.tid} moved the position by {moved} lots"
        return None
    seen_tids.add(event.tid)
    return None


def one_venue_order_per_intent(maker: MarketMaker, exchange: SimExchange) -> str | None:
    """D22 (executor): the venue never holds two of our orders for one (side, level) intent,
    across retries, modifies, timeouts and reconnects."""
    intents: dict[tuple[Side, int], int] = {}
    by_cloid = maker.tracker.by_cloid
    for oid, cloid in exchange.resting_cloids():
        order = by_cloid.get(cloid) if cloid is not None else None
        if order is None or order.level is None:
            continue
        key = (order.side, order.level)
        if key in intents:
            return (
                f"venue holds oids {intents[key]} and {oid} for intent "
                f"{order.side.value} level {order.level}"
            )
        intents[key] = oid
    return None


# ---- quiescence --------------------------------------------------------------------------


def converged(maker: MarketMaker, exchange: SimExchange) -> str | None:
    """D16, D22: after the faults end and reconciliation has run, every fill is counted once
    (local position == venue position) and local live orders == venue live orders (no
    orphan on the venue, no ghost in the tracker, nothing left unanswered)."""
    problems: list[str] = []
    if maker.position.lots != exchange.position:
        problems.append(f"position: local {maker.position.lots}, venue {exchange.position}")
    venue = {vo.oid for vo in exchange.open_orders()}
    local: set[int] = set()
    unresolved = 0
    for order in maker.tracker.by_cloid.values():
        if order.state.is_active and order.oid is not None:
            local.add(order.oid)
        elif order.state in (OrderState.PENDING_NEW, OrderState.CANCEL_PENDING) or (
            order.state.is_active and order.oid is None
        ):
            unresolved += 1
    if venue - local:
        problems.append(f"orphans on the venue: oids {sorted(venue - local)}")
    if local - venue:
        problems.append(f"ghosts in the tracker: oids {sorted(local - venue)}")
    if unresolved:
        problems.append(f"{unresolved} orders still unanswered or cancel-pending")
    return "; ".join(problems) or None


# ---- the probe --------------------------------------------------------------------------


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
    ) -> None:
        self.maker = maker
        self.exchange = exchange
        self.bounds = bounds if bounds is not None else Bounds()
        self.violation: Violation | None = None
        self.history: deque[tuple[float, str, object]] = deque(maxlen=history)
        self.checks = 0
        self._trace = trace
        self._orders = OrderWatch()
        self._quiet = False  # the last event was market data the maker sent nothing for
        self._tids: set[int] = set()
        self._killed_at: float | None = None
        self._runaway_since: float | None = None
        self._kill_position = maker.params.risk.kill_position
        # Seen by the probe itself, not read from the maker's pause: the failed cancel-all
        # no verified sweep or operator resume has answered yet.
        self._unverified: str | None = None
        self._sweep_seen = maker.sweep_phase

    # ---- the agent's entry points -----------------------------------------------------

    def start(self, now: float) -> list[Batch]:
        return self._call("start", None, now, lambda: self.maker.start(now))

    def handle(self, event: Event, now: float) -> list[Batch]:
        self._note(now, "event", event)
        before = self.maker.position.lots
        batches = self._call("handle", event, now, lambda: self.maker.handle(event, now))
        self._quiet = not batches and isinstance(event, _MARKET_DATA)
        if self.violation is None:
            moved = self.maker.position.lots - before
            self._check("fill_counted_once", now, fill_counted_once(event, self._tids, moved))
        return batches

    def tick(self, now: float) -> list[Batch]:
        return self._call("tick", None, now, lambda: self.maker.tick(now))

    def operate(self, action: Action, now: float) -> list[Batch]:
        self._note(now, "operator", action)
        sweep_was_active = self.maker.sweep_phase.value in ("sweeping", "verifying")
        batches = self._call("operate", action, now, lambda: self.maker.operate(action, now))
        if self.violation is None:
            commands = [c for b in batches for c in b.commands]
            self._check(
                "cancels_never_wait", now, cancels_never_wait(action, commands, sweep_was_active)
            )
        return batches

    def observe(self, event: Event, now: float) -> None:
        """The loop's observer: state invariants after the maker handled ``event``."""
        if self.violation is not None:
            return
        maker = self.maker
        self.checks += 1
        sound = order_state_sound(maker, self._orders, quiet=self._quiet)
        if not self._check("order_state_sound", now, sound):
            return
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

    # ---- internals ----------------------------------------------------------------------

    def _call(
        self, entry: str, arg: object, now: float, call: Callable[[], list[Batch]]
    ) -> list[Batch]:
        if self.violation is not None:
            return []
        maker = self.maker
        killed = maker.kill_switch.latched
        blocked = self._blocked(now)
        try:
            batches = call()
        except Exception as exc:  # the invariant is precisely that this never happens
            where = f"{entry}({type(arg).__name__})" if arg is not None else f"{entry}()"
            tb = traceback.format_exception(exc)
            self.fail("maker_never_raises", now, f"{where} raised {exc!r}\n{''.join(tb)}")
            return []
        killed = killed or maker.kill_switch.latched
        unverified = self._follow_sweep(now, arg)
        best_bid, best_ask = maker.book.best_bid, maker.book.best_ask
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
                    return batches
        return batches

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
        if isinstance(arg, Resume) and not self.maker.stopping:
            self._unverified = None
        return self._unverified

    def _blocked(self, now: float) -> dict[Side, str]:
        blocked: dict[Side, str] = {}
        for side in (Side.BID, Side.ASK):
            block = self.maker.rejections.placement_block(side, now)
            if block is not None:
                blocked[side] = block.describe()
        return blocked

    def _check_kill(self, now: float) -> None:
        """D18, D25: after a kill, zero live orders on the venue within a bounded time."""
        if not self.maker.kill_switch.latched:
            self._killed_at = None
            return
        if self._killed_at is None:
            self._killed_at = now
            return
        if now - self._killed_at > self.bounds.kill_clean_s:
            left = self.exchange.open_orders()
            if left:
                self.fail(
                    "killed_venue_empty_in_time",
                    now,
                    f"{len(left)} orders still on the venue {now - self._killed_at:.1f}s "
                    f"after the kill (bound {self.bounds.kill_clean_s:g}s)",
                )

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
        if not isinstance(item, _MARKET_DATA):  # the report shows order traffic only
            self.history.append((now, kind, item))
        if self._trace is not None:
            self._trace.write(f"{now:12.6f} {kind:8} {item!r}\n")

    def recent(self) -> Iterable[str]:
        for t, kind, item in self.history:
            yield f"{t:12.6f} {kind:8} {item!r}"
