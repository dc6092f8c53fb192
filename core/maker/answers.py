"""What the venue answered about our orders, and news that names only an order id.

``Answers`` applies placement, modify and cancel answers, stream updates and status answers to
the tracker (``core.orders``: every state change goes through its table), and feeds what they
mean elsewhere: a rejection to the side's backoff (D11-D13), an unknown placement to the
inquiries (D8), "already gone" to a cancel that is done but may still fill (D5, D24), a resting
order we had given up on to a stray that is cancelled at once (D22).  News that names only an
oid waits in ``core.oidnews`` until an answer binds that oid (D32); a status answer is believed
only when it cannot predate what the venue already showed (D24).

Never: guess an outcome (an unknown one is asked for), or let a cancel failure hold placements
(cancel failures are not rejections, D13).
"""

from __future__ import annotations

import dataclasses

from core.commands import (
    Command,
    TimeInForce,
)
from core.events import (
    CancelRejected,
    ModifyAck,
    ModifyRejected,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    QueryFailed,
    RejectionClass,
    VenueStatus,
)
from core.maker.inquiries import Inquiries
from core.maker.settling import Settling
from core.orders import OrderState, TrackedOrder


class Answers(Settling, Inquiries):
    """The maker's answer room: the venue's answers and stream news about our orders."""

    def _on_place_ack(self, ev: PlaceAck, now: float) -> None:
        outcome = self.tracker.on_place_ack(ev, now)
        order = outcome.order
        self._after(outcome, now)
        if order is None:
            self.reconciler.trigger("ack for an unknown order")
            return
        self._record_immediate(order, outcome, now, ev.venue_time)
        self.rejections.record_accepted(order.side, now, ev.batch_id)
        if order.tif is TimeInForce.IOC:
            self.recovery.on_ioc_result(
                ev.filled, now, f"IOC filled {self.instrument.size_text(ev.filled)}"
            )
        elif order.reduce_only:
            self.recovery.on_reduce_only_accepted()

    def _on_place_rejected(self, ev: PlaceRejected, now: float) -> None:
        outcome = self.tracker.on_place_rejected(ev, now)
        self._after(outcome, now, ev.reason)
        order = outcome.order
        if order is None or outcome.transition is None:
            return
        self._placement_rejected(order, ev.rclass, ev.reason, ev.batch_id, now)

    def _placement_rejected(
        self,
        order: TrackedOrder,
        rclass: RejectionClass,
        reason: str,
        batch_id: int | None,
        now: float,
    ) -> None:
        if self._old_grid(order, rclass):
            # D39: sent on the grid the venue has just left: the grid's doing, not ours.
            self.counters["old_grid_rejections"] += 1
            self._log(now, "venue", f"placed on the old grid, refused: {reason[:120]}", order.cloid)
            return
        self.counters["rejections"] += 1
        self.rejections.record_rejections(order.side, batch_id, rclass, reason, now)
        if order.tif is TimeInForce.IOC:
            self.recovery.on_ioc_result(0, now, reason)
            return
        if order.reduce_only:
            if not self.recovery.skip_normal_quoting:
                # D15: judge the rejection against the position as it is now, not as the last
                # tick saw it (a reacting quote can be refused before the next tick).  In
                # these states ``update`` never sends anything.
                self.recovery.update(self.position.lots, self.position_limit(), None, None, now)
            self.recovery.on_reduce_only_rejected(rclass, reason, now)
        if rclass is RejectionClass.PRICE_ERROR:
            self._fences[order.side] = (order.price, now + self.params.price_fence_s)
        elif rclass is not RejectionClass.RATE_LIMIT:
            self.reconciler.trigger(f"{rclass.category.value} rejection")

    def _on_cancel_rejected(self, ev: CancelRejected, now: float) -> list[Command]:
        self._after(self.tracker.on_cancel_rejected(ev, now), now, ev.reason)
        if ev.gone:
            self._cancel_failures = self._escalation = 0
            return []
        # D29: the order is live again; its cancel is retried, paced (the executor waits for
        # ``_cancel_retry_at``), never at the quoting tick, so a rate limit is not deepened.
        self._cancel_failures += 1
        self._cancel_retry_at = now + self.params.cancel_retry.delay(self._cancel_failures)
        if ev.rclass is RejectionClass.RATE_LIMIT and self._sweep.active:
            self._sweep.rate_limited = True
        self._escalation += 1
        if self._escalation < self.params.cancel_escalation:
            return []
        self._escalation = 0
        if self._sweep.active:
            return []  # D29: the cancel-all under way absorbs the escalation
        self._log(now, "reconcile", "cancels keep failing: escalating to one cancel-all")
        return self._begin_sweep("cancel failures", now)

    def _on_modify_ack(self, ev: ModifyAck, now: float) -> None:
        old, new = self.tracker.on_modify_ack(ev, now)
        self._after(old, now)
        self._after(new, now)
        if new.order is not None:
            self._record_immediate(new.order, new, now, ev.venue_time)
            self.rejections.record_accepted(new.order.side, now, ev.batch_id)

    def _on_modify_rejected(self, ev: ModifyRejected, now: float) -> None:
        old, new = self.tracker.on_modify_rejected(ev, now)
        self._after(old, now, ev.reason)
        self._after(new, now, ev.reason)
        if new.order is None or new.transition is None:
            return
        if ev.raced:
            return  # D5: a race with a fill or cancel, not a verdict on the new quote
        self._placement_rejected(new.order, ev.rclass, ev.reason, ev.batch_id, now)

    def _on_order_update(self, ev: OrderUpdate, now: float) -> None:
        outcome = self.tracker.on_order_update(ev, now)
        if outcome.unmatched:
            if ev.cloid is None and ev.oid is not None and not self.tracker.forgotten(None, ev.oid):
                # D32: news by oid alone, ahead of the ack that binds the oid: kept, not lost.
                self.unbound.keep_update(ev, now)
                self.counters["oid_news_kept"] += 1
            elif ev.status is VenueStatus.OPEN:
                self.reconciler.trigger("update for an unknown open order")
            return
        if ev.status is VenueStatus.UNKNOWN:
            self._unknown_status(ev.raw_status, outcome.order, now)
        self._after(outcome, now, ev.raw_status)
        if outcome.order is not None:
            says_filled = ev.status is VenueStatus.FILLED
            self._note_venue_filled(outcome.order, ev.filled, now, says_filled=says_filled)
        if (
            ev.status is VenueStatus.REJECTED
            and outcome.order is not None
            and outcome.transition is not None
        ):
            rclass = ev.rclass if ev.rclass is not None else RejectionClass.OTHER
            self._placement_rejected(outcome.order, rclass, ev.raw_status, None, now)

    def _on_status_report(self, ev: OrderStatusReport, now: float) -> list[Command]:
        about = self.tracker.get(ev.cloid, ev.oid)  # a stray is asked by oid, answered by cloid
        key = about.cloid if about is not None else ev.cloid or self._cloid_for(ev.oid)
        asked_at: float | None = None
        if key is not None:
            waiting = key in self._asked
            self._queries.pop(key, None)
            asked_at = self._query_answered(key, now)
            if ev.status is VenueStatus.NOT_FOUND and about is not None and not waiting:
                # D24/D35: no query of ours waits for this answer: it is one delivered twice
                # (or a stray).  A "not found" is believed only as the answer to a question
                # (swarm seed 1200851: the repeat of a stale "not found" ended an order that
                # rested, and its intent was placed a second time).  Ask again instead.
                if not about.state.is_terminal:
                    self._queries.setdefault(about.cloid, now + self.params.grace_period)
                return []
        # D24: a "not found" that may answer a query sent before the venue first showed us the
        # order (it overtook the placement) is stale, not definitive: the tracker says ask again.
        outcome = self.tracker.on_status_report(ev, now, asked_at=asked_at)
        order = outcome.order
        if outcome.requery_later and order is not None:
            self._queries[order.cloid] = now + self.params.grace_period
            return []
        if ev.status is VenueStatus.UNKNOWN:
            self._unknown_status(ev.raw_status, order, now)
        if order is not None:
            if outcome.needs_query and not order.state.is_terminal:
                # D31: an answer that settles nothing (a status we do not know, or one the
                # table refuses) is asked again, paced and shown, never in a loop.
                wait = self._unsettled_answer(order.cloid, f"venue answers {ev.raw_status!r}")
                self._queries[order.cloid] = now + wait
                self._log(
                    now,
                    "reconcile",
                    f"venue answer {ev.raw_status!r} settles nothing in {order.state.value}; "
                    f"asking again in {wait:.1f}s",
                    order.cloid,
                    order.oid,
                )
            else:
                self._unsettled.pop(order.cloid, None)
        self._after(outcome, now, f"status {ev.raw_status}")
        if order is not None:
            says_filled = ev.status is VenueStatus.FILLED
            self._note_venue_filled(order, ev.filled, now, says_filled=says_filled)
        if (
            order is not None
            and order.state is OrderState.CANCEL_PENDING
            and ev.status is VenueStatus.OPEN
        ):
            # The cancel was lost: still resting, so cancel again (D24).
            return [self._cancel(order, now)]
        return []

    def _bind_news(self, cloid: str | None, oid: int | None, now: float) -> list[OrderUpdate]:
        """D32: an event names ``cloid`` with ``oid``.  Fills kept under that oid are ours:
        they are attributed to the order now, before the event (a fill before its ack is the
        first of the trades the ack reports, D4).  Updates kept under it are returned, to be
        applied after the event, in the order the venue said them."""
        if cloid is None or oid is None or oid not in self.unbound:
            return []
        order = self.tracker.by_cloid.get(cloid)
        if order is None or (order.oid is not None and order.oid != oid):
            return []
        fills, updates = self.unbound.take(oid)
        self.counters["oid_news_bound"] += len(fills) + len(updates)
        for kept in fills:
            outcome = self.tracker.attribute_fill(order, kept, now)
            self._after(outcome, now, "a fill named by its oid before the ack")
        if fills:
            self._log(now, "reconcile", f"{len(fills)} fills named by oid bound", cloid, oid)
        return [dataclasses.replace(u, cloid=cloid) for u in updates]

    def _apply_kept(self, updates: list[OrderUpdate], now: float) -> list[Command]:
        out: list[Command] = []
        for update in updates:
            self._log(
                now,
                "reconcile",
                f"{update.raw_status} (told by oid before the ack)",
                update.cloid,
                update.oid,
            )
            self._on_order_update(update, now)
            if update.status is VenueStatus.OPEN:
                out.extend(self._claim_stray(update.cloid, update.oid, now))
        return out

    def _claim_stray(self, cloid: str | None, oid: int | None, now: float) -> list[Command]:
        """D22, D24: the venue says an order rests that we had given up on (Rejected: its
        placement outlived every "not found").  Its intent may already be quoted again (swarm
        seed 1038750: a placement reached the venue 14.6 s late and, 0.1 s after its ack was
        ignored, a second order was placed for the same intent).  It is tracked again as a
        stray of that intent, which keeps the intent occupied, and cancelled at once."""
        if cloid is None or oid is None:
            return []
        order = self.tracker.by_cloid.get(cloid)
        if order is None or order.state is not OrderState.REJECTED:
            return []
        stray = self.tracker.track_stray(order, oid, now)
        if stray is None:
            return []
        self.counters["strays_cancelled"] += 1
        self._log(now, "reconcile", "venue rests an order we gave up on; cancelling", cloid, oid)
        return [self._cancel(stray, now)]

    def _on_place_unknown(self, ev: PlaceUnknown, now: float) -> None:
        outcome = self.tracker.on_place_unknown(ev, now)
        self._after(outcome, now, f"placement unknown: {ev.reason}")
        self.reconciler.trigger("unknown outcome")
        if outcome.order is not None and outcome.order.tif is TimeInForce.IOC:
            self.recovery.on_ioc_result(0, now, f"IOC outcome unknown: {ev.reason}")

    def _on_query_failed(self, ev: QueryFailed, now: float) -> None:
        key = ev.cloid or self._cloid_for(ev.oid)
        if key is not None:
            self._query_answered(key, now)
            wait = self._unsettled_answer(key, f"query failed: {ev.reason}")
            self._queries[key] = now + wait
        self._log(now, "reconcile", f"status query failed, retrying: {ev.reason}")
