"""The loopback twin under a client nobody here wrote: the official Hyperliquid Python SDK,
unchanged, as a user rehearsing on the twin would drive it before testnet (issue 19 item 6).

The twin runs on its own thread and event loop (the SDK is synchronous: ``requests`` and a
``websocket-client`` thread); every wait is on a condition with a deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    with _running(SimConfig(flow=FlowConfig.still()), None) as running:
        yield running


@contextmanager
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
    with _running(lively, None) as running:
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
            gaps = [b - a for a, b in itertools.pairwise(fast)]
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


def _exchange(running: Running) -> Exchange:
    return Exchange(Account.from_key(KEY), running.url)


def _mid(info: Info) -> float:
    return float(info.all_mids()["ETH"])


def _statuses(answer: dict[str, Any]) -> list[Any]:
    assert answer["status"] == "ok", answer
    return list(answer["response"]["data"]["statuses"])


def test_prices_the_venue_refuses_are_refused_with_its_texts(twin: Running) -> None:
    """An order ten times away from the market rested; an off-tick price got "Order has
    invalid price." where the venue says "Price must be divisible by tick size."."""
    exchange = _exchange(twin)
    mid = _mid(exchange.info)
    alo = {"limit": {"tif": "Alo"}}
    far = _statuses(exchange.order("ETH", True, 0.01, round(mid * 10, 2), alo))
    assert far == [{"error": "Order price cannot be more than 80% away from the reference price"}]
    low = _statuses(exchange.order("ETH", True, 0.1, round(mid * 0.15, 2), alo))
    assert "80% away" in low[0]["error"]
    off_tick = _statuses(exchange.order("ETH", True, 0.01, round(mid * 0.9, 2) + 0.005, alo))
    assert off_tick == [{"error": f"Price must be divisible by tick size. asset={twin.twin.asset}"}]
    fine = _statuses(exchange.order("ETH", True, 0.01, round(mid * 0.9, 2), alo))
    assert "resting" in fine[0]


def test_open_orders_say_their_time_in_force_and_a_cancel_names_its_asset(twin: Running) -> None:
    exchange = _exchange(twin)
    info = exchange.info
    mid = _mid(info)
    placed = _statuses(
        exchange.order("ETH", False, 0.01, round(mid * 1.1, 2), {"limit": {"tif": "Gtc"}})
    )
    oid = placed[0]["resting"]["oid"]
    rows = info.frontend_open_orders(exchange.wallet.address)
    assert [(r["oid"], r["tif"]) for r in rows] == [(oid, "Gtc")]
    assert info.query_order_by_oid(exchange.wallet.address, oid)["order"]["order"]["tif"] == "Gtc"
    gone = _statuses(exchange.cancel("ETH", oid + 1000))
    assert gone == [
        {"error": f"Order was never placed, already canceled, or filled. asset={twin.twin.asset}"}
    ]
    other = _signed(exchange, {"type": "cancel", "cancels": [{"a": 7, "o": 1}]})
    assert _statuses(other) == [
        {"error": "Order was never placed, already canceled, or filled. asset=7"}
    ]


def _signed(exchange: Exchange, action: dict[str, Any]) -> Any:
    """An action the SDK has no method for, signed and posted by the SDK's own functions."""
    from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action

    nonce = get_timestamp_ms()
    signature = sign_l1_action(exchange.wallet, action, None, nonce, None, False)
    return exchange._post_action(action, signature, nonce)


def test_margin_mode_switches_only_without_a_position_and_trades_match_our_fills() -> None:
    """updateLeverage ignored cross/isolated; the public trade and our fill of one match
    disagreed on ``tid`` and ``hash``."""
    with _running(SimConfig(flow=FlowConfig.still()), None) as running:
        exchange = _exchange(running)
        info = Info(running.url)  # the Exchange's own has no socket
        user = exchange.wallet.address
        trades: list[dict[str, Any]] = []
        try:
            info.subscribe({"type": "trades", "coin": "ETH"}, lambda m: trades.extend(m["data"]))
            # The socket takes subscriptions in order: once the book's first message is here,
            # the trades subscription sent before it is live (else a trade could beat it).
            books: list[Any] = []
            info.subscribe({"type": "l2Book", "coin": "ETH"}, books.append)
            _until(lambda: bool(books), "the first book after subscribing")
            assert exchange.update_leverage(3, "ETH", is_cross=False)["status"] == "ok"
            assert info.user_state(user)["assetPositions"] == []
            ask = float(info.l2_snapshot("ETH")["levels"][1][0]["px"])
            taken = _statuses(exchange.order("ETH", True, 0.01, ask, {"limit": {"tif": "Ioc"}}))
            assert "filled" in taken[0]
            position = info.user_state(user)["assetPositions"][0]["position"]
            assert position["leverage"] == {"type": "isolated", "value": 3}
            refused = exchange.update_leverage(3, "ETH", is_cross=True)
            assert refused == {
                "status": "err",
                "response": "Cannot switch leverage type with open position.",
            }
            fills = info.user_fills(user)
            _until(lambda: len(trades) >= len(fills), "the public trades of our fills")
            public = {(t["tid"], t["hash"]) for t in trades}
            assert {(f["tid"], f["hash"]) for f in fills} <= public
        finally:
            info.disconnect_websocket()


