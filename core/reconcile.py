"""Reconciliation: compare what we believe with what the venue says (D9, D16, D19, D25).

A snapshot is evidence, not truth: it can be older than our newest placement (D9), and a
position can differ for a moment because a fill is still on the wire.  So this module never
removes an order on a snapshot's word alone — it asks the venue about that order and acts on the
definitive answer (D24) — and it corrects the position only when the same drift shows twice,
with no fill in between.

It decides; the maker acts.  Every decision is returned as a ``SnapshotPlan`` or
``PositionVerdict`` so that the maker stays the only thing that changes state.
"""

from __future__ import annotations

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

    confirm_live: list[tuple[TrackedOrder, VenueOrder]] = field(default_factory=list)
    query: list[TrackedOrder] = field(default_factory=list)  # missing past the grace period
    kept_fresh: int = 0  # missing, but younger than the grace period (D9)
    untracked: list[VenueOrder] = field(default_factory=list)  # on the venue, unknown to us
    recancel: list[TrackedOrder] = field(default_factory=list)  # we cancelled, venue lists it
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
        min_gap: float = 1.0,
    ) -> None:
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
                plan.untracked.append(vo)
                continue
            seen.add(order.cloid)
            if order.state is OrderState.PENDING_NEW:
                plan.confirm_live.append((order, vo))
            elif (
                not order.state.counts_as_exposure
                and now - order.state_changed_at > self.grace_period
            ):
                # We believe it gone; the venue lists it.  A snapshot older than our news is
                # expected (D9); past the grace period it is an order we must cancel again.
                plan.recancel.append(order)
        for order in tracker.non_terminal():
            if order.cloid in seen or order.state not in _EXPECTED_ON_VENUE:
                continue
            reference = order.placed_at if order.oid is None else order.state_changed_at
            if now - max(reference, order.placed_at) <= self.grace_period:
                plan.kept_fresh += 1
            else:
                plan.query.append(order)
        return plan

    def judge_position(self, venue: int, local: int, fills_counted: int) -> PositionVerdict:
        """D16: drift beyond tolerance is reported at once and corrected only when the same
        drift is seen again with no fill counted in between (so a fill still on the wire is
        never counted twice)."""
        drift = venue - local
        if abs(drift) <= self.position_tolerance:
            self._drift_seen = None
            return PositionVerdict(drift, False, "")
        seen = self._drift_seen
        if seen is not None and seen == (drift, fills_counted):
            self._drift_seen = None
            return PositionVerdict(
                drift, True, f"position drift {drift:+d} lots confirmed; adopting the venue's"
            )
        self._drift_seen = (drift, fills_counted)
        return PositionVerdict(drift, False, f"position drift {drift:+d} lots; re-checking")
