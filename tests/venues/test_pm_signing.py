"""Polymarket signing against the reference's vectors (reference 2 and 3), and secrets (D21).

The L1 ``ClobAuth`` signature, the L2 HMAC and the order amounts are upstream vectors of the
official client's own tests; the EIP-712 order (digest = the ``orderID``, and its signature) is
the reference's worked example.  The exact integer amounts the connector signs are held
together with the official client's float rounding for every price on every grid.
"""

from __future__ import annotations

import asyncio
import math
import pickle
import threading
from decimal import Decimal

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given
from hypothesis import strategies as st
from py_clob_client_v2.clob_types import RoundConfig
from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG, OrderBuilder
from py_clob_client_v2.order_utils import Side as OfficialSide

from core.events import Side
from core.venues.keys import PrivateKey
from core.venues.polymarket.auth import ApiCredentials, body_text, l2_headers
from core.venues.polymarket.signing import OrderSpec, PmSigner, order_amounts

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
SECRET = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def signer(**kw: object) -> PmSigner:
    return PmSigner(
        PrivateKey(KEY),
        salts=lambda: 479249096354,
        clock_ms=lambda: 1713398400000,
        clock_s=lambda: 10000000,
        **kw,  # type: ignore[arg-type]
    )


def test_l1_clob_auth_signature_vector() -> None:
    """Reference 2: chain 80002, timestamp 10000000, nonce 23."""
    headers = signer(chain_id=80002).l1(23)
    assert headers == {
        "POLY_ADDRESS": ADDRESS,
        "POLY_SIGNATURE": "0xf62319a987514da40e57e2f4d7529f7bac38f0355bd88bb5adbb3768d80de6c16825"
        "18e0af677d5260366425f4361e7b70c25ae232aff0ab2331e2b164a1aedc1b",
        "POLY_TIMESTAMP": "10000000",
        "POLY_NONCE": "23",
    }


def test_l2_hmac_vector() -> None:
    """Reference 2: secret of zeros, ts 1000000, method ``test-sign``, path ``/orders``."""
    creds = ApiCredentials("key", SECRET, "pass")
    headers = l2_headers(ADDRESS, creds, "test-sign", "/orders", '{"hash": "0x123"}', 1000000)
    assert headers["POLY_SIGNATURE"] == "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="
    assert headers["POLY_API_KEY"] == "key" and headers["POLY_PASSPHRASE"] == "pass"
    assert headers["POLY_TIMESTAMP"] == "1000000" and headers["POLY_ADDRESS"] == ADDRESS


def test_l2_signs_the_body_exactly_as_sent() -> None:
    """The HMAC covers the compact JSON that leaves, not a re-serialisation of it."""
    creds = ApiCredentials("key", SECRET, "pass")
    text = body_text([{"orderID": "0xab", "q": "é"}])
    assert text == '[{"orderID":"0xab","q":"é"}]'
    a = l2_headers(ADDRESS, creds, "DELETE", "/orders", text, 5)
    b = l2_headers(ADDRESS, creds, "DELETE", "/orders", text.replace(",", ", "), 5)
    assert a["POLY_SIGNATURE"] != b["POLY_SIGNATURE"]


@pytest.mark.parametrize(
    ("tick", "side", "size", "price", "maker", "taker"),
    [
        ("0.1", Side.BID, "100", "0.5", 50000000, 100000000),
        ("0.01", Side.BID, "21.04", "0.56", 11782400, 21040000),
        ("0.01", Side.ASK, "21.04", "0.56", 21040000, 11782400),
        ("0.001", Side.BID, "21.04", "0.056", 1178240, 21040000),
        ("0.0001", Side.BID, "21.04", "0.0056", 117824, 21040000),
        ("0.01", Side.BID, "20", "0.82", 16400000, 20000000),
    ],
)
def test_order_amount_vectors(
    tick: str, side: Side, size: str, price: str, maker: int, taker: int
) -> None:
    """Reference 3's vectors (PY2 ``test_builder.py``), exact and through the official
    rounding alike."""
    ticks = int(Decimal(price) / Decimal("0.0001"))
    lots = int(Decimal(size) * 100)
    assert order_amounts(side, ticks, lots) == (maker, taker)
    assert official(side, lots, ticks, ROUNDING_CONFIG[tick]) == (maker, taker)


def official(side: Side, lots: int, ticks: int, config: RoundConfig) -> tuple[int, int]:
    builder = OrderBuilder(signer=None)  # type: ignore[arg-type]
    which = OfficialSide.BUY if side is Side.BID else OfficialSide.SELL
    _, maker, taker = builder.get_order_amounts(which, lots / 100, ticks / 10000, config)
    return maker, taker


