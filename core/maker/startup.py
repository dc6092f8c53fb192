"""Start-up: learn the venue's state before quoting anything (D19).

``start`` asks for open orders and the position; quoting waits (the lifecycle's ``starting``)
until both answered and the leftover orders are dealt with: cancelled by a start-up sweep that
must verify the venue empty (``on_start = "cancel"``) or adopted (``"adopt"``).
"""

from __future__ import annotations

from core.commands import (
    Batch,
    Command,
)
from core.events import (
    OpenOrders,
    PositionSnapshot,
)
from core.maker.emergency import Emergency
from core.maker.fills import FillCounting
from core.view import SweepPhase


class StartUp(FillCounting, Emergency):
    """The maker's start-up room: what the engine does before its first quote (D19)."""

    def start(self, now: float) -> list[Batch]:
        """D19: learn the venue's state before anything else; quoting waits for it."""
        self.life.start()
        self._log(now, "reconcile", "start-up: asking the venue for open orders and position")
        return self._batches(now, [self._sync(now, "start-up")])

    def _startup_answer(self, received: OpenOrders | PositionSnapshot | None) -> bool:
        """Is this snapshot an answer to the start-up sync (D19)?  Before the start-up sweep
        begins, yes; after it, only if the start-up answer has not arrived yet (a kill or quit
        sweep that started first must not swallow the venue's start-up state)."""
        return self.life.starting and (self._sweep.phase is SweepPhase.IDLE or received is None)

    def _maybe_finish_startup_sync(self, now: float) -> list[Command]:
        orders, pos = self._startup_orders, self._startup_position
        if orders is None or pos is None:
            return []
        # Fills counted while the start-up answers were on their way: the ones after the
        # snapshot's venue time are not in it (an older snapshot cannot happen here).
        self._adopt_position(pos, self.position_moves.after(pos.venue_time) or [])
        self._position_agreed_at = now
        self.rejections.on_position_refreshed(self.position.lots)
        self._log(
            now,
            "reconcile",
            f"start-up: venue has {len(orders.orders)} open orders, "
            f"position {self.instrument.size_text(pos.position, signed=True)}",
        )
        if self.params.on_start == "adopt":
            for vo in orders.orders:
                self.tracker.adopt(
                    oid=vo.oid, cloid=vo.cloid, side=vo.side, price=vo.price, size=vo.size, now=now
                )
            self.life.started()
            self._log(now, "reconcile", f"start-up: adopted {len(orders.orders)} orders")
            return self._risk(now)  # D30
        return self._begin_sweep("start-up", now)

    def _startup_waiting(self) -> bool:
        """Start-up still waits for the venue's open orders or position (D19)."""
        return (
            self.life.starting
            and not self.life.halted_reason
            and (self._startup_orders is None or self._startup_position is None)
        )
