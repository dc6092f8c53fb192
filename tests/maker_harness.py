"""A scenario harness for the real ``MarketMaker``: virtual time, no venue, no asyncio.

A ``Session`` owns one maker and a clock that only moves when a test says so.  Every entry point
(``handle``, ``tick``, ``operate``) takes an explicit time (or reuses the session's current one),
returns the commands the maker produced as a flat list, and records them in ``session.sent`` so
that a test can state a property of *everything* the maker ever said ("no Place while killed").

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
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from core.actions import Action
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
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
    Connected,
    Event,
    Fill,
    Liquidity,
    ModifyAck,
    OpenOrders,
    PlaceAck,
    PositionSnapshot,
    Side,
    Trade,
    VenueOrder,
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


# ---- the session -------------------------------------------------------------------------


class Session:
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
    session: Session,
    *,
    position: int = 0,
    venue_orders: tuple[VenueOrder, ...] = (),
    entry_value: int | None = None,
) -> None:
    """Walk the start-up of D19 to RUNNING (no book yet, not connected)."""
    s = session
    assert syncs(s.start()), "start-up begins by asking the venue for its state"
    s.handle(OpenOrders(venue_orders), s.now + 0.01)
    swept = s.handle(PositionSnapshot(position, entry_value), s.now + 0.01)
    assert cancel_alls(swept), "start-up sweeps the venue (D19)"
    assert syncs(s.handle(CancelAllDone(len(venue_orders), 0), s.now + 0.01))
    s.handle(OpenOrders(()), s.now + 0.01)
    s.handle(PositionSnapshot(position, entry_value), s.now)
    t = s.now + session.maker.params.verify_gap
    assert syncs(s.tick(t)), "the second verification comes a moment later (D25)"
    s.handle(OpenOrders(()), s.now + 0.01)
    assert s.maker.sweep_phase is SweepPhase.VERIFIED
    assert s.maker.mode is Mode.RUNNING, s.maker.mode


def running_maker(
    params: MakerParams | None = None,
    *,
    position: int = 0,
    entry_value: int | None = None,
    bid: int = BID,
    ask: int = ASK,
    live: bool = False,
    start: float = 0.0,
) -> tuple[Session, list[Command]]:
    """A maker past start-up, connected, that has just seen ``book(bid, ask)``.  Returns the
    session and the commands that answered the book (its first ladder)."""
    if params is None:
        params = make_params(live=live)
    s = Session(MarketMaker(params, INSTRUMENT), start)
    start_up(s, position=position, entry_value=entry_value)
    s.handle(Connected("sim"), s.now + 0.1)
    first = s.handle(book(bid, ask), s.now + 0.1)
    return s, first


def settle(s: Session) -> None:
    """Let the sync that follows a (re)connect go out and answer it, so that no sync is in
    flight and a reconcile trigger shows as a fresh ``SyncState`` within a second or two."""
    for _ in range(40):
        if syncs(s.run(s.now + 0.1)):
            s.answer_sync(s.now + 0.01)
            return
    raise AssertionError("no sync went out after the reconnect")


QUOTING_STATES = frozenset({"PendingNew", "Resting", "PartialFilled"})


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

    def __init__(self, session: Session, first_oid: int = 1000) -> None:
        self.session = session
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
                    for o in self.session.maker.tracker.non_terminal()
                    if o.oid is not None and o.state.counts_as_exposure
                ]
                for order in swept:
                    pending += self.session.handle(CancelAck(order.cloid, order.oid))
                event = CancelAllDone(len(swept), 0)
            elif isinstance(cmd, SyncState):
                pending += self.session.handle(OpenOrders(self.session.venue_orders()))
                event = PositionSnapshot(self.session.maker.position.lots)
            else:
                continue
            more = self.session.handle(event)
            out += more
            pending += more
        return out

    def _oid(self) -> int:
        self.next_oid += 1
        return self.next_oid
