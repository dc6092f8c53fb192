"""Every error text and status word of the Polymarket reference with its meaning (D6, D11,
D24, D38).  The texts are the constants the loopback twin writes, so the classifier is tested on
the venue's own words."""

from __future__ import annotations

import pytest

from core.events import RejectionClass, VenueStatus
from core.venues.polymarket import errors as pe
from core.venues.polymarket import statuses as st
from core.venues.polymarket.ids import IdError, IdRegistry, fill_tid, oid_of, tid_of
from core.venues.polymarket.statuses import Finality

ID = "0x" + "ab" * 32
T = pe.Texts
R = RejectionClass

CLASSES: list[tuple[str, RejectionClass]] = [
    (pe.POST_ONLY_CROSSES, R.PRICE_ERROR),
    (T.price_breaks_tick(ID, "0.523", "0.01"), R.PRICE_ERROR),
    (T.size_below_min(ID, "1", "5"), R.PRICE_ERROR),
    (T.crosses_book(ID), R.PRICE_ERROR),
    (pe.INVALID_AMOUNTS_BUY, R.PRICE_ERROR),
    (pe.INVALID_AMOUNTS_SELL, R.PRICE_ERROR),
    (pe.NOT_ENOUGH_BALANCE, R.MARGIN),
    (pe.NOT_ENOUGH_BALANCE + ": balance is 0", R.MARGIN),
    (pe.TOO_MANY_REQUESTS, R.RATE_LIMIT),
    (T.token_rate_limited("123"), R.RATE_LIMIT),
    (pe.SERVICE_NOT_READY, R.RATE_LIMIT),
    (pe.POST_ONLY_MODE, R.RATE_LIMIT),
    (pe.CANCEL_ONLY, R.RATE_LIMIT),
    (pe.TRADING_DISABLED, R.RATE_LIMIT),
    (pe.MARKET_NOT_READY, R.RATE_LIMIT),
    ("HTTP 429 Too Many Requests", R.RATE_LIMIT),
    (T.address_closed_only("0xabc"), R.POSITION_LIMIT),
    (T.address_banned("0xabc"), R.OTHER),
    (T.duplicated(ID), R.OTHER),
    (T.too_many_orders(20), R.OTHER),
    (pe.INVALID_ORDER_PAYLOAD, R.OTHER),
    (pe.OWNER_NOT_API_KEY, R.OTHER),
    (pe.SIGNER_NOT_API_KEY, R.OTHER),
    (pe.ORDER_VERSION_MISMATCH, R.OTHER),
    (pe.INVALID_ORDER_VERSION, R.OTHER),
    (pe.MAKER_NOT_ALLOWED, R.OTHER),
    (pe.INVALID_SIGNATURE, R.OTHER),
    (pe.UNAUTHORIZED, R.OTHER),
    (pe.INVALID_L1_HEADERS, R.OTHER),
    (pe.COULD_NOT_INSERT, R.OTHER),
    (pe.ORDER_TIMED_OUT, R.OTHER),
    (pe.INVALID_EXPIRATION, R.OTHER),
    (pe.CANCELED_IN_CONTRACT, R.OTHER),
    (pe.MATCH_DELAYED, R.OTHER),
    (pe.FOK_NOT_FILLED, R.OTHER),
    (pe.FAK_NO_MATCH, R.OTHER),
    (pe.NO_MATCHING_ORDERS, R.OTHER),
    (pe.FOK_FILLED_OR_KILLED, R.OTHER),
    (pe.ROUNDING_ISSUES, R.OTHER),
    (pe.PRICE_DISCREPANCY, R.OTHER),
    ("something the reference never said", R.OTHER),
]


@pytest.mark.parametrize(("text", "rclass"), CLASSES)
def test_every_reference_text_has_its_class_D11(text: str, rclass: RejectionClass) -> None:
    assert pe.classify(text) is rclass


def test_templated_texts_read_as_the_venue_writes_them() -> None:
    assert T.price_breaks_tick("0x1", "0.9803921568627451", "0.001") == (
        "order 0x1 is invalid. Price (0.9803921568627451) breaks minimum tick size rule: 0.001"
    )
    assert (
        T.size_below_min("0x1", "1", "5")
        == "order 0x1 is invalid. Size (1) lower than the minimum: 5"
    )
    assert T.too_many_orders(20) == "Too many orders in payload: 20, max allowed: 15"
    assert T.too_many_cancels() == "Too many orders in payload, max allowed: 1000"


