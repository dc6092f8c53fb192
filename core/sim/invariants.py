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
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    FetchFills,
    Modify,
    Place,
    QueryOrder,
    SetLeverage,
    SyncState,
    TimeInForce,
)
from core.events import (
    BookDelta,
    BookSnapshot,
    CancelAck,
    Event,
    Fill,
    ModifyAck,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PositionSnapshot,
    Side,
    Trade,
    VenueStatus,
)
from core.maker import MarketMaker, SweepPhase, quotes_now
from core.orders import OrderState, TrackedOrder
from core.venues.sim.exchange import SimExchange

_MARKET_DATA = (BookDelta, BookSnapshot, Trade)
SAMPLE_S = 1.0  # how often (virtual seconds) the sampled invariants are checked
_TERMINAL_STATES = frozenset(state for state in OrderState if state.is_terminal)


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    time: float
    detail: str


@dataclass(frozen=True, slots=True)
class Bounds:
    """How long a safety property may take to hold again (simulated seconds), and how much
    the maker may ask of the venue.  Each default is the slowest path a correct maker has,
    with margin; a bug shows up as orders of magnitude beyond it."""

    # After a kill, once no rate-limit storm is under way, the venue holds none of our orders
    # within this long: the retry pacing caps at 2 s (cancels and cancel-all), and the
    # adversary may lose a retry or its answer (request timeouts up to 5 s) more than once.
    kill_clean_s: float = 20.0
    runaway_s: float = 30.0  # |position| beyond the kill threshold, kill switch not latched
    # D29: request weight (one per signed action, two per cancel-all or sync, one per query or
    # fill fetch) sent in any one second.  Hyperliquid admits 100 WebSocket posts in flight
    # and 2,000 messages a minute; the maker's own quoting peaks near 60 a second in the
    # fastest markets the swarm draws (ticks of 0.05 s, re-quoting on every book change);
    # a retry storm reaches thousands within a second.
    max_requests_per_s: int = 100
    # D27/D31: a level the ladder wants, on a side with no reason not to quote, is quoted or
    # says why within this long (the executor places on the next tick, at most 0.25 s).
    stall_s: float = 5.0
    # D32: an order the venue has told us is gone is not shown live past this: the slowest
    # path is news by oid alone with the ack lost (the query by cloid waits up to 5 s), asked
    # through a rate-limit storm (8 s at most) with paced re-asks (capped at 8 s).
    phantom_s: float = 30.0
    # D16, D22: position, orphans and ghosts agree with the venue within the maker's periodic
    # sync interval plus this: a partial fill lost on the wire with no status to reveal it is
    # only seen by the next sync, confirmed by a second look, through a storm and its retries.
    converge_slack_s: float = 20.0
    # D33: a trade the venue has told of (its fill, a status naming the order filled, a row, a
    # position snapshot after it) is counted within this long: fills get 1 s to arrive on
    # their own, then are fetched; a fetch whose answer is lost times out after up to 5 s and
    # is retried (time in rate-limit storms does not count).
    told_counted_s: float = 15.0


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
    action: Action, commands: list[Command], sweep_was_active: bool, in_flight: bool = False
) -> str | None:
    """D13, D25, D29: cancel-all and kill go out on the operator's very call, backoff or not
    -- unless a cancel-all sent a moment ago is still on its way (``in_flight``): a second one
    beside it would only add to a storm, so it joins it; a kill while a sweep is under way
    joins that sweep."""
    if in_flight:
        return None
    wants = isinstance(action, CancelAllOrders) or (
        isinstance(action, Kill) and not sweep_was_active
    )
    if wants and not any(isinstance(c, CancelAll) for c in commands):
        return f"{type(action).__name__} returned no CancelAll"
    return None


def request_weight(batch: Batch) -> int:
    """What a batch costs at the venue: one per signed action kind (its cancels, placements,
    modifies), two per cancel-all (a listing and a cancel) and per sync (open orders and the
    position), one per status query, fill fetch or leverage change."""
    weight = 0
    kinds = {type(c) for c in batch.commands}
    for kind in (Cancel, Place, Modify):
        if kind in kinds:
            weight += 1
    for cmd in batch.commands:
        if isinstance(cmd, CancelAll | SyncState):
            weight += 2
        elif isinstance(cmd, QueryOrder | FetchFills | SetLeverage):
            weight += 1
    return weight


def risk_judged_on_the_fill(maker: MarketMaker, before: int, kill_position: int) -> str | None:
    """D30: the event that takes |position| past the kill threshold latches the kill switch
    in the same step (not at the next timer tick); start-up judges after it is done (D19)."""
    after = maker.position.lots
    if after == before or abs(after) <= kill_position or maker.life.starting:
        return None
    if maker.kill_switch.latched:
        return None
    return f"position {after} lots beyond the kill threshold {kill_position}, not killed"


_GONE = frozenset(
    {VenueStatus.FILLED, VenueStatus.CANCELED, VenueStatus.VENUE_CANCELED, VenueStatus.REJECTED}
)


def gone_oid(event: Event) -> int | None:
    """The oid an event says is no longer on the venue (filled, cancelled, rejected), if any."""
    if isinstance(event, OrderUpdate | OrderStatusReport) and event.status in _GONE:
        return event.oid
    if isinstance(event, CancelAck):
        return event.oid
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
    (market data: it moves no order's fills and ends no order -- the re-quote it may cause
    only sends cancels and new placements, checked at the next order event).  Every
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


