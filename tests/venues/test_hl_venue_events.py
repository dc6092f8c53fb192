"""What the Hyperliquid venue says when the venue refuses, limits or garbles (issue 14: D29, D33,
D34), with its transports replaced by scripted fakes: no sockets, no clock to wait on.

Each test runs one batch (or one stream message) through the real ``HyperliquidVenue`` and reads
the events it queued, in order.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import pytest

from core.clock import WallClock
from core.commands import Batch, Cancel, CancelAll, Command, FetchFills, QueryOrder, SyncState
from core.events import (
    BookSnapshot,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    Channel,
    Event,
    Fill,
    FillsFetched,
    Liquidated,
    MalformedMessage,
    OpenOrders,
    OrderUpdate,
    PositionSnapshot,
    QueryFailed,
    RejectionClass,
    SyncFailed,
    Trade,
    VenueNotice,
    VenueStatus,
)
from core.units import Instrument
from core.venues.hyperliquid.nonces import epoch_ms
from core.venues.hyperliquid.rest import RestRefused, RestUnknown
from core.venues.hyperliquid.signing import Signer
from core.venues.hyperliquid.venue import Endpoints, HlSettings, HyperliquidVenue
from core.venues.hyperliquid.ws import PostFailed
from core.venues.keys import PrivateKey
from tests.hl_loopback import KEY

ETH = Instrument.hyperliquid_perp("ETH", 4, 25, asset_id=4)
SIGNER = Signer(PrivateKey(KEY), is_mainnet=False)
USER = SIGNER.address.lower()
C1, C2, C3 = (f"0x{i:032x}" for i in range(1, 4))
TIME = 1_700_000_000_000
GONE = "Order was never placed, already canceled, or filled. asset=4"
CUMULATIVE = (
    "Too many cumulative requests sent (49805 > 49743) for cumulative volume traded $39744.93."
)

Answer = Callable[[dict[str, Any]], Any]  # a request body -> the answer, or raises


class FakeRest:
    """``RestClient`` as the venue uses it: every body asked, each answered by ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.asked: list[dict[str, Any]] = []

    async def info(self, body: dict[str, Any]) -> Any:
        self.asked.append(body)
        return self.answer(body)

    async def exchange(self, body: dict[str, Any], items: int) -> Any:
        self.asked.append(body)
        return self.answer(body)

    async def aclose(self) -> None:
        return None


class FakeWs:
    """``WsClient`` as the venue uses it (up, ``post``)."""

    up = True

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.asked: list[dict[str, Any]] = []

    async def post(self, kind: str, payload: dict[str, Any], timeout_s: float) -> Any:
        self.asked.append(payload)
        return self.answer(payload)


def venue(
    rest: Answer | None = None, ws: Answer | None = None
) -> tuple[HyperliquidVenue, FakeRest, FakeWs | None]:
    settings = HlSettings(Endpoints.for_network("testnet", "http://127.0.0.1:9"), USER)
    v = HyperliquidVenue(ETH, SIGNER, settings, WallClock())
    fake_rest = FakeRest(rest or _unexpected)
    v._rest = fake_rest  # type: ignore[assignment]
    fake_ws = FakeWs(ws) if ws is not None else None
    v._ws = fake_ws  # type: ignore[assignment]
    return v, fake_rest, fake_ws


def _unexpected(body: dict[str, Any]) -> Any:
    raise AssertionError(f"not expected to be asked: {body}")


def run(v: HyperliquidVenue, *commands: Command, batch_id: int = 1) -> list[Event]:
    asyncio.run(v._run(Batch(batch_id, tuple(commands)), None))
    return drain(v)


def drain(v: HyperliquidVenue) -> list[Event]:
    out: list[Event] = []
    while not v._queue.empty():
        item = v._queue.get_nowait()
        assert not isinstance(item, VenueNotice), item  # every outcome here has its own event
        out.append(item)  # type: ignore[arg-type]
    return out


def ok_statuses(kind: str, statuses: list[Any]) -> dict[str, Any]:
    return {"status": "ok", "response": {"type": kind, "data": {"statuses": statuses}}}


def order_row(oid: int, **extra: Any) -> dict[str, Any]:
    row = {"coin": "ETH", "side": "B", "limitPx": "3000", "sz": "0.5", "oid": oid}
    return {**row, "timestamp": TIME, "origSz": "0.5", **extra}


