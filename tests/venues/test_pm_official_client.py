"""The Polymarket twin under a client nobody here wrote: the official ``py_clob_client_v2``
``ClobClient`` 1.2.1, unchanged, over real loopback sockets -- as a user rehearsing on the twin
would drive it before the venue.

Every call the client makes for credentials, orders, cancels, listings, balances and heartbeats
must succeed against the twin with the venue's shapes, and every refusal must come back with the
venue's status and verbatim text.  The twin runs on its own thread and loop; waits are on
conditions with deadlines, never sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    MarketOrderArgsV2,
    OpenOrderParams,
    OrderArgsV2,
    OrderMarketCancelParams,
    OrderPayload,
    OrderType,
    PartialCreateOrderOptions,
    PostOrdersV2Args,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException

from core.venues.loopback.polymarket import PmTwinSettings
from core.venues.polymarket import errors as pe
from tests.pm_loopback import KEY, Running, running, until


@pytest.fixture
def twin() -> Iterator[Running]:
    with running(settings=PmTwinSettings(page_size=2)) as r:
        yield r


def _client(twin: Running, key: str = KEY, creds: ApiCreds | None = None) -> ClobClient:
    client = ClobClient(twin.url, 137, key=key, creds=creds)
    if creds is None:
        client.set_api_creds(client.create_or_derive_api_key())
    return client


def _buy(client: ClobClient, twin: Running, price: float, size: float = 10) -> Any:
    args = OrderArgsV2(token_id=twin.twin.yes.token_id, price=price, size=size, side="BUY")
    return client.create_order(args)


def _refusal(call: Any) -> PolyApiException:
    with pytest.raises(PolyApiException) as caught:
        call()
    return caught.value


def test_credentials_are_created_then_derived_the_same_and_unknown_ones_are_refused(
    twin: Running,
) -> None:
    client = ClobClient(twin.url, 137, key=KEY)
    created = client.create_or_derive_api_key()
    again = client.create_or_derive_api_key()  # create on an existing set: the same creds
    assert created == again == client.derive_api_key()
    assert created.api_key and created.api_secret and created.api_passphrase
    other = client.create_api_key(nonce=1)  # the L1 nonce selects another set
    assert other.api_key != created.api_key
    refused = _refusal(lambda: client.derive_api_key(nonce=2))
    assert (refused.status_code, refused.error_msg) == (400, {"error": pe.COULD_NOT_DERIVE_API_KEY})


def test_a_wrong_secret_or_passphrase_is_401_and_a_foreign_key_cannot_use_the_creds(
    twin: Running,
) -> None:
    good = _client(twin).creds
    bad_secret = ApiCreds(good.api_key, "A" * 43 + "=", good.api_passphrase)
    refused = _refusal(lambda: _client(twin, creds=bad_secret).get_open_orders())
    assert (refused.status_code, refused.error_msg) == (401, {"error": pe.UNAUTHORIZED})
    bad_phrase = ApiCreds(good.api_key, good.api_secret, "nope")
    refused = _refusal(lambda: _client(twin, creds=bad_phrase).cancel_all())
    assert refused.status_code == 401
    stranger = Account.create().key.hex()
    refused = _refusal(lambda: _client(twin, key=stranger, creds=good).get_trades())
    assert (refused.status_code, refused.error_msg) == (401, {"error": pe.UNAUTHORIZED})


def test_an_order_rests_lists_and_cancels_by_its_eip712_digest(twin: Running) -> None:
    client = _client(twin)

    def level(price: str) -> float:
        bids = client.get_order_book(twin.twin.yes.token_id)["bids"]
        return sum(float(b["size"]) for b in bids if b["price"] == price)

    before = level("0.45")
    order = _buy(client, twin, 0.45)
    answer = client.post_order(order)
    assert answer["success"] and answer["status"] == "live" and answer["errorMsg"] == ""
    order_id = answer["orderID"]
    assert order_id.startswith("0x") and len(order_id) == 66
    row = client.get_order(order_id)
    assert (row["status"], row["side"], row["price"], row["original_size"]) == (
        "LIVE",
        "BUY",
        "0.45",
        "10",
    )
    assert row["owner"] == client.creds.api_key and row["outcome"] == "Yes"
    assert level("0.45") == pytest.approx(before + 10)
    book = client.get_order_book(twin.twin.yes.token_id)
    assert client.get_order_book_hash(dict(book)) == book["hash"]  # the SHA-1 as the client has it
    assert float(book["bids"][-1]["price"]) > float(book["bids"][0]["price"])  # best last
    assert float(book["asks"][-1]["price"]) < float(book["asks"][0]["price"])
    assert [o["id"] for o in client.get_open_orders()] == [order_id]
    assert client.cancel_order(OrderPayload(orderID=order_id)) == {
        "canceled": [order_id],
        "not_canceled": {},
    }
    assert client.cancel_order(OrderPayload(orderID=order_id))["not_canceled"] == {
        order_id: pe.NOT_FOUND_OR_CANCELED
    }
    assert client.get_open_orders() == []
    assert client.get_order(order_id)["status"] == "CANCELED"


def test_a_batch_answers_each_order_in_turn_and_more_than_15_is_refused_whole(
    twin: Running,
) -> None:
    client = _client(twin)
    orders = [_buy(client, twin, 0.40), _buy(client, twin, 0.41, size=3), _buy(client, twin, 0.42)]
    answers = client.post_orders([PostOrdersV2Args(order=o) for o in orders])
    assert [a["success"] for a in answers] == [True, False, True]
    bad = answers[1]
    assert bad["orderID"] == "" and bad["errorMsg"].endswith("Size (3) lower than the minimum: 5")
    assert pe.classify(bad["errorMsg"]).value == "PriceError"
    live = {o["id"] for o in client.get_open_orders()}  # two pages of two: MA== ... LTE=
    assert live == {answers[0]["orderID"], answers[2]["orderID"]}
    many = [PostOrdersV2Args(order=_buy(client, twin, 0.30)) for _ in range(16)]
    refused = _refusal(lambda: client.post_orders(many))
    assert refused.status_code == 400
    assert refused.error_msg == {"error": pe.Texts.too_many_orders(16)}


def test_listing_pages_until_lte_and_cancels_by_many_market_and_all(twin: Running) -> None:
    client = _client(twin)
    ids = [client.post_order(_buy(client, twin, 0.30 + i / 100))["orderID"] for i in range(5)]
    assert sorted(o["id"] for o in client.get_open_orders()) == sorted(ids)  # three pages
    first = client.get_open_orders(only_first_page=True)
    assert len(first) == 2
    assert client.cancel_orders(ids[:2])["canceled"] == ids[:2]
    yes = twin.twin.yes.token_id
    by_asset = client.cancel_market_orders(OrderMarketCancelParams(asset_id=yes))
    assert sorted(by_asset["canceled"]) == sorted(ids[2:])
    more = client.post_order(_buy(client, twin, 0.31))["orderID"]
    market = twin.twin.condition_id
    assert client.get_open_orders(OpenOrderParams(market=market))[0]["id"] == more
    assert client.cancel_all() == {"canceled": [more], "not_canceled": {}}
    assert client.get_open_orders() == []


def test_fills_as_taker_and_as_maker_reach_the_trades_with_hashes(twin: Running) -> None:
    client = _client(twin)
    resting = client.post_order(_buy(client, twin, 0.48))["orderID"]
    # A crossing buy: matched at once; post_order polls /data/trades until each trade has its
    # transaction hash (the twin settles in 0.2 s, not the client's 30 s).
    taken = client.post_order(_buy(client, twin, 0.53, size=6))
    assert taken["status"] == "matched" and taken["tradeIDs"]
    assert len(taken["transactionsHashes"]) == len(taken["tradeIDs"])
    assert taken["takingAmount"] == "6"
    twin.call(lambda: twin.twin.take(False, "30", "0.48"))  # a seller sweeps down to our bid

    def settled() -> list[dict[str, Any]] | None:
        rows = client.get_trades()
        return rows if all(t["status"] == "CONFIRMED" for t in rows) else None

    trades = until(settled, "every trade confirmed")
    taker_rows = [t for t in trades if t["trader_side"] == "TAKER"]
    maker_rows = [t for t in trades if t["trader_side"] == "MAKER"]
    assert {t["id"] for t in taker_rows} == set(taken["tradeIDs"])
    assert all(t["taker_order_id"] == taken["orderID"] for t in taker_rows)
    assert maker_rows, "the synthetic seller filled our resting bid"
    ours = maker_rows[0]["maker_orders"][0]
    assert (ours["order_id"], ours["side"], ours["price"]) == (resting, "BUY", "0.48")
    assert maker_rows[0]["side"] == "SELL"  # the top level is the taker's
    assert all(t["transaction_hash"] for t in trades)
    one = client.get_trades(TradeParams(id=taker_rows[0]["id"]))
    assert [t["id"] for t in one] == [taker_rows[0]["id"]]
    assert client.get_order(resting)["status"] == "MATCHED"


def test_balances_and_their_refresh(twin: Running) -> None:
    client = _client(twin)
    cash = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert cash["balance"] == "1000000000"  # 1000 pUSD in millionths
    assert set(cash["allowances"]) == {
        "0xE111180000d2663C0091e4f400237545B87B996B",
        "0xe2222d279d744050d28e00520010520000310F59",
    }
    yes = twin.twin.yes.token_id
    shares = BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=yes)
    assert client.get_balance_allowance(shares)["balance"] == "0"
    assert client.update_balance_allowance(shares) == {}
    sell = client.create_order(OrderArgsV2(token_id=yes, price=0.6, size=5, side="SELL"))
    refused = _refusal(lambda: client.post_order(sell))
    assert refused.error_msg == {"error": pe.NOT_ENOUGH_BALANCE}


def test_heartbeats_chain_and_a_stale_id_gets_the_expected_one(twin: Running) -> None:
    client = _client(twin)
    first = client.post_heartbeat()["heartbeat_id"]
    second = client.post_heartbeat(first)["heartbeat_id"]
    assert first and second and first != second
    refused = _refusal(lambda: client.post_heartbeat(first))
    assert refused.status_code == 400
    assert refused.error_msg == {"error": pe.INVALID_HEARTBEAT_ID, "heartbeat_id": second}
    assert client.post_heartbeat(second)["heartbeat_id"]


def test_a_signature_for_the_wrong_exchange_is_invalid(twin: Running) -> None:
    client = _client(twin)
    yes = twin.twin.yes.token_id
    args = OrderArgsV2(token_id=yes, price=0.45, size=10, side="BUY")
    wrong = client.create_order(args, PartialCreateOrderOptions(neg_risk=True))
    refused = _refusal(lambda: client.post_order(wrong))
    assert (refused.status_code, refused.error_msg) == (400, {"error": pe.INVALID_SIGNATURE})


def test_the_market_data_the_client_reads(twin: Running) -> None:
    client = _client(twin)
    pm = twin.twin
    assert client.get_ok() == "OK"
    assert client.get_version() == 2
    assert abs(client.get_server_time() - int(pm.epoch())) <= 1
    assert client.get_tick_size(pm.yes.token_id) == "0.01"
    assert client.get_neg_risk(pm.no.token_id) is False
    info = client.get_clob_market_info(pm.condition_id)
    assert [t["t"] for t in info["t"]] == [pm.yes.token_id, pm.no.token_id]
    market = client.get_market(pm.condition_id)
    assert market["minimum_tick_size"] == 0.01 and market["minimum_order_size"] == 5
    no_book = client.get_order_book(pm.no.token_id)
    yes_book = client.get_order_book(pm.yes.token_id)
    # The NO book is the YES book turned over: NO bids at 1 - YES asks.
    assert [round(1 - float(b["price"]), 4) for b in no_book["bids"]] == [
        float(a["price"]) for a in yes_book["asks"]
    ]


def test_a_deposit_wallet_signs_erc7739_and_its_owner_holds_the_creds(twin: Running) -> None:
    """Signature type 3 (POLY_1271): maker and signer are the deposit wallet, the inner
    signature is the owner's, wrapped as ERC-7739 -- the twin recovers the owner."""
    wallet = "0x1111111111111111111111111111111111111111"
    client = ClobClient(twin.url, 137, key=KEY, signature_type=3, funder=wallet)
    client.set_api_creds(client.create_or_derive_api_key())
    answer = client.post_order(_buy(client, twin, 0.45))
    assert answer["success"]
    assert client.get_order(answer["orderID"])["maker_address"] == wallet
    cash = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert int(cash["balance"]) > 0
    stranger = ClobClient(twin.url, 137, key=KEY, signature_type=0)  # the owner's own EOA
    stranger.set_api_creds(client.creds)
    refused = _refusal(lambda: stranger.post_order(_buy(stranger, twin, 0.44)))
    assert refused.error_msg == {"error": pe.MAKER_NOT_ALLOWED}


