"""D20 — exact numbers: integer ticks and lots inside the core, decimals only at the boundary.

The grids are Hyperliquid's (reference section 5): at most ``6 - szDecimals`` price decimals and
at most 5 significant figures, except that integer prices are always valid.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.build import compiled_modules
from core.units import Instrument, Rounding, UnitError, wire

# Compiled by mypyc, a method refuses an argument of the wrong type itself, with TypeError,
# before its own check (which still speaks for a bool, an int subclass); pure, the method's
# own check refuses it with UnitError.  Either way it is refused.
WRONG_TYPE: tuple[type[Exception], ...] = (
    (UnitError, TypeError) if "core.units" in compiled_modules() else (UnitError,)
)

BTC = Instrument.hyperliquid_perp("BTC", 5, 50)  # tick 0.1, lot 0.00001
ETH = Instrument.hyperliquid_perp("ETH", 4, 25)  # tick 0.01, lot 0.0001
DOGE = Instrument.hyperliquid_perp("DOGE", 0, 10)  # tick 0.000001, lot 1
SZ1 = Instrument.hyperliquid_perp("SZ1", 1, 10)  # tick 0.00001, lot 0.1
PLAIN = Instrument(
    symbol="PLAIN",
    tick_size=Decimal(1),
    lot_size=Decimal(1),
    sz_decimals=0,
    max_price_decimals=0,
    sig_figs=0,
    min_notional=Decimal(0),
)


# ---- the grids of an instrument ---------------------------------------------------------


def test_hyperliquid_perp_grids_follow_sz_decimals_D20():
    assert BTC.tick_size == Decimal("0.1") and BTC.lot_size == Decimal("0.00001")
    assert BTC.max_price_decimals == 1 and BTC.sig_figs == 5
    assert ETH.tick_size == Decimal("0.01") and ETH.lot_size == Decimal("0.0001")
    assert DOGE.tick_size == Decimal("0.000001") and DOGE.lot_size == Decimal(1)
    assert BTC.value_unit == Decimal("0.000001")


def test_btc_at_100k_only_integer_prices_are_valid_D20():
    """hyperliquid-python-sdk #179: 117365.5 has 7 significant figures and is not an integer."""
    assert BTC.price_to_ticks("117365") == 1173650
    assert BTC.price_to_ticks(117365) == 1173650
    assert BTC.is_valid_ticks(1173650)
    assert not BTC.is_valid_ticks(1173655)
    with pytest.raises(UnitError, match="significant figures"):
        BTC.price_to_ticks("117365.5")


def test_eth_five_significant_figures_D20():
    assert ETH.price_to_ticks("1234.5") == 123450
    with pytest.raises(UnitError, match="significant figures"):
        ETH.price_to_ticks("1234.56")  # on the 0.01 tick grid, but 6 significant figures
    assert ETH.price_to_ticks("123.45") == 12345  # 5 s.f. and 2 decimals
    assert ETH.price_to_ticks("12345") == 1234500  # integer: always valid
    assert ETH.price_to_ticks("123456") == 12345600  # integer with 6 s.f.: still valid


def test_max_price_decimals_is_the_finest_tick_D20():
    """Reference examples: 0.001234 ok, 0.0012345 bad (7 decimals); szDecimals=1: 0.01234 ok,
    0.012345 bad."""
    assert DOGE.price_to_ticks("0.001234") == 1234
    with pytest.raises(UnitError, match="not a multiple"):
        DOGE.price_to_ticks("0.0012345")
    assert SZ1.price_to_ticks("0.01234") == 1234
    with pytest.raises(UnitError, match="not a multiple"):
        SZ1.price_to_ticks("0.012345")


def test_effective_price_step_depends_on_magnitude_D20():
    assert ETH.price_step(12345) == 1  # 123.45
    assert ETH.price_step(123456) == 10  # 1234.56 -> steps of 0.1
    assert ETH.price_step(1234567) == 100  # 12345.67 -> whole dollars
    assert ETH.price_step(123456789) == 100  # integers are always valid: never coarser
    assert PLAIN.price_step(123456789) == 1  # no significant-figure rule


