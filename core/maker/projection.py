"""State to ``ConsoleView``: the one picture every screen, reporter and benchmark reads.

``view`` copies what is shown (orders, fills, rejections, backoff, exposure, the log, the mode
and its reason from the lifecycle's priority) into immutable values; it changes nothing and is
called at the runner's publish rate, so it stays cheap.
"""

from __future__ import annotations

from core.events import (
    Side,
)
from core.exposure import exposure
from core.maker.quoting import Quoter
from core.pnl import MICRO
from core.view import (
    BackoffView,
    ConsoleView,
    CostsView,
    Counters,
    Limits,
    OrderView,
    RecoveryView,
    RejectionText,
    SignalsView,
)


class Projection(Quoter):
    """The maker's projection room: ``view(now)``."""

    def view(self, now: float) -> ConsoleView:
        tracker = self.tracker
        desired, _, reasons = self._sides(now)
        mark = self.book.mid
        orders = tuple(
            OrderView(
                cloid=o.cloid,
                oid=o.oid,
                side=o.side,
                price=o.price,
                size=o.size,
                filled=o.filled,
                state=o.state,
                age=o.age(now),
                level=o.level,
                reduce_only=o.reduce_only,
                unknown_for=None if o.unknown_since is None else now - o.unknown_since,
                adopted=o.adopted,
            )
            for o in tracker.by_cloid.values()
            if not o.state.is_terminal
        )
        unit = float(self.instrument.value_unit)
        avg = self.position.average_entry
        backoff = tuple(
            BackoffView(
                side,
                self.rejections.remaining(side, now),
                self.rejections.consecutive(side),
                block.rclass if (block := self.rejections.placement_block(side, now)) else None,
            )
            for side in (Side.BID, Side.ASK)
        )
        snap = self.recovery.snapshot(now)
        risk = self.params.risk
        counters = Counters(
            **{
                **self.counters,
                "illegal_transitions": tracker.illegal_count,
                "tracked_orders": len(tracker),
                "pruned_orders": tracker.pruned,
                "syncs": self.reconciler.syncs,
            }
        )
        return ConsoleView(
            time=now,
            venue=self.venue,
            instrument=self.instrument,
            mode=self.mode,
            mode_reason=self._mode_reason(),
            connected=self.connected,
            position=self.position.lots,
            average_entry=float(avg) if avg is not None else None,
            realized_pnl=float(self.position.realized) * unit,
            unrealized_pnl=float(self.position.unrealized(mark)) * unit,
            data_age=None if self._last_data is None else max(0.0, now - self._last_data),
            loop_lag=self.loop_lag,
            best_bid=self.book.best_bid,
            best_ask=self.book.best_ask,
            bids=self.book.depth(Side.BID, 20),
            asks=self.book.depth(Side.ASK, 20),
            orders=orders,
            state_counts={s: n for s, n in tracker.state_counts.items() if n},
            untracked_venue_orders=self.untracked_venue_orders,
            fills=tuple(self.fills),
            rejection_counts=dict(self.rejections.counts_by_class),
            rejection_texts=tuple(
                RejectionText(t.time, t.side, t.rclass, t.reason)
                for t in self.rejections.last_texts
            ),
            backoff=backoff,
            global_backoff=max(
                0.0,
                min(
                    self.rejections.remaining(Side.BID, now),
                    self.rejections.remaining(Side.ASK, now),
                ),
            ),
            side_reasons=reasons,
            stalls=self.stalls(now, desired, reasons),
            recovery=RecoveryView(snap.state, snap.attempts, snap.cooldown_left, snap.last_reason),
            exposure=exposure(
                self.position.lots,
                tracker.pending_lots,
                tracker.pending_value,
                self.position_limit(),
                (self.settlements.bought, self.settlements.sold),
            ),
            limits=Limits(
                max_position=risk.max_position,
                kill_position=risk.kill_position,
                max_notional=risk.max_notional,
                loss_limit=risk.loss_limit * unit,
                tier_limit=self.tier_lots(),
            ),
            kill_triggers=self.kill_switch.triggers,
            sweep=self._sweep.phase,
            last_sweep=self._sweep.ended,
            liquidation=self.liquidation,
            costs=self._costs_view(),
            spreads=self.spreads(),
            heartbeat=self.heartbeat,
            signals=SignalsView(
                volatility_ticks=self.volatility.sigma_ticks(1.0),
                volatility_ready=self.volatility.ready,
                cascade={side: hawkes.ratio(now) for side, hawkes in self.cascade.items()},
            ),
            leverage=self.leverage,
            log=tuple(self.log),
            counters=counters,
        )

    def _costs_view(self) -> CostsView:
        costs = self.costs
        return CostsView(
            quote=costs.quote,
            fees=costs.fees / MICRO,
            funding=costs.funding / MICRO,
            fundings=costs.fundings,
            other_fees=tuple((token, fee / MICRO) for token, fee in costs.other_fees.items()),
            closed_checked=costs.checked,
            closed_ours=costs.closed_ours / MICRO,
            closed_venue=costs.closed_venue / MICRO,
            closed_mismatches=costs.closed_mismatches,
            last_mismatch=costs.last_mismatch,
        )
