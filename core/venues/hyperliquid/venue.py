"""HyperliquidVenue: one Hyperliquid perp market behind the async ``Venue`` protocol.

``submit`` returns at once; each batch runs as its own task, so a cancel never queues behind a
placement (D13).  A batch becomes at most one signed action per kind — all its cancels in one
``cancel`` (or ``cancelByCloid``), all its placements in one ``order``, all its modifies in one
``batchModify`` — signed in the signer's thread and sent by WebSocket ``post`` when the socket is
up, by REST otherwise.  The answers come back on ``events()`` item by item (D7) through
``mapping``; no answer in time is an unknown outcome (``PlaceUnknown``, ``CancelUnknown``, D8),
never a failure.  ``CancelAll`` lists the market's open orders at the venue and cancels them all
in one signed action (D25); ``QueryOrder`` asks ``orderStatus`` by cloid; ``SyncState`` fetches
open orders and the position; ``FetchFills`` asks ``userFillsByTime`` (D33).  A request the venue
refused for its rate limit says so in its failure event (``rate_limited``, D29), so the maker
paces the retry; a rate-limited WebSocket post is not asked again over REST at once.

The stream (l2Book, trades, orderUpdates, userFills, userEvents) is mapped as it arrives, row by
row: the good rows of a message are delivered whatever its bad rows, which are reported once per
message (``MalformedMessage``, D34).  After every reconnect, once the subscriptions are
acknowledged, the venue syncs: fills since the last one seen, then open orders and the position,
then ``Connected`` (D16).  Replayed fills
(``isSnapshot``) reach the maker as ``Fill(snapshot=True)`` and are de-duplicated there by trade
id (D4); the very first snapshot is history from before this session, which the start-up
position already contains, so it only sets the point the next catch-up starts from.

Placements go through the rate budget first: one that would exceed it is refused locally as a
rate-limit rejection before the exchange has to say 429.  With the dead man's switch enabled,
``scheduleCancel`` is re-armed periodically so the exchange cancels everything if this process
dies (Hyperliquid only grants it to accounts with $1,000,000 of traded volume; the refusal is
shown, and quoting does not depend on it).

This module never decides anything about orders, never retries an action (that could place
twice) and never lets a malformed message escape as an exception: it becomes a
``MalformedMessage`` (or the failure event of the request it answered).

Why one module of about 780 lines: ``HyperliquidVenue`` is the one async object that owns the
connection's state (the socket, the signer, the rate budget, the stream's last seen fill); its
sections -- executing a batch, info, the stream, the dead man's switch -- share that state.
The words, the wire models and their translation are modules of their own (``errors``,
``statuses``, ``wire``, ``mapping``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from core.clock import Clock
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    FetchFills,
    Modify,
    Place,
    QueryOrder,
    SetLeverage,
    SyncState,
)
from core.events import (
    CancelAck,
    CancelAllDone,
    CancelRejected,
    Channel,
    Connected,
    Disconnected,
    Event,
    Fill,
    FillsFetched,
    LeverageInfo,
    Liquidated,
    MalformedMessage,
    OpenOrders,
    QueryFailed,
    RejectionClass,
    SyncFailed,
    VenueNotice,
)
from core.units import Instrument
from core.venues.hyperliquid.budget import BudgetView, RateBudget, exchange_weight
from core.venues.hyperliquid.errors import (
    classify,
    classify_post_error,
    is_volume_gate,
    parse_leverage,
)
from core.venues.hyperliquid.mapping import Translator
from core.venues.hyperliquid.nonces import epoch_ms
from core.venues.hyperliquid.rest import RestClient, RestRefused, RestUnknown
from core.venues.hyperliquid.signing import Signer, ecdsa_backend
from core.venues.hyperliquid.wire import (
    AccountLiquidation,
    ClearinghouseState,
    ExchangeAnswer,
    InfoRequest,
    ItemStatus,
    L2Book,
    OkBody,
    OrderStatusAnswer,
    ScheduleCancelAction,
    UserFill,
    UserRateLimit,
    WsUserEvent,
    WsUserFills,
    WsUserFundings,
    action_dict,
    request_dict,
)
from core.venues.hyperliquid.ws import NotConnected, PostFailed, PostLost, WsClient
from core.venues.keys import abbreviate
from core.venues.rows import MappingError, Rows, parse_or_raise, raw_int

MAINNET_API_URL = "https://api.hyperliquid.xyz"
TESTNET_API_URL = "https://api.hyperliquid-testnet.xyz"
_CLOSE_GRACE_S = 2.0
# What a message that cannot be read at all may have carried (D34).
_CHANNELS = {
    "userFills": Channel.FILLS,
    "orderUpdates": Channel.ORDER_UPDATES,
    "user": Channel.ORDER_UPDATES,  # nonUserCancel: our orders the venue cancelled
    "userFundings": Channel.OTHER,  # D36: a payment lost to a bad row is not fetched again
    "l2Book": Channel.MARKET,
    "trades": Channel.MARKET,
}


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where to talk to, and which network the signatures are for (source "a" or "b")."""

    api_url: str
    ws_url: str
    is_mainnet: bool

    @classmethod
    def for_network(cls, network: str, api_url: str | None = None) -> Endpoints:
        """The public endpoints of ``network``, or ``api_url`` (the loopback twin, a proxy);
        only the public mainnet URL signs as mainnet, like the official SDK."""
        if api_url is None:
            api_url = MAINNET_API_URL if network == "mainnet" else TESTNET_API_URL
        api_url = api_url.rstrip("/")
        ws_url = "ws" + api_url.removeprefix("http") + "/ws"
        return cls(api_url, ws_url, is_mainnet=network == "mainnet")


