"""Stuck reduce-only recovery (D15, D26): when a position above the limit cannot be reduced
because the reduce-only quotes keep being rejected, take liquidity with IOC orders toward flat.

Theory of operation::

    Idle --(threshold reduce-only rejections in a row while over the limit)--> Armed
    Armed --update--> Sending (an IOC goes out; attempts += 1)
    Sending --on_ioc_result (or no answer within answer_timeout)--> Cooldown
    Cooldown --position back inside the limit--> Done --after done_display--> Idle
    Cooldown --cooldown over, still over the limit--> Sending, or GaveUp after max_attempts
    GaveUp --reset()--> Idle

Normal quoting is skipped while Armed, Sending or Cooldown.  A ``StalePosition`` rejection ("Reduce
only order would increase position.") means our position is stale (D26): every such rejection
asks for a position refresh, and the first one of a run is the free retry and is not counted
toward the threshold.
RateLimit rejections are not counted either: they say nothing about the market.

This module is sans-I/O: it returns the IOC to send as a ``RecoveryOrder`` and never sends,
cancels or reads a clock itself.  It never sizes an IOC beyond the position (it must never flip
the position), and it never overrides the kill switch or a halt: the maker asks it only while
quoting is allowed.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from core.events import RejectionClass, Side


class RecoveryState(enum.Enum):
    IDLE = "Idle"
    ARMED = "Armed"
    SENDING = "Sending"
    COOLDOWN = "Cooldown"
    DONE = "Done"
    GAVE_UP = "GaveUp"

    # Singletons: identity hashing (the quoting path asks ``_SKIPS_QUOTING`` on every
    # reaction; Enum's own hash hashes the name).  Only membership is asked of these sets.
    __hash__ = object.__hash__


_SKIPS_QUOTING = frozenset({RecoveryState.ARMED, RecoveryState.SENDING, RecoveryState.COOLDOWN})
_CAN_ARM = frozenset({RecoveryState.IDLE, RecoveryState.DONE})


@dataclass(frozen=True, slots=True)
class RecoveryParams:
    """Sizes in lots, prices in ticks, times in seconds."""

    rejection_threshold: int = 3
    min_ioc_size: int = 1
    cooldown: float = 2.0
    max_attempts: int = 5
    slippage_ticks: int = 5
    answer_timeout: float = 10.0
    done_display: float = 5.0

    def __post_init__(self) -> None:
        for name in ("rejection_threshold", "min_ioc_size", "max_attempts"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"recovery: {name} must be at least 1 (got {value})")
        if self.slippage_ticks < 0:
            raise ValueError(
                f"recovery: slippage_ticks must not be negative (got {self.slippage_ticks})"
            )
        for name in ("cooldown", "answer_timeout", "done_display"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"recovery: {name} must be a finite number >= 0 (got {value})")


@dataclass(frozen=True, slots=True)
class RecoveryOrder:
    """The IOC to send.  ``reduce_only`` is always set: the size never exceeds the position, so
    it only guards against a position that changed under us flipping it."""

    side: Side
    price: int
    size: int
    reduce_only: bool = True


@dataclass(frozen=True, slots=True)
class RecoverySnapshot:
    """What the console shows of recovery."""

    state: RecoveryState
    attempts: int
    cooldown_left: float
    consecutive_rejections: int
    last_reason: str


class ReduceOnlyRecovery:
    """One market's stuck reduce-only recovery.  Call ``update`` on every tick with the freshest
    position; rejections count only while the latest ``update`` saw the position over the limit.
    """

    def __init__(self, params: RecoveryParams | None = None) -> None:
        self._params = params if params is not None else RecoveryParams()
        self.reset()

    def reset(self) -> None:
        """Back to Idle with every counter cleared (the operator's way out of GaveUp)."""
        self._state = RecoveryState.IDLE
        self._rejections = 0
        self._stale_retry_used = False
        self._needs_refresh = False
        self._over_limit = False
        self._attempts = 0
        self._sent_at = 0.0
        self._cooldown_until = 0.0
        self._done_at = 0.0
        self._last_reason = ""

    # ---- reading --------------------------------------------------------------------------

    @property
    def params(self) -> RecoveryParams:
        return self._params

    @property
    def state(self) -> RecoveryState:
        return self._state

    @property
    def skip_normal_quoting(self) -> bool:
        return self._state in _SKIPS_QUOTING

    @property
    def attempts(self) -> int:
        """IOCs sent in the current (or latest) recovery."""
        return self._attempts

    @property
    def consecutive_rejections(self) -> int:
        """Reduce-only rejections counted toward the threshold."""
        return self._rejections

    @property
    def needs_position_refresh(self) -> bool:
        """A reduce-only rejection said our position is stale (D26): ask the venue for the
        position once, and call ``on_position_refreshed`` when it arrives."""
        return self._needs_refresh

    def cooldown_left(self, now: float) -> float:
        if self._state is not RecoveryState.COOLDOWN:
            return 0.0
        return min(self._params.cooldown, max(0.0, self._cooldown_until - now))

    def snapshot(self, now: float) -> RecoverySnapshot:
        return RecoverySnapshot(
            self._state,
            self._attempts,
            self.cooldown_left(now),
            self._rejections,
            self._last_reason,
        )

    # ---- inputs ---------------------------------------------------------------------------

    def on_reduce_only_rejected(self, rclass: RejectionClass, reason: str, now: float) -> None:
        """A reduce-only quote was rejected (``reason``: the venue's text, for the operator)."""
        self._last_reason = reason
        if rclass is RejectionClass.STALE_POSITION:
            self._needs_refresh = True
            if not self._stale_retry_used:
                self._stale_retry_used = True
                return
        if rclass is RejectionClass.RATE_LIMIT:
            return
        if self._state not in _CAN_ARM or not self._over_limit:
            return
        self._rejections += 1
        if self._rejections >= self._params.rejection_threshold:
            self._state = RecoveryState.ARMED
            self._attempts = 0

    def on_reduce_only_accepted(self) -> None:
        """A reduce-only quote rests: it was not stuck after all."""
        if self._state in _CAN_ARM:
            self._rejections = 0
            self._stale_retry_used = False

    def on_position_refreshed(self) -> None:
        """The position asked for by ``needs_position_refresh`` arrived."""
        self._needs_refresh = False

    def update(
        self,
        position_lots: int,
        max_position_lots: int,
        best_bid: int | None,
        best_ask: int | None,
        now: float,
    ) -> RecoveryOrder | None:
        """Advance the state machine; returns the IOC to send now, if any.

        Size rule: the excess over the limit, raised to ``min_ioc_size`` (the venue's minimum
        beats precision, and ending a little inside the limit is safe), never more than the
        position itself.  Price: the touch on the other side, ``slippage_ticks`` through it (a
        sell at best bid minus slippage, a buy at best ask plus slippage); the caller snaps it
        onto the instrument's grid in the same direction.  No IOC without that touch.
        """
        if max_position_lots < 0:
            raise ValueError(f"max position must not be negative (got {max_position_lots})")
        self._over_limit = abs(position_lots) > max_position_lots
        state = self._state
        if state is RecoveryState.IDLE:
            if not self._over_limit:
                self._rejections = 0
        elif state is RecoveryState.DONE:
            if now - self._done_at >= self._params.done_display:
                self._state = RecoveryState.IDLE
        elif state is RecoveryState.ARMED:
            if not self._over_limit:
                self._state = RecoveryState.IDLE
                self._rejections = 0
                return None
            return self._send(position_lots, max_position_lots, best_bid, best_ask, now)
        elif state is RecoveryState.SENDING:
            if now - self._sent_at >= self._params.answer_timeout:
                self._start_cooldown(now, "no answer to the recovery IOC")
        elif state is RecoveryState.COOLDOWN:
            if not self._over_limit:
                self._state = RecoveryState.DONE
                self._done_at = now
                self._rejections = 0
                self._stale_retry_used = False
            elif now >= self._cooldown_until:
                if self._attempts >= self._params.max_attempts:
                    self._state = RecoveryState.GAVE_UP
                    return None
                return self._send(position_lots, max_position_lots, best_bid, best_ask, now)
        return None

    def on_ioc_result(self, filled_lots: int, now: float, reason: str = "") -> None:
        """The recovery IOC was answered (filled, partly filled, nothing to match, rejected, or
        unknown: report 0 and let the position tell).  Late answers are ignored."""
        if self._state is RecoveryState.SENDING:
            self._start_cooldown(now, reason or f"IOC filled {filled_lots} lots")

    # ---- internals ------------------------------------------------------------------------

    def _start_cooldown(self, now: float, reason: str) -> None:
        self._state = RecoveryState.COOLDOWN
        self._cooldown_until = now + self._params.cooldown
        self._last_reason = reason

    def _send(
        self,
        position_lots: int,
        max_position_lots: int,
        best_bid: int | None,
        best_ask: int | None,
        now: float,
    ) -> RecoveryOrder | None:
        p = self._params
        held = abs(position_lots)
        size = min(held, max(held - max_position_lots, p.min_ioc_size))
        if position_lots > 0:
            if best_bid is None:
                return None
            order = RecoveryOrder(Side.ASK, max(1, best_bid - p.slippage_ticks), size)
        else:
            if best_ask is None:
                return None
            order = RecoveryOrder(Side.BID, best_ask + p.slippage_ticks, size)
        self._state = RecoveryState.SENDING
        self._attempts += 1
        self._sent_at = now
        return order
