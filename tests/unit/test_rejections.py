"""Rejections by class: backoff arithmetic (D12) and the per-side policy (D11, D13, D26, D27).
Hyperliquid's texts and their classes are tested in ``test_hl_errors``."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.events import RejectionClass, Side
from core.rejections import Backoff, BlockReason, RejectionPolicy, RejectionTracker

PE = RejectionClass.PRICE_ERROR
MARGIN = RejectionClass.MARGIN
PL = RejectionClass.POSITION_LIMIT
STALE = RejectionClass.STALE_POSITION
RL = RejectionClass.RATE_LIMIT
OTHER = RejectionClass.OTHER

# ---- Backoff arithmetic (D12) -----------------------------------------------------------


def test_backoff_grows_exponentially_to_the_cap_D12() -> None:
    b = Backoff(base=1.0, factor=2.0, cap=60.0)
    windows = []
    now = 0.0
    for _ in range(9):
        b.record_batch(MARGIN, 1, "Insufficient margin to place order.", now)
        windows.append(b.remaining(now))
        now += b.remaining(now)  # the next rejection comes when the window ends
    assert windows == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert b.consecutive == 9


def test_backoff_remaining_counts_down_and_never_goes_negative_D12() -> None:
    b = Backoff(base=1.0, factor=2.0, cap=60.0)
    assert b.remaining(5.0) == 0.0 and not b.blocked(5.0)
    b.record_batch(OTHER, 1, "Trading is halted.", 10.0)
    assert b.remaining(10.0) == 1.0
    assert b.remaining(10.25) == 0.75
    assert b.blocked(10.99)
    assert b.remaining(11.0) == 0.0 and not b.blocked(11.0)
    assert b.remaining(500.0) == 0.0


def test_backoff_success_resets_D12() -> None:
    b = Backoff(base=1.0, factor=2.0, cap=60.0)
    for t in (0.0, 1.0, 3.0):
        b.record_batch(MARGIN, 2, "Insufficient margin to place order.", t)
    assert b.consecutive == 3 and b.remaining(3.0) == 4.0
    b.record_success(3.5)
    assert b.consecutive == 0 and b.total == 6
    assert not b.blocked(3.5) and b.remaining(3.5) == 0.0
    b.record_batch(MARGIN, 1, "Insufficient margin to place order.", 4.0)
    assert b.remaining(4.0) == 1.0  # growth starts again from base


def test_batch_rejection_is_one_event_D12() -> None:
    """25 rejections answered in one batch: consecutive +1, total +25."""
    b = Backoff(base=1.0, factor=2.0, cap=60.0)
    b.record_batch(MARGIN, 25, "Insufficient margin to place order. asset=0", 0.0)
    assert (b.consecutive, b.total) == (1, 25)
    # The same batch reported item by item under its batch id counts the same way.
    items = Backoff(base=1.0, factor=2.0, cap=60.0)
    for _ in range(25):
        items.record_batch(MARGIN, 1, "Insufficient margin to place order. asset=0", 0.0, 7)
    assert (items.consecutive, items.total) == (1, 25)
    assert items.remaining(0.0) == 1.0
    assert items.last_class is MARGIN
    assert items.last_reason == "Insufficient margin to place order. asset=0"


def test_backoff_a_new_event_extends_but_never_shortens_the_window_D12() -> None:
    b = Backoff(base=4.0, factor=1.0, cap=4.0)
    b.record_batch(OTHER, 1, "x", 0.0)
    b.record_batch(OTHER, 1, "x", 1.0)
    assert b.remaining(1.0) == 4.0  # extended to 5.0
    b.record_batch(OTHER, 1, "x", 0.5)  # an answer stamped earlier does not pull it back
    assert b.remaining(1.0) == 4.0


def test_backoff_survives_a_very_long_run() -> None:
    b = Backoff(base=1.0, factor=2.0, cap=60.0)
    for i in range(3000):
        b.record_batch(OTHER, 1, "x", float(i))
    assert b.window() == 60.0 and b.remaining(2999.0) == 60.0


@pytest.mark.parametrize(
    ("base", "factor", "cap"),
    [
        (0.0, 2.0, 60.0),
        (-1.0, 2.0, 60.0),
        (1.0, 0.5, 60.0),
        (2.0, 2.0, 1.0),
        (float("nan"), 2.0, 60.0),
        (1.0, 2.0, float("inf")),
    ],
)
def test_backoff_rejects_nonsense_numbers(base: float, factor: float, cap: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base, factor, cap)


def test_backoff_batch_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Backoff().record_batch(OTHER, 0, "x", 0.0)


_ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("reject"),
            st.integers(1, 50),
            st.floats(0.0, 100.0),
            st.one_of(st.none(), st.integers(0, 3)),
        ),
        st.tuples(st.just("success"), st.just(0), st.floats(0.0, 100.0), st.none()),
    ),
    max_size=40,
)


@given(
    base=st.floats(0.01, 10.0),
    factor=st.floats(1.0, 10.0),
    extra_cap=st.floats(0.0, 1000.0),
    ops=_ops,
    probes=st.lists(st.floats(-1000.0, 10_000.0), max_size=10),
)
def test_backoff_properties_D12(
    base: float,
    factor: float,
    extra_cap: float,
    ops: list[tuple[str, int, float, int | None]],
    probes: list[float],
) -> None:
    """Remaining is never negative, never above the cap; the window follows the formula;
    a success always resets; counters never go backwards except consecutive on success."""
    cap = base + extra_cap
    b = Backoff(base, factor, cap)
    now = 0.0
    total = 0
    last_batch: int | None = None
    for kind, count, step, batch_id in ops:
        now += step
        if kind == "reject":
            new_event = batch_id is None or batch_id != last_batch
            before = b.consecutive
            b.record_batch(OTHER, count, "x", now, batch_id)
            last_batch = batch_id
            total += count
            assert b.consecutive == before + (1 if new_event else 0)
            assert b.window() == pytest.approx(min(cap, base * factor ** (b.consecutive - 1)))
            if new_event:
                assert b.remaining(now) > 0.0
        else:
            b.record_success(now)
            last_batch = None
            assert b.consecutive == 0 and b.window() == 0.0
            assert all(b.remaining(now + p) == 0.0 for p in [0.0, *probes])
        assert b.total == total
        previous = b.cap
        for probe in sorted(probes):
            left = b.remaining(now + abs(probe))
            assert 0.0 <= left <= cap
        for probe in sorted(abs(p) for p in probes):  # time passing only shortens the wait
            left = b.remaining(now + probe)
            assert left <= previous
            previous = left
        for probe in probes:  # a clock that steps back cannot stretch the wait past the cap
            assert 0.0 <= b.remaining(probe) <= cap


# ---- the per-side policy (D11) ----------------------------------------------------------

MARGIN_TEXT = "Insufficient margin to place order. asset=0"
ALO_TEXT = "Post only order would have immediately matched, bbo was 99@100. asset=0"
LIMIT_TEXT = "Order would cause position to exceed margin tier limit at current leverage"
STALE_TEXT = "Reduce only order would increase position. asset=0"
RATE_TEXT = "Too many cumulative requests sent (49805 > 49743) for cumulative volume traded $1."


def test_S8_margin_batch_backs_off_the_side_once_D12() -> None:
    """25 asks rejected for margin in one batch: Margin, consecutive +1, total +25, the ask
    side in backoff with a countdown, the bid side untouched."""
    t = RejectionTracker()
    for _ in range(25):
        t.record_rejections(Side.ASK, 7, MARGIN, MARGIN_TEXT, 100.0)
    assert t.consecutive(Side.ASK) == 1
    assert t.total(Side.ASK) == 25
    assert t.counts_by_class[MARGIN] == 25
    block = t.placement_block(Side.ASK, 100.0)
    assert block == BlockReason(MARGIN, 1.0, MARGIN_TEXT)
    assert block.describe() == "backoff Margin 1.0s"
    assert t.remaining(Side.ASK, 100.4) == pytest.approx(0.6)
    assert t.placement_block(Side.BID, 100.0) is None
    assert t.placement_block(Side.ASK, 101.0) is None
    (entry,) = t.last_texts
    assert (entry.side, entry.rclass, entry.reason, entry.count, entry.time) == (
        Side.ASK,
        MARGIN,
        MARGIN_TEXT,
        25,
        100.0,
    )


def test_tracker_has_no_say_over_cancels_D13() -> None:
    """Backoff only ever answers "may this side place?": nothing in the tracker takes or
    blocks a cancel."""
    assert not [name for name in dir(RejectionTracker) if "cancel" in name.lower()]


def test_S7_single_price_error_in_a_mixed_batch_does_not_back_off_D11() -> None:
    t = RejectionTracker()
    t.record_accepted(Side.BID, 0.0, batch_id=3)
    t.record_rejections(Side.BID, 3, PE, ALO_TEXT, 0.0)
    t.record_accepted(Side.BID, 0.0, batch_id=3)
    assert t.placement_block(Side.BID, 0.0) is None
    assert t.remaining(Side.BID, 0.0) == 0.0
    assert t.counts_by_class[PE] == 1
    assert t.consecutive(Side.BID) == 1  # within a batch the rejection outweighs acceptances


def test_a_batch_gives_the_same_answer_whatever_the_item_order_D7_D12() -> None:
    items = [("ok", None), ("ok", None), ("rej", MARGIN), ("rej", PE)]
    states = set()
    for order in itertools.permutations(items):
        t = RejectionTracker()
        for kind, rclass in order:
            if kind == "ok":
                t.record_accepted(Side.BID, 5.0, batch_id=9)
            else:
                assert rclass is not None
                t.record_rejections(Side.BID, 9, rclass, "x", 5.0)
        states.add((t.consecutive(Side.BID), t.total(Side.BID), t.remaining(Side.BID, 5.0)))
    assert states == {(1, 2, 1.0)}


def test_price_error_backs_off_only_when_it_repeats_D11() -> None:
    t = RejectionTracker(RejectionPolicy(price_error_threshold=3))
    t.record_rejections(Side.ASK, 1, PE, ALO_TEXT, 0.0)
    t.record_rejections(Side.ASK, 1, PE, ALO_TEXT, 0.0)  # same batch: still one
    t.record_rejections(Side.ASK, 2, PE, ALO_TEXT, 0.1)
    assert t.placement_block(Side.ASK, 0.1) is None
    t.record_rejections(Side.ASK, 3, PE, ALO_TEXT, 0.2)
    block = t.placement_block(Side.ASK, 0.2)
    assert block is not None and block.rclass is PE and block.remaining == 1.0
    t.record_rejections(Side.ASK, 4, PE, ALO_TEXT, 1.2)
    assert t.remaining(Side.ASK, 1.2) == 2.0
    assert t.placement_block(Side.BID, 1.2) is None


def test_an_accepted_placement_ends_a_run_of_price_errors_D11() -> None:
    t = RejectionTracker(RejectionPolicy(price_error_threshold=2))
    t.record_rejections(Side.ASK, 1, PE, ALO_TEXT, 0.0)
    t.record_accepted(Side.ASK, 0.1, batch_id=2)
    t.record_rejections(Side.ASK, 3, PE, ALO_TEXT, 0.2)
    assert t.placement_block(Side.ASK, 0.2) is None
    assert t.consecutive(Side.ASK) == 1


def test_rate_limit_backs_off_all_placements_D11() -> None:
    t = RejectionTracker()
    t.record_rejections(Side.BID, 4, RL, RATE_TEXT, 10.0)
    t.record_rejections(Side.BID, 4, RL, RATE_TEXT, 10.0)
    for side in Side:
        block = t.placement_block(side, 10.0)
        assert block == BlockReason(RL, 1.0, RATE_TEXT, all_sides=True)
        assert block.describe() == "backoff RateLimit all sides 1.0s"
        assert t.remaining(side, 10.5) == 0.5
    t.record_rejections(Side.ASK, 5, RL, RATE_TEXT, 11.0)
    assert t.remaining(Side.BID, 11.0) == 2.0  # one global wait, growing
    assert t.counts_by_class[RL] == 3


def test_margin_and_other_back_off_only_their_side_D11() -> None:
    t = RejectionTracker()
    t.record_rejections(Side.BID, 1, OTHER, "Trading is halted.", 0.0)
    t.record_rejections(Side.ASK, 2, MARGIN, MARGIN_TEXT, 0.0)
    t.record_rejections(Side.ASK, 3, MARGIN, MARGIN_TEXT, 1.0)
    assert t.remaining(Side.BID, 0.0) == 1.0
    assert t.remaining(Side.ASK, 1.0) == 2.0
    bid_block = t.placement_block(Side.BID, 0.0)
    assert bid_block is not None and bid_block.rclass is OTHER


def test_position_limit_stops_the_side_without_backoff_D11() -> None:
    t = RejectionTracker(RejectionPolicy(position_hold=30.0))
    t.on_position(50)
    t.record_rejections(Side.BID, 1, PL, LIMIT_TEXT, 0.0)
    block = t.placement_block(Side.BID, 0.0)
    assert block is not None and block.is_position_limit and block.reason == LIMIT_TEXT
    assert block.describe() == "position limit (retry in 30.0s)"
    assert t.remaining(Side.BID, 0.0) == 0.0  # not a backoff
    assert t.placement_block(Side.ASK, 0.0) is None
    t.on_position(55)  # further from flat: still held
    t.on_position_refreshed(55)  # a refresh does not end a genuine limit
    assert t.placement_block(Side.BID, 1.0) is not None
    t.on_position(49)  # toward flat: room again
    assert t.placement_block(Side.BID, 1.0) is None


def test_position_limit_hold_ends_after_the_hold_time_D11() -> None:
    t = RejectionTracker(RejectionPolicy(position_hold=30.0))
    t.on_position(-20)
    t.record_rejections(Side.ASK, 1, PL, LIMIT_TEXT, 0.0)
    assert t.placement_block(Side.ASK, 29.9) is not None
    assert t.placement_block(Side.ASK, 30.0) is None


def test_an_acceptance_from_before_a_hold_does_not_end_it_D11() -> None:
    t = RejectionTracker()
    t.on_position(50)
    t.record_rejections(Side.BID, 1, PL, LIMIT_TEXT, 0.0)
    t.record_accepted(Side.BID, 0.5, batch_id=0)
    assert t.placement_block(Side.BID, 0.5) is not None


def test_stale_position_hold_ends_on_a_refreshed_position_D26() -> None:
    t = RejectionTracker()
    t.on_position(20)
    t.record_rejections(Side.ASK, 1, STALE, STALE_TEXT, 0.0)
    t.on_position(20)
    block = t.placement_block(Side.ASK, 0.1)
    assert block is not None and block.rclass is PL  # shown as a position limit (D11)
    t.on_position_refreshed(20)
    assert t.placement_block(Side.ASK, 0.1) is None


def test_the_class_decides_a_stale_position_never_the_text_D26() -> None:
    """The venue adapter classifies; a PositionLimit is held past a refreshed position whatever
    its text says, and a StalePosition counts and reads as PositionLimit."""
    t = RejectionTracker()
    t.on_position(20)
    t.record_rejections(Side.ASK, 1, PL, STALE_TEXT, 0.0)
    t.on_position_refreshed(20)
    assert t.placement_block(Side.ASK, 0.1) is not None
    t.record_rejections(Side.BID, 2, STALE, STALE_TEXT, 0.0)
    assert t.counts_by_class[PL] == 2
    assert [e.rclass for e in t.last_texts] == [PL, PL]


def test_an_acceptance_inside_a_backoff_window_does_not_end_it_D12() -> None:
    t = RejectionTracker()
    t.record_rejections(Side.ASK, 2, MARGIN, MARGIN_TEXT, 0.0)
    t.record_accepted(Side.ASK, 0.5, batch_id=1)  # answers a placement sent before the window
    assert t.remaining(Side.ASK, 0.5) == 0.5
    t.record_rejections(Side.ASK, 3, MARGIN, MARGIN_TEXT, 1.0)
    assert t.remaining(Side.ASK, 1.0) == 2.0  # the run went on
    t.record_accepted(Side.ASK, 3.0, batch_id=4)
    t.record_rejections(Side.ASK, 5, MARGIN, MARGIN_TEXT, 3.5)
    assert t.remaining(Side.ASK, 3.5) == 1.0  # a success after the window reset the growth


def test_rejections_without_batch_id_are_each_an_event_D12() -> None:
    t = RejectionTracker()
    t.record_rejections(Side.BID, None, OTHER, "x", 0.0)
    t.record_rejections(Side.BID, None, OTHER, "x", 0.0)
    assert t.consecutive(Side.BID) == 2
    assert t.remaining(Side.BID, 0.0) == 2.0
    assert len(t.last_texts) == 2


def test_placement_block_gives_one_reason_by_priority_D27() -> None:
    t = RejectionTracker()
    t.on_position(50)
    t.record_rejections(Side.BID, 1, MARGIN, MARGIN_TEXT, 0.0)
    assert t.placement_block(Side.BID, 0.0) == BlockReason(MARGIN, 1.0, MARGIN_TEXT)
    t.record_rejections(Side.BID, 2, RL, RATE_TEXT, 0.0)
    block = t.placement_block(Side.BID, 0.0)
    assert block is not None and block.rclass is RL
    t.record_rejections(Side.BID, 3, PL, LIMIT_TEXT, 0.0)
    block = t.placement_block(Side.BID, 0.0)
    assert block is not None and block.is_position_limit


def test_last_texts_are_bounded_and_oldest_first_D11() -> None:
    t = RejectionTracker(RejectionPolicy(keep_texts=3))
    for i in range(5):
        t.record_rejections(Side.ASK, i, OTHER, f"text {i}", float(i))
    assert [e.reason for e in t.last_texts] == ["text 2", "text 3", "text 4"]
    assert [e.time for e in t.last_texts] == [2.0, 3.0, 4.0]
    assert sum(t.counts_by_class.values()) == 5
    assert list(t.counts_by_class) == [c for c in RejectionClass if c is not STALE]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"price_error_threshold": 0}, "price_error_threshold"),
        ({"position_hold": -1.0}, "position_hold"),
        ({"keep_texts": 0}, "keep_texts"),
        ({"backoff_base": 0.0}, "backoff base"),
        ({"backoff_cap": 0.5}, "backoff cap"),
    ],
)
def test_policy_rejects_nonsense_numbers(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RejectionPolicy(**kwargs)  # type: ignore[arg-type]
