"""The instrument as the venue describes it in ``meta`` (D20): grids from ``szDecimals``, the
asset id from the coin's place in the universe, margin tiers from the table it names (issue
19).  Read once, before anything trades; a split from ``mapping`` because it builds the
``Instrument`` that the codec there then converts with."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from core.units import Instrument, UnitError
from core.venues.hyperliquid.wire import AssetMeta, MarginTable
from core.venues.rows import MappingError


def instrument_from_meta(
    universe: Sequence[AssetMeta],
    coin: str,
    margin_tables: Sequence[tuple[int, MarginTable]] | None = None,
) -> Instrument:
    """The instrument of ``coin``: asset id = its index in ``universe`` (delisted entries
    included, reference 2.1), grids from ``szDecimals``, margin tiers from the table its
    ``marginTableId`` names (issue 19)."""
    for index, asset in enumerate(universe):
        if asset.name == coin:
            if asset.isDelisted:
                raise MappingError(f"{coin} is delisted on this venue")
            base = Instrument.hyperliquid_perp(coin, asset.szDecimals, asset.maxLeverage, index)
            tiers = _margin_tiers(asset, margin_tables or ())
            try:
                return dataclasses.replace(base, margin_tiers=tiers) if tiers else base
            except UnitError as exc:
                raise MappingError(f"{coin}: unusable margin table: {exc}") from None
    names = ", ".join(a.name for a in universe[:12])
    raise MappingError(f"{coin} is not listed in meta (first coins: {names})")


def _margin_tiers(
    asset: AssetMeta, tables: Sequence[tuple[int, MarginTable]]
) -> tuple[tuple[Decimal, int], ...]:
    """The asset's tiers, lowest bound first; none when it names no table."""
    if asset.marginTableId is None:
        return ()
    table = next((t for i, t in tables if i == asset.marginTableId), None)
    if table is None:
        raise MappingError(f"{asset.name}: margin table {asset.marginTableId} is not in meta")
    try:
        tiers = tuple(sorted((Decimal(t.lowerBound), t.maxLeverage) for t in table.marginTiers))
    except ArithmeticError:
        raise MappingError(f"{asset.name}: margin table {asset.marginTableId} unreadable") from None
    return tiers
