"""The ladder quoting model: maker-only (D23), limits (D17), reduce-only (D26), reasons (D27)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.build import compiled_modules
from core.events import Side
from core.strategy import (
    Ladder,
    NoQuoteReason,
    Quote,
    StrategyParams,
    desired_ladder,
    fair_price,
)
from core.units import Instrument, Rounding

BTC = Instrument.hyperliquid_perp("BTC", 5, 50)  # tick 0.1; at ~100k only whole dollars
ETH = Instrument.hyperliquid_perp("ETH", 4, 25)  # tick 0.01
DOGE = Instrument.hyperliquid_perp("DOGE", 0, 10)  # tick 0.000001; 5 s.f. below 1
# Tick and lot of 1, no significant-figure rule, no minimum notional: arithmetic by hand.
PLAIN = Instrument(
    symbol="PLAIN",
    tick_size=Decimal(1),
    lot_size=Decimal(1),
    sz_decimals=0,
    max_price_decimals=0,
    sig_figs=0,
    min_notional=Decimal(0),
)


def params(**overrides: object) -> StrategyParams:
    fields: dict[str, object] = {
        "levels": 3,
        "level_spacing_ticks": 1,
        "half_spread_ticks": 0,
        "size_lots": 10,
        "max_position_lots": 1_000,
    }
    fields.update(overrides)
    return StrategyParams(**fields)  # type: ignore[arg-type]


def prices(quotes: tuple[Quote, ...]) -> list[int]:
    return [q.price for q in quotes]


def sizes(quotes: tuple[Quote, ...]) -> list[int]:
    return [q.size for q in quotes]


# ---- fair price ------------------------------------------------------------------------


def test_fair_price_is_the_mid_rounded_down_without_touch_sizes() -> None:
    assert fair_price(100, 104) == 102
    assert fair_price(100, 103) == 101
    assert fair_price(100, 103, bid_size=5, ask_size=0) == 101


def test_fair_price_microprice_leans_toward_the_thinner_side() -> None:
    # A heavy bid and a thin ask: the next trade is likelier at the ask.
    assert fair_price(100, 110, bid_size=900, ask_size=100) == 109
    assert fair_price(100, 110, bid_size=100, ask_size=900) == 101
    assert fair_price(100, 110, bid_size=500, ask_size=500) == 105


@pytest.mark.parametrize(
    ("best_bid", "best_ask"),
    [(None, 101), (100, None), (None, None), (0, 5), (101, 101), (102, 101)],
)
def test_fair_price_is_none_without_a_usable_book(
    best_bid: int | None, best_ask: int | None
) -> None:
    assert fair_price(best_bid, best_ask, 10, 10) is None


# ---- D23: maker-only safety ------------------------------------------------------------


@st.composite
def touches(draw: st.DrawFn) -> tuple[Instrument, int, int]:
    """A valid touch: prices where each market trades (so the minimum size is a few lots, not
    millions), plus anywhere down to one tick (grid edges, bids pushed to zero)."""
    instrument, usual_low, usual_high = draw(
        st.sampled_from(
            [(BTC, 10**5, 10**7), (ETH, 10**4, 10**7), (DOGE, 10**3, 10**7), (PLAIN, 1, 10**6)]
        )
    )
    raw_bid = draw(st.one_of(st.integers(usual_low, usual_high), st.integers(1, 10**8)))
    best_bid = instrument.round_ticks(raw_bid, Rounding.DOWN)
    spread = draw(st.one_of(st.integers(1, 20), st.integers(1, 10**5)))
    best_ask = instrument.round_ticks(best_bid + spread, Rounding.UP)
    return instrument, best_bid, best_ask


strategy_params = st.builds(
    StrategyParams,
    levels=st.integers(1, 6),
    level_spacing_ticks=st.integers(1, 500),
    half_spread_ticks=st.integers(0, 500),
    size_lots=st.one_of(st.integers(1, 100), st.integers(1, 10**5)),
    max_position_lots=st.one_of(st.integers(1, 2_000), st.integers(1, 10**6)),
    size_step_lots=st.integers(0, 1_000),
    skew_ticks_per_lot=st.one_of(st.just(0.0), st.floats(0, 0.05), st.floats(0, 2)),
    reduce_only_near_limit=st.booleans(),
)
positions = st.one_of(st.integers(-1_000, 1_000), st.integers(-(2 * 10**6), 2 * 10**6))
touch_sizes = st.integers(0, 10**6)


@settings(max_examples=600, derandomize=True, database=None, deadline=None)
@given(touches(), positions, strategy_params, touch_sizes, touch_sizes)
def test_quotes_never_cross_the_touch_D23(
    touch: tuple[Instrument, int, int],
    position: int,
    p: StrategyParams,
    bid_size: int,
    ask_size: int,
) -> None:
    """No bid at or above the best ask, no ask at or below the best bid, for any book, position
    and parameters; every price on the valid grid, levels strictly ordered, sizes tradable."""
    instrument, best_bid, best_ask = touch
    ladder = desired_ladder(
        instrument, best_bid, best_ask, position, p, bid_size=bid_size, ask_size=ask_size
    )
    for side, quotes in ((Side.BID, ladder.bids), (Side.ASK, ladder.asks)):
        assert (ladder.reason(side) is None) == bool(quotes)
        assert [q.level for q in quotes] == list(range(len(quotes)))
        for q in quotes:
            assert q.side is side
            assert instrument.is_valid_ticks(q.price), q
            assert q.size > 0
            assert q.size >= instrument.min_lots_for_notional(q.price), q
    assert all(q.price < best_ask for q in ladder.bids)
    assert all(q.price > best_bid for q in ladder.asks)
    bid_prices, ask_prices = prices(ladder.bids), prices(ladder.asks)
    assert all(a > b for a, b in itertools.pairwise(bid_prices))
    assert all(a < b for a, b in itertools.pairwise(ask_prices))


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(touches(), positions, strategy_params)
def test_pending_exposure_stays_within_max_position_D17_D26(
    touch: tuple[Instrument, int, int], position: int, p: StrategyParams
) -> None:
    """Bids never take the position above the limit, asks never below minus the limit; a
    reduce-only side never quotes more than the position in total."""
    instrument, best_bid, best_ask = touch
    ladder = desired_ladder(instrument, best_bid, best_ask, position, p)
    limit = p.max_position_lots
    bid_total, ask_total = sum(sizes(ladder.bids)), sum(sizes(ladder.asks))
    if position >= limit:
        assert ladder.bids == ()
    elif position <= -limit and p.reduce_only_near_limit:
        assert all(q.reduce_only for q in ladder.bids)
        assert bid_total <= -position
    else:
        assert position + bid_total <= limit
        assert not any(q.reduce_only for q in ladder.bids)
    if position <= -limit:
        assert ladder.asks == ()
    elif position >= limit and p.reduce_only_near_limit:
        assert all(q.reduce_only for q in ladder.asks)
        assert ask_total <= position
    else:
        assert position - ask_total >= -limit
        assert not any(q.reduce_only for q in ladder.asks)


def test_skew_past_the_touch_is_clamped_one_step_behind_it_D23() -> None:
    """A long skew that would put asks under the best bid rests them just above it instead."""
    p = params(half_spread_ticks=1, level_spacing_ticks=2, skew_ticks_per_lot=1.0)
    long = desired_ladder(PLAIN, 1000, 1010, 50, p)
    assert prices(long.asks) == [1001, 1002, 1003]
    assert prices(long.bids) == [954, 952, 950]
    short = desired_ladder(PLAIN, 1000, 1010, -50, p)
    assert prices(short.bids) == [1009, 1008, 1007]
    assert prices(short.asks) == [1056, 1058, 1060]


def test_btc_near_100k_quotes_only_whole_dollars_5_sig_figs_D23() -> None:
    """At 100000.0 only integer prices are valid: a 0.1 spacing is pushed out to distinct
    whole dollars, bids rounded down and asks up, never onto the other side's touch."""
    best_bid, best_ask = 1_000_000, 1_000_010  # 100000.0 / 100001.0
    ladder = desired_ladder(BTC, best_bid, best_ask, 0, params(half_spread_ticks=3))
    assert prices(ladder.bids) == [1_000_000, 999_990, 999_980]
    assert prices(ladder.asks) == [1_000_010, 1_000_020, 1_000_030]
    assert [str(BTC.ticks_to_price(q.price)) for q in ladder.bids] == ["100000", "99999", "99998"]


