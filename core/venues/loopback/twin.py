"""The loopback twin: the embedded exchange behind Hyperliquid's wire protocol.

``Twin`` serves ``POST /info``, ``POST /exchange`` and ``/ws`` (subscriptions, ``post``,
ping/pong) with Hyperliquid's paths and message shapes, backed by a ``SimExchange`` that it keeps
in step with the wall clock (as ``SimVenue`` does).  The real connector is tested against it
over real sockets, so what the twin checks, the connector must get right:

* every ``/exchange`` body is parsed strictly (a mistyped body is HTTP 422), the action is
  re-serialised in the venue's canonical key order and its signer recovered with source ``"b"``
  (``"a"`` when mainnet); a signer that is neither the account nor one of its agents gets
  ``L1 error: User or API Wallet 0x… does not exist.`` — so a signing bug fails the test;
* nonces are checked per signer (the 100 highest kept; reused, too-low and out-of-window ones
  are refused with ``Invalid nonce: ...``);
* orders are validated and matched by the embedded engine, with Hyperliquid's texts; answers
  are per item; fills go to ``userFills`` / ``userEvents`` and ``orderUpdates`` before the
  answer is written (fill-before-ack happens naturally); ``userFills`` opens with an
  ``isSnapshot`` replay of recent fills on every subscribe;
* IP weight (HTTP 429) and the per-address budget ("Too many cumulative requests sent ...") are
  accounted; ``scheduleCancel`` arms a dead man's switch that really cancels;
* the fault plan (``faults``) delays or drops answers, drops WebSocket connections and sends 429
  storms.

Every answer and WebSocket message is written with the connector's own wire models
(``core.venues.hyperliquid.wire``, through ``answer_json``), its conversions (``mapping``: units
and sides) and Hyperliquid's words (``errors``, ``statuses``): what the twin writes is what the
connector reads, by construction.

The exchange's own fault plan is switched off (answers are immediate; the twin's faults happen
on the wire).  One trading account is served.  Decimals appear here only at the wire boundary.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from core.clock import Clock
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    Modify,
    Place,
    SetLeverage,
    SyncState,
    TimeInForce,
)
from core.events import (
    AckStatus,
    BookDelta,
    BookSnapshot,
    CancelAck,
    CancelRejected,
    Event,
    Fill,
    Liquidity,
    ModifyAck,
    ModifyRejected,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PositionSnapshot,
    Side,
    Trade,
    VenueStatus,
)
from core.simconfig import FaultConfig, SimConfig
from core.units import Instrument, Rounding, UnitError, wire
from core.venues.hyperliquid import statuses
from core.venues.hyperliquid.budget import exchange_weight, info_weight
from core.venues.hyperliquid.errors import (
    ACTION_EXPIRED,
    DESERIALIZE,
    NOT_PROCESSED,
    SCHEDULE_TOO_MANY,
    SCHEDULE_TOO_SOON,
    TOO_MANY_REQUESTS,
    WS_BAD_POST,
    WS_BAD_REQUEST,
    Texts,
)
from core.venues.hyperliquid.mapping import Translator, side_from_is_buy, side_to_wire
from core.venues.hyperliquid.nonces import epoch_ms
from core.venues.hyperliquid.signing import recover_signer
from core.venues.hyperliquid.wire import (
    AssetCtx,
    AssetMeta,
    AssetPosition,
    BatchModifyAction,
    BookLevel,
    CancelAction,
    CancelByCloidAction,
    ClearinghouseState,
    CumFunding,
    ErrorStatus,
    ExchangeAnswer,
    ExchangeRequest,
    FilledInfo,
    FilledStatus,
    InfoPayload,
    ItemStatus,
    L2Book,
    LeverageWire,
    MarginSummary,
    Meta,
    NoopAction,
    OkBody,
    OpenOrder,
    OrderAction,
    OrderStatusAnswer,
    OrderStatusEntry,
    OrderWire,
    PositionWire,
    PostData,
    PostResponse,
    RestingInfo,
    RestingStatus,
    ScheduleCancelAction,
    StatusesData,
    SubscriptionResponse,
    UpdateLeverageAction,
    UserFill,
    UserRateLimit,
    WsMessage,
    WsTrade,
    WsUserEvent,
    WsUserFills,
    action_dict,
    answer_json,
)
from core.venues.loopback.faults import FaultState, TwinFaults
from core.venues.loopback.server import HttpReply, WsPeer
from core.venues.sim.driver import ClockDriver
from core.venues.sim.exchange import SimExchange

_CLOID = re.compile(r"0x[0-9a-fA-F]{32}")  # used with fullmatch: no trailing newline
_KEEP_NONCES = 100
_DAY_MS = 86_400_000
_BOOK_LEVELS = 20
_FILLS_KEPT = 10_000
_MAX_FILLS_RETURNED = 2000
_MAKER_FEE = Decimal("0.00015")
_TAKER_FEE = Decimal("0.00045")
_ZERO = "0.0"
_USER_SUBS = ("orderUpdates", "userFills", "userEvents")
_COIN_SUBS = ("l2Book", "trades")
_MAX_NESTING = 127  # serde_json (the venue's parser) refuses a 128th nested array/object


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What an ``/exchange`` request produced: 200 + answer, 422/429 + text, or lost."""

    status: int
    payload: ExchangeAnswer | str | None = None
    lost: bool = False


class _BadRequest(Exception):
    """A body the venue's parser would refuse: HTTP 422."""


