"""D11, D12, D14 (what a rejection does to a side), D15 (recovery), D23 (maker-only) and D26
(reduce-only sizes): the gates of ``core/maker/quoting.py``.

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.actions import Kill, Pause, Resume
from core.commands import Command, Modify, Place, TimeInForce
from core.events import (
    AckStatus,
    BookSnapshot,
    CancelAck,
    LeverageInfo,
    ModifyAck,
    PlaceAck,
    PlaceRejected,
    RejectionClass,
    Side,
)
from core.orders import OrderState
from core.recovery import RecoveryState
from tests.maker.kit import (
    MARGIN,
    OI_CAP,
    POST_ONLY,
    RATE_LIMITED,
    STRANGE,
    armed_recovery,
    batch_of,
    first_place,
    unmatched_fill,
)
from tests.maker_harness import (
    ASK,
    BID,
    INSTRUMENT,
    Rig,
    assert_idle_sides_say_why,
    book,
    cancels,
    fill,
    make_config,
    make_params,
    placements,
    places,
    running_maker,
)

# ==== D11: classification effects ===============================================================


def _reject_first_bid(s: Rig, first: list, text: str, rclass: RejectionClass) -> Place:
    (bid,) = places(first, Side.BID)
    (ask,) = places(first, Side.ASK)
    s.handle(PlaceRejected(bid.cloid, text, rclass, batch_of(s, bid)), s.now + 0.01)
    s.handle(PlaceAck(ask.cloid, 200, AckStatus.RESTING), s.now)
    return bid


def test_D11_position_limit_stops_the_side_without_backoff() -> None:
    """D11: PositionLimit stops quoting that side ("position limit"), with no backoff; the other
    side keeps quoting."""
    s, first = running_maker()
    _reject_first_bid(s, first, OI_CAP, RejectionClass.POSITION_LIMIT)
    sent = s.run(s.now + 10)
    assert places(sent, Side.BID) == []
    view = s.view()
    assert view.side_reasons[Side.BID].startswith("position limit")
    bid_backoff = next(b for b in view.backoff if b.side is Side.BID)
    assert bid_backoff.remaining == 0.0  # a hold, not a backoff
    assert bid_backoff.rclass is RejectionClass.POSITION_LIMIT
    assert view.side_reasons[Side.ASK] is None


def test_D11_margin_backs_off_that_side_only() -> None:
    """D11: Margin is transient: that side backs off, the other side does not."""
    s, first = running_maker()
    _reject_first_bid(s, first, MARGIN, RejectionClass.MARGIN)
    t = s.now
    assert s.maker.rejections.placement_block(Side.BID, t) is not None
    assert s.maker.rejections.placement_block(Side.ASK, t) is None
    assert s.view().side_reasons[Side.BID].startswith("backoff Margin")
    again = first_place(s, Side.BID, t + 3)
    assert again is not None and s.now >= t + s.maker.params.rejection.backoff_base


def test_D11_single_price_error_reprices_without_backoff_repeated_ones_back_off() -> None:
    """D11: one PriceError re-prices on the next tick with no backoff; when it repeats
    (``price_error_threshold`` batches in a row) the side backs off."""
    s, first = running_maker()
    bid = _reject_first_bid(s, first, POST_ONLY, RejectionClass.PRICE_ERROR)
    assert s.maker.rejections.placement_block(Side.BID, s.now) is None
    threshold = s.maker.params.rejection.price_error_threshold
    for n in range(2, threshold + 1):
        nxt = places(s.tick(s.now + 0.1), Side.BID)
        assert len(nxt) == 1 and nxt[0].price < bid.price, "re-priced behind the refused one"
        bid = nxt[0]
        s.handle(
            PlaceRejected(bid.cloid, POST_ONLY, RejectionClass.PRICE_ERROR, batch_of(s, bid)),
            s.now + 0.01,
        )
        blocked = s.maker.rejections.placement_block(Side.BID, s.now)
        assert (blocked is not None) is (n >= threshold)
    assert s.view().side_reasons[Side.BID].startswith("backoff PriceError")


def test_D11_rate_limit_backs_off_all_placements() -> None:
    """D11: RateLimit backs off every placement, both sides."""
    s, first = running_maker()
    _reject_first_bid(s, first, RATE_LIMITED, RejectionClass.RATE_LIMIT)
    assert s.maker.rejections.placement_block(Side.ASK, s.now) is not None
    sent = s.handle(book(BID + 4, ASK + 4), s.now + 0.2)  # the resting ask is now stale
    assert placements(sent) == []
    assert cancels(sent), "stale quotes are still cancelled"
    view = s.view()
    assert all("RateLimit" in (view.side_reasons[side] or "") for side in Side)


def test_D11_other_backs_off_and_keeps_the_raw_text() -> None:
    """D11: an unknown text is Other, backs off, and the raw message reaches the operator."""
    s, first = running_maker()
    _reject_first_bid(s, first, STRANGE, RejectionClass.OTHER)
    view = s.view()
    assert s.maker.rejections.placement_block(Side.BID, s.now) is not None
    assert view.rejection_counts[RejectionClass.OTHER] == 1
    assert view.rejection_texts[-1].reason == STRANGE
    assert view.rejection_texts[-1].side is Side.BID


# ==== D12: batch = one event, exponential backoff ===============================================


def test_D12_backoff_grows_exponentially_caps_and_resets_on_success() -> None:
    """D12: each rejection event doubles the side's wait up to the cap; the countdown is
    visible and decreasing; an acceptance ends the run."""
    config = make_config(backoff={"base_s": 1.0, "factor": 2.0, "cap_s": 3.0})
    s, first = running_maker(make_params(config=config))
    (bid,) = places(first, Side.BID)
    s.ack_all(places(first, Side.ASK), 300)
    windows = []
    ask_view = None
    for _ in range(4):
        s.handle(PlaceRejected(bid.cloid, MARGIN, RejectionClass.MARGIN, batch_of(s, bid)))
        ask_view = next(b for b in s.view().backoff if b.side is Side.BID)
        windows.append(round(ask_view.remaining, 6))
        t = s.now
        s.run(t + 0.5)
        later = next(b for b in s.view().backoff if b.side is Side.BID).remaining
        assert later == pytest.approx(windows[-1] - 0.5)  # a countdown
        nxt = first_place(s, Side.BID, t + 10)
        assert nxt is not None
        bid = nxt
    assert windows == [1.0, 2.0, 3.0, 3.0]
    assert ask_view is not None and ask_view.consecutive == 4

    s.handle(PlaceAck(bid.cloid, 301, AckStatus.RESTING), s.now + 0.01)
    reset = next(b for b in s.view().backoff if b.side is Side.BID)
    assert (reset.consecutive, reset.remaining, reset.rclass) == (0, 0.0, None)


# ==== D14: believe the venue's leverage =========================================================


def test_D14_venue_leverage_replaces_the_configured_one() -> None:
    """D14: when the venue says it applies another leverage, the maker believes it (and shows
    it), whatever the configuration said."""
    s, _ = running_maker()
    assert s.view().leverage == 5
    s.handle(LeverageInfo(3, "Max leverage at current position size is 3x"), s.now + 0.01)
    assert s.view().leverage == 3
    assert any("3x" in e.text for e in s.view().log)


def test_D14_quotes_are_sized_with_the_venues_leverage() -> None:
    """D14: "size with it": at 3x instead of the configured 5x a ladder needs 5/3 the margin,
    so quote sizes and the position limit shrink to 3/5; a higher figure never grows them."""
    s, _ = running_maker()
    planned = s.maker.params.strategy
    s.handle(LeverageInfo(3, "Max leverage at current position size is 3x"), s.now + 0.01)
    assert s.maker.strategy.size_lots == max(1, planned.size_lots * 3 // 5)
    assert s.maker.strategy.max_position_lots == max(1, planned.max_position_lots * 3 // 5)
    sent = s.tick(s.now + 1.0)
    assert all(p.size <= s.maker.strategy.size_lots for p in placements(sent) if p.level == 0)
    s.handle(LeverageInfo(20, "venue"), s.now + 1.1)
    assert s.maker.strategy == planned


# ==== D15: stuck reduce-only recovery (beyond S12) ==============================================


def test_D15_recovery_gives_up_after_max_attempts() -> None:
    """D15: IOCs that never fill are retried after each cooldown up to max_attempts, then
    recovery shows GaveUp and sends nothing more."""
    s = armed_recovery(max_attempts=2, cooldown_s=1.0)
    iocs: list[Place] = []
    for _ in range(40):
        for p in places(s.run(s.now + 0.1)):
            if p.tif is TimeInForce.IOC:
                iocs.append(p)
                s.handle(PlaceAck(p.cloid, 700 + len(iocs), AckStatus.FILLED), s.now + 0.01)
    assert len(iocs) == 2
    assert s.view().recovery.state is RecoveryState.GAVE_UP
    assert s.view().recovery.attempts == 2


def test_D15_no_recovery_ioc_while_killed_or_paused() -> None:
    """D15/D18/D28: recovery never overrides the kill switch or a pause."""
    s = armed_recovery()
    s.operate(Pause(), s.now + 0.01)
    assert [p for p in places(s.run(s.now + 3)) if p.tif is TimeInForce.IOC] == []
    s.operate(Resume(), s.now + 0.01)
    s.operate(Kill(), s.now + 0.01)
    assert placements(s.run(s.now + 3)) == []


def test_D15_position_back_inside_the_limit_disarms() -> None:
    """D15: if the position comes back inside the limit before an IOC is needed, recovery
    stands down without sending one."""
    s = armed_recovery()
    s.handle(unmatched_fill(5000, Side.ASK, 15), s.now + 0.01)
    sent = s.run(s.now + 0.5)
    assert [p for p in places(sent) if p.tif is TimeInForce.IOC] == []
    assert s.maker.recovery.state is RecoveryState.IDLE


# ==== D23: maker-only ===========================================================================


def _check_maker_only(s: Rig, cmds: list[Command]) -> None:
    bid, ask = s.maker.book.best_bid, s.maker.book.best_ask
    for c in placements(cmds):
        if c.tif is not TimeInForce.ALO:
            continue
        if c.side is Side.BID:
            assert ask is None or c.price < ask, f"bid {c.price} would take the ask {ask}"
        else:
            assert bid is None or c.price > bid, f"ask {c.price} would take the bid {bid}"
        assert INSTRUMENT.is_valid_ticks(c.price)


_STEP = st.tuples(
    st.integers(-20, 20),  # mid move, ticks
    st.integers(1, 12),  # half spread of the market, ticks
    st.integers(1, 60),  # size at the best bid
    st.integers(1, 60),  # size at the best ask
    st.sampled_from(["ack", "ack", "ack", "fill", "price-error", "tick"]),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_STEP, min_size=5, max_size=40))
def test_D23_no_alo_quote_ever_crosses_the_touch(steps: list) -> None:
    """D23: over random book moves, fills (skew, limits, reduce-only) and post-only
    rejections (price fences), no ALO bid is ever sent at or above the best ask and no ALO ask
    at or below the best bid the maker knows.  Along the way: one quoting order per intent,
    and after each tick every side without quotes says why (D27)."""
    config = make_config(
        strategy={
            "levels": 3,
            "half_spread_ticks": 1,
            "level_spacing_ticks": 1,
            "skew_ticks_per_unit": "3",
        },
        risk={"max_position": "2.0"},
    )
    s, first = running_maker(make_params(config=config))
    _check_maker_only(s, first)
    mid, oid, tid = (BID + ASK) // 2, 10_000, 1
    pending: list[Command] = list(first)
    for move, half, bid_size, ask_size, answer in steps:
        mid = max(100, mid + move)
        snapshot = BookSnapshot(((mid - half, bid_size),), ((mid + half, ask_size),))
        reacted = s.handle(snapshot, s.now + 0.06)
        _check_maker_only(s, reacted)
        pending += reacted
        for cmd in placements(pending):
            oid += 1
            cloid = cmd.new_cloid if isinstance(cmd, Modify) else cmd.cloid
            if answer == "price-error":
                rejected = PlaceRejected(cloid, POST_ONLY, RejectionClass.PRICE_ERROR)
                out = s.handle(rejected, s.now + 0.001)
            elif isinstance(cmd, Modify):
                out = s.handle(ModifyAck(cmd.cloid, cloid, oid, AckStatus.RESTING))
            else:
                out = s.handle(PlaceAck(cloid, oid, AckStatus.RESTING))
            _check_maker_only(s, out)
        for cancel in cancels(pending):
            s.handle(CancelAck(cancel.cloid, cancel.oid))
        if answer == "fill":
            live = [o for o in s.maker.tracker.non_terminal() if o.state.is_active]
            if live:
                target = live[0]
                tid += 1
                s.handle(fill(tid, target, size=target.remaining, oid=target.oid))
        pending = s.tick(s.now + 0.1) if answer == "tick" else []
        _check_maker_only(s, pending)
        _check_one_order_per_intent(s)
        if answer == "tick":
            assert_idle_sides_say_why(s.view())
    assert s.maker.counters["taker_fills"] == 0


def _check_one_order_per_intent(s: Rig) -> None:
    """D22 (as the executor promises it): never two orders that quote for one intent."""
    quoting = (OrderState.PENDING_NEW, OrderState.RESTING, OrderState.PARTIAL_FILLED)
    for intent, cloids in s.maker.tracker.intents.items():
        live = [c for c in cloids if s.maker.tracker.by_cloid[c].state in quoting]
        assert len(live) <= 1, (intent, live)


# ==== D26: reduce-only from the freshest position ===============================================


def test_D26_reduce_only_sizes_follow_the_freshest_position() -> None:
    """D26: reduce-only quotes never add up to more than the position, and shrink with it."""
    config = make_config(strategy={"levels": 3}, risk={"max_position": "1.0"})
    s, first = running_maker(make_params(config=config), position=20)
    asks = places(first, Side.ASK)
    assert all(a.reduce_only for a in asks) and sum(a.size for a in asks) == 20
    s.ack_all(first, 100)
    s.handle(fill(30, asks[0], size=7), s.now + 0.01)
    assert s.maker.position.lots == 13
    sent = s.tick(s.now + 0.1)
    s.ack_all(sent, 200)
    tracked = [o for o in s.maker.tracker.non_terminal() if o.side is Side.ASK]
    live = [o for o in tracked if o.state.is_live]
    assert all(o.reduce_only for o in live)
    assert sum(o.remaining for o in live) <= 13
