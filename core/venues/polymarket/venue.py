"""PolymarketVenue: one outcome token of one Polymarket market behind the async ``Venue``
protocol.

``submit`` returns at once; each batch runs as its own task, so a cancel never queues behind a
placement (D13), and the REST client keeps several connections for the same reason.  A batch:

* ``CancelAll`` -> ``DELETE /cancel-market-orders`` for our market, then the market's open
  orders are listed to verify (D25) -> ``CancelAllDone``;
* ``Cancel`` -> ``DELETE /order`` (one) or ``DELETE /orders`` (several) by the full order id
  (``ids.IdRegistry``), answered from ``canceled`` / ``not_canceled`` (D24).  A cancel for a
  placement still being signed or sent waits for its answer, then cancels by digest; an id not
  known here (forgotten: the registry is bounded) is ``CancelUnknown``, never "gone";
* ``Modify`` -> the venue cannot amend: cancel, then place the replacement (D5);
* ``Place`` -> signed in the signer's thread (the digest, i.e. the ``orderID``, is known before
  sending, D2), ``POST /orders`` in chunks of at most 15, ALO as GTC ``postOnly`` (D23), IOC as
  FAK; answered per item (D7).  A batch whose ``expires_in`` has passed before it could be sent
  is refused here, unsent (D24);
* ``QueryOrder`` -> ``GET /data/order/{id}`` (a placement still in flight: ``QueryFailed``,
  ask again; a forgotten oid is looked up in the venue's listing); ``SyncState`` -> open
  orders and the position (``GET /balance-allowance`` CONDITIONAL for our token, after a
  ``/balance-allowance/update`` at most every few seconds); ``FetchFills`` -> ``GET /data/trades``
  (D33); ``SetLeverage`` -> there is none: ``LeverageInfo(1)``.

No answer is an unknown outcome (``PlaceUnknown``, ``CancelUnknown``, D8).  425, 429 and the
503 operating modes (post-only, cancel-only, disabled) refuse placements as ``RateLimit`` with
the venue's ``Retry-After`` in the reason (D29); the mode is shown (``trading_mode``, a notice
when it changes).

The stream: the market channel (book, price changes, tick-size changes, last trade) and the
user channel (our orders and trades), read row by row (D34).  The venue replays nothing, so
after every reconnect (D16) the venue fetches our trades since the oldest one still unsettled
(or the disconnection), the tick size, then open orders and the position, and only then says
``Connected`` -- and only if no channel dropped meanwhile (a generation counter; else it
catches up again); the first connect leaves that to the maker's own start-up sync (D19).
Fills are provisional until the chain confirms them (``mapping.Settlements``, D38); a
tick-size change re-grids the instrument and is passed on (D39).

The dead-man switch (D40): ``POST /v1/heartbeats`` every 5 s on its own task and its own
connection, the id chained; ``HeartbeatState`` says when it is armed and when it lapsed (the
venue refused our id, or no heartbeat was answered within 10 s): every order is presumed gone.

Credentials come from the L1 endpoints (``POST /auth/api-key``, else ``GET
/auth/derive-api-key``) unless given; they never appear in output (D21).  This module never
decides anything about orders, never retries a placement, and never lets a malformed frame
escape as an exception.

Why one module of about 1,150 lines: like ``HyperliquidVenue``, ``PolymarketVenue`` is the one
async object that owns the connection's state (two sockets, the signer, the ids, the
placements in flight, the settlements, the generation of the connection, the heartbeat chain);
each section below (batches, placements, cancels, modify, questions, the stream, the dead-man
switch) reads and writes that state, and the review's fixes (a cancel waiting for its
placement, a reconnect counted by generation) live exactly where two sections meet.  Words,
shapes and their translation are modules of their own (``errors``, ``wire``, ``mapping``).
The stream and the dead-man switch are the seams to cut along when it grows again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.clock import Clock, unix_now
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
    CancelUnknown,
    Channel,
    Connected,
    Disconnected,
    Event,
    Fill,
    FillsFetched,
    HeartbeatState,
    LeverageInfo,
    MalformedMessage,
    ModifyAck,
    ModifyRejected,
    OpenOrders,
    OrderStatusReport,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    QueryFailed,
    RejectionClass,
    SyncFailed,
    TickSizeChanged,
    VenueNotice,
    VenueStatus,
)
from core.units import Instrument
from core.venues.keys import abbreviate
from core.venues.polymarket import errors
from core.venues.polymarket.auth import ApiCredentials, CredentialsError
from core.venues.polymarket.ids import IdRegistry, oid_of
from core.venues.polymarket.mapping import (
    PmTranslator,
    Settlements,
    Sighting,
    order_type_of,
)
from core.venues.polymarket.market import PmMarket
from core.venues.polymarket.rest import PmRest, RestRefused, RestUnknown
from core.venues.polymarket.signing import OrderSpec, PmSigner
from core.venues.polymarket.wire import (
    Book,
    EventHead,
    HeartbeatAnswer,
    LastTradePrice,
    Order,
    PriceChanges,
    TickSizeAnswer,
    TickSizeChange,
)
from core.venues.polymarket.ws import PmWs
from core.venues.rows import MappingError, parse_or_raise

CLOB_URL = "https://clob.polymarket.com"
WS_URL = "wss://ws-subscriptions-clob.polymarket.com"
# The staging CLOB on Amoy (chain 80002; reference section 0).  Its WebSocket host is not
# documented: the production naming with "-staging" is an assumption (README says so).
STAGING_URL = "https://clob-staging.polymarket.com"
STAGING_WS_URL = "wss://ws-subscriptions-clob-staging.polymarket.com"
_CLOSE_GRACE_S = 2.0
# Trades matched this long before a disconnection are fetched again after it: the venue's
# clock and ours differ, and a trade's status may change without a new match time.
_CATCH_UP_MARGIN_S = 120.0
# ``GET /balance-allowance/update`` at most this often from a state sync (budget 50 / 10 s).
_BALANCE_UPDATE_EVERY_S = 5.0
# How long a cancel waits for the placement it names to be answered (signed and posted).
_BIND_WAIT_FACTOR = 3.0
_MARKET_EVENTS = ("book", "price_change", "tick_size_change", "last_trade_price")
_IGNORED_EVENTS = ("best_bid_ask", "new_market", "market_resolved")


@dataclass(frozen=True, slots=True)
class PmSettings:
    api_url: str = CLOB_URL
    ws_url: str = WS_URL  # the channels are ``{ws_url}/ws/market`` and ``{ws_url}/ws/user``
    request_timeout_s: float = 5.0
    ws_ping_interval_s: float = 10.0
    ws_silence_s: float = 10.0
    heartbeat_s: float | None = 5.0  # None: no dead-man switch
    heartbeat_window_s: float = 10.0  # the venue cancels everything after this much silence
    credential_nonce: int = 0

    @classmethod
    def loopback(cls, url: str, **more: Any) -> PmSettings:
        """The loopback twin (or any host serving both) at ``http://host:port``."""
        base = url.rstrip("/")
        return cls(api_url=base, ws_url="ws" + base.removeprefix("http"), **more)


