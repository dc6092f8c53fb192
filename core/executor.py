"""The executor: turn the desired ladder into cancels and placements, intent by intent.

An *intent* is one (side, level) of the ladder.  The executor's promises:

* never two orders for one intent that may rest on the venue at once — across retries,
  reconnects and restarts (D22): while an intent has an order whose placement is unanswered or
  unknown (D8), or whose cancel is unanswered, nothing new is sent for it;
* a re-price is one ``Modify`` (cancel-and-replace at the venue), so the venue never holds the
  old and the new quote together;
* cancels are decided first and are never held back: backoff and pause only suppress
  placements (D13);
* it never cancels an order whose placement is unanswered (a cancel that overtook its placement
  would be answered "never placed" and leave an orphan); it waits for the ack.

It decides, the maker acts: the output is plain commands, each placement with a fresh cloid.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from core.commands import Cancel, Modify, Place, TimeInForce
from core.events import Side
from core.orders import ACTIVE, OrderState, OrderTracker, TrackedOrder
from core.strategy import Quote


class SideMode(enum.Enum):
    """What the executor may do on one side this round."""

    QUOTE = "quote"  # cancel and place freely
    CANCEL_ONLY = "cancel only"  # placements blocked (backoff, limits): still cancel stale ones
    HOLD = "hold"  # touch nothing (pause that keeps resting orders, D28)


@dataclass(slots=True)
class ExecutionPlan:
    cancels: list[Cancel] = field(default_factory=list)
    placements: dict[Side, list[Place | Modify]] = field(
        default_factory=lambda: {Side.BID: [], Side.ASK: []}
    )
    waiting: int = 0  # intents left alone because an answer is outstanding

    @property
    def empty(self) -> bool:
        return not self.cancels and not self.placements[Side.BID] and not self.placements[Side.ASK]


class Executor:
    __slots__ = ("_next_cloid", "requote_threshold")

    def __init__(self, next_cloid: Callable[[], str], requote_threshold: int) -> None:
        self._next_cloid = next_cloid
        self.requote_threshold = max(1, requote_threshold)

    def plan(
        self,
        desired: dict[Side, tuple[Quote, ...]],
        modes: dict[Side, SideMode],
        tracker: OrderTracker,
        *,
        now: float = 0.0,
        cancel_retry_at: float = -1e18,
    ) -> ExecutionPlan:
        """``cancel_retry_at``: an order whose cancel the venue refused is not cancelled (nor
        modified: a modify is a cancel too) again before then (D29); its intent waits."""
        retrying = now < cancel_retry_at
        plan = ExecutionPlan()
        intents = tracker.intents
        bid_levels: set[int] = set()
        ask_levels: set[int] = set()
        for side, level in intents:
            (bid_levels if side is Side.BID else ask_levels).add(level)
        for side, levels in ((Side.BID, bid_levels), (Side.ASK, ask_levels)):
            mode = modes[side]
            if mode is SideMode.HOLD:
                continue
            wanted: dict[int, Quote] = {}
            for q in desired.get(side, ()):
                wanted[q.level] = q
                levels.add(q.level)
            quoting = mode is SideMode.QUOTE
            for level in sorted(levels):
                cloids = intents.get((side, level))
                quote = wanted.get(level)
                if cloids:
                    self._plan_intent(plan, side, quote, quoting, tracker, cloids, retrying)
                elif quoting and quote is not None:
                    plan.placements[side].append(self._place(side, quote))
        return plan

    def _plan_intent(
        self,
        plan: ExecutionPlan,
        side: Side,
        quote: Quote | None,
        quoting: bool,
        tracker: OrderTracker,
        cloids: dict[str, None],
        retrying: bool,
    ) -> None:
        """One intent whose orders may rest (``cloids``, in placement order): keep the one
        that matches ``quote``, re-price one in a single modify, cancel the rest."""
        by_cloid = tracker.by_cloid
        orders = [by_cloid[c] for c in cloids]
        for o in orders:
            state = o.state
            if state is OrderState.PENDING_NEW or state is OrderState.CANCEL_PENDING:
                plan.waiting += 1
                return
        active = [o for o in orders if o.state in ACTIVE]
        keep: TrackedOrder | None = None
        if quote is not None:
            price, size, reduce_only = quote.price, quote.size, quote.reduce_only
            threshold = self.requote_threshold
            for o in active:
                if (
                    not o.cancel_requested
                    and abs(o.price - price) < threshold
                    and o.size == size
                    and o.reduce_only == reduce_only
                ):
                    keep = o
                    break
        if retrying:
            for o in active:
                if o is not keep and o.cancel_failures:
                    plan.waiting += 1  # D29: a refused cancel is retried when its pacing allows
                    return
        placing = quoting and quote is not None
        cancelled = False
        for order in active:
            if order is keep:
                continue
            if (
                placing
                and keep is None
                and quote is not None
                and order.oid is not None
                and not order.cancel_requested
            ):
                # Re-price in one step: the venue swaps the quotes atomically.
                plan.placements[side].append(self._modify(order, order.oid, quote))
                keep = order
                continue
            plan.cancels.append(Cancel(order.cloid, order.oid))
            cancelled = True
        if placing and keep is None and quote is not None and not cancelled:
            plan.placements[side].append(self._place(side, quote))

    def _place(self, side: Side, quote: Quote) -> Place:
        return Place(
            self._next_cloid(),
            side,
            quote.price,
            quote.size,
            TimeInForce.ALO,
            quote.reduce_only,
            quote.level,
        )

    def _modify(self, order: TrackedOrder, oid: int, quote: Quote) -> Modify:
        return Modify(
            order.cloid,
            oid,
            self._next_cloid(),
            order.side,
            quote.price,
            quote.size,
            TimeInForce.ALO,
            quote.reduce_only,
            quote.level,
        )
