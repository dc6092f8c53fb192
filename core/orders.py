"""Order state: what we believe about each of our orders (D1-D8).

Everything that changes an order's state lives in this file, and every change goes through one
table, ``TRANSITIONS``, applied by one function, ``OrderTracker._transition``.  An event that has
no entry for the order's current state is *illegal*: it is counted and reported to the caller
(who asks the venue), never applied.

Theory of operation (DOMAIN.md D1)::

    PendingNew --ack--> Resting --fill--> PartialFilled --fill--> Filled
        |   \\--ack(all filled at once)--> FilledImmediately
        |    \\--ack(part filled at once)--> PartialFilled          (D3: not terminal)
        |--fill before ack: stays PendingNew, oid bound from the fill (D2)
        |--timeout: stays PendingNew, outcome unknown, queried by cloid (D8)
        \\--rejected--> Rejected                                     (D6)
    Resting|PartialFilled --cancel sent--> CancelPending
    CancelPending --ack | "already gone"--> CancelConfirmed          (D24: not terminal)
    CancelConfirmed --late-fill window over--> Cancelled | FilledDuringCancel

A terminal order is never live again.  A fill that arrives for a terminal order still moves the
position (money moved): the tracker reports it flagged, and the maker reconciles.

Bookkeeping is O(1) per event in the number of tracked orders: orders are indexed by cloid and
oid; pending exposure, per-state counts and the (side, level) intent index are maintained
incrementally; terminal orders are pruned from a queue after a retention period.

Why one module of about 1,150 lines: its rule is that nothing outside it changes an order's
state, so the table and everything that applies it are read together, top to bottom, as in
h11's ``_state.py``.  What is not a state change lives elsewhere: fill de-duplication in
``core.fills``, exposure arithmetic in ``core.exposure``, the oid news that waits for an ack in
``core.oidnews``.  About 150 of the lines are the plain ``__init__``s of ``TrackedOrder`` and
``Outcome`` (made on every placement and event, and compiled only as plain classes).
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from core.commands import Modify, Place, TimeInForce
from core.events import (
    AckStatus,
    CancelAck,
    CancelRejected,
    CancelUnknown,
    Fill,
    ModifyAck,
    ModifyRejected,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    RejectionClass,
    Side,
    VenueStatus,
)
from core.fills import FillLedger, Sighting


class OrderState(enum.Enum):
    PENDING_NEW = "PendingNew"
    RESTING = "Resting"
    PARTIAL_FILLED = "PartialFilled"
    FILLED = "Filled"
    FILLED_IMMEDIATELY = "FilledImmediately"
    CANCEL_PENDING = "CancelPending"
    CANCEL_CONFIRMED = "CancelConfirmed"
    CANCELLED = "Cancelled"
    FILLED_DURING_CANCEL = "FilledDuringCancel"
    REJECTED = "Rejected"

    # Members are singletons: identity hashing is exact and much cheaper than Enum's default
    # (hashing the name), and order state is looked up on every event.
    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:
        """Resting on the venue as far as we know (D1)."""
        return self in ACTIVE

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_live(self) -> bool:
        """May be resting on the venue: active, not yet acked, or its cancel not yet answered.

        The one definition of a live order (``LIVE``).  A live order may still fill, so its
        unfilled rest is pending exposure (D17) and it holds its ladder intent; the console's
        ladder and order pane show the live ones, the runner counts those left at the end as
        orders left on the venue (exit 3, D37).  ``CancelConfirmed`` is not live: the venue has
        said the order is gone, and it is kept (not terminal) only so that a fill from before
        the cancel still finds it (D24, S5) -- the order pane counts those "awaiting late
        fills".  A terminal order is never live.
        """
        return self in LIVE


S = OrderState
# ``is_active`` and ``is_terminal`` as sets: a membership test is much cheaper than the enum
# property in the loops that run on every event (the executor's diff, the tracker).
ACTIVE = frozenset({S.RESTING, S.PARTIAL_FILLED})
# The live states (``OrderState.is_live``): those in which the order may rest on the venue.
LIVE = frozenset({S.PENDING_NEW, S.RESTING, S.PARTIAL_FILLED, S.CANCEL_PENDING})
TERMINAL = frozenset(
    {S.FILLED, S.FILLED_IMMEDIATELY, S.CANCELLED, S.FILLED_DURING_CANCEL, S.REJECTED}
)
_FILLED_STATES = frozenset({S.FILLED, S.FILLED_IMMEDIATELY, S.FILLED_DURING_CANCEL})


class Trigger(enum.Enum):
    """What happened to an order, in the tracker's words (several events map to one trigger)."""

    ACK_RESTING = "ack resting"  # PlaceAck resting, OrderUpdate open, status report open
    ACK_PARTIAL = "ack partially filled"  # ...with some of it already filled
    ACK_FILLED = "ack filled"  # nothing rests: filled at once (IOC remainder cancelled too)
    PARTIAL_FILL = "partial fill"
    COMPLETE_FILL = "complete fill"
    VENUE_FILLED = "venue says filled"  # update/status says filled; fills may still be in flight
    REJECT = "rejected"
    UNKNOWN_OUTCOME = "unknown outcome"
    CANCEL_SENT = "cancel sent"
    CANCEL_ACKED = "cancel acknowledged"  # includes venue-initiated cancels
    CANCEL_GONE = "cancel: already gone"
    CANCEL_FAILED = "cancel failed"
    CANCEL_UNKNOWN = "cancel unanswered"
    NOT_FOUND = "venue does not know it"
    WINDOW_CLOSED = "late-fill window closed"
    WINDOW_CLOSED_FILLED = "late-fill window closed with fills"

    __hash__ = object.__hash__


class _Restore(enum.Enum):
    """Target of a failed cancel: back to whatever live state the order's fills imply."""

    LIVE = "live"


T = Trigger
_BACK = _Restore.LIVE  # not ``LIVE``: a target, resolved to Resting or PartialFilled
_Target = OrderState | _Restore

