"""Polymarket frames and answers to core events, with frames shaped exactly like the
reference's examples (reference 4 and 5): books best-first, deltas, tick changes (D39), order
events (D33), provisional fills and their settlement (D38), maker fills on either token, batch
answers per item (D7), cancels (D24), and rows salvaged one by one (D34)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from core.commands import Cancel, Place, TimeInForce
from core.events import (
    AckStatus,
    BookDelta,
    BookSnapshot,
    CancelAck,
    CancelRejected,
    CancelUnknown,
    Channel,
    Fill,
    FillSettled,
    Liquidity,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    RejectionClass,
    Side,
    TickSizeChanged,
    Trade,
    VenueNotice,
    VenueOrder,
    VenueStatus,
)
from core.venues.polymarket import errors as pe
from core.venues.polymarket.ids import fill_tid, oid_of
from core.venues.polymarket.mapping import PmTranslator, Settlements, Sighting, order_type_of
from core.venues.polymarket.market import PmMarket
from core.venues.polymarket.wire import (
    Book,
    LastTradePrice,
    Order,
    PriceChanges,
    TickSizeChange,
)
from core.venues.rows import parse_or_raise

CID = "0x" + "5f" * 32
YES = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
NO = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
MARKET = PmMarket(
    CID, YES, NO, "Yes", "No", "Will it?", Decimal("0.01"), Decimal("5"), neg_risk=False
)
OURS = "0xff35" + "0" * 60
THEIRS = "0x06bc" + "1" * 60
TRADE_ID = "28c4d2eb-bbb4-4c15-9c7d-2b5d6e7f8a90"
API_KEY = "our-api-key"


def tr() -> PmTranslator:
    return PmTranslator(MARKET, MARKET.instrument())


def no_cloid(oid: int) -> str | None:
    return None


def ours(order_id: str, owner: str | None) -> bool:
    return order_id.lower() == OURS or owner == API_KEY


# ---- market channel -----------------------------------------------------------------------


def test_book_is_best_first_whatever_the_wire_order() -> None:
    """Reference 4: the venue lists the best price LAST; the core wants it first."""
    frame = {
        "event_type": "book",
        "asset_id": YES,
        "market": CID,
        "bids": [{"price": "0.47", "size": "10"}, {"price": "0.48", "size": "30"}],
        "asks": [{"price": "0.53", "size": "5"}, {"price": "0.52", "size": "25"}],
        "timestamp": "1757908892351",
        "hash": "0xabc",
    }
    book = tr().book(parse_or_raise(Book, frame))
    assert book == BookSnapshot(
        bids=((4800, 3000), (4700, 1000)),
        asks=((5200, 2500), (5300, 500)),
        venue_time=1757908892.351,
    )
    other = dict(frame, asset_id=NO)
    assert tr().book(parse_or_raise(Book, other)) is None


def test_price_change_rows_are_deltas_of_our_token_only() -> None:
    frame = {
        "event_type": "price_change",
        "market": CID,
        "timestamp": "1757908892351",
        "price_changes": [
            {
                "asset_id": YES,
                "price": "0.5",
                "size": "200",
                "side": "BUY",
                "hash": "56",
                "best_bid": "0.5",
                "best_ask": "1",
            },
            {"asset_id": YES, "price": "0.55", "size": "0", "side": "SELL", "hash": "57"},
            {"asset_id": NO, "price": "0.5", "size": "200", "side": "SELL", "hash": "58"},
        ],
    }
    rows = tr().price_changes(parse_or_raise(PriceChanges, frame))
    assert rows.items == [
        BookDelta(Side.BID, 5000, 20000, 1757908892.351),
        BookDelta(Side.ASK, 5500, 0, 1757908892.351),
    ]
    assert rows.bad == 0 and rows.good == 3


def test_a_bad_price_change_row_is_salvaged_D34() -> None:
    frame = {
        "event_type": "price_change",
        "market": CID,
        "price_changes": [
            {"asset_id": YES, "price": "1e999", "size": "1", "side": "BUY"},
            {"asset_id": YES, "price": "0.51", "size": "3", "side": "BUY"},
        ],
    }
    rows = tr().price_changes(parse_or_raise(PriceChanges, frame))
    assert rows.items == [BookDelta(Side.BID, 5100, 300, None)]
    report = rows.report(Channel.MARKET, "price_change")
    assert report is not None and report.bad_rows == 1 and report.good_rows == 1


def test_tick_size_change_is_a_new_grid_D39() -> None:
    frame = {
        "event_type": "tick_size_change",
        "asset_id": YES,
        "market": CID,
        "old_tick_size": "0.01",
        "new_tick_size": "0.001",
        "timestamp": "100000",
    }
    change = tr().tick_change(parse_or_raise(TickSizeChange, frame))
    assert change == TickSizeChanged(10, "0.001", 100000.0)
    assert tr().tick_change(parse_or_raise(TickSizeChange, dict(frame, asset_id=NO))) is None


def test_last_trade_price_is_a_public_trade() -> None:
    frame = {
        "event_type": "last_trade_price",
        "asset_id": YES,
        "market": CID,
        "price": "0.456",
        "side": "BUY",
        "size": "219.217767",
        "fee_rate_bps": "0",
        "timestamp": "1757908892351",
        "transaction_hash": "0x1",
    }
    assert tr().last_trade(parse_or_raise(LastTradePrice, frame)) == Trade(
        Side.BID, 4560, 21921, 1757908892.351
    )


# ---- user channel: orders ------------------------------------------------------------------


def order_event(kind: str, **more: Any) -> dict[str, Any]:
    base = {
        "event_type": "order",
        "type": kind,
        "id": OURS,
        "owner": API_KEY,
        "order_owner": API_KEY,
        "market": CID,
        "asset_id": YES,
        "side": "SELL",
        "price": "0.57",
        "original_size": "10",
        "size_matched": "0",
        "outcome": "YES",
        "associate_trades": None,
        "order_type": "GTD",
        "expiration": "1234567",
        "status": "LIVE",
        "maker_address": "0x1",
        "created_at": "1672290687",
        "timestamp": "1672290687",
    }
    return base | more


@pytest.mark.parametrize(
    ("kind", "more", "status", "filled"),
    [
        ("PLACEMENT", {}, VenueStatus.OPEN, 0),
        ("UPDATE", {"size_matched": "4"}, VenueStatus.OPEN, 400),
        ("UPDATE", {"size_matched": "10", "status": "MATCHED"}, VenueStatus.FILLED, 1000),
        ("CANCELLATION", {"size_matched": "2", "status": "CANCELED"}, VenueStatus.CANCELED, 200),
        ("CANCELLATION", {"status": "LIVE"}, VenueStatus.CANCELED, 0),
        (
            "UPDATE",
            {"status": "ORDER_STATUS_MATCHED", "size_matched": "10"},
            VenueStatus.FILLED,
            1000,
        ),
    ],
)
def test_order_events_D33(
    kind: str, more: dict[str, Any], status: VenueStatus, filled: int
) -> None:
    t = tr()
    mapped = t.order_update(parse_or_raise(Order, order_event(kind, **more)), lambda _: "c1")
    assert mapped is not None
    order_id, update = mapped
    assert order_id == OURS
    assert update == OrderUpdate(
        oid_of(OURS), "c1", status, update.raw_status, None, 1672290687.0, filled
    )


def test_an_unknown_order_status_is_unknown_and_counted_D6() -> None:
    t = tr()
    mapped = t.order_update(parse_or_raise(Order, order_event("UPDATE", status="PAUSED")), no_cloid)
    assert mapped is not None and mapped[1].status is VenueStatus.UNKNOWN
    assert t.unknown_words["order status PAUSED"] == 1


def test_open_order_rows_in_shares_or_fixed_units_D34() -> None:
    """Reference 4 (conflict): sizes in shares ("10") or 6-decimal fixed ("100000000")."""
    rows = [
        {
            "id": OURS,
            "status": "ORDER_STATUS_LIVE",
            "market": CID,
            "asset_id": YES,
            "side": "BUY",
            "original_size": "10",
            "size_matched": "2.5",
            "price": "0.45",
            "created_at": 1672290687,
        },
        {
            "id": THEIRS,
            "status": "LIVE",
            "market": CID,
            "asset_id": YES,
            "side": "SELL",
            "original_size": "100000000",
            "size_matched": "0",
            "price": "0.6",
            "created_at": 1,
        },
        {"id": "0x12", "asset_id": YES},
        {"id": OURS, "asset_id": NO, "side": "BUY", "original_size": "5", "price": "0.5"},
    ]
    got = tr().open_orders(rows, no_cloid)
    assert [o for _, o in got.items] == [
        order_row(oid_of(OURS), Side.BID, 4500, 750, 1000, 1672290687.0),
        order_row(oid_of(THEIRS), Side.ASK, 6000, 10000, 10000, 1.0),
    ]
    assert got.bad == 1 and got.good == 3


def order_row(oid: int, side: Side, price: int, size: int, orig: int, t: float) -> VenueOrder:
    return VenueOrder(oid, None, side, price, size, orig, t)


# ---- user channel: trades ------------------------------------------------------------------


def trade_event(status: str = "MATCHED", **more: Any) -> dict[str, Any]:
    """The reference's example: we are the maker (SELL 10 @ 0.57 on YES)."""
    base = {
        "event_type": "trade",
        "type": "TRADE",
        "id": TRADE_ID,
        "taker_order_id": THEIRS,
        "market": CID,
        "asset_id": YES,
        "side": "BUY",
        "size": "10",
        "price": "0.57",
        "fee_rate_bps": "0",
        "status": status,
        "match_time": "1672290701",
        "last_update": "1672290701",
        "outcome": "YES",
        "owner": "their-key",
        "trade_owner": "their-key",
        "maker_address": "0x1",
        "transaction_hash": "",
        "bucket_index": 0,
        "trader_side": "MAKER",
        "maker_orders": [
            {
                "order_id": OURS,
                "owner": API_KEY,
                "maker_address": "0x1",
                "matched_amount": "10",
                "price": "0.57",
                "fee_rate_bps": "0",
                "asset_id": YES,
                "outcome": "YES",
                "side": "SELL",
            }
        ],
        "timestamp": "1672290701",
    }
    return base | more


