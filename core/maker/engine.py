"""``MarketMaker``: the rooms put together, and the engine's four entry points.

``handle`` dispatches each venue event with ``match`` over the ``Event`` union and
``assert_never`` (a new event kind that is not handled fails mypy), ``operate`` does the same
over the operator's ``Action`` union, ``tick`` runs the timers in a fixed order (answer
deadlines, sweeps, syncs, fill gaps, risk, recovery, quoting), and ``view`` (``projection``)
draws the picture.  Each returns the batches to send, cancels first (D13).  Nothing here reads a
clock or raises on what a venue sends.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import assert_never

from core.actions import (
    Action,
    CancelAllOrders,
    CancelOrder,
    Halt,
    Kill,
    Pause,
    Quit,
    Rearm,
    Resume,
)
from core.commands import (
    Batch,
    Command,
)
from core.events import (
    AckStatus,
    BookDelta,
    BookSnapshot,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    CancelUnknown,
    Connected,
    Disconnected,
    Event,
    Fill,
    FillSettled,
    FillsFetched,
    Funding,
    HeartbeatState,
    LeverageInfo,
    Liquidated,
    MalformedMessage,
    ModifyAck,
    ModifyRejected,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    PositionSnapshot,
    QueryFailed,
    SyncFailed,
    TickSizeChanged,
    Trade,
    VenueNotice,
    VenueStatus,
)
from core.maker.lifecycle import (
    Quoting,
    QuotingEvent,
)
from core.maker.projection import Projection
from core.maker.reconciling import Reconciling
from core.maker.sweep import SweepEvent


class MarketMaker(Reconciling, Projection):
    """The engine: its rooms (``core/maker/*``) put together, and the four entry points that
    dispatch to them.  See the package's docstring."""

    def handle(self, event: Event, now: float) -> list[Batch]:
        # The cases are tried in order, one ``isinstance`` each (about 0.1 us apiece), so the
        # frequent kinds come first: book deltas, trades, fills, order updates, modify acks.
        # No event class derives from another, so the order decides nothing else.
        self.counters["events"] += 1
        out: list[Command] = []
        position_before = self.position.lots
        match event:
            case BookDelta():
                self.counters["book_updates"] += 1
                book = self.book
                bid, ask = book.best_bid, book.best_ask
                book.apply_delta(event)
                self._last_data = now
                if book.best_bid != bid or book.best_ask != ask:
                    self._mid_moved(now)
                    out.extend(self._quote(now, reacting=True))
            case Trade():
                self._last_data = now
                self.cascade[event.side].record(now)
            case Fill():
                kept = self._bind_news(event.cloid, event.oid, now)
                news = self._on_fill(event, now)
                if kept:
                    out.extend(self._apply_kept(kept, now))
                if news and event.liquidation is not None:
                    out.extend(self._liquidated(event.liquidation, now))
            case OrderUpdate():
                kept = self._bind_news(event.cloid, event.oid, now)
                self._on_order_update(event, now)
                if event.status is VenueStatus.OPEN:
                    out.extend(self._claim_stray(event.cloid, event.oid, now))
                if kept:
                    out.extend(self._apply_kept(kept, now))
            case ModifyAck():
                kept = self._bind_news(event.new_cloid, event.oid, now)
                self._on_modify_ack(event, now)
                if event.status is not AckStatus.FILLED:
                    out.extend(self._claim_stray(event.new_cloid, event.oid, now))
                if kept:
                    out.extend(self._apply_kept(kept, now))
            case PlaceAck():
                kept = self._bind_news(event.cloid, event.oid, now)
                self._on_place_ack(event, now)
                if event.status is not AckStatus.FILLED:
                    out.extend(self._claim_stray(event.cloid, event.oid, now))
                if kept:
                    out.extend(self._apply_kept(kept, now))
            case CancelAck():
                self._after(self.tracker.on_cancel_ack(event, now), now)
                self._cancel_failures = self._escalation = 0
            case BookSnapshot():
                self.counters["book_updates"] += 1
                self.book.apply_snapshot(event)
                self._last_data = now
                self._mid_moved(now)
                out.extend(self._quote(now, reacting=True))
            case Liquidated():
                out.extend(self._liquidated(event.text, now))
            case Funding():
                if self._on_funding(event, now):
                    out.extend(self._risk(now))  # D36: net PnL moved
            case PlaceRejected():
                self._on_place_rejected(event, now)
            case PlaceUnknown():
                self._on_place_unknown(event, now)
            case CancelRejected():
                out.extend(self._on_cancel_rejected(event, now))
            case CancelUnknown():
                self._after(self.tracker.on_cancel_unknown(event, now), now, event.reason)
            case ModifyRejected():
                self._on_modify_rejected(event, now)
            case OrderStatusReport():
                kept = self._bind_news(event.cloid, event.oid, now)
                out.extend(self._on_status_report(event, now))
                if event.status is VenueStatus.OPEN:
                    out.extend(self._claim_stray(event.cloid, event.oid, now))
                if kept:
                    out.extend(self._apply_kept(kept, now))
            case QueryFailed():
                self._on_query_failed(event, now)
            case OpenOrders():
                out.extend(self._on_open_orders(event, now))
            case PositionSnapshot():
                out.extend(self._on_position_snapshot(event, now))
            case CancelAllDone():
                out.extend(self._on_cancel_all_done(event, now))
            case SyncFailed():
                out.extend(self._on_sync_failed(event, now))
            case FillsFetched():
                self._on_fills_fetched(event, now)
            case MalformedMessage():
                self._on_malformed(event, now)
            case LeverageInfo():
                self._believe_leverage(event, now)
            case Connected():
                self.connected = True
                self._log(now, "connection", f"connected to {event.venue}")
                self.reconciler.trigger("reconnect")
                self._reconnected_settling()
            case Disconnected():
                self.connected = False
                self.counters["disconnects"] += 1
                self._log(now, "connection", f"disconnected: {event.reason}")
            case VenueNotice():
                self.counters["venue_notices"] += 1
                self._log(now, "venue", f"{event.kind}: {event.text[:200]}")
            case FillSettled():
                self._on_fill_settled(event, now)
            case TickSizeChanged():
                out.extend(self._on_tick_size_changed(event, now))
                out.extend(self._quote(now, reacting=True))
            case HeartbeatState():
                out.extend(self._on_heartbeat(event, now))
            case _:
                assert_never(event)
        if self.position.lots != position_before:
            out.extend(self._risk(now))  # D30: judged on the event that moved it
        return self._batches(now, out) if out else []

    def tick(self, now: float) -> list[Batch]:
        out: list[Command] = []
        for outcome in self.tracker.expire(now):
            self._after(outcome, now)
        out.extend(self._timeouts(now))
        out.extend(self._due_queries(now))
        out.extend(self._sweep_timers(now))
        out.extend(self._startup_timers(now))
        out.extend(self._retry_requested_cancels(now))
        if not self.life.starting:
            reason = self.reconciler.due(now)
            if reason is not None:
                out.append(self._sync(now, reason))
            out.extend(self._fetch_fill_gaps(now))
            out.extend(self._settlement_fetch(now))
        out.extend(self._risk(now))
        out.extend(self._recovery(now))
        out.extend(self._quote(now, reacting=False))
        return self._batches(now, out) if out else []

    def operate(self, action: Action, now: float) -> list[Batch]:
        """The operator's priority path.  Cancels and kills go out on this very call."""
        out: list[Command] = []
        match action:
            case Kill():
                out.extend(self._kill(f"operator: {action.reason}", now))
            case Rearm():
                if self.kill_switch.rearm():
                    self._log(now, "kill", "kill switch re-armed by the operator")
                    if self.liquidation:
                        self._log(now, "kill", f"liquidation acknowledged: {self.liquidation}")
                        self.liquidation = ""
                    if not self._sweep.active:
                        # A sweep still in flight finishes and verifies first (D25); quoting
                        # waits.
                        self._sweep.to(SweepEvent.REARMED, now)
            case Pause():
                self.life.on(QuotingEvent.PAUSE)
                self._log(
                    now,
                    "operator",
                    "paused; resting orders " + ("cancelled" if action.cancel_orders else "kept"),
                )
                if action.cancel_orders:
                    out.extend(self._begin_sweep("pause", now, urgent=True))
            case Resume():
                was = self.life.on(QuotingEvent.RESUME)
                if was is Quoting.STOPPING:
                    self._log(now, "operator", "resume ignored: stopping")
                elif was is not Quoting.RUNNING:
                    self._log(now, "operator", "resumed quoting")
            case CancelAllOrders():
                out.extend(self._begin_sweep(f"cancel-all ({action.reason})", now, urgent=True))
            case CancelOrder():
                out.extend(self._cancel_one(action.cloid, now))
            case Quit():
                self.life.on(QuotingEvent.QUIT)
                self._log(now, "operator", f"stopping: {action.reason}; cancelling every order")
                out.extend(self._begin_sweep("quit", now, urgent=True))
            case Halt():
                self._halt(now, action.reason)
                out.extend(self._begin_sweep(f"halt: {action.reason}", now, urgent=True))
            case _:
                assert_never(action)
        return self._batches(now, out) if out else []

    def _mid_moved(self, now: float) -> None:
        bid, ask = self.book.best_bid, self.book.best_ask
        if bid is not None and ask is not None:
            self.volatility.update(now, (bid + ask) / 2)

    def _believe_leverage(self, event: LeverageInfo, now: float) -> None:
        """D14: the venue's leverage wins over the configured one, and quotes are sized with
        it: the margin a ladder needs grows as leverage falls, so sizes and the position limit
        shrink in proportion (never grow past what was configured)."""
        if event.leverage != self.leverage:
            self._log(now, "risk", f"venue leverage {event.leverage}x ({event.source[:120]})")
        self.leverage = event.leverage
        self.tier_cap = self.instrument.tier_cap_value(event.leverage)
        base = self.params.strategy
        planned = max(1, self.params.leverage)
        if event.leverage >= planned:
            self.strategy = base
            return
        scale = Fraction(event.leverage, planned)
        self.strategy = dataclasses.replace(
            base,
            size_lots=max(1, int(base.size_lots * scale)),
            size_step_lots=int(base.size_step_lots * scale),
            max_position_lots=max(1, int(base.max_position_lots * scale)),
        )
        self._log(
            now,
            "risk",
            f"quotes sized for {event.leverage}x instead of {planned}x: "
            f"size {self.instrument.size_text(self.strategy.size_lots)}, "
            f"limit {self.instrument.size_text(self.strategy.max_position_lots)}",
        )