class _Order:
    """What the wire says about one of our orders (the engine keys it by ``key``)."""

    __slots__ = (
        "cloid",
        "key",
        "oid",
        "orig",
        "price",
        "remaining",
        "side",
        "status",
        "status_ms",
        "timestamp",
    )

    def __init__(
        self, oid: int, key: str, cloid: str | None, side: Side, price: int, size: int, ms: int
    ) -> None:
        self.oid = oid
        self.key = key
        self.cloid = cloid
        self.side = side
        self.price = price
        self.orig = size
        self.remaining = size
        self.timestamp = ms
        self.status = statuses.OPEN
        self.status_ms = ms


class _Peer:
    """One WebSocket client and its subscriptions."""

    def __init__(self, peer: WsPeer, now: float) -> None:
        self.peer = peer
        self.subs: list[dict[str, Any]] = []
        self.channels: set[str] = set()
        self.last_heard = now
        self.pending_posts = 0


_ACTION = TypeAdapter(ExchangeRequest)


class Twin:
    """Hyperliquid's API for one market and one account, backed by the embedded exchange."""

    def __init__(
        self,
        config: SimConfig,
        clock: Clock,
        *,
        account: str,
        agents: Iterable[str] = (),
        faults: TwinFaults | None = None,
        is_mainnet: bool = False,
        book_interval_s: float = 0.1,
    ) -> None:
        instant = FaultConfig.profile("instant", replay_fills=config.faults.replay_fills)
        self.config = config.model_copy(update={"faults": instant})
        self.instrument: Instrument = self.config.instrument()
        self.coin = self.instrument.symbol
        self.asset = self.instrument.asset_id
        self.account = account.lower()
        self.signers = {self.account, *(a.lower() for a in agents)}
        self.is_mainnet = is_mainnet
        self.faults = faults if faults is not None else TwinFaults()
        self._clock = clock
        self._book_interval = book_interval_s
        self._texts = Texts(self.instrument)
        self._tr = Translator(self.instrument)
        self._exchange: SimExchange | None = None
        self._fault_state: FaultState | None = None
        self._orders: dict[int, _Order] = {}
        self._pending: dict[str, tuple[str | None, Side, int, int]] = {}
        self._key_to_oid: dict[str, int] = {}
        self._fills: deque[UserFill] = deque(maxlen=_FILLS_KEPT)
        self._tid_base = epoch_ms() * 1000
        self._position = 0
        self._volume = Decimal(0)
        self._nonces: dict[str, list[int]] = {}
        self._requests_used = 0
        self._ip: deque[tuple[float, int]] = deque()
        self._ip_total = 0
        self._peers: set[_Peer] = set()
        self._book_dirty = False
        self._next_book = 0.0
        self._dead_man_at: int | None = None
        self._dead_man_fired = 0
        self._cancel_status = statuses.CANCELED
        self._batch_id = 0
        self._synthetic = 0
        self._driver: asyncio.Task[None] | None = None
        self._clock_driver = ClockDriver(clock, self._step)
        self._post_tasks: set[asyncio.Task[None]] = set()

    # ---- life -------------------------------------------------------------------------

    @property
    def exchange(self) -> SimExchange:
        if self._exchange is None:
            raise RuntimeError("the twin is not started: await start() first")
        return self._exchange

    @property
    def fault_state(self) -> FaultState:
        if self._fault_state is None:
            raise RuntimeError("the twin is not started: await start() first")
        return self._fault_state

    async def start(self) -> None:
        now = self._clock.now()
        self._exchange = SimExchange(self.config, start=now, name="loopback")
        self._fault_state = FaultState(self.faults, self.config.seed, now)
        self._exchange.connect(now)
        self._exchange.advance(now)  # the exchange's own hello: not for the wire
        self._driver = asyncio.create_task(self._clock_driver.run(), name="twin-driver")

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
        for task in list(self._post_tasks):
            task.cancel()
        await asyncio.gather(*self._post_tasks, return_exceptions=True)
        for peer in list(self._peers):
            await peer.peer.close(1001, "server shutting down")

    # ---- test hooks and inspection ----------------------------------------------------

    def drop_next_answers(self, n: int = 1) -> None:
        """Execute the next ``n`` actions but never answer them (unknown outcomes, D8)."""
        self.fault_state.drop_next += n

    def storm(self, seconds: float) -> None:
        """Answer every request with 429 for ``seconds``."""
        self.fault_state.storm(self._clock.now(), seconds)

    async def disconnect_all(self) -> None:
        """Drop every WebSocket without a close frame, as a network failure would."""
        self.fault_state.counts["disconnects"] += 1
        for peer in list(self._peers):
            peer.peer.abort()
            self._peers.discard(peer)

    def take(self, side: Side, lots: int, limit: int | None = None) -> None:
        """A synthetic taker of ``side`` sweeps ``lots`` now (fills our resting orders)."""
        self.exchange.inject_taker(side, lots, limit)
        self._advance(self._clock.now())

    def send_raw(self, channel: str, data: Any) -> None:
        """Push any message, malformed or unasked-for, to every WebSocket client."""
        text = _ws_text(WsMessage(channel=channel, data=data))
        for client in list(self._peers):
            client.peer.send_nowait(text)

    @property
    def fill_tids(self) -> set[int]:
        """Trade ids of every fill of the account so far."""
        return {row.tid for row in self._fills}

    def open_order_count(self) -> int:
        return len(self.exchange.open_orders())

    @property
    def fills_count(self) -> int:
        return len(self._fills)

    @property
    def position(self) -> int:
        return self.exchange.position

    # ---- the clock ----------------------------------------------------------------------

    async def _step(self, now: float) -> float:
        """One turn of the ``ClockDriver``: the exchange, faults, dead man's switch and book
        pushes up to ``now``; when something is next due."""
        self._advance(now)
        faults = self.fault_state
        if faults.disconnect_due(now):
            await self.disconnect_all()
        self._fire_dead_man()
        if self._book_dirty and now >= self._next_book:
            self._push_book(now)
        self._close_idle(now)
        due = self.exchange.next_due()
        candidates = [faults.next_timer()]
        if due is not None:
            candidates.append(due)
        if self._book_dirty:
            candidates.append(self._next_book)
        return min(candidates)

    def _advance(self, now: float) -> list[Event]:
        """Run the exchange to ``now``; publish the stream, return the answers."""
        answers: list[Event] = []
        trades: list[WsTrade] = []
        updates: list[OrderStatusEntry] = []
        fills: list[UserFill] = []
        ms = epoch_ms()
        for event in self.exchange.advance(now):
            if isinstance(event, BookSnapshot | BookDelta):
                self._book_dirty = True
            elif isinstance(event, Trade):
                trades.append(self._trade_row(event, ms))
            elif isinstance(event, OrderUpdate):
                row = self._order_update(event, ms)
                if row is not None:
                    updates.append(row)
            elif isinstance(event, Fill):
                fills.append(self._fill_row(event, ms))
            else:
                answers.append(event)
                self._learn_oid(event)
        if trades:
            self._publish("trades", trades)
        if updates:
            self._publish("orderUpdates", updates)
        if fills:
            self._publish(
                "userFills", WsUserFills(user=self.account, isSnapshot=False, fills=fills)
            )
            self._publish("user", WsUserEvent(fills=fills))
        return answers

    def _execute(self, commands: list[Command]) -> list[Event]:
        now = self._clock.now()
        self._batch_id += 1
        self.exchange.submit(Batch(self._batch_id, tuple(commands)), now)
        answers = self._advance(now)
        self._clock_driver.wake()
        return answers

    # ---- the order registry --------------------------------------------------------------

    def _learn_oid(self, event: Event) -> None:
        if isinstance(event, PlaceAck):
            self._register(event.cloid, event.oid)
        elif isinstance(event, ModifyAck):
            self._register(event.new_cloid, event.oid)

    def _register(self, key: str | None, oid: int | None) -> _Order | None:
        if oid is None:
            return None
        order = self._orders.get(oid)
        if order is not None or key is None:
            return order
        pending = self._pending.pop(key, None)
        if pending is None:
            return None
        cloid, side, price, size = pending
        order = _Order(oid, key, cloid, side, price, size, epoch_ms())
        self._orders[oid] = order
        self._key_to_oid[key] = oid
        return order

    def _order_update(self, event: OrderUpdate, ms: int) -> OrderStatusEntry | None:
        order = self._register(event.cloid, event.oid)
        if order is None:
            return None
        raw = event.raw_status
        if raw == statuses.CANCELED and self._cancel_status != statuses.CANCELED:
            raw = self._cancel_status
        order.status = raw
        order.status_ms = ms
        if event.status is VenueStatus.FILLED:
            order.remaining = 0  # a cancelled order keeps its unfilled size, as the venue's does
        return OrderStatusEntry(order=self._order_row(order), status=raw, statusTimestamp=ms)

    def _order_row(self, order: _Order, **more: Any) -> OpenOrder:
        """The order as ``openOrders`` lists it; ``more``: the keys ``frontendOpenOrders`` and
        ``orderStatus`` add."""
        tr = self._tr
        if order.cloid is not None:
            more = {"cloid": order.cloid, **more}
        return OpenOrder(
            coin=self.coin,
            side=side_to_wire(order.side),
            limitPx=tr.price_text(order.price),
            sz=tr.size_text(order.remaining),
            oid=order.oid,
            timestamp=order.timestamp,
            origSz=tr.size_text(order.orig),
            **more,
        )

    # ---- wire rows ------------------------------------------------------------------------

    def _trade_row(self, trade: Trade, ms: int) -> WsTrade:
        self._synthetic += 1
        tid = self._tid_base + 500_000_000 + self._synthetic
        tr = self._tr
        return WsTrade(
            coin=self.coin,
            side=side_to_wire(trade.side),
            px=tr.price_text(trade.price),
            sz=tr.size_text(trade.size),
            hash=f"0x{tid:064x}",
            time=ms,
            tid=tid,
            users=["0x" + "0" * 40, "0x" + "0" * 40],
        )

    def _fill_row(self, fill: Fill, ms: int) -> UserFill:
        inst = self.instrument
        tr = self._tr
        order = self._register(fill.cloid, fill.oid)
        if order is not None:
            order.remaining = max(order.remaining - fill.size, 0)
        start = self._position
        signed = fill.size * fill.side.sign
        self._position = start + signed
        px = inst.ticks_to_price(fill.price)
        sz = inst.lots_to_size(fill.size)
        notional = px * sz
        self._volume += notional
        taker = fill.liquidity is Liquidity.TAKER
        fee = (notional * (_TAKER_FEE if taker else _MAKER_FEE)).quantize(Decimal("0.000001"))
        tid = self._tid_base + fill.tid
        cloid = {"cloid": order.cloid} if order is not None and order.cloid is not None else {}
        row = UserFill(
            coin=self.coin,
            px=wire(px),
            sz=wire(sz),
            side=side_to_wire(fill.side),
            time=ms,
            startPosition=tr.signed_size_text(start),
            dir=_direction(start, signed),
            closedPnl=_ZERO,
            hash=f"0x{tid:064x}",
            oid=fill.oid,
            crossed=taker,
            fee=wire(fee),
            tid=tid,
            feeToken="USDC",
            **cloid,
        )
        self._fills.append(row)
        return row

    # ---- HTTP -----------------------------------------------------------------------------

    async def http(self, method: str, path: str, body: bytes) -> HttpReply | None:
        if method != "POST" or path not in ("/info", "/exchange"):
            return HttpReply.text(404, f"no route for {method} {path}\n")
        try:
            payload = _parse_json(body)
        except ValueError as exc:
            return HttpReply.text(422, f"{DESERIALIZE}{exc}")
        if path == "/info":
            status, answer = self._info(payload, via_ws=False)
            if status == 200:
                return HttpReply.json(answer_json(answer))
            return HttpReply.text(status, str(answer))
        outcome = await self._exchange_request(payload, via_ws=False)
        if outcome.lost:
            return None
        if outcome.status == 200:
            return HttpReply.json(answer_json(outcome.payload))
        return HttpReply.text(outcome.status, str(outcome.payload))

    def _charge_ip(self, weight: int) -> bool:
        """Count ``weight`` against the IP's minute; False when it is over (HTTP 429)."""
        now = self._clock.now()
        ip = self._ip
        while ip and ip[0][0] <= now - 60.0:
            self._ip_total -= ip.popleft()[1]
        if (
            self.fault_state.storming(now)
            or self._ip_total + weight > self.faults.ip_weight_per_minute
        ):
            self.fault_state.counts["http_429"] += 1
            return False
        ip.append((now, weight))
        self._ip_total += weight
        return True

    # ---- /info ---------------------------------------------------------------------------

    def _info(self, body: Any, *, via_ws: bool) -> tuple[int, Any]:
        """(200, the answer: models, or lists of them) or (422/429, the text)."""
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return 422, f"{DESERIALIZE}missing field `type`"
        kind = body["type"]
        user = str(body.get("user", "")).lower()
        ours = user == self.account
        if via_ws and self.fault_state.storming(self._clock.now()):
            self.fault_state.counts["http_429"] += 1  # a storm refuses WebSocket posts too
            return 429, TOO_MANY_REQUESTS
        if kind == "meta":
            answer: Any = self._meta()
        elif kind == "metaAndAssetCtxs":
            answer = [self._meta(), [self._asset_ctx(i) for i in range(self.asset + 1)]]
        elif kind == "l2Book":
            answer = self._book_json()
        elif kind == "allMids":
            mid = self._mid()
            answer = {self.coin: mid} if mid is not None else {}
        elif kind in ("openOrders", "frontendOpenOrders"):
            answer = self._open_orders(frontend=kind == "frontendOpenOrders") if ours else []
        elif kind == "clearinghouseState":
            answer = self._clearinghouse() if ours else _empty_clearinghouse()
        elif kind == "userFills":
            answer = list(reversed(self._fills))[:_MAX_FILLS_RETURNED] if ours else []
        elif kind == "userFillsByTime":
            start, end = body.get("startTime"), body.get("endTime")
            if not isinstance(start, int):
                return 422, f"{DESERIALIZE}startTime must be an integer"
            rows = (
                [
                    f
                    for f in self._fills
                    if f.time >= start and (not isinstance(end, int) or f.time <= end)
                ]
                if ours
                else []
            )
            answer = rows[:_MAX_FILLS_RETURNED]
        elif kind == "orderStatus":
            answer = (
                self._order_status(body.get("oid"))
                if ours
                else OrderStatusAnswer(status=statuses.UNKNOWN_OID)
            )
        elif kind == "userRateLimit":
            answer = UserRateLimit(
                cumVlm=wire(self._volume),
                nRequestsUsed=self._requests_used if ours else 0,
                nRequestsCap=self._request_cap(cancels=False),
            )
        else:
            return 422, f"{DESERIALIZE}unknown variant `{kind}`"
        items = len(answer) if isinstance(answer, list) else 0
        if not via_ws and not self._charge_ip(info_weight(kind, items)):
            return 429, "null"
        return 200, answer

    def _meta(self) -> Meta:
        """Our coin at index ``asset`` (its asset id); delisted fillers before it."""
        universe = [
            AssetMeta(name=f"OLD{i}", szDecimals=2, maxLeverage=3, isDelisted=True)
            for i in range(self.asset)
        ]
        universe.append(
            AssetMeta(
                name=self.coin,
                szDecimals=self.instrument.sz_decimals,
                maxLeverage=self.instrument.max_leverage,
            )
        )
        return Meta(universe=universe, marginTables=[], collateralToken=0)

    def _mid(self) -> str | None:
        book = self.exchange.book
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            return None
        mid = (self.instrument.ticks_to_price(bid) + self.instrument.ticks_to_price(ask)) / 2
        return wire(mid)

    def _asset_ctx(self, index: int) -> AssetCtx:
        mid = self._mid() if index == self.asset else None
        return AssetCtx(
            dayNtlVlm=wire(self._volume) if index == self.asset else _ZERO,
            funding=_ZERO,
            impactPxs=None,
            markPx=mid or _ZERO,
            midPx=mid,
            openInterest=_ZERO,
            oraclePx=mid or _ZERO,
            premium=None,
            prevDayPx=mid or _ZERO,
        )

    def _book_json(self) -> L2Book:
        book = self.exchange.book
        tr = self._tr

        def levels(side: Side) -> list[BookLevel]:
            return [
                BookLevel(px=tr.price_text(p), sz=tr.size_text(s), n=1)
                for p, s in book.depth(side)[:_BOOK_LEVELS]
            ]

        return L2Book(coin=self.coin, time=epoch_ms(), levels=(levels(Side.BID), levels(Side.ASK)))

    def _open_orders(self, *, frontend: bool) -> list[OpenOrder]:
        rows: list[OpenOrder] = []
        for vo in self.exchange.open_orders():
            order = self._orders.get(vo.oid)
            if order is None:
                order = _Order(
                    vo.oid, vo.cloid or "", vo.cloid, vo.side, vo.price, vo.orig_size, epoch_ms()
                )
                self._orders[vo.oid] = order
            order.remaining = vo.size
            if frontend:
                row = self._order_row(
                    order,
                    orderType="Limit",
                    tif=None,
                    reduceOnly=False,
                    isTrigger=False,
                    triggerPx=_ZERO,
                    triggerCondition="N/A",
                    isPositionTpsl=False,
                    children=[],
                    cloid=order.cloid,
                )
            else:
                row = self._order_row(order)
            rows.append(row)
        return rows

    def _clearinghouse(self) -> ClearinghouseState:
        snapshot = next(
            (
                e
                for e in self._execute([SyncState("clearinghouseState")])
                if isinstance(e, PositionSnapshot)
            ),
            None,
        )
        inst = self.instrument
        equity = wire(self.exchange.equity.quantize(Decimal("0.000001")))
        positions: list[AssetPosition] = []
        if snapshot is not None and snapshot.position:
            lots = snapshot.position
            size = inst.lots_to_size(abs(lots))
            entry = (
                wire(inst.value_to_decimal(snapshot.entry_value) / size)
                if snapshot.entry_value
                else None
            )
            position = PositionWire(
                coin=self.coin,
                szi=self._tr.signed_size_text(lots),
                entryPx=entry,
                leverage=LeverageWire(type="cross", value=self.exchange.leverage),
                liquidationPx=None,
                marginUsed=_ZERO,
                maxLeverage=inst.max_leverage,
                positionValue=wire(inst.value_to_decimal(snapshot.entry_value or 0)),
                returnOnEquity=_ZERO,
                unrealizedPnl=_ZERO,
                cumFunding=CumFunding(allTime=_ZERO, sinceChange=_ZERO, sinceOpen=_ZERO),
            )
            positions.append(AssetPosition(type="oneWay", position=position))
        return _clearinghouse_state(positions, equity)

    def _order_status(self, key: Any) -> OrderStatusAnswer:
        oid: int | None = None
        cloid: str | None = None
        if isinstance(key, int) and not isinstance(key, bool):
            oid = key
        elif isinstance(key, str) and _CLOID.fullmatch(key):
            cloid = key.lower()
            oid = self._key_to_oid.get(cloid)
        else:
            return OrderStatusAnswer(status=statuses.UNKNOWN_OID)
        report = self.exchange.order_status(oid, cloid)
        order = self._orders.get(report.oid) if report.oid is not None else None
        if report.status is VenueStatus.NOT_FOUND or order is None:
            return OrderStatusAnswer(status=statuses.UNKNOWN_OID)
        # Like the venue, ``sz`` of an order that is done is what it never filled (0 if filled).
        if report.status is VenueStatus.OPEN:
            order.remaining = report.remaining
        else:
            order.remaining = max(order.orig - report.filled, 0)
        row = self._order_row(order, orderType="Limit", reduceOnly=False, tif=None)
        entry = OrderStatusEntry(
            order=row, status=report.raw_status, statusTimestamp=order.status_ms
        )
        return OrderStatusAnswer(status="order", order=entry)

    # ---- /exchange -----------------------------------------------------------------------

    async def _exchange_request(self, body: Any, *, via_ws: bool) -> _Outcome:
        items = _item_count(body)
        if not via_ws and not self._charge_ip(exchange_weight(items)):
            return _Outcome(429, "null")
        if via_ws and self.fault_state.storming(self._clock.now()):
            self.fault_state.counts["http_429"] += 1
            return _Outcome(429, f"429 {TOO_MANY_REQUESTS}")
        try:
            request = _ACTION.validate_python(body)
        except ValidationError as exc:
            return _Outcome(422, f"{DESERIALIZE}{_first_error(exc)}")
        try:
            answer = self._act(request, items)
        except _BadRequest as exc:
            return _Outcome(422, f"{DESERIALIZE}{exc}")
        faults = self.fault_state
        if faults.drop_answer():
            return _Outcome(200, lost=True)
        if self.faults.answer_delay_s:
            faults.counts["answers_delayed"] += 1
            await asyncio.sleep(self.faults.answer_delay_s)
        return _Outcome(200, answer)

    def _act(self, request: ExchangeRequest, items: int) -> ExchangeAnswer:
        _check_cloids(request.action)  # a parse error: before the signature and the nonce
        action = action_dict(request.action)
        now_ms = epoch_ms()
        if request.expiresAfter is not None and request.expiresAfter < now_ms:
            return _err(ACTION_EXPIRED)
        signature = request.signature.model_dump()
        try:
            signer = recover_signer(
                action,
                signature,
                request.nonce,
                request.vaultAddress,
                request.expiresAfter,
                is_mainnet=self.is_mainnet,
            )
        except Exception:  # an unrecoverable signature: no address at all
            self.fault_state.counts["bad_signatures"] += 1
            return _err(Texts.unknown_signer("0x" + "0" * 40))
        if signer.lower() not in self.signers:
            self.fault_state.counts["bad_signatures"] += 1
            return _err(Texts.unknown_signer(signer))
        problem = self._use_nonce(signer.lower(), request.nonce, now_ms)
        if problem is not None:
            self.fault_state.counts["bad_nonces"] += 1
            return _err(problem)
        act = request.action
        cancels = isinstance(act, CancelAction | CancelByCloidAction)
        if items:
            self._requests_used += items
            cap = self._request_cap(cancels=cancels)
            if self._requests_used > cap:
                self.fault_state.counts["address_limited"] += 1
                volume = str(self._volume.quantize(Decimal("0.01")))
                return _err(Texts.address_limited(self._requests_used, cap, volume))
        if isinstance(act, OrderAction):
            return _statuses("order", self._place_all(act.orders))
        if isinstance(act, CancelAction):
            return _statuses(
                "cancel",
                self._cancel_all_items(
                    [Cancel(None, c.o) for c in act.cancels], [c.a for c in act.cancels]
                ),
            )
        if isinstance(act, CancelByCloidAction):
            return _statuses(
                "cancel",
                self._cancel_all_items(
                    [Cancel(c.cloid.lower(), None) for c in act.cancels],
                    [c.asset for c in act.cancels],
                ),
            )
        if isinstance(act, BatchModifyAction):
            return _statuses("order", self._modify_all(act))
        if isinstance(act, ScheduleCancelAction):
            return self._schedule_cancel(act.time, now_ms)
        if isinstance(act, UpdateLeverageAction):
            return self._update_leverage(act)
        if isinstance(act, NoopAction):
            return _default()
        raise _BadRequest(f"unsupported action {act.type}")

    def _request_cap(self, *, cancels: bool) -> int:
        cap = self.faults.address_budget + int(self._volume)
        return min(cap + 100_000, 2 * cap) if cancels else cap

    def _use_nonce(self, signer: str, nonce: int, now_ms: int) -> str | None:
        if not now_ms - 2 * _DAY_MS < nonce < now_ms + _DAY_MS:
            return Texts.nonce_outside_window(nonce)
        kept = self._nonces.setdefault(signer, [])
        if nonce in kept:
            return Texts.nonce_duplicate(nonce)
        if len(kept) >= _KEEP_NONCES and nonce < kept[0]:
            return Texts.nonce_too_low(nonce, kept[0])
        kept.append(nonce)
        kept.sort()
        if len(kept) > _KEEP_NONCES:
            del kept[0]
        return None

    def _order_fields(self, order: OrderWire) -> tuple[str, Side, int, int, TimeInForce] | str:
        """(engine key, side, ticks, lots, tif) or the per-order error text."""
        if order.a != self.asset:
            return Texts.invalid_order_asset(order.a)
        try:
            ticks = self.instrument.price_to_ticks(order.p, Rounding.EXACT)
        except UnitError:
            return self._texts.invalid_price
        try:
            lots = self.instrument.size_to_lots(order.s, Rounding.EXACT)
        except UnitError:
            return self._texts.invalid_size
        if order.c is not None:
            key = order.c.lower()
        else:
            self._synthetic += 1
            key = f"twin-{self._synthetic}"
        side = side_from_is_buy(order.b)
        return key, side, ticks, lots, TimeInForce(order.t.limit.tif)

    def _place_all(self, orders: list[OrderWire]) -> list[ItemStatus]:
        items: list[ItemStatus] = [_NOT_PROCESSED] * len(orders)
        places: list[tuple[int, Place]] = []
        for i, order in enumerate(orders):
            fields = self._order_fields(order)
            if isinstance(fields, str):
                items[i] = ErrorStatus(error=fields)
                continue
            key, side, ticks, lots, tif = fields
            self._pending[key] = (order.c, side, ticks, lots)
            places.append((i, Place(key, side, ticks, lots, tif, order.r)))
        if places:
            answers = self._execute([p for _, p in places])
            by_key = {a.cloid: a for a in answers if isinstance(a, PlaceAck | PlaceRejected)}
            for i, place in places:
                items[i] = self._placement_status(by_key.get(place.cloid), orders[i].c)
        return items

    def _placement_status(self, answer: Event | None, cloid: str | None) -> ItemStatus:
        echo = {"cloid": cloid} if cloid is not None else {}
        if isinstance(answer, PlaceAck | ModifyAck):
            if answer.status is AckStatus.RESTING:
                return RestingStatus(resting=RestingInfo(oid=answer.oid, **echo))
            inst = self.instrument
            avg = inst.value_to_decimal(answer.filled_value) / inst.lots_to_size(answer.filled)
            filled = FilledInfo(
                totalSz=self._tr.size_text(answer.filled),
                avgPx=wire(avg.quantize(Decimal(1).scaleb(-8))),
                oid=answer.oid,
                **echo,
            )
            return FilledStatus(filled=filled)
        if isinstance(answer, PlaceRejected | ModifyRejected):
            return ErrorStatus(error=answer.reason)
        return _NOT_PROCESSED

    def _cancel_all_items(self, cancels: list[Cancel], assets: list[int]) -> list[ItemStatus]:
        items: list[ItemStatus] = [_NOT_PROCESSED] * len(cancels)
        todo = [(i, c) for i, c in enumerate(cancels) if assets[i] == self.asset]
        for i, _ in enumerate(cancels):
            if assets[i] != self.asset:
                items[i] = ErrorStatus(error=self._texts.cancel_gone)
        if todo:
            answers = [
                a
                for a in self._execute([c for _, c in todo])
                if isinstance(a, CancelAck | CancelRejected)
            ]
            for (i, _), answer in zip(todo, answers, strict=False):
                items[i] = (
                    "success" if isinstance(answer, CancelAck) else ErrorStatus(error=answer.reason)
                )
        return items

    def _modify_all(self, action: BatchModifyAction) -> list[ItemStatus]:
        items: list[ItemStatus] = [_NOT_PROCESSED] * len(action.modifies)
        modifies: list[tuple[int, Modify]] = []
        for i, mod in enumerate(action.modifies):
            target = mod.oid if isinstance(mod.oid, int) else self._key_to_oid.get(mod.oid.lower())
            order = self._orders.get(target) if target is not None else None
            fields = self._order_fields(mod.order)
            if isinstance(fields, str):
                items[i] = ErrorStatus(error=fields)
                continue
            if target is None or order is None:
                items[i] = ErrorStatus(error=self._texts.modify_gone)
                continue
            key, side, ticks, lots, tif = fields
            self._pending[key] = (mod.order.c, side, ticks, lots)
            modifies.append(
                (i, Modify(order.key, target, key, side, ticks, lots, tif, mod.order.r))
            )
        if modifies:
            answers = self._execute([m for _, m in modifies])
            by_new = {a.new_cloid: a for a in answers if isinstance(a, ModifyAck | ModifyRejected)}
            for i, mod_cmd in modifies:
                items[i] = self._placement_status(
                    by_new.get(mod_cmd.new_cloid), action.modifies[i].order.c
                )
        return items

    def _schedule_cancel(self, when: int | None, now_ms: int) -> ExchangeAnswer:
        if self.faults.dead_man_volume_gate:
            return _err(Texts.schedule_volume_gate(str(self._volume.quantize(Decimal("0.01")))))
        if when is None:
            self._dead_man_at = None
            return _default()
        if when < now_ms + 5000:
            return _err(SCHEDULE_TOO_SOON)
        if self._dead_man_fired >= 10:
            return _err(SCHEDULE_TOO_MANY)
        self._dead_man_at = when
        self._clock_driver.wake()
        return _default()

    def _fire_dead_man(self) -> None:
        when = self._dead_man_at
        if when is None or epoch_ms() < when:
            return
        self._dead_man_at = None
        self._dead_man_fired += 1
        self._cancel_status = statuses.SCHEDULED_CANCEL
        try:
            self._execute([CancelAll("scheduleCancel")])
        finally:
            self._cancel_status = statuses.CANCELED

    @property
    def dead_man_armed(self) -> bool:
        return self._dead_man_at is not None

    def _update_leverage(self, action: UpdateLeverageAction) -> ExchangeAnswer:
        if action.asset != self.asset:
            return _err(Texts.invalid_asset(action.asset))
        cap = self.instrument.max_leverage
        if action.leverage > cap:
            return _err(Texts.leverage_above_cap(action.leverage, cap))
        if action.leverage < 1:
            return _err(Texts.invalid_leverage(action.leverage))
        self._execute([SetLeverage(action.leverage)])
        return _default()

    # ---- WebSocket --------------------------------------------------------------------

    async def websocket(self, peer: WsPeer) -> None:
        client = _Peer(peer, self._clock.now())
        self._peers.add(client)
        await peer.send("Websocket connection established.")
        try:
            while True:
                text = await peer.recv()
                if text is None:
                    return
                client.last_heard = self._clock.now()
                await self._on_ws_text(client, text)
        finally:
            self._peers.discard(client)

    async def _on_ws_text(self, client: _Peer, text: str) -> None:
        try:
            message = _parse_json(text)
            method = message["method"]
        except (ValueError, KeyError, TypeError):
            await self._send(client, WsMessage(channel="error", data=WS_BAD_REQUEST + text[:200]))
            return
        if method == "ping":
            await self._send(client, WsMessage(channel="pong"))
        elif method in ("subscribe", "unsubscribe"):
            await self._subscription(client, method, message.get("subscription"))
        elif method == "post":
            post_id = message.get("id")
            if not isinstance(post_id, int):
                error = WS_BAD_REQUEST + "post id"
                await self._send(client, WsMessage(channel="error", data=error))
                return
            if client.pending_posts >= self.faults.max_pending_posts:
                error = Texts.too_many_pending_posts(post_id)
                await self._send(client, WsMessage(channel="error", data=error))
                return
            client.pending_posts += 1
            task = asyncio.create_task(self._post(client, post_id, message.get("request")))
            self._post_tasks.add(task)
            task.add_done_callback(self._post_tasks.discard)
        else:
            await self._send(client, WsMessage(channel="error", data=WS_BAD_REQUEST + text[:200]))

    async def _subscription(self, client: _Peer, method: str, sub: Any) -> None:
        normal = self._normalise(sub)
        if normal is None:
            error = Texts.invalid_subscription(json.dumps(sub))
            await self._send(client, WsMessage(channel="error", data=error))
            return
        key = json.dumps(normal, sort_keys=True)
        present = any(json.dumps(s, sort_keys=True) == key for s in client.subs)
        if method == "subscribe":
            if present:
                error = Texts.already_subscribed(json.dumps(sub))
                await self._send(client, WsMessage(channel="error", data=error))
                return
            client.subs.append(normal)
        else:
            if not present:
                error = Texts.already_unsubscribed(json.dumps(sub))
                await self._send(client, WsMessage(channel="error", data=error))
                return
            client.subs = [s for s in client.subs if json.dumps(s, sort_keys=True) != key]
        client.channels = {self._channel(s) for s in client.subs if self._for_us(s)}
        ack = SubscriptionResponse(method=method, subscription=normal)
        await self._send(client, WsMessage(channel="subscriptionResponse", data=ack))
        if method != "subscribe" or not self._for_us(normal):
            return
        if normal["type"] == "l2Book":
            await self._send(client, WsMessage(channel="l2Book", data=self._book_json()))
        elif normal["type"] == "userFills":
            replay = (
                list(self._fills)[-self.config.faults.replay_fills :]
                if self.config.faults.replay_fills
                else []
            )
            history = WsUserFills(user=self.account, isSnapshot=True, fills=replay)
            await self._send(client, WsMessage(channel="userFills", data=history))

    def _normalise(self, sub: Any) -> dict[str, Any] | None:
        if not isinstance(sub, dict) or not isinstance(sub.get("type"), str):
            return None
        kind = sub["type"]
        if kind in _COIN_SUBS and isinstance(sub.get("coin"), str):
            return {"type": kind, "coin": sub["coin"]}
        if kind in _USER_SUBS and isinstance(sub.get("user"), str):
            return {"type": kind, "user": sub["user"].lower()}
        return None

    def _for_us(self, sub: dict[str, Any]) -> bool:
        return sub.get("coin") == self.coin or sub.get("user") == self.account

    @staticmethod
    def _channel(sub: dict[str, Any]) -> str:
        return "user" if sub["type"] == "userEvents" else str(sub["type"])

    async def _post(self, client: _Peer, post_id: int, request: Any) -> None:
        try:
            if not isinstance(request, dict) or request.get("type") not in ("action", "info"):
                response = PostResponse(type="error", payload=WS_BAD_POST)
            elif request["type"] == "info":
                status, answer = self._info(request.get("payload"), via_ws=True)
                payload = request.get("payload")
                info_type = payload.get("type") if isinstance(payload, dict) else None
                response = (
                    PostResponse(type="info", payload=InfoPayload(type=info_type, data=answer))
                    if status == 200
                    else PostResponse(type="error", payload=f"{status} {answer}")
                )
            else:
                outcome = await self._exchange_request(request.get("payload"), via_ws=True)
                if outcome.lost:
                    return
                response = (
                    PostResponse(type="action", payload=outcome.payload)
                    if outcome.status == 200
                    else PostResponse(type="error", payload=f"{outcome.status} {outcome.payload}")
                )
            answer = PostData(id=post_id, response=response)
            await self._send(client, WsMessage(channel="post", data=answer))
        finally:
            client.pending_posts -= 1

    async def _send(self, client: _Peer, message: WsMessage) -> None:
        await client.peer.send(_ws_text(message))

    def _publish(self, channel: str, data: Any) -> None:
        if not self._peers:
            return
        text = _ws_text(WsMessage(channel=channel, data=data))
        for client in list(self._peers):
            if channel in client.channels:
                client.peer.send_nowait(text)

    def _push_book(self, now: float) -> None:
        self._book_dirty = False
        self._next_book = now + self._book_interval
        if any("l2Book" in c.channels for c in self._peers):
            self._publish("l2Book", self._book_json())

    def _close_idle(self, now: float) -> None:
        idle = self.faults.idle_timeout_s
        for client in list(self._peers):
            if now - client.last_heard > idle:
                client.peer.abort()
                self._peers.discard(client)


