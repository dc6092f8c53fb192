"""The swarm's invariants: what must hold after every event, every command and at quiescence.

Each invariant is a named function with the D-rule it proves; it returns ``None`` when the
rule holds and a one-line description of what is wrong otherwise.  ``Probe``
(``core.harness.probe``) applies them to the real ``MarketMaker`` as the simulation loop's
agent.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.actions import Action, CancelAllOrders, Kill
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
    FillSettled,
    Funding,
    Liquidated,
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
from core.maker import MarketMaker
from core.orders import OrderState, TrackedOrder
from core.venues.sim.exchange import SimExchange

MARKET_DATA = (BookDelta, BookSnapshot, Trade)
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
        # This runs after every order event over a few dozen orders (those whose cancel is
        # confirmed stay live until a late fill or the grace ends them) and almost always
        # finds nothing: this pass only asks whether any is unsound or ended, and the walk
        # that says which and moves the ended ones runs only then.
        terminal_states = _TERMINAL_STATES
        for order in live.values():
            if not 0 <= order.filled <= order.size or order.state in terminal_states:
                problem = _walk_live(live, terminal)
                if problem is not None:
                    return problem
                break
    for side, lots in maker.tracker.pending_lots.items():
        if lots < 0:
            return f"pending exposure on {side.value} is negative ({lots} lots)"
    return None


def _walk_live(live: dict[str, TrackedOrder], terminal: dict[str, OrderState]) -> str | None:
    """``order_state_sound``'s walk over the orders not yet seen terminal: the first unsound
    one, or None after moving those that ended to ``terminal`` (``live`` and ``terminal``
    never share a cloid: no terminal lookup is needed)."""
    done: list[str] = []
    for cloid, order in live.items():
        filled = order.filled
        if filled < 0 or filled > order.size:
            return f"order {cloid}: filled {filled} of size {order.size}"
        if order.state in _TERMINAL_STATES:
            done.append(cloid)
    for cloid in done:
        terminal[cloid] = live.pop(cloid).state
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


class MoneyTold:
    """D36: the fees and funding the venue has told the maker of, each payment once (its
    trade id, its time): what the maker's costs must equal after every such event."""

    __slots__ = ("_fees_tids", "_funding_times", "fees", "funding", "mismatches")

    def __init__(self) -> None:
        self._fees_tids: set[int] = set()
        self._funding_times: set[float] = set()
        self.fees = 0
        self.funding = 0
        self.mismatches = 0  # closedPnl disagreements already judged

    def told(self, event: Event) -> bool:
        """Take in ``event``; True when it was a fill or a funding payment."""
        if isinstance(event, Fill):
            if event.tid not in self._fees_tids:
                self._fees_tids.add(event.tid)
                self.fees += event.fee
            return True
        if isinstance(event, Funding):
            if event.venue_time not in self._funding_times:
                self._funding_times.add(event.venue_time)
                self.funding += event.amount
            return True
        return False


def net_pnl_agrees(
    maker: MarketMaker, told: MoneyTold, exchange: SimExchange, event: Event
) -> str | None:
    """D36 (with D4): every fee and funding payment told is counted once -- no more, no
    less -- and the PnL our books say a fill closed never disagrees with the venue's
    ``closedPnl`` while our books are complete: every earlier fill of the venue's since the
    position we adopted counted (the exchange keeps exact average cost, as the maker does).
    A fill we have not seen yet can move the venue's entry and leave the position as it was;
    then the disagreement is true news (the maker reconciles), not a false alarm."""
    costs = maker.costs
    if costs.fees != told.fees:
        return f"fees counted {costs.fees}, told {told.fees} (millionths)"
    if costs.funding != told.funding:
        return f"funding counted {costs.funding}, told {told.funding} (millionths)"
    if isinstance(event, Fill) and costs.closed_mismatches > told.mismatches:
        told.mismatches = costs.closed_mismatches
        ledger = maker.tracker.ledger
        adopted = maker.position_moves.adopted_at
        missing = [
            f.tid
            for f in exchange.fills_after(0)
            if f.tid < event.tid
            and not ledger.seen(f.tid)
            and (adopted is None or f.venue_time is None or f.venue_time > adopted)
        ]
        if not missing:
            return f"closedPnl disagreement with every earlier fill counted: {costs.last_mismatch}"
    return None