def test_tick_of_ten_or_more_makes_every_price_an_integer_D20():
    coarse = Instrument(
        symbol="COARSE",
        tick_size=Decimal("1E+1"),
        lot_size=Decimal(1),
        sz_decimals=0,
        max_price_decimals=0,
    )
    assert coarse.price_step(123456) == 1
    assert coarse.price_to_ticks("1234560") == 123456


def test_significant_figures_need_a_power_of_ten_tick_D20():
    with pytest.raises(UnitError, match="power-of-ten"):
        Instrument(
            symbol="HALF",
            tick_size=Decimal("0.5"),
            lot_size=Decimal(1),
            sz_decimals=0,
            max_price_decimals=1,
        )
    # Without the rule any tick is fine.
    Instrument(
        symbol="HALF",
        tick_size=Decimal("0.5"),
        lot_size=Decimal(1),
        sz_decimals=0,
        max_price_decimals=1,
        sig_figs=0,
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("tick_size", Decimal(0)),
        ("lot_size", Decimal("-0.1")),
        ("tick_size", Decimal("NaN")),
        ("min_notional", Decimal("Infinity")),
    ],
)
def test_instrument_rejects_bad_grids_D20(field, value):
    kwargs = {
        "symbol": "X",
        "tick_size": Decimal("0.01"),
        "lot_size": Decimal("0.001"),
        "sz_decimals": 3,
        "max_price_decimals": 2,
    }
    kwargs[field] = value
    with pytest.raises(UnitError):
        Instrument(**kwargs)  # type: ignore[arg-type]


# ---- explicit rounding direction --------------------------------------------------------


def test_maker_bid_rounds_down_and_ask_rounds_up_D20():
    """Away from the spread, so rounding can never make a post-only order cross."""
    assert BTC.price_to_ticks("117365.5", Rounding.DOWN) == 1173650
    assert BTC.price_to_ticks("117365.5", Rounding.UP) == 1173660
    assert ETH.price_to_ticks("1234.56", Rounding.DOWN) == 123450
    assert ETH.price_to_ticks("1234.56", Rounding.UP) == 123460
    # Off the tick grid too: 1234.567 -> 1234.5 / 1234.6
    assert ETH.price_to_ticks("1234.567", Rounding.DOWN) == 123450
    assert ETH.price_to_ticks("1234.567", Rounding.UP) == 123460


def test_round_up_across_a_power_of_ten_stays_valid_D20():
    """9999.95 rounds up to 10000.0: a new digit, a coarser grid, still a valid price."""
    assert ETH.round_ticks(999995, Rounding.UP) == 1000000
    assert ETH.is_valid_ticks(1000000)
    assert ETH.round_ticks(999995, Rounding.DOWN) == 999990


def test_round_ticks_exact_refuses_an_invalid_price_D20():
    with pytest.raises(UnitError, match="significant figures"):
        ETH.round_ticks(123456, Rounding.EXACT)
    assert ETH.round_ticks(123450, Rounding.EXACT) == 123450


def test_price_below_one_tick_is_refused_not_rounded_to_zero_D20():
    with pytest.raises(UnitError, match="zero ticks"):
        BTC.price_to_ticks("0.05", Rounding.DOWN)
    assert BTC.price_to_ticks("0.05", Rounding.UP) == 1


def test_sizes_round_in_the_asked_direction_and_exact_refuses_off_grid_D20():
    assert ETH.size_to_lots("0.0147") == 147
    assert ETH.size_to_lots("0.01479", Rounding.DOWN) == 147
    assert ETH.size_to_lots("0.01471", Rounding.UP) == 148
    with pytest.raises(UnitError, match=r"not a multiple of 0\.0001"):
        ETH.size_to_lots("0.01479")
    with pytest.raises(UnitError, match="not a multiple"):
        BTC.size_to_lots("0.000001")