def fill_row(tid: int, time: int = TIME, **extra: Any) -> dict[str, Any]:
    row = {"coin": "ETH", "px": "3000", "sz": "0.1", "side": "B", "time": time, "oid": 7}
    return {**row, "crossed": False, "tid": tid, "fee": "0.01", **extra}


def by_type(body: dict[str, Any]) -> str:
    kind = body.get("type") or body["action"]["type"]
    assert isinstance(kind, str)
    return kind


# ---- D29: rate limits the maker can pace --------------------------------------------------

CANCELS = (Cancel(C1, 11), Cancel(C2, 12), Cancel(C3, 13))


def _refused_by_rest(text: str, status: int) -> Answer:
    def answer(body: dict[str, Any]) -> Any:
        raise RestRefused(text, status=status)

    return answer


def _refused_by_ws(text: str) -> Answer:
    def answer(body: dict[str, Any]) -> Any:
        raise PostFailed(text)

    return answer


@pytest.mark.parametrize(
    ("rest", "ws", "text"),
    [
        (_refused_by_rest("HTTP 429 Too Many Requests", 429), None, "HTTP 429 Too Many Requests"),
        (lambda body: {"status": "err", "response": CUMULATIVE}, None, CUMULATIVE),
        (None, _refused_by_ws("429 Too Many Requests"), "429 Too Many Requests"),
        (None, _refused_by_ws("too many pending post requests id=3"), "too many pending"),
    ],
    ids=["http-429", "status-err-cumulative", "ws-post-429", "ws-too-many-pending"],
)
def test_a_rate_limited_cancel_action_is_a_rate_limit_for_every_item_D29(
    rest: Answer | None, ws: Answer | None, text: str
) -> None:
    """D29: a cancel action refused whole for the rate limit answers every cancel of it, item by
    item, as RateLimit and not gone (the orders still rest): the maker retries them paced."""
    v, _, _ = venue(rest=rest, ws=ws)
    events = run(v, *CANCELS, batch_id=4)
    assert [(e.cloid, e.oid) for e in events] == [(c.cloid, c.oid) for c in CANCELS]  # type: ignore[union-attr]
    for event in events:
        assert isinstance(event, CancelRejected) and event.batch_id == 4
        assert event.rclass is RejectionClass.RATE_LIMIT and not event.gone
        assert event.reason.startswith(text)


def test_rate_limited_items_of_a_cancel_batch_are_rate_limits_by_item_D29() -> None:
    """D29: per-item ``{"error": ...}`` rate limits next to a success and a gone order: each
    item keeps its own answer, and only the limited ones are RateLimit (not gone)."""
    answer = ok_statuses("cancel", ["success", {"error": CUMULATIVE}, {"error": GONE}])
    v, _, _ = venue(rest=lambda body: answer)
    ok, limited, gone = run(v, *CANCELS, batch_id=5)
    assert ok == CancelAck(C1, 11, 5)
    assert limited == CancelRejected(C2, 12, CUMULATIVE, False, RejectionClass.RATE_LIMIT, 5)
    assert isinstance(gone, CancelRejected) and gone.gone
    assert gone.rclass is RejectionClass.OTHER


@pytest.mark.parametrize(
    ("rest", "ws", "rate_limited"),
    [
        (_refused_by_rest("HTTP 429 Too Many Requests", 429), None, True),
        (None, _refused_by_ws("too many pending post requests id=9"), True),
        (None, _refused_by_ws("429 Too Many Requests"), True),
        (_refused_by_rest("HTTP 422: Failed to deserialize", 422), None, False),
        (lambda body: (_ for _ in ()).throw(RestUnknown("no answer in time")), None, False),
        (lambda body: {"not": "a list"}, None, False),
    ],
    ids=["http-429", "ws-pending", "ws-429", "http-422", "no-answer", "unreadable"],
)
def test_a_cancel_all_that_cannot_list_says_why_and_whether_rate_limited_D29(
    rest: Answer | None, ws: Answer | None, rate_limited: bool
) -> None:
    """D29: when the open-orders listing fails, ``CancelAllDone`` says so at once (``error``,
    and ``rate_limited`` when the venue said 429): the maker retries paced instead of waiting a
    fixed time.  A WebSocket rate limit is not asked again over REST at once."""
    v, fake_rest, _ = venue(rest=rest or _unexpected, ws=ws)
    [done] = run(v, CancelAll("test"), batch_id=6)
    assert isinstance(done, CancelAllDone)
    assert (done.swept, done.failed, done.batch_id, done.rate_limited) == (0, 0, 6, rate_limited)
    assert done.error.startswith("could not list open orders: ")
    if ws is not None:
        assert not fake_rest.asked