def sightings(frames: list[dict[str, Any]], snapshot: bool = False) -> list[Sighting]:
    rows = tr().trades(frames, ours, snapshot=snapshot, cloid_of=lambda _: "c1", what="trade")
    assert rows.bad == 0, rows.problem
    return rows.items


def test_maker_fill_from_maker_orders_is_provisional_D38() -> None:
    [s] = sightings([trade_event()])
    assert s.fill == Fill(
        tid=fill_tid(TRADE_ID, OURS),
        oid=oid_of(OURS),
        cloid="c1",
        side=Side.ASK,
        price=5700,
        size=1000,
        liquidity=Liquidity.MAKER,
        venue_time=1672290701.0,
        final=False,
    )


def test_a_maker_fill_on_the_other_token_is_ours_at_one_minus_p() -> None:
    """Reference 5: a complementary match -- our entry names the NO token, BUY at 0.43: on
    our YES token that is a SELL at 0.57."""
    entry = {
        "order_id": OURS,
        "owner": API_KEY,
        "matched_amount": "10",
        "price": "0.43",
        "asset_id": NO,
        "side": "BUY",
    }
    [s] = sightings([trade_event(asset_id=NO, maker_orders=[entry])])
    assert (s.fill.side, s.fill.price, s.fill.size) == (Side.ASK, 5700, 1000)


