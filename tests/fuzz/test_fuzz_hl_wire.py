"""Fuzzing Hyperliquid's wire formats (issue 6, item 5): outside input never escapes the engine.

Every parser that reads what the venue sends -- WebSocket frames, the stream channels, the
``/exchange`` answers, the ``/info`` answers -- gets arbitrary text and, mostly, real messages
with hostile values put in (NaN, infinities, negative or zero sizes, numbers no venue can hold,
wrong types, missing and stray keys).  Whatever comes in:

* nothing raises but ``MappingError`` / a schema error, which the venue turns into a notice, an
  unknown outcome or a failed query (never a traceback out of a task or the socket's reader);
* a message turned away changes nothing in the venue (its fill history, its resume point);
* every event that does come out is sane (positive prices and sizes within range, ids and times
  not negative, an immediate fill never larger than its order), and the maker takes it without
  raising.
"""

from __future__ import annotations

import asyncio
import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.clock import WallClock
from core.commands import Cancel, FetchFills, Modify, Place, TimeInForce
from core.events import (
    BookSnapshot,
    Channel,
    Event,
    Fill,
    FillsFetched,
    MalformedMessage,
    ModifyAck,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PositionSnapshot,
    Side,
    Trade,
    VenueNotice,
)
from core.venues.hyperliquid.budget import RateBudget
from core.venues.hyperliquid.mapping import Translator
from core.venues.hyperliquid.signing import Signer
from core.venues.hyperliquid.venue import Endpoints, HlSettings, HyperliquidVenue
from core.venues.hyperliquid.wire import (
    ClearinghouseState,
    ExchangeAnswer,
    OkBody,
    OrderStatusAnswer,
)
from core.venues.hyperliquid.ws import WsClient
from core.venues.keys import PrivateKey
from core.venues.rows import MappingError, Rows, parse_or_raise, raw_int
from tests.hl_loopback import KEY
from tests.maker_harness import INSTRUMENT, running_maker
from tests.venues.test_hl_venue_events import ETH, fill_row
from tests.venues.test_hl_venue_events import run as hl_run
from tests.venues.test_hl_venue_events import venue as hl_venue

USER = Signer(PrivateKey(KEY), is_mainnet=False).address.lower()
COIN = INSTRUMENT.symbol
C1, C2 = "0x" + "0" * 31 + "1", "0x" + "0" * 31 + "2"
TIME = 1_700_000_000_000
MAX_UNITS = 2**63  # ticks or lots no venue can hold
TR = Translator(INSTRUMENT)
HL = Translator(ETH)  # the instrument of the venue-level tests (test_hl_venue_events)

# ---- real messages, to be spoilt ------------------------------------------------------------

