"""The reaction's fast paths decide exactly what the plain code they replaced decided (issue 22).

* ``Executor.plan`` (one pass per intent, levels from the intent index) against the reference
  diff it replaced, written out here as it was: the same commands, in the same order, with the
  same cloids, over random ladders, modes and tracked orders in every state;
* ``SpreadPolicy.side`` (which hands out the same immutable ``SideSpread`` again while nothing
  moved it) against the spread computed afresh;
* ``MarketMaker.handle`` tries its ``match`` cases in order of frequency: that is only sound
  while no event class derives from another;
* ``CloidSource`` formats its prefix once: the ids are the ones the full format gave.
"""

from __future__ import annotations

import itertools
from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import Cancel, Modify, Place, TimeInForce
from core.events import Event, Side
from core.executor import ExecutionPlan, Executor, SideMode
from core.maker import CloidSource
from core.orders import OrderState, OrderTracker, TrackedOrder
from core.spread import SideSpread, SpreadParams, SpreadPolicy
from core.strategy import Quote


def _reference_plan(
    executor: Executor,
    next_cloid: itertools.count[int],
    desired: dict[Side, tuple[Quote, ...]],
    modes: dict[Side, SideMode],
    tracker: OrderTracker,
    now: float,
    cancel_retry_at: float,
) -> ExecutionPlan:
    """The executor's diff as it was before the fast path, intent by intent."""

    def cloid() -> str:
        return f"c{next(next_cloid)}"

    def matches(order: TrackedOrder, quote: Quote) -> bool:
        return (
            abs(order.price - quote.price) < executor.requote_threshold
            and order.size == quote.size
            and order.reduce_only == quote.reduce_only
        )

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
            quote = wanted.get(level)
            orders = tracker.live_for_intent(side, level)
            if any(
                o.state is OrderState.PENDING_NEW or o.state is OrderState.CANCEL_PENDING
                for o in orders
            ):
                plan.waiting += 1
                continue
            active = [o for o in orders if o.state.is_active]
            placing = mode is SideMode.QUOTE and quote is not None
            keep: TrackedOrder | None = None
            if quote is not None:
                keep = next(
                    (o for o in active if not o.cancel_requested and matches(o, quote)), None
                )
            if retrying and any(o is not keep and o.cancel_failures for o in active):
                plan.waiting += 1
                continue
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
                    plan.placements[side].append(
                        Modify(
                            cloid=order.cloid,
                            oid=order.oid,
                            new_cloid=cloid(),
                            side=order.side,
                            price=quote.price,
                            size=quote.size,
                            tif=TimeInForce.ALO,
                            reduce_only=quote.reduce_only,
                            level=quote.level,
                        )
                    )
                    keep = order
                    continue
                plan.cancels.append(Cancel(order.cloid, order.oid))
                cancelled = True
            if placing and keep is None and quote is not None and not cancelled:
                plan.placements[side].append(
                    Place(
                        cloid=cloid(),
                        side=side,
                        price=quote.price,
                        size=quote.size,
                        tif=TimeInForce.ALO,
                        reduce_only=quote.reduce_only,
                        level=level,
                    )
                )
    return plan


_order = st.fixed_dictionaries(
    {
        "state": st.sampled_from(list(OrderState)),
        "price": st.integers(95, 105),
        "size": st.sampled_from([5, 10]),
        "reduce_only": st.booleans(),
        "oid": st.one_of(st.none(), st.integers(1, 10**6)),
        "cancel_requested": st.booleans(),
        "cancel_failures": st.sampled_from([0, 0, 1]),
    }
)
_intent = st.tuples(st.sampled_from(list(Side)), st.integers(0, 5))
_quote = st.tuples(st.integers(95, 105), st.sampled_from([5, 10]), st.booleans())