def test_only_our_entries_and_two_of_ours_are_two_fills() -> None:
    second = "0xab" + "2" * 62
    entries = [
        {
            "order_id": THEIRS,
            "owner": "x",
            "matched_amount": "3",
            "price": "0.57",
            "asset_id": YES,
            "side": "SELL",
        },
        {
            "order_id": OURS,
            "owner": API_KEY,
            "matched_amount": "4",
            "price": "0.57",
            "asset_id": YES,
            "side": "SELL",
        },
        {
            "order_id": second,
            "owner": API_KEY,
            "matched_amount": "3",
            "price": "0.58",
            "asset_id": YES,
            "side": "SELL",
        },
        {"order_id": THEIRS, "garbage": True},  # another's entry, unreadable: not ours to read
    ]
    got = sightings([trade_event(maker_orders=entries)])
    assert [(s.fill.price, s.fill.size) for s in got] == [(5700, 400), (5800, 300)]
    assert len({s.tid for s in got}) == 2


def test_an_unreadable_entry_that_may_be_ours_is_a_bad_row_D34() -> None:
    entries = [
        {
            "order_id": OURS,
            "owner": API_KEY,
            "matched_amount": "NaN",
            "price": "0.57",
            "asset_id": YES,
            "side": "SELL",
        },
        {"owner": API_KEY},
    ]
    rows = tr().trades(
        [trade_event(maker_orders=entries)], ours, snapshot=False, cloid_of=no_cloid, what="t"
    )
    assert rows.items == [] and rows.bad == 2


