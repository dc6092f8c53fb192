"""Start the loopback twin: the exchange and its server, together, on 127.0.0.1.

``start_twin`` is what the end-to-end tests and ``mm-console sim-server`` use; ``run`` serves
until cancelled (Ctrl-C).  ``start_pm_twin`` / ``run_polymarket`` do the same for the Polymarket
twin (``mm-console sim-server --venue polymarket``: a binary ``SimConfig`` behind the CLOB V2
protocol).  Both bind to the loopback interface only (D21) and never print a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterable
from typing import TextIO

from core.clock import Clock, WallClock
from core.simconfig import SimConfig
from core.venues.keys import abbreviate
from core.venues.loopback.faults import TwinFaults
from core.venues.loopback.polymarket import PmTwin, PmTwinSettings
from core.venues.loopback.polymarket.transport import PmServer
from core.venues.loopback.server import LoopbackServer
from core.venues.loopback.twin import Twin


async def start_twin(
    config: SimConfig,
    *,
    account: str,
    agents: Iterable[str] = (),
    faults: TwinFaults | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    clock: Clock | None = None,
) -> tuple[Twin, LoopbackServer]:
    """A started twin and its listening server (``port`` 0: a free one, see ``server.port``)."""
    twin = Twin(config, clock or WallClock(), account=account, agents=agents, faults=faults)
    await twin.start()
    server = LoopbackServer(twin, host, port)
    try:
        await server.start()
    except BaseException:
        await twin.close()
        raise
    return twin, server


async def stop_twin(twin: Twin, server: LoopbackServer) -> None:
    await twin.close()
    await server.close()


async def run(
    config: SimConfig,
    *,
    account: str,
    agents: Iterable[str] = (),
    faults: TwinFaults | None = None,
    port: int,
    host: str = "127.0.0.1",
    out: TextIO = sys.stdout,
) -> None:
    """Serve until cancelled, saying where and for whom."""
    twin, server = await start_twin(
        config, account=account, agents=agents, faults=faults, port=port, host=host
    )
    inst = twin.instrument
    print(
        f"loopback twin of Hyperliquid serving {inst.symbol} (asset {inst.asset_id}, "
        f"szDecimals {inst.sz_decimals}) for account {abbreviate(twin.account)} on "
        f"{server.url} (WebSocket {server.url.replace('http', 'ws', 1)}/ws); Ctrl-C stops it",
        file=out,
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await stop_twin(twin, server)


async def start_pm_twin(
    config: SimConfig,
    *,
    settings: PmTwinSettings | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    clock: Clock | None = None,
) -> tuple[PmTwin, PmServer]:
    """A started Polymarket twin (``config`` must be a binary market) and its server."""
    twin = PmTwin(config, clock or WallClock(), settings)
    await twin.start()
    server = PmServer(twin, host, port)
    try:
        await server.start()
    except BaseException:
        await twin.close()
        raise
    return twin, server


async def stop_pm_twin(twin: PmTwin, server: PmServer) -> None:
    """Stop both; the twin's failure (its clock driver died) is raised after the server closed."""
    try:
        await twin.close()
    finally:
        await server.close()


async def run_polymarket(
    config: SimConfig,
    *,
    settings: PmTwinSettings | None = None,
    port: int,
    host: str = "127.0.0.1",
    out: TextIO = sys.stdout,
) -> None:
    """Serve the Polymarket twin until cancelled, saying where and what."""
    twin, server = await start_pm_twin(config, settings=settings, port=port, host=host)
    ws = server.url.replace("http", "ws", 1)
    print(
        f"loopback twin of Polymarket (CLOB V2, chain {twin.settings.chain_id}) serving market "
        f"{twin.condition_id} (YES {twin.yes.token_id}, NO {twin.no.token_id}, tick "
        f"{twin.tick}) on {server.url} (WebSocket {ws}/ws/market and {ws}/ws/user; control "
        f"{server.url}/_twin/state); Ctrl-C stops it",
        file=out,
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await stop_pm_twin(twin, server)
