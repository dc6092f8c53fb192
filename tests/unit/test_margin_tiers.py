"""Margin tiers (issue 19 item 3, D17): the venue's table read from meta, the position limit it
sets at our leverage, and the limit the maker then keeps -- exact arithmetic, boundaries
included, and one rule checked against the other on random tables."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.units import Instrument, UnitError
from core.venues.hyperliquid.meta import instrument_from_meta
from core.venues.hyperliquid.wire import AssetMeta, MarginTable, MarginTier
from core.venues.rows import MappingError

TIERS = ((Decimal(0), 25), (Decimal(500_000), 10), (Decimal(1_000_000), 5))
ETH = Instrument.hyperliquid_perp("ETH", 4, 25)  # value unit 0.01 x 0.0001 = 1e-6 USD


def tier_leverage(inst: Instrument, notional_value: int) -> int:
    """The reference reading of the table: the most leverage a position of this notional
    (ticks x lots) may use -- a tier's leverage applies past its bound."""
    allowed = inst.max_leverage
    for bound, max_leverage in inst.margin_tiers:
        if notional_value * inst.value_unit > bound:
            allowed = min(inst.max_leverage, max_leverage)
    return allowed


def tiered(tiers: tuple[tuple[Decimal, int], ...] = TIERS) -> Instrument:
    return Instrument(
        "ETH", Decimal("0.01"), Decimal("0.0001"), 4, 2, margin_tiers=tiers, max_leverage=25
    )


def test_the_cap_at_each_leverage_is_the_bound_of_the_first_tier_that_allows_less() -> None:
    inst = tiered()
    assert inst.tier_cap_value(25) == 500_000 * 10**6  # USD in units of 1e-6
    assert inst.tier_cap_value(11) == 500_000 * 10**6
    assert inst.tier_cap_value(10) == 1_000_000 * 10**6
    assert inst.tier_cap_value(5) is None
    assert ETH.tier_cap_value(25) is None  # no table, no tier limit
    assert tier_leverage(inst, 500_000 * 10**6) == 25  # at the bound: the lower tier still
    assert tier_leverage(inst, 500_000 * 10**6 + 1) == 10
    assert tier_leverage(inst, 2_000_000 * 10**6) == 5


def test_a_table_that_does_not_rise_and_fall_is_refused() -> None:
    with pytest.raises(UnitError, match="margin_tiers"):
        tiered(((Decimal(0), 10), (Decimal(100), 20)))
    with pytest.raises(UnitError, match="margin_tiers"):
        tiered(((Decimal(100), 10), (Decimal(0), 5)))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(1, 10**7), min_size=1, max_size=4, unique=True),
    st.lists(st.integers(1, 50), min_size=4, max_size=4),
    st.integers(1, 50),
    st.integers(0, 10**14),
)
def test_allowed_by_the_cap_is_allowed_by_the_tier_leverage(
    bounds: list[int], leverages: list[int], leverage: int, notional: int
) -> None:
    """A position of notional N at leverage L passes the cap exactly when the tier N falls
    in allows at least L: the two readings of one table agree, boundaries included."""
    falling = sorted(leverages[: len(bounds) + 1], reverse=True)
    tiers = tuple(
        zip([Decimal(0), *(Decimal(b) / 100 for b in sorted(bounds))], falling, strict=False)
    )
    inst = tiered(tiers)
    assume(leverage <= inst.max_leverage)  # the venue grants no more than the asset's maximum
    cap = inst.tier_cap_value(leverage)
    by_cap = cap is None or notional <= cap
    assert by_cap == (tier_leverage(inst, notional) >= leverage)


def test_meta_names_the_table_and_the_instrument_carries_it() -> None:
    table = MarginTable(
        marginTiers=[
            MarginTier(lowerBound="500000.0", maxLeverage=10),
            MarginTier(lowerBound="0.0", maxLeverage=25),
        ]
    )
    universe = [AssetMeta(name="ETH", szDecimals=4, maxLeverage=25, marginTableId=7)]
    inst = instrument_from_meta(universe, "ETH", [(7, table)])
    assert inst.margin_tiers == ((Decimal(0), 25), (Decimal(500_000), 10))
    assert (
        instrument_from_meta(
            [AssetMeta(name="ETH", szDecimals=4, maxLeverage=25)], "ETH", None
        ).margin_tiers
        == ()
    )
    with pytest.raises(MappingError, match="margin table 8"):
        instrument_from_meta(
            [AssetMeta(name="ETH", szDecimals=4, maxLeverage=25, marginTableId=8)],
            "ETH",
            [(7, table)],
        )


def test_D17_the_maker_keeps_the_worst_case_inside_the_margin_tier() -> None:
    """At our leverage the tier allows $200 of position (19 lots at 100.10): holding 15 lots,
    the bid ladder may add 4, not the configured limit's 35 -- the venue would refuse the rest
    ("Order would cause position to exceed margin tier limit at current leverage.")."""
    import dataclasses

    from core.events import Side
    from tests.maker_harness import INSTRUMENT, make_params, places, running_maker
    from tui.exposure import ExposurePane

    inst = dataclasses.replace(INSTRUMENT, margin_tiers=((Decimal(0), 50), (Decimal(200), 1)))
    params = make_params()
    s, first = running_maker(params, position=15, instrument=inst)
    assert s.maker.leverage >= 2
    view = s.view()
    assert view.limits.tier_limit == 200_000 // 10_010 == 19
    assert view.limits.max_position == 50
    bids = places(first, Side.BID)
    assert sum(p.size for p in bids) == 4
    assert view.exposure.worst_case_max_position <= 19
    text = ExposurePane().build(view).plain
    assert "limit ±1.9 (margin tier at" in text and "margin $" in text
    _, plain = running_maker(params, position=15)
    assert sum(p.size for p in places(plain, Side.BID)) > 4  # without the table: the config's
