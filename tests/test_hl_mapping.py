"""Hyperliquid answers to core events, item by item (D3, D7, D8, D11), the wire models, and the
rate budget.  Pure functions: no sockets here."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from core.commands import Cancel, Modify, Place, TimeInForce
from core.events import (
    AckStatus,
    CancelAck,
    CancelRejected,
    CancelUnknown,
    Liquidity,
    ModifyAck,
    ModifyRejected,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    RejectionClass,
    Side,
    VenueStatus,
)
from core.units import Instrument
from core.venues.hyperliquid.budget import RateBudget, exchange_weight, info_weight
from core.venues.hyperliquid.mapping import (
    MappingError,
    Translator,
    instrument_from_meta,
    parse_or_raise,
    venue_status,
)
from core.venues.hyperliquid.wire import (
    Action,
    AssetMeta,
    ClearinghouseState,
    ExchangeAnswer,
    L2Book,
    OkBody,
    OrderStatusAnswer,
    OrderStatusEntry,
    UserFill,
    action_dict,
)

ETH = Instrument.hyperliquid_perp("ETH", 4, 25, asset_id=4)
TR = Translator(ETH)
C1, C2, C3, C4 = (f"0x{i:032x}" for i in range(1, 5))


def statuses(raw: dict[str, object]) -> list[object]:
    body = ExchangeAnswer.model_validate(raw).response
    assert isinstance(body, OkBody) and body.data is not None
    return list(body.data.statuses)


def test_instrument_comes_from_meta_with_the_index_as_asset_id_D20() -> None:
    universe = [
        AssetMeta(name="BTC", szDecimals=5, maxLeverage=50),
        AssetMeta(name="LOOM", szDecimals=1, maxLeverage=3, isDelisted=True),
        AssetMeta(name="ETH", szDecimals=4, maxLeverage=25),
    ]
    inst = instrument_from_meta(universe, "ETH")
    assert (inst.asset_id, inst.tick_size, inst.lot_size, inst.max_leverage) == (
        2,
        Decimal("0.01"),
        Decimal("0.0001"),
        25,
    )
    with pytest.raises(MappingError, match="not listed"):
        instrument_from_meta(universe, "DOGE")
    with pytest.raises(MappingError, match="delisted"):
        instrument_from_meta(universe, "LOOM")


def test_order_wire_is_canonical_decimal_strings_in_signing_order() -> None:
    place = Place(C1, Side.BID, 300010, 5000, TimeInForce.ALO, reduce_only=True)
    assert action_dict(TR.place(place)) == {
        "a": 4,
        "b": True,
        "p": "3000.1",
        "s": "0.5",
        "r": True,
        "t": {"limit": {"tif": "Alo"}},
        "c": C1,
    }
    assert list(action_dict(TR.place(place))) == ["a", "b", "p", "s", "r", "t", "c"]
    mod = Modify(C1, 77, C2, Side.ASK, 200000, 120000, TimeInForce.GTC)
    assert action_dict(TR.modify(mod)) == {
        "oid": 77,
        "order": {
            "a": 4,
            "b": False,
            "p": "2000",
            "s": "12",
            "r": False,
            "t": {"limit": {"tif": "Gtc"}},
            "c": C2,
        },
    }


def test_a_mixed_batch_answer_is_mapped_item_by_item_D7() -> None:
    places = [Place(c, Side.BID, 300000, 10000) for c in (C1, C2, C3, C4)]
    raw = {
        "status": "ok",
        "response": {
            "type": "order",
            "data": {
                "statuses": [
                    {"resting": {"oid": 11, "cloid": C1}},
                    {
                        "error": "Post only order would have immediately matched, "
                        "bbo was 3000@3000.1. asset=4"
                    },
                    "waitingForFill",
                ]
            },
        },
    }
    events = TR.place_answers(places, statuses(raw), batch_id=9)
    assert events[0] == PlaceAck(C1, 11, AckStatus.RESTING, 0, 0, 9)
    assert isinstance(events[1], PlaceRejected)
    assert events[1].rclass is RejectionClass.PRICE_ERROR and events[1].reason.endswith("asset=4")
    assert isinstance(events[2], PlaceUnknown) and "waitingForFill" in events[2].reason
    assert isinstance(events[3], PlaceUnknown) and "no status" in events[3].reason  # D8


def test_a_partial_immediate_fill_is_partially_filled_not_filled_D3() -> None:
    gtc = Place(C1, Side.BID, 300000, 10000, TimeInForce.GTC)
    ioc = Place(C2, Side.BID, 300000, 10000, TimeInForce.IOC)
    full = Place(C3, Side.BID, 300000, 10000, TimeInForce.GTC)
    raw = {
        "status": "ok",
        "response": {
            "type": "order",
            "data": {
                "statuses": [
                    {"filled": {"totalSz": "0.6", "avgPx": "2999.5", "oid": 1}},
                    {"filled": {"totalSz": "0.6", "avgPx": "2999.5", "oid": 2}},
                    {"filled": {"totalSz": "1", "avgPx": "2999.55", "oid": 3}},
                ]
            },
        },
    }
    a, b, c = TR.place_answers([gtc, ioc, full], statuses(raw), None)
    assert a == PlaceAck(C1, 1, AckStatus.PARTIALLY_FILLED, 6000, 6000 * 299950, None)
    assert isinstance(b, PlaceAck) and b.status is AckStatus.FILLED and b.filled == 6000
    assert isinstance(c, PlaceAck) and c.status is AckStatus.FILLED
    assert c.filled_value == 10000 * 299955


def test_cancel_and_modify_answers_D5_D24() -> None:
    cancels = [Cancel(C1, 5), Cancel(None, 6), Cancel(C3, None)]
    raw = {
        "status": "ok",
        "response": {
            "type": "cancel",
            "data": {
                "statuses": [
                    "success",
                    {"error": "Order was never placed, already canceled, or filled. asset=4"},
                ]
            },
        },
    }
    ok, gone, missing = TR.cancel_answers(cancels, statuses(raw), 3)
    assert ok == CancelAck(C1, 5, 3)
    assert isinstance(gone, CancelRejected) and gone.gone
    assert isinstance(missing, CancelUnknown)
    modifies = [Modify(C1, 5, C2, Side.BID, 300000, 10000), Modify(C3, 6, C4, Side.BID, 1, 1)]
    raw = {
        "status": "ok",
        "response": {
            "type": "order",
            "data": {
                "statuses": [
                    {"resting": {"oid": 99, "cloid": C2}},
                    {"error": "Cannot modify canceled or filled order"},
                ]
            },
        },
    }
    ack, rej = TR.modify_answers(modifies, statuses(raw), 4)
    assert ack == ModifyAck(C1, C2, 99, AckStatus.RESTING, 0, 0, 4)
    assert isinstance(rej, ModifyRejected) and rej.original_gone
    unknown = TR.modify_unknown(modifies[:1], "timeout", 4)
    assert [type(e) for e in unknown] == [CancelUnknown, PlaceUnknown]


def test_status_strings_normalise_and_unknown_ones_are_not_guessed_D6() -> None:
    assert venue_status("open") == (VenueStatus.OPEN, None)
    assert venue_status("filled") == (VenueStatus.FILLED, None)
    assert venue_status("scheduledCancel") == (VenueStatus.VENUE_CANCELED, None)
    assert venue_status("marginCanceled") == (VenueStatus.VENUE_CANCELED, None)
    assert venue_status("badAloPxRejected") == (VenueStatus.REJECTED, RejectionClass.PRICE_ERROR)
    assert venue_status("perpMarginRejected") == (VenueStatus.REJECTED, RejectionClass.MARGIN)
    assert venue_status("somethingNew") == (VenueStatus.UNKNOWN, None)


def test_order_status_by_cloid_answer() -> None:
    found = OrderStatusAnswer.model_validate(
        {
            "status": "order",
            "order": {
                "order": {
                    "coin": "ETH",
                    "side": "A",
                    "limitPx": "3001",
                    "sz": "0.2",
                    "oid": 7,
                    "timestamp": 1,
                    "origSz": "0.5",
                    "cloid": C1,
                },
                "status": "open",
                "statusTimestamp": 2,
            },
        }
    )
    report = TR.order_status(found, C1, None)
    assert (report.oid, report.status, report.remaining, report.filled) == (
        7,
        VenueStatus.OPEN,
        2000,
        3000,
    )
    missing = TR.order_status(OrderStatusAnswer.model_validate({"status": "unknownOid"}), C2, None)
    assert missing.status is VenueStatus.NOT_FOUND and missing.cloid == C2


def test_stream_messages_map_to_events_and_other_coins_are_ignored() -> None:
    book = TR.book(
        L2Book.model_validate(
            {
                "coin": "ETH",
                "time": 1_700_000_000_000,
                "levels": [
                    [{"px": "2999.9", "sz": "1.5", "n": 2}],
                    [{"px": "3000", "sz": "0.25", "n": 1}],
                ],
            }
        )
    )
    assert book.bids == ((299990, 15000),) and book.asks == ((300000, 2500),)
    fill = UserFill.model_validate(
        {
            "coin": "ETH",
            "px": "3000",
            "sz": "0.1",
            "side": "B",
            "time": 1_700_000_000_123,
            "oid": 7,
            "crossed": False,
            "tid": 123456789,
            "cloid": C1,
            "fee": "-0.01",
        }
    )
    other = fill.model_copy(update={"coin": "BTC"})
    [event] = TR.fills([fill, other], snapshot=True)
    assert (event.tid, event.side, event.price, event.size, event.liquidity, event.snapshot) == (
        123456789,
        Side.BID,
        300000,
        1000,
        Liquidity.MAKER,
        True,
    )
    updates = TR.order_updates(
        [
            OrderStatusEntry.model_validate(
                {
                    "order": {
                        "coin": "ETH",
                        "side": "B",
                        "limitPx": "3000",
                        "sz": "0",
                        "oid": 7,
                        "timestamp": 1,
                    },
                    "status": "badAloPxRejected",
                    "statusTimestamp": 5,
                }
            )
        ]
    )
    assert updates[0].status is VenueStatus.REJECTED  # type: ignore[union-attr]


def test_position_from_clearinghouse_state() -> None:
    state = ClearinghouseState.model_validate(
        {
            "assetPositions": [
                {"type": "oneWay", "position": {"coin": "BTC", "szi": "1", "entryPx": "60000"}},
                {
                    "type": "oneWay",
                    "position": {
                        "coin": "ETH",
                        "szi": "-0.0335",
                        "entryPx": "2986.3",
                        "leverage": {"type": "cross", "value": 20},
                    },
                },
            ],
            "time": 1708622398623,
        }
    )
    pos = TR.position(state)
    assert pos.position == -335 and pos.entry_value == 335 * 298630
    flat = TR.position(ClearinghouseState.model_validate({"assetPositions": []}))
    assert flat.position == 0


def test_malformed_messages_raise_mapping_error_not_something_else() -> None:
    with pytest.raises(MappingError):
        parse_or_raise(L2Book, {"coin": "ETH"})
    with pytest.raises(MappingError):
        TR.book(
            L2Book.model_validate(
                {"coin": "ETH", "time": 1, "levels": [[{"px": "not-a-price", "sz": "1"}], []]}
            )
        )


def test_request_models_are_strict_like_the_venue() -> None:
    """A float leverage is a 422 at the venue; the model refuses it too."""
    adapter: TypeAdapter[object] = TypeAdapter(Action)
    with pytest.raises(ValidationError):
        adapter.validate_python(
            {"type": "updateLeverage", "asset": 4, "isCross": True, "leverage": 5.5}
        )
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "order", "orders": [{"a": "4"}], "grouping": "na"})


def test_budget_weights_and_local_refusal_before_the_venue_says_429() -> None:
    assert exchange_weight(1) == 1 and exchange_weight(79) == 2
    assert info_weight("l2Book") == 2 and info_weight("openOrders") == 20
    assert info_weight("userFills", 100) == 25
    budget = RateBudget(ip_weight_limit=100, headroom=0.9)
    for i in range(89):
        budget.record_rest(1, float(i) / 100)
    assert budget.allows(1, 1, 1.0, via_ws=False) is None  # 89 + 1 fits in 90% of 100
    budget.record_rest(1, 1.0)
    refusal = budget.allows(1, 1, 1.5, via_ws=False)
    assert refusal is not None and "IP weight 90 of 100" in refusal
    assert budget.allows(1, 1, 61.0, via_ws=False) is None  # the minute has passed
    budget.set_address(used=9_999, cap=10_000)
    assert budget.allows(1, 1, 61.0, via_ws=True) is None
    budget.record_actions(1)
    refusal = budget.allows(1, 1, 61.0, via_ws=True)
    assert refusal is not None and "address requests 10000 of 10000" in refusal
    view = budget.view(61.0)
    assert view.refused_locally == 2 and view.address_used == 10_000