def test_exactness_is_not_lost_beyond_28_digits_D20():
    """Decimal division rounds to 28 digits; a value just off the grid must still be off it,
    and rounding up must never give less than the value (an ask must never move toward the
    bid)."""
    with pytest.raises(UnitError, match="not a multiple"):
        ETH.size_to_lots("1.00000000000000000000000000001")
    assert ETH.size_to_lots("1.00000000000000000000000000001", Rounding.UP) == 10001
    assert ETH.price_to_ticks("100.000000000000000000000000001", Rounding.UP) == 10001
    assert ETH.price_to_ticks("100.000000000000000000000000001", Rounding.DOWN) == 10000


def test_signed_position_sizes_D20():
    assert ETH.signed_size_to_lots("-0.5") == -5000
    assert ETH.signed_size_to_lots("0.5") == 5000
    assert ETH.signed_size_to_lots("0") == 0
    with pytest.raises(UnitError):
        ETH.signed_size_to_lots("-0.00001")


# ---- what is not a number ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN"), Decimal("-inf")]
)
def test_nan_and_infinities_are_refused_D20(value):
    with pytest.raises(UnitError, match="finite"):
        ETH.price_to_ticks(value)
    with pytest.raises(UnitError, match="finite"):
        ETH.size_to_lots(value)


@pytest.mark.parametrize("value", ["-1", "0", Decimal("-0.01"), -5])
def test_zero_and_negative_prices_are_refused_D20(value):
    with pytest.raises(UnitError, match="greater than 0"):
        ETH.price_to_ticks(value)


@pytest.mark.parametrize("value", ["-1", Decimal("-0.0001"), -1])
def test_negative_sizes_are_refused_D20(value):
    with pytest.raises(UnitError, match="negative"):
        ETH.size_to_lots(value)


@pytest.mark.parametrize("value", [1.5, 100.0, True, None, [1], b"1"])
def test_non_numbers_and_binary_floats_are_refused_D20(value):
    """A float price makes tick alignment a matter of luck: only Decimal, str and int."""
    match = "must be a Decimal, str or int|object expected"
    with pytest.raises(WRONG_TYPE, match=match):
        ETH.price_to_ticks(value)
    with pytest.raises(WRONG_TYPE, match=match):
        ETH.size_to_lots(value)


@pytest.mark.parametrize("value", ["abc", "", "1.2.3", "1,5"])
def test_garbage_strings_are_refused_D20(value):
    with pytest.raises(UnitError, match="not a number"):
        ETH.price_to_ticks(value)


def test_ticks_and_lots_must_be_ints_D20():
    with pytest.raises(WRONG_TYPE):
        ETH.ticks_to_price(1.0)  # type: ignore[arg-type]
    if "core.units" not in compiled_modules():
        # Compiled, an ``int`` parameter receives a bool as the int it is (mypyc unboxes it):
        # the method never sees the bool.  mypy --strict accepts a bool there in both builds.
        with pytest.raises(UnitError):
            ETH.ticks_to_price(True)
    with pytest.raises(WRONG_TYPE):
        ETH.lots_to_size(Decimal(1))  # type: ignore[arg-type]


# ---- the wire ---------------------------------------------------------------------------


def test_wire_strings_are_canonical_D20():
    assert wire(Decimal("2E+3")) == "2000"
    assert wire(Decimal("2000.000")) == "2000"
    assert wire(Decimal("0.01470")) == "0.0147"
    assert wire(Decimal("-0.0")) == "0"
    assert wire(Decimal("1E+30")) == "1" + "0" * 30
    assert wire(Decimal("123456789012345678901234567890.5")) == "123456789012345678901234567890.5"


def test_ticks_and_lots_back_to_decimals_for_the_wire_D20():
    assert wire(BTC.ticks_to_price(1173650)) == "117365"
    assert str(BTC.ticks_to_price(1173650)) == "117365"  # no exponent even from str()
    assert wire(ETH.ticks_to_price(123450)) == "1234.5"
    assert wire(ETH.lots_to_size(147)) == "0.0147"
    assert wire(ETH.lots_to_size(20_000_000)) == "2000"
    assert wire(DOGE.ticks_to_price(1234)) == "0.001234"
    assert ETH.notional(123450, 10_000) == Decimal("1234.5")
    assert ETH.value_to_decimal(1_234_500_000) == Decimal("1234.5")