def test_a_cancel_all_refused_for_the_rate_limit_fails_every_order_D29() -> None:
    """D29: the listing works but the cancel action gets a 429: every order is a RateLimit
    CancelRejected and the sweep reports them all as failed."""

    def answer(body: dict[str, Any]) -> Any:
        if by_type(body) == "openOrders":
            return [order_row(11, cloid=C1), order_row(12)]
        raise RestRefused("HTTP 429 Too Many Requests", status=429)

    v, _, _ = venue(rest=answer)
    *rejected, done = run(v, CancelAll("test"), batch_id=7)
    assert [(e.cloid, e.oid) for e in rejected] == [(C1, 11), (None, 12)]  # type: ignore[union-attr]
    assert all(
        isinstance(e, CancelRejected) and e.rclass is RejectionClass.RATE_LIMIT and not e.gone
        for e in rejected
    )
    assert done == CancelAllDone(0, 2, 7)


@pytest.mark.parametrize(
    ("rest", "ws", "rate_limited"),
    [
        (_refused_by_rest("HTTP 429 Too Many Requests", 429), None, True),
        (None, _refused_by_ws("too many pending post requests id=4"), True),
        (None, _refused_by_ws(CUMULATIVE), True),
        (lambda body: (_ for _ in ()).throw(RestUnknown("no answer in time")), None, False),
    ],
    ids=["http-429", "ws-pending", "ws-cumulative", "no-answer"],
)
def test_failed_queries_and_syncs_say_when_the_venue_rate_limited_D29(
    rest: Answer | None, ws: Answer | None, rate_limited: bool
) -> None:
    """D29: ``QueryFailed`` and ``SyncFailed`` carry ``rate_limited`` so the maker paces them."""
    v, fake_rest, _ = venue(rest=rest or _unexpected, ws=ws)
    [failed] = run(v, QueryOrder(C1, None))
    assert isinstance(failed, QueryFailed) and failed.cloid == C1
    assert failed.rate_limited is rate_limited
    [sync_failed] = run(v, SyncState("test"))
    assert isinstance(sync_failed, SyncFailed) and sync_failed.rate_limited is rate_limited
    if ws is not None:
        assert not fake_rest.asked  # D29: not asked again by the other door at once


def test_a_websocket_post_error_that_is_no_rate_limit_still_falls_back_to_rest() -> None:
    """A query is safe to repeat: an error that is not a rate limit is asked again over REST."""
    answer = {"status": "order", "order": None}
    v, fake_rest, _ = venue(rest=lambda body: answer, ws=_refused_by_ws("500 Internal Error"))
    [report] = run(v, QueryOrder(None, 7))
    assert not isinstance(report, QueryFailed)
    assert [body["type"] for body in fake_rest.asked] == ["orderStatus"]


# ---- D34: salvage what is good ------------------------------------------------------------


def test_a_sync_listing_with_a_bad_row_keeps_the_good_rows_and_counts_the_bad_D34() -> None:
    """D34: the readable open orders are in the snapshot, the unreadable row is counted in
    ``bad_rows`` (the snapshot never proves the venue empty) -- and no MalformedMessage, which
    would ask for the same listing again."""

    def answer(body: dict[str, Any]) -> Any:
        if by_type(body) == "openOrders":
            bad = order_row(13, limitPx="NaN")
            return [order_row(11, cloid=C1), bad, order_row(12, coin="BTC"), order_row(14)]
        return {"assetPositions": [], "time": TIME}

    v, _, _ = venue(rest=answer)
    orders, position = run(v, SyncState("test"))
    assert isinstance(orders, OpenOrders) and isinstance(position, PositionSnapshot)
    assert [(o.oid, o.cloid) for o in orders.orders] == [(11, C1), (14, None)]
    assert orders.bad_rows == 1


