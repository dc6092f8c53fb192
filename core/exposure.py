"""Position, PnL and worst-case exposure (D17).

The position moves only through fills that the order tracker counted once (D4); nothing here
de-duplicates.  Prices are ticks, sizes lots and values ticks x lots, all exact: the average
entry and PnL are ``Fraction``s so that no rounding creeps in over weeks of fills.

Worst case is what the position would be if every bid (or every ask) that may rest on the venue
filled: pending orders and unanswered cancels included.  Breaching a limit in the worst case is a
visible warning, not a block (the seed notes' design decision: a theoretical breach must not stop
the orders that would bring the position back).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from core.events import Side


class Position:
    """Signed position in lots with average-cost accounting."""

    __slots__ = ("cost", "fills", "lots", "realized", "volume")

    def __init__(self, lots: int = 0, entry_value: int | Fraction = 0) -> None:
        self.lots = lots
        # Signed ticks x lots.  Flat means no cost, whatever entry value came with it: a stale
        # cost on a flat position would leak into the next position's average entry.
        self.cost = Fraction(entry_value) * (1 if lots > 0 else -1) if lots else Fraction(0)
        self.realized = Fraction(0)
        self.fills = 0
        self.volume = 0  # lots traded, both sides

    def apply(self, signed_lots: int, signed_value: int) -> Fraction | int:
        """A counted fill: ``signed_lots`` > 0 bought, ``signed_value`` = price x signed lots.
        Returns the PnL it realised (0 when it only opened or added)."""
        if signed_lots == 0:
            return 0
        self.fills += 1
        self.volume += abs(signed_lots)
        pos = self.lots
        if pos == 0 or (pos > 0) == (signed_lots > 0):
            self.lots = pos + signed_lots
            self.cost += signed_value
            return 0
        price = Fraction(signed_value, signed_lots)
        closing = min(abs(signed_lots), abs(pos))
        avg = self.cost / pos
        # Closing a long at price p realises (p - avg) per lot; closing a short, (avg - p).
        direction = 1 if pos > 0 else -1
        realized = (price - avg) * closing * direction
        self.realized += realized
        remaining_old = pos - direction * closing
        self.cost = avg * remaining_old
        opening = abs(signed_lots) - closing
        self.lots = remaining_old + (opening * (1 if signed_lots > 0 else -1))
        if opening:
            self.cost += price * opening * (1 if signed_lots > 0 else -1)
        return realized

    def reset(self, lots: int, entry_value: int | None) -> None:
        """Adopt the venue's position (start-up or a reconcile that found drift, D16/D19).
        Without a venue entry price the old average is kept when the side did not change."""
        if lots == 0:
            self.cost = Fraction(0)
        elif entry_value is not None:
            self.cost = Fraction(entry_value) * (1 if lots > 0 else -1)
        else:
            avg = self.average_entry
            same_side = avg is not None and (lots > 0) == (self.lots > 0)
            self.cost = avg * lots if same_side and avg is not None else Fraction(0)
        self.lots = lots

    @property
    def average_entry(self) -> Fraction | None:
        """Ticks per lot of the open position."""
        return self.cost / self.lots if self.lots else None

    def unrealized(self, mark: int | None) -> Fraction:
        if not self.lots or mark is None:
            return Fraction(0)
        return mark * self.lots - self.cost

    def total_pnl(self, mark: int | None) -> Fraction:
        return self.realized + self.unrealized(mark)


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
