"""D36 at the Hyperliquid boundary: what a fill costs and what funding pays, as the venue
writes them (``../shared/reference/hyperliquid.md`` 2.6, ``userFundings``), in exact millionths.

The fee (plus a builder's fee, when one is charged) and its token, the ``closedPnl`` and the
``startPosition`` ride on every ``Fill``; ``userFundings`` rows of our coin become ``Funding``
events, a snapshot's marked as such; a row that cannot be read is reported, the rest kept
(D34); a fee written with more than six decimals is rounded half to even, never refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.events import Funding
from core.units import Instrument
from core.venues.hyperliquid.mapping import Translator, micro
from core.venues.rows import MappingError

ETH = Instrument.hyperliquid_perp("ETH", 4, 25)
TR = Translator(ETH)


def _fill(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "coin": "ETH",
        "px": "2990.5",
        "sz": "0.5",
        "side": "A",
        "time": 1_700_000_000_000,
        "startPosition": "-0.25",
        "dir": "Open Short",
        "closedPnl": "-1.234567",
        "hash": "0x" + "0" * 64,
        "oid": 1,
        "crossed": False,
        "fee": "-0.029905",
        "tid": 9,
        "feeToken": "USDC",
    }
    row.update(over)
    return row


def _one(row: dict[str, Any]):  # type: ignore[no-untyped-def]
    rows = TR.fills([row], snapshot=False, what="userFills")
    ((_, fill),) = rows.items
    assert fill is not None and rows.bad == 0
    return fill


def test_a_fill_carries_its_fee_token_closed_pnl_and_start_position() -> None:
    fill = _one(_fill())
    assert (fill.fee, fill.fee_token, fill.closed_pnl) == (-29_905, "USDC", -1_234_567)
    assert fill.start_position == -2_500  # lots of 0.0001
    with_builder = _one(_fill(fee="0.1", builderFee="0.002", feeToken="HYPE"))
    assert (with_builder.fee, with_builder.fee_token) == (102_000, "HYPE")


def test_an_odd_start_position_only_skips_the_check() -> None:
    assert _one(_fill(startPosition="0.00001")).start_position is None


def test_money_is_exact_millionths_rounded_half_to_even() -> None:
    assert micro("0.0000005", "fee") == 0
    assert micro("0.0000015", "fee") == 2
    assert micro("-12.5", "usdc") == -12_500_000
    for bad in ("NaN", "1e999999", "x"):
        with pytest.raises(MappingError):
            micro(bad, "fee")


def test_user_fundings_rows_become_funding_events_and_a_bad_row_is_reported() -> None:
    rows = [
        {
            "time": 1_700_000_000_000,
            "coin": "ETH",
            "usdc": "-0.3",
            "szi": "1.0",
            "fundingRate": "0.0000125",
            "nSamples": None,
        },
        {"time": 1_700_003_600_000, "coin": "BTC", "usdc": "5", "szi": "1", "fundingRate": "0"},
        {"time": "soon", "coin": "ETH", "usdc": "1"},
    ]
    read = TR.fundings(rows, snapshot=True)
    assert read.items == [Funding(-300_000, 1_700_000_000.0, "0.0000125", snapshot=True)]
    assert read.bad == 1