def test_taker_fill_uses_the_top_level_fields_and_pays_the_fee() -> None:
    frame = trade_event(
        taker_order_id=OURS, owner=API_KEY, trader_side="TAKER", fee_rate_bps="400", maker_orders=[]
    )
    [s] = sightings([frame])
    assert (s.fill.side, s.fill.price, s.fill.size, s.fill.liquidity) == (
        Side.BID,
        5700,
        1000,
        Liquidity.TAKER,
    )
    # 10 shares x 0.04 x 0.57 x 0.43 = 0.09804 pUSD
    assert s.fill.fee == 98040 and s.fill.fee_token == "pUSD"


def test_an_unknown_trade_status_is_a_bad_row_never_a_guess_D6() -> None:
    t = tr()
    rows = t.trades(
        [trade_event("TRADE_STATUS_SETTLING")], ours, snapshot=False, cloid_of=no_cloid, what="t"
    )
    assert rows.items == [] and rows.bad == 1
    assert t.unknown_words["trade status SETTLING"] == 1


# ---- settlements (D38) ---------------------------------------------------------------------


def one(status: str) -> Sighting:
    [s] = sightings([trade_event(status)])
    return s


def test_matched_mined_confirmed_is_one_provisional_fill_then_settled_D38() -> None:
    book = Settlements()
    first = book.see(one("MATCHED"))
    assert len(first) == 1 and isinstance(first[0], Fill) and first[0].final is False
    assert book.see(one("MATCHED")) == []
    assert book.see(one("MINED")) == []
    assert book.see(one("TRADE_STATUS_MINED")) == []
    done = book.see(one("CONFIRMED"))
    assert done == [FillSettled(fill_tid(TRADE_ID, OURS), True, "CONFIRMED", 1672290701.0)]
    assert book.see(one("CONFIRMED")) == [] and book.see(one("MINED")) == []


def test_failed_after_matched_reverses_once_D38() -> None:
    book = Settlements()
    book.see(one("MATCHED"))
    assert book.see(one("RETRYING")) == []
    failed = book.see(one("FAILED"))
    assert [type(e) for e in failed] == [FillSettled] and failed[0].confirmed is False  # type: ignore[union-attr]
    assert book.see(one("FAILED")) == []
    conflict = book.see(one("CONFIRMED"))
    assert len(conflict) == 1 and isinstance(conflict[0], VenueNotice)


def test_first_seen_confirmed_is_a_final_fill_and_first_seen_failed_is_nothing() -> None:
    book = Settlements()
    [fill] = book.see(one("CONFIRMED"))
    assert isinstance(fill, Fill) and fill.final is True
    other = Settlements()
    [notice] = other.see(one("FAILED"))
    assert isinstance(notice, VenueNotice)


def test_a_changed_trade_is_sent_again_for_the_ledger_to_flag_D35() -> None:
    book = Settlements()
    book.see(one("MATCHED"))
    entry = {
        "order_id": OURS,
        "owner": API_KEY,
        "matched_amount": "7",
        "price": "0.57",
        "asset_id": YES,
        "side": "SELL",
    }
    [changed] = sightings([trade_event("MATCHED", maker_orders=[entry])])
    [again] = book.see(changed)
    assert isinstance(again, Fill) and again.size == 700


# ---- answers -------------------------------------------------------------------------------


def place(
    cloid: str, side: Side = Side.BID, size: int = 1000, tif: TimeInForce = TimeInForce.ALO
) -> Place:
    return Place(cloid, side, 5200, size, tif)


