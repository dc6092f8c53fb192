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
    Channel,
    Liquidity,
    MalformedMessage,
    ModifyAck,
    ModifyRejected,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    RejectionClass,
    Side,
    VenueStatus,
)
from core.units import Instrument
from core.venues.hyperliquid.budget import RateBudget, exchange_weight, info_weight
from core.venues.hyperliquid.mapping import Translator
from core.venues.hyperliquid.meta import instrument_from_meta
from core.venues.hyperliquid.statuses import venue_status
from core.venues.hyperliquid.wire import (
    Action,
    AssetMeta,
    ClearinghouseState,
    ExchangeAnswer,
    L2Book,
    OkBody,
    OrderStatusAnswer,
    action_dict,
    request_dict,
)
from core.venues.rows import MappingError, parse_or_raise, raw_int

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


def test_info_requests_and_subscriptions_are_built_by_the_translator() -> None:
    user = "0x" + "ab" * 20
    assert request_dict(TR.meta_request()) == {"type": "meta"}
    assert request_dict(TR.open_orders_request(user)) == {"type": "openOrders", "user": user}
    assert list(request_dict(TR.clearinghouse_request(user))) == ["type", "user"]
    assert request_dict(TR.order_status_request(user, C1, 7)) == {
        "type": "orderStatus",
        "user": user,
        "oid": C1,
    }
    assert request_dict(TR.order_status_request(user, None, 7))["oid"] == 7
    assert request_dict(TR.fills_request(user, 1_700_000_000_000)) == {
        "type": "userFillsByTime",
        "user": user,
        "startTime": 1_700_000_000_000,
    }
    assert [request_dict(s) for s in TR.subscriptions(user)] == [
        # Issue 19: without "fast" the book comes every ~5 s, as long as the stale-data limit.
        {"type": "l2Book", "coin": "ETH", "fast": True},
        {"type": "trades", "coin": "ETH"},
        {"type": "orderUpdates", "user": user},
        {"type": "userFills", "user": user},
        {"type": "userEvents", "user": user},
        {"type": "userFundings", "user": user},
    ]


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
    assert isinstance(rej, ModifyRejected) and rej.original_gone and rej.raced
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
    fill = {
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
    rows = TR.fills([fill, {**fill, "coin": "BTC"}], snapshot=True, what="userFills")
    assert rows.good == 2 and rows.bad == 0 and rows.report(Channel.FILLS, "userFills") is None
    [(_, event), (_, other)] = rows.items
    assert other is None  # another coin's fill: read, but not ours
    assert event is not None
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
        ]
    )
    assert updates.items[0].status is VenueStatus.REJECTED


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


# ---- issue 14: statuses (D6, D31), what traded (D33), salvage (D34) ------------------------

_VENUE_CANCELS = (
    "marginCanceled",
    "vaultWithdrawalCanceled",
    "openInterestCapCanceled",
    "selfTradeCanceled",
    "reduceOnlyCanceled",
    "siblingFilledCanceled",
    "delistedCanceled",
    "liquidatedCanceled",
    "scheduledCancel",
    "outcomeSettledCanceled",
    "internalCancel",
)
_REJECTIONS = {
    "rejected": RejectionClass.OTHER,
    "tickRejected": RejectionClass.PRICE_ERROR,
    "minTradeNtlRejected": RejectionClass.PRICE_ERROR,
    "perpMarginRejected": RejectionClass.MARGIN,
    "reduceOnlyRejected": RejectionClass.STALE_POSITION,  # D26
    "badAloPxRejected": RejectionClass.PRICE_ERROR,
    "iocCancelRejected": RejectionClass.OTHER,
    "badTriggerPxRejected": RejectionClass.PRICE_ERROR,
    "marketOrderNoLiquidityRejected": RejectionClass.OTHER,
    "positionIncreaseAtOpenInterestCapRejected": RejectionClass.POSITION_LIMIT,
    "positionFlipAtOpenInterestCapRejected": RejectionClass.POSITION_LIMIT,
    "tooAggressiveAtOpenInterestCapRejected": RejectionClass.POSITION_LIMIT,
    "openInterestIncreaseRejected": RejectionClass.POSITION_LIMIT,
    "insufficientSpotBalanceRejected": RejectionClass.MARGIN,
    "oracleRejected": RejectionClass.PRICE_ERROR,
    "perpMaxPositionRejected": RejectionClass.POSITION_LIMIT,
    "tooManyOpenOrdersRejected": RejectionClass.POSITION_LIMIT,
}
EVERY_STATUS = [
    ("open", VenueStatus.OPEN, None),
    ("triggered", VenueStatus.OPEN, None),
    ("filled", VenueStatus.FILLED, None),
    ("canceled", VenueStatus.CANCELED, None),
    *((raw, VenueStatus.VENUE_CANCELED, None) for raw in _VENUE_CANCELS),
    *((raw, VenueStatus.REJECTED, rclass) for raw, rclass in _REJECTIONS.items()),
    ("unknownOid", VenueStatus.NOT_FOUND, None),
    ("somethingNew", VenueStatus.UNKNOWN, None),  # D6: logged and asked about, never guessed
    ("Open", VenueStatus.UNKNOWN, None),  # statuses are case-sensitive
    ("", VenueStatus.UNKNOWN, None),
]