def test_low_price_grid_changes_across_a_power_of_ten_D23() -> None:
    """DOGE around 0.1: 0.099999 is valid (5 s.f.) but above 0.1 only 0.10001 steps are."""
    best_bid, best_ask = 99_998, 100_010  # 0.099998 / 0.10001
    ladder = desired_ladder(DOGE, best_bid, best_ask, 0, params(size_lots=1))
    assert prices(ladder.bids) == [100_000, 99_999, 99_998]
    assert prices(ladder.asks) == [100_010, 100_020, 100_030]
    assert all(DOGE.is_valid_ticks(q.price) for q in ladder.bids + ladder.asks)


def test_one_tick_spread_quotes_at_the_touch_without_crossing_D23() -> None:
    ladder = desired_ladder(PLAIN, 100, 101, 0, params())
    assert prices(ladder.bids) == [100, 99, 98]
    assert prices(ladder.asks) == [101, 102, 103]


# ---- inventory skew --------------------------------------------------------------------


def test_long_position_skews_both_sides_down_and_short_up() -> None:
    p = params(levels=1, half_spread_ticks=2, skew_ticks_per_lot=0.5)
    flat = desired_ladder(PLAIN, 1000, 1010, 0, p)
    long = desired_ladder(PLAIN, 1000, 1010, 4, p)
    short = desired_ladder(PLAIN, 1000, 1010, -4, p)
    assert (prices(flat.bids), prices(flat.asks)) == ([1003], [1007])
    assert (prices(long.bids), prices(long.asks)) == ([1001], [1005])
    assert (prices(short.bids), prices(short.asks)) == ([1005], [1009])
    assert (long.skew_ticks, short.skew_ticks) == (2, -2)


