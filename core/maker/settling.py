"""The maker's room for what a venue that settles, re-grids and needs a pulse says (D38-D40).

* **D38** ``FillSettled``: a provisional fill becomes final, or is reversed exactly once
  (``core.settlement``): position, average entry, realised PnL and fee as if it never
  happened, the reversal recorded as a position move (the venue's position lost it at that
  time), the fill's row marked FAILED on screen.
* **D39** ``TickSizeChanged``: the instrument takes the new grid at once; every order resting
  off it is cancelled now (the quoter re-prices on the new grid on its next step), and a price
  rejection of an order sent on the old grid is the grid's doing, not ours: it is counted apart
  and never backs a side off or fences a price.
* **D40** ``HeartbeatState``: while the venue's dead-man switch is lapsed, every order is
  presumed gone: the engine sweeps (cancel-all, then verifies the venue empty) and holds quoting
  until the connector says heartbeats are accepted again.
"""

from __future__ import annotations

from core.commands import Command, FetchFills
from core.events import FillSettled, HeartbeatState, RejectionClass, TickSizeChanged
from core.maker.emergency import Emergency
from core.maker.fills import FillCounting
from core.orders import TrackedOrder
from core.units import UnitError


class Settling(FillCounting, Emergency):
    """D38-D40 (see the module's docstring)."""

    def _on_fill_settled(self, ev: FillSettled, now: float) -> None:
        self._settle(ev.tid, ev.confirmed, ev.status, ev.venue_time, now)

    def _settlement_fetch(self, now: float) -> list[Command]:
        """D38: a fill pending longer than ``settle_query_s`` -- its final word may have been
        lost on the stream (a dropped message) -- is asked about: the venue's fills are
        fetched (they carry each trade's finality now), again at doubling intervals while it
        stays pending; after a reconnect at once (the venue replays nothing).  Never guessed
        final or failed."""
        oldest = self.settlements.oldest()
        if oldest is None:
            self._settle_asks = 0
            self._settle_now = False
            return []
        wait = self.params.settle_query_s * (2 ** min(self._settle_asks, 4))
        if not self._settle_now and now - max(oldest, self._settle_asked_at) < wait:
            return []
        self._settle_now = False
        self._settle_asked_at = now
        self._settle_asks += 1
        lookback = now - oldest + self.params.settle_query_s
        self.counters["fill_fetches"] += 1
        reason = (
            f"{len(self.settlements.pending)} provisional fill(s) unsettled for {now - oldest:.0f}s"
        )
        self._log(now, "reconcile", f"fetching fills of the last {lookback:.0f}s: {reason}")
        return [FetchFills(lookback, reason)]

    def _reconnected_settling(self) -> None:
        """The final words said while we were away are lost: ask at the next tick."""
        self._settle_now = bool(self.settlements.pending)

    def _on_tick_size_changed(self, ev: TickSizeChanged, now: float) -> list[Command]:
        old = self.instrument
        if ev.grid == old.grid:
            return []
        try:
            new = old.with_grid(ev.grid)
        except UnitError as exc:
            # Never a crash on what a venue says (D34): a grid this market cannot take is
            # counted, shown and answered by asking the venue for its state.
            self.counters["venue_notices"] += 1
            self._log(now, "venue", f"tick size change to {ev.tick!r} refused: {exc}")
            self.reconciler.trigger("an unusable tick size change")
            return []
        self.instrument = new
        self._grid_changed_at = now
        self.counters["tick_changes"] += 1
        out: list[Command] = []
        for order in list(self.tracker.by_cloid.values()):
            if order.state.is_active and not new.is_valid_ticks(order.price):
                out.append(self._cancel(order, now))
        self._log(
            now,
            "venue",
            f"tick size {old.venue_tick} -> {ev.tick}: {len(out)} order(s) off the new grid "
            "cancelled; quotes re-priced on it",
        )
        return out

    def _old_grid(self, order: TrackedOrder, rclass: RejectionClass) -> bool:
        """D39: a price rejection of an order sent before the grid changed, off the new grid."""
        changed = self._grid_changed_at
        return (
            rclass is RejectionClass.PRICE_ERROR
            and changed is not None
            and order.placed_at <= changed
            and not self.instrument.is_valid_ticks(order.price)
        )

    def _on_heartbeat(self, ev: HeartbeatState, now: float) -> list[Command]:
        was = self.heartbeat
        self.heartbeat = ev
        if ev.lapsed and (was is None or not was.lapsed):
            self.counters["heartbeat_lapses"] += 1
            self._log(now, "venue", f"heartbeat lapsed: {ev.text}; every order presumed gone")
            return self._begin_sweep(f"heartbeat lapsed: {ev.text}", now, urgent=True)
        if was is not None and was.lapsed and not ev.lapsed:
            self._log(now, "venue", f"heartbeats accepted again: {ev.text}")
        elif was is None or was.armed != ev.armed:
            self._log(now, "venue", f"heartbeat {'armed' if ev.armed else 'not armed'}: {ev.text}")
        return []
