"""A scenario harness for the real ``MarketMaker``: virtual time, no venue, no asyncio.

A ``Rig`` (a test rig; the program's session is ``core.session.Session``) owns one maker and a
clock that only moves when a test says so.  Every entry point (``handle``, ``tick``,
``operate``) takes an explicit time (or reuses the rig's current one), returns the commands the
maker produced as a flat list, and records them in ``rig.sent`` so that a test can state a
property of *everything* the maker ever said ("no Place while killed").

``running_maker()`` walks the real start-up (D19): ``start()``, the venue's open orders and
position, the start-up cancel-all, two empty verification snapshots a moment apart, then
``Connected`` and a ``BookSnapshot`` -- so a scenario begins with a maker in RUNNING mode that has
just sent its first ladder.

``AutoVenue`` is a minimal, obedient venue for property tests: it acknowledges every placement,
modify and cancel at once, so the maker keeps re-pricing live orders as the book moves.

Sizes are lots of 0.1 and prices ticks of 0.01 (``INSTRUMENT``), as in SCENARIOS.md.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from core.actions import Action
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    FetchFills,
    Modify,
    Place,
    QueryOrder,
    SyncState,
    TimeInForce,
)
from core.config import Config
from core.events import (
    AckStatus,
    BookSnapshot,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    Connected,
    Event,
    Fill,
    FillsFetched,
    Liquidity,
    ModifyAck,
    ModifyRejected,
    OpenOrders,
    OrderStatusReport,
    PlaceAck,
    PlaceRejected,
    PositionSnapshot,
    QueryFailed,
    RejectionClass,
    Side,
    SyncFailed,
    Trade,
    VenueOrder,
    VenueStatus,
)
from core.maker import MakerParams, MarketMaker, SweepPhase
from core.orders import OrderState, TrackedOrder
from core.units import Instrument
from core.view import ConsoleView, Mode

INSTRUMENT = Instrument(
    symbol="T",
    tick_size=Decimal("0.01"),
    lot_size=Decimal("0.1"),
    sz_decimals=1,
    max_price_decimals=2,
    sig_figs=5,
    min_notional=Decimal(0),
)

# The book every scenario starts from unless it says otherwise: 100.00 / 100.10.
BID = 10_000
ASK = 10_010

# A ladder that is easy to read: one level a side, 1.0 (10 lots) each, 2 ticks inside the touch,
# no inventory skew; max position 5.0 (50 lots).  Scenarios override what they need.
SCENARIO_CONFIG: dict[str, dict[str, Any]] = {
    "strategy": {
        "levels": 1,
        "level_spacing_ticks": 2,
        "half_spread_ticks": 3,
        "size": "1.0",
        "size_step": "0",
        "skew_ticks_per_unit": "0",
        "requote_threshold_ticks": 1,
        "tick_interval_s": 0.1,
    },
    "risk": {
        "max_position": "5.0",
        "max_notional": "1000000",
        "loss_limit": "1000000",
        "stale_data_s": 5.0,
    },
    # The fixed ladder: scenarios place the book by hand, which no volatility estimate
    # should read as a market (tests/maker/test_spread_policy.py turns the signals on).
    "signals": {"volatility_multiplier": 0, "cascade_enter": 0},
}

C = TypeVar("C")


def make_config(**sections: dict[str, Any]) -> Config:
    """``Config`` from the scenario defaults with per-section overrides, e.g.
    ``make_config(risk={"max_position": "1.0"})``."""
    data: dict[str, dict[str, Any]] = {k: dict(v) for k, v in SCENARIO_CONFIG.items()}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Config.model_validate(data)


def make_params(
    *, live: bool = False, config: Config | None = None, **overrides: Any
) -> MakerParams:
    """``MakerParams.from_config`` for ``INSTRUMENT``; keyword overrides replace MakerParams
    fields (``strategy=``, ``grace_period=`` ...) after the conversion."""
    params = MakerParams.from_config(config or make_config(), INSTRUMENT, live=live)
    return dataclasses.replace(params, **overrides) if overrides else params


def with_strategy(params: MakerParams, **fields: Any) -> MakerParams:
    return dataclasses.replace(params, strategy=dataclasses.replace(params.strategy, **fields))


def with_risk(params: MakerParams, **fields: Any) -> MakerParams:
    return dataclasses.replace(params, risk=dataclasses.replace(params.risk, **fields))


# ---- commands ----------------------------------------------------------------------------


def commands(batches: Iterable[Batch]) -> list[Command]:
    """The commands of a list of batches, in submission order."""
    return [cmd for batch in batches for cmd in batch.commands]


def of_type(cmds: Iterable[Command], kind: type[C]) -> list[C]:
    return [c for c in cmds if isinstance(c, kind)]


def places(cmds: Iterable[Command], side: Side | None = None) -> list[Place]:
    return [c for c in of_type(cmds, Place) if side is None or c.side is side]


def modifies(cmds: Iterable[Command], side: Side | None = None) -> list[Modify]:
    return [c for c in of_type(cmds, Modify) if side is None or c.side is side]


def cancels(cmds: Iterable[Command]) -> list[Cancel]:
    return of_type(cmds, Cancel)


def cancel_alls(cmds: Iterable[Command]) -> list[CancelAll]:
    return of_type(cmds, CancelAll)


def queries(cmds: Iterable[Command]) -> list[QueryOrder]:
    return of_type(cmds, QueryOrder)


def syncs(cmds: Iterable[Command]) -> list[SyncState]:
    return of_type(cmds, SyncState)


def placements(cmds: Iterable[Command]) -> list[Place | Modify]:
    """Everything that can put a new order on the venue."""
    return [c for c in cmds if isinstance(c, Place | Modify)]


# ---- events ------------------------------------------------------------------------------


def book(bid: int = BID, ask: int = ASK, size: int = 50) -> BookSnapshot:
    return BookSnapshot(((bid, size),), ((ask, size),))


def fill(
    tid: int,
    order: Place | TrackedOrder | None = None,
    *,
    size: int,
    oid: int | None = None,
    cloid: str | None = None,
    side: Side | None = None,
    price: int | None = None,
    liquidity: Liquidity = Liquidity.MAKER,
    snapshot: bool = False,
) -> Fill:
    """A stream fill; ``order`` supplies side, price and cloid unless given explicitly."""
    if order is not None:
        side = side or order.side
        price = price if price is not None else order.price
        if cloid is None and oid is None:
            cloid = order.cloid
    assert side is not None and price is not None
    return Fill(tid, oid, cloid, side, price, size, liquidity, snapshot=snapshot)


def resting_ack(place: Place, oid: int, batch_id: int | None = None) -> PlaceAck:
    return PlaceAck(place.cloid, oid, AckStatus.RESTING, batch_id=batch_id)


def venue_order(order: Place | TrackedOrder, oid: int, *, with_cloid: bool = True) -> VenueOrder:
    return VenueOrder(
        oid, order.cloid if with_cloid else None, order.side, order.price, order.size, order.size
    )


# ---- the rig -----------------------------------------------------------------------------


class Rig:
    """One maker on a virtual clock, with every command it ever produced."""

    def __init__(self, maker: MarketMaker, now: float = 0.0) -> None:
        self.maker = maker
        self.now = now
        self.sent: list[Command] = []
        self.batches: list[Batch] = []

    def _at(self, at: float | None) -> float:
        if at is not None:
            assert at >= self.now, f"time goes forward only ({at} < {self.now})"
            self.now = at
        return self.now

    def _record(self, batches: list[Batch]) -> list[Command]:
        self.batches.extend(batches)
        cmds = commands(batches)
        self.sent.extend(cmds)
        return cmds

    def start(self, at: float | None = None) -> list[Command]:
        return self._record(self.maker.start(self._at(at)))

    def handle(self, event: Event, at: float | None = None) -> list[Command]:
        return self._record(self.maker.handle(event, self._at(at)))

    def tick(self, at: float | None = None) -> list[Command]:
        return self._record(self.maker.tick(self._at(at)))

    def operate(self, action: Action, at: float | None = None) -> list[Command]:
        return self._record(self.maker.operate(action, self._at(at)))

    def run(self, until: float, *, step: float = 0.1, fresh_data: bool = True) -> list[Command]:
        """Tick every ``step`` seconds up to ``until``; with ``fresh_data`` a public trade
        arrives before each tick so that market data never goes stale."""
        out: list[Command] = []
        t = self.now
        while t + step <= until + 1e-9:
            t = round(t + step, 9)
            if fresh_data:
                out += self.handle(Trade(Side.BID, BID, 1), t)
            out += self.tick(t)
        return out

    def view(self) -> ConsoleView:
        return self.maker.view(self.now)

    def order(self, cloid: str) -> TrackedOrder:
        order = self.maker.tracker.get(cloid)
        assert order is not None, f"{cloid} is not tracked"
        return order

    def venue_orders(self) -> tuple[VenueOrder, ...]:
        """What a truthful venue lists: every tracked order that rests under a known oid."""
        return tuple(
            VenueOrder(o.oid, o.cloid, o.side, o.price, o.remaining, o.size)
            for o in self.maker.tracker.non_terminal()
            if o.oid is not None and o.state in (OrderState.RESTING, OrderState.PARTIAL_FILLED)
        )

    def answer_sync(self, at: float | None = None, *, position: int | None = None) -> None:
        """Answer a ``SyncState`` truthfully: the live orders and the (given or local)
        position."""
        lots = self.maker.position.lots if position is None else position
        self.handle(OpenOrders(self.venue_orders()), at)
        self.handle(PositionSnapshot(lots))

    def ack_all(
        self, cmds: Sequence[Command], first_oid: int, at: float | None = None
    ) -> dict[str, int]:
        """Acknowledge every placement and modify in ``cmds`` as resting; returns cloid->oid."""
        oids: dict[str, int] = {}
        oid = first_oid
        for cmd in cmds:
            if isinstance(cmd, Place):
                self.handle(PlaceAck(cmd.cloid, oid, AckStatus.RESTING), at)
                oids[cmd.cloid] = oid
            elif isinstance(cmd, Modify):
                self.handle(ModifyAck(cmd.cloid, cmd.new_cloid, oid, AckStatus.RESTING), at)
                oids[cmd.new_cloid] = oid
            else:
                continue
            oid += 1
        return oids


def start_up(
    rig: Rig,
    *,
    position: int = 0,
    venue_orders: tuple[VenueOrder, ...] = (),
    entry_value: int | None = None,
) -> None:
    """Walk the start-up of D19 to RUNNING (no book yet, not connected)."""
    s = rig
    assert syncs(s.start()), "start-up begins by asking the venue for its state"
    s.handle(OpenOrders(venue_orders), s.now + 0.01)
    swept = s.handle(PositionSnapshot(position, entry_value), s.now + 0.01)
    assert cancel_alls(swept), "start-up sweeps the venue (D19)"
    assert syncs(s.handle(CancelAllDone(len(venue_orders), 0), s.now + 0.01))
    s.handle(OpenOrders(()), s.now + 0.01)
    s.handle(PositionSnapshot(position, entry_value), s.now)
    t = s.now + rig.maker.params.verify_gap
    assert syncs(s.tick(t)), "the second verification comes a moment later (D25)"
    s.handle(OpenOrders(()), s.now + 0.01)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED
    assert s.maker.mode is Mode.RUNNING, s.maker.mode


def verify_empty(s: Rig, swept: int = 0, *, rounds: int = 12) -> None:
    """Answer the sweep in flight as a venue left empty: the cancel-all is done, then every
    sync the maker has out (a verification, or one sent before the cancel-all was done, which
    cannot verify it, D25) is answered with no open orders, until the sweep is verified."""
    s.handle(CancelAllDone(swept, 0), s.now + 0.01)
    for _ in range(rounds):
        if s.maker.sweep_phase is SweepPhase.VERIFIED:
            return
        if s.maker.reconciler.in_flight_since is not None:
            s.handle(OpenOrders(()), s.now + 0.01)
            s.handle(PositionSnapshot(s.maker.position.lots))
        else:
            s.run(s.now + s.maker.params.verify_gap + 0.05)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED, s.maker.sweep_phase


def running_maker(
    params: MakerParams | None = None,
    *,
    position: int = 0,
    entry_value: int | None = None,
    bid: int = BID,
    ask: int = ASK,
    live: bool = False,
    start: float = 0.0,
    instrument: Instrument = INSTRUMENT,
) -> tuple[Rig, list[Command]]:
    """A maker past start-up, connected, that has just seen ``book(bid, ask)``.  Returns the
    rig and the commands that answered the book (its first ladder)."""
    if params is None:
        params = make_params(live=live)
    s = Rig(MarketMaker(params, instrument), start)
    start_up(s, position=position, entry_value=entry_value)
    s.handle(Connected("sim"), s.now + 0.1)
    first = s.handle(book(bid, ask), s.now + 0.1)
    return s, first


def quoting(params: MakerParams | None = None) -> tuple[Rig, list[Command]]:
    """``running_maker`` with its first ladder resting (acked from oid 100) and the sync after
    the connect answered: a maker quoting quietly, nothing in flight."""
    s, first = running_maker(params)
    s.ack_all(first, 100)
    settle(s)
    return s, first


def settle(s: Rig) -> None:
    """Let the sync that follows a (re)connect go out and answer it, so that no sync is in
    flight and a reconcile trigger shows as a fresh ``SyncState`` within a second or two."""
    for _ in range(40):
        if syncs(s.run(s.now + 0.1)):
            s.answer_sync(s.now + 0.01)
            return
    raise AssertionError("no sync went out after the reconnect")


QUOTING_STATES = frozenset({OrderState.PENDING_NEW, OrderState.RESTING, OrderState.PARTIAL_FILLED})


def idle_sides(view: ConsoleView) -> list[Side]:
    """Sides with no order that quotes (pending, resting or partly filled)."""
    return [
        side
        for side in (Side.BID, Side.ASK)
        if not any(o.side is side and o.state in QUOTING_STATES for o in view.orders)
    ]


def assert_idle_sides_say_why(view: ConsoleView) -> None:
    """D27: a side without quotes has exactly one current reason."""
    for side in idle_sides(view):
        reason = view.side_reasons[side]
        assert isinstance(reason, str) and reason, (
            f"{side.value} side has no quotes and no reason (mode {view.mode.value})"
        )


class AutoVenue:
    """Answers at once: placements rest (fresh oids), modifies swap, cancels succeed, a
    cancel-all cancels every live order and reports done, a sync gets the truth."""

    def __init__(self, rig: Rig, first_oid: int = 1000) -> None:
        self.rig = rig
        self.next_oid = first_oid

    def answer(self, cmds: Sequence[Command]) -> list[Command]:
        """Answer ``cmds`` and, recursively, whatever the answers make the maker send."""
        out: list[Command] = []
        pending = list(cmds)
        while pending:
            cmd = pending.pop(0)
            event: Event
            if isinstance(cmd, Place):
                if cmd.tif is TimeInForce.IOC:
                    continue
                event = PlaceAck(cmd.cloid, self._oid(), AckStatus.RESTING)
            elif isinstance(cmd, Modify):
                event = ModifyAck(cmd.cloid, cmd.new_cloid, self._oid(), AckStatus.RESTING)
            elif isinstance(cmd, Cancel):
                event = CancelAck(cmd.cloid, cmd.oid)
            elif isinstance(cmd, CancelAll):
                swept = [
                    o
                    for o in self.rig.maker.tracker.non_terminal()
                    if o.oid is not None and o.state.is_live
                ]
                for order in swept:
                    pending += self.rig.handle(CancelAck(order.cloid, order.oid))
                event = CancelAllDone(len(swept), 0)
            elif isinstance(cmd, SyncState):
                pending += self.rig.handle(OpenOrders(self.rig.venue_orders()))
                event = PositionSnapshot(self.rig.maker.position.lots)
            else:
                continue
            more = self.rig.handle(event)
            out += more
            pending += more
        return out

    def _oid(self) -> int:
        self.next_oid += 1
        return self.next_oid


class LaggyVenue:
    """A truthful venue with a round trip, for rules about what the maker sends over time.

    It keeps the orders that rest (the truth), answers every command ``rtt`` seconds after it
    was sent, and drives the maker: answers in time order, a tick every ``tick`` seconds with
    fresh market data before it.  While ``refusing(now)`` says so (a rate-limit storm, by
    default between ``storm`` times), it answers 429: per item for cancels (the order keeps
    resting), the listing of a cancel-all, status queries, syncs and fill fetches.
    ``requests`` records (time, weight) of everything sent: one per signed action kind in a
    batch (cancels, placements, modifies), two per cancel-all and per sync (a listing and an
    action, or open orders and position), one per query or fill fetch."""

    RATE_LIMITED = "HTTP 429 Too Many Requests"

    def __init__(
        self, rig: Rig, *, rtt: float = 0.02, tick: float = 0.1, first_oid: int = 7000
    ) -> None:
        self.s = rig
        self.rtt = rtt
        self.tick = tick
        self.storm: tuple[float, float] = (0.0, 0.0)
        self.resting: dict[int, tuple[str | None, Side, int, int]] = {}
        self.position = rig.maker.position.lots
        self.requests: list[tuple[float, int]] = []
        self._queue: list[tuple[float, int, Command]] = []
        self._seq = 0
        self._next_oid = first_oid
        for order in rig.maker.tracker.non_terminal():
            if order.oid is not None and order.state.is_active:
                self.resting[order.oid] = (order.cloid, order.side, order.price, order.remaining)

    def refusing(self, now: float) -> bool:
        return self.storm[0] <= now < self.storm[1]

    def send(self, cmds: Sequence[Command], now: float) -> None:
        weight = 0
        kinds = {type(c) for c in cmds}
        weight += sum(1 for k in (Cancel, Place, Modify) if k in kinds)
        for cmd in cmds:
            if isinstance(cmd, CancelAll | SyncState):
                weight += 2
            elif not isinstance(cmd, Cancel | Place | Modify):
                weight += 1
            self._seq += 1
            heapq.heappush(self._queue, (now + self.rtt, self._seq, cmd))
        if weight:
            self.requests.append((now, weight))

    def run(self, until: float) -> None:
        s = self.s
        next_tick = s.now + self.tick
        while True:
            due = self._queue[0][0] if self._queue else math.inf
            t = min(due, next_tick)
            if t > until:
                break
            if due <= next_tick:
                _, _, cmd = heapq.heappop(self._queue)
                for event in self._answer(cmd, t):
                    self.send(s.handle(event, t), t)
            else:
                self.send(s.handle(Trade(Side.BID, BID, 1), t), t)
                self.send(s.tick(t), t)
                next_tick = round(next_tick + self.tick, 9)
        s.now = max(s.now, until)

    def max_per_second(self) -> int:
        """The most request weight sent in any one-second window."""
        times = [(t, w) for t, w in self.requests]
        best = 0
        start = 0
        total = 0
        for end in range(len(times)):
            total += times[end][1]
            while times[end][0] - times[start][0] >= 1.0:
                total -= times[start][1]
                start += 1
            best = max(best, total)
        return best

    def _answer(self, cmd: Command, now: float) -> list[Event]:
        refusing = self.refusing(now)
        if isinstance(cmd, Place):
            if refusing:
                return [PlaceRejected(cmd.cloid, self.RATE_LIMITED, RejectionClass.RATE_LIMIT)]
            oid = self._oid()
            if cmd.tif is TimeInForce.IOC:
                return [PlaceRejected(cmd.cloid, "no match", RejectionClass.OTHER)]
            self.resting[oid] = (cmd.cloid, cmd.side, cmd.price, cmd.size)
            return [PlaceAck(cmd.cloid, oid, AckStatus.RESTING)]
        if isinstance(cmd, Modify):
            if refusing or cmd.oid not in self.resting:
                reason = self.RATE_LIMITED if refusing else "Cannot modify canceled or filled order"
                rclass = RejectionClass.RATE_LIMIT if refusing else RejectionClass.OTHER
                gone = not refusing
                return [ModifyRejected(cmd.cloid, cmd.new_cloid, reason, rclass, gone, raced=gone)]
            del self.resting[cmd.oid]
            oid = self._oid()
            self.resting[oid] = (cmd.new_cloid, cmd.side, cmd.price, cmd.size)
            return [ModifyAck(cmd.cloid, cmd.new_cloid, oid, AckStatus.RESTING)]
        if isinstance(cmd, Cancel):
            return [self._cancel(cmd.cloid, cmd.oid, refusing)]
        if isinstance(cmd, CancelAll):
            if refusing:
                return [CancelAllDone(0, 0, error=self.RATE_LIMITED, rate_limited=True)]
            events: list[Event] = [
                self._cancel(c, oid, False) for oid, (c, *_) in list(self.resting.items())
            ]
            return [*events, CancelAllDone(len(events), 0)]
        if isinstance(cmd, SyncState):
            if refusing:
                return [SyncFailed(self.RATE_LIMITED, rate_limited=True)]
            rows = tuple(
                VenueOrder(oid, c, side, price, size, size)
                for oid, (c, side, price, size) in self.resting.items()
            )
            return [OpenOrders(rows), PositionSnapshot(self.position)]
        if isinstance(cmd, QueryOrder):
            if refusing:
                return [QueryFailed(cmd.cloid, cmd.oid, self.RATE_LIMITED, rate_limited=True)]
            for oid, (c, *_rest) in self.resting.items():
                if oid == cmd.oid or (cmd.cloid is not None and c == cmd.cloid):
                    return [OrderStatusReport(c, oid, VenueStatus.OPEN, "open")]
            return [OrderStatusReport(cmd.cloid, cmd.oid, VenueStatus.CANCELED, "canceled")]
        if isinstance(cmd, FetchFills):
            if refusing:
                return [FillsFetched(0, error=self.RATE_LIMITED, rate_limited=True)]
            return [FillsFetched(0)]
        return []

    def _cancel(self, cloid: str | None, oid: int | None, refusing: bool) -> Event:
        if refusing:
            return CancelRejected(cloid, oid, self.RATE_LIMITED, False, RejectionClass.RATE_LIMIT)
        for o, (c, *_rest) in list(self.resting.items()):
            if o == oid or (oid is None and cloid is not None and c == cloid):
                del self.resting[o]
                return CancelAck(c, o)
        return CancelRejected(
            cloid, oid, "Order was never placed, already canceled, or filled.", True
        )

    def _oid(self) -> int:
        self._next_oid += 1
        return self._next_oid