def test_skew_rounds_toward_zero() -> None:
    p = params(levels=1, half_spread_ticks=2, skew_ticks_per_lot=0.5)
    assert desired_ladder(PLAIN, 1000, 1010, 3, p).skew_ticks == 1  # 1.5 -> 1
    assert desired_ladder(PLAIN, 1000, 1010, -3, p).skew_ticks == -1  # -1.5 -> -1
    assert desired_ladder(PLAIN, 1000, 1010, 1, p).skew_ticks == 0  # 0.5 -> 0


# ---- sizes -----------------------------------------------------------------------------


def test_sizes_grow_per_level() -> None:
    ladder = desired_ladder(PLAIN, 1000, 1010, 0, params(size_lots=5, size_step_lots=3))
    assert sizes(ladder.bids) == [5, 8, 11]
    assert sizes(ladder.asks) == [5, 8, 11]


@pytest.mark.parametrize(
    ("instrument", "best_bid", "best_ask"),
    [(BTC, 1_000_000, 1_000_010), (DOGE, 100_000, 100_100), (ETH, 300_000, 300_010)],
)
def test_sizes_are_raised_to_the_minimum_notional_at_their_price(
    instrument: Instrument, best_bid: int, best_ask: int
) -> None:
    ladder = desired_ladder(instrument, best_bid, best_ask, 0, params(size_lots=1))
    for q in ladder.bids + ladder.asks:
        assert q.size == instrument.min_lots_for_notional(q.price)
        assert instrument.notional(q.price, q.size) >= instrument.min_notional


# ---- position limits and reduce-only ---------------------------------------------------


def test_bids_stop_at_the_room_left_below_max_position_D17() -> None:
    ladder = desired_ladder(PLAIN, 1000, 1010, 75, params(levels=5, max_position_lots=100))
    assert sizes(ladder.bids) == [10, 10, 5]
    assert sizes(ladder.asks) == [10, 10, 10, 10, 10]


def test_room_below_the_minimum_size_drops_the_side_as_position_limit_D27() -> None:
    # 10 lots is $10 at 100000: five lots of room cannot make an order.
    p = params(max_position_lots=1_000)
    ladder = desired_ladder(BTC, 1_000_000, 1_000_010, 995, p)
    assert ladder.bids == ()
    assert ladder.bid_reason is NoQuoteReason.POSITION_LIMIT
    assert ladder.ask_reason is None


def test_max_position_drops_the_increasing_side_with_one_reason_D27() -> None:
    p = params(max_position_lots=100)
    long = desired_ladder(PLAIN, 1000, 1010, 100, p)
    assert long.bids == () and long.bid_reason is NoQuoteReason.POSITION_LIMIT
    assert long.asks and long.ask_reason is None
    short = desired_ladder(PLAIN, 1000, 1010, -130, p)
    assert short.asks == () and short.ask_reason is NoQuoteReason.POSITION_LIMIT
    assert short.bids and short.bid_reason is None


def test_reduce_only_at_the_limit_clamps_total_size_to_the_position_D26() -> None:
    p = params(levels=4, size_lots=40, max_position_lots=100)
    ladder = desired_ladder(PLAIN, 1000, 1010, 105, p)
    assert sizes(ladder.asks) == [40, 40, 25]
    assert all(q.reduce_only for q in ladder.asks)
    assert ladder.bids == ()


