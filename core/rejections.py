"""Rejections: how long a side waits after one, by its class.

Rejections arrive classified (D11): the venue adapter that read the venue's text attached a
``RejectionClass`` (Hyperliquid's texts are read in ``core.venues.hyperliquid.errors``); the raw
text is kept for the operator and never read here.

``Backoff`` is the arithmetic of one exponential wait (D12); ``RejectionTracker`` is the policy
the maker applies per market (D11): which side stops, for how long, and the one reason a side may
not place right now (D27).  Time is always passed in, never read.

This module never decides to cancel anything and has no say over cancels: backoff and holds only
ever keep *placements* back (D13).  Cancel failures are not fed to it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace

from core.events import RejectionClass, Side

# The classes counted and shown (D11): ``StalePosition`` counts as ``PositionLimit``.
_COUNTED = tuple(c for c in RejectionClass if c.category is c)


def _check_number(what: str, value: float, minimum: float) -> None:
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{what} must be a finite number of at least {minimum} (got {value})")


# ---- backoff arithmetic -----------------------------------------------------------------


class Backoff:
    """One exponential wait: after the n-th consecutive rejection event the window is
    ``min(cap, base * factor**(n-1))`` seconds from that event (D12).

    A batch of ``count`` rejections is one event: ``consecutive`` grows by one, ``total`` by
    ``count``.  Calls that pass the same ``batch_id`` as the previous call add to that event
    instead of starting a new one, so a caller that sees a batch answer item by item still counts
    it once.  A new event never shortens a running window.  ``record_success`` resets.
    """

    __slots__ = (
        "_base",
        "_cap",
        "_consecutive",
        "_factor",
        "_last_batch_id",
        "_last_class",
        "_last_reason",
        "_total",
        "_until",
    )

    def __init__(self, base: float = 1.0, factor: float = 2.0, cap: float = 60.0) -> None:
        if not math.isfinite(base) or base <= 0:
            raise ValueError(f"backoff base must be a finite number above 0 seconds (got {base})")
        _check_number("backoff factor", factor, 1.0)
        _check_number("backoff cap", cap, base)
        self._base = base
        self._factor = factor
        self._cap = cap
        self._consecutive = 0
        self._total = 0
        self._until: float | None = None
        self._last_batch_id: int | None = None
        self._last_class: RejectionClass | None = None
        self._last_reason = ""

    @property
    def consecutive(self) -> int:
        """Rejection events since the last success (a batch counts once)."""
        return self._consecutive

    @property
    def total(self) -> int:
        """Every rejected item ever recorded (a batch of 25 counts 25)."""
        return self._total

    @property
    def cap(self) -> float:
        return self._cap

    @property
    def last_class(self) -> RejectionClass | None:
        return self._last_class

    @property
    def last_reason(self) -> str:
        """The raw venue text of the latest rejection, kept for the operator (D11)."""
        return self._last_reason

    def record_batch(
        self,
        rclass: RejectionClass,
        count: int,
        reason: str,
        now: float,
        batch_id: int | None = None,
    ) -> None:
        """Record ``count`` rejections answered together as one event (D12)."""
        if count < 1:
            raise ValueError(f"a rejection batch holds at least one rejection (got {count})")
        self._total += count
        self._last_class = rclass
        self._last_reason = reason
        if batch_id is not None and batch_id == self._last_batch_id:
            return
        self._last_batch_id = batch_id
        self._consecutive += 1
        until = now + self.window()
        self._until = until if self._until is None else max(self._until, until)

    def window(self) -> float:
        """The wait the current run of rejections earns: ``min(cap, base * factor**(n-1))``."""
        if self._consecutive == 0:
            return 0.0
        try:
            return min(self._cap, self._base * self._factor ** (self._consecutive - 1))
        except OverflowError:  # a run long enough to overflow a float is long past the cap
            return self._cap

    def record_success(self, now: float) -> None:
        """A placement went through: the run of rejections is over and the window closes."""
        self._consecutive = 0
        self._until = None
        self._last_batch_id = None

    def blocked(self, now: float) -> bool:
        # No window open, the usual answer: asked on every accepted placement.
        return self._until is not None and self.remaining(now) > 0.0

    def remaining(self, now: float) -> float:
        """Seconds left in the window, for a countdown: never negative, never above ``cap`` (a
        clock that stepped back cannot stretch the wait)."""
        if self._until is None:
            return 0.0
        return min(self._cap, max(0.0, self._until - now))


# ---- the per-market rejection policy (D11) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class RejectionPolicy:
    """Numbers of D11/D12: backoff growth (shared by the per-side and the global wait), how
    many PriceError batches in a row earn a backoff, how long a PositionLimit hold lasts if the
    position never moves toward flat, and how many raw texts are kept for the operator."""

    backoff_base: float = 1.0
    backoff_factor: float = 2.0
    backoff_cap: float = 60.0
    price_error_threshold: int = 3
    position_hold: float = 30.0
    keep_texts: int = 20

    def __post_init__(self) -> None:
        Backoff(self.backoff_base, self.backoff_factor, self.backoff_cap)  # validates the three
        if self.price_error_threshold < 1:
            raise ValueError(
                f"rejections: price_error_threshold must be at least 1 "
                f"(got {self.price_error_threshold})"
            )
        _check_number("rejections: position_hold", self.position_hold, 0.0)
        if self.keep_texts < 1:
            raise ValueError(f"rejections: keep_texts must be at least 1 (got {self.keep_texts})")


@dataclass(frozen=True, slots=True)
class BlockReason:
    """Why a side may not place right now, as far as rejections go (D27).

    ``rclass`` is PositionLimit for a position-limit hold, anything else for a backoff;
    ``all_sides`` marks the global RateLimit backoff.  ``remaining`` is the countdown (for a hold:
    until the hold time runs out; it ends earlier if the position moves toward flat).
    ``reason`` is the raw venue text behind it.
    """

    rclass: RejectionClass
    remaining: float
    reason: str
    all_sides: bool = False

    @property
    def is_position_limit(self) -> bool:
        return self.rclass is RejectionClass.POSITION_LIMIT

    def describe(self) -> str:
        """One line for the console and the headless status: "backoff Margin 3.2s"."""
        if self.is_position_limit:
            return f"position limit (retry in {self.remaining:.1f}s)"
        scope = " all sides" if self.all_sides else ""
        return f"backoff {self.rclass.value}{scope} {self.remaining:.1f}s"


@dataclass(frozen=True, slots=True)
class RejectionText:
    """One raw rejection text as the operator sees it; items of one batch with the same side
    and text share an entry (``count``)."""

    time: float
    side: Side
    rclass: RejectionClass
    reason: str
    count: int = 1
    batch_id: int | None = None


@dataclass(slots=True)
class _PositionHold:
    since: float
    position: int
    stale_position: bool
    reason: str


@dataclass(slots=True)
class _SideRejections:
    backoff: Backoff
    consecutive: int = 0
    total: int = 0
    last_batch_id: int | None = None
    price_error_batches: int = 0
    last_price_error_batch: int | None = None
    hold: _PositionHold | None = None


class RejectionTracker:
    """D11's policy for one market, per side.

    * ``PositionLimit``: the side stops placing ("position limit"), no backoff.  The hold ends
      when the position moves toward flat (``on_position``), after ``position_hold`` seconds, or
      -- for ``StalePosition``: our position is stale (D26) -- on the next refreshed position
      (``on_position_refreshed``).
    * ``Margin`` and ``Other``: the side backs off.
    * ``PriceError``: no backoff for one (the maker re-prices on the next tick); the side backs
      off once ``price_error_threshold`` PriceError batches come in a row.
    * ``RateLimit``: every placement on both sides backs off (one global wait).

    Items that share a ``batch_id`` are one event for the consecutive counters (D12); totals
    count every item.  Within one batch a rejection outweighs an acceptance, whatever order the
    items are reported in.  An acceptance that arrives while a backoff window runs answers a
    placement sent before the window and does not end it.

    The tracker only ever answers "may this side place?".  It has no say over cancels (D13):
    feed it placement and modify rejections only, never cancel failures.
    """

    def __init__(self, policy: RejectionPolicy | None = None) -> None:
        self._policy = policy if policy is not None else RejectionPolicy()
        self._sides = {side: _SideRejections(self._new_backoff()) for side in Side}
        self._rate = self._new_backoff()
        self._counts = dict.fromkeys(_COUNTED, 0)
        self._texts: deque[RejectionText] = deque(maxlen=self._policy.keep_texts)
        self._position = 0

    def _new_backoff(self) -> Backoff:
        p = self._policy
        return Backoff(p.backoff_base, p.backoff_factor, p.backoff_cap)

    @property
    def policy(self) -> RejectionPolicy:
        return self._policy

    # ---- inputs ---------------------------------------------------------------------------

    def record_rejections(
        self,
        side: Side,
        batch_id: int | None,
        rclass: RejectionClass,
        reason: str,
        now: float,
    ) -> None:
        """One rejected placement (call once per rejected item of a batch answer)."""
        st = self._sides[side]
        if batch_id is None or batch_id != st.last_batch_id:
            st.consecutive += 1
        st.total += 1
        st.last_batch_id = batch_id
        self._counts[rclass.category] += 1
        self._remember(side, batch_id, rclass.category, reason, now)

        if rclass.category is RejectionClass.POSITION_LIMIT:
            stale = rclass is RejectionClass.STALE_POSITION
            st.hold = _PositionHold(now, self._position, stale, reason)
        elif rclass is RejectionClass.RATE_LIMIT:
            self._rate.record_batch(rclass, 1, reason, now, batch_id)
        elif rclass is RejectionClass.PRICE_ERROR:
            if batch_id is None or batch_id != st.last_price_error_batch:
                st.price_error_batches += 1
            st.last_price_error_batch = batch_id
            if st.price_error_batches >= self._policy.price_error_threshold:
                st.backoff.record_batch(rclass, 1, reason, now, batch_id)
        else:
            st.backoff.record_batch(rclass, 1, reason, now, batch_id)

    def record_accepted(self, side: Side, now: float, batch_id: int | None = None) -> None:
        """A placement on ``side`` was accepted: the run of rejections on that side is over."""
        st = self._sides[side]
        if batch_id is not None and batch_id == st.last_batch_id:
            return
        st.consecutive = 0
        st.price_error_batches = 0
        st.last_price_error_batch = None
        if not st.backoff.blocked(now):
            st.backoff.record_success(now)
        if not self._rate.blocked(now):
            self._rate.record_success(now)

    def on_position(self, position_lots: int) -> None:
        """The maker's position changed: a hold ends once the position is closer to flat than
        when the hold began."""
        self._position = position_lots
        for st in self._sides.values():
            if st.hold is not None and abs(position_lots) < abs(st.hold.position):
                st.hold = None

    def on_position_refreshed(self, position_lots: int) -> None:
        """A fresh position from the venue: also ends holds whose rejection said our position
        was stale, so the reduce-only quote is retried once with the new size (D26)."""
        self.on_position(position_lots)
        for st in self._sides.values():
            if st.hold is not None and st.hold.stale_position:
                st.hold = None

    # ---- queries --------------------------------------------------------------------------

    def placement_block(self, side: Side, now: float) -> BlockReason | None:
        """The one reason ``side`` may not place now, or ``None``.  Priority when several
        apply: position limit, then the global RateLimit backoff, then the side's backoff."""
        st = self._sides[side]
        hold = st.hold
        if hold is not None:
            left = min(self._policy.position_hold, hold.since + self._policy.position_hold - now)
            if left > 0.0:
                return BlockReason(RejectionClass.POSITION_LIMIT, left, hold.reason)
        for backoff, all_sides in ((self._rate, True), (st.backoff, False)):
            left = backoff.remaining(now)
            if left > 0.0 and backoff.last_class is not None:
                return BlockReason(backoff.last_class, left, backoff.last_reason, all_sides)
        return None

    @property
    def never_blocked(self) -> bool:
        """No hold and no backoff window on any side: ``placement_block`` is None at any time
        (a cheap test for callers that ask after every event)."""
        bid, ask = self._sides[Side.BID], self._sides[Side.ASK]
        return (
            self._rate._until is None
            and bid.hold is None
            and ask.hold is None
            and bid.backoff._until is None
            and ask.backoff._until is None
        )

    def remaining(self, side: Side, now: float) -> float:
        """Seconds of backoff left for ``side`` (its own wait or the global one, whichever is
        longer); 0 when not backed off.  A position-limit hold is not a backoff."""
        return max(self._sides[side].backoff.remaining(now), self._rate.remaining(now))

    def consecutive(self, side: Side) -> int:
        """Rejection events on ``side`` since its last acceptance, every class (a batch is one)."""
        return self._sides[side].consecutive

    def total(self, side: Side) -> int:
        """Rejected items on ``side`` ever, every class."""
        return self._sides[side].total

    @property
    def counts_by_class(self) -> Mapping[RejectionClass, int]:
        """Rejected items ever, per D11 class (every one present, in declaration order; a
        stale position counts as ``PositionLimit``)."""
        return dict(self._counts)

    @property
    def last_texts(self) -> tuple[RejectionText, ...]:
        """The most recent raw texts, oldest first, at most ``policy.keep_texts``."""
        return tuple(self._texts)

    def _remember(
        self,
        side: Side,
        batch_id: int | None,
        rclass: RejectionClass,
        reason: str,
        now: float,
    ) -> None:
        if self._texts and batch_id is not None:
            last = self._texts[-1]
            if last.batch_id == batch_id and last.side is side and last.reason == reason:
                self._texts[-1] = replace(last, count=last.count + 1)
                return
        self._texts.append(RejectionText(now, side, rclass, reason, 1, batch_id))