# The transition table.  Entries that map a state to itself are legal no-ops: late or repeated
# news about an order that already moved on (a late ack, a cancel answer after a fill).
TRANSITIONS: dict[OrderState, dict[Trigger, _Target]] = {
    S.PENDING_NEW: {
        T.ACK_RESTING: S.RESTING,
        T.ACK_PARTIAL: S.PARTIAL_FILLED,  # D3: part filled at once, the rest rests
        T.ACK_FILLED: S.FILLED_IMMEDIATELY,
        T.PARTIAL_FILL: S.PENDING_NEW,  # D2: fill before ack, matched by cloid
        T.COMPLETE_FILL: S.FILLED,
        T.VENUE_FILLED: S.FILLED,
        T.REJECT: S.REJECTED,
        T.UNKNOWN_OUTCOME: S.PENDING_NEW,  # D8: may be live; ask, never guess
        T.CANCEL_SENT: S.CANCEL_PENDING,
        T.CANCEL_ACKED: S.CANCEL_CONFIRMED,
        T.CANCEL_GONE: S.CANCEL_CONFIRMED,
        T.CANCEL_UNKNOWN: S.PENDING_NEW,
        T.NOT_FOUND: S.REJECTED,  # never placed (only after the grace period, S10)
    },
    S.RESTING: {
        T.ACK_RESTING: S.RESTING,
        T.ACK_PARTIAL: S.PARTIAL_FILLED,
        T.ACK_FILLED: S.FILLED,
        T.PARTIAL_FILL: S.PARTIAL_FILLED,
        T.COMPLETE_FILL: S.FILLED,
        T.VENUE_FILLED: S.FILLED,
        T.CANCEL_SENT: S.CANCEL_PENDING,
        T.CANCEL_ACKED: S.CANCEL_CONFIRMED,  # venue cancelled it (margin, self-trade, ...)
        T.CANCEL_GONE: S.CANCEL_CONFIRMED,
        T.REJECT: S.REJECTED,  # D31: the venue's last word, even about a resting order
        T.UNKNOWN_OUTCOME: S.RESTING,  # the request timed out after the stream said it rests
        T.CANCEL_FAILED: S.RESTING,
        T.CANCEL_UNKNOWN: S.RESTING,
        T.NOT_FOUND: S.CANCEL_CONFIRMED,  # gone from the venue; fills may be in flight
    },
    S.PARTIAL_FILLED: {
        T.ACK_RESTING: S.PARTIAL_FILLED,
        T.ACK_PARTIAL: S.PARTIAL_FILLED,
        T.ACK_FILLED: S.FILLED,
        T.PARTIAL_FILL: S.PARTIAL_FILLED,
        T.COMPLETE_FILL: S.FILLED,
        T.VENUE_FILLED: S.FILLED,
        T.CANCEL_SENT: S.CANCEL_PENDING,
        T.CANCEL_ACKED: S.CANCEL_CONFIRMED,
        T.CANCEL_GONE: S.CANCEL_CONFIRMED,
        T.REJECT: S.REJECTED,  # D31: gone; what filled before stays counted
        T.UNKNOWN_OUTCOME: S.PARTIAL_FILLED,
        T.CANCEL_FAILED: S.PARTIAL_FILLED,
        T.CANCEL_UNKNOWN: S.PARTIAL_FILLED,
        T.NOT_FOUND: S.CANCEL_CONFIRMED,
    },
    S.CANCEL_PENDING: {
        T.ACK_RESTING: S.CANCEL_PENDING,  # the ack overtook nothing: cancel still in flight
        T.ACK_PARTIAL: S.CANCEL_PENDING,
        T.ACK_FILLED: S.FILLED_IMMEDIATELY,
        T.PARTIAL_FILL: S.CANCEL_PENDING,
        T.COMPLETE_FILL: S.FILLED_DURING_CANCEL,  # S4: the fill won the race
        T.VENUE_FILLED: S.FILLED_DURING_CANCEL,
        T.REJECT: S.REJECTED,
        T.UNKNOWN_OUTCOME: S.CANCEL_PENDING,
        T.CANCEL_SENT: S.CANCEL_PENDING,  # a retry
        T.CANCEL_ACKED: S.CANCEL_CONFIRMED,  # S5: not terminal yet
        T.CANCEL_GONE: S.CANCEL_CONFIRMED,  # D24: success pending confirmation
        T.CANCEL_FAILED: _BACK,  # e.g. rate limited: still live, the executor retries
        T.CANCEL_UNKNOWN: S.CANCEL_PENDING,  # D24: query, never read as cancelled
        T.NOT_FOUND: S.CANCEL_CONFIRMED,
    },
    S.CANCEL_CONFIRMED: {
        T.ACK_RESTING: S.CANCEL_CONFIRMED,
        T.ACK_PARTIAL: S.CANCEL_CONFIRMED,
        T.ACK_FILLED: S.FILLED_DURING_CANCEL,
        T.PARTIAL_FILL: S.CANCEL_CONFIRMED,  # S5: a fill from before the cancel, in flight
        T.COMPLETE_FILL: S.FILLED_DURING_CANCEL,
        T.VENUE_FILLED: S.FILLED_DURING_CANCEL,
        T.REJECT: S.REJECTED,
        T.UNKNOWN_OUTCOME: S.CANCEL_CONFIRMED,
        T.CANCEL_ACKED: S.CANCEL_CONFIRMED,
        T.CANCEL_GONE: S.CANCEL_CONFIRMED,
        T.CANCEL_FAILED: S.CANCEL_CONFIRMED,
        T.CANCEL_UNKNOWN: S.CANCEL_CONFIRMED,
        T.NOT_FOUND: S.CANCEL_CONFIRMED,
        T.WINDOW_CLOSED: S.CANCELLED,
        T.WINDOW_CLOSED_FILLED: S.FILLED_DURING_CANCEL,
    },
}