ORDER = {"coin": COIN, "side": "B", "limitPx": "100.00", "sz": "1", "oid": 7, "timestamp": TIME}
FILL = {
    "coin": COIN,
    "px": "100.00",
    "sz": "0.5",
    "side": "B",
    "time": TIME,
    "oid": 7,
    "crossed": False,
    "tid": 9,
    "cloid": C1,
    "fee": "0.01",
}
STREAM: dict[str, Any] = {
    "l2Book": {
        "coin": COIN,
        "time": TIME,
        "levels": [
            [{"px": "100.00", "sz": "1.5", "n": 1}, {"px": "99.90", "sz": "2", "n": 3}],
            [{"px": "100.10", "sz": "2", "n": 1}],
        ],
    },
    "trades": [{"coin": COIN, "side": "A", "px": "100.05", "sz": "0.3", "time": TIME, "tid": 5}],
    "orderUpdates": [
        {"order": {**ORDER, "origSz": "1", "cloid": C1}, "status": "open", "statusTimestamp": TIME}
    ],
    "userFills": {"user": USER, "isSnapshot": False, "fills": [FILL]},
    "user": {"nonUserCancel": [{"coin": COIN, "oid": 7}]},
}
EXCHANGE_ANSWER = {
    "status": "ok",
    "response": {
        "type": "order",
        "data": {
            "statuses": [
                {"resting": {"oid": 7}},
                {"filled": {"totalSz": "0.5", "avgPx": "100.00", "oid": 8}},
                {"error": "Post only order would have immediately matched. asset=0"},
            ]
        },
    },
}
ORDER_STATUS = {
    "status": "order",
    "order": {
        "order": {**ORDER, "origSz": "2", "cloid": C1},
        "status": "open",
        "statusTimestamp": 2,
    },
}
CLEARINGHOUSE = {
    "assetPositions": [
        {"type": "oneWay", "position": {"coin": COIN, "szi": "-1.5", "entryPx": "100"}}
    ],
    "time": TIME,
}
OPEN_ORDERS = [{**ORDER, "cloid": C1}, {**ORDER, "side": "A", "limitPx": "100.20", "oid": 8}]

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "nan",
            "sNaN",
            "Infinity",
            "-Infinity",
            "inf",
            "-1",
            "-0.0",
            "0",
            "0.0",
            "1e400",
            "1e999999999",
            "9" * 40,
            "1e-30",
            "100.001",
            "",
            " ",
            "1,000",
            "0x10",
            "\u0661\u0660\u0660",
            "B",
            "A",
            "open",
            "filled",
            "unknownOid",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.just([]),
    st.just({}),
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON tree a value could be put (the root excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from _paths(value, (*path, index))


@st.composite
def spoilt(draw: st.DrawFn, template: Any) -> Any:
    """``template`` with one to three hostile changes: a value replaced, a key dropped, a
    stray key added, an item repeated."""
    data = copy.deepcopy(template)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(data))
        if not paths:
            break
        *where, last = draw(st.sampled_from(paths))
        parent = data
        for step in where:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "replace", "drop", "stray", "repeat"]))
        if action == "drop" and isinstance(parent, dict):
            del parent[last]
        elif action == "stray" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=6))] = draw(HOSTILE)
        elif action == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        else:
            parent[last] = draw(HOSTILE)
    return data


# ---- what comes out must be sane ------------------------------------------------------------


def _units(value: int, *, zero_ok: bool = False) -> bool:
    return (value >= 0 if zero_ok else value > 0) and value < MAX_UNITS


def _time(value: float | None) -> bool:
    return value is None or (math.isfinite(value) and value >= 0)


def assert_sane(event: Event) -> None:
    """An event the maker may believe: nothing a corrupt message could have put there."""
    if isinstance(event, Fill):
        assert _units(event.price) and _units(event.size), event
        assert event.tid >= 0 and (event.oid is None or event.oid >= 0), event
        assert _time(event.venue_time), event
    elif isinstance(event, Trade):
        assert _units(event.price) and _units(event.size) and _time(event.venue_time), event
    elif isinstance(event, BookSnapshot):
        for price, size in (*event.bids, *event.asks):
            assert _units(price) and _units(size), event
        assert _time(event.venue_time), event
    elif isinstance(event, OrderUpdate):
        assert (event.oid is None or event.oid >= 0) and _time(event.venue_time), event
    elif isinstance(event, PlaceAck | ModifyAck):
        assert event.oid >= 0 and _units(event.filled, zero_ok=True), event
        assert _units(event.filled_value, zero_ok=True), event
    elif isinstance(event, OrderStatusReport):
        assert event.oid is None or event.oid >= 0, event
        assert _units(event.remaining, zero_ok=True) and _units(event.filled, zero_ok=True)
    elif isinstance(event, PositionSnapshot):
        assert abs(event.position) < MAX_UNITS and _time(event.venue_time), event
        assert event.entry_value is None or _units(event.entry_value, zero_ok=True), event
    elif isinstance(event, OpenOrders):
        for vo in event.orders:
            assert vo.oid >= 0 and _units(vo.price) and _units(vo.size, zero_ok=True), vo
            assert _units(vo.orig_size, zero_ok=True) and _time(vo.placed_time), vo


def believed_by_the_maker(events: list[Event]) -> None:
    """The engine takes them: the maker never raises on what the venue let through."""
    session, _ = running_maker()
    for event in events:
        assert_sane(event)
        session.handle(event)


# ---- the stream -----------------------------------------------------------------------------