def test_a_cancel_all_cancels_every_order_it_can_name_and_counts_the_rest_failed_D34() -> None:
    """D34, D25: a listing row with a bad price still names its oid, so it is cancelled; a
    row without an oid cannot be, and may still rest: it counts as failed."""
    sent: list[Any] = []

    def answer(body: dict[str, Any]) -> Any:
        if by_type(body) == "openOrders":
            nameless = {k: v for k, v in order_row(0).items() if k != "oid"}
            return [order_row(11, cloid=C1), order_row(12, limitPx="x"), nameless]
        sent.append(body["action"])
        return ok_statuses("cancel", ["success", "success"])

    v, _, _ = venue(rest=answer)
    *acks, done = run(v, CancelAll("test"), batch_id=8)
    assert [o["o"] for o in sent[0]["cancels"]] == [11, 12]
    assert acks == [CancelAck(C1, 11, 8), CancelAck(None, 12, 8)]
    assert done == CancelAllDone(2, 1, 8)


def test_a_cancel_all_listing_of_only_bad_rows_cancels_nothing_and_fails_them_D34() -> None:
    v, _, _ = venue(rest=lambda body: [{"coin": "ETH"}, 5])
    assert run(v, CancelAll("test"), batch_id=9) == [CancelAllDone(0, 2, 9)]


def _stream(v: HyperliquidVenue, channel: str, data: Any) -> list[Event]:
    v._on_message(channel, data)
    return drain(v)


def _history(v: HyperliquidVenue, fills: list[Any]) -> list[Event]:
    return _stream(v, "userFills", {"user": USER, "isSnapshot": True, "fills": fills})


TRADE = {"coin": "ETH", "side": "A", "px": "3000.05", "sz": "0.3", "time": TIME, "tid": 5}
UPDATE = {"order": order_row(7, cloid=C1), "status": "open", "statusTimestamp": TIME}


@pytest.mark.parametrize(
    ("channel", "data", "kind", "channel_kind", "good"),
    [
        ("trades", [TRADE, {**TRADE, "px": "NaN"}, TRADE], Trade, Channel.MARKET, 2),
        (
            "orderUpdates",
            [UPDATE, {**UPDATE, "statusTimestamp": -1}, {**UPDATE, "status": "canceled"}],
            OrderUpdate,
            Channel.ORDER_UPDATES,
            2,
        ),
        (
            "user",
            {"nonUserCancel": [{"coin": "ETH", "oid": 7}, {"coin": "ETH"}]},
            OrderUpdate,
            Channel.ORDER_UPDATES,
            1,
        ),
        (
            "userFills",
            {"user": USER, "fills": [fill_row(1), fill_row(2, sz="9" * 40), fill_row(3)]},
            Fill,
            Channel.FILLS,
            2,
        ),
    ],
    ids=["trades", "orderUpdates", "nonUserCancel", "userFills"],
)
def test_one_bad_row_never_drops_the_good_rows_of_a_stream_message_D34(
    channel: str, data: Any, kind: type, channel_kind: Channel, good: int
) -> None:
    """D34: the good rows become their events, the bad one is reported once, after them, with
    the channel it came on (what may have been lost)."""
    v, _, _ = venue()
    _history(v, [])
    *events, report = _stream(v, channel, data)
    assert len(events) == good and all(isinstance(e, kind) for e in events), events
    assert isinstance(report, MalformedMessage)
    assert (report.channel, report.bad_rows, report.good_rows) == (channel_kind, 1, good)
    assert report.text.startswith(f"{'nonUserCancel' if channel == 'user' else channel}: 1 of ")
    assert "row 1: " in report.text and len(report.text) < 250