def _parse_json(text: str | bytes) -> Any:
    """``json.loads`` for outside input: anything refused is a ``ValueError``.  Nesting past
    the venue's limit is refused too: ``json.loads`` raises ``RecursionError`` on deep nesting
    (or, just under Python's limit, leaves a tree that ``str``/``json.dumps`` cannot walk)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("recursion limit exceeded") from None
    level: list[Any] = [value]
    for _ in range(_MAX_NESTING):  # breadth-first: no recursion of our own
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return value
    if any(isinstance(node, dict | list) for node in level):
        raise ValueError("recursion limit exceeded")
    return value


def _direction(start: int, signed: int) -> str:
    after = start + signed
    if start >= 0 and after >= 0:
        return "Open Long" if signed > 0 else "Close Long"
    if start <= 0 and after <= 0:
        return "Open Short" if signed < 0 else "Close Short"
    return "Long > Short" if start > 0 else "Short > Long"


def _check_cloids(action: Any) -> None:
    """The venue parses every cloid as 16 bytes of hex: anything else is HTTP 422."""
    if isinstance(action, OrderAction):
        cloids = [o.c for o in action.orders]
    elif isinstance(action, BatchModifyAction):
        cloids = [m.order.c for m in action.modifies]
        cloids += [m.oid for m in action.modifies if isinstance(m.oid, str)]
    elif isinstance(action, CancelByCloidAction):
        cloids = [c.cloid for c in action.cancels]
    else:
        return
    for cloid in cloids:
        if cloid is not None and not _CLOID.fullmatch(cloid):
            raise _BadRequest(f"invalid cloid {cloid!r}: expected 0x and 32 hex digits")


def _item_count(body: Any) -> int:
    """How many orders/cancels an action carries (for weights and the address budget)."""
    if not isinstance(body, dict) or not isinstance(body.get("action"), dict):
        return 0
    action = body["action"]
    for key in ("orders", "cancels", "modifies"):
        items = action.get(key)
        if isinstance(items, list):
            return len(items)
    return 1


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def _ws_text(message: WsMessage) -> str:
    return json.dumps(answer_json(message))


def _err(text: str) -> ExchangeAnswer:
    return ExchangeAnswer(status="err", response=text)


def _default() -> ExchangeAnswer:
    return ExchangeAnswer(status="ok", response=OkBody(type="default"))


def _statuses(kind: str, items: list[ItemStatus]) -> ExchangeAnswer:
    data = StatusesData(statuses=items)
    return ExchangeAnswer(status="ok", response=OkBody(type=kind, data=data))


_NOT_PROCESSED = ErrorStatus(error=NOT_PROCESSED)


def _clearinghouse_state(positions: list[AssetPosition], equity: str) -> ClearinghouseState:
    summary = MarginSummary(
        accountValue=equity, totalMarginUsed=_ZERO, totalNtlPos=_ZERO, totalRawUsd=equity
    )
    return ClearinghouseState(
        assetPositions=positions,
        crossMaintenanceMarginUsed=_ZERO,
        crossMarginSummary=summary,
        marginSummary=summary,
        withdrawable=equity,
        time=epoch_ms(),
    )


def _empty_clearinghouse() -> ClearinghouseState:
    return _clearinghouse_state([], _ZERO)