# ---- minimum notional -------------------------------------------------------------------


def test_min_lots_for_notional_reaches_ten_dollars_D20():
    # ETH at 2000.00: $10 needs 0.005 ETH = 50 lots.
    assert ETH.min_lots_for_notional(200_000) == 50
    # At 2999.99 0.0033 ETH is $9.89997, 0.0034 is $10.19997: 34 lots.
    lots = ETH.min_lots_for_notional(299_999)
    assert lots == 34
    assert ETH.notional(299_999, lots) >= Decimal(10) > ETH.notional(299_999, lots - 1)
    assert PLAIN.min_lots_for_notional(5) == 1  # never zero
    with pytest.raises(UnitError):
        ETH.min_lots_for_notional(0)


@settings(max_examples=200, deadline=None)
@given(ticks=st.integers(min_value=1, max_value=10**9))
def test_min_lots_for_notional_is_the_smallest_D20(ticks):
    lots = ETH.min_lots_for_notional(ticks)
    assert lots >= 1
    assert ETH.notional(ticks, lots) >= ETH.min_notional
    if lots > 1:
        assert ETH.notional(ticks, lots - 1) < ETH.min_notional


# ---- properties -------------------------------------------------------------------------

instruments = st.sampled_from([BTC, ETH, DOGE, SZ1])


@settings(max_examples=300, deadline=None)
@given(inst=instruments, ticks=st.integers(min_value=1, max_value=10**12))
def test_round_ticks_brackets_the_value_with_valid_prices_D20(inst, ticks):
    """round_ticks(DOWN) <= x <= round_ticks(UP), both valid, and no valid price between."""
    down = inst.round_ticks(ticks, Rounding.DOWN)
    up = inst.round_ticks(ticks, Rounding.UP)
    assert down <= ticks <= up
    assert inst.is_valid_ticks(down) and inst.is_valid_ticks(up)
    if inst.is_valid_ticks(ticks):
        assert down == ticks == up == inst.round_ticks(ticks, Rounding.EXACT)
    else:
        # Nothing valid strictly between: the rounding is to the *nearest* valid price in
        # its direction (a bid gives up no more than one step of the grid).
        assert not any(inst.is_valid_ticks(t) for t in range(down + 1, min(up, down + 200)))


@settings(max_examples=300, deadline=None)
@given(
    inst=instruments,
    price=st.decimals(
        min_value=Decimal("0.000001"), max_value=Decimal(10**7), allow_nan=False, places=8
    ),
)
def test_price_to_ticks_rounds_in_its_direction_D20(inst, price):
    if price < inst.tick_size:
        return
    down = inst.price_to_ticks(price, Rounding.DOWN)
    up = inst.price_to_ticks(price, Rounding.UP)
    assert inst.ticks_to_price(down) <= price <= inst.ticks_to_price(up)
    assert inst.is_valid_ticks(down) and inst.is_valid_ticks(up)
    # A valid price survives the round trip exactly, through its wire string too.
    assert inst.price_to_ticks(wire(inst.ticks_to_price(up))) == up


@settings(max_examples=200, deadline=None)
@given(inst=instruments, lots=st.integers(min_value=0, max_value=10**15))
def test_sizes_round_trip_exactly_D20(inst, lots):
    size = inst.lots_to_size(lots)
    assert "E" not in wire(size)
    assert inst.size_to_lots(wire(size)) == lots


def test_size_text_is_in_coin_units_with_the_coin() -> None:
    """What log lines and reasons show for a size (issue 16): the venue's units, never lots."""
    eth = Instrument.hyperliquid_perp("ETH", 4, 25)
    assert eth.size_text(5, signed=True) == "+0.0005 ETH"
    assert eth.size_text(-12345, signed=True) == "-1.2345 ETH"
    assert eth.size_text(20000) == "2 ETH"