# Terminal states accept late news without moving (D1: never resurrected).  A late fill is
# still counted toward the position by the tracker and flagged when it is unexpected.
_LATE_NEWS = (
    T.ACK_RESTING,
    T.ACK_PARTIAL,
    T.ACK_FILLED,
    T.PARTIAL_FILL,
    T.COMPLETE_FILL,
    T.VENUE_FILLED,
    T.UNKNOWN_OUTCOME,
    T.CANCEL_ACKED,
    T.CANCEL_GONE,
    T.CANCEL_FAILED,
    T.CANCEL_UNKNOWN,
    T.NOT_FOUND,
)
for _terminal in (S.FILLED, S.FILLED_IMMEDIATELY, S.FILLED_DURING_CANCEL, S.CANCELLED):
    TRANSITIONS[_terminal] = {trigger: _terminal for trigger in _LATE_NEWS}
    TRANSITIONS[_terminal][T.REJECT] = _terminal
# A rejected order that the venue later calls live is a contradiction: no ack entries, so those
# are illegal (reported; the maker claims the venue's order as a stray and cancels it).  One it
# later calls filled stays rejected (never resurrected, D1): its fills count as late fills.
TRANSITIONS[S.REJECTED] = {
    trigger: S.REJECTED
    for trigger in (
        T.PARTIAL_FILL,
        T.COMPLETE_FILL,
        T.VENUE_FILLED,
        T.REJECT,
        T.UNKNOWN_OUTCOME,
        T.CANCEL_ACKED,
        T.CANCEL_GONE,
        T.CANCEL_FAILED,
        T.CANCEL_UNKNOWN,
        T.NOT_FOUND,
    )
}


class TrackedOrder:
    """One order of ours.  ``filled``/``fill_value`` count what moved the position through this
    order (each trade once); ``fill_value`` is ticks x lots.

    A plain class rather than a dataclass: one is made for every placement and modify (six a
    reaction), and mypyc compiles a plain class's ``__init__`` where a dataclass keeps the
    interpreted one ``dataclasses`` generates (about 3 us).  Every argument has a default so
    that the compiled class copies without arguments (the replay's deep copies); only the
    tracker makes these, always with the first five.  Compared by identity."""

    __slots__ = (
        "adopted",
        "cancel_before_venue_saw_it",
        "cancel_failures",
        "cancel_requested",
        "cancel_sent_at",
        "cloid",
        "fill_tids",
        "fill_value",
        "filled",
        "filled_at_cancel",
        "last_fill_at",
        "last_reason",
        "level",
        "oid",
        "placed_at",
        "price",
        "reduce_only",
        "replaces",
        "side",
        "size",
        "state",
        "state_changed_at",
        "tif",
        "unknown_since",
        "venue_seen_at",
    )

    def __init__(
        self,
        cloid: str = "",
        side: Side = Side.BID,
        price: int = 0,
        size: int = 0,
        placed_at: float = 0.0,
        level: int | None = None,
        tif: TimeInForce = TimeInForce.ALO,
        reduce_only: bool = False,
        oid: int | None = None,
        state: OrderState = OrderState.PENDING_NEW,
        state_changed_at: float = 0.0,
        filled: int = 0,
        fill_value: int = 0,
        fill_tids: list[int] | None = None,
        last_fill_at: float | None = None,
        unknown_since: float | None = None,
        cancel_sent_at: float | None = None,
        filled_at_cancel: int = 0,
        cancel_failures: int = 0,
        cancel_requested: bool = False,
        cancel_before_venue_saw_it: bool = False,
        replaces: str | None = None,
        venue_seen_at: float | None = None,
        adopted: bool = False,
        last_reason: str = "",
    ) -> None:
        self.cloid = cloid
        self.side = side
        self.price = price
        self.size = size
        self.placed_at = placed_at
        self.level = level
        self.tif = tif
        self.reduce_only = reduce_only
        self.oid = oid
        self.state = state
        self.state_changed_at = state_changed_at
        self.filled = filled
        self.fill_value = fill_value
        self.fill_tids: list[int] = [] if fill_tids is None else fill_tids
        self.last_fill_at = last_fill_at
        self.unknown_since = unknown_since  # D8: placement outcome unknown since
        self.cancel_sent_at = cancel_sent_at
        self.filled_at_cancel = filled_at_cancel
        self.cancel_failures = cancel_failures
        # The operator asked for this order to go: it never stays.
        self.cancel_requested = cancel_requested
        # A cancel went out before the venue had shown us the order (by cloid alone): a
        # "never placed" answer may mean that cancel overtook the placement (D24).  Sticky:
        # answers are not matched to the cancel they answer, so any later "gone" is checked
        # with a query.
        self.cancel_before_venue_saw_it = cancel_before_venue_saw_it
        self.replaces = replaces  # cloid of the order this one replaces (modify)
        # When the venue first showed us this order (ack, update, fill, snapshot, status): its
        # placement had reached the venue by then, so a status query sent later cannot have
        # overtaken it, and one sent earlier may have (D24, see ``on_status_report``).
        self.venue_seen_at = venue_seen_at
        self.adopted = adopted  # found on the venue, not placed by this session
        self.last_reason = last_reason

    def __repr__(self) -> str:
        return (
            f"TrackedOrder({self.cloid!r}, {self.side.value}, {self.size}@{self.price}, "
            f"level={self.level}, oid={self.oid}, {self.state.value}, filled={self.filled})"
        )

    @property
    def remaining(self) -> int:
        """Size still able to fill; never negative (an overfill is flagged elsewhere)."""
        if self.state in _FILLED_STATES or self.state is S.REJECTED or self.state is S.CANCELLED:
            return 0
        return max(0, self.size - self.filled)

    @property
    def average_fill_price(self) -> Fraction | None:
        """In ticks, exact."""
        return Fraction(self.fill_value, self.filled) if self.filled else None

    @property
    def fill_count(self) -> int:
        return len(self.fill_tids)

    def age(self, now: float) -> float:
        return max(0.0, now - self.placed_at)

    @property
    def signed_remaining(self) -> int:
        return self.remaining * self.side.sign