class TradeNews:
    """Which of the venue's trades for us the client has been told of, since when, and
    whether the maker has counted them yet.

    A trade is told by its own ``Fill`` (any replay or fetch of it), by a message that says
    how much of its order has traded (an ack's immediate fill, an update or status answer
    with a filled amount or "filled", an open-orders row), or by a position snapshot taken
    after it.  It is counted once the maker's ledger holds its trade id, its order's count of
    what traded covers it, or the venue position the maker adopted holds it (D4, D16).  Only
    trades not yet counted are kept, so a check costs what is in flight."""

    def __init__(self, exchange: SimExchange, maker: MarketMaker) -> None:
        self._exchange = exchange
        self._maker = maker
        self._last_tid = 0
        self._order_filled: dict[int, int] = {}  # oid -> lots traded so far (venue truth)
        # tid, oid, cloid, lots of its order traded through it, venue time, told at
        self._pending: list[tuple[int, int, str | None, int, float, float | None]] = []
        self._tids: set[int] = set()
        self._filled: dict[int, int] = {}  # oid -> the most the client was told had traded
        self._until = -float("inf")  # venue time of the newest position snapshot told

    def told(self, event: Event) -> None:
        if isinstance(event, Fill):
            self._tids.add(event.tid)
        elif isinstance(event, PositionSnapshot):
            if event.venue_time is not None:
                self._until = max(self._until, event.venue_time)
        elif isinstance(event, PlaceAck | ModifyAck):
            self._tell(event.oid, event.filled)
        elif isinstance(event, OrderUpdate | OrderStatusReport) and event.oid is not None:
            if event.status is VenueStatus.FILLED:
                status = self._exchange.order_status(event.oid, None)
                self._tell(event.oid, status.filled + status.remaining)
            filled = event.filled
            if filled is not None:
                self._tell(event.oid, filled)
        elif isinstance(event, OpenOrders):
            for row in event.orders:
                self._tell(row.oid, row.orig_size - row.size)

    def _tell(self, oid: int, filled: int) -> None:
        if filled > self._filled.get(oid, 0):
            self._filled[oid] = filled

    def oldest_uncounted(self, now: float, *, hold: bool) -> tuple[int, float] | None:
        """(trade id, seconds since told) of the trade told longest ago that the maker has not
        counted; ``hold`` (a storm keeps the maker from asking) restarts every such clock."""
        for fill in self._exchange.fills_after(self._last_tid):
            self._last_tid = fill.tid
            oid = fill.oid if fill.oid is not None else -1
            cum = self._order_filled[oid] = self._order_filled.get(oid, 0) + fill.size
            t = fill.venue_time if fill.venue_time is not None else float("inf")
            self._pending.append((fill.tid, oid, fill.cloid, cum, t, None))
        maker = self._maker
        ledger = maker.tracker.ledger
        adopted = maker.position_moves.adopted_at
        kept: list[tuple[int, int, str | None, int, float, float | None]] = []
        oldest: tuple[int, float] | None = None
        for tid, oid, cloid, cum, t, told_at in self._pending:
            if ledger.seen(tid) or (adopted is not None and t <= adopted):
                continue
            order = maker.tracker.by_oid.get(oid)
            if order is None and cloid is not None:
                order = maker.tracker.by_cloid.get(cloid)
            if order is not None and order.filled >= cum:
                continue
            if told_at is None or hold:
                told = tid in self._tids or t <= self._until or cum <= self._filled.get(oid, 0)
                told_at = now if told else None
            kept.append((tid, oid, cloid, cum, t, told_at))
            if told_at is not None and (oldest is None or now - told_at > oldest[1]):
                oldest = (tid, now - told_at)
        self._pending = kept
        return oldest


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
        self._quiet = False  # the last event was market data
        self._observed_at: float | None = None  # the moment the venue's state was last checked
        self._tids: set[int] = set()
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
        if isinstance(event, _MARKET_DATA):
            return self._handle_market_data(event, now)
        self._note(now, "event", event)
        before = self.maker.position.lots
        batches = self._call("handle", event, now, self.maker.handle, event)
        self._quiet = False
        if self.violation is None:
            moved = self.maker.position.lots - before
            self._check("fill_counted_once", now, fill_counted_once(event, self._tids, moved))
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
            tb = traceback.format_exception(exc)
            where = f"handle({type(event).__name__})"
            self.fail("maker_never_raises", now, f"{where} raised {exc!r}\n{''.join(tb)}")
            return []
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
            where = f"{entry}({type(arg).__name__})" if arg is not None else f"{entry}()"
            tb = traceback.format_exception(exc)
            self.fail("maker_never_raises", now, f"{where} raised {exc!r}\n{''.join(tb)}")
            return []
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
        problem = self._position_behind_the_news(now) or self._orders_disagree(now, bound)
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
        for oid, cloid in self.exchange.resting_cloids():
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
        if not isinstance(item, _MARKET_DATA):  # the report shows order traffic only
            self.history.append((now, kind, item))
        if self._trace is not None:
            self._trace.write(f"{now:12.6f} {kind:8} {item!r}\n")

    def recent(self) -> Iterable[str]:
        for t, kind, item in self.history:
            yield f"{t:12.6f} {kind:8} {item!r}"
