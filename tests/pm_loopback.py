"""Shared pieces of the Polymarket twin's tests: a twin on a free 127.0.0.1 port running on its
own thread and event loop (the official client is synchronous), calls onto that loop, and waits
on conditions with deadlines (never sleeps)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from core.simconfig import FlowConfig, SettlementConfig, SimConfig
from core.venues.loopback.polymarket import PmTwin, PmTwinSettings
from core.venues.loopback.serve import start_pm_twin, stop_pm_twin

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
WAIT_S = 10.0
T = TypeVar("T")


def binary(seed: int = 7, **more: Any) -> SimConfig:
    """A still binary market at 0.50 (tick 0.01, min 5 shares) that settles trades in 0.2 s."""
    settings: dict[str, Any] = {
        "market": "binary",
        "seed": seed,
        "flow": FlowConfig.still(),
        "settlement": SettlementConfig(delay_s=0.2),
        "collateral": Decimal("1000"),
        **more,
    }
    return SimConfig.model_validate(settings)


@dataclass
class Running:
    url: str
    twin: PmTwin
    loop: asyncio.AbstractEventLoop

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the twin's loop (the twin is not thread-safe) and return its result."""

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(WAIT_S)

    @property
    def ws(self) -> str:
        return self.url.replace("http", "ws", 1)


@contextmanager
def running(
    config: SimConfig | None = None, settings: PmTwinSettings | None = None
) -> Iterator[Running]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        try:
            twin, server = await start_pm_twin(config or binary(), settings=settings)
        except BaseException as exc:
            holder["error"] = exc
            ready.set()
            raise
        holder.update(twin=twin, server=server, stop=asyncio.Event())
        ready.set()
        await holder["stop"].wait()
        try:
            await stop_pm_twin(twin, server)
        except BaseException as exc:  # the driver failed during the test: fail it
            holder["error"] = exc

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(WAIT_S), "the twin did not start"
    if "error" in holder:
        thread.join(WAIT_S)
        raise holder["error"]
    try:
        yield Running(holder["server"].url, holder["twin"], loop)
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(WAIT_S)
        loop.close()
    if "error" in holder:
        raise holder["error"]


def until(condition: Callable[[], T], what: str, timeout: float = WAIT_S) -> T:
    """Wait until ``condition()`` is truthy (checked every 10 ms); its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        threading.Event().wait(0.01)
