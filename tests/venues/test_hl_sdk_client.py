"""The loopback twin under a client nobody here wrote: the official Hyperliquid Python SDK,
unchanged, as a user rehearsing on the twin would drive it before testnet (issue 19 item 6).

The twin runs on its own thread and event loop (the SDK is synchronous: ``requests`` and a
``websocket-client`` thread); every wait is on a condition with a deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from core.simconfig import FlowConfig, SimConfig
from core.venues.loopback.faults import TwinFaults
from core.venues.loopback.serve import start_twin, stop_twin
from core.venues.loopback.twin import Twin
from core.venues.loopback.twin.feeds import FAST_LEVELS, SLOW_LEVELS
from tests.hl_loopback import KEY

WAIT_S = 10.0


@dataclass
class Running:
    url: str
    twin: Twin
    loop: asyncio.AbstractEventLoop

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the twin's loop (the twin is not thread-safe) and return its result."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(WAIT_S)


@pytest.fixture
def twin() -> Iterator[Running]:
    yield from _running(SimConfig(flow=FlowConfig.still()), None)


def _running(config: SimConfig, faults: TwinFaults | None) -> Iterator[Running]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}
    account = Account.from_key(KEY).address

    async def main() -> None:
        twin, server = await start_twin(config, account=account, faults=faults)
        holder.update(twin=twin, server=server, stop=asyncio.Event())
        ready.set()
        await holder["stop"].wait()
        await stop_twin(twin, server)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(WAIT_S), "the twin did not start"
    try:
        yield Running(holder["server"].url, holder["twin"], loop)
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(WAIT_S)
        loop.close()


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        threading.Event().wait(0.01)


def test_the_sdks_default_constructors_work_and_read_the_market(twin: Running) -> None:
    """``Info(url)`` (with its WebSocket) and ``Exchange(wallet, url)`` read ``spotMeta``
    before anything else: a 422 there used to raise with the SDK's socket thread running, and
    the process hung."""
    info = Info(twin.url)
    try:
        assert info.spot_meta()["universe"] == []
        assert "ETH" in info.name_to_coin
        assert info.meta()["universe"][info.coin_to_asset["ETH"]]["name"] == "ETH"
        exchange = Exchange(Account.from_key(KEY), twin.url)
        assert exchange.info.coin_to_asset["ETH"] == twin.twin.asset
        assert float(info.all_mids()["ETH"]) > 0
    finally:
        info.disconnect_websocket()


def test_every_market_feed_the_sdk_knows_is_served_at_the_venues_pace(twin: Running) -> None:
    """bbo, allMids and activeAssetCtx were refused; l2Book came every 0.1 s.  Now each feed
    opens with a snapshot, and the book's two paces carry 20 (slow) or 5 (fast) levels."""
    info = Info(twin.url)
    got: dict[str, list[dict[str, Any]]] = {}

    def keep(kind: str) -> Callable[[Any], None]:
        return lambda message: got.setdefault(kind, []).append(message)

    try:
        info.subscribe({"type": "bbo", "coin": "ETH"}, keep("bbo"))
        info.subscribe({"type": "allMids"}, keep("allMids"))
        info.subscribe({"type": "activeAssetCtx", "coin": "ETH"}, keep("ctx"))
        info.subscribe({"type": "l2Book", "coin": "ETH"}, keep("book"))
        _until(lambda: all(k in got for k in ("bbo", "allMids", "ctx", "book")), "every feed")
        bid, ask = got["bbo"][0]["data"]["bbo"]
        assert float(bid["px"]) < float(ask["px"])
        assert float(got["allMids"][0]["data"]["mids"]["ETH"]) == pytest.approx(
            (float(bid["px"]) + float(ask["px"])) / 2
        )
        assert got["ctx"][0]["data"]["coin"] == "ETH" and "markPx" in got["ctx"][0]["data"]["ctx"]
        bids, asks = got["book"][0]["data"]["levels"]
        assert 5 < len(bids) <= SLOW_LEVELS and 5 < len(asks) <= SLOW_LEVELS
    finally:
        info.disconnect_websocket()


def test_the_fast_book_and_its_cadence() -> None:
    """With ``fast`` the book is 5 levels, pushed at most every 0.5 s while it changes; the
    default pushes at most every 5 s -- a staleness limit tuned on the twin is tuned on the
    venue's pace now."""
    lively = SimConfig(seed=3, flow=FlowConfig.model_validate({"taker_rate_per_s": 20.0}))
    for running in _running(lively, None):
        # Two clients: the SDK routes both books of one coin to every callback of that coin.
        info, slow_info = Info(running.url), Info(running.url)
        fast: list[float] = []
        slow: list[float] = []
        levels: list[int] = []

        def on_fast(message: Any) -> None:
            fast.append(time.monotonic())
            levels.append(len(message["data"]["levels"][0]))

        try:
            info.subscribe({"type": "l2Book", "coin": "ETH", "fast": True}, on_fast)
            slow_info.subscribe({"type": "l2Book", "coin": "ETH"}, lambda _: slow.append(0.0))
            _until(lambda: len(fast) >= 5, "five fast books")
            gaps = [b - a for a, b in zip(fast, fast[1:], strict=False)]
            assert min(gaps) >= 0.45, gaps  # at most every ~0.5 s
            assert set(levels) == {FAST_LEVELS}
            assert len(slow) <= 2  # the snapshot, and at most one more within ~2.5 s
        finally:
            info.disconnect_websocket()
            slow_info.disconnect_websocket()


def test_the_dead_mans_switch_is_refused_to_a_fresh_account(twin: Running) -> None:
    """The venue refuses ``scheduleCancel`` below $1,000,000 traded: a new bot account
    cannot rely on it.  The twin granted it to everyone."""
    exchange = Exchange(Account.from_key(KEY), twin.url)
    answer = exchange.schedule_cancel(int(time.time() * 1000) + 60_000)
    assert answer["status"] == "err"
    assert answer["response"].startswith("Cannot set scheduled cancel time until enough volume")
    assert not twin.call(lambda: twin.twin.dead_man_armed)