class Transition(NamedTuple):
    """One state change of one order.  A named tuple: one is made for every transition (each
    modify's cancel, each fill and update), and a frozen dataclass costs several times more to
    construct, compiled or not."""

    cloid: str
    oid: int | None
    old: OrderState
    new: OrderState
    trigger: Trigger


@dataclass(frozen=True, slots=True)
class IllegalTransition:
    cloid: str
    state: OrderState
    trigger: Trigger
    event: str


class Outcome:
    """What applying one event did.  The maker turns the flags into queries and reconciles.

    A plain class rather than a dataclass: one is made for every event the tracker applies,
    and mypyc compiles a plain class's ``__init__`` where a dataclass keeps the interpreted one
    that ``dataclasses`` generates."""

    __slots__ = (
        "absorbed",
        "duplicate",
        "illegal",
        "inconsistent",
        "late_fill",
        "needs_query",
        "order",
        "overfill",
        "position_delta",
        "rejection",
        "requery_later",
        "transition",
        "unmatched",
        "value_delta",
    )

    def __init__(
        self,
        order: TrackedOrder | None = None,
        transition: Transition | None = None,
        illegal: IllegalTransition | None = None,
        *,
        position_delta: int = 0,
        value_delta: int = 0,
        duplicate: bool = False,
        unmatched: bool = False,
        late_fill: bool = False,
        overfill: bool = False,
        inconsistent: bool = False,
        absorbed: int = 0,
        needs_query: bool = False,
        requery_later: bool = False,
        rejection: RejectionClass | None = None,
    ) -> None:
        self.order = order
        self.transition = transition
        self.illegal = illegal
        self.position_delta = position_delta  # signed lots counted toward the position
        self.value_delta = value_delta  # signed ticks x lots of the same
        self.duplicate = duplicate  # a replayed tid (D4)
        self.unmatched = unmatched  # matched no order we know (D16 trigger)
        self.late_fill = late_fill  # a fill on an order that was cancelled or rejected (D1, S6)
        self.overfill = overfill  # fills beyond the order's size
        self.inconsistent = inconsistent  # a repeated trade id with different content (D35)
        self.absorbed = absorbed  # lots of this fill already counted from the placement answer
        self.needs_query = needs_query  # outcome unknown: ask the venue (D6, D8, D24)
        self.requery_later = requery_later  # a "not found" too soon after placing to believe
        self.rejection = rejection


class TrackerError(ValueError):
    """A programming error in how the tracker is used (duplicate cloid, unknown order)."""


# How long (seconds) the ids of pruned orders are remembered: far longer than any answer takes
# to reach us, so a late snapshot that still lists an order we finished and forgot is known
# for what it is (swarm seed 1033300).
FORGOTTEN_HORIZON_S = 600.0