@pytest.mark.parametrize(
    ("raw", "status", "rclass"), EVERY_STATUS, ids=[s[0] or "empty" for s in EVERY_STATUS]
)
def test_every_documented_status_maps_and_unknown_ones_are_unknown_D6_D31(
    raw: str, status: VenueStatus, rclass: RejectionClass | None
) -> None:
    """D31: every status of reference 6.4 -- live, done, each venue cancel, each rejection
    with its class (reference 7) -- has its normal form; anything else is UNKNOWN (D6)."""
    assert venue_status(raw) == (status, rclass)


def _update_row(status: str = "canceled", **order: object) -> dict[str, object]:
    row = {"coin": "ETH", "side": "B", "limitPx": "3000", "sz": "0.2", "oid": 7, "timestamp": 1}
    return {"order": {**row, **order}, "status": status, "statusTimestamp": 5}


def test_an_order_update_says_how_much_traded_D33() -> None:
    """D33: ``filled`` = origSz - sz (a cancelled order keeps its unfilled size in sz), None
    without origSz, never negative."""
    rows = TR.order_updates(
        [
            _update_row(origSz="0.5"),
            _update_row(),
            _update_row(origSz="0.1"),
            _update_row("filled", origSz="0.5", sz="0.0"),
        ]
    )
    assert [u.filled for u in rows.items] == [3000, None, 0, 5000]
    assert rows.items[0] == OrderUpdate(
        7, None, VenueStatus.CANCELED, "canceled", None, 0.005, 3000
    )


TRADE_ROW = {"coin": "ETH", "side": "A", "px": "3001.5", "sz": "0.3", "time": 1, "tid": 5}


def test_a_multi_row_message_is_read_row_by_row_and_reported_once_D34() -> None:
    """D34: good rows are read (another coin's row is good, but not ours), bad ones are kept
    aside and counted; the one report names where the message came from and its first
    problem, short."""
    rows = TR.trades(
        [
            TRADE_ROW,
            {**TRADE_ROW, "px": "NaN"},
            {**TRADE_ROW, "coin": "BTC", "px": "NaN"},
            {"nothing": "here"},
            {**TRADE_ROW, "sz": "9" * 400},  # a range check failing is a bad row too
            TRADE_ROW,
        ]
    )
    assert [t.price for t in rows.items] == [300150, 300150]
    assert (rows.good, rows.bad) == (3, 3)
    report = rows.report(Channel.MARKET, "trades")
    assert report == MalformedMessage(Channel.MARKET, 3, 3, report.text if report else "")
    assert report is not None and report.text.startswith(
        "trades: 3 of 6 rows unreadable (row 1: bad price 'NaN'"
    )
    assert len(TR.trades([{**TRADE_ROW, "sz": "9" * 400}]).problem) <= 160
    assert TR.trades([TRADE_ROW]).report(Channel.MARKET, "trades") is None
    with pytest.raises(MappingError, match="trades: expected a list, got dict"):
        TR.trades({"coin": "ETH"})


def test_open_orders_and_the_cancel_all_listing_salvage_differently_D34_D25() -> None:
    """D34: a snapshot row must be read whole (its price and sizes are compared); the
    cancel-all only needs to name the order (D25), so a row with a bad price is still swept."""
    good = {"coin": "ETH", "side": "B", "limitPx": "3000", "sz": "0.5", "oid": 11, "timestamp": 1}
    listing = [good, {**good, "oid": 12, "limitPx": "x"}, {**good, "oid": "13"}]
    snapshot = TR.open_orders(listing)
    assert [o.oid for o in snapshot.items] == [11] and snapshot.bad == 2
    refs = TR.order_refs(listing)
    assert [r.oid for r in refs.items] == [11, 12] and refs.bad == 1


def test_raw_int_reads_only_what_the_venue_could_have_sent() -> None:
    """What a bad row still tells (a fill's time, its trade id): a whole number in range."""
    row = {"time": 5, "tid": -1, "oid": 2**63, "x": True, "y": 1.0, "z": "5"}
    assert [raw_int(row, k) for k in ("time", "tid", "oid", "x", "y", "z", "w")] == [
        5,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert raw_int([1], "time") is None
