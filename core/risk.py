"""Limits and the kill switch (D17, D18).

The kill switch is latched: once tripped — by the operator, a position runaway, stale market
data or the loss limit — it stays tripped until the operator re-arms it, and every trigger is
recorded with its reason and time.  This module only decides; the maker turns a trip into a
venue-wide cancel-all (D25) and stops placing.  Nothing here ever delays a cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class KillTrigger:
    """One trip of the kill switch: when, and why (shown by the console and the summaries)."""

    time: float
    reason: str


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """All in core units: lots, ticks x lots (notional and money)."""

    max_position: int
    max_notional: int
    loss_limit: int
    stale_data_s: float
    runaway_multiple: float = 2.0
    kill_on_stale_data: bool = True
    value_unit: float = 1.0  # quote currency per tick x lot, for messages only

    @property
    def kill_position(self) -> int:
        """|position| beyond this is a runaway (D18: 2x the limit by default)."""
        return int(self.max_position * self.runaway_multiple)


class KillSwitch:
    __slots__ = ("_triggers", "latched", "max_history")

    def __init__(self, max_history: int = 50) -> None:
        self.latched = False
        self._triggers: list[KillTrigger] = []
        self.max_history = max_history

    def trip(self, reason: str, now: float) -> bool:
        """Record a trigger; True when this trip latched the switch (it was armed)."""
        self._triggers.append(KillTrigger(now, reason))
        del self._triggers[: -self.max_history]
        if self.latched:
            return False
        self.latched = True
        return True

    def rearm(self) -> bool:
        was = self.latched
        self.latched = False
        return was

    @property
    def triggers(self) -> tuple[KillTrigger, ...]:
        return tuple(self._triggers)


def kill_reason(
    limits: RiskLimits,
    *,
    position: int,
    pnl: Fraction | int,
    data_age: float | None,
    connected: bool,
    size_text: Callable[[int], str],
    pnl_den: int = 1,
) -> str | None:
    """The first automatic kill trigger that holds now, or None.  ``size_text`` says a size in
    the operator's units (the maker passes the instrument's coin units).  Net PnL is ``pnl /
    pnl_den`` (``pnl_den`` > 0): the maker passes an integer ratio, judged exactly without
    building a ``Fraction`` on every fill.

    ``data_age`` is None before the first market data arrives; that is "starting", not stale.
    """
    if abs(position) > limits.kill_position:
        return (
            f"position runaway: {size_text(abs(position))} {'long' if position > 0 else 'short'} "
            f"beyond {size_text(limits.kill_position)} "
            f"({limits.runaway_multiple:g}x the limit)"
        )
    if pnl < -limits.loss_limit * pnl_den:
        unit = limits.value_unit
        net = float(Fraction(pnl, pnl_den))
        return f"loss limit: net PnL {net * unit:.2f} below -{limits.loss_limit * unit:.2f}"
    if limits.kill_on_stale_data and data_age is not None and data_age > limits.stale_data_s:
        state = "" if connected else " (venue disconnected)"
        return f"stale market data: {data_age:.1f}s old, limit {limits.stale_data_s:g}s{state}"
    return None


def notional_blocks_increase(limits: RiskLimits, position: int, mark: int | None) -> bool:
    """At or beyond the notional limit, only orders that reduce the position are allowed."""
    return mark is not None and abs(position) * mark >= limits.max_notional