def _venue() -> HyperliquidVenue:
    settings = HlSettings(Endpoints.for_network("testnet", "http://127.0.0.1:9"), USER)
    signer = Signer(PrivateKey(KEY), is_mainnet=False)
    return HyperliquidVenue(INSTRUMENT, signer, settings, WallClock())


def _state(venue: HyperliquidVenue) -> tuple[object, ...]:
    counters = {k: v for k, v in venue.counters.items() if k != "notices"}
    return (venue._history_seen, sorted(venue._history_tids), venue._last_fill_ms, counters)


def _drain(venue: HyperliquidVenue) -> list[Event]:
    out: list[Event] = []
    while not venue._queue.empty():
        item = venue._queue.get_nowait()
        assert isinstance(item, Event)
        out.append(item)
    return out


def _stream_case(channel: str, data: Any, *, seen_history: bool) -> list[Event]:
    """D34: at most one ``MalformedMessage``, after the good rows' events; a message turned
    away whole is that one report and changes nothing; a bad fill row's readable time is never
    passed by the catch-up point."""
    venue = _venue()
    if seen_history:  # the first snapshot (history) is in; later fills are this session's
        venue._on_message("userFills", {"user": USER, "isSnapshot": True, "fills": []})
    before = _state(venue)
    mark_before = venue._last_fill_ms
    venue._on_message(channel, data)
    events = _drain(venue)
    assert not any(isinstance(e, VenueNotice) and e.kind == "malformed" for e in events)
    reports = [e for e in events if isinstance(e, MalformedMessage)]
    assert len(reports) <= 1 and events[len(events) - len(reports) :] == reports, events
    if reports:
        (report,) = reports
        assert report.bad_rows >= 1 and report.good_rows >= 0 and len(report.text) < 300
        if " rows unreadable " not in report.text:  # not even the envelope could be read
            assert events == reports and (report.bad_rows, report.good_rows) == (1, 0)
            assert _state(venue) == before, "a message turned away changed the venue's state"
        elif channel == "userFills" and mark_before is not None:
            mark = venue._last_fill_ms
            assert mark is not None
            if mark != mark_before:
                for row in data["fills"]:
                    bad_time = raw_int(row, "time") if _unreadable_fill(row) else None
                    assert bad_time is None or mark <= bad_time, (mark, row)
    believed_by_the_maker([e for e in events if not isinstance(e, VenueNotice | MalformedMessage)])
    return events


def _unreadable_fill(row: Any) -> bool:
    return TR.fills([row], snapshot=False, what="test").bad == 1


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.mark.parametrize("channel", sorted(STREAM))
def test_every_stream_message_as_sent_is_believed(channel: str) -> None:
    """The templates themselves are real messages: they map to events (the fuzz starts from
    messages that go deep, not ones turned away at the door)."""
    venue = _venue()
    venue._on_message("userFills", {"user": USER, "isSnapshot": True, "fills": []})
    venue._on_message(channel, copy.deepcopy(STREAM[channel]))
    events = _drain(venue)
    assert events and not any(isinstance(e, VenueNotice) for e in events), events
    believed_by_the_maker(events)


@FUZZ
@given(data=st.data(), channel=st.sampled_from(sorted(STREAM)), seen_history=st.booleans())
def test_hostile_stream_messages_are_turned_away_or_sane(
    data: st.DataObject, channel: str, seen_history: bool
) -> None:
    _stream_case(channel, data.draw(spoilt(STREAM[channel])), seen_history=seen_history)


@FUZZ
@given(channel=st.text(max_size=12), payload=HOSTILE)
def test_any_channel_with_any_payload_is_turned_away_or_sane(channel: str, payload: Any) -> None:
    _stream_case(channel, payload, seen_history=False)


# Every hostile number in every field of every message, not left to chance: the random search
# above rarely puts "1e400" exactly in a fill's size, and that is the case that matters.
HOSTILE_NUMBERS = (
    "NaN", "Infinity", "-Infinity", "-1", "-0.0", "0", "1e400", "1e999999999", "1e-999999999",
    "9" * 40, "", "1,000", -1, -(2**70), 2**70, 1.5, math.nan, True, None,
)  # fmt: skip


