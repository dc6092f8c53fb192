"""Fuzzing every Polymarket parser: outside input never escapes the connector.

Real frames and answers of the reference (reference 4 and 5) get hostile values put in --
1e999, NaN, infinities, negatives, numbers beyond 64 bits, wrong types, deep nesting, unknown
status words, missing and stray keys -- and arbitrary JSON.  Whatever comes in:

* nothing raises out of the venue's frame handlers or the answer mappers (a bad frame becomes
  a ``MalformedMessage`` or a notice, a bad answer an unknown outcome or a failed query);
* nothing changes silently: a frame about our own order whose values were spoiled is never
  swallowed without a trace, and a trade turned away leaves no state behind (the good frame
  after it is still a fill);
* every event that comes out is sane: prices within (0, 1) in ticks, sizes positive and
  within 64 bits, ids and times not negative, an immediate fill never larger than its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import WallClock
from core.commands import Cancel, Place, TimeInForce
from core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    Fill,
    MalformedMessage,
    OrderUpdate,
    PlaceAck,
    Side,
    Trade,
    VenueNotice,
)
from core.venues.keys import PrivateKey
from core.venues.polymarket.market import MarketError, decimal_of, tick_of
from core.venues.polymarket.rest import _retry_after
from core.venues.polymarket.signing import PmSigner
from core.venues.polymarket.venue import PmSettings, PolymarketVenue
from core.venues.polymarket.ws import PmWs
from core.venues.rows import MappingError
from tests.venues.test_pm_mapping import (
    API_KEY,
    MARKET,
    NO,
    OURS,
    THEIRS,
    YES,
    order_event,
    tr,
    trade_event,
)

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
MAX_UNITS = 2**63


def deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE = st.one_of(
    st.sampled_from(
        [
            "1e999",
            "-1e999",
            "NaN",
            "nan",
            "sNaN",
            "Infinity",
            "-Infinity",
            "-1",
            "-0.5",
            "0",
            "1",
            "1.5",
            "",
            " ",
            "0x",
            "9" * 80,
            str(2**64),
            "0.00000001",
            "1e-999",
            "SETTLING",
            "TRADE_STATUS_WHATEVER",
            "ORDER_STATUS_PAUSED",
            "buy",
            "HOLD",
        ]
    ),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.just(deep(300)),
    st.just({"nested": {"a": [1, 2, {"b": None}]}}),
    st.just([]),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of a JSON value (dict keys and list indexes)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index)
            yield from paths(inner, (*prefix, index))


def mutate(frame: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    out = copy.deepcopy(frame)
    target = out
    for key in path[:-1]:
        target = target[key]
    last = path[-1]
    if how == "delete" and isinstance(target, dict):
        del target[last]
    elif how == "stray" and isinstance(target, dict):
        target[f"stray_{last}"] = value
    else:
        target[last] = value
    return out


def venue() -> PolymarketVenue:
    signer = PmSigner(PrivateKey(KEY))
    return PolymarketVenue(MARKET, signer, PmSettings.loopback("http://127.0.0.1:1"), WallClock())


def drain(v: PolymarketVenue) -> list[Event]:
    out: list[Event] = []
    while not v._queue.empty():
        item = v._queue.get_nowait()
        assert isinstance(item, Event.__args__)  # type: ignore[attr-defined]
        out.append(item)  # type: ignore[arg-type]
    return out


def sane(event: Event) -> None:
    if isinstance(event, BookSnapshot):
        for price, size in (*event.bids, *event.asks):
            assert 0 < price < 10_000 and 0 < size < MAX_UNITS
    elif isinstance(event, BookDelta):
        assert 0 < event.price < 10_000 and 0 <= event.size < MAX_UNITS
    elif isinstance(event, Trade):
        assert 0 < event.price < 10_000 and 0 < event.size < MAX_UNITS
    elif isinstance(event, Fill):
        assert 0 < event.price < 10_000 and 0 < event.size < MAX_UNITS
        assert event.oid is not None and 0 <= event.oid < 2**60 and 0 <= event.tid < 2**60
        assert event.fee >= 0 and (event.venue_time is None or event.venue_time >= 0)
    elif isinstance(event, OrderUpdate):
        assert event.filled is None or 0 <= event.filled < MAX_UNITS
        assert event.oid is not None and 0 <= event.oid < 2**60
    elif isinstance(event, PlaceAck):
        assert event.filled >= 0 and 0 <= event.filled_value < MAX_UNITS


def book_frame() -> dict[str, Any]:
    return {
        "event_type": "book",
        "asset_id": YES,
        "market": MARKET.condition_id,
        "bids": [{"price": "0.48", "size": "30"}],
        "asks": [{"price": "0.52", "size": "25"}],
        "timestamp": "1757908892351",
        "hash": "0x",
    }


def market_frames() -> list[Any]:
    return [
        book_frame(),
        {
            "event_type": "price_change",
            "market": MARKET.condition_id,
            "timestamp": "1757908892351",
            "price_changes": [
                {"asset_id": YES, "price": "0.5", "size": "200", "side": "BUY"},
                {"asset_id": NO, "price": "0.5", "size": "1", "side": "SELL"},
            ],
        },
        {
            "event_type": "tick_size_change",
            "asset_id": YES,
            "market": MARKET.condition_id,
            "old_tick_size": "0.01",
            "new_tick_size": "0.001",
            "timestamp": "1",
        },
        {
            "event_type": "last_trade_price",
            "asset_id": YES,
            "market": MARKET.condition_id,
            "price": "0.456",
            "side": "BUY",
            "size": "219.21",
            "timestamp": "1",
        },
        [book_frame(), book_frame()],
    ]


def user_frames() -> list[Any]:
    taker = trade_event(taker_order_id=OURS, owner=API_KEY, trader_side="TAKER", maker_orders=[])
    return [
        order_event("PLACEMENT"),
        order_event("UPDATE", size_matched="4"),
        order_event("CANCELLATION", status="CANCELED"),
        trade_event(),
        trade_event("CONFIRMED"),
        taker,
        [order_event("PLACEMENT"), trade_event()],
    ]


def frame_and_mutation(frames: list[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    def build(index: int) -> st.SearchStrategy[tuple[Any, Any]]:
        frame = frames[index]
        options = list(paths(frame))
        return st.tuples(
            st.just(frame),
            st.builds(
                lambda p, how, v: mutate(frame, p, how, v),
                st.sampled_from(options),
                st.sampled_from(["set", "set", "delete", "stray"]),
                HOSTILE,
            ),
        )

    return st.integers(min_value=0, max_value=len(frames) - 1).flatmap(build)


FUZZ = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FUZZ
@given(frame_and_mutation(market_frames()))
def test_market_frames_never_crash_and_events_are_sane(pair: tuple[Any, Any]) -> None:
    _, bad = pair
    v = venue()
    v._on_market_frame(bad)
    for event in drain(v):
        sane(event)


@FUZZ
@given(frame_and_mutation(user_frames()))
def test_user_frames_never_crash_and_events_are_sane(pair: tuple[Any, Any]) -> None:
    _, bad = pair
    v = venue()
    v._ids.remember(OURS)
    v._on_user_frame(bad)
    for event in drain(v):
        sane(event)


VALUE_KEYS = ("price", "size", "matched_amount", "status", "side", "size_matched", "original_size")


@FUZZ
@given(
    st.sampled_from([trade_event(), order_event("UPDATE", size_matched="4")]),
    st.sampled_from(VALUE_KEYS),
    HOSTILE,
)
def test_a_spoiled_frame_about_our_order_never_vanishes_silently_D34(
    frame: dict[str, Any], key: str, value: Any
) -> None:
    """Spoil a value of a frame about our own order on our own token: whatever comes out,
    something does (the events it still carries, or the report of what was lost) -- and a
    trade turned away leaves no state: the good frame after it is still a fill."""
    target: dict[str, Any] = frame
    if frame["event_type"] == "trade" and key in ("matched_amount", "price", "side"):
        target = frame["maker_orders"][0]  # our part of the trade is our maker entry
    if key not in target:
        return
    spoiled = copy.deepcopy(frame)
    (spoiled["maker_orders"][0] if target is not frame else spoiled)[key] = value
    v = venue()
    v._ids.remember(OURS)
    v._on_user_frame(spoiled)
    first = drain(v)
    assert first, f"{key}={value!r} vanished without a trace"
    for event in first:
        sane(event)
    if frame["event_type"] == "trade" and not any(isinstance(e, Fill) for e in first):
        v._on_user_frame(frame)
        assert any(isinstance(e, Fill) for e in drain(v))


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=30,
    )
)
def test_arbitrary_json_on_either_channel(value: Any) -> None:
    v = venue()
    v._on_market_frame(value)
    v._on_user_frame(value)
    v._on_user_frame({"event_type": "trade", **value} if isinstance(value, dict) else value)
    v._on_market_frame({"event_type": "book", **value} if isinstance(value, dict) else value)
    for event in drain(v):
        sane(event)


PLACES = [Place("c0", Side.BID, 5200, 1000, TimeInForce.ALO), Place("c1", Side.ASK, 5300, 500)]
IDS = [OURS, THEIRS]


def place_answer() -> list[Any]:
    return [
        {
            "success": True,
            "errorMsg": "",
            "orderID": OURS,
            "status": "matched",
            "makingAmount": "2.6",
            "takingAmount": "5",
        },
        {"success": False, "errorMsg": "not enough balance / allowance", "orderID": ""},
    ]


@FUZZ
@given(frame_and_mutation([place_answer()]))
def test_placement_answers_are_one_event_per_order_D7(pair: tuple[Any, Any]) -> None:
    _, answer = pair
    out = tr().place_answers(PLACES, IDS, answer, 1)
    assert [e.cloid for e, _ in out] == ["c0", "c1"]  # type: ignore[union-attr]
    for (event, _), cmd in zip(out, PLACES, strict=True):
        sane(event)
        if isinstance(event, PlaceAck):
            assert event.filled <= cmd.size


@FUZZ
@given(HOSTILE | st.dictionaries(st.sampled_from(["canceled", "not_canceled", "x"]), HOSTILE))
def test_cancel_answers_are_one_event_per_cancel(answer: Any) -> None:
    cancels = [Cancel("a", 1), Cancel("b", 2)]
    events = tr().cancel_answers(cancels, IDS, answer, 1)
    assert [e.cloid for e in events] == ["a", "b"]  # type: ignore[union-attr]


@FUZZ
@given(
    frame_and_mutation([[order_event("PLACEMENT") | {"created_at": 1}], [{"balance": "5000000"}]])
)
def test_open_orders_and_position_raise_only_mapping_errors(pair: tuple[Any, Any]) -> None:
    original, bad = pair
    t = tr()
    with contextlib.suppress(MappingError):  # the one failure a parser may raise
        if isinstance(original[0], dict) and "balance" in original[0]:
            position = t.position(bad[0] if isinstance(bad, list) and bad else bad)
            assert 0 <= position.position < MAX_UNITS
        else:
            rows = t.open_orders(bad, lambda _: None)
            for _, order in rows.items:
                assert 0 <= order.size <= order.orig_size < MAX_UNITS and 0 < order.price < 10_000


@FUZZ
@given(HOSTILE)
def test_market_numbers_and_retry_after(value: Any) -> None:
    for read in (tick_of, lambda x: decimal_of(x, "n")):
        try:
            d = read(value)
        except MarketError:
            continue
        assert isinstance(d, Decimal) and d.is_finite() and d > 0
    seconds = _retry_after(value if isinstance(value, str) else None, value)
    assert seconds is None or 0 <= seconds <= 3600


def test_websocket_text_too_deep_or_not_json_is_a_notice() -> None:
    """Reference 7.10 and hostile nesting: the reader never raises on a frame."""
    notices: list[str] = []
    frames: list[Any] = []

    class FakeSocket:
        def __init__(self, texts: list[str]) -> None:
            self._texts = texts

        def __aiter__(self) -> FakeSocket:
            return self

        async def __anext__(self) -> str:
            if not self._texts:
                raise StopAsyncIteration
            return self._texts.pop(0)

    async def up() -> None:
        return None

    ws = PmWs(
        "ws://x/ws/user",
        dict,
        on_frame=frames.append,
        on_up=up,
        on_down=lambda _: None,
        on_notice=lambda kind, text: notices.append(text),
        clock=WallClock(),
    )
    texts = [
        "[" * 100_000 + "]" * 100_000,
        "not json",
        "PONG",
        json.dumps([{"event_type": "book"}]),
    ]
    asyncio.run(ws._read(FakeSocket(texts)))  # type: ignore[arg-type]
    assert len(notices) == 2 and ws.pongs == 1 and frames == [[{"event_type": "book"}]]


def test_unknown_events_and_words_are_counted_and_shown_D6() -> None:
    v = venue()
    v._on_market_frame({"event_type": "market_exploded"})
    v._ids.remember(OURS)
    v._on_user_frame(order_event("UPDATE", status="PAUSED"))
    events = drain(v)
    notices = [e for e in events if isinstance(e, VenueNotice)]
    assert any("market_exploded" in n.text for n in notices)
    assert any("PAUSED" in n.text for n in notices)
    assert not any(isinstance(e, MalformedMessage) for e in events)
