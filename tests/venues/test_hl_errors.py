"""Hyperliquid's words (``core.venues.hyperliquid.errors`` and ``statuses``): every error text
and order status of the reference with its class (D11, D26), "order gone" texts (D5, D24),
leverage from an error text (D14), and the status names normalised (D6, D31)."""

from __future__ import annotations

import pytest

from core.events import RejectionClass
from core.venues.hyperliquid.errors import (
    classify,
    classify_post_error,
    is_modify_race,
    is_order_gone,
    is_volume_gate,
    parse_leverage,
    strip_asset,
)
from core.venues.hyperliquid.statuses import classify_status

PE = RejectionClass.PRICE_ERROR
MARGIN = RejectionClass.MARGIN
PL = RejectionClass.POSITION_LIMIT
STALE = RejectionClass.STALE_POSITION
RL = RejectionClass.RATE_LIMIT
OTHER = RejectionClass.OTHER

# Every error text of the Hyperliquid reference, section 7, with its class.
REFERENCE_TEXTS: list[tuple[str, RejectionClass]] = [
    ("Post only order would have immediately matched, bbo was 0.56057@0.56086.", PE),
    ("Post only order would have immediately matched, bbo was 99@100.", PE),
    ("Price must be divisible by tick size.", PE),
    ("Order has invalid price.", PE),
    ("Order has invalid size.", PE),
    ("Order has zero size.", PE),
    ("Order must have minimum value of $10.", PE),
    ("Order must have minimum value of 10 USDC.", PE),
    ("Order price cannot be more than 80% away from the reference price", PE),
    ("Order price cannot be more than 95% away from the reference price", PE),
    ("Order price too far from oracle", PE),
    ("Invalid TP/SL price.", PE),
    ("Insufficient margin to place order.", MARGIN),
    ("(Spot-only) Order has insufficient spot balance to trade", MARGIN),
    ("Order has insufficient spot balance to trade", MARGIN),
    ("Insufficient spot balance", MARGIN),
    ("Cross position does not have sufficient margin available to decrease leverage.", MARGIN),
    ("Isolated position does not have sufficient margin available to decrease leverage.", MARGIN),
    ("Reduce only order would increase position.", STALE),
    ("Order would increase open interest while open interest is capped", PL),
    ("Order rejected due to price more aggressive than oracle while at open interest cap", PL),
    ("Order would increase open interest too quickly", PL),
    ("Order would cause position to exceed margin tier limit at current leverage", PL),
    ("Order value too large. Max is $5000000.", PL),
    (
        "Too many cumulative requests sent (49805 > 49743) for cumulative volume traded $39744.93.",
        RL,
    ),
    (
        "Too many cumulative requests sent (49805 > 49743) for cumulative volume traded "
        "$39744.93. Place taker orders to free up 1 request per USDC traded.",
        RL,
    ),
    ("HTTP 429", RL),
    ("429 Too Many Requests", RL),
    ("too many pending post requests id=12", RL),
    ("Cannot send more than 2000 messages per minute.", RL),
    ("Cannot subscribe to more than 1000 channels.", RL),
    ("Cannot track more than 10 total users.", RL),
    ("Cannot track more than 15 total users.", RL),
    ("Order could not immediately match against any resting orders.", OTHER),
    ("No liquidity available for market order.", OTHER),
    ("Order was never placed, already canceled, or filled.", OTHER),
    ("Cannot modify canceled or filled order", OTHER),
    ("Error placing new order during modify: Insufficient margin to place order.", MARGIN),
    (
        "Error placing new order during modify: Post only order would have immediately "
        "matched, bbo was 1@2.",
        PE,
    ),
    ("Error placing new order during modify: Reduce only order would increase position.", PL),
    ("Invalid nonce: duplicate nonce 1700000000000", OTHER),
    ("Action already expired", OTHER),
    ("L1 error: User or API Wallet 0x0123456789abcdef does not exist.", OTHER),
    ("Must deposit before performing actions. User: 0x0123456789abcdef", OTHER),
    ("Cannot switch leverage type with open position.", OTHER),
    ("Cross margin is not allowed for this asset.", OTHER),
    (
        "Cannot set scheduled cancel time until enough volume traded. Required: $1000000. "
        "Traded: $12.5.",
        OTHER,
    ),
    ("Trading is halted.", OTHER),
    ("Failed to deserialize the JSON body into the target type: missing field `a`", OTHER),
    ("HTTP 422 Failed to deserialize the JSON body into the target type", OTHER),
]

# Order-status mapping (WS / orderStatus), reference section 7.
REFERENCE_STATUSES: list[tuple[str, RejectionClass]] = [
    ("perpMarginRejected", MARGIN),
    ("insufficientSpotBalanceRejected", MARGIN),
    ("marginCanceled", MARGIN),
    ("tickRejected", PE),
    ("minTradeNtlRejected", PE),
    ("badAloPxRejected", PE),
    ("badTriggerPxRejected", PE),
    ("oracleRejected", PE),
    ("reduceOnlyRejected", STALE),
    ("positionIncreaseAtOpenInterestCapRejected", PL),
    ("positionFlipAtOpenInterestCapRejected", PL),
    ("tooAggressiveAtOpenInterestCapRejected", PL),
    ("openInterestIncreaseRejected", PL),
    ("perpMaxPositionRejected", PL),
    ("tooManyOpenOrdersRejected", PL),
    ("openInterestCapCanceled", PL),
    ("iocCancelRejected", OTHER),
    ("marketOrderNoLiquidityRejected", OTHER),
    ("rejected", OTHER),
]


