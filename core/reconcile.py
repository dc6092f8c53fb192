"""Reconciliation: compare what we believe with what the venue says (D9, D16, D19, D25).

A snapshot is evidence, not truth: it can be older than our newest placement (D9), and a
position can differ for a moment because a fill is still on the wire.  So this module never
removes an order on a snapshot's word alone — it asks the venue about that order and acts on the
definitive answer (D24) — and it corrects the position only when the same drift shows twice,
with no untimed fill in between.

A venue position is a position *as of* the venue time it was taken, and fills the venue made
before that time may still be on their way to us (a backed-up stream, a disconnect followed by
a replay).  ``PositionMoves`` lines the two up: our position as of that time is compared, and
once the venue's is adopted, a fill from before it is never counted on top of it (D4).

It decides; the maker acts.  Every decision is returned as a ``SnapshotPlan`` or
``PositionVerdict`` so that the maker stays the only thing that changes state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from core.events import OpenOrders, VenueOrder
from core.orders import OrderState, OrderTracker, TrackedOrder

# States in which an order missing from a snapshot is news.  CancelPending is not: its cancel
# answer (or the cancel timeout's status query) settles it.
_EXPECTED_ON_VENUE = frozenset(
    {OrderState.PENDING_NEW, OrderState.RESTING, OrderState.PARTIAL_FILLED}
)


@dataclass(slots=True)
class SnapshotPlan:
    """What an open-orders snapshot asks of the maker."""

    listed: list[tuple[TrackedOrder, VenueOrder]] = field(default_factory=list)  # ours, listed
    confirm_live: list[tuple[TrackedOrder, VenueOrder]] = field(default_factory=list)
    query: list[TrackedOrder] = field(default_factory=list)  # missing past the grace period
    kept_fresh: int = 0  # missing, but younger than the grace period (D9)
    untracked: list[VenueOrder] = field(default_factory=list)  # on the venue, unknown to us
    # We believe it gone (cancelled, or rejected: never placed), the venue lists it: the order
    # and the venue's row (its oid: a placement we gave up on never told us one).
    recancel: list[tuple[TrackedOrder, VenueOrder]] = field(default_factory=list)
    # Ours, finished and already pruned, yet listed: the snapshot is older than our news (a
    # late answer), or the order outlived our belief; cancelled again, never adopted (D1, D9).
    forgotten: list[VenueOrder] = field(default_factory=list)
    venue_count: int = 0


@dataclass(frozen=True, slots=True)
class PositionVerdict:
    drift: int  # venue - local, lots
    correct: bool  # adopt the venue's position now
    text: str


class Reconciler:
    """Timers and triggers for state syncs, and the comparison rules."""

    __slots__ = (
        "_drift_seen",
        "_last_request",
        "_size_text",
        "grace_period",
        "in_flight_since",
        "interval",
        "min_gap",
        "next_periodic",
        "pending_reason",
        "position_tolerance",
        "syncs",
        "timeout",
        "triggers",
    )

    def __init__(
        self,
        *,
        grace_period: float,
        interval: float,
        position_tolerance: int,
        timeout: float,
        size_text: Callable[[int], str],
        min_gap: float = 1.0,
    ) -> None:
        self._size_text = size_text  # a signed drift in the operator's units ("+0.05 ETH")
        self.grace_period = grace_period
        self.interval = interval
        self.position_tolerance = position_tolerance
        self.timeout = timeout
        self.min_gap = min_gap
        self.next_periodic = 0.0
        self.pending_reason: str | None = None
        self.in_flight_since: float | None = None
        self._last_request = -1e18
        self._drift_seen: tuple[int, int] | None = None  # (drift, fills counted at the time)
        self.syncs = 0
        self.triggers: dict[str, int] = {}

    # ---- when to sync -------------------------------------------------------------------

    def trigger(self, reason: str) -> None:
        """An event that makes our belief suspect (D16): unmatched fill, rejection, reconnect,
        unknown outcome, illegal transition.  Debounced: many triggers, one sync."""
        self.triggers[reason] = self.triggers.get(reason, 0) + 1
        if self.pending_reason is None:
            self.pending_reason = reason

    def due(self, now: float) -> str | None:
        """The reason to send a ``SyncState`` now, or None."""
        if self.in_flight_since is not None:
            if now - self.in_flight_since < self.timeout:
                return None
            self.in_flight_since = None
            return "sync timed out; retrying"
        if now - self._last_request < self.min_gap:
            return None
        if self.pending_reason is not None:
            return self.pending_reason
        if now >= self.next_periodic:
            return "periodic"
        return None

    def timed_out(self, now: float) -> bool:
        """The sync in flight has gone unanswered past the timeout (its answer is lost)."""
        return self.in_flight_since is not None and now - self.in_flight_since >= self.timeout

    def sent(self, now: float) -> None:
        self.in_flight_since = now
        self._last_request = now
        self.pending_reason = None
        self.next_periodic = now + self.interval
        self.syncs += 1

    def answered(self) -> None:
        self.in_flight_since = None

    # ---- what a snapshot means ----------------------------------------------------------

    def plan_snapshot(
        self, snapshot: OpenOrders, tracker: OrderTracker, now: float
    ) -> SnapshotPlan:
        plan = SnapshotPlan(venue_count=len(snapshot.orders))
        seen: set[str] = set()
        for vo in snapshot.orders:
            order = tracker.get(vo.cloid, vo.oid)
            if order is None:
                if tracker.forgotten(vo.cloid, vo.oid):
                    plan.forgotten.append(vo)
                else:
                    plan.untracked.append(vo)
                continue
            seen.add(order.cloid)
            plan.listed.append((order, vo))
            if order.state is OrderState.PENDING_NEW:
                plan.confirm_live.append((order, vo))
            elif not order.state.is_live and now - order.state_changed_at > self.grace_period:
                # We believe it gone; the venue lists it.  A snapshot older than our news is
                # expected (D9); past the grace period it is an order we must cancel again.
                plan.recancel.append((order, vo))
        for order in tracker.non_terminal():
            if order.cloid in seen or order.state not in _EXPECTED_ON_VENUE:
                continue
            reference = order.placed_at if order.oid is None else order.state_changed_at
            if now - max(reference, order.placed_at) <= self.grace_period:
                plan.kept_fresh += 1
            else:
                plan.query.append(order)
        return plan

    def judge_position(self, venue: int, local: int, untimed_moves: int) -> PositionVerdict:
        """D16: drift beyond tolerance is reported at once and corrected only when the same
        drift is seen again with no untimed move of our position counted in between.

        ``local`` is our position as of the snapshot's venue time (``PositionMoves``), so a
        fill with a venue time cannot make the comparison wrong, and once adopted it is never
        counted again; a move without a venue time (an immediate fill the venue did not
        time) may or may not be in the snapshot, so one in between means look again.  (The
        rule used to be "no fill at all in between": in a busy market that left a real drift
        uncorrected for minutes.)"""
        drift = venue - local
        if abs(drift) <= self.position_tolerance:
            self._drift_seen = None
            return PositionVerdict(drift, False, "")
        seen = self._drift_seen
        if seen is not None and seen == (drift, untimed_moves):
            self._drift_seen = None
            text = f"position drift {self._size_text(drift)} confirmed; adopting the venue's"
            return PositionVerdict(drift, True, text)
        self._drift_seen = (drift, untimed_moves)
        text = f"position drift {self._size_text(drift)}; re-checking"
        return PositionVerdict(drift, False, text)


# How far back (venue seconds) the moves of our position are remembered for lining a position
# snapshot up with them: far more than any answer takes to reach us.  An older snapshot cannot
# be compared and is ignored (a fresh one follows: drift is judged on every sync).
MOVES_HORIZON_S = 120.0


class PositionMoves:
    """What moved our position, by venue time, since the venue's position was last adopted
    (D4, D16).

    A ``PositionSnapshot`` is the venue's position at its ``venue_time`` T, and it already holds
    every fill the venue made up to T, including fills still on their way to us: the stream can
    lag the request answer by seconds, and a disconnect holds fills back until the replay on
    reconnect.  Counting such a fill after adopting the snapshot counts it twice (swarm seeds
    1004877, 1002048, 1003238: the same drift was seen twice while the stream was behind, so it
    was "confirmed", and the late fills were then added on top).  So:

    * moves at or before the adopted time (``adopted_at``) are already in the position and are
      never counted again (``included``);
    * moves after T that we already counted are not in the snapshot: they are compared as
      ``local - after(T)`` and re-applied on top of the venue's position when it is adopted.

    Moves without a venue time (a venue that gives none) cannot be placed: they are counted as
    they come and taken to be in any later snapshot, as before."""

    __slots__ = ("_moves", "_newest", "adopted_at", "covers_since", "horizon")

    def __init__(self, horizon: float = MOVES_HORIZON_S) -> None:
        self.horizon = horizon
        self.adopted_at: float | None = None  # venue time of the position last adopted
        self.covers_since = -float("inf")  # moves before this venue time were forgotten
        self._moves: deque[tuple[float, int, int]] = deque()  # (venue time, lots, value)
        self._newest = -float("inf")

    def __len__(self) -> int:
        return len(self._moves)

    def included(self, venue_time: float | None) -> bool:
        """Is a move at ``venue_time`` already part of the position we adopted?"""
        return (
            venue_time is not None and self.adopted_at is not None and venue_time <= self.adopted_at
        )

    def record(self, venue_time: float | None, lots: int, value: int) -> None:
        """A move we counted (signed lots, signed ticks x lots)."""
        if venue_time is None or not lots:
            return
        moves = self._moves
        moves.append((venue_time, lots, value))
        if venue_time > self._newest:
            self._newest = venue_time
        elif len(moves) > 1:
            # The horizon has not moved and the oldest move was within it after the last
            # call: nothing to forget (the common case, one comparison per fill).
            return
        horizon = self._newest - self.horizon
        while moves and moves[0][0] < horizon:
            self.covers_since = max(self.covers_since, moves.popleft()[0])

    def after(self, venue_time: float | None) -> list[tuple[int, int]] | None:
        """The counted moves (lots, value) later than ``venue_time``, in counting order; None
        when a snapshot taken then cannot be lined up with our position (older than the one
        we adopted, or than what we remember).  No time: compare as of now (nothing after)."""
        if venue_time is None:
            return []
        if self.adopted_at is not None and venue_time <= self.adopted_at:
            return None
        if venue_time < self.covers_since:
            return None
        return [(lots, value) for t, lots, value in self._moves if t > venue_time]

    def adopted(self, venue_time: float | None) -> None:
        """The venue's position as of ``venue_time`` is now ours (plus the moves after it)."""
        if venue_time is None:
            # Untimed: every move so far is taken to be in it; an earlier adopted time stays.
            self._moves.clear()
            return
        self.adopted_at = venue_time
        self._moves = deque(m for m in self._moves if m[0] > venue_time)