@pytest.mark.parametrize(
    ("channel", "data", "kind"),
    [
        ("trades", {"not": "a list"}, Channel.MARKET),
        (
            "l2Book",
            {"coin": "ETH", "time": 1, "levels": [[{"px": "x", "sz": "1"}], []]},
            Channel.MARKET,
        ),
        ("orderUpdates", "nope", Channel.ORDER_UPDATES),
        ("user", {"nonUserCancel": {"coin": "ETH"}}, Channel.ORDER_UPDATES),
        ("userFills", {"user": USER, "fills": None}, Channel.FILLS),
    ],
)
def test_a_message_that_cannot_be_read_at_all_is_one_bad_row_D34(
    channel: str, data: Any, kind: Channel
) -> None:
    """D34: not a list, not the envelope, or a book with a bad level (a book missing a level is
    no book): one MalformedMessage with one bad row and no good one, and no other event."""
    v, _, _ = venue()
    [report] = _stream(v, channel, data)
    assert isinstance(report, MalformedMessage)
    assert (report.channel, report.bad_rows, report.good_rows) == (kind, 1, 0)
    assert report.text.startswith(f"{channel}: ")


def test_a_good_book_and_unknown_channels_are_not_malformed() -> None:
    v, _, _ = venue()
    book = {"coin": "ETH", "time": TIME, "levels": [[{"px": "2999", "sz": "1", "n": 1}], []]}
    [snapshot] = _stream(v, "l2Book", book)
    assert isinstance(snapshot, BookSnapshot)
    v._on_message("mystery", [1])
    [notice] = [v._queue.get_nowait()]
    assert isinstance(notice, VenueNotice) and notice.kind == "unknown channel"


def test_a_bad_fill_row_holds_the_catch_up_point_before_it_D34() -> None:
    """D34: the good fills of a message are delivered, but the point the reconnect catch-up
    starts from does not move past the row that could not be read: at its time when that can
    be made out, not at all when it cannot."""
    v, _, _ = venue()
    _history(v, [fill_row(1, TIME)])
    assert v._last_fill_ms == TIME
    bad_at = {**fill_row(3, TIME + 20), "px": None}
    events = _stream(
        v,
        "userFills",
        {"user": USER, "fills": [fill_row(2, TIME + 10), bad_at, fill_row(4, TIME + 30)]},
    )
    assert [e.tid for e in events if isinstance(e, Fill)] == [2, 4]
    assert v._last_fill_ms == TIME + 20  # the catch-up asks for the bad row again
    timeless = {**fill_row(5, TIME + 50), "time": "soon"}
    _stream(v, "userFills", {"user": USER, "fills": [fill_row(6, TIME + 60), timeless]})
    assert v._last_fill_ms == TIME + 20  # held where it was
    _stream(v, "userFills", {"user": USER, "fills": [fill_row(7, TIME + 70)]})
    assert v._last_fill_ms == TIME + 70


def test_a_bad_row_of_the_history_snapshot_stays_history_D34_D4() -> None:
    """D34, D4: the first snapshot is history (never counted); an unreadable row of it is
    reported, and when its trade id can be made out, a later replay of that fill is still
    history -- it is not counted as a fill of this session."""
    v, _, _ = venue()
    [report] = _history(v, [fill_row(1), {**fill_row(2), "sz": "NaN"}])
    assert isinstance(report, MalformedMessage) and report.channel is Channel.FILLS
    assert (report.bad_rows, report.good_rows) == (1, 1)
    assert v._history_tids == {1, 2} and v._last_fill_ms == TIME
    replay = _stream(
        v,
        "userFills",
        {"user": USER, "isSnapshot": True, "fills": [fill_row(1), fill_row(2), fill_row(3)]},
    )
    assert [e.tid for e in replay if isinstance(e, Fill)] == [3]


def test_the_reconnect_catch_up_salvages_its_fills_and_reports_the_bad_row_D34() -> None:
    def answer(body: dict[str, Any]) -> Any:
        if by_type(body) == "userFillsByTime":
            return [fill_row(2, TIME + 10), {"tid": 3}, fill_row(4, TIME + 30)]
        if by_type(body) == "openOrders":
            return []
        return {"assetPositions": []}

    v, _, _ = venue(rest=answer)
    _history(v, [fill_row(1)])
    asyncio.run(v._catch_up())
    fill_a, fill_b, report, orders, _ = drain(v)
    assert isinstance(fill_a, Fill) and isinstance(fill_b, Fill) and fill_b.snapshot
    assert isinstance(report, MalformedMessage) and report.channel is Channel.FILLS
    assert report.text.startswith("userFillsByTime: 1 of 3 rows unreadable")
    assert orders == OpenOrders((), None, 0)
    assert v._last_fill_ms == TIME  # the bad row's time is unknown: held