class Settled:
    """D38: the trades the venue has told the maker FAILED (each must be reversed once)."""

    __slots__ = ("failed",)

    def __init__(self) -> None:
        self.failed: set[int] = set()


def failed_reversed_once(
    event: Event,
    moved: int,
    held: int | None,
    news: bool,
    settled: Settled,
    maker: MarketMaker,
    exchange: SimExchange,
) -> str | None:
    """D38: a FAILED trade is reversed exactly once, whatever order the statuses come in and
    however often they repeat.  ``moved`` is the position change the event caused, ``held``
    the signed lots the maker held pending for the trade before it (None: not pending),
    ``news`` whether a fill's trade id was new.  A FAILED for a held trade moves the position
    back by exactly what the venue's trade moved; any other final word moves nothing (a
    CONFIRMED, a repeat, a word before its fill) and leaves nothing pending; a fill that
    arrives after its trade was told FAILED moves nothing either."""
    if isinstance(event, Fill):
        if news and event.tid in settled.failed and moved:
            return f"fill tid {event.tid} told FAILED before it came moved the position by {moved}"
        return None
    if not isinstance(event, FillSettled):
        return None
    tid = event.tid
    if tid in maker.settlements.pending:
        return f"trade {tid} still pending after the venue's last word ({event.status})"
    first = not event.confirmed and tid not in settled.failed
    if not event.confirmed:
        settled.failed.add(tid)
    if not first or held is None:
        if moved:
            word = "CONFIRMED" if event.confirmed else "a repeated or early FAILED"
            return f"{word} for trade {tid} moved the position by {moved}"
        return None
    trade = exchange.trade(tid)
    venue = None if trade is None else trade.side.sign * trade.size
    if venue is not None and held != venue:
        return f"trade {tid} held pending as {held} lots, the venue's moved {venue}"
    if moved != -held:
        return f"FAILED trade {tid} ({held} lots) moved the position by {moved}, not {-held}"
    return None


def liquidation_kills(event: Event, news: bool, maker: MarketMaker) -> str | None:
    """D41: the first word of our liquidation (its fill, or the account event) latches the
    maker's kill by the very step that handled it."""
    told = (isinstance(event, Fill) and news and event.liquidation is not None) or isinstance(
        event, Liquidated
    )
    if told and not maker.kill_switch.latched:
        # (A halted engine shows HALTED, which outranks KILLED; the kill is latched beneath.)
        return f"told of our liquidation, kill not latched (mode {maker.mode.value})"
    return None


def one_venue_order_per_intent(maker: MarketMaker, exchange: SimExchange) -> str | None:
    """D22 (executor): the venue never holds two of our orders for one (side, level) intent,
    across retries, modifies, timeouts and reconnects."""
    intents: dict[tuple[Side, int], int] = {}
    by_cloid = maker.tracker.by_cloid
    for resting in exchange.resting_orders():
        cloid = resting.cloid
        order = by_cloid.get(cloid) if cloid is not None else None
        if order is None or order.level is None:
            continue
        key = (order.side, order.level)
        if key in intents:
            return (
                f"venue holds oids {intents[key]} and {resting.oid} for intent "
                f"{order.side.value} level {order.level}"
            )
        intents[key] = resting.oid
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
    if exchange.binary:
        # D38: the position is confirmed trades plus pending ones, on both sides.
        held = set(maker.settlements.pending)
        venue = {f.tid for f in exchange.pending_trades()}
        if held != venue:
            problems.append(f"pending trades: local {sorted(held)}, venue {sorted(venue)}")
        confirmed = maker.position.lots - maker.settlements.net
        if confirmed != exchange.confirmed_position:
            problems.append(
                f"confirmed position: local {confirmed}, venue {exchange.confirmed_position}"
            )
    account = exchange.account_money()
    if (maker.costs.fees, maker.costs.funding) != account:
        # D33, D36: every fill and payment reaches the maker in the end (a replay, a fetch).
        problems.append(
            f"fees/funding: local {maker.costs.fees}/{maker.costs.funding}, "
            f"venue {account[0]}/{account[1]} (millionths)"
        )
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