def _each_leaf_spoilt(template: Any) -> Iterator[Any]:
    """``template`` with one leaf replaced by one hostile number, for every leaf and number."""
    for path in _paths(template):
        node = template
        for step in path:
            node = node[step]
        if isinstance(node, dict | list):
            continue
        for value in HOSTILE_NUMBERS:
            data = copy.deepcopy(template)
            parent = data
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            yield data


def test_every_hostile_number_in_every_stream_field_is_turned_away_or_sane() -> None:
    cases = 0
    for channel, template in STREAM.items():
        for data in _each_leaf_spoilt(template):
            for seen_history in (False, True):
                _stream_case(channel, data, seen_history=seen_history)
            cases += 1
    assert cases > 500


# ---- D34: one bad row among good ones ---------------------------------------------------------


@dataclass(frozen=True)
class RowKind:
    """A multi-row stream message: one good row, how rows become the message, how one row alone
    is read (to know a spoilt row is really bad), and what its report says."""

    row: dict[str, Any]
    message: Callable[[list[Any]], Any]
    read: Callable[[list[Any]], Rows[Any]]
    channel: Channel
    what: str


ROW_KINDS = {
    "trades": RowKind(STREAM["trades"][0], list, TR.trades, Channel.MARKET, "trades"),
    "orderUpdates": RowKind(
        STREAM["orderUpdates"][0], list, TR.order_updates, Channel.ORDER_UPDATES, "orderUpdates"
    ),
    "userFills": RowKind(
        FILL,
        lambda rows: {"user": USER, "isSnapshot": False, "fills": rows},
        lambda rows: TR.fills(rows, snapshot=False, what="userFills"),
        Channel.FILLS,
        "userFills",
    ),
    "user": RowKind(
        STREAM["user"]["nonUserCancel"][0],
        lambda rows: {"nonUserCancel": rows},
        TR.non_user_cancels,
        Channel.ORDER_UPDATES,
        "nonUserCancel",
    ),
}
SALVAGE = settings(FUZZ, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@st.composite
def bad_row(
    draw: st.DrawFn, template: dict[str, Any], read: Callable[[list[Any]], Rows[Any]]
) -> Any:
    """``template`` spoilt until it is a row that cannot be read."""
    return draw(spoilt(template).filter(lambda row: read([row]).bad == 1))


@SALVAGE
@given(
    data=st.data(),
    channel=st.sampled_from(sorted(ROW_KINDS)),
    good=st.integers(min_value=1, max_value=4),
    seen_history=st.booleans(),
)
def test_one_bad_row_among_good_ones_yields_the_good_rows_and_one_report_D34(
    data: st.DataObject, channel: str, good: int, seen_history: bool
) -> None:
    """D34: whatever is wrong with the bad row and wherever it sits, the message gives exactly
    what its good rows alone give, then one MalformedMessage counting 1 bad and ``good`` good
    rows, naming where it came from and the bad row."""
    kind = ROW_KINDS[channel]
    bad = data.draw(bad_row(kind.row, kind.read))
    at = data.draw(st.integers(min_value=0, max_value=good))
    rows = [copy.deepcopy(kind.row) for _ in range(good)]
    alone = _stream_case(channel, kind.message(copy.deepcopy(rows)), seen_history=seen_history)
    rows.insert(at, bad)
    *delivered, report = _stream_case(channel, kind.message(rows), seen_history=seen_history)
    assert delivered == alone and len(alone) == good
    assert isinstance(report, MalformedMessage)
    assert (report.channel, report.bad_rows, report.good_rows) == (kind.channel, 1, good)
    assert report.text.startswith(f"{kind.what}: 1 of {good + 1} rows unreadable (row {at}: ")


@SALVAGE
@given(data=st.data(), good=st.integers(min_value=1, max_value=4))
def test_one_bad_listing_row_keeps_the_good_open_orders_D34(data: st.DataObject, good: int) -> None:
    """D34: the open-orders listing of a sync keeps its good rows and counts the bad one; the
    cancel-all listing keeps every row that still names an order (D25)."""
    bad = data.draw(bad_row(OPEN_ORDERS[0], TR.open_orders))
    at = data.draw(st.integers(min_value=0, max_value=good))
    rows = [copy.deepcopy(OPEN_ORDERS[0]) for _ in range(good)]
    alone = TR.open_orders(copy.deepcopy(rows)).items
    rows.insert(at, bad)
    read = TR.open_orders(rows)
    assert (read.items, read.good, read.bad) == (alone, good, 1)
    believed_by_the_maker([OpenOrders(tuple(read.items), None, read.bad)])
    refs = TR.order_refs(rows)
    assert refs.good + refs.bad == good + 1 and len(refs.items) >= good


@SALVAGE
@given(data=st.data(), good=st.integers(min_value=1, max_value=4))
def test_one_bad_row_of_fetched_fills_keeps_the_good_fills_D33_D34(
    data: st.DataObject, good: int
) -> None:
    """D33, D34: a fetch by time answered with one bad row delivers the good fills and counts
    the bad one in ``FillsFetched`` (no MalformedMessage: it would ask for the same fetch)."""
    template = fill_row(1)
    bad = data.draw(bad_row(template, lambda rows: HL.fills(rows, snapshot=True, what="t")))
    at = data.draw(st.integers(min_value=0, max_value=good))
    rows = [fill_row(10 + i) for i in range(good)]
    rows.insert(at, bad)
    v, _, _ = hl_venue(rest=lambda body: copy.deepcopy(rows))
    *fills, done = hl_run(v, FetchFills(60.0, "fuzz"))
    assert [f.tid for f in fills] == [10 + i for i in range(good)]  # type: ignore[union-attr]
    assert done == FillsFetched(good, bad_rows=1)


# ---- WebSocket frames -----------------------------------------------------------------------


def _ws() -> tuple[WsClient, list[tuple[str, str]], list[tuple[str, Any]]]:
    notices: list[tuple[str, str]] = []
    messages: list[tuple[str, Any]] = []

    async def up() -> None:
        return None

    client = WsClient(
        "ws://127.0.0.1:9/ws",
        [],
        on_message=lambda channel, data: messages.append((channel, data)),
        on_up=up,
        on_down=lambda reason: None,
        on_notice=lambda kind, text: notices.append((kind, text)),
        clock=WallClock(),
        budget=RateBudget(),
    )
    return client, notices, messages


@FUZZ
@given(text=st.one_of(st.text(), st.binary().map(lambda b: b.decode("utf-8", "replace"))))
def test_any_text_frame_is_a_message_or_a_notice(text: str) -> None:
    client, notices, messages = _ws()
    client._dispatch("{" + text)
    client._dispatch(text)
    assert all(kind in ("malformed", "ws error") for kind, _ in notices)
    assert all(isinstance(channel, str) for channel, _ in messages)


def test_a_frame_nested_too_deep_to_parse_is_a_notice() -> None:
    client, notices, messages = _ws()
    client._dispatch('{"channel": "trades", "data": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert notices and notices[0][0] == "malformed" and not messages


def test_a_post_answer_for_nobody_or_malformed_is_dropped_or_a_notice() -> None:
    async def scenario() -> None:
        client, notices, _ = _ws()
        client._dispatch('{"channel": "post", "data": {"id": "x"}}')
        client._dispatch('{"channel": "post", "data": {"id": 5, "response": {"type": "info"}}}')
        assert [kind for kind, _ in notices] == ["malformed"]

    asyncio.run(scenario())


# ---- /exchange answers ----------------------------------------------------------------------

PLACES = [
    Place(C1, Side.BID, 10_000, 10, TimeInForce.ALO),
    Place(C2, Side.ASK, 10_010, 5, TimeInForce.GTC),
    Place("0x" + "0" * 31 + "3", Side.BID, 9_990, 10, TimeInForce.IOC),
]
MODIFIES = [
    Modify(p.cloid, 70 + i, p.cloid[:-1] + "f", p.side, p.price, p.size, p.tif)
    for i, p in enumerate(PLACES)
]
CANCELS = [Cancel(C1, 70), Cancel(None, 71), Cancel(C2, None)]


@FUZZ
@given(raw=spoilt(EXCHANGE_ANSWER))
def test_hostile_exchange_answers_give_one_sane_event_per_item_D7(raw: Any) -> None:
    _exchange_answer_case(raw)


def test_every_hostile_number_in_every_exchange_answer_field_D7() -> None:
    for raw in _each_leaf_spoilt(EXCHANGE_ANSWER):
        _exchange_answer_case(raw)


def _exchange_answer_case(raw: Any) -> None:
    """D7, D8: an answer we cannot read at all is an unknown outcome for the whole batch (the
    venue's ``_send_action``); one we can read answers every order of the batch, and an item
    that makes no sense is an unknown outcome for that order, to be asked about."""
    try:
        answer = ExchangeAnswer.model_validate(raw)
    except ValidationError:
        return
    if not isinstance(answer.response, OkBody):
        return
    statuses = answer.response.data.statuses if answer.response.data is not None else []
    places = TR.place_answers(PLACES, statuses, 1)
    assert [e.cloid for e in places] == [p.cloid for p in PLACES]  # type: ignore[attr-defined]
    cancels = TR.cancel_answers(CANCELS, statuses, 3)
    assert [(e.cloid, e.oid) for e in cancels] == [(c.cloid, c.oid) for c in CANCELS]  # type: ignore[attr-defined]
    # A modify with no readable answer is a cancel and a placement of unknown outcome (D8).
    modifies = TR.modify_answers(MODIFIES, statuses, 2)
    assert {e.cloid for e in modifies} >= {m.cloid for m in MODIFIES}  # type: ignore[attr-defined]
    assert 3 <= len(modifies) <= 6
    for events in (places, cancels, modifies):
        believed_by_the_maker(events)


def test_an_immediate_fill_larger_than_the_order_is_asked_about_not_believed_D3() -> None:
    statuses = ExchangeAnswer.model_validate(
        {
            "status": "ok",
            "response": {
                "type": "order",
                "data": {"statuses": [{"filled": {"totalSz": "5", "avgPx": "100", "oid": 8}}]},
            },
        }
    ).response.data.statuses  # type: ignore[union-attr]
    (event,) = TR.place_answers(PLACES[:1], statuses, 1)
    assert type(event).__name__ == "PlaceUnknown" and "more than" in event.reason  # type: ignore[attr-defined]


# ---- /info answers --------------------------------------------------------------------------


def _info_case(parse: Callable[[Any], Event], raw: Any) -> None:
    """Only ``MappingError`` may come out of reading an ``/info`` answer (the venue turns it
    into ``QueryFailed`` or ``SyncFailed``); anything else it gives is sane."""
    try:
        event = parse(raw)
    except MappingError:
        return
    believed_by_the_maker([event])


def order_status(raw: Any) -> Event:
    return TR.order_status(parse_or_raise(OrderStatusAnswer, raw), C1, None)


def position(raw: Any) -> Event:
    return TR.position(parse_or_raise(ClearinghouseState, raw))


def open_orders(raw: Any) -> Event:
    rows = TR.open_orders(raw)  # as the venue's sync reads the listing (D34)
    return OpenOrders(tuple(rows.items), None, rows.bad)


@FUZZ
@given(raw=st.one_of(spoilt(ORDER_STATUS), HOSTILE))
def test_hostile_order_status_answers_are_a_failed_query_or_sane_D24(raw: Any) -> None:
    _info_case(order_status, raw)


@FUZZ
@given(raw=st.one_of(spoilt(CLEARINGHOUSE), HOSTILE))
def test_hostile_positions_are_a_failed_sync_or_sane_D16(raw: Any) -> None:
    _info_case(position, raw)


@FUZZ
@given(raw=spoilt(OPEN_ORDERS))
def test_hostile_open_orders_are_a_failed_sync_or_sane_D9(raw: Any) -> None:
    _info_case(open_orders, raw)


def test_every_hostile_number_in_every_info_answer_field_D9_D16_D24() -> None:
    for parse, template in (
        (order_status, ORDER_STATUS),
        (position, CLEARINGHOUSE),
        (open_orders, OPEN_ORDERS),
    ):
        for raw in _each_leaf_spoilt(template):
            _info_case(parse, raw)