@pytest.mark.parametrize("status", [425, 429, 503])
def test_operating_modes_refuse_placements_as_rate_limits_D29(status: int) -> None:
    assert pe.classify_status(status, "whatever the body says") is R.RATE_LIMIT
    assert pe.classify_status(400, pe.POST_ONLY_CROSSES) is R.PRICE_ERROR


@pytest.mark.parametrize(
    ("reason", "gone"),
    [
        (pe.NOT_FOUND_OR_CANCELED, True),
        (pe.ALREADY_MATCHED, True),
        (pe.ALREADY_MATCHED_LOWER, True),
        (pe.ORDER_NOT_FOUND, True),
        (pe.ALREADY_CANCELED, True),
        (pe.INVALID_ORDER_ID, False),
        (pe.TRADING_DISABLED, False),
    ],
)
def test_cancel_reasons_that_mean_already_gone_D24(reason: str, gone: bool) -> None:
    assert pe.is_order_gone(reason) is gone


def test_not_placed_and_heartbeat_texts() -> None:
    assert pe.is_not_placed(pe.COULD_NOT_INSERT) and pe.is_not_placed(pe.ORDER_TIMED_OUT)
    assert not pe.is_not_placed(pe.INTERNAL_SERVER_ERROR)
    assert pe.is_heartbeat_refused(pe.INVALID_HEARTBEAT_ID)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("LIVE", VenueStatus.OPEN),
        ("ORDER_STATUS_LIVE", VenueStatus.OPEN),
        ("live", VenueStatus.OPEN),
        ("unmatched", VenueStatus.OPEN),
        ("delayed", VenueStatus.OPEN),
        ("MATCHED", VenueStatus.FILLED),
        ("ORDER_STATUS_MATCHED", VenueStatus.FILLED),
        ("CANCELED", VenueStatus.CANCELED),
        ("ORDER_STATUS_CANCELED_MARKET_RESOLVED", VenueStatus.VENUE_CANCELED),
        ("ORDER_STATUS_INVALID", VenueStatus.REJECTED),
        ("PAUSED", VenueStatus.UNKNOWN),
        ("", VenueStatus.UNKNOWN),
    ],
)
def test_order_statuses_with_the_prefix_stripped_D6(raw: str, status: VenueStatus) -> None:
    assert st.venue_status(raw)[0] is status


@pytest.mark.parametrize(
    ("raw", "finality"),
    [
        ("MATCHED", Finality.PROVISIONAL),
        ("TRADE_STATUS_MATCHED", Finality.PROVISIONAL),
        ("MATCHED_NOT_BROADCASTED", Finality.PROVISIONAL),
        ("MINED", Finality.PROVISIONAL),
        ("RETRYING", Finality.PROVISIONAL),
        ("TRADE_STATUS_CONFIRMED", Finality.CONFIRMED),
        ("CONFIRMED", Finality.CONFIRMED),
        ("FAILED", Finality.FAILED),
        ("SETTLED", Finality.UNKNOWN),
    ],
)
def test_trade_statuses_and_finality_D38(raw: str, finality: Finality) -> None:
    assert st.finality(raw) is finality


def test_ids_fit_64_bits_and_come_back() -> None:
    """The core's ids are the first 60 bits; the registry keeps the way back."""
    order = "0x" + "f" * 64
    assert oid_of(order) == 2**60 - 1
    trade = "28c4d2eb-bbb4-4c15-9c7d-2b5d6e7f8a90"
    assert tid_of(trade) == int("28c4d2ebbbb44c1", 16)
    assert 0 <= fill_tid(trade, order) < 2**60
    assert fill_tid(trade, order) != fill_tid(trade, "0x" + "e" * 64)
    assert fill_tid(trade, order.upper().replace("0X", "0x")) == fill_tid(trade, order)
    registry = IdRegistry(capacity=2)
    first = registry.remember(ID.upper().replace("0X", "0x"))
    assert registry.full(first) == ID
    registry.remember("0x" + "01" * 32)
    registry.remember("0x" + "02" * 32)
    assert registry.full(first) is None and len(registry) == 2
    for bad in ("0x12", "12" * 33, ""):
        with pytest.raises(IdError):
            oid_of(bad)
    with pytest.raises(IdError):
        tid_of("not-a-uuid")
