"""Reconciliation: open orders and position snapshots against what we believe (D9, D16, D19).

``_on_open_orders`` sorts a listing (``core.reconcile.Reconciler.plan_snapshot``): confirmed,
queried (missing is never proof of gone, D9, D24), untracked (cancelled or adopted, D25),
cancelled again, forgotten; unreadable rows may be orders (D34).  ``_on_position_snapshot``
compares the venue's position at its time with ours at that time, corrects drift seen twice
(D16) and judges risk on what it learnt (D30).  Failed syncs are retried paced; a live start-up
that cannot learn the venue's state halts (D19, D37).
"""

from __future__ import annotations

from core.commands import (
    Cancel,
    Command,
    TimeInForce,
)
from core.events import (
    OpenOrders,
    OrderUpdate,
    PositionSnapshot,
    SyncFailed,
    VenueStatus,
)
from core.maker.answers import Answers
from core.maker.startup import StartUp
from core.orders import OrderState
from core.view import SweepPhase

# How long after the last settlement (D38) a venue's position is believed again: its balance
# moves with the chain, a little after the stream's word (the connector refreshes it first).
SETTLED_QUIET_S = 5.0


class Reconciling(StartUp, Answers):
    """The maker's reconciliation room: listings and positions from the venue, and failed syncs."""

    def _on_open_orders(self, ev: OpenOrders, now: float) -> list[Command]:
        self.reconciler.answered()
        out: list[Command] = []
        if self._startup_answer(self._startup_orders):
            self._startup_orders = ev
            out.extend(self._maybe_finish_startup_sync(now))
            return out
        plan = self.reconciler.plan_snapshot(ev, self.tracker, now)
        for order, vo in plan.listed:
            if vo.orig_size == order.size:  # the venue's own count of what traded (D33)
                self._note_venue_filled(order, vo.orig_size - vo.size, now)
        if ev.bad_rows:
            self.counters["malformed_rows"] += ev.bad_rows
            self._unreadable_snapshots += 1
            if self._unreadable_snapshots == 1:
                # D34: one look again; a row that stays unreadable is counted each time, not
                # chased with a sync a second for ever.
                self._log(now, "venue", f"open orders: {ev.bad_rows} rows unreadable; re-syncing")
                self.reconciler.trigger("open orders with unreadable rows")
        else:
            self._unreadable_snapshots = 0
        for order, vo in plan.confirm_live:
            update = OrderUpdate(vo.oid, order.cloid, VenueStatus.OPEN, "open (snapshot)")
            self._after(self.tracker.on_order_update(update, now), now, "seen in snapshot")
            # No need to ask any more, but a query already sent is still unanswered, and its
            # answer may be older than this snapshot: ``_asked`` keeps it (D24, seed 1003829).
            self._queries.pop(order.cloid, None)
            self._unsettled.pop(order.cloid, None)
        for order in plan.query:
            if order.cloid not in self._queries:
                self._queries[order.cloid] = now
                self._log(now, "reconcile", "missing from snapshot; asking", order.cloid, order.oid)
        self.untracked_venue_orders = len(plan.untracked)
        if self._sweep.phase is SweepPhase.VERIFYING:
            if self._last_sync_sent < self._sweep.done_at:
                # Asked before the cancel-all was done: it proves nothing about it.  The one
                # sync in flight is answered now, so the verification goes out (D25, D29).
                out.extend(self._verify_sync(now))
            else:
                out.extend(self._verify(ev, now))
        elif plan.untracked and not self._sweep.active:
            if self.params.unknown_orders == "adopt" and not self.kill_switch.latched:
                for vo in plan.untracked:
                    self.tracker.adopt(
                        oid=vo.oid,
                        cloid=vo.cloid,
                        side=vo.side,
                        price=vo.price,
                        size=vo.size,
                        now=now,
                    )
                    self._log(now, "reconcile", "adopted venue order", vo.cloid, vo.oid)
                self.untracked_venue_orders = 0
            else:
                for vo in plan.untracked:
                    out.append(Cancel(vo.cloid, vo.oid))
                    self.counters["cancels_sent"] += 1
                    self._log(now, "reconcile", "cancelling unknown venue order", vo.cloid, vo.oid)
        for order, vo in plan.recancel:
            if order.state is OrderState.REJECTED and order.level is not None:
                out.extend(self._claim_stray(order.cloid, vo.oid, now))  # keeps its intent
                continue
            out.append(Cancel(None, vo.oid))
            self.counters["cancels_sent"] += 1
            self._log(now, "reconcile", "venue still lists it; cancelling", order.cloid, vo.oid)
        for vo in plan.forgotten:
            out.append(Cancel(None, vo.oid))
            self.counters["cancels_sent"] += 1
            self._log(
                now, "reconcile", "venue lists an order we finished; cancelling", vo.cloid, vo.oid
            )
        return out

    def _on_position_snapshot(self, ev: PositionSnapshot, now: float) -> list[Command]:
        self._position_refresh_asked = False
        if self._startup_answer(self._startup_position):
            self.recovery.on_position_refreshed()
            self._startup_position = ev
            self.rejections.on_position_refreshed(ev.position)
            return self._maybe_finish_startup_sync(now)
        after = self.position_moves.after(ev.venue_time)
        if after is None:
            # Older than the position we adopted (answers overtake each other) or than the
            # moves we remember: it cannot be lined up with ours and refreshes nothing (D26
            # recovery asks again); the next sync judges afresh.
            self._log(now, "reconcile", "position snapshot too old to line up with ours; ignored")
            return []
        self.recovery.on_position_refreshed()
        # D16: compare like with like -- our position as of the snapshot's venue time.  Fills
        # from before it that are still on their way show as drift, which a second look
        # usually clears; if it is confirmed anyway, adopting is still exact (see below).
        local_then = self.position.lots - sum(lots for lots, _ in after)
        verdict = self.reconciler.judge_position(
            ev.position, local_then, self.counters["untimed_fills"]
        )
        if not verdict.text:
            self._position_agreed_at = now
        if verdict.text:
            self._log(now, "reconcile", verdict.text)
            if not verdict.correct:
                self.reconciler.trigger("position drift")  # D16: drift triggers a sync
                # D33: and the fills since we last agreed are fetched: lost ones are found
                # even while new trades keep the drift from ever showing twice the same.
                agreed = self._position_agreed_at
                self.fill_gaps.note_drift(now - 60.0 if agreed is None else agreed, now)
        if verdict.correct and self._untimed_fill_may_follow():
            # An answer that may carry an immediate fill without a venue time is still out:
            # it cannot be lined up, and if the snapshot holds its trade, counting it on
            # arrival would count it twice.  Look again once it is answered.
            self._log(now, "reconcile", "drift confirmed, but an IOC is unanswered; re-checking")
            self.reconciler.trigger("position drift")
        elif verdict.correct and self._settling_now(now):
            # D38 x D16: while fills settle the venue's balance is no authority -- it may
            # hold a trade the stream calls pending (mined) or lag one it confirmed -- so a
            # drift is believed only once nothing has been pending or settled for a while.
            self._log(now, "reconcile", "drift confirmed while trades settle; re-checking later")
        elif verdict.correct:
            self._adopt_position(ev, after)
            self._position_agreed_at = now
        self.rejections.on_position_refreshed(self.position.lots)
        return []

    def _settling_now(self, now: float) -> bool:
        """Is a fill pending, or did one settle within ``SETTLED_QUIET_S``?"""
        settled = self._last_settled_at
        return bool(self.settlements.pending) or (
            settled is not None and now - settled < SETTLED_QUIET_S
        )

    def _untimed_fill_may_follow(self) -> bool:
        """Is an order that can trade on arrival (not post-only) still unanswered?  Venues
        may not time such answers (Hyperliquid does not), so its fill cannot be placed
        before or after a snapshot (D16)."""
        return any(
            order.tif is not TimeInForce.ALO
            and (order.state is OrderState.PENDING_NEW or order.unknown_since is not None)
            for order in self.tracker.non_terminal()
        )

    def _on_sync_failed(self, ev: SyncFailed, now: float) -> list[Command]:
        self.reconciler.answered()
        self._log(now, "reconcile", f"state sync failed: {ev.reason}")
        sweep = self._sweep
        out: list[Command] = []
        if sweep.phase is SweepPhase.VERIFYING:
            if ev.rate_limited:
                # D29: the venue is rate-limiting us: the verification is asked again,
                # paced; that is not a failed cancel-all.
                sweep.retries += 1
                sweep.next_verify = now + self.params.sweep_retry.delay(sweep.retries)
                sweep.deadline = sweep.next_verify + self.params.sweep_timeout
            else:
                out.extend(self._resweep(now, f"verification failed: {ev.reason[:120]}", False))
        if self._startup_waiting():
            self._startup_tries += 1
            if not ev.rate_limited:
                self._startup_failures += 1  # D29: a rate limit is a wait, not a failure
            if self.params.live and self._startup_failures >= 3:
                self._halt(now, f"start-up sync failed 3 times: {ev.reason}")
            else:
                wait = self.params.sweep_retry.delay(self._startup_tries)
                self._startup_retry_at = now + wait
        return out

    def _startup_timers(self, now: float) -> list[Command]:
        out: list[Command] = []
        if (
            self._startup_waiting()
            and self._startup_retry_at is None
            and self.reconciler.timed_out(now)
        ):
            # D19/D24: the start-up sync's answer is lost: a failure like any other.
            out.extend(self._on_sync_failed(SyncFailed("start-up sync unanswered"), now))
        if self._startup_retry_at is not None and now >= self._startup_retry_at:
            self._startup_retry_at = None
            out.append(self._sync(now, "start-up retry"))
        return out
