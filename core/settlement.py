"""D38: fills the venue may still undo, and undoing them exactly once.

Where a venue settles trades after matching (Polymarket: MATCHED -> MINED -> CONFIRMED, or
RETRYING -> FAILED), a fill is provisional until the venue's last word.  The position moves at
the match -- the order's state at the venue already changed -- and the part still unsettled is
kept apart, so the operator sees confirmed and pending, and the worst case counts every pending
fill both ways (a pending buy may vanish, a pending sell may vanish).

A FAILED trade moved nothing at the venue, so it must leave no trace here either: not in the
position, not in the average entry, not in realised PnL.  Average cost is path-dependent, so
the exact undo is a replay: while any fill is pending, the position as it was before the first
of them (the *base*) and every move counted since are kept; a failure rebuilds the position
from the base without the failed move.  Once nothing is pending the base is dropped, so the
memory held is only the moves of one unsettled stretch.  After the venue's position is adopted
the base restarts there; a fill that failed from before it is then undone at its own price
(exact in position, its PnL as close as the adopted entry allows).

Each trade is settled once: its entry leaves ``pending`` when its first final word comes, so a
repeated FAILED finds nothing, and a word for a trade not yet counted is remembered (bounded)
until the fill arrives, whatever order the venue's statuses come in.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from core.exposure import Position, PositionState

_EARLY_KEPT = 4096  # settlements seen before their fill; a venue tells a handful at a time


@dataclass(frozen=True, slots=True)
class Unsettled:
    """One provisional fill: the move it made (signed lots, signed ticks x lots) and its fee."""

    tid: int
    lots: int
    value: int
    fee: int
    fee_token: str
    held_at: float = 0.0  # when it was counted (the maker's time)


class Settlements:
    """The provisional fills of one position, their undo, and what the worst case adds."""

    __slots__ = ("_base", "_early", "_since", "bought", "confirmed", "failed", "pending", "sold")

    def __init__(self) -> None:
        self.pending: dict[int, Unsettled] = {}
        self.bought = 0  # lots of pending buys (a failure takes them away)
        self.sold = 0  # lots of pending sells (a failure gives them back)
        self.confirmed = 0  # provisional fills the venue confirmed
        self.failed = 0  # provisional fills the venue voided, each reversed once
        self._base: PositionState | None = None
        self._since: list[tuple[int, int, int]] = []  # (tid, lots, value) since the base
        self._early: OrderedDict[int, bool] = OrderedDict()

    @property
    def net(self) -> int:
        """Signed lots of the position that are still provisional."""
        return self.bought - self.sold

    def oldest(self) -> float | None:
        """When the longest-pending fill was counted (None: nothing pending)."""
        return min((u.held_at for u in self.pending.values()), default=None)

    def early(self, tid: int) -> bool | None:
        """The venue's final word on ``tid`` if it came before the fill (None: none came)."""
        return self._early.pop(tid, None)

    def before_move(self, position: Position, final: bool) -> None:
        """Call before a fill moves ``position``: a first provisional fill starts the base."""
        if not final and self._base is None:
            self._base = position.state()
            self._since.clear()

    def moved(self, tid: int, lots: int, value: int) -> None:
        """A fill moved the position by ``lots``/``value`` (0 when it moved it no more)."""
        if self._base is not None:
            self._since.append((tid, lots, value))

    def hold(
        self, tid: int, lots: int, value: int, fee: int, fee_token: str, now: float = 0.0
    ) -> None:
        """A counted fill is provisional: ``lots``/``value`` is the trade's own move."""
        self.pending[tid] = Unsettled(tid, lots, value, fee, fee_token, now)
        if lots > 0:
            self.bought += lots
        else:
            self.sold -= lots

    def settle(self, tid: int, confirmed: bool, position: Position) -> Unsettled | None:
        """The venue's final word on ``tid``.  Returns the fill it reversed (FAILED), else
        None.  A word for a fill not counted yet is kept for ``early``."""
        entry = self.pending.pop(tid, None)
        if entry is None:
            if tid not in self._early:
                self._early[tid] = confirmed
                while len(self._early) > _EARLY_KEPT:
                    self._early.popitem(last=False)
            return None
        if entry.lots > 0:
            self.bought -= entry.lots
        else:
            self.sold += entry.lots
        if confirmed:
            self.confirmed += 1
        else:
            self.failed += 1
            self._undo(entry, position)
        if not self.pending:
            self._base = None
            self._since.clear()
        return None if confirmed else entry

    def _undo(self, entry: Unsettled, position: Position) -> None:
        base = self._base
        if base is None:
            self._apply_inverse(entry, position)
            return
        kept = [m for m in self._since if m[0] != entry.tid]
        position.restore(base)
        if not any(m[0] == entry.tid and m[1] for m in self._since):
            # It moved the position before the base (an adoption restarted it) or through an
            # answer rather than its trade row: undone at its own price, at the base.
            self._apply_inverse(entry, position)
        self._base = position.state()
        self._since = kept
        for _, lots, value in kept:
            position.apply(lots, value)  # a failed trade was never a fill: only the others

    @staticmethod
    def _apply_inverse(entry: Unsettled, position: Position) -> None:
        position.replay(((-entry.lots, -entry.value),))

    def adopted(self, position: Position) -> None:
        """The venue's position was adopted: any undo starts from it now."""
        if self.pending:
            self._base = position.state()
            self._since.clear()