class OrderTracker:
    """All our orders, indexed by cloid and oid, with O(1) exposure and state bookkeeping."""

    def __init__(
        self,
        *,
        late_fill_window: float = 1.0,
        retention: float = 60.0,
        grace_period: float = 2.0,
        request_lifetime: float = 10.0,
        ledger: FillLedger | None = None,
    ) -> None:
        self.late_fill_window = late_fill_window
        self.retention = retention
        self.grace_period = grace_period
        self.request_lifetime = request_lifetime
        self.ledger = ledger if ledger is not None else FillLedger()
        self.by_cloid: dict[str, TrackedOrder] = {}
        self.by_oid: dict[int, TrackedOrder] = {}
        self.state_counts: dict[OrderState, int] = dict.fromkeys(OrderState, 0)
        self.pending_lots: dict[Side, int] = {Side.BID: 0, Side.ASK: 0}
        self.pending_value: dict[Side, int] = {Side.BID: 0, Side.ASK: 0}
        # cloids per intent, in placement order (a dict, not a set: iteration order must not depend
        # on string hashing, or a seeded run would not replay in another process)
        self.intents: dict[tuple[Side, int], dict[str, None]] = {}
        self.illegal_count = 0
        self.pruned = 0
        self._windows: deque[tuple[float, str]] = deque()
        self._terminal: deque[tuple[float, str]] = deque()
        self._strays: set[int] = set()  # oids tracked again by ``track_stray``
        # Pruned orders' cloids and oids, oldest first, until FORGOTTEN_HORIZON_S has passed.
        self._forgotten: dict[str | int, None] = {}
        self._forgotten_queue: deque[tuple[float, str, int | None]] = deque()

    # ---- registration -------------------------------------------------------------------

    def track_place(self, place: Place, now: float, *, replaces: str | None = None) -> TrackedOrder:
        """D2: an order is tracked under its cloid before the request leaves."""
        if place.cloid in self.by_cloid:
            raise TrackerError(f"cloid {place.cloid} is already tracked")
        if place.size <= 0 or place.price <= 0:
            raise TrackerError(f"order {place.cloid} needs a positive price and size")
        return self._track_new(
            place.cloid,
            place.side,
            place.price,
            place.size,
            place.level,
            place.tif,
            place.reduce_only,
            now,
            replaces,
        )

    def track_modify(self, modify: Modify, now: float) -> tuple[TrackedOrder, Outcome]:
        """A modify is cancel-and-replace: the original goes CancelPending, the replacement is
        a fresh PendingNew order under ``new_cloid`` (D5)."""
        # Validate the replacement before touching the original: a refused modify must leave
        # the original exactly as it was.
        new_cloid = modify.new_cloid
        if new_cloid in self.by_cloid:
            raise TrackerError(f"cloid {new_cloid} is already tracked")
        if modify.size <= 0 or modify.price <= 0:
            raise TrackerError(f"order {new_cloid} needs a positive price and size")
        outcome = self.cancel_sent(modify.cloid, now)
        # Straight to ``_track_new``, not through a ``Place``: a re-price books one modify per
        # level on every touch change (the reaction), and the checks are the ones just made.
        replacement = self._track_new(
            new_cloid,
            modify.side,
            modify.price,
            modify.size,
            modify.level,
            modify.tif,
            modify.reduce_only,
            now,
            modify.cloid,
        )
        return replacement, outcome

    def _track_new(
        self,
        cloid: str,
        side: Side,
        price: int,
        size: int,
        level: int | None,
        tif: TimeInForce,
        reduce_only: bool,
        now: float,
        replaces: str | None,
    ) -> TrackedOrder:
        """Register a validated new order, PendingNew, with its exposure and intent."""
        order = TrackedOrder(
            cloid=cloid,
            side=side,
            price=price,
            size=size,
            placed_at=now,
            level=level,
            tif=tif,
            reduce_only=reduce_only,
            state_changed_at=now,
            replaces=replaces,
        )
        self.by_cloid[cloid] = order
        self.state_counts[S.PENDING_NEW] += 1
        # PendingNew is live and nothing has filled: the whole size is pending exposure.
        self.pending_lots[side] += size
        self.pending_value[side] += size * price
        if level is not None:
            key = (side, level)
            cloids = self.intents.get(key)
            if cloids is None:
                self.intents[key] = {cloid: None}
            else:
                cloids[cloid] = None
        return order

    def adopt(
        self, *, oid: int, cloid: str | None, side: Side, price: int, size: int, now: float
    ) -> TrackedOrder:
        """Take over an order found on the venue (start-up or reconciliation, D19)."""
        key = cloid if cloid is not None else f"adopted-{oid}"
        if key in self.by_cloid:
            raise TrackerError(f"cloid {key} is already tracked")
        order = TrackedOrder(
            cloid=key,
            side=side,
            price=price,
            size=size,
            placed_at=now,
            oid=oid,
            state=S.RESTING,
            state_changed_at=now,
            venue_seen_at=now,
            adopted=True,
        )
        self.by_cloid[key] = order
        self.by_oid[oid] = order
        self.state_counts[S.RESTING] += 1
        self._add_exposure(order)
        return order

    def track_stray(self, gone: TrackedOrder, oid: int, now: float) -> TrackedOrder | None:
        """The venue says ``gone`` rests under ``oid`` after we believed it rejected (D24: its
        placement arrived after every "not found" we had, or the venue contradicted itself).
        The rejected record never comes back (D1); the venue order is tracked again as a stray
        of the same intent, keyed by its oid, so that the intent stays occupied until the stray
        is cancelled (D22: never two orders for one intent).  From then on the oid is the
        stray's: news about it moves the stray, never the record.  None if already tracked,
        or if the record's late fills already filled it."""
        key = f"stray-{oid}"
        if key in self.by_cloid or gone.filled >= gone.size:
            return None
        order = TrackedOrder(
            cloid=key,
            side=gone.side,
            price=gone.price,
            size=gone.size,
            placed_at=now,
            level=gone.level,
            tif=gone.tif,
            reduce_only=gone.reduce_only,
            oid=oid,
            state=S.RESTING,
            state_changed_at=now,
            filled=gone.filled,  # late fills counted on the record: only the rest may rest
            fill_value=gone.fill_value,
            venue_seen_at=now,
            adopted=True,
        )
        self.by_cloid[key] = order
        self.by_oid[oid] = order
        self._strays.add(oid)
        self.state_counts[S.RESTING] += 1
        self._add_exposure(order)
        self._add_intent(order)
        return order

    def cancel_sent(self, cloid: str, now: float) -> Outcome:
        order = self.by_cloid.get(cloid)
        if order is None:
            raise TrackerError(f"cancel for untracked cloid {cloid}")
        state = order.state
        if T.CANCEL_SENT in TRANSITIONS[state]:
            # Illegal (already confirmed cancelled, or terminal) is reported by the transition
            # below, and nothing about the order changes -- not even its cancel bookkeeping.
            if state is not S.CANCEL_PENDING:
                order.filled_at_cancel = order.filled
            order.cancel_sent_at = now
            if order.oid is None:
                order.cancel_before_venue_saw_it = True
        return self._transition(order, T.CANCEL_SENT, now, "Cancel")

    # ---- lookups ------------------------------------------------------------------------

    def get(self, cloid: str | None = None, oid: int | None = None) -> TrackedOrder | None:
        """The order an event or a venue row is about: by cloid, else by oid -- except that a
        stray claimed under its oid (``track_stray``) wins over the rejected record that
        shares its cloid, so the venue's news about it moves the order that may rest."""
        if oid is not None and oid in self._strays:
            stray = self.by_oid.get(oid)
            if stray is not None:
                return stray
        if cloid is not None:
            order = self.by_cloid.get(cloid)
            if order is not None:
                return order
        if oid is not None:
            return self.by_oid.get(oid)
        return None

    def forgotten(self, cloid: str | None, oid: int | None) -> bool:
        """Whether this is one of our orders that finished and was pruned (D1, D9): a snapshot
        that lists it is older than our news of its end, or the venue still holds an order we
        believed gone.  Never a stranger to adopt."""
        return (cloid is not None and cloid in self._forgotten) or (
            oid is not None and oid in self._forgotten
        )

    def __len__(self) -> int:
        return len(self.by_cloid)

    def live_for_intent(self, side: Side, level: int) -> list[TrackedOrder]:
        """Orders of one (side, level) quoting intent that may rest on the venue."""
        cloids = self.intents.get((side, level))
        if not cloids:
            return []
        return [self.by_cloid[c] for c in cloids]

    def non_terminal(self) -> list[TrackedOrder]:
        """Every order that is not terminal (a snapshot-sized walk, used by reconciliation)."""
        return [o for o in self.by_cloid.values() if not o.state.is_terminal]

    # ---- events -------------------------------------------------------------------------

    def on_place_ack(self, ev: PlaceAck, now: float) -> Outcome:
        order = self.by_cloid.get(ev.cloid)
        if order is None:
            return Outcome(unmatched=True, needs_query=True)
        self._bind_oid(order, ev.oid)
        self._venue_shows(order, now)
        order.unknown_since = None
        return self._apply_ack(order, ev.status, ev.filled, ev.filled_value, now, "PlaceAck")

    def on_modify_ack(self, ev: ModifyAck, now: float) -> tuple[Outcome, Outcome]:
        """The original is cancelled (fills may still arrive), the replacement is acked."""
        old = self.by_cloid.get(ev.cloid)
        old_outcome = (
            self._transition(old, T.CANCEL_ACKED, now, "ModifyAck")
            if old is not None
            else Outcome(unmatched=True)
        )
        new = self.by_cloid.get(ev.new_cloid)
        if new is None:
            return old_outcome, Outcome(unmatched=True, needs_query=True)
        self._bind_oid(new, ev.oid)
        self._venue_shows(new, now)
        new.unknown_since = None
        new_outcome = self._apply_ack(new, ev.status, ev.filled, ev.filled_value, now, "ModifyAck")
        return old_outcome, new_outcome

    def on_modify_rejected(self, ev: ModifyRejected, now: float) -> tuple[Outcome, Outcome]:
        """D5: "cannot modify canceled or filled order" means the original is gone — await its
        fills; any other failure leaves the original live.  The replacement never existed."""
        old = self.by_cloid.get(ev.cloid)
        if old is None:
            old_outcome = Outcome(unmatched=True)
        elif ev.original_gone:
            old_outcome = self._transition(old, T.CANCEL_GONE, now, "ModifyRejected")
        else:
            old_outcome = self._transition(old, T.CANCEL_FAILED, now, "ModifyRejected")
        new = self.by_cloid.get(ev.new_cloid)
        if new is None:
            return old_outcome, Outcome(unmatched=True)
        new.last_reason = ev.reason
        new_outcome = self._transition(new, T.REJECT, now, "ModifyRejected")
        new_outcome.rejection = ev.rclass
        return old_outcome, new_outcome

    def on_place_rejected(self, ev: PlaceRejected, now: float) -> Outcome:
        order = self.by_cloid.get(ev.cloid)
        if order is None:
            return Outcome(unmatched=True, rejection=ev.rclass)
        order.last_reason = ev.reason
        outcome = self._transition(order, T.REJECT, now, "PlaceRejected")
        outcome.rejection = ev.rclass
        return outcome

    def on_place_unknown(self, ev: PlaceUnknown, now: float) -> Outcome:
        order = self.by_cloid.get(ev.cloid)
        if order is None:
            return Outcome(unmatched=True)
        if order.state is S.PENDING_NEW and order.unknown_since is None:
            order.unknown_since = now
        order.last_reason = ev.reason
        outcome = self._transition(order, T.UNKNOWN_OUTCOME, now, "PlaceUnknown")
        outcome.needs_query = not order.state.is_terminal
        return outcome

    def on_cancel_ack(self, ev: CancelAck, now: float) -> Outcome:
        order = self.get(ev.cloid, ev.oid)
        if order is None:
            return Outcome(unmatched=True)
        return self._transition(order, T.CANCEL_ACKED, now, "CancelAck")

    def on_cancel_rejected(self, ev: CancelRejected, now: float) -> Outcome:
        order = self.get(ev.cloid, ev.oid)
        if order is None:
            return Outcome(unmatched=True)
        order.last_reason = ev.reason
        if ev.gone:
            if order.state is S.CANCEL_PENDING and order.cancel_before_venue_saw_it:
                # D24: "never placed, already canceled, or filled" may answer a cancel sent
                # before the venue had shown us the order, and so may mean that the cancel
                # overtook its own placement, which can still arrive and rest (even if its ack
                # or update reached us before this answer, and even if a later cancel went out
                # by oid: answers are not matched to cancels).  Believing it gone would orphan
                # that order and free its intent for a second one.  Ask instead: the status
                # query decides (open -> cancel again; not found -> gone).
                return Outcome(order=order, needs_query=True)
            return self._transition(order, T.CANCEL_GONE, now, "CancelRejected")
        order.cancel_failures += 1
        return self._transition(order, T.CANCEL_FAILED, now, "CancelRejected")

    def on_cancel_unknown(self, ev: CancelUnknown, now: float) -> Outcome:
        order = self.get(ev.cloid, ev.oid)
        if order is None:
            return Outcome(unmatched=True)
        outcome = self._transition(order, T.CANCEL_UNKNOWN, now, "CancelUnknown")
        outcome.needs_query = not order.state.is_terminal
        return outcome

    def on_order_update(self, ev: OrderUpdate, now: float) -> Outcome:
        order = self.get(ev.cloid, ev.oid)
        if order is None:
            return Outcome(unmatched=True)
        if ev.oid is not None:
            self._bind_oid(order, ev.oid)
        self._venue_shows(order, now)
        return self._apply_status(order, ev.status, ev.raw_status, ev.rclass, now, "OrderUpdate")

    def on_status_report(
        self, ev: OrderStatusReport, now: float, *, asked_at: float | None = None
    ) -> Outcome:
        """``asked_at``: when the oldest status query for this order whose answer may still
        be on its way was sent (the maker keeps them; answers are not matched to queries), or
        None when unknown."""
        order = self.get(ev.cloid, ev.oid)
        if order is None:
            return Outcome(unmatched=ev.status is VenueStatus.OPEN)
        if ev.oid is not None:
            self._bind_oid(order, ev.oid)
        if ev.status is VenueStatus.NOT_FOUND:
            if now - order.placed_at < self._not_found_after(order):
                # S10, D24: a query can overtake the placement it asks about; ask again later.
                return Outcome(order=order, requery_later=True)
            if (
                asked_at is not None
                and order.venue_seen_at is not None
                and asked_at < order.venue_seen_at
            ):
                # D24, D10 (swarm seed 1003829): this may answer a query sent before the venue
                # first showed us the order, which overtook its placement: the answer is older
                # than the venue's own news, however late it lands and however old the order.
                # Believing it frees the intent for a second order beside the live one (D22).
                # Not definitive: ask again (a query sent now is answered truthfully).
                return Outcome(order=order, requery_later=True)
        elif ev.status is not VenueStatus.UNKNOWN:
            # D6, D24: a status we do not know proves nothing, not even that the venue knows
            # the order (swarm seed 1328989: an unknown answer, taken as the venue's first
            # sight, made a later stale "not found" look newer than the venue's news; the
            # intent was placed twice, D22).
            self._venue_shows(order, now)
        if ev.status is VenueStatus.OPEN:
            order.unknown_since = None
        return self._apply_status(order, ev.status, ev.raw_status, None, now, "OrderStatusReport")

    def _not_found_after(self, order: TrackedOrder) -> float:
        """How old an order must be before "the venue does not know it" is believed (D24).  An
        unanswered placement may still be on its way to the venue for as long as a request can
        live; believing "not found" sooner re-quotes the intent and lets the late placement
        rest beside the new one (swarm seed 8)."""
        if order.oid is None and order.state in (S.PENDING_NEW, S.CANCEL_PENDING):
            # (A cancel sent meanwhile changes nothing: the placement may still arrive.)
            return max(self.grace_period, self.request_lifetime)
        return self.grace_period

    def on_fill(self, ev: Fill, now: float) -> Outcome:
        """Count the fill once (D4), against the order it belongs to (by cloid first, D2)."""
        size, price, side = ev.size, ev.price, ev.side
        sighting = self.ledger.sighting(ev.tid, now, (side, price, size, ev.oid, ev.fee))
        if sighting is not Sighting.NEW:
            return Outcome(duplicate=True, inconsistent=sighting is Sighting.CONFLICT)
        order = self.get(ev.cloid, ev.oid)
        sign = side.sign
        if order is None:
            return Outcome(
                position_delta=size * sign, value_delta=price * size * sign, unmatched=True
            )
        if ev.oid is not None and order.oid is None:
            self._bind_oid(order, ev.oid)
        if order.venue_seen_at is None:
            order.venue_seen_at = now  # ``_venue_shows``
        skip = self.ledger.consume_immediate(order.cloid, size)
        counted = size - skip
        order.fill_tids.append(ev.tid)
        order.last_fill_at = now
        if counted == 0:
            return Outcome(order=order, absorbed=skip)
        self._count_fill(order, counted, counted * price)
        state = order.state
        was_terminal = state in TERMINAL
        trigger = T.COMPLETE_FILL if order.filled >= order.size else T.PARTIAL_FILL
        outcome = self._transition(order, trigger, now, "Fill")
        outcome.position_delta = counted * sign
        outcome.value_delta = counted * price * sign
        outcome.overfill = order.filled > order.size
        outcome.absorbed = skip
        if was_terminal and order.state in (S.CANCELLED, S.REJECTED):
            outcome.late_fill = True
        if outcome.illegal is not None:
            outcome.late_fill = True
        return outcome

    def _count_fill(self, order: TrackedOrder, lots: int, value: int) -> None:
        """Add ``lots`` filled for ``value`` (ticks x lots) to ``order``; a live order's
        pending exposure shrinks by what this takes off its unfilled rest."""
        size = order.size
        before = order.filled
        after = before + lots
        order.filled = after
        order.fill_value += value
        if order.state in LIVE:
            taken = max(0, size - before) - max(0, size - after)
            if taken:
                side = order.side
                self.pending_lots[side] -= taken
                self.pending_value[side] -= taken * order.price

    def attribute_fill(self, order: TrackedOrder, ev: Fill, now: float) -> Outcome:
        """D32: a fill that named only an oid nobody had bound was counted toward the position
        when it arrived (money moved); now that the oid is ``order``'s, it moves the order too
        -- never the position again (the outcome carries no position delta)."""
        if ev.oid is not None and order.oid is None:
            self._bind_oid(order, ev.oid)
        self._venue_shows(order, now)
        order.fill_tids.append(ev.tid)
        order.last_fill_at = now
        self._count_fill(order, ev.size, ev.size * ev.price)
        trigger = T.COMPLETE_FILL if order.filled >= order.size else T.PARTIAL_FILL
        outcome = self._transition(order, trigger, now, "Fill (bound by oid)")
        outcome.overfill = order.filled > order.size
        return outcome

    # ---- timers -------------------------------------------------------------------------

    def expire(self, now: float) -> list[Outcome]:
        """Close late-fill windows that are due and prune terminal orders past retention."""
        outcomes: list[Outcome] = []
        windows = self._windows
        while windows and windows[0][0] <= now:
            _, cloid = windows.popleft()
            order = self.by_cloid.get(cloid)
            if order is None or order.state is not S.CANCEL_CONFIRMED:
                continue
            trigger = (
                T.WINDOW_CLOSED_FILLED if order.filled > order.filled_at_cancel else T.WINDOW_CLOSED
            )
            outcomes.append(self._transition(order, trigger, now, "window"))
        terminal = self._terminal
        horizon = now - self.retention
        deferred: list[tuple[float, str]] = []
        while terminal and terminal[0][0] <= horizon:
            _, cloid = terminal.popleft()
            order = self.by_cloid.get(cloid)
            if order is None or not order.state.is_terminal:
                continue
            if (
                self.ledger.immediate_remaining(cloid)
                and now - order.state_changed_at < self.ledger.retention
            ):
                # The stream has not yet repeated this order's immediate fill (D4).  Forgetting
                # the order now would count those trades a second time as unmatched fills when
                # they arrive (a long disconnect, then the userFills snapshot): keep it.
                deferred.append((now, cloid))
                continue
            del self.by_cloid[cloid]
            if order.oid is not None and self.by_oid.get(order.oid) is order:
                del self.by_oid[order.oid]
                self._strays.discard(order.oid)
            self.state_counts[order.state] -= 1
            self.ledger.forget_order(cloid)
            self.pruned += 1
            self._forgotten[cloid] = None
            if order.oid is not None:
                self._forgotten[order.oid] = None
            self._forgotten_queue.append((now, cloid, order.oid))
        terminal.extend(deferred)
        queue = self._forgotten_queue
        while queue and queue[0][0] <= now - FORGOTTEN_HORIZON_S:
            _, cloid, oid = queue.popleft()
            self._forgotten.pop(cloid, None)
            if oid is not None:
                self._forgotten.pop(oid, None)
        return outcomes

    # ---- internals ----------------------------------------------------------------------

    def _apply_ack(
        self, order: TrackedOrder, status: AckStatus, filled: int, value: int, now: float, what: str
    ) -> Outcome:
        """Register what traded at once (D3, D4).  Stream fills for this order that arrived
        before the ack were the first of those same trades: only the rest is new, and only the
        rest will be repeated by the stream.

        An order already finished by the stream's news (a "filled" update that overtook the
        ack, D10) still counts what the ack says traded: the update names no amount, and the
        trades' own fills may never come (swarm seed 1319955: an IOC's "filled" update, then
        its ack, then no fills; the position stayed 0.37 ETH short until the venue refused the
        recovery's next IOC).  Only a rejected order's ack counts nothing here: the venue
        contradicts itself, and the maker asks it and claims what rests (D31)."""
        new_lots = max(0, filled - order.filled)
        position_delta = value_delta = 0
        if new_lots and order.state is not S.REJECTED:
            new_value = max(0, value - order.fill_value) if order.filled else value
            self.ledger.register_immediate(order.cloid, new_lots)
            self._count_fill(order, new_lots, new_value)
            position_delta = new_lots * order.side.sign
            value_delta = new_value * order.side.sign
        if status is AckStatus.FILLED or order.filled >= order.size:
            trigger = T.ACK_FILLED
        elif order.filled > 0:
            trigger = T.ACK_PARTIAL
        else:
            trigger = T.ACK_RESTING
        outcome = self._transition(order, trigger, now, what)
        outcome.position_delta = position_delta
        outcome.value_delta = value_delta
        return outcome

    def _apply_status(
        self,
        order: TrackedOrder,
        status: VenueStatus,
        raw: str,
        rclass: RejectionClass | None,
        now: float,
        what: str,
    ) -> Outcome:
        if status is VenueStatus.OPEN:
            trigger = T.ACK_PARTIAL if order.filled > 0 else T.ACK_RESTING
        elif status is VenueStatus.FILLED:
            trigger = T.VENUE_FILLED
        elif status in (VenueStatus.CANCELED, VenueStatus.VENUE_CANCELED):
            trigger = T.CANCEL_ACKED
        elif status is VenueStatus.REJECTED:
            order.last_reason = raw
            outcome = self._transition(order, T.REJECT, now, what)
            outcome.rejection = rclass if rclass is not None else RejectionClass.OTHER
            return outcome
        elif status is VenueStatus.NOT_FOUND:
            trigger = T.NOT_FOUND
        else:
            # D6: a status we do not know is never silently ignored and never guessed at.
            order.last_reason = f"unknown status {raw!r}"
            return Outcome(order=order, needs_query=True)
        return self._transition(order, trigger, now, what)

    def _transition(self, order: TrackedOrder, trigger: Trigger, now: float, what: str) -> Outcome:
        old = order.state
        target = TRANSITIONS[old].get(trigger)
        if target is None:
            self.illegal_count += 1
            return Outcome(
                order=order,
                illegal=IllegalTransition(order.cloid, old, trigger, what),
                needs_query=True,
            )
        new = target if isinstance(target, OrderState) else self._restored(order)
        if new is old:
            return Outcome(order)
        # Exposure moves only when the order enters or leaves the live states: between two
        # live states its unfilled rest is the same before and after.
        live = new in LIVE
        if live is not (old in LIVE):
            rest = order.size - order.filled
            if rest > 0:
                side = order.side
                if not live:
                    rest = -rest
                self.pending_lots[side] += rest
                self.pending_value[side] += rest * order.price
        level = order.level
        if not live and level is not None:
            self._remove_intent(order, level)
        counts = self.state_counts
        counts[old] -= 1
        counts[new] += 1
        order.state = new
        order.state_changed_at = now
        if new is S.CANCEL_CONFIRMED:
            if old is not S.CANCEL_PENDING:
                # Cancelled without a cancel of ours (venue cancel, "not found"): what filled
                # so far filled before the cancel, not during it.
                order.filled_at_cancel = order.filled
            self._windows.append((now + self.late_fill_window, order.cloid))
        if new in TERMINAL:
            order.unknown_since = None
            self._terminal.append((now, order.cloid))
        return Outcome(order, Transition(order.cloid, order.oid, old, new, trigger))

    @staticmethod
    def _restored(order: TrackedOrder) -> OrderState:
        """The live state a failed cancel goes back to (``_Restore.LIVE``): what its oid and
        fills imply."""
        if order.oid is None:
            return S.PENDING_NEW
        return S.PARTIAL_FILLED if order.filled > 0 else S.RESTING

    @staticmethod
    def _venue_shows(order: TrackedOrder, now: float) -> None:
        """The venue has shown us ``order`` (it knows it): remember when it first did."""
        if order.venue_seen_at is None:
            order.venue_seen_at = now

    def _bind_oid(self, order: TrackedOrder, oid: int) -> None:
        if order.oid == oid:
            return
        if oid in self._strays and self.by_oid.get(oid) is not order:
            # The rejected record's own late ack names the oid its stray holds: the stray
            # keeps it, or every answer about the oid would go to a terminal record.
            return
        if order.oid is not None and self.by_oid.get(order.oid) is order:
            del self.by_oid[order.oid]
        order.oid = oid
        self.by_oid[oid] = order

    def _add_exposure(self, order: TrackedOrder) -> None:
        if order.state in LIVE:
            rest = max(0, order.size - order.filled)
            self.pending_lots[order.side] += rest
            self.pending_value[order.side] += rest * order.price

    def _add_intent(self, order: TrackedOrder) -> None:
        if order.level is not None:
            self.intents.setdefault((order.side, order.level), {})[order.cloid] = None

    def _remove_intent(self, order: TrackedOrder, level: int) -> None:
        """An intent is occupied while its order may rest on the venue (the live states); an
        order leaves them only once (``_transition``), so the index never needs re-adding."""
        key = (order.side, level)
        cloids = self.intents.get(key)
        if cloids is not None:
            cloids.pop(order.cloid, None)
            if not cloids:
                del self.intents[key]