def test_batch_answers_per_item_D7() -> None:
    """Reference 4's batch example, plus the ``success:true`` + ``errorMsg`` variant and a
    partial immediate fill (D3)."""
    ids = ["0xa" + "0" * 63, "0xb" + "0" * 63, "0xc" + "0" * 63, "0xd" + "0" * 63, "0xe" + "0" * 63]
    answer = [
        {
            "success": True,
            "errorMsg": "",
            "orderID": ids[0],
            "status": "live",
            "makingAmount": "",
            "takingAmount": "",
            "transactionsHashes": [],
            "tradeIDs": [],
        },
        {
            "success": False,
            "errorMsg": "not enough balance / allowance",
            "orderID": "",
            "status": "",
            "makingAmount": "",
            "takingAmount": "",
        },
        {"success": True, "errorMsg": pe.POST_ONLY_MODE, "orderID": "", "status": ""},
        {
            "success": True,
            "errorMsg": "",
            "orderID": ids[3],
            "status": "matched",
            "makingAmount": "2.08",
            "takingAmount": "4",
            "tradeIDs": [TRADE_ID],
        },
    ]
    places = [place(f"c{i}") for i in range(5)]
    events = [e for e, _ in tr().place_answers(places, ids, answer, 7)]
    assert events[0] == PlaceAck("c0", oid_of(ids[0]), AckStatus.RESTING, 0, 0, 7)
    assert events[1] == PlaceRejected("c1", pe.NOT_ENOUGH_BALANCE, RejectionClass.MARGIN, 7)
    assert events[2] == PlaceRejected("c2", pe.POST_ONLY_MODE, RejectionClass.RATE_LIMIT, 7)
    assert events[3] == PlaceAck("c3", oid_of(ids[3]), AckStatus.PARTIALLY_FILLED, 400, 2080000, 7)
    assert isinstance(events[4], PlaceUnknown)


def test_an_unreadable_item_is_unknown_D8() -> None:
    [(event, order_id)] = tr().place_answers([place("c")], [OURS], [{"success": "yes"}], 1)
    assert isinstance(event, PlaceUnknown) and order_id is None


def test_ioc_matched_is_filled_and_time_in_force_maps() -> None:
    answer = [
        {
            "success": True,
            "orderID": OURS,
            "status": "matched",
            "makingAmount": "1.04",
            "takingAmount": "2",
        }
    ]
    [(ack, _)] = tr().place_answers([place("c", tif=TimeInForce.IOC)], [OURS], answer, 1)
    assert isinstance(ack, PlaceAck) and ack.status is AckStatus.FILLED and ack.filled == 200
    assert order_type_of(TimeInForce.ALO) == ("GTC", True)
    assert order_type_of(TimeInForce.IOC) == ("FAK", False)
    assert order_type_of(TimeInForce.GTC) == ("GTC", False)


def test_cancel_answers_D24() -> None:
    ids = [OURS, THEIRS, "0xab" + "3" * 62]
    cancels = [Cancel("a", 1), Cancel("b", 2), Cancel("c", 3)]
    answer = {
        "canceled": [OURS.upper().replace("0X", "0x")],
        "not_canceled": {THEIRS: "Order already matched"},
    }
    events = PmTranslator.cancel_answers(cancels, ids, answer, 4)
    assert events[0] == CancelAck("a", 1, 4)
    assert events[1] == CancelRejected(
        "b", 2, "Order already matched", True, RejectionClass.OTHER, 4
    )
    assert isinstance(events[2], CancelUnknown)


def test_position_is_the_conditional_balance_in_lots() -> None:
    assert tr().position({"balance": "12345678", "allowances": {}}).position == 1234
    assert tr().position({"balance": 5000000}).position == 500


def test_the_position_holds_pending_fills_as_the_maker_does_D38() -> None:
    """The balance is what settled on chain; a pending fill is added (signed) so that a sync
    while a trade settles shows no drift, and a FAILED one drops out again."""
    book = Settlements()
    [fill] = book.see(one("MATCHED"))
    assert isinstance(fill, Fill)
    signed = fill.size if fill.side is Side.BID else -fill.size
    assert book.pending_lots() == signed
    balance = {"balance": "5000000"}
    assert tr().position(balance, book.pending_lots()).position == 500 + signed
    book.see(one("FAILED"))
    assert book.pending_lots() == 0
    assert tr().position(balance, book.pending_lots()).position == 500
