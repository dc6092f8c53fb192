"""Quoting: what each side may do now, the price fences, and the orders that carry it out.

``_sides`` asks the lifecycle's priority (``core.maker.lifecycle.why_not_quoting``) and then the
side's own gates (backoff or hold, D11-D13; the notional limit, D17; a price rejection being
re-priced) for one reason per side (D27) and what the executor may still do there
(``SideMode``); ``_fenced`` keeps a placement from crossing the book we know (D23);
``core.executor`` diffs wanted quotes against live orders, cancels first.  ``stalls`` names each
wanted level with nothing resting and why (D31).  Reduce-only recovery (D15) sends its IOC from
here.  An operator's cancel of one order is retried, paced, whatever the side's mode.
"""

from __future__ import annotations

from core.commands import (
    Command,
    Modify,
    Place,
    TimeInForce,
)
from core.events import (
    Side,
)
from core.executor import SideMode
from core.maker.base import MakerBase
from core.maker.lifecycle import (
    why_not_quoting,
)
from core.orders import OrderState, TrackedOrder
from core.risk import notional_blocks_increase
from core.spread import SideSpread
from core.strategy import Quote, desired_ladder
from core.units import Rounding


class Quoter(MakerBase):
    """The maker's quoting room: side plans, stalls, fences, cancels of one order, recovery."""

    def _quote(self, now: float, *, reacting: bool) -> list[Command]:
        if reacting and now - self._last_quote < self.params.min_requote_interval:
            return []
        self._last_quote = now
        self._read_signals(now)
        desired, modes, _ = self._sides(now)
        plan = self.executor.plan(
            desired, modes, self.tracker, now=now, cancel_retry_at=self._cancel_retry_at
        )
        out: list[Command] = []
        tracker = self.tracker
        for cancel in plan.cancels:
            order = tracker.get(cancel.cloid, cancel.oid)
            if order is not None:
                out.append(self._cancel(order, now))
        deadline = now + self.params.answer_timeout
        deadlines = self._answer_deadlines
        counters = self.counters
        for side in (Side.BID, Side.ASK):
            for cmd in plan.placements[side]:
                if isinstance(cmd, Modify):
                    tracker.track_modify(cmd, now)
                    counters["modifies_sent"] += 1
                    # D8/D24: both legs of an unanswered modify are asked about, the
                    # replacement (unknown placement) as well as the original (its cancel).
                    deadlines.append((deadline, cmd.new_cloid))
                else:
                    tracker.track_place(cmd, now)
                    counters["places_sent"] += 1
                deadlines.append((deadline, cmd.cloid))
                out.append(cmd)
        return out

    def _read_signals(self, now: float) -> None:
        """Issue 20: the spread policy takes the signals now (its only state change, here on
        the handle and tick path so that a replay decides the same)."""
        vol = self.volatility
        moved = self.spread.update(
            now,
            vol.sigma_ticks(1.0) if vol.ready else None,
            {
                side: hawkes.ratio(now) if hawkes.ready(now) else 1.0
                for side, hawkes in self.cascade.items()
            },
        )
        for side, entered in moved:
            action = "pulled" if self.params.spread.cascade_action == "pull" else "widened"
            self.counters["cascades"] += entered
            spread = self.spread.side(side, self.strategy.half_spread_ticks)
            said = f"{spread.reason}: {side.value}s {action}" if entered else "cascade over"
            self._log(now, "strategy", f"{side.value} side: {said}")

    def spreads(self) -> dict[Side, SideSpread]:
        """Each side's half-spread now and why it is not the configured one."""
        configured = self.strategy.half_spread_ticks
        return {side: self.spread.side(side, configured) for side in (Side.BID, Side.ASK)}

    def _sides(
        self, now: float
    ) -> tuple[dict[Side, tuple[Quote, ...]], dict[Side, SideMode], dict[Side, str | None]]:
        """What each side should rest, what the executor may do there, and the one reason a
        side may not quote (D27).  No side effects but dropping an expired price fence, so that
        ``view`` can ask it too and always show the reason that holds *now*."""
        reason, mode = why_not_quoting(self._facts(now))
        bid, ask = Side.BID, Side.ASK
        desired: dict[Side, tuple[Quote, ...]] = {bid: (), ask: ()}
        modes = {bid: mode, ask: mode}
        reasons: dict[Side, str | None] = {bid: reason, ask: reason}
        if reason is None:
            spreads = self.spreads()
            book = self.book
            best_bid, best_ask = book.best_bid, book.best_ask
            lots = self.position.lots
            ladder = desired_ladder(
                self.instrument,
                best_bid,
                best_ask,
                lots,
                self.strategy,
                bid_size=book.size_at(bid, best_bid or 0),
                ask_size=book.size_at(ask, best_ask or 0),
                tier_lots=self.tier_lots(),
                bid_half_spread=spreads[bid].half_spread,
                ask_half_spread=spreads[ask].half_spread,
                sellable=lots - self.settlements.bought,
            )
            notional_blocked = notional_blocks_increase(self.params.risk, lots, book.mid)
            rejections = self.rejections
            for side, quotes, why in (
                (bid, ladder.bids, ladder.bid_reason),
                (ask, ladder.asks, ladder.ask_reason),
            ):
                quotes = self._fenced(side, quotes, now)
                increases = (side is bid) == (lots >= 0)
                block = rejections.placement_block(side, now)
                if notional_blocked and increases:
                    reasons[side] = "notional limit"
                    quotes = ()
                elif block is not None:
                    reasons[side] = block.describe()
                    modes[side] = SideMode.CANCEL_ONLY
                elif spreads[side].pulled:
                    reasons[side] = spreads[side].reason  # D27: "cascade: intensity 4.2x ..."
                    quotes = ()
                elif why is not None:
                    reasons[side] = why.value
                elif not quotes:
                    reasons[side] = "re-pricing after a price rejection"
                elif self._only_cancels_in_flight(side):
                    reasons[side] = self._cancel_wait_reason(side, now)
                desired[side] = quotes
        return desired, modes, reasons

    def side_plan(self, now: float) -> tuple[dict[Side, tuple[Quote, ...]], dict[Side, str | None]]:
        """What each side should rest now, and the one reason a side may not quote (D27)."""
        desired, _, reasons = self._sides(now)
        return desired, reasons

    def stalls(
        self,
        now: float,
        desired: dict[Side, tuple[Quote, ...]] | None = None,
        reasons: dict[Side, str | None] | None = None,
    ) -> dict[str, str]:
        """D27, D31: every level the ladder wants, on a side that may quote, that has no order
        resting or on its way, with the one reason it waits -- never a silent stall.  (A level
        with none of these is about to be placed by the executor.)"""
        if desired is None or reasons is None:
            desired, _, reasons = self._sides(now)
        out: dict[str, str] = {}
        for side in (Side.BID, Side.ASK):
            if reasons[side] is not None:
                continue  # the side says why, for all its levels
            for quote in desired[side]:
                why = self._intent_wait(side, quote.level, now)
                if why is not None:
                    out[f"{side.value} L{quote.level}"] = why
        return out

    def _intent_wait(self, side: Side, level: int, now: float) -> str | None:
        orders = self.tracker.live_for_intent(side, level)
        if any(quotes_now(o) for o in orders):
            return None
        for order in orders:
            unsettled = self._unsettled.get(order.cloid)
            if unsettled is not None:
                count, what = unsettled
                due = self._queries.get(order.cloid)
                when = f", next in {max(0.0, due - now):.1f}s" if due is not None else ""
                return f"asking the venue about {order.cloid}: {what} ({count}x{when})"
        if any(o.cancel_failures and o.state.is_active for o in orders):
            wait = max(0.0, self._cancel_retry_at - now)
            return f"cancel refused by the venue; retry in {wait:.1f}s"
        unknown = [o.unknown_since for o in orders if o.unknown_since is not None]
        if unknown:
            return f"placement outcome unknown for {now - min(unknown):.0f}s; asking the venue"
        if any(o.state is OrderState.CANCEL_PENDING for o in orders):
            return "waiting for a cancel answer"
        return None

    def _cancel_wait_reason(self, side: Side, now: float) -> str:
        """D27/D31: why a side whose orders all wait for cancel answers waits -- the venue's
        answers that settle nothing, when there are such, say more than "waiting"."""
        for intent_side, level in self.tracker.intents:
            if intent_side is side:
                why = self._intent_wait(side, level, now)
                if why is not None and why.startswith("asking"):
                    return f"reconciling ({why})"
        return "reconciling (waiting for cancel answers)"

    def _only_cancels_in_flight(self, side: Side) -> bool:
        """D27: the side's intents hold nothing but unanswered cancels, so the executor waits
        for the venue before it quotes again (a stall that must not be silent)."""
        tracker = self.tracker
        if not tracker.state_counts[OrderState.CANCEL_PENDING]:
            return False  # no cancel of ours is unanswered, on either side
        waiting = False
        for (intent_side, _), cloids in tracker.intents.items():
            if intent_side is not side:
                continue
            for cloid in cloids:
                if tracker.by_cloid[cloid].state is not OrderState.CANCEL_PENDING:
                    return False  # something of this side may rest or is about to
                waiting = True
        return waiting

    def _fenced(self, side: Side, quotes: tuple[Quote, ...], now: float) -> tuple[Quote, ...]:
        """D23/S7: after a PriceError at price P, quote strictly behind P for a while, so a
        stale book never makes us resend the very price the venue just refused.  Levels that
        the fence pushes onto each other are pushed further out, one valid price each, so every
        level is re-priced rather than dropped (as the strategy does for its own grid)."""
        fence = self._fences.get(side)
        if fence is None or not quotes:
            return quotes
        price, until = fence
        if now >= until:
            del self._fences[side]
            return quotes
        out: list[Quote] = []
        bound = price  # every quote strictly behind this (the fence, then the level before)
        for q in quotes:
            p = q.price
            inst = self.instrument
            if side is Side.BID:
                if p >= bound:
                    p = inst.round_ticks(bound - 1, Rounding.DOWN)
                if p < inst.min_ticks:
                    break
            else:
                if p <= bound:
                    p = inst.round_ticks(bound + 1, Rounding.UP)
                if inst.bounded and p > inst.max_ticks:
                    break  # an outcome share is worth at most 1: no price behind the fence
            bound = p
            out.append(Quote(q.side, q.level, p, q.size, q.reduce_only) if p != q.price else q)
        return tuple(out)

    def _cancel_one(self, cloid: str, now: float) -> list[Command]:
        order = self.tracker.get(cloid)
        if order is None or order.state.is_terminal:
            self._log(now, "operator", "cancel: no such live order", cloid)
            return []
        if order.state is OrderState.PENDING_NEW and order.oid is None:
            self._log(now, "operator", "cancel by cloid of an unanswered placement", cloid)
        self._log(now, "operator", "cancel sent", cloid, order.oid)
        order.cancel_requested = True  # refused (a 429)?  retried, paced, until it goes (D29)
        self._requested[order.cloid] = None
        return [self._cancel(order, now)]

    def _retry_requested_cancels(self, now: float) -> list[Command]:
        """D13/D29: an operator's cancel the venue refused is sent again when the retry pacing
        allows, whatever the side's mode (paused sides are not touched by the executor) and
        whether or not the order quotes a ladder level (an adopted one does not)."""
        if not self._requested or now < self._cancel_retry_at:
            return []
        out: list[Command] = []
        for cloid in list(self._requested):
            order = self.tracker.by_cloid.get(cloid)
            if order is None or order.state.is_terminal:
                del self._requested[cloid]
            elif order.state.is_active:
                self._log(now, "operator", "cancel refused earlier; sent again", cloid, order.oid)
                out.append(self._cancel(order, now))
        return out

    def _recovery(self, now: float) -> list[Command]:
        if not self.params.recovery_enabled or self.life.starting or self.life.stopping:
            return []
        out: list[Command] = []
        if self.recovery.needs_position_refresh and not self._position_refresh_asked:
            self._position_refresh_asked = True
            reason = "reduce-only said our position is stale (D26)"
            if self.reconciler.in_flight_since is None or self.reconciler.timed_out(now):
                out.append(self._sync(now, reason))
            else:
                self.reconciler.trigger(reason)  # D29: coalesced with the sync in flight
        if (
            self.kill_switch.latched
            or self.life.halted_reason
            or self.life.paused
            or self._sweep.active
        ):
            return out
        order = self.recovery.update(
            self.position.lots,
            self.position_limit(),
            self.book.best_bid,
            self.book.best_ask,
            now,
        )
        if order is None:
            return out
        inst = self.instrument
        rounding = Rounding.UP if order.side is Side.BID else Rounding.DOWN
        price = inst.round_ticks(order.price, rounding)
        if inst.bounded:
            price = min(price, inst.max_ticks)  # a buy through the touch, at most 1 - tick
        if price < inst.min_ticks:
            return out
        size = order.size
        if order.side is Side.ASK and not inst.shortable:
            # Shares of a buy still settling cannot be sold yet (D38; reference pitfall 4).
            size = min(size, self.position.lots - self.settlements.bought)
            if size < max(1, inst.min_lots):
                return out
        place = Place(
            cloid=self.next_cloid(),
            side=order.side,
            price=price,
            size=size,
            tif=TimeInForce.IOC,
            reduce_only=order.reduce_only,
        )
        self.tracker.track_place(place, now)
        self._answer_deadlines.append((now + self.params.answer_timeout, place.cloid))
        self.counters["recovery_iocs"] += 1
        self.counters["places_sent"] += 1
        self._log(now, "recovery", f"IOC {order.side.value} {inst.size_text(size)}", place.cloid)
        out.append(place)
        return out


def quotes_now(order: TrackedOrder) -> bool:
    """Does ``order`` quote its level: resting, or placed and waiting for its first answer
    (not one whose outcome is already unknown, D8, nor one the operator asked to cancel)?"""
    if order.cancel_requested:
        return False
    if order.state is OrderState.PENDING_NEW:
        return order.unknown_since is None
    return order.state.is_active