class _Refused(Exception):
    def __init__(
        self,
        text: str,
        rclass: RejectionClass,
        rate_limited: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(text)
        self.text = text
        self.rclass = rclass
        self.rate_limited = rate_limited
        self.status = status


class _Unknown(Exception):
    """A request whose outcome we do not know (timeout, lost connection): never a failure."""


@dataclass(frozen=True, slots=True)
class _End:
    """Marks the end of the event stream."""


class PolymarketVenue:
    """The real CLOB, for one outcome token and one account."""

    def __init__(
        self,
        market: PmMarket,
        signer: PmSigner,
        settings: PmSettings,
        clock: Clock,
        *,
        creds: ApiCredentials | None = None,
        name: str = "polymarket",
    ) -> None:
        self.name = name
        self.market = market
        self.instrument: Instrument = market.instrument()
        self.settings = settings
        self.trading_mode = "normal"
        self.heartbeat_status = "off" if settings.heartbeat_s is None else "not armed yet"
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "orders_signed",
                "placements",
                "cancels",
                "unknown",
                "reconnects",
                "notices",
                "order_id_mismatches",
                "heartbeats",
                "heartbeat_lapses",
                "dust_levels",
                "truncated_fills",
                "foreign_fills",
            ),
            0,
        )
        self._signer = signer
        self._clock = clock
        self._creds = creds
        self._tr = PmTranslator(market, self.instrument)
        self._ids = IdRegistry()
        self._cloid_by_oid: OrderedDict[int, str] = OrderedDict()
        self._id_by_cloid: OrderedDict[str, str] = OrderedDict()
        self._settlements = Settlements()
        self._pending_times: OrderedDict[int, float] = OrderedDict()  # tid -> match time
        self._unknown_seen = 0
        self._queue: asyncio.Queue[Event | _End] = asyncio.Queue()
        self._rest: PmRest | None = None
        self._market_ws: PmWs | None = None
        self._user_ws: PmWs | None = None
        self._ws_tasks: list[asyncio.Task[None]] = []
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Placements not yet answered, by cloid: a cancel for one waits for it (finding 4).
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._balance_updated_at: float | None = None
        self._resync_lock = asyncio.Lock()
        self._up = asyncio.Event()
        self._connected = False
        self._generation = 0  # bumped by every outage of either channel
        self._down_since: float | None = None  # epoch seconds
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"PolymarketVenue({self.market.symbol}, signer={abbreviate(self._signer.address)}, "
            f"api={self.settings.api_url})"
        )

    @property
    def account(self) -> str:
        """The funder address, abbreviated for display (D21)."""
        return abbreviate(self._signer.funder)

    # ---- the Venue protocol -------------------------------------------------------------

    async def connect(self) -> None:
        if self._rest is not None:
            return
        s = self.settings
        self._rest = PmRest(s.api_url, self._signer, timeout_s=s.request_timeout_s)
        if self._creds is None:
            self._creds = await self._derive_credentials()
        self._rest.creds = self._creds
        self._notice(
            "account",
            f"signer {abbreviate(self._signer.address)}, funder {self.account}, "
            f"{self._signer.signature_type.name}, API key {self._creds.shown}; "
            f"market {self.market.title}, tick {self.market.tick}, "
            f"min size {self.market.min_size}{', neg-risk' if self.market.neg_risk else ''}",
        )
        await self._refresh_balances()
        base = s.ws_url.rstrip("/")
        self._market_ws = self._channel(f"{base}/ws/market", self._market_subscription)
        self._user_ws = self._channel(f"{base}/ws/user", self._user_subscription)
        for ws, label in ((self._market_ws, "pm-market"), (self._user_ws, "pm-user")):
            self._ws_tasks.append(asyncio.create_task(ws.run(), name=label))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(s.request_timeout_s * 2):
                await self._up.wait()
        if not self._up.is_set():
            self._notice("ws", "the WebSocket channels are not up yet; still trying")
        if s.heartbeat_s is not None:
            self._heartbeat_task = asyncio.create_task(
                self._heartbeats(s.heartbeat_s, s.heartbeat_window_s), name="pm-heartbeat"
            )

    async def events(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if isinstance(item, _End):
                return
            yield item

    async def submit(self, batch: Batch) -> None:
        if self._closed:
            return
        deadline = None if batch.expires_in is None else self._clock.now() + batch.expires_in
        task = asyncio.create_task(
            self._execute(batch, deadline), name=f"pm-batch-{batch.batch_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            await asyncio.gather(self._heartbeat_task, return_exceptions=True)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=_CLOSE_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for ws in (self._market_ws, self._user_ws):
            if ws is not None:
                await ws.close()
        for task in self._ws_tasks:
            task.cancel()
        await asyncio.gather(*self._ws_tasks, return_exceptions=True)
        if self._rest is not None:
            await self._rest.aclose()
        self._signer.close()
        self._queue.put_nowait(_End())

    # ---- for the view and for tests -----------------------------------------------------

    @property
    def ws_up(self) -> bool:
        return all(ws is not None and ws.up for ws in (self._market_ws, self._user_ws))

    def full_order_id(self, oid: int) -> str | None:
        return self._ids.full(oid)

    # ---- credentials ----------------------------------------------------------------------

    async def _derive_credentials(self) -> ApiCredentials:
        """Create the API key (L1); if the venue will not (it exists already), derive it."""
        assert self._rest is not None
        nonce = self.settings.credential_nonce
        problems: list[str] = []
        for method, path in (("POST", "/auth/api-key"), ("GET", "/auth/derive-api-key")):
            try:
                return ApiCredentials.from_answer(await self._rest.l1(method, path, nonce))
            except (RestRefused, RestUnknown, CredentialsError) as exc:
                problems.append(f"{method} {path}: {str(exc)[:120]}")
        raise ConnectionError("no API credentials: " + "; ".join(problems))

    # ---- executing a batch --------------------------------------------------------------

    async def _execute(self, batch: Batch, deadline: float | None) -> None:
        try:
            await self._run(batch, deadline)
        except Exception as exc:  # a bug here must not kill the venue silently
            self._notice("internal", f"batch {batch.batch_id}: {type(exc).__name__}: {exc}")

    async def _run(self, batch: Batch, deadline: float | None) -> None:
        """Cancels first (D13), then modifies and placements, then questions."""
        bid = batch.batch_id
        cmds = batch.commands
        for cmd in cmds:
            if isinstance(cmd, CancelAll):
                await self._cancel_all(bid)
        cancels = [c for c in cmds if isinstance(c, Cancel)]
        # D13: a cancel of a known order goes at once; one whose placement is still on its way
        # waits for it (D24) -- after the others, never holding them back.
        ready = [c for c in cancels if not self._awaits_placement(c)]
        if ready:
            self._put_all(await self._cancels(ready, bid))
        later = [c for c in cancels if self._awaits_placement(c)]
        if later:
            self._put_all(await self._cancels(later, bid))
        places = [c for c in cmds if isinstance(c, Place)]
        flying = [c.new_cloid for c in cmds if isinstance(c, Modify)] + [p.cloid for p in places]
        self._take_off(flying)
        try:
            for modify in (c for c in cmds if isinstance(c, Modify)):
                await self._modify(modify, bid, deadline)
            for start in range(0, len(places), errors.MAX_BATCH_ORDERS):
                chunk = places[start : start + errors.MAX_BATCH_ORDERS]
                try:
                    self._put_all(await self._places(chunk, bid, deadline))
                finally:
                    self._land([p.cloid for p in chunk])
        finally:
            self._land(flying)
        for cmd in cmds:
            if isinstance(cmd, SetLeverage):
                self._put(LeverageInfo(1, "Polymarket has no leverage: shares are fully paid"))
        questions = [self._query(c) for c in cmds if isinstance(c, QueryOrder)]
        questions.extend(self._sync() for c in cmds if isinstance(c, SyncState))
        questions.extend(self._fetch_fills(c) for c in cmds if isinstance(c, FetchFills))
        if questions:
            await asyncio.gather(*questions)

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        """A private request; ``_Refused`` (classified) or ``_Unknown``."""
        assert self._rest is not None
        try:
            return await self._rest.private(method, path, **kw)
        except RestRefused as exc:
            rclass = errors.classify_status(exc.status or 0, exc.text)
            if exc.status in (425, 429, 503):
                self._mode(exc)
            text = exc.text
            if exc.retry_after is not None:
                # No event field carries it (PlaceRejected has none): the text says it (D29).
                text = f"{text} (retry after {exc.retry_after:g}s)"
            raise _Refused(text, rclass, exc.rate_limited, exc.status) from None
        except RestUnknown as exc:
            self.counters["unknown"] += 1
            raise _Unknown(str(exc)) from None

    def _mode(self, exc: RestRefused | None) -> None:
        """The venue's operating mode, shown when it changes (reference 4 "Trading modes")."""
        if exc is None:
            mode = "normal"
        else:
            names = {425: "engine restarting", 429: "rate limited", 503: "restricted"}
            mode = f"{names.get(exc.status or 0, 'refusing')}: {exc.text[:120]}"
            if exc.retry_after is not None:
                mode += f" (retry after {exc.retry_after:g}s)"
        if mode != self.trading_mode:
            self.trading_mode = mode
            self._notice("trading mode", mode)

    # ---- placements ---------------------------------------------------------------------

    def _spec(self, cmd: Place | Modify) -> OrderSpec:
        return OrderSpec(self.market.token_id, cmd.side, cmd.price, cmd.size, self.market.neg_risk)

    async def _places(
        self, places: Sequence[Place], bid: int, deadline: float | None
    ) -> list[Event]:
        """One chunk of at most 15, signed together, posted together, answered per item."""
        try:
            signed = await self._signer.sign_orders([self._spec(p) for p in places])
        except (ValueError, TypeError) as exc:  # an order the builder refuses: nothing sent
            return [
                PlaceRejected(p.cloid, f"cannot sign: {exc}", RejectionClass.OTHER, bid)
                for p in places
            ]
        self.counters["orders_signed"] += len(signed)
        for cmd, order in zip(places, signed, strict=True):
            self._bind(cmd.cloid, order.order_id)
        if deadline is not None and self._clock.now() > deadline:
            text = "not sent: the batch expired before it could leave (D24)"
            return [PlaceRejected(p.cloid, text, RejectionClass.OTHER, bid) for p in places]
        assert self._creds is not None
        owner = self._creds.api_key
        body = [
            order.body(owner, *order_type_of(cmd.tif))
            for cmd, order in zip(places, signed, strict=True)
        ]
        self.counters["placements"] += len(places)
        try:
            answer = await self._call("POST", "/orders", body=body)
        except _Refused as r:
            self._tick_from_refusals([r.text])
            return [
                PlaceRejected(
                    p.cloid,
                    r.text,
                    r.rclass
                    if r.status is None
                    else errors.classify_order(r.text, p.tif, r.status),
                    bid,
                )
                for p in places
            ]
        except _Unknown as u:
            return [PlaceUnknown(p.cloid, str(u), bid) for p in places]
        self._mode(None)
        out: list[Event] = []
        for (event, order_id), order in zip(
            self._tr.place_answers(places, [o.order_id for o in signed], answer, bid),
            signed,
            strict=True,
        ):
            if order_id is not None and order_id != order.order_id:
                # The venue's id is the one it will use: believe it, and say so.
                self.counters["order_id_mismatches"] += 1
                self._notice(
                    "order id",
                    f"venue id {order_id[:18]}… is not our digest {order.order_id[:18]}…",
                )
                if isinstance(event, PlaceAck):
                    self._bind(event.cloid, order_id)
            out.append(event)
        self._put_all(self._tr.take_notices())
        self._tick_from_refusals([e.reason for e in out if isinstance(e, PlaceRejected)])
        self._report_unknown_words()
        return out

    def _tick_from_refusals(self, texts: Sequence[str]) -> None:
        """D39: "breaks minimum tick size rule: X" names the venue's tick.  When X is not our
        grid the venue moved it without telling us yet (the event is late, or was lost in an
        outage): ``TickSizeChanged`` goes out before the refusal, so the maker reads the
        refusal as the old grid's, not a price error of ours."""
        for text in texts:
            named = errors.tick_in_refusal(text)
            if named is not None:
                self._learn_tick(named, "a refusal")

    def _learn_tick(self, text: str, source: str) -> None:
        try:
            change = self._tr.tick(text)
        except MappingError as exc:
            self._notice("tick size", f"unreadable tick from {source}: {exc}")
            return
        if change.grid != self.instrument.grid:
            self._regrid(change)
            self._put(change)

    def _take_off(self, cloids: Sequence[str]) -> None:
        loop = asyncio.get_running_loop()
        for cloid in cloids:
            if cloid not in self._inflight:
                self._inflight[cloid] = loop.create_future()

    def _land(self, cloids: Sequence[str]) -> None:
        """The placements of ``cloids`` are answered (or will never be sent)."""
        for cloid in cloids:
            future = self._inflight.pop(cloid, None)
            if future is not None and not future.done():
                future.set_result(None)

    def _bind(self, cloid: str, order_id: str) -> None:
        """cloid <-> order id, known before the request leaves (D2)."""
        oid = self._ids.remember(order_id)
        self._cloid_by_oid[oid] = cloid
        self._id_by_cloid[cloid] = order_id.lower()
        for table in (self._cloid_by_oid, self._id_by_cloid):
            while len(table) > 200_000:
                table.popitem(last=False)

    def _cloid_of(self, oid: int) -> str | None:
        return self._cloid_by_oid.get(oid)

    def _ours(self, order_id: str, owner: str | None) -> bool:
        """An order is ours when we signed or were shown it (on our token), or its owner is our
        API key.  Pure: the ids of fills we count are remembered in ``_settle``, so an order of
        our key on the other token never becomes "known" here (finding 6)."""
        try:
            oid = oid_of(order_id)
        except ValueError:
            return False
        if self._ids.full(oid) == order_id.lower():
            return True
        return owner is not None and self._creds is not None and owner == self._creds.api_key

    # ---- cancels ------------------------------------------------------------------------

    def _order_id(self, cloid: str | None, oid: int | None) -> str | None:
        if oid is not None:
            found = self._ids.full(oid)
            if found is not None:
                return found
        return self._id_by_cloid.get(cloid) if cloid is not None else None

    def _awaits_placement(self, cancel: Cancel) -> bool:
        """Is ``cancel`` for a placement still being signed or sent (no order id yet)?"""
        return cancel.cloid in self._inflight and self._order_id(cancel.cloid, cancel.oid) is None

    async def _cancels(self, cancels: Sequence[Cancel], bid: int | None) -> list[Event]:
        waiting = [
            self._inflight[c.cloid]
            for c in cancels
            if c.cloid is not None and self._awaits_placement(c)
        ]
        if waiting:
            # D24: the placement is still being signed or sent: wait for its answer, then
            # cancel by its digest.  Never "gone" from here.
            await asyncio.wait(waiting, timeout=self.settings.request_timeout_s * _BIND_WAIT_FACTOR)
        known: list[tuple[Cancel, str]] = []
        out: list[Event] = []
        for cmd in cancels:
            order_id = self._order_id(cmd.cloid, cmd.oid)
            if order_id is None:
                # Not known here (still in flight past the wait, or forgotten: the registry is
                # bounded): only the venue can say; the core asks (D24, D8).
                why = (
                    "its placement is still being sent"
                    if cmd.cloid in self._inflight
                    else "order id not known here (never sent, or forgotten): ask the venue"
                )
                out.append(CancelUnknown(cmd.cloid, cmd.oid, why, bid))
            else:
                known.append((cmd, order_id))
        for start in range(0, len(known), errors.MAX_BATCH_CANCELS):
            chunk = known[start : start + errors.MAX_BATCH_CANCELS]
            out.extend(await self._cancel_chunk([c for c, _ in chunk], [i for _, i in chunk], bid))
        return out

    async def _cancel_chunk(
        self, cancels: list[Cancel], order_ids: list[str], bid: int | None
    ) -> list[Event]:
        self.counters["cancels"] += len(cancels)
        try:
            if len(order_ids) == 1:
                answer = await self._call("DELETE", "/order", body={"orderID": order_ids[0]})
            else:
                answer = await self._call("DELETE", "/orders", body=order_ids)
        except _Refused as r:
            return [
                CancelRejected(c.cloid, c.oid, r.text, errors.is_order_gone(r.text), r.rclass, bid)
                for c in cancels
            ]
        except _Unknown as u:
            return [CancelUnknown(c.cloid, c.oid, str(u), bid) for c in cancels]
        return self._tr.cancel_answers(cancels, order_ids, answer, bid)

    async def _cancel_all(self, bid: int) -> None:
        """D25: every order of ours in this market, tracked or not, then a listing to verify:
        what still rests is ``failed``."""
        try:
            answer = await self._call(
                "DELETE", "/cancel-market-orders", body={"market": self.market.condition_id}
            )
        except (_Refused, _Unknown) as exc:
            limited = isinstance(exc, _Refused) and exc.rate_limited
            self._put(
                CancelAllDone(0, 0, bid, error=f"cancel-market-orders: {exc}", rate_limited=limited)
            )
            return
        canceled = answer.get("canceled") if isinstance(answer, dict) else None
        refused = answer.get("not_canceled") if isinstance(answer, dict) else None
        swept = len(canceled) if isinstance(canceled, list) else 0
        stuck = 0
        if isinstance(refused, dict):
            stuck = sum(1 for reason in refused.values() if not errors.is_order_gone(str(reason)))
        try:
            rows = await self._market_orders()
        except (_Refused, _Unknown) as exc:
            self._notice("cancel-all", f"could not verify: {exc}")
            self._put(CancelAllDone(swept, stuck, bid))
            return
        self._put(CancelAllDone(swept, len(rows), bid))

    async def _market_orders(self) -> list[Any]:
        """Every open order of ours in the market (both tokens), rows as sent."""
        assert self._rest is not None
        try:
            return await self._rest.pages("/data/orders", {"market": self.market.condition_id})
        except RestRefused as exc:
            rclass = errors.classify_status(exc.status or 0, exc.text)
            raise _Refused(exc.text, rclass, exc.rate_limited) from None
        except RestUnknown as exc:
            raise _Unknown(str(exc)) from None

    # ---- modify: the venue cannot amend -------------------------------------------------

    async def _modify(self, cmd: Modify, bid: int, deadline: float | None) -> None:
        """Cancel, then place the replacement under ``new_cloid`` (D5)."""
        try:
            await self._cancel_and_replace(cmd, bid, deadline)
        finally:
            self._land([cmd.new_cloid])

    async def _cancel_and_replace(self, cmd: Modify, bid: int, deadline: float | None) -> None:
        cancel = Cancel(cmd.cloid, cmd.oid)
        [answer] = await self._cancels([cancel], bid) or [
            CancelUnknown(cmd.cloid, cmd.oid, "no answer", bid)
        ]
        if isinstance(answer, CancelUnknown):
            self._put_all([answer, PlaceUnknown(cmd.new_cloid, "the cancel leg is unknown", bid)])
            return
        if isinstance(answer, CancelRejected):
            self._put(
                ModifyRejected(
                    cmd.cloid,
                    cmd.new_cloid,
                    answer.reason,
                    answer.rclass,
                    answer.gone,
                    bid,
                    raced=answer.gone,
                )
            )
            return
        place = Place(
            cmd.new_cloid, cmd.side, cmd.price, cmd.size, cmd.tif, cmd.reduce_only, cmd.level
        )
        [event] = await self._places([place], bid, deadline)
        if isinstance(event, PlaceAck):
            self._put(
                ModifyAck(
                    cmd.cloid,
                    cmd.new_cloid,
                    event.oid,
                    event.status,
                    event.filled,
                    event.filled_value,
                    bid,
                )
            )
        elif isinstance(event, PlaceRejected):
            self._put(
                ModifyRejected(cmd.cloid, cmd.new_cloid, event.reason, event.rclass, True, bid)
            )
        else:
            self._put_all([CancelAck(cmd.cloid, cmd.oid, bid), event])

    # ---- questions ----------------------------------------------------------------------

    async def _query(self, cmd: QueryOrder) -> None:
        order_id = self._order_id(cmd.cloid, cmd.oid)
        if order_id is None and cmd.cloid is not None and cmd.cloid in self._inflight:
            # Being signed or sent: neither "never sent" nor anything else yet (D24).
            self._put(QueryFailed(cmd.cloid, cmd.oid, "its placement is still being sent"))
            return
        if order_id is None and cmd.oid is not None:
            # Forgotten (the registry is bounded, finding 11): the venue's own listing has it
            # if it still rests.
            try:
                order_id = await self._listed_id(cmd.oid)
            except (_Refused, _Unknown) as exc:
                self._put(QueryFailed(cmd.cloid, cmd.oid, f"order listing: {exc}"))
                return
            if order_id is None:
                text = "not known here and not among the venue's open orders"
                self._put(OrderStatusReport(cmd.cloid, cmd.oid, VenueStatus.NOT_FOUND, text))
                return
        if order_id is None:
            report = OrderStatusReport(cmd.cloid, cmd.oid, VenueStatus.NOT_FOUND, "never sent")
            self._put(report)
            return
        try:
            answer = await self._call("GET", f"/data/order/{order_id}")
        except _Refused as r:
            if errors.ORDER_NOT_FOUND in r.text:
                self._put(OrderStatusReport(cmd.cloid, cmd.oid, VenueStatus.NOT_FOUND, r.text))
            else:
                self._put(QueryFailed(cmd.cloid, cmd.oid, f"order: {r.text}", r.rate_limited))
            return
        except _Unknown as u:
            self._put(QueryFailed(cmd.cloid, cmd.oid, f"order: {u}"))
            return
        if answer in (None, "", {}, "null"):
            # Filled FAK orders were seen to come back empty (reference 7.6): the venue holds
            # no such order; the fills are fetched by the maker's gap rule (D33).
            self._put(OrderStatusReport(cmd.cloid, cmd.oid, VenueStatus.NOT_FOUND, "empty answer"))
            return
        try:
            row = parse_or_raise(Order, answer)
            self._put(self._tr.order_status(row, cmd.cloid, self._cloid_of))
        except MappingError as exc:
            self._put(QueryFailed(cmd.cloid, cmd.oid, f"order: unreadable answer ({exc})"))
        self._report_unknown_words()

    async def _listed_id(self, oid: int) -> str | None:
        """The full id of our open order ``oid`` from the venue's listing, remembered."""
        for row in await self._market_orders():
            named = row.get("id") if isinstance(row, dict) else None
            if isinstance(named, str):
                with contextlib.suppress(ValueError):
                    if oid_of(named) == oid:
                        self._ids.remember(named)
                        return named.lower()
        return None

    async def _refresh_balances(self) -> None:
        """Ask the venue to re-read our pUSD and shares (and their approvals) from the chain:
        its cache can lag an on-chain change by minutes (reference 7, pitfall 3), and a stale
        one refuses orders with "not enough balance / allowance".  Best effort: a refusal is
        shown, never fatal (the orders' own answers say what the venue believes)."""
        assert self._rest is not None
        kind = str(int(self._signer.signature_type))
        for params in (
            {"asset_type": "COLLATERAL", "signature_type": kind},
            {"asset_type": "CONDITIONAL", "token_id": self.market.token_id, "signature_type": kind},
        ):
            try:
                await self._rest.private("GET", "/balance-allowance/update", params=params)
            except (RestRefused, RestUnknown) as exc:
                self._notice("balance refresh", f"{params['asset_type']}: {exc}")

    async def _sync(self) -> None:
        """Open orders of our token and the position (answers ``SyncState``).  Unreadable rows
        are ``OpenOrders.bad_rows`` (D34)."""
        assert self._rest is not None
        params = {"market": self.market.condition_id, "asset_id": self.market.token_id}
        balance_params = {
            "asset_type": "CONDITIONAL",
            "token_id": self.market.token_id,
            "signature_type": str(int(self._signer.signature_type)),
        }
        await self._update_balance(balance_params)
        try:
            listing, balance = await asyncio.gather(
                self._rest.pages("/data/orders", params),
                self._rest.private("GET", "/balance-allowance", params=balance_params),
            )
            rows = self._tr.open_orders(listing, self._cloid_of)
            position = self._tr.position(balance, self._settlements.pending_lots())
        except RestRefused as exc:
            self._put(SyncFailed(f"state sync: {exc.text}", rate_limited=exc.rate_limited))
            return
        except (RestUnknown, MappingError) as exc:
            self._put(SyncFailed(f"state sync: {exc}"))
            return
        for order_id, _ in rows.items:
            self._ids.remember(order_id)
        self._put(OpenOrders(tuple(order for _, order in rows.items), None, rows.bad))
        self._put(position)

    async def _update_balance(self, params: dict[str, str]) -> None:
        """``GET /balance-allowance/update`` for our token before a sync reads the balance:
        the venue's cache can lag the chain by minutes (reference 7, pitfall 3).  At most once
        every ``_BALANCE_UPDATE_EVERY_S`` (its budget is 50 / 10 s); best effort."""
        assert self._rest is not None
        now = self._clock.now()
        last = self._balance_updated_at
        if last is not None and now - last < _BALANCE_UPDATE_EVERY_S:
            return
        self._balance_updated_at = now
        try:
            await self._rest.private("GET", "/balance-allowance/update", params=params)
        except (RestRefused, RestUnknown) as exc:
            self._notice("balance refresh", f"CONDITIONAL: {str(exc)[:160]}")

    async def _fetch_fills(self, cmd: FetchFills) -> None:
        """D33: our fills of the last ``lookback_s`` seconds as a replay, then
        ``FillsFetched``; unreadable rows are its ``bad_rows`` only (a ``MalformedMessage``
        would ask for this very fetch again)."""
        try:
            after = int(unix_now() - cmd.lookback_s)
            events, bad = await self._trades_since(after)
        except (_Refused, _Unknown, ValueError, OverflowError) as exc:
            limited = isinstance(exc, _Refused) and exc.rate_limited
            self._put(FillsFetched(0, error=f"trades: {exc}", rate_limited=limited))
            return
        self._put_all(events)
        self._put(FillsFetched(sum(1 for e in events if isinstance(e, Fill)), bad_rows=bad))

    async def _trades_since(self, after: int) -> tuple[list[Event], int]:
        assert self._rest is not None
        params = {"market": self.market.condition_id, "after": str(max(after, 0))}
        try:
            raw = await self._rest.pages("/data/trades", params)
        except RestRefused as exc:
            rclass = errors.classify_status(exc.status or 0, exc.text)
            raise _Refused(exc.text, rclass, exc.rate_limited) from None
        except RestUnknown as exc:
            raise _Unknown(str(exc)) from None
        rows = self._tr.trades(
            raw, self._ours, snapshot=True, cloid_of=self._cloid_of, what="trades"
        )
        events = [*self._settle(rows.items), *self._tr.take_notices()]
        self._report_unknown_words()
        return events, rows.bad

    # ---- the stream ---------------------------------------------------------------------

    def _channel(self, url: str, subscribe: Any) -> PmWs:
        s = self.settings
        is_user = url.endswith("/user")
        return PmWs(
            url,
            subscribe,
            on_frame=self._on_user_frame if is_user else self._on_market_frame,
            on_up=self._on_up,
            on_down=lambda reason: self._on_down(url, reason),
            on_notice=self._notice,
            clock=self._clock,
            open_timeout_s=s.request_timeout_s,
            ping_interval_s=s.ws_ping_interval_s,
            silence_s=s.ws_silence_s,
        )

    def _market_subscription(self) -> dict[str, Any]:
        return {
            "type": "market",
            "assets_ids": [self.market.token_id],
            "initial_dump": True,
            "level": 2,
            "custom_feature_enabled": False,
        }

    def _user_subscription(self) -> dict[str, Any]:
        assert self._creds is not None
        return {
            "type": "user",
            "auth": self._creds.ws_auth(),
            "markets": [self.market.condition_id],
        }

    async def _on_up(self) -> None:
        """A channel is up.  When both are: after a reconnect, our trades since the oldest
        unsettled one (or the disconnection), open orders and the position (D16); then
        ``Connected``."""
        async with self._resync_lock:
            while self.ws_up and not self._connected:
                generation = self._generation
                if self._down_since is not None:
                    self.counters["reconnects"] += 1
                    await self._catch_up(self._down_since)
                if generation != self._generation:
                    # A channel dropped during the catch-up (finding 2): what it missed is not
                    # in what we just read.  Catch up again once both are up (the outage's
                    # ``_down_since`` stands); if one is still down, its ``on_up`` will.
                    continue
                self._connected = True
                self._down_since = None
                self._put(Connected(self.name))
                self._up.set()

    async def _catch_up(self, down_since: float) -> None:
        await self._read_tick()
        after = down_since - _CATCH_UP_MARGIN_S
        if self._pending_times:
            after = min(after, min(self._pending_times.values()) - 1)
        try:
            events, bad = await self._trades_since(int(after))
        except (_Refused, _Unknown) as exc:
            self._notice("resync", f"trades since the disconnection: {exc}")
            self._put(
                MalformedMessage(
                    Channel.FILLS, 1, 0, f"trades not fetched after a reconnect: {exc}"
                )
            )
        else:
            self._put_all(events)
            if bad:
                self._put(
                    MalformedMessage(Channel.FILLS, bad, len(events), "trades after a reconnect")
                )
        await self._sync()

    async def _read_tick(self) -> None:
        """D39: the venue replays nothing, so a tick-size change during the outage is learnt
        here (``GET /tick-size``); best effort."""
        assert self._rest is not None
        try:
            answer = await self._rest.public("/tick-size", {"token_id": self.market.token_id})
            text = str(parse_or_raise(TickSizeAnswer, answer).minimum_tick_size)
        except (RestRefused, RestUnknown, MappingError) as exc:
            self._notice("tick size", f"not read after a reconnect: {str(exc)[:160]}")
            return
        self._learn_tick(text, "GET /tick-size")

    def _on_down(self, url: str, reason: str) -> None:
        self._generation += 1
        if self._down_since is None:
            self._down_since = unix_now()
        self._up.clear()
        if self._connected:
            self._connected = False
            self._put(Disconnected(f"{url.rsplit('/', 1)[-1]} channel: {reason}"))

    def _on_market_frame(self, frame: Any) -> None:
        for item in frame if isinstance(frame, list) else [frame]:
            try:
                self._put_all(self._market_event(item))
            except (MappingError, ValidationError, TypeError, ValueError) as exc:
                self._put(MalformedMessage(Channel.MARKET, 1, 0, f"market: {str(exc)[:200]}"))

    def _market_event(self, item: Any) -> list[Event]:
        kind = parse_or_raise(EventHead, item).event_type
        tr = self._tr
        if kind == "book":
            book = tr.book(parse_or_raise(Book, item))
            self.counters["dust_levels"] = tr.dust_levels
            return [] if book is None else [book]
        if kind == "price_change":
            rows = tr.price_changes(parse_or_raise(PriceChanges, item))
            report = rows.report(Channel.MARKET, "price_change")
            return [*rows.items, report] if report is not None else list(rows.items)
        if kind == "tick_size_change":
            change = tr.tick_change(parse_or_raise(TickSizeChange, item))
            if change is None:
                return []
            self._regrid(change)
            return [change]
        if kind == "last_trade_price":
            trade = tr.last_trade(parse_or_raise(LastTradePrice, item))
            return [] if trade is None else [trade]
        if kind in _IGNORED_EVENTS:
            return []
        self._tr.unknown_words[f"market event {kind[:40]}"] += 1
        return [VenueNotice("unknown market event", str(item)[:200])]

    def _regrid(self, change: TickSizeChanged) -> None:
        """D39: the grid moved; prices we hold stay integers of the unit."""
        self.instrument = self.instrument.with_grid(change.grid)
        self._tr.instrument = self.instrument
        self._notice("tick size", f"the venue's tick is now {change.tick}")

    def _on_user_frame(self, frame: Any) -> None:
        for item in frame if isinstance(frame, list) else [frame]:
            try:
                self._put_all(self._user_event(item))
            except (MappingError, ValidationError, TypeError, ValueError) as exc:
                # Not even the event could be read: it may have been a fill (D34).
                self._put(MalformedMessage(Channel.FILLS, 1, 0, f"user: {str(exc)[:200]}"))
        self._report_unknown_words()

    def _user_event(self, item: Any) -> list[Event]:
        kind = parse_or_raise(EventHead, item).event_type
        if kind == "order":
            try:
                mapped = self._tr.order_update(parse_or_raise(Order, item), self._cloid_of)
            except MappingError as exc:
                return [MalformedMessage(Channel.ORDER_UPDATES, 1, 0, f"order: {exc}")]
            if mapped is None:
                return []
            order_id, update = mapped
            self._ids.remember(order_id)  # the user channel only shows our orders
            return [update]
        if kind == "trade":
            rows = self._tr.trades(
                [item], self._ours, snapshot=False, cloid_of=self._cloid_of, what="trade"
            )
            events = [*self._settle(rows.items), *self._tr.take_notices()]
            report = rows.report(Channel.FILLS, "trade")
            return events if report is None else [*events, report]
        self._tr.unknown_words[f"user event {kind[:40]}"] += 1
        return [VenueNotice("unknown user event", str(item)[:200])]

    def _settle(self, sightings: Sequence[Sighting]) -> list[Event]:
        out: list[Event] = []
        self.counters["truncated_fills"] = self._tr.truncated_fills
        self.counters["foreign_fills"] = self._tr.foreign_fills
        for s in sightings:
            self._ids.remember(s.order_id)  # a fill we count: its order is ours (on our token)
            events = self._settlements.see(s)
            if any(isinstance(e, Fill) and not e.final for e in events):
                if s.fill.venue_time is not None:
                    self._pending_times[s.tid] = s.fill.venue_time
            elif events:
                self._pending_times.pop(s.tid, None)
            while len(self._pending_times) > 10_000:
                self._pending_times.popitem(last=False)
            out.extend(events)
        return out

    # ---- the dead-man switch ------------------------------------------------------------

    async def _heartbeats(self, interval_s: float, window_s: float) -> None:
        """D40: a heartbeat every ``interval_s`` on a connection of its own, each with the id
        the last answer gave.  Armed from the first accepted one; lapsed when the venue
        refuses our id (it has let the chain go) or none is answered within ``window_s``."""
        s = self.settings
        assert self._creds is not None
        rest = PmRest(
            s.api_url, self._signer, timeout_s=min(s.request_timeout_s, window_s), connections=1
        )
        rest.creds = self._creds
        heartbeat_id = ""
        armed = False
        last_ok: float | None = None  # when the last accepted heartbeat was SENT
        lost = False  # the last heartbeat went unanswered: it may have moved the chain
        try:
            while True:
                started = self._clock.now()
                try:
                    heartbeat_id, armed, last_ok, lost = await self._beat(
                        rest, heartbeat_id, armed, last_ok, lost, started, window_s
                    )
                except Exception as exc:  # a bug must not end the switch's watch silently
                    self.heartbeat_status = f"internal error: {type(exc).__name__}"
                    self._notice("heartbeat", f"{type(exc).__name__}: {str(exc)[:160]}")
                    if armed:
                        self._lapse(f"heartbeat loop error ({type(exc).__name__})")
                        armed = False
                await asyncio.sleep(max(0.0, interval_s - (self._clock.now() - started)))
        finally:
            await rest.aclose()

    async def _beat(
        self,
        rest: PmRest,
        heartbeat_id: str,
        armed: bool,
        last_ok: float | None,
        lost: bool,
        started: float,
        window_s: float,
    ) -> tuple[str, bool, float | None, bool]:
        """One heartbeat: the new ``(id, armed, last_ok, lost)``.  The lapse window runs from
        the SEND time of the last accepted beat (the venue's runs from its receipt, which is
        no earlier).  "Invalid Heartbeat ID" right after a lost answer is the chain having
        moved under us: re-chain from the id the venue names, and lapse only if a window has
        really passed."""
        try:
            answer = await rest.private(
                "POST", "/v1/heartbeats", body={"heartbeat_id": heartbeat_id}
            )
            heartbeat_id = HeartbeatAnswer.model_validate(answer).heartbeat_id
        except RestRefused as r:
            if errors.is_heartbeat_refused(r.text):
                if armed and not lost:
                    self._lapse(f"the venue refused our heartbeat ({r.text})")
                    armed = False
                heartbeat_id = r.expected_id or ""  # a new chain from the venue's id
                self.heartbeat_status = f"re-chained: {r.text[:60]}"
            else:
                self.heartbeat_status = f"not answered: {r.text[:80]}"
            lost = False
        except (RestUnknown, ValidationError) as exc:
            self.heartbeat_status = f"not answered: {str(exc)[:80]}"
            lost = True
        else:
            lost = False
            self.counters["heartbeats"] += 1
            last_ok = started
            self.heartbeat_status = f"armed: the venue cancels all {window_s:g}s after we go silent"
            if not armed:
                armed = True
                self._put(HeartbeatState(True, False, self.heartbeat_status))
        if armed and last_ok is not None and self._clock.now() - last_ok >= window_s:
            self._lapse(f"no heartbeat answered in {window_s:g}s")
            armed = False
        return heartbeat_id, armed, last_ok, lost

    def _lapse(self, why: str) -> None:
        self.counters["heartbeat_lapses"] += 1
        self.heartbeat_status = f"lapsed: {why}"
        text = f"{why}: the venue may have cancelled every order"
        self._put(HeartbeatState(False, True, text))

    # ---- output -------------------------------------------------------------------------

    def _report_unknown_words(self) -> None:
        """D6: words the reference does not have are counted and logged, never guessed."""
        total = sum(self._tr.unknown_words.values())
        if total != self._unknown_seen:
            self._unknown_seen = total
            words = ", ".join(f"{w} x{n}" for w, n in self._tr.unknown_words.most_common(5))
            self._notice("unknown venue words", words)

    def _put(self, event: Event) -> None:
        self._queue.put_nowait(event)

    def _put_all(self, events: Sequence[Event]) -> None:
        for event in events:
            self._put(event)

    def _notice(self, kind: str, text: str) -> None:
        self.counters["notices"] += 1
        self._put(VenueNotice(kind, text))
