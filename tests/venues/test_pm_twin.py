"""The Polymarket twin's scripted behaviours (reference section 8), over real sockets.

Trade lifecycles with RETRYING and FAILED (the exchange reverses the trade), tick size changes
(``tick_size_change``, then the old grid refused), the operating modes (425, post-only 503 with
``Retry-After`` and per item in batches, cancel-only, disabled), per-signer 429s, the dead-man
switch's expiry, the WebSocket channels (array-framed dump, PING/PONG, order and trade events,
dynamic subscriptions, stalls and abrupt closes with no replay), raw L2/order-auth refusals and
the control API over HTTP.  The official client does the signing; waits are on conditions with
deadlines, and the absence of a message is a bounded wait for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

import httpx
import pytest
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    OrderArgsV2,
    PartialCreateOrderOptions,
    PostOrdersV2Args,
)
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from core.venues.loopback.polymarket import PmTwinSettings
from core.venues.loopback.polymarket.auth import hmac_signature
from core.venues.polymarket import errors as pe
from tests.pm_loopback import KEY, OTHER_KEY, Running, binary, running, until


@pytest.fixture
def twin() -> Iterator[Running]:
    with running() as r:
        yield r


_SOCKETS = ExitStack()


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    """Every WebSocket a test opens is closed after it."""
    yield
    _SOCKETS.close()


def _connect(url: str) -> ClientConnection:
    return _SOCKETS.enter_context(connect(url))


def _client(twin: Running, key: str = KEY) -> ClobClient:
    client = ClobClient(twin.url, 137, key=key)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def _order(client: ClobClient, twin: Running, price: float, size: float = 10, side: str = "BUY"):
    args = OrderArgsV2(token_id=twin.twin.yes.token_id, price=price, size=size, side=side)
    return client.create_order(args)


def _refusal(call: Any) -> PolyApiException:
    with pytest.raises(PolyApiException) as caught:
        call()
    return caught.value


class Feed:
    """One WebSocket, read frame by frame (JSON decoded; ``PONG`` kept as text)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    def next(self, timeout: float = 5.0) -> Any:
        text = self.ws.recv(timeout=timeout)
        return text if text == "PONG" else json.loads(text)

    def until(self, match: Any, what: str, timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out waiting for {what}"
            frame = self.next(left)
            for item in frame if isinstance(frame, list) else [frame]:
                if match(item):
                    return item

    def silent_for(self, seconds: float) -> bool:
        try:
            self.ws.recv(timeout=seconds)
        except TimeoutError:
            return True
        return False


def _market(twin: Running) -> Feed:
    feed = Feed(_connect(twin.ws + "/ws/market"))
    assets = [twin.twin.yes.token_id, twin.twin.no.token_id]
    feed.ws.send(json.dumps({"type": "market", "assets_ids": assets, "initial_dump": True}))
    return feed


def _user(twin: Running, client: ClobClient) -> Feed:
    feed = Feed(_connect(twin.ws + "/ws/user"))
    creds = client.creds
    auth = {"apiKey": creds.api_key, "secret": creds.api_secret, "passphrase": creds.api_passphrase}
    feed.ws.send(json.dumps({"type": "user", "auth": auth, "markets": [twin.twin.condition_id]}))
    feed.ws.send("PING")
    assert feed.next() == "PONG"  # subscribed: the frame before the PING was read
    return feed


# ---- trade lifecycle --------------------------------------------------------------------


def test_a_scripted_failed_trade_goes_retrying_then_failed_and_moves_nothing(
    twin: Running,
) -> None:
    client = _client(twin)
    user = _user(twin, client)
    cash = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
    before = client.get_balance_allowance(cash)["balance"]
    twin.call(lambda: twin.twin.script_trades(["RETRYING", "FAILED"]))
    answer = client.post_order(_order(client, twin, 0.51, size=5))  # one trade at 0.51 (2.08)
    trade_id = answer["tradeIDs"][0]
    assert answer["status"] == "matched" and answer.get("transactionsHashes") == []
    statuses = []
    for wanted in ("MATCHED", "RETRYING", "FAILED"):
        event = user.until(
            lambda e, w=wanted: e.get("event_type") == "trade" and e["status"] == w, wanted
        )
        statuses.append(event["status"])
        assert event["id"] == trade_id and event["trader_side"] == "TAKER"
    rows = client.get_trades()
    failed = next(t for t in rows if t["id"] == trade_id)
    assert failed["status"] == "FAILED" and failed["transaction_hash"] == ""
    assert pe.classify(failed["err_msg"]) is not None
    # Nothing moved: the settled balance is what it was (the other trades are not ours).
    until(
        lambda: all(t["status"] in ("CONFIRMED", "FAILED") for t in client.get_trades()),
        "every trade settled",
    )
    spent = sum(Decimal(t["size"]) * Decimal(t["price"]) for t in rows if t["status"] != "FAILED")
    after = Decimal(client.get_balance_allowance(cash)["balance"]) / 1_000_000
    assert after <= Decimal(before) / 1_000_000 - spent  # less only the confirmed (and fees)
    assert twin.call(lambda: twin.twin.exchange.trade_status(twin.twin.trades[trade_id].tid)) == (
        "FAILED"
    )


def test_a_maker_fill_on_the_user_channel_is_in_maker_orders_then_confirmed(
    twin: Running,
) -> None:
    client = _client(twin)
    user = _user(twin, client)
    order_id = client.post_order(_order(client, twin, 0.48))["orderID"]
    placed = user.until(lambda e: e.get("type") == "PLACEMENT", "PLACEMENT")
    assert placed["id"] == order_id and placed["status"] == "LIVE"
    twin.call(lambda: twin.twin.take(False, "30", "0.48"))
    matched = user.until(
        lambda e: e.get("event_type") == "trade" and e["trader_side"] == "MAKER", "maker trade"
    )
    assert matched["status"] == "MATCHED" and matched["side"] == "SELL"
    assert [m["order_id"] for m in matched["maker_orders"]] == [order_id]
    update = user.until(lambda e: e.get("type") == "UPDATE", "UPDATE")
    assert update["size_matched"] == "10" and update["status"] == "MATCHED"
    for status in ("MINED", "CONFIRMED"):
        user.until(
            lambda e, s=status: (
                e.get("event_type") == "trade" and e["id"] == matched["id"] and e["status"] == s
            ),
            status,
        )


# ---- tick size ----------------------------------------------------------------------------


def test_a_tick_change_is_pushed_and_then_the_old_grid_is_refused() -> None:
    with running(binary(tick=Decimal("0.001"), start_price=Decimal("0.5"))) as twin:
        client = _client(twin)
        market = _market(twin)
        dump = market.next()
        assert isinstance(dump, list) and {b["event_type"] for b in dump} == {"book"}
        assert dump[0]["tick_size"] == "0.001"
        ok = client.post_order(_order(client, twin, 0.455))
        assert ok["success"]
        twin.call(lambda: twin.twin.change_tick("0.01"))
        change = market.until(lambda e: e.get("event_type") == "tick_size_change", "tick change")
        assert (change["old_tick_size"], change["new_tick_size"]) == ("0.001", "0.01")
        # The official client caches the tick forever: it still signs 0.455, and is refused.
        refused = _refusal(lambda: client.post_order(_order(client, twin, 0.445)))
        assert refused.status_code == 400
        message = refused.error_msg["error"]
        assert message.endswith("Price (0.445) breaks minimum tick size rule: 0.01")
        assert pe.classify(message).value == "PriceError"
        fresh = ClobClient(twin.url, 137, key=KEY, creds=client.creds)
        assert fresh.get_tick_size(twin.twin.yes.token_id) == "0.01"
        assert fresh.post_order(_order(fresh, twin, 0.44))["success"]
        # The resting 0.455 bid stays (the venue's handling is undocumented).
        assert client.get_order(ok["orderID"])["status"] == "LIVE"


# ---- operating modes and rate limits -----------------------------------------------------


def test_a_restart_is_425_then_post_only_mode_refuses_takers_per_item(twin: Running) -> None:
    client = _client(twin)
    twin.call(lambda: twin.twin.restart(30.0, post_only_s=60.0))
    with httpx.Client() as http:
        assert http.get(twin.url + "/ok").status_code == 200
    refused = _refusal(lambda: client.post_order(_order(client, twin, 0.45)))
    assert (refused.status_code, refused.error_msg) == (425, {"error": pe.SERVICE_NOT_READY})
    twin.call(lambda: twin.twin.set_mode("post_only", 60.0))
    refused = _refusal(lambda: client.post_order(_order(client, twin, 0.45)))
    assert refused.status_code == 503
    assert refused.error_msg["error"] == pe.POST_ONLY_MODE
    assert refused.error_msg["code"] == pe.POST_ONLY_MODE_CODE
    assert 0 < refused.error_msg["retry_after_seconds"] <= 60
    assert pe.classify_status(503, refused.error_msg["error"]).value == "RateLimit"
    posted = client.post_order(_order(client, twin, 0.45), post_only=True)
    assert posted["success"] and posted["status"] == "live"
    crossing = _refusal(lambda: client.post_order(_order(client, twin, 0.60), post_only=True))
    assert crossing.error_msg == {"error": pe.POST_ONLY_CROSSES}
    takers = [PostOrdersV2Args(order=_order(client, twin, p)) for p in (0.44, 0.43)]
    mixed = client.post_orders(takers)
    assert [(a["success"], a["errorMsg"], a["orderID"]) for a in mixed] == [
        (True, pe.POST_ONLY_MODE, ""),
        (True, pe.POST_ONLY_MODE, ""),
    ]
    assert client.cancel_all()["canceled"] == [posted["orderID"]]  # cancels still work


def test_the_post_only_mode_after_a_restart_ends_by_itself(twin: Running) -> None:
    client = _client(twin)
    twin.call(lambda: twin.twin.restart(0.1, post_only_s=0.2))
    until(lambda: twin.call(lambda: twin.twin.mode) == "post_only", "post-only after restart")
    until(lambda: twin.call(lambda: twin.twin.mode) == "normal", "normal again")
    assert client.post_order(_order(client, twin, 0.45))["success"]


def test_cancel_only_and_disabled(twin: Running) -> None:
    client = _client(twin)
    live = client.post_order(_order(client, twin, 0.45))["orderID"]
    twin.call(lambda: twin.twin.set_mode("cancel_only"))
    refused = _refusal(lambda: client.post_order(_order(client, twin, 0.44)))
    assert (refused.status_code, refused.error_msg) == (503, {"error": pe.CANCEL_ONLY})
    twin.call(lambda: twin.twin.set_mode("disabled"))
    refused = _refusal(lambda: client.cancel_all())
    assert (refused.status_code, refused.error_msg) == (503, {"error": pe.TRADING_DISABLED})
    twin.call(lambda: twin.twin.set_mode("cancel_only"))
    assert client.cancel_all()["canceled"] == [live]


def test_the_per_signer_order_bucket_answers_429_with_its_headers() -> None:
    with running(settings=PmTwinSettings(order_rate=0.5, order_burst=2)) as twin:
        client = _client(twin)
        for price in (0.40, 0.41):
            assert client.post_order(_order(client, twin, price))["success"]
        order = _order(client, twin, 0.42)
        body = order_to_json_v2(order, client.creds.api_key, "GTC")
        response = _raw(twin, client, "POST", "/order", body)
        assert response.status_code == 429
        assert response.json() == {"error": pe.TOO_MANY_REQUESTS}
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["poly-ratelimit-remaining"] == "0"
        assert "poly-ratelimit-reset" in response.headers
        other = _client(twin, OTHER_KEY)  # another signer has a bucket of its own
        assert other.get_open_orders() == []


# ---- the dead-man switch -------------------------------------------------------------------


def test_heartbeats_lapse_after_silence_and_every_order_is_cancelled() -> None:
    with running(settings=PmTwinSettings(heartbeat_timeout_s=0.3)) as twin:
        client = _client(twin)
        user = _user(twin, client)
        order_id = client.post_order(_order(client, twin, 0.45))["orderID"]
        first = client.post_heartbeat()["heartbeat_id"]
        cancelled = user.until(lambda e: e.get("type") == "CANCELLATION", "CANCELLATION")
        assert cancelled["id"] == order_id and cancelled["status"] == "CANCELED"
        assert client.get_open_orders() == []
        refused = _refusal(lambda: client.post_heartbeat(first))
        assert refused.error_msg == {"error": pe.INVALID_HEARTBEAT_ID, "heartbeat_id": ""}
        assert client.post_heartbeat("")["heartbeat_id"]  # a fresh start arms it again
        assert twin.call(lambda: twin.twin.heartbeat_lapses) == 1


# ---- WebSocket ---------------------------------------------------------------------------


def test_the_market_channel_dumps_as_an_array_then_pushes_changes_and_trades(
    twin: Running,
) -> None:
    client = _client(twin)
    market = _market(twin)
    dump = market.next()
    assert isinstance(dump, list) and len(dump) == 2
    yes = twin.twin.yes.token_id
    market.ws.send("PING")
    assert market.until(lambda e: e == "PONG", "PONG") == "PONG"
    client.post_order(_order(client, twin, 0.45))
    change = market.until(lambda e: e.get("event_type") == "price_change", "price_change")
    ours = next(c for c in change["price_changes"] if c["asset_id"] == yes)
    assert (ours["price"], ours["side"]) == ("0.45", "BUY")
    client.post_order(_order(client, twin, 0.51, size=5), defer_exec=True)
    last = market.until(lambda e: e.get("event_type") == "last_trade_price", "last trade")
    assert last["price"] in ("0.51", "0.49")  # YES at 0.51, or its NO mirror at 0.49
    book = market.until(lambda e: e.get("event_type") == "book", "book after the trade")
    assert book["hash"] and book["bids"] is not None


def test_dynamic_subscriptions_and_unknown_assets(twin: Running) -> None:
    feed = Feed(_connect(twin.ws + "/ws/market"))
    feed.ws.send(json.dumps({"type": "market", "assets_ids": ["123"]}))
    feed.ws.send("PING")
    assert feed.next() == "PONG"  # nothing dumped for an unknown asset
    feed.ws.send(json.dumps({"operation": "subscribe", "assets_ids": [twin.twin.no.token_id]}))
    dump = feed.next()
    assert [b["asset_id"] for b in dump] == [twin.twin.no.token_id]


def test_bad_user_credentials_close_the_socket(twin: Running) -> None:
    ws = _connect(twin.ws + "/ws/user")
    bad = {"apiKey": "nope", "secret": "x", "passphrase": "y"}
    ws.send(json.dumps({"type": "user", "auth": bad}))
    with pytest.raises(ConnectionClosed):  # the socket is gone
        ws.recv(timeout=5)


def test_a_stall_says_nothing_and_a_reconnect_replays_nothing(twin: Running) -> None:
    client = _client(twin)
    user = _user(twin, client)
    twin.call(twin.twin.stall_ws)
    user.ws.send("PING")
    missed = client.post_order(_order(client, twin, 0.45))["orderID"]
    assert user.silent_for(0.3)  # no PONG, no PLACEMENT
    twin.call(twin.twin.resume_ws)
    user.ws.send("PING")
    assert user.next() == "PONG"  # the PLACEMENT it missed never comes
    twin.call(twin.twin.drop_ws)
    with pytest.raises(ConnectionClosed):
        user.ws.recv(timeout=5)
    again = _user(twin, client)
    second = client.post_order(_order(client, twin, 0.44))["orderID"]
    placed = again.until(lambda e: e.get("type") == "PLACEMENT", "PLACEMENT")
    assert placed["id"] == second != missed  # only what happened after the reconnect


# ---- raw requests: what the official client never sends --------------------------------


def _raw(
    twin: Running, client: ClobClient, method: str, path: str, body: Any, *, sign: Any = None
) -> httpx.Response:
    data = json.dumps(body, separators=(",", ":")) if body is not None else ""
    ts = str(int(time.time()))
    creds = client.creds
    signature = hmac_signature(creds.api_secret, ts, method, path, (sign or data).encode())
    headers = {
        "POLY_ADDRESS": client.get_address(),
        "POLY_SIGNATURE": signature,
        "POLY_TIMESTAMP": ts,
        "POLY_API_KEY": creds.api_key,
        "POLY_PASSPHRASE": creds.api_passphrase,
        "Content-Type": "application/json",
    }
    with httpx.Client() as http:
        return http.request(method, twin.url + path, headers=headers, content=data)


def test_a_body_other_than_the_signed_one_is_401(twin: Running) -> None:
    client = _client(twin)
    body = order_to_json_v2(_order(client, twin, 0.45), client.creds.api_key, "GTC")
    response = _raw(twin, client, "POST", "/order", body, sign='{"other":1}')
    assert (response.status_code, response.json()) == (401, {"error": pe.UNAUTHORIZED})


def test_owner_and_signer_must_be_the_api_keys(twin: Running) -> None:
    client = _client(twin)
    other = _client(twin, OTHER_KEY)
    body = order_to_json_v2(_order(client, twin, 0.45), "someone-else", "GTC")
    response = _raw(twin, client, "POST", "/order", body)
    assert (response.status_code, response.json()) == (400, {"error": pe.OWNER_NOT_API_KEY})
    theirs = order_to_json_v2(_order(other, twin, 0.45), client.creds.api_key, "GTC")
    response = _raw(twin, client, "POST", "/order", theirs)
    assert (response.status_code, response.json()) == (400, {"error": pe.SIGNER_NOT_API_KEY})
    tampered = order_to_json_v2(_order(client, twin, 0.45), client.creds.api_key, "GTC")
    tampered["order"]["makerAmount"] = "4400000"
    response = _raw(twin, client, "POST", "/order", tampered)
    assert (response.status_code, response.json()) == (400, {"error": pe.INVALID_SIGNATURE})
    salted = order_to_json_v2(_order(client, twin, 0.45), client.creds.api_key, "GTC")
    salted["order"]["salt"] = str(salted["order"]["salt"])
    response = _raw(twin, client, "POST", "/order", salted)
    assert (response.status_code, response.json()) == (400, {"error": pe.INVALID_ORDER_PAYLOAD})


def test_duplicates_fok_fak_and_expiration(twin: Running) -> None:
    client = _client(twin)
    order = _order(client, twin, 0.45)
    order_id = client.post_order(order)["orderID"]
    refused = _refusal(lambda: client.post_order(order))
    assert refused.error_msg == {"error": pe.Texts.duplicated(order_id)}
    body = order_to_json_v2(_order(client, twin, 0.60, size=500), client.creds.api_key, "FOK")
    response = _raw(twin, client, "POST", "/order", body)
    assert response.json() == {"error": pe.FOK_NOT_FILLED}
    body = order_to_json_v2(_order(client, twin, 0.30, size=5), client.creds.api_key, "FAK")
    response = _raw(twin, client, "POST", "/order", body)
    assert response.json() == {"error": pe.FAK_NO_MATCH}
    gtd = _order(client, twin, 0.45)
    gtd.expiration = str(int(time.time()) + 30)
    body = order_to_json_v2(gtd, client.creds.api_key, "GTD")
    response = _raw(twin, client, "POST", "/order", body)
    assert response.json() == {"error": pe.INVALID_EXPIRATION}


def test_the_control_api_over_http(twin: Running) -> None:
    client = _client(twin)
    with httpx.Client() as http:
        state = http.get(twin.url + "/_twin/state").json()
        assert state["mode"] == "normal" and state["tokens"]["yes"] == twin.twin.yes.token_id
        answer = http.post(twin.url + "/_twin/mode", json={"mode": "cancel_only", "seconds": 60})
        assert answer.json()["mode"] == "cancel_only"
        assert http.post(twin.url + "/_twin/mode", json={"mode": "bogus"}).status_code == 400
        http.post(twin.url + "/_twin/mode", json={"mode": "normal"})
        http.post(twin.url + "/_twin/fund", json={"pusd": "5"})
    refused = _refusal(lambda: client.post_order(_order(client, twin, 0.45, size=20)))
    assert refused.error_msg == {"error": pe.NOT_ENOUGH_BALANCE}
    neg = ClobClient(twin.url, 137, key=KEY, creds=client.creds)
    wrong = neg.create_order(
        OrderArgsV2(token_id=twin.twin.yes.token_id, price=0.45, size=10, side="BUY"),
        PartialCreateOrderOptions(neg_risk=True),
    )
    assert _refusal(lambda: neg.post_order(wrong)).error_msg == {"error": pe.INVALID_SIGNATURE}


# ---- scripted answers: refusals and lost answers -------------------------------------------


def test_a_scripted_500_places_nothing_and_a_lost_answer_still_placed_the_order(
    twin: Running,
) -> None:
    client = _client(twin)
    twin.call(lambda: twin.twin.refuse_next_posts(500, pe.COULD_NOT_INSERT))
    refused = _refusal(lambda: client.post_order(_order(client, twin, 0.45)))
    assert (refused.status_code, refused.error_msg) == (500, {"error": pe.COULD_NOT_INSERT})
    assert pe.is_not_placed(refused.error_msg["error"])
    assert client.get_open_orders() == []
    twin.call(lambda: twin.twin.drop_next_answers(1))
    order = _order(client, twin, 0.45)
    lost = _refusal(lambda: client.post_order(order))
    assert lost.status_code is None  # the client's "Request exception!": an unknown outcome
    assert len(client.get_open_orders()) == 1  # it did rest: only a reconcile finds it (D8)


def test_a_gtd_order_leaves_the_book_a_minute_before_its_expiration() -> None:
    with running(settings=PmTwinSettings(min_gtd_s=0)) as twin:
        client = _client(twin)
        user = _user(twin, client)
        order = _order(client, twin, 0.45)
        order.expiration = str(int(time.time()) + 61)
        body = order_to_json_v2(order, client.creds.api_key, "GTD")
        placed = _raw(twin, client, "POST", "/order", body).json()
        assert placed["success"] and placed["status"] == "live"
        gone = user.until(lambda e: e.get("type") == "CANCELLATION", "expiry", timeout=5)
        assert gone["id"] == placed["orderID"] and gone["order_type"] == "GTD"