# ---- D33: fills by time -------------------------------------------------------------------


def test_fetch_fills_asks_by_time_and_answers_with_replayed_fills_then_the_count_D33() -> None:
    """D33, D34, D4: ``FetchFills`` is ``userFillsByTime`` from now - lookback; our fills of
    this session come back as ``Fill(snapshot=True)`` (history and other coins skipped), then
    ``FillsFetched`` with the count and the unreadable rows -- never a MalformedMessage, which
    would ask for the same fetch again.  The stream's catch-up point is left alone."""
    rows = [
        fill_row(1),
        fill_row(2),
        fill_row(3, coin="BTC"),
        {**fill_row(4), "oid": -1},
        fill_row(5),
    ]
    v, fake_rest, _ = venue(rest=lambda body: copy.deepcopy(rows))
    _history(v, [fill_row(1)])
    before = epoch_ms()
    *fills, done = run(v, FetchFills(90.0, "gap"))
    after = epoch_ms()
    [body] = fake_rest.asked
    assert body["type"] == "userFillsByTime" and body["user"] == USER
    assert before - 90_000 <= body["startTime"] <= after - 90_000
    assert [(f.tid, f.snapshot) for f in fills] == [(2, True), (5, True)]  # type: ignore[union-attr]
    assert done == FillsFetched(2, bad_rows=1)
    assert v._last_fill_ms == TIME


@pytest.mark.parametrize(
    ("rest", "rate_limited"),
    [
        (_refused_by_rest("HTTP 429 Too Many Requests", 429), True),
        (lambda body: (_ for _ in ()).throw(RestUnknown("no answer in time")), False),
        (lambda body: {"not": "a list"}, False),
    ],
    ids=["http-429", "no-answer", "unreadable"],
)
def test_a_fetch_that_fails_says_why_and_whether_rate_limited_D33_D29(
    rest: Answer, rate_limited: bool
) -> None:
    v, _, _ = venue(rest=rest)
    [done] = run(v, FetchFills(30.0, "gap"))
    assert isinstance(done, FillsFetched) and done.count == 0
    assert done.error.startswith("userFillsByTime: ") and done.rate_limited is rate_limited


def test_a_fetch_with_a_lookback_no_clock_can_show_fails_cleanly_D33() -> None:
    v, fake_rest, _ = venue()
    [done] = run(v, FetchFills(float("nan"), "gap"))
    assert isinstance(done, FillsFetched) and done.error and not fake_rest.asked


def test_order_updates_carry_what_the_venue_says_traded_D33() -> None:
    """D33: ``filled`` = origSz - sz on the stream (a cancelled order keeps its unfilled size
    in ``sz``), None when the row has no origSz."""
    v, _, _ = venue()
    partial = {**UPDATE, "order": order_row(7, sz="0.2", origSz="0.5"), "status": "canceled"}
    bare = {**UPDATE, "order": {k: v for k, v in order_row(8).items() if k != "origSz"}}
    first, second = _stream(v, "orderUpdates", [partial, bare])
    assert first == OrderUpdate(7, None, VenueStatus.CANCELED, "canceled", None, TIME / 1000, 3000)
    assert isinstance(second, OrderUpdate) and second.filled is None


def test_an_account_event_naming_us_as_liquidated_is_an_emergency_D41() -> None:
    """D41: ``{"liquidation": {...}}`` on channel ``user`` was a notice; naming us it is a
    ``Liquidated`` event (the maker kills on it); naming another user (we took part in their
    liquidation) it says nothing beyond the fills."""
    v, _, _ = venue()
    _history(v, [])
    ours = {
        "lid": 1,
        "liquidator": "0x" + "11" * 20,
        "liquidated_user": USER.upper(),
        "liquidated_ntl_pos": "1500.0",
        "liquidated_account_value": "40.2",
    }
    (event,) = _stream(v, "user", {"liquidation": ours})
    assert isinstance(event, Liquidated)
    assert "position notional 1500.0" in event.text and "account value 40.2" in event.text
    theirs = {**ours, "liquidated_user": "0x" + "22" * 20}
    assert _stream(v, "user", {"liquidation": theirs}) == []