@given(
    tick=st.sampled_from(sorted(ROUNDING_CONFIG)),
    step=st.integers(min_value=1, max_value=999),
    lots=st.integers(min_value=1, max_value=10_000_000),
    side=st.sampled_from([Side.BID, Side.ASK]),
)
def test_exact_amounts_agree_with_the_official_rounding(
    tick: str, step: int, lots: int, side: Side
) -> None:
    """D20: the connector signs integers; the official client's float arithmetic gives the
    same ones for every on-grid price -- except where its ``floor(size * 100)`` loses a lot to
    binary floats (0.29 shares -> 0.28: ``0.29 * 100 == 28.999999999999996``), which the exact
    path does not."""
    grid = int(Decimal(tick) / Decimal("0.0001"))
    ticks = grid * (step % (10000 // grid - 1) + 1)
    floored = math.floor((lots / 100) * 100)  # the official client's size rounding, as floats
    got = official(side, lots, ticks, ROUNDING_CONFIG[tick])
    if floored == lots:
        assert got == order_amounts(side, ticks, lots)
    else:  # the float floor lost one lot, and nothing else differs
        assert floored == lots - 1
        assert got == (order_amounts(side, ticks, floored) if floored else (0, 0))


def test_worked_eip712_example() -> None:
    """Reference 3: BUY 10 @ 0.52 tick 0.01 on the standard exchange, chain 137 -> digest
    (the orderID) and signature; the neg-risk exchange gives another digest."""
    pm = signer()
    order = pm.sign_order(OrderSpec("1234", Side.BID, 5200, 1000, neg_risk=False))
    assert order.order_id == "0x17d3be4fc97465ddfcefc1ec8eb1378a515ab7ab125a3ba70e212a4b8039c8dc"
    assert order.order.signature == (
        "0xd333c95e44deecddd606b66909560db093fbd85a0d538a4c4508249a14a972797b8b9f04ea0bfde2e657e7"
        "f545f2e5c183f1fb209c4d741d685a819b7b6e9e3d1c"
    )
    assert (order.order.makerAmount, order.order.takerAmount) == ("5200000", "10000000")
    neg = pm.sign_order(OrderSpec("1234", Side.BID, 5200, 1000, neg_risk=True))
    assert neg.order_id.startswith("0xb3680d53") and neg.order_id.endswith("5106b")


def test_signature_recovers_to_the_signer_and_body_has_the_wire_types() -> None:
    pm = signer()
    order = pm.sign_order(OrderSpec("1234", Side.ASK, 4800, 550, neg_risk=False))
    body = order.body("api-key", "GTC", True)
    assert body["owner"] == "api-key" and body["postOnly"] is True
    assert body["orderType"] == "GTC" and body["deferExec"] is False
    wire = body["order"]
    assert isinstance(wire["salt"], int) and wire["side"] == "SELL"
    assert wire["signatureType"] == 0 and wire["tokenId"] == "1234"
    assert (wire["makerAmount"], wire["takerAmount"]) == ("5500000", "2640000")
    typed = {
        "primaryType": "Order",
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": [
                {"name": n, "type": t}
                for n, t in (
                    ("salt", "uint256"),
                    ("maker", "address"),
                    ("signer", "address"),
                    ("tokenId", "uint256"),
                    ("makerAmount", "uint256"),
                    ("takerAmount", "uint256"),
                    ("side", "uint8"),
                    ("signatureType", "uint8"),
                    ("timestamp", "uint256"),
                    ("metadata", "bytes32"),
                    ("builder", "bytes32"),
                )
            ],
        },
        "domain": {
            "name": "Polymarket CTF Exchange",
            "version": "2",
            "chainId": 137,
            "verifyingContract": "0xE111180000d2663C0091e4f400237545B87B996B",
        },
        "message": {
            "salt": wire["salt"],
            "maker": ADDRESS,
            "signer": ADDRESS,
            "tokenId": 1234,
            "makerAmount": 5500000,
            "takerAmount": 2640000,
            "side": 1,
            "signatureType": 0,
            "timestamp": 1713398400000,
            "metadata": bytes(32),
            "builder": bytes(32),
        },
    }
    recovered = Account.recover_message(
        encode_typed_data(full_message=typed), signature=wire["signature"]
    )
    assert recovered == ADDRESS


def test_signing_runs_off_the_event_loop() -> None:
    """Signatures and HMACs are computed in the signer's threads, never on the loop."""
    seen: list[str] = []
    pm = signer()
    original = pm.sign_order

    def spy(spec: OrderSpec):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread().name)
        return original(spec)

    pm.sign_order = spy  # type: ignore[method-assign]

    async def run() -> None:
        await pm.sign_orders([OrderSpec("1", Side.BID, 100, 500, False)])
        await pm.l2_headers(ApiCredentials("k", SECRET, "p"), "GET", "/data/orders", None)
        await pm.l1_headers(0)

    asyncio.run(run())
    pm.close()
    assert seen and all(name.startswith("pm-sign") for name in seen)


def test_secrets_never_show_D21() -> None:
    creds = ApiCredentials("01234567-89ab-cdef-0123-456789abcdef", SECRET, "hunter2-pass")
    pm = signer()
    for text in (repr(creds), str(creds), f"{creds}", repr(pm), str(pm)):
        assert SECRET not in text and "hunter2" not in text and KEY[2:] not in text
    assert "0123…cdef" in repr(creds)
    with pytest.raises(TypeError):
        pickle.dumps(creds)


def test_a_credentials_answer_without_a_secret_is_refused_without_echo() -> None:
    from core.venues.polymarket.auth import CredentialsError

    with pytest.raises(CredentialsError) as info:
        ApiCredentials.from_answer({"apiKey": "k", "secret": "", "passphrase": "sekrit-pp"})
    assert "sekrit" not in str(info.value)