def test_market_orders_price_from_the_book_and_fill_or_kill(twin: Running) -> None:
    """``create_market_order`` reads /markets-by-token, /clob-markets and /book; the amounts it
    signs (pUSD to 2 decimals, shares to 4) are accepted at their implied worst price."""
    client = _client(twin)
    yes = twin.twin.yes.token_id
    buy = client.create_market_order(
        MarketOrderArgsV2(token_id=yes, amount=5, side="BUY", order_type=OrderType.FOK)
    )
    bought = client.post_order(buy, OrderType.FOK)
    assert bought["status"] == "matched" and bought["transactionsHashes"]
    assert float(bought["makingAmount"]) <= 5
    huge = client.create_market_order(
        MarketOrderArgsV2(
            token_id=yes, amount=500, price=0.52, side="BUY", order_type=OrderType.FOK
        )
    )
    refused = _refusal(lambda: client.post_order(huge, OrderType.FOK))
    assert refused.error_msg == {"error": pe.FOK_NOT_FILLED}
    until(lambda: all(t["status"] == "CONFIRMED" for t in client.get_trades()), "settled")
    sell = client.create_market_order(
        MarketOrderArgsV2(token_id=yes, amount=5, side="SELL", order_type=OrderType.FAK)
    )
    sold = client.post_order(sell, OrderType.FAK)
    assert sold["status"] == "matched" and sold["makingAmount"] == "5"