def test_reduce_only_remainder_below_min_size_joins_the_level_before_D26() -> None:
    """Short 125 lots of BTC, 60 per level: the last 5 lots are below the $10 minimum (11 lots
    at 99999), so level 1 carries 65 and the total is exactly the position."""
    p = params(levels=4, level_spacing_ticks=10, size_lots=60, max_position_lots=100)
    ladder = desired_ladder(BTC, 1_000_000, 1_000_010, -125, p)
    assert prices(ladder.bids) == [1_000_000, 999_990]
    assert sizes(ladder.bids) == [60, 65]
    assert all(q.reduce_only for q in ladder.bids)
    assert ladder.ask_reason is NoQuoteReason.POSITION_LIMIT


def test_reduce_only_position_below_min_notional_says_so_D27() -> None:
    ladder = desired_ladder(BTC, 1_000_000, 1_000_010, 5, params(max_position_lots=5))
    assert ladder.asks == ()
    assert ladder.ask_reason is NoQuoteReason.BELOW_MIN_NOTIONAL
    assert ladder.bid_reason is NoQuoteReason.POSITION_LIMIT


def test_without_reduce_only_near_limit_the_reducing_side_quotes_normally() -> None:
    p = params(max_position_lots=100, reduce_only_near_limit=False)
    ladder = desired_ladder(PLAIN, 1000, 1010, 100, p)
    assert sizes(ladder.asks) == [10, 10, 10]
    assert not any(q.reduce_only for q in ladder.asks)
    assert ladder.bid_reason is NoQuoteReason.POSITION_LIMIT


# ---- D27: one reason per empty side ----------------------------------------------------


@pytest.mark.parametrize(("best_bid", "best_ask"), [(None, 1010), (1000, None), (None, None)])
def test_missing_book_side_leaves_both_sides_empty_as_no_book_D27(
    best_bid: int | None, best_ask: int | None
) -> None:
    ladder = desired_ladder(PLAIN, best_bid, best_ask, 0, params())
    assert (ladder.bids, ladder.asks) == ((), ())
    assert ladder.bid_reason is ladder.ask_reason is NoQuoteReason.NO_BOOK
    assert ladder.fair is None


@pytest.mark.parametrize(("best_bid", "best_ask"), [(1010, 1010), (1011, 1010)])
def test_crossed_or_locked_book_is_not_quoted_D27(best_bid: int, best_ask: int) -> None:
    ladder = desired_ladder(PLAIN, best_bid, best_ask, 0, params())
    assert ladder.bid_reason is ladder.ask_reason is NoQuoteReason.CROSSED_BOOK


def test_bids_without_a_positive_price_say_no_valid_price_D27() -> None:
    ladder = desired_ladder(PLAIN, 1, 2, 0, params(half_spread_ticks=5))
    assert ladder.bids == () and ladder.bid_reason is NoQuoteReason.NO_VALID_PRICE
    assert ladder.asks and ladder.ask_reason is None
    deep = desired_ladder(PLAIN, 3, 4, 0, params(levels=5, level_spacing_ticks=2))
    assert prices(deep.bids) == [3, 1]


def test_ladder_demands_quotes_or_exactly_one_reason_per_side_D27() -> None:
    quote = Quote(Side.BID, 0, 100, 1)
    with pytest.raises(ValueError, match="bid side"):
        Ladder((), (), None, NoQuoteReason.NO_BOOK)
    with pytest.raises(ValueError, match="bid side"):
        Ladder((quote,), (), NoQuoteReason.NO_BOOK, NoQuoteReason.NO_BOOK)
    with pytest.raises(ValueError, match="ask side"):
        Ladder((quote,), (), None, None)


# ---- parameters ------------------------------------------------------------------------

COMPILED = "core.strategy" in compiled_modules()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("levels", 0, "levels must be at least 1"),
        ("level_spacing_ticks", 0, "level_spacing_ticks must be at least 1"),
        ("half_spread_ticks", -1, "half_spread_ticks must be at least 0"),
        ("size_lots", 0, "size_lots must be at least 1"),
        ("max_position_lots", 0, "max_position_lots must be at least 1"),
        ("size_step_lots", -1, "size_step_lots must be at least 0"),
        ("size_lots", 1.5, "size_lots must be an int"),
        ("skew_ticks_per_lot", -0.1, "skew_ticks_per_lot must be a finite number >= 0"),
        ("skew_ticks_per_lot", float("nan"), "skew_ticks_per_lot must be a finite number >= 0"),
    ],
)
def test_params_reject_invalid_values_naming_the_field(
    field: str, value: object, message: str
) -> None:
    if not isinstance(value, int) and not field.startswith("skew") and COMPILED:
        # mypyc's __init__ checks the declared type first: TypeError, not naming the field
        with pytest.raises(TypeError, match="int object expected"):
            params(**{field: value})
        return
    with pytest.raises(ValueError, match=message):
        params(**{field: value})