def test_an_order_cancelled_by_the_dead_mans_switch_says_so_when_asked() -> None:
    """orderStatus said ``canceled`` for an order the scheduled cancel took; the venue says
    ``scheduledCancel`` (the order updates did already)."""
    faults = TwinFaults(dead_man_min_volume=0)  # an account that has traded enough
    with _running(SimConfig(flow=FlowConfig.still()), faults) as running:
        exchange = _exchange(running)
        mid = _mid(exchange.info)
        placed = _statuses(
            exchange.order("ETH", True, 0.01, round(mid * 0.9, 2), {"limit": {"tif": "Alo"}})
        )
        oid = placed[0]["resting"]["oid"]
        armed = exchange.schedule_cancel(int(time.time() * 1000) + 5_100)
        assert armed["status"] == "ok", armed
        deadline = time.monotonic() + WAIT_S
        status = ""
        while status != "scheduledCancel" and time.monotonic() < deadline:
            threading.Event().wait(0.2)
            status = exchange.info.query_order_by_oid(exchange.wallet.address, oid)["order"][
                "status"
            ]
        assert status == "scheduledCancel"


def test_an_action_for_a_vault_the_twin_does_not_host_is_refused_not_misrouted(
    twin: Running,
) -> None:
    """``vaultAddress`` was ignored: an order meant for a vault landed on the main account."""
    vault = "0x" + "ab" * 20
    exchange = Exchange(Account.from_key(KEY), twin.url, vault_address=vault)
    mid = _mid(exchange.info)
    answer = exchange.order("ETH", True, 0.01, round(mid * 0.9, 2), {"limit": {"tif": "Alo"}})
    assert answer == {"status": "err", "response": f"Vault not registered: {vault}"}
    assert twin.call(twin.twin.open_order_count) == 0


def test_an_empty_batch_is_one_error_for_the_batch(twin: Running) -> None:
    answer = _exchange(twin).bulk_orders([])
    assert answer["status"] == "err" and isinstance(answer["response"], str)


def test_the_account_is_the_venues_closed_pnl_fees_margin_and_value(twin: Running) -> None:
    """The twin's account was a skeleton (marginUsed, unrealizedPnl and closedPnl always
    zero).  Buy, then sell half higher: the closing fill's closedPnl is its price difference
    times its size, fees are charged at the base tier, and the account value is collateral +
    closed PnL - fees + the open half at the mark."""
    from decimal import Decimal as D

    exchange = _exchange(twin)
    info = exchange.info
    user = exchange.wallet.address
    book = info.l2_snapshot("ETH")["levels"]
    ask = float(book[1][0]["px"])
    bought = _statuses(exchange.order("ETH", True, 0.02, ask, {"limit": {"tif": "Ioc"}}))
    assert "filled" in bought[0]
    bid = float(info.l2_snapshot("ETH")["levels"][0][0]["px"])
    sold = _statuses(exchange.order("ETH", False, 0.01, bid, {"limit": {"tif": "Ioc"}}))
    assert "filled" in sold[0]
    fills = sorted(info.user_fills(user), key=lambda f: f["tid"])
    buys = [f for f in fills if f["side"] == "B"]
    sells = [f for f in fills if f["side"] == "A"]
    entry = sum(D(f["px"]) * D(f["sz"]) for f in buys) / sum(D(f["sz"]) for f in buys)
    closed = sum(D(f["closedPnl"]) for f in sells)
    expected = sum((D(f["px"]) - entry) * D(f["sz"]) for f in sells)
    assert abs(closed - expected) <= D("0.000002") * len(sells)
    assert all(D(f["closedPnl"]) == 0 for f in buys)  # opening fills close nothing
    fees = sum(D(f["fee"]) for f in fills)
    assert fees == sum(
        (D(f["px"]) * D(f["sz"]) * D("0.00045")).quantize(D("0.000001")) for f in fills
    )
    state = info.user_state(user)
    position = state["assetPositions"][0]["position"]
    assert D(position["szi"]) == D("0.01")
    mark = D(info.all_mids()["ETH"])
    assert D(position["unrealizedPnl"]) == ((mark - D(position["entryPx"])) * D("0.01")).quantize(
        D("0.000001")
    )
    assert D(position["marginUsed"]) == (D("0.01") * mark / position["leverage"]["value"]).quantize(
        D("0.000001")
    )
    assert position["liquidationPx"] is None or D(position["liquidationPx"]) < mark
    value = D(state["marginSummary"]["accountValue"])
    assert abs(value - (D("100000") + closed - fees + D(position["unrealizedPnl"]))) <= D("0.00001")


def test_the_margin_table_is_served_and_its_limit_refused_with_the_venues_text() -> None:
    """The twin capped every position at a fixed 20 coins; now meta carries the margin table
    and an order that would take the position past the tier at the account's leverage is
    refused as the venue refuses it.  Our connector reads the same table."""
    from decimal import Decimal as D

    from core.venues.hyperliquid.rest import fetch_instrument

    tiers = ((D(0), 25), (D(1000), 5))  # past $1,000 of position only 5x: at 10x, $1,000
    config = SimConfig(flow=FlowConfig.still(), margin_tiers=tiers)
    with _running(config, None) as running:
        exchange = _exchange(running)
        meta = exchange.info.meta()
        (table_id, table), *_ = meta["marginTables"]
        assert meta["universe"][running.twin.asset]["marginTableId"] == table_id
        assert [(t["lowerBound"], t["maxLeverage"]) for t in table["marginTiers"]] == [
            ("0", 25),
            ("1000", 5),
        ]
        assert fetch_instrument(running.url, "ETH", 5.0).margin_tiers == tiers
        mid = _mid(exchange.info)
        alo = {"limit": {"tif": "Alo"}}
        small = _statuses(exchange.order("ETH", True, 0.3, round(mid * 0.95, 2), alo))
        assert "resting" in small[0]  # about $855
        big = _statuses(exchange.order("ETH", True, 0.4, round(mid * 0.95, 2), alo))
        assert big == [
            {
                "error": "Order would cause position to exceed margin tier limit at current "
                f"leverage. asset={running.twin.asset}"
            }
        ]
