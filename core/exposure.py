"""Position, PnL and worst-case exposure (D17).

The position moves only through fills that the order tracker counted once (D4); nothing here
de-duplicates.  Prices are ticks, sizes lots and values ticks x lots, all exact: the cost of the
open position and the realised PnL are rationals, so that no rounding creeps in over weeks of
fills.  They are kept as two integer numerators over one shared positive denominator rather
than as ``Fraction``s: a fill that opens or adds is then two integer operations, one that
closes a few more and one gcd (which keeps the denominator the exact values' own: it grows with
partial closes of large positions, to hundreds of digits in the benchmark's streams, and
shrinks back when the position is flat), where the stdlib's pure-Python ``Fraction`` arithmetic
was a fifth of ``handle``'s time (bench/PROFILE.md).  The ``Fraction`` views (``cost``,
``realized``, ``average_entry``, ...) are built on demand, for the console and the tests: the
same exact values.

Worst case is what the position would be if every bid (or every ask) that may rest on the venue
filled: pending orders and unanswered cancels included.  Breaching a limit in the worst case is a
visible warning, not a block (the seed notes' design decision: a theoretical breach must not stop
the orders that would bring the position back).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from math import gcd

from core.events import Side


@dataclass(frozen=True, slots=True)
class PositionState:
    """Everything a ``Position`` holds, to put it back exactly (``core.settlement``)."""

    lots: int
    cost_num: int
    realized_num: int
    den: int
    fills: int
    volume: int


class Position:
    """Signed position in lots with average-cost accounting.

    Cost (signed ticks x lots: the average entry times the position) is ``cost_num / den`` and
    realised PnL ``realized_num / den``; ``den`` > 0.  The PnL the latest ``apply`` realised is
    ``closed_num / closed_den``.
    """

    __slots__ = (
        "closed_den",
        "closed_num",
        "cost_num",
        "den",
        "fills",
        "lots",
        "realized_num",
        "volume",
    )

    def __init__(self, lots: int = 0, entry_value: int | Fraction = 0) -> None:
        self.lots = lots
        self.realized_num = 0
        self.den = 1
        # Flat means no cost, whatever entry value came with it: a stale cost on a flat
        # position would leak into the next position's average entry.
        self.cost_num = 0
        if lots:
            entry = Fraction(entry_value)
            self.den = entry.denominator
            self.cost_num = entry.numerator if lots > 0 else -entry.numerator
        self.fills = 0
        self.volume = 0  # lots traded, both sides
        self.closed_num = 0
        self.closed_den = 1

    def apply(self, signed_lots: int, signed_value: int) -> None:
        """A counted fill: ``signed_lots`` > 0 bought, ``signed_value`` = price x signed lots.
        Sets the PnL it realised (``closed_num / closed_den``; 0 when it only opened or
        added)."""
        self.closed_num = 0
        self.closed_den = 1
        if signed_lots == 0:
            return
        self.fills += 1
        pos = self.lots
        if signed_lots > 0:
            self.volume += signed_lots
            if pos >= 0:
                self.lots = pos + signed_lots
                self.cost_num += signed_value * self.den
                return
        else:
            self.volume -= signed_lots
            if pos <= 0:
                self.lots = pos + signed_lots
                self.cost_num += signed_value * self.den
                return
        self._close(pos, signed_lots, signed_value)

    def _close(self, pos: int, signed_lots: int, signed_value: int) -> None:
        """A fill against the position: closing ``closing`` lots at the fill's price realises
        (price - average entry) per lot for a long, the opposite for a short; what it trades
        beyond the position opens the other side at that price."""
        den = self.den
        scaled = signed_value * den
        if scaled % signed_lots:
            # The fill's price is not a whole number over ``den`` (never from the venues: their
            # values are price x lots): widen ``den`` until it is.
            widen = abs(signed_lots) // gcd(scaled, signed_lots)
            den *= widen
            self.cost_num *= widen
            self.realized_num *= widen
            scaled = signed_value * den
        price = scaled // signed_lots  # the fill's price, over ``den``
        size = abs(pos)
        direction = 1 if pos > 0 else -1
        closing = min(abs(signed_lots), size)
        opening = abs(signed_lots) - closing
        cost = self.cost_num
        # The cost the closed lots carried away: average entry x closing, signed like ``pos``.
        taken = cost * closing
        proceeds = price * closing * direction
        if taken % size == 0:
            taken //= size
            realized = proceeds - taken
            new_cost = cost - taken - price * opening * direction
            new_realized = self.realized_num + realized
        else:
            # Over ``den x size``.
            realized = proceeds * size - taken
            new_cost = cost * size - taken - price * opening * direction * size
            new_realized = self.realized_num * size + realized
            den *= size
        self.closed_num = realized
        self.closed_den = den
        self.cost_num = new_cost
        self.realized_num = new_realized
        self.den = den
        self.lots = pos + signed_lots
        # Reduced, so that ``den`` is the exact values' own (a close is where it can shrink:
        # flat, the cost is 0): a denominator kept larger than needed would make every later
        # fill's arithmetic slower.
        if den > 1:
            self._reduce()

    def replay(self, moves: Iterable[tuple[int, int]]) -> None:
        """Apply moves (signed lots, signed ticks x lots) that were counted once already: the
        position and its cost move, the realised PnL and the fill and volume counts do not."""
        realized, den, fills, volume = self.realized_num, self.den, self.fills, self.volume
        for lots, value in moves:
            self.apply(lots, value)
        self.fills, self.volume = fills, volume
        self._set_realized(realized, den)

    def _set_realized(self, num: int, den: int) -> None:
        """Realised PnL := ``num / den``, over a denominator both it and the cost share."""
        common = den // gcd(den, self.den) * self.den
        self.cost_num *= common // self.den
        self.realized_num = num * (common // den)
        self.den = common
        self._reduce()

    def _reduce(self) -> None:
        """The smallest denominator of cost and realised PnL both (as after every close)."""
        g = gcd(self.cost_num, self.realized_num, self.den)
        if g > 1:
            self.cost_num //= g
            self.realized_num //= g
            self.den //= g

    def state(self) -> PositionState:
        return PositionState(
            self.lots, self.cost_num, self.realized_num, self.den, self.fills, self.volume
        )

    def restore(self, state: PositionState) -> None:
        self.lots = state.lots
        self.cost_num = state.cost_num
        self.realized_num = state.realized_num
        self.den = state.den
        self.fills = state.fills
        self.volume = state.volume

    def reset(self, lots: int, entry_value: int | None) -> None:
        """Adopt the venue's position (start-up or a reconcile that found drift, D16/D19).
        Without a venue entry price the old average is kept when the side did not change."""
        if lots == 0:
            self.cost_num = 0
        elif entry_value is not None:
            self.cost_num = (entry_value if lots > 0 else -entry_value) * self.den
        elif self.lots and (lots > 0) == (self.lots > 0):
            # Average entry x lots = cost x lots / old lots, over ``den x |old lots|``.
            old = self.lots
            size = abs(old)
            self.cost_num = self.cost_num * lots * (1 if old > 0 else -1)
            self.realized_num *= size
            self.den *= size
        else:
            self.cost_num = 0
        self.lots = lots
        self._reduce()

    @property
    def cost(self) -> Fraction:
        """Signed ticks x lots of the open position."""
        return Fraction(self.cost_num, self.den)

    @property
    def realized(self) -> Fraction:
        return Fraction(self.realized_num, self.den)

    @property
    def average_entry(self) -> Fraction | None:
        """Ticks per lot of the open position."""
        return Fraction(self.cost_num, self.den * self.lots) if self.lots else None

    def pnl_num(self, mark: int | None) -> int:
        """Realised plus unrealised PnL at ``mark``, over ``den`` (no allocation: the risk
        check reads it on every fill)."""
        if not self.lots or mark is None:
            return self.realized_num
        return self.realized_num + mark * self.lots * self.den - self.cost_num

    def unrealized(self, mark: int | None) -> Fraction:
        if not self.lots or mark is None:
            return Fraction(0)
        return Fraction(mark * self.lots * self.den - self.cost_num, self.den)

    def total_pnl(self, mark: int | None) -> Fraction:
        return Fraction(self.pnl_num(mark), self.den)


@dataclass(frozen=True, slots=True)
class Exposure:
    """Everything D17 asks for, in lots and ticks x lots."""

    position: int
    pending_bid: int
    pending_ask: int
    bid_notional: int
    ask_notional: int
    max_position: int
    # D38: lots of provisional fills (bought, sold) the venue may still undo.
    unsettled_bought: int = 0
    unsettled_sold: int = 0

    @property
    def confirmed_position(self) -> int:
        """The position the venue has made final (D38)."""
        return self.position - self.unsettled_bought + self.unsettled_sold

    @property
    def net_pending_change(self) -> int:
        return self.pending_bid - self.pending_ask

    @property
    def worst_case_max_position(self) -> int:
        """The position if every bid that may rest fills and every pending sell fails."""
        return self.position + self.pending_bid + self.unsettled_sold

    @property
    def worst_case_min_position(self) -> int:
        """The position if every ask that may rest fills and every pending buy fails."""
        return self.position - self.pending_ask - self.unsettled_bought

    @property
    def breaches_long(self) -> bool:
        return self.worst_case_max_position > self.max_position

    @property
    def breaches_short(self) -> bool:
        return self.worst_case_min_position < -self.max_position

    @property
    def breached(self) -> bool:
        return self.breaches_long or self.breaches_short


def exposure(
    position: int,
    pending_lots: dict[Side, int],
    pending_value: dict[Side, int],
    max_position: int,
    unsettled: tuple[int, int] = (0, 0),
) -> Exposure:
    return Exposure(
        position=position,
        pending_bid=pending_lots[Side.BID],
        pending_ask=pending_lots[Side.ASK],
        bid_notional=pending_value[Side.BID],
        ask_notional=pending_value[Side.ASK],
        max_position=max_position,
        unsettled_bought=unsettled[0],
        unsettled_sold=unsettled[1],
    )
