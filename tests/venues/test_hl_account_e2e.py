"""D36 end to end: a session of the real Runner and MarketMaker on the loopback twin, then the
venue's own records read back by the official Hyperliquid SDK (a client nobody here wrote):
our fees and funding equal the venue's to the millionth, and the PnL our average cost says each
fill closed equals the venue's ``closedPnl`` -- every fill compared, none disagreeing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hyperliquid.info import Info

from core.exitcodes import EXIT_HALTED
from core.pnl import MICRO
from core.simconfig import FundingConfig
from core.view import Mode
from tests.hl_loopback import lively, loopback
from tests.venues.test_hl_e2e import maker_and_runner, stop, view_until


def _micro(text: str) -> int:
    return int(Decimal(text) * MICRO)


def test_fees_funding_and_closed_pnl_agree_with_the_venue_to_the_unit_D36() -> None:
    # Funding every second at a rate far above any real one, so that a short session pays it.
    config = lively(seed=7).model_copy(
        update={"funding": FundingConfig(interval_s=1.0, mean_rate=0.001, volatility=0.0005)}
    )

    async def scenario() -> None:
        async with loopback(config) as lb:
            venue = await lb.venue()
            maker, runner = maker_and_runner(venue)
            task = asyncio.create_task(runner.run())
            await view_until(
                runner,
                lambda v: (
                    v.costs is not None and v.costs.closed_checked >= 3 and v.costs.fundings >= 2
                ),
                timeout=40,
            )
            result = await stop(runner, task)
            assert result.clean, result
            user = lb.signer.address
            info = await asyncio.to_thread(Info, lb.server.url, True)  # it reads meta at once
            fills = await asyncio.to_thread(info.user_fills, user)
            fundings = await asyncio.to_thread(info.user_funding_history, user, 0)
            costs = maker.costs
            assert maker.counters["fills"] == len(fills)
            assert costs.fees == sum(_micro(f["fee"]) for f in fills)
            assert costs.funding == sum(_micro(f["delta"]["usdc"]) for f in fundings)
            assert costs.fundings == len(fundings) >= 2
            # Every fill compared (none arrived out of the venue's order here), none apart.
            assert costs.checked == len(fills)
            assert costs.closed_mismatches == 0
            venue_closed = sum(_micro(f["closedPnl"]) for f in fills)
            assert costs.closed_ours == costs.closed_venue == venue_closed
            # Our exact realised PnL is the venue's sum up to its per-fill rounding.
            assert abs(costs.quote_of(maker.position.realized) - venue_closed) <= len(fills)

    asyncio.run(scenario())


def test_the_twin_liquidates_a_bled_account_and_the_maker_kills_at_once_D41() -> None:
    """A thin account holding 1 ETH, bled by funding every second: the twin liquidates it at
    maintenance margin with the venue's fill shape (``dir`` "Liquidated Cross ...", a
    ``liquidation`` object naming us) and the ``user`` event; the maker is killed, shows it,
    and the run ends with exit 3."""
    config = lively(seed=11).model_copy(
        update={
            "collateral": Decimal("100"),
            "start_position": Decimal("1"),
            "funding": FundingConfig(interval_s=1.0, mean_rate=0.004, volatility=0.0),
        }
    )

    async def scenario() -> None:
        async with loopback(config) as lb:
            venue = await lb.venue()
            maker, runner = maker_and_runner(venue)
            task = asyncio.create_task(runner.run())
            await view_until(runner, lambda v: bool(v.liquidation), timeout=40)
            view = runner.latest_view
            assert view is not None and view.mode is Mode.KILLED
            # Whichever the connector read first: the fill, or the account event beside it.
            assert view.liquidation.startswith(("Liquidated Cross", "the venue liquidated"))
            result = await stop(runner, task)
            assert result.liquidations >= 1 and result.exit_code == EXIT_HALTED
            user = lb.signer.address
            info = await asyncio.to_thread(Info, lb.server.url, True)
            fills = await asyncio.to_thread(info.user_fills, user)
            liquidated = [f for f in fills if f["dir"].startswith("Liquidated Cross")]
            assert liquidated, fills
            assert all(f["liquidation"]["liquidatedUser"] == user.lower() for f in liquidated)
            assert maker.position.lots == lb.twin.position == 0

    asyncio.run(scenario())
