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
from core.orders import OrderState, OrderTracker, TrackedOrder
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
        levels_in_use: dict[Side, set[int]] = {Side.BID: set(), Side.ASK: set()}
        for side, level in tracker.intents:
            levels_in_use[side].add(level)
        for side in (Side.BID, Side.ASK):
            mode = modes[side]
            if mode is SideMode.HOLD:
                continue
            wanted = {q.level: q for q in desired.get(side, ())}
            for level in sorted(levels_in_use[side] | set(wanted)):
                self._plan_intent(
                    plan,
                    side,
                    level,
                    wanted.get(level),
                    mode,
                    tracker.live_for_intent(side, level),
                    retrying,
                )
        return plan

    def _plan_intent(
        self,
        plan: ExecutionPlan,
        side: Side,
        level: int,
        quote: Quote | None,
        mode: SideMode,
        orders: list[TrackedOrder],
        retrying: bool,
    ) -> None:
        if any(
            o.state is OrderState.PENDING_NEW or o.state is OrderState.CANCEL_PENDING
            for o in orders
        ):
            plan.waiting += 1
            return
        active = [o for o in orders if o.state.is_active]
        placing = mode is SideMode.QUOTE and quote is not None
        keep: TrackedOrder | None = None
        if quote is not None:
            keep = next(
                (o for o in active if not o.cancel_requested and self._matches(o, quote)), None
            )
        if retrying and any(o is not keep and o.cancel_failures for o in active):
            plan.waiting += 1  # D29: a refused cancel is retried when its pacing allows
            return
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
                plan.placements[side].append(self._modify(order, quote))
                keep = order
                continue
            plan.cancels.append(Cancel(order.cloid, order.oid))
            cancelled = True
        if placing and keep is None and quote is not None and not cancelled:
            plan.placements[side].append(
                Place(
                    cloid=self._next_cloid(),
                    side=side,
                    price=quote.price,
                    size=quote.size,
                    tif=TimeInForce.ALO,
                    reduce_only=quote.reduce_only,
                    level=level,
                )
            )

    def _matches(self, order: TrackedOrder, quote: Quote) -> bool:
        return (
            abs(order.price - quote.price) < self.requote_threshold
            and order.size == quote.size
            and order.reduce_only == quote.reduce_only
        )

    def _modify(self, order: TrackedOrder, quote: Quote) -> Modify:
        assert order.oid is not None
        return Modify(
            cloid=order.cloid,
            oid=order.oid,
            new_cloid=self._next_cloid(),
            side=order.side,
            price=quote.price,
            size=quote.size,
            tif=TimeInForce.ALO,
            reduce_only=quote.reduce_only,
            level=quote.level,
        )