@dataclass(frozen=True, slots=True)
class HlSettings:
    endpoints: Endpoints
    user: str  # the address whose orders and fills these are (account, or vault)
    request_timeout_s: float = 5.0
    ws_ping_interval_s: float = 20.0
    ws_pong_timeout_s: float = 10.0
    dead_man_s: float | None = None  # None: no scheduleCancel
    post_over_ws: bool = True


class _Refused(Exception):
    def __init__(self, text: str, rclass: RejectionClass) -> None:
        super().__init__(text)
        self.text = text
        self.rclass = rclass


def _rate_limited(exc: Exception) -> bool:
    """Did the venue refuse for its rate limit (D29: the maker paces the retry)?"""
    return isinstance(exc, _Refused) and exc.rclass is RejectionClass.RATE_LIMIT


class _Unknown(Exception):
    """A request whose outcome we do not know (timeout, lost connection): never a failure."""


@dataclass(frozen=True, slots=True)
class _End:
    """Marks the end of the event stream."""


class HyperliquidVenue:
    """The real exchange, for one coin and one account."""

    def __init__(
        self,
        instrument: Instrument,
        signer: Signer,
        settings: HlSettings,
        clock: Clock,
        *,
        name: str = "hyperliquid",
    ) -> None:
        self.name = name
        self.instrument = instrument
        self.settings = settings
        self.budget = RateBudget()
        self.ecdsa_backend = ecdsa_backend()
        self.dead_man_status = "off" if settings.dead_man_s is None else "not armed yet"
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "actions",
                "posts_ws",
                "posts_rest",
                "unknown",
                "reconnects",
                "notices",
                "history_fills_skipped",
            ),
            0,
        )
        self._signer = signer
        self._clock = clock
        self._tr = Translator(instrument)
        self._user = settings.user.lower()
        self._queue: asyncio.Queue[Event | _End] = asyncio.Queue()
        self._rest: RestClient | None = None
        self._ws: WsClient | None = None
        self._ws_task: asyncio.Task[None] | None = None
        self._dead_man_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._up = asyncio.Event()
        self._history_seen = False
        self._history_tids: set[int] = set()  # fills from before this session (D4, D19)
        self._last_fill_ms: int | None = None
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"HyperliquidVenue({self.instrument.symbol}, user={abbreviate(self._user)}, "
            f"api={self.settings.endpoints.api_url})"
        )

    @property
    def account(self) -> str:
        """The account address, abbreviated for display (D21)."""
        return abbreviate(self._user)

    # ---- the Venue protocol -------------------------------------------------------------

    async def connect(self) -> None:
        if self._rest is not None:
            return
        s = self.settings
        self._rest = RestClient(
            s.endpoints.api_url,
            timeout_s=s.request_timeout_s,
            budget=self.budget,
            clock=self._clock,
        )
        self._notice(
            "signing",
            f"ECDSA backend {self.ecdsa_backend}; signer {abbreviate(self._signer.address)}, "
            f"account {abbreviate(self._user)}, "
            f"{'mainnet' if s.endpoints.is_mainnet else 'testnet'} signatures",
        )
        if self.ecdsa_backend != "coincurve":
            self._notice("signing", "coincurve is missing: each signature costs ~10x more")
        await self._load_rate_limit()
        subscriptions = [request_dict(sub) for sub in self._tr.subscriptions(self._user)]
        self._ws = WsClient(
            s.endpoints.ws_url,
            subscriptions,
            on_message=self._on_message,
            on_up=self._on_up,
            on_down=self._on_down,
            on_notice=self._notice,
            clock=self._clock,
            budget=self.budget,
            open_timeout_s=s.request_timeout_s,
            ping_interval_s=s.ws_ping_interval_s,
            pong_timeout_s=s.ws_pong_timeout_s,
        )
        self._ws_task = asyncio.create_task(self._ws.run(), name="hl-ws")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(s.request_timeout_s * 2):
                await self._up.wait()
        if not self._up.is_set():
            self._notice("ws", "the WebSocket is not up yet; still trying")
        if s.dead_man_s is not None:
            self._dead_man_task = asyncio.create_task(self._dead_man(s.dead_man_s), name="hl-dms")

    async def events(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if isinstance(item, _End):
                return
            yield item

    async def submit(self, batch: Batch) -> None:
        if self._closed:
            return
        # The deadline runs from now, when the maker sent it, not from when it is signed.
        expires = None if batch.expires_in is None else epoch_ms() + int(batch.expires_in * 1000)
        task = asyncio.create_task(self._execute(batch, expires), name=f"hl-batch-{batch.batch_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._dead_man_task is not None:
            self._dead_man_task.cancel()
            await asyncio.gather(self._dead_man_task, return_exceptions=True)
            if self.dead_man_status.startswith("armed"):
                with contextlib.suppress(_Refused, _Unknown):
                    await self._send_action(ScheduleCancelAction(), 1, emergency=True)
                    self.dead_man_status = "cleared"
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=_CLOSE_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        if self._ws_task is not None:
            self._ws_task.cancel()
            await asyncio.gather(self._ws_task, return_exceptions=True)
        if self._rest is not None:
            await self._rest.aclose()
        self._signer.close()
        self._queue.put_nowait(_End())

    # ---- for the view and for tests -----------------------------------------------------

    @property
    def rate_budget(self) -> BudgetView:
        """How close we are to the venue's rate limits, now (for the console)."""
        return self.budget.view(self._clock.now())

    @property
    def ws_up(self) -> bool:
        return self._ws is not None and self._ws.up

    # ---- executing a batch --------------------------------------------------------------

    async def _execute(self, batch: Batch, expires_after: int | None) -> None:
        try:
            await self._run(batch, expires_after)
        except Exception as exc:  # a bug here must not kill the venue silently
            self._notice("internal", f"batch {batch.batch_id}: {type(exc).__name__}: {exc}")

    async def _run(self, batch: Batch, expires_after: int | None) -> None:
        """Cancels first (D13), then modifies and placements (refused by the venue after
        ``expires_after``, epoch ms: D24), then queries, syncs and fill fetches."""
        bid = batch.batch_id
        cmds = batch.commands
        for cmd in cmds:
            if isinstance(cmd, CancelAll):
                await self._cancel_all(bid)
        cancels = [c for c in cmds if isinstance(c, Cancel)]
        if cancels:
            await self._cancels(cancels, bid)
        modifies = [c for c in cmds if isinstance(c, Modify)]
        if modifies:
            await self._modifies(modifies, bid, expires_after)
        places = [c for c in cmds if isinstance(c, Place)]
        if places:
            await self._places(places, bid, expires_after)
        for cmd in cmds:
            if isinstance(cmd, SetLeverage):
                await self._set_leverage(cmd)
        questions = [self._query(c) for c in cmds if isinstance(c, QueryOrder)]
        questions.extend(self._sync() for c in cmds if isinstance(c, SyncState))
        questions.extend(self._fetch_fills(c) for c in cmds if isinstance(c, FetchFills))
        if questions:
            await asyncio.gather(*questions)

    async def _send_action(
        self, action: BaseModel, items: int, *, emergency: bool, expires_after: int | None = None
    ) -> OkBody:
        """Sign and send one action; the ``ok`` body, or ``_Refused`` / ``_Unknown``."""
        ws = self._ws
        via_ws = self.settings.post_over_ws and ws is not None and ws.up
        if not emergency:
            why = self.budget.allows(
                exchange_weight(items), items, self._clock.now(), via_ws=via_ws
            )
            if why is not None:
                raise _Refused(why, RejectionClass.RATE_LIMIT)
        body = await self._signer.signed(action_dict(action), expires_after)
        self.counters["actions"] += 1
        self.budget.record_actions(items)
        timeout = self.settings.request_timeout_s
        try:
            raw: Any = None
            sent = False
            if via_ws and ws is not None:
                try:
                    raw = await ws.post("action", body, timeout)
                    sent = True
                    self.counters["posts_ws"] += 1
                except NotConnected:
                    sent = False
            if not sent:
                assert self._rest is not None
                raw = await self._rest.exchange(body, items)
                self.counters["posts_rest"] += 1
        except PostFailed as exc:
            raise _Refused(exc.text, classify_post_error(exc.text)) from None
        except RestRefused as exc:
            rclass = RejectionClass.RATE_LIMIT if exc.rate_limited else classify(exc.text)
            raise _Refused(exc.text, rclass) from None
        except (PostLost, RestUnknown) as exc:
            self.counters["unknown"] += 1
            raise _Unknown(str(exc)) from None
        try:
            answer = ExchangeAnswer.model_validate(raw)
        except ValidationError:
            self.counters["unknown"] += 1
            raise _Unknown(f"unreadable answer: {str(raw)[:200]}") from None
        if isinstance(answer.response, str):
            text = answer.response
            raise _Refused(text, classify(text))
        return answer.response

    @staticmethod
    def _statuses(body: OkBody) -> Sequence[ItemStatus]:
        return body.data.statuses if body.data is not None else ()

    async def _places(self, places: list[Place], bid: int, expires_after: int | None) -> None:
        tr = self._tr
        action = tr.order_action(places)
        try:
            body = await self._send_action(
                action, len(places), emergency=False, expires_after=expires_after
            )
        except _Refused as r:
            self._put_all(tr.place_rejected(places, r.text, r.rclass, bid))
        except _Unknown as u:
            self._put_all(tr.place_unknown(places, str(u), bid))
        else:
            self._put_all(tr.place_answers(places, self._statuses(body), bid))

    async def _modifies(self, modifies: list[Modify], bid: int, expires_after: int | None) -> None:
        tr = self._tr
        action = tr.modify_action(modifies)
        try:
            body = await self._send_action(
                action, len(modifies), emergency=False, expires_after=expires_after
            )
        except _Refused as r:
            self._put_all([tr.modify_rejected(m, r.text, bid) for m in modifies])
        except _Unknown as u:
            self._put_all(tr.modify_unknown(modifies, str(u), bid))
        else:
            self._put_all(tr.modify_answers(modifies, self._statuses(body), bid))

    async def _cancels(self, cancels: list[Cancel], bid: int) -> None:
        by_oid = [c for c in cancels if c.oid is not None]
        by_cloid = [c for c in cancels if c.oid is None and c.cloid is not None]
        if by_oid:
            await self._send_cancels(self._tr.cancel_action(by_oid), by_oid, bid)
        if by_cloid:
            action = self._tr.cancel_by_cloid_action(by_cloid)
            await self._send_cancels(action, by_cloid, bid)

    async def _send_cancels(
        self, action: BaseModel, cancels: list[Cancel], bid: int | None
    ) -> list[Event]:
        tr = self._tr
        events: list[Event]
        try:
            body = await self._send_action(action, len(cancels), emergency=True)
        except _Refused as r:
            events = [tr.cancel_rejected(c, r.text, r.rclass, bid) for c in cancels]
        except _Unknown as u:
            events = tr.cancel_unknown(cancels, str(u), bid)
        else:
            events = tr.cancel_answers(cancels, self._statuses(body), bid)
        self._put_all(events)
        return events

    async def _cancel_all(self, bid: int) -> None:
        """D25: whatever the venue lists for our market, tracked or not, in one action.  A
        listing the venue refused (D29: ``rate_limited``) or that could not be read is a
        ``CancelAllDone`` with its ``error``: nothing was cancelled.  A listing row that cannot
        be read may still rest: it counts as ``failed`` (D34)."""
        try:
            raw = await self._info(Translator.open_orders_request(self._user))
            listing = self._tr.order_refs(raw)
        except (_Refused, _Unknown, MappingError) as exc:
            error = f"could not list open orders: {exc}"
            self._put(CancelAllDone(0, 0, bid, error=error, rate_limited=_rate_limited(exc)))
            return
        cancels = [Cancel(r.cloid, r.oid) for r in listing.items]
        if not cancels:
            self._put(CancelAllDone(0, listing.bad, bid))
            return
        events = await self._send_cancels(self._tr.cancel_action(cancels), cancels, bid)
        swept = sum(1 for e in events if isinstance(e, CancelAck))
        gone = sum(1 for e in events if isinstance(e, CancelRejected) and e.gone)
        self._put(CancelAllDone(swept, len(cancels) - swept - gone + listing.bad, bid))

    async def _set_leverage(self, cmd: SetLeverage) -> None:
        inst = self.instrument
        try:
            await self._send_action(self._tr.leverage_action(cmd.leverage), 1, emergency=False)
        except _Refused as r:
            found = parse_leverage(r.text, 0)
            if found:
                self._put(LeverageInfo(found, r.text))  # D14: believe the venue's figure
            elif cmd.leverage > inst.max_leverage:
                self._put(LeverageInfo(inst.max_leverage, r.text))
            else:
                self._notice("leverage", f"updateLeverage {cmd.leverage}x refused: {r.text}")
        except _Unknown as u:
            self._notice("leverage", f"updateLeverage {cmd.leverage}x: outcome unknown ({u})")
        else:
            self._put(LeverageInfo(cmd.leverage, "updateLeverage accepted"))

    # ---- info ---------------------------------------------------------------------------

    async def _info(self, request: InfoRequest) -> Any:
        """An ``/info`` request: by WebSocket post when up, else (or if that fails) REST --
        a query is safe to repeat.  Not after a rate-limit refusal, though: asking again at
        once by the other door is the amplification D29 forbids; the caller's failure event
        says ``rate_limited`` and the maker paces the retry."""
        body = request_dict(request)
        ws = self._ws
        if self.settings.post_over_ws and ws is not None and ws.up:
            try:
                return await ws.post("info", body, self.settings.request_timeout_s)
            except PostFailed as exc:
                if classify_post_error(exc.text) is RejectionClass.RATE_LIMIT:
                    raise _Refused(exc.text, RejectionClass.RATE_LIMIT) from None
            except (NotConnected, PostLost):
                pass  # the socket is gone or lost the post: ask again over REST, below
        assert self._rest is not None
        try:
            return await self._rest.info(body)
        except RestRefused as exc:
            raise _Refused(
                exc.text, RejectionClass.RATE_LIMIT if exc.rate_limited else classify(exc.text)
            ) from None
        except RestUnknown as exc:
            raise _Unknown(str(exc)) from None

    async def _query(self, cmd: QueryOrder) -> None:
        try:
            raw = await self._info(Translator.order_status_request(self._user, cmd.cloid, cmd.oid))
            answer = parse_or_raise(OrderStatusAnswer, raw)
            self._put(self._tr.order_status(answer, cmd.cloid, cmd.oid))
        except (_Refused, _Unknown, MappingError) as exc:
            reason = f"orderStatus: {exc}"
            self._put(QueryFailed(cmd.cloid, cmd.oid, reason, rate_limited=_rate_limited(exc)))

    async def _sync(self) -> None:
        """Open orders and the position (answers ``SyncState``).  Listing rows that cannot be
        read are counted in ``OpenOrders.bad_rows`` (D34): the snapshot is incomplete, and the
        maker re-syncs on its own -- a ``MalformedMessage`` here would ask for the same listing
        twice."""
        try:
            listing, state = await asyncio.gather(
                self._info(Translator.open_orders_request(self._user)),
                self._info(Translator.clearinghouse_request(self._user)),
            )
            position = self._tr.position(parse_or_raise(ClearinghouseState, state))
            rows = self._tr.open_orders(listing)
        except (_Refused, _Unknown, MappingError) as exc:
            self._put(SyncFailed(f"state sync: {exc}", rate_limited=_rate_limited(exc)))
            return
        self._put(OpenOrders(tuple(rows.items), None, rows.bad))
        self._put(position)

    async def _fetch_fills(self, cmd: FetchFills) -> None:
        """D33: our fills of the last ``lookback_s`` seconds, as a replay (``snapshot``), then
        ``FillsFetched``.  Rows that cannot be read are its ``bad_rows`` only: a
        ``MalformedMessage(FILLS)`` would ask for this very fetch again, and meet the same
        rows.  The catch-up point of the stream is left alone: this window is the maker's, not
        the stream's."""
        try:
            start = epoch_ms() - round(cmd.lookback_s * 1000)
            raw = await self._info(Translator.fills_request(self._user, start))
            rows = self._tr.fills(raw, snapshot=True, what="userFillsByTime", account=self._user)
        except (_Refused, _Unknown, ValueError, OverflowError) as exc:
            # ValueError: MappingError, or a NaN lookback; OverflowError: an infinite one.
            error = f"userFillsByTime: {exc}"
            self._put(FillsFetched(0, error=error, rate_limited=_rate_limited(exc)))
            return
        fills = self._session_fills(rows, advance=False)
        self._put_all(fills)
        self._put(FillsFetched(len(fills), bad_rows=rows.bad))

    async def _load_rate_limit(self) -> None:
        try:
            raw = await self._info(Translator.rate_limit_request(self._user))
            limit = parse_or_raise(UserRateLimit, raw)
        except (_Refused, _Unknown, MappingError) as exc:
            self._notice("rate limit", f"userRateLimit unavailable: {exc}")
            return
        self.budget.set_address(limit.nRequestsUsed, limit.nRequestsCap)

    # ---- the stream ---------------------------------------------------------------------

    async def _on_up(self) -> None:
        """Subscriptions acknowledged.  After a reconnect: fills since the last one seen, open
        orders and the position (D16), then ``Connected``."""
        ws = self._ws
        if ws is not None and ws.connections > 1:
            self.counters["reconnects"] += 1
            await self._catch_up()
        self._put(Connected(self.name))
        self._up.set()

    async def _catch_up(self) -> None:
        if self._last_fill_ms is not None:
            try:
                raw = await self._info(Translator.fills_request(self._user, self._last_fill_ms))
                rows = self._tr.fills(
                    raw, snapshot=True, what="userFillsByTime", account=self._user
                )
            except (_Refused, _Unknown, MappingError) as exc:
                self._notice("resync", f"fills since the last one seen: {exc}")
            else:
                self._put_all(self._session_fills(rows, advance=True))
                report = rows.report(Channel.FILLS, "userFillsByTime")
                if report is not None:
                    self._put(report)
        await self._sync()

    def _on_down(self, reason: str) -> None:
        self._up.clear()
        self._put(Disconnected(reason))

    def _on_message(self, channel: str, data: Any) -> None:
        try:
            events = self._map_stream(channel, data)
        except (MappingError, ValidationError, TypeError, ValueError) as exc:
            # Not even the envelope could be read: one bad row, nothing of it used (D34).
            kind = _CHANNELS.get(channel, Channel.OTHER)
            self._put(MalformedMessage(kind, 1, 0, f"{channel}: {str(exc)[:200]}"))
            return
        self._put_all(events)

    def _map_stream(self, channel: str, data: Any) -> list[Event]:
        """The events of one stream message: its good rows' events, then at most one
        ``MalformedMessage`` for its bad rows (D34).  Raises when the message as a whole
        cannot be read; the venue's state changes only once it has been."""
        tr = self._tr
        if channel == "l2Book":
            book = parse_or_raise(L2Book, data)  # a book missing a level is no book: whole
            return [tr.book(book)] if book.coin == tr.coin else []
        if channel == "trades":
            return _salvaged(tr.trades(data), Channel.MARKET, "trades")
        if channel == "orderUpdates":
            return _salvaged(tr.order_updates(data), Channel.ORDER_UPDATES, "orderUpdates")
        if channel == "userFills":
            return self._user_fills(parse_or_raise(WsUserFills, data))
        if channel == "userFundings":
            fundings = parse_or_raise(WsUserFundings, data)
            if fundings.user is not None and fundings.user.lower() != self._user:
                return []
            rows = tr.fundings(fundings.fundings, snapshot=bool(fundings.isSnapshot))
            return _salvaged(rows, Channel.OTHER, "userFundings")
        if channel == "user":
            # Fills also come on userFills (with its replay): taken from there only.
            user_event = parse_or_raise(WsUserEvent, data)
            out: list[Event] = []
            if user_event.nonUserCancel is not None:
                cancels = tr.non_user_cancels(user_event.nonUserCancel)
                out.extend(_salvaged(cancels, Channel.ORDER_UPDATES, "nonUserCancel"))
            liquidation = user_event.liquidation
            if liquidation is not None and liquidation.liquidated_user.lower() == self._user:
                out.append(Liquidated(_liquidation_text(liquidation)))  # D41
            # Another user's liquidation we took part in: its trades are our fills, no more.
            return out
        return [VenueNotice("unknown channel", f"{channel}: {str(data)[:200]}")]

    def _user_fills(self, message: WsUserFills) -> list[Event]:
        if message.user is not None and message.user.lower() != self._user:
            return []
        rows = self._tr.fills(
            message.fills,
            snapshot=bool(message.isSnapshot),
            what="userFills",
            account=self._user,
        )
        report = rows.report(Channel.FILLS, "userFills")
        if message.isSnapshot and not self._history_seen:
            # History from before this session: the start-up position holds it already, so
            # these fills are never counted, now or when a later replay repeats them -- nor is
            # an unreadable row of it whose trade id can still be made out.
            self._history_seen = True
            self._history_tids.update(row.tid for row, _ in rows.items)
            unread = (raw_int(raw, "tid") for raw in rows.unread)
            self._history_tids.update(tid for tid in unread if tid is not None)
            self.counters["history_fills_skipped"] += len(rows.items)
            self._saw_fills([row for row, _ in rows.items])
            return [report] if report is not None else []
        events = self._session_fills(rows, advance=True)
        self._history_seen = True
        return events if report is None else [*events, report]

    def _session_fills(
        self, rows: Rows[tuple[UserFill, Fill | None]], *, advance: bool
    ) -> list[Event]:
        """The fills of this session among ``rows`` (history is skipped by trade id: D4, D19);
        ``advance``: they move the point the next catch-up starts from."""
        history = self._history_tids
        fresh = [(row, fill) for row, fill in rows.items if row.tid not in history]
        if advance:
            self._saw_fills([row for row, _ in fresh], rows.unread)
        return [fill for _, fill in fresh if fill is not None]

    def _saw_fills(self, rows: Sequence[UserFill], unread: Sequence[Any] = ()) -> None:
        """Move the catch-up point to the newest fill seen -- but never, for this message, past
        a row of it that could not be read (D34): the catch-up after a reconnect asks for that
        row again.  A bad row whose time cannot be made out holds the point where it was."""
        newest = max((row.time for row in rows), default=None)
        point = _catch_up_point(self._last_fill_ms, newest, [raw_int(r, "time") for r in unread])
        if point is None and not unread:
            point = epoch_ms()  # nothing seen yet: catch up from now
        self._last_fill_ms = point

    # ---- the dead man's switch ----------------------------------------------------------

    async def _dead_man(self, horizon_s: float) -> None:
        """Re-arm ``scheduleCancel`` to now + ``horizon_s`` every third of it."""
        while True:
            deadline = epoch_ms() + int(horizon_s * 1000)
            try:
                await self._send_action(ScheduleCancelAction(time=deadline), 1, emergency=True)
            except _Refused as r:
                self.dead_man_status = f"unavailable: {r.text}"
                self._notice("dead man's switch", r.text)
                if is_volume_gate(r.text):
                    return  # the $1M volume gate: re-arming cannot succeed today
            except _Unknown as u:
                self.dead_man_status = f"unknown: {u}"
            else:
                if not self.dead_man_status.startswith("armed"):
                    self._notice("dead man's switch", f"armed, re-armed every {horizon_s / 3:g}s")
                self.dead_man_status = f"armed: cancels all {horizon_s:g}s after we go silent"
            await asyncio.sleep(horizon_s / 3)

    # ---- output -------------------------------------------------------------------------

    def _put(self, event: Event) -> None:
        self._queue.put_nowait(event)

    def _put_all(self, events: Sequence[Event]) -> None:
        for event in events:
            self._put(event)

    def _notice(self, kind: str, text: str) -> None:
        self.counters["notices"] += 1
        self._put(VenueNotice(kind, text))


def _liquidation_text(event: AccountLiquidation) -> str:
    parts = ["the venue liquidated this account"]
    if event.liquidated_ntl_pos is not None:
        parts.append(f"position notional {event.liquidated_ntl_pos}")
    if event.liquidated_account_value is not None:
        parts.append(f"account value {event.liquidated_account_value}")
    return ", ".join(parts)


def _salvaged(rows: Rows[Any], channel: Channel, what: str) -> list[Event]:
    """The good rows' events, then the message's one report of its bad rows (D34)."""
    report = rows.report(channel, what)
    return [*rows.items, report] if report is not None else list(rows.items)


def _catch_up_point(
    old: int | None, newest: int | None, unread: Sequence[int | None]
) -> int | None:
    """Where the next fill catch-up starts (epoch ms): ``newest`` if later than ``old``, but
    not past the oldest ``unread`` row's time, and not moved at all if a row's time is unknown
    (D34).  It never moves back: a row older than ``old`` was already behind it."""
    if unread:
        known = [t for t in unread if t is not None]
        if len(known) < len(unread):
            return old
        newest = min(known) if newest is None else min(newest, min(known))
    if newest is None or (old is not None and newest <= old):
        return old
    return newest
