"""Shared pieces of the Hyperliquid end-to-end tests: a twin on a free 127.0.0.1 port, the real
connector pointed at it, and an event collector that waits on conditions (never on sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from core.clock import WallClock
from core.events import Event
from core.simconfig import FlowConfig, SimConfig
from core.venues.hyperliquid.rest import fetch_instrument
from core.venues.hyperliquid.signing import Signer
from core.venues.hyperliquid.venue import Endpoints, HlSettings, HyperliquidVenue
from core.venues.keys import PrivateKey
from core.venues.loopback.faults import TwinFaults
from core.venues.loopback.serve import start_twin, stop_twin
from core.venues.loopback.server import LoopbackServer
from core.venues.loopback.twin import Twin

KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
OTHER_KEY = "0xe908f86dbb4d55ac876378565aafeabc187f6690f046459397b17d9b9a19688e"
E = TypeVar("E")


class Collector:
    """Every event a venue says, kept in order; ``wait_for`` waits for one that matches."""

    def __init__(self, venue: HyperliquidVenue) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._pump(venue))

    async def _pump(self, venue: HyperliquidVenue) -> None:
        async for event in venue.events():
            self.events.append(event)
            self._changed.set()

    async def wait_for(
        self, kind: type[E], where: Callable[[E], bool] = lambda _: True, timeout: float = 5.0
    ) -> E:
        seen = 0
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events[seen:]:
                    if isinstance(event, kind) and where(event):
                        return event
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@dataclass
class Loopback:
    twin: Twin
    server: LoopbackServer
    signer: Signer

    async def venue(
        self,
        *,
        timeout_s: float = 1.0,
        post_over_ws: bool = True,
        dead_man_s: float | None = None,
        signer: Signer | None = None,
    ) -> HyperliquidVenue:
        inst = await asyncio.to_thread(fetch_instrument, self.server.url, "ETH", 5.0)
        settings = HlSettings(
            Endpoints.for_network("testnet", self.server.url),
            self.signer.address,
            request_timeout_s=timeout_s,
            post_over_ws=post_over_ws,
            dead_man_s=dead_man_s,
        )
        return HyperliquidVenue(inst, signer or self.signer, settings, WallClock())


def lively(seed: int = 3, **flow: object) -> SimConfig:
    return SimConfig(seed=seed, flow=FlowConfig.model_validate({"taker_rate_per_s": 8.0, **flow}))


@asynccontextmanager
async def loopback(
    config: SimConfig | None = None, faults: TwinFaults | None = None
) -> AsyncIterator[Loopback]:
    signer = Signer(PrivateKey(KEY), is_mainnet=False)
    twin, server = await start_twin(
        config or SimConfig(flow=FlowConfig.still()), account=signer.address, faults=faults
    )
    try:
        yield Loopback(twin, server, signer)
    finally:
        await stop_twin(twin, server)