# ---- classification (D11) ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", " asset=0", " asset=31", " asset=10007"])
@pytest.mark.parametrize(("text", "expected"), REFERENCE_TEXTS)
def test_every_reference_text_is_classified_D11(
    text: str, expected: RejectionClass, suffix: str
) -> None:
    """Every text of reference section 7, bare and with Hyperliquid's trailing asset=N."""
    assert classify(text + suffix) is expected


@pytest.mark.parametrize(("status", "expected"), REFERENCE_STATUSES)
def test_every_reference_order_status_is_classified_D11(
    status: str, expected: RejectionClass
) -> None:
    assert classify_status(status) is expected


def test_unknown_status_is_other_D6() -> None:
    assert classify_status("someNewStatusRejected") is OTHER


def test_classification_is_by_prefix_not_equality_D11() -> None:
    assert classify("Insufficient margin to place order. Account value 12.3") is MARGIN
    assert classify("Order has invalid price. 0.123456 has too many decimals asset=3") is PE


def test_classification_is_case_sensitive_and_unknown_text_is_other_D11() -> None:
    assert classify("insufficient margin to place order.") is OTHER
    assert classify("Something the venue never said before.") is OTHER
    assert classify("") is OTHER


def test_http_429_needs_the_whole_number() -> None:
    assert classify("4290 orders were fine") is OTHER
    assert classify("429") is RL


def test_strip_asset_only_drops_the_trailing_suffix() -> None:
    assert strip_asset("Order has zero size. asset=12") == "Order has zero size."
    assert strip_asset("asset=12 is not a suffix here") == "asset=12 is not a suffix here"


@pytest.mark.parametrize(
    "text",
    [
        "Order was never placed, already canceled, or filled.",
        "Order was never placed, already canceled, or filled. asset=4",
        "Cannot modify canceled or filled order",
        "Error placing new order during modify: Insufficient margin to place order. asset=0",
    ],
)
def test_order_gone_texts_D5_D24(text: str) -> None:
    assert is_order_gone(text)


def test_other_rejections_are_not_order_gone_D24() -> None:
    assert not is_order_gone("Insufficient margin to place order. asset=0")
    assert not is_order_gone("Trading is halted.")


def test_only_a_modify_that_found_nothing_is_a_race_D5() -> None:
    """The original was gone before the modify: the replacement was never judged.  When the
    replacement itself was refused (after the cancel leg), the original is gone too, but the
    refusal is a verdict on the new quote."""
    assert is_modify_race("Cannot modify canceled or filled order")
    assert is_modify_race("Cannot modify canceled or filled order. asset=3")
    assert not is_modify_race(
        "Error placing new order during modify: Insufficient margin to place order. asset=0"
    )
    assert not is_modify_race("Order was never placed, already canceled, or filled. asset=4")


def test_a_stale_position_is_a_position_limit_of_its_own_D26() -> None:
    """ "Reduce only order would increase position." says our position is stale (D26): its own
    class, counted and shown as PositionLimit.  The replacement of a modify refused so is a
    plain PositionLimit."""
    assert classify("Reduce only order would increase position. asset=2") is STALE
    assert classify_status("reduceOnlyRejected") is STALE
    assert STALE.category is PL and PL.category is PL and MARGIN.category is MARGIN
    assert classify("Order would increase open interest too quickly") is PL
    inner = "Error placing new order during modify: Reduce only order would increase position."
    assert classify(inner) is PL


# ---- leverage (D14) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Max leverage for this asset is 25x.", 25),
        ("Leverage 50x exceeds the maximum 20x allowed.", 20),
        ("Max leverage is 100x asset=3", 100),
        ("25x", 25),
        ("Insufficient margin to place order.", 40),
        ("L1 error: User or API Wallet 0x0123abcd does not exist.", 40),
        ("L1 error: User or API Wallet 0x… does not exist.", 40),
        ("Leverage 1.5x is not an integer", 40),
        ("Leverage 1000x is nonsense", 40),
        ("Leverage 0x is nonsense", 40),
        ("", 40),
    ],
)
def test_leverage_from_error_text_with_fallback_D14(text: str, expected: int) -> None:
    """Believe the exchange's number; with none, fall back to the instrument's max leverage."""
    assert parse_leverage(text, fallback=40) == expected


def test_a_websocket_post_error_naming_429_is_a_rate_limit_D29() -> None:
    assert classify_post_error("429 Too Many Requests") is RL
    assert classify_post_error("error 429: slow down") is RL
    assert classify_post_error("Insufficient margin to place order.") is MARGIN
    assert classify_post_error("Trading is halted.") is OTHER


def test_the_dead_mans_switch_volume_gate_is_recognised() -> None:
    text = (
        "Cannot set scheduled cancel time until enough volume traded. Required: $1000000. "
        "Traded: $12.5."
    )
    assert is_volume_gate(text)
    assert not is_volume_gate("Scheduled cancel time must be at least 5 seconds in the future.")