@settings(max_examples=400, deadline=None)
@given(
    intents=st.dictionaries(_intent, st.lists(_order, min_size=0, max_size=3), max_size=8),
    wanted=st.dictionaries(_intent, _quote, max_size=8),
    modes=st.tuples(st.sampled_from(list(SideMode)), st.sampled_from(list(SideMode))),
    threshold=st.integers(1, 3),
    retrying=st.booleans(),
)
def test_the_executor_plans_what_the_reference_diff_plans(
    intents: dict[tuple[Side, int], list[dict[str, object]]],
    wanted: dict[tuple[Side, int], tuple[int, int, bool]],
    modes: tuple[SideMode, SideMode],
    threshold: int,
    retrying: bool,
) -> None:
    tracker = OrderTracker()
    n = 0
    for (side, level), rows in intents.items():
        cloids: dict[str, None] = {}
        for row in rows:
            n += 1
            order = TrackedOrder(f"o{n}", side, 100, 10, 0.0, level=level)
            for name, value in row.items():
                setattr(order, name, value)
            tracker.by_cloid[order.cloid] = order
            cloids[order.cloid] = None
        if cloids:
            tracker.intents[(side, level)] = cloids
    desired: dict[Side, tuple[Quote, ...]] = {
        side: tuple(
            Quote(side, level, price, size, reduce_only)
            for (s, level), (price, size, reduce_only) in sorted(
                wanted.items(), key=lambda kv: kv[0][1]
            )
            if s is side
        )
        for side in Side
    }
    side_modes = {Side.BID: modes[0], Side.ASK: modes[1]}
    retry_at = 1.0 if retrying else -1.0
    fast_ids = itertools.count()
    fast = Executor(lambda: f"c{next(fast_ids)}", threshold).plan(
        desired, side_modes, tracker, now=0.0, cancel_retry_at=retry_at
    )
    reference = _reference_plan(
        Executor(lambda: "unused", threshold),
        itertools.count(),
        desired,
        side_modes,
        tracker,
        0.0,
        retry_at,
    )
    assert fast == reference


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(0.0, 40.0)),  # sigma
            st.floats(0.5, 6.0),  # the cascade ratio of bids' aggressors
            st.floats(0.5, 6.0),  # ... and of asks'
            st.integers(1, 12),  # the configured half-spread
        ),
        min_size=1,
        max_size=12,
    ),
    action=st.sampled_from(["pull", "widen"]),
)
def test_a_kept_side_spread_equals_the_spread_computed_afresh(
    steps: list[tuple[float | None, float, float, int]], action: str
) -> None:
    params = SpreadParams(
        volatility_multiplier=0.5,
        cap_ticks=10,
        cascade_enter=3.0,
        cascade_exit=1.5,
        cascade_hold_s=0.5,
        cascade_action=action,
    )
    policy = SpreadPolicy(params)
    for i, (sigma, bid_ratio, ask_ratio, configured) in enumerate(steps):
        policy.update(float(i), sigma, {Side.ASK: bid_ratio, Side.BID: ask_ratio})
        for side in Side:
            got = policy.side(side, configured)
            half, reason = configured, ""
            if sigma is not None:
                widened = min(params.cap_ticks, round(params.volatility_multiplier * sigma))
                if widened > configured:
                    half, reason = widened, f"volatility: σ1s {sigma:.0f}t"
            if policy.in_cascade(side):
                assert got.reason.startswith("cascade: intensity")
            else:
                assert got == SideSpread(half, False, reason)


def test_no_event_class_derives_from_another_so_the_order_of_handles_cases_decides_nothing():
    kinds = get_args(Event)
    for a, b in itertools.permutations(kinds, 2):
        assert not issubclass(a, b), (a, b)


@given(prefix=st.integers(0, 2**40), count=st.integers(1, 40))
def test_cloids_are_the_full_format_of_prefix_and_counter(prefix: int, count: int) -> None:
    source = CloidSource(prefix)
    for n in range(1, count + 1):
        assert source() == f"0x{prefix & 0xFFFFFFFF:08x}{n:024x}"
