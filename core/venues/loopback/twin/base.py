"""The state every room of the loopback twin shares, and the clock's turn.

``TwinBase`` holds the embedded exchange and what the venue keeps beside it: our orders by oid
and key, the fills, position and volume, the nonces, the IP weight and the address's request
count, the WebSocket clients and the dead man's switch.  The clock's turn (``_step``, run by the
``ClockDriver``) lives here with everything it reaches, because ``__init__`` hands it to the
driver: running the exchange (``_advance``, ``_execute``) and turning its stream into wire rows
(``trades``, ``orderUpdates``, ``userFills`` / ``user``, the ``l2Book``), the order registry
that learns oids from the engine's answers, the pushes to subscribers, dropped and idle sockets,
and the dead man's switch firing.  The two budgets (``_charge_ip``, ``_request_cap``) are here
because ``/info`` and ``/exchange`` both charge them.  The rooms above build on this one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from core.clock import Clock
from core.commands import Batch, CancelAll, Command
from core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    Fill,
    Funding,
    Liquidated,
    Liquidity,
    ModifyAck,
    OrderUpdate,
    PlaceAck,
    Side,
    Trade,
    VenueStatus,
)
from core.simconfig import FaultConfig, SimConfig
from core.units import Instrument, wire
from core.venues.hyperliquid import statuses
from core.venues.hyperliquid.errors import Texts
from core.venues.hyperliquid.mapping import Translator, side_to_wire
from core.venues.hyperliquid.nonces import epoch_ms
from core.venues.hyperliquid.wire import (
    AccountLiquidation,
    AssetCtx,
    BookLevel,
    FillLiquidation,
    L2Book,
    OpenOrder,
    OrderStatusEntry,
    UserFill,
    UserFunding,
    WsMessage,
    WsTrade,
    WsUserEvent,
    WsUserFills,
    WsUserFundings,
)
from core.venues.loopback.faults import FaultState, TwinFaults
from core.venues.loopback.twin.common import ZERO, Order, Peer, ws_text
from core.venues.loopback.twin.feeds import SLOW_LEVELS, Feed
from core.venues.sim.driver import ClockDriver
from core.venues.sim.exchange import SimExchange

_FILLS_KEPT = 10_000
_FUNDINGS_KEPT = 500


class TwinBase:
    """The state every room shares (see the module's docstring); built once, by ``Twin``."""

    def __init__(
        self,
        config: SimConfig,
        clock: Clock,
        *,
        account: str,
        agents: Iterable[str] = (),
        faults: TwinFaults | None = None,
        is_mainnet: bool = False,
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
        self._texts = Texts(self.instrument)
        self._tr = Translator(self.instrument)
        self._exchange: SimExchange | None = None
        self._fault_state: FaultState | None = None
        self._orders: dict[int, Order] = {}
        self._pending: dict[str, tuple[str | None, Side, int, int, str | None]] = {}
        self._key_to_oid: dict[str, int] = {}
        self._fills: deque[UserFill] = deque(maxlen=_FILLS_KEPT)
        self._tid_base = epoch_ms() * 1000
        self._position = 0
        # The account as the venue reports it (USD): the average entry of the open position,
        # the PnL its fills closed (``closedPnl``, before fees) and the fees charged.
        self._entry = Decimal(0)
        self._closed_pnl = Decimal(0)
        self._fees = Decimal(0)
        self._funding = Decimal(0)  # received (paid: negative)
        self._funding_since_open = Decimal(0)  # of the open position
        self._funding_since_change = Decimal(0)  # since its size last changed
        self._fundings: deque[UserFunding] = deque(maxlen=_FUNDINGS_KEPT)
        self._liquidations = 0
        self._liquidated_lots = 0  # of the liquidation under way, until its user event
        self._cross = True  # the margin mode updateLeverage set: cross until it says isolated
        self._volume = Decimal(0)
        self._nonces: dict[str, list[int]] = {}
        self._requests_used = 0
        self._ip: deque[tuple[float, int]] = deque()
        self._ip_total = 0
        self._peers: set[Peer] = set()
        self._market_version = 0  # counts the book's changes: a feed pushes only after one
        self._dead_man_at: int | None = None
        self._dead_man_fired = 0
        self._cancel_status = statuses.CANCELED
        self._batch_id = 0
        self._synthetic = 0
        self._driver: asyncio.Task[None] | None = None
        self._clock_driver = ClockDriver(clock, self._step)
        self._post_tasks: set[asyncio.Task[None]] = set()

    # ---- the exchange and its faults ------------------------------------------------------

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

    # ---- the clock ------------------------------------------------------------------------

    async def _step(self, now: float) -> float:
        """One turn of the ``ClockDriver``: the exchange, faults, dead man's switch and book
        pushes up to ``now``; when something is next due."""
        self._advance(now)
        faults = self.fault_state
        if faults.disconnect_due(now):
            await self.disconnect_all()
        self._fire_dead_man()
        feeds_due = self._push_feeds(now)
        self._close_idle(now)
        due = self.exchange.next_due()
        candidates = [faults.next_timer()]
        if due is not None:
            candidates.append(due)
        if feeds_due is not None:
            candidates.append(feeds_due)
        return min(candidates)

    def _advance(self, now: float) -> list[Event]:
        """Run the exchange to ``now``; publish the stream, return the answers."""
        answers: list[Event] = []
        trades: list[WsTrade] = []
        updates: list[OrderStatusEntry] = []
        fills: list[UserFill] = []
        fundings: list[UserFunding] = []
        liquidations: list[AccountLiquidation] = []
        ms = epoch_ms()
        for event in self.exchange.advance(now):
            if isinstance(event, BookSnapshot | BookDelta):
                self._market_version += 1
            elif isinstance(event, Trade):
                trades.append(self._trade_row(event, ms))
            elif isinstance(event, OrderUpdate):
                row = self._order_update(event, ms)
                if row is not None:
                    updates.append(row)
            elif isinstance(event, Fill):
                fills.append(self._fill_row(event, ms))
            elif isinstance(event, Funding):
                if not event.snapshot:  # a replay of the exchange's: the twin keeps its own
                    fundings.append(self._funding_row(event, ms))
            elif isinstance(event, Liquidated):
                liquidations.append(self._liquidation_event(event))
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
        for liquidation in liquidations:
            self._publish("user", WsUserEvent(liquidation=liquidation))
        if fundings:
            self._publish(
                "userFundings",
                WsUserFundings(user=self.account, isSnapshot=False, fundings=fundings),
            )
            for paid in fundings:
                self._publish("user", WsUserEvent(funding=paid))
        return answers

    def _execute(self, commands: list[Command]) -> list[Event]:
        now = self._clock.now()
        self._batch_id += 1
        self.exchange.submit(Batch(self._batch_id, tuple(commands)), now)
        answers = self._advance(now)
        self._clock_driver.wake()
        return answers

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

    # ---- budgets: IP weight and the address's requests ------------------------------------

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

    def _request_cap(self, *, cancels: bool) -> int:
        cap = self.faults.address_budget + int(self._volume)
        return min(cap + 100_000, 2 * cap) if cancels else cap

    # ---- the order registry ---------------------------------------------------------------

    def _learn_oid(self, event: Event) -> None:
        if isinstance(event, PlaceAck):
            self._register(event.cloid, event.oid)
        elif isinstance(event, ModifyAck):
            self._register(event.new_cloid, event.oid)

    def _register(self, key: str | None, oid: int | None) -> Order | None:
        if oid is None:
            return None
        order = self._orders.get(oid)
        if order is not None or key is None:
            return order
        pending = self._pending.pop(key, None)
        if pending is None:
            return None
        cloid, side, price, size, tif = pending
        order = Order(oid, key, cloid, side, price, size, epoch_ms(), tif)
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

    def _order_row(self, order: Order, **more: Any) -> OpenOrder:
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
        """The public trade; a match of ours carries the same tid and hash as our fill."""
        if trade.tid is not None:
            tid = self._tid_base + trade.tid
        else:
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
        # The exchange's own account decides the fee and the PnL closed (D36): exact, in
        # millionths, as the venue writes them.
        fee = _usd(fill.fee)
        self._fees += fee
        closed = _usd(fill.closed_pnl or 0)
        self._closed_pnl += closed
        self._book_entry(start, signed, px)
        tid = self._tid_base + fill.tid
        cloid = {"cloid": order.cloid} if order is not None and order.cloid is not None else {}
        liquidated: dict[str, Any] = {}
        if fill.liquidation is not None:
            # D41: the venue's shape of our own liquidation: its dir and the object naming us.
            self._liquidated_lots += fill.size
            mark = self.instrument.ticks_to_price(self.exchange.mark)
            liquidated = {
                "liquidation": FillLiquidation(
                    liquidatedUser=self.account, markPx=wire(mark), method="market"
                )
            }
        row = UserFill(
            coin=self.coin,
            px=wire(px),
            sz=wire(sz),
            side=side_to_wire(fill.side),
            time=ms,
            startPosition=tr.signed_size_text(start),
            dir=_liquidated_direction(start) if liquidated else _direction(start, signed),
            closedPnl=wire(closed),
            hash=f"0x{tid:064x}",
            oid=fill.oid,
            crossed=taker,
            fee=wire(fee),
            tid=tid,
            feeToken=fill.fee_token or "USDC",
            **cloid,
            **liquidated,
        )
        self._fills.append(row)
        return row

    def _book_entry(self, start: int, signed: int, px: Decimal) -> None:
        """Book a fill into the average entry the venue reports (``entryPx``)."""
        inst = self.instrument
        after = start + signed
        self._funding_since_change = Decimal(0)
        if after == 0 or start == 0 or (start > 0) != (after > 0):
            self._funding_since_open = Decimal(0)
        if after == 0:
            self._entry = Decimal(0)
        elif start == 0 or (start > 0) != (after > 0):
            self._entry = px  # opened, or flipped: what is left opened at this fill
        elif abs(after) > abs(start):
            held, added = inst.lots_to_size(abs(start)), inst.lots_to_size(abs(signed))
            self._entry = (self._entry * held + px * added) / (held + added)

    def _liquidation_event(self, event: Liquidated) -> AccountLiquidation:
        """Our liquidation as channel ``user`` says it (beside the fills that carry it)."""
        self._liquidations += 1
        mark = self.exchange.mark
        lots, self._liquidated_lots = self._liquidated_lots, 0
        return AccountLiquidation(
            lid=self._liquidations,
            liquidator="0x" + "0" * 40,
            liquidated_user=self.account,
            liquidated_ntl_pos=wire(self.instrument.value_to_decimal(lots * mark)),
            liquidated_account_value=wire(self.account_value(self.instrument.ticks_to_price(mark))),
        )

    def _funding_row(self, paid: Funding, ms: int) -> UserFunding:
        """A funding payment of the exchange's account, as ``userFundings`` writes it."""
        amount = _usd(paid.amount)
        self._funding += amount
        self._funding_since_open += amount
        self._funding_since_change += amount
        row = UserFunding(
            time=ms,
            coin=self.coin,
            usdc=wire(amount),
            szi=self._tr.signed_size_text(self._position),
            fundingRate=paid.rate,
            nSamples=None,
        )
        self._fundings.append(row)
        return row

    def account_value(self, mark: Decimal | None) -> Decimal:
        """Collateral, plus the PnL closed, minus fees, plus funding, plus the open position at
        ``mark``."""
        value = self.config.collateral + self._closed_pnl - self._fees + self._funding
        if mark is not None and self._position:
            value += (mark - self._entry) * self.instrument.lots_to_size(self._position)
        return value

    def _levels(self, side: Side, count: int) -> list[BookLevel]:
        tr = self._tr
        return [
            BookLevel(px=tr.price_text(p), sz=tr.size_text(s), n=1)
            for p, s in self.exchange.book.depth(side)[:count]
        ]

    def _book_json(self, levels: int = SLOW_LEVELS) -> L2Book:
        return L2Book(
            coin=self.coin,
            time=epoch_ms(),
            levels=(self._levels(Side.BID, levels), self._levels(Side.ASK, levels)),
        )

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
            dayNtlVlm=wire(self._volume) if index == self.asset else ZERO,
            funding=ZERO,
            impactPxs=None,
            markPx=mid or ZERO,
            midPx=mid,
            openInterest=ZERO,
            oraclePx=mid or ZERO,
            premium=None,
            prevDayPx=mid or ZERO,
        )

    # ---- the WebSocket clients: pushes and drops ------------------------------------------

    def _publish(self, channel: str, data: Any) -> None:
        if not self._peers:
            return
        text = ws_text(WsMessage(channel=channel, data=data))
        for client in list(self._peers):
            if channel in client.channels:
                client.peer.send_nowait(text)

    def _push_feeds(self, now: float) -> float | None:
        """Push every market feed that is due (``feeds``); when the next one will be."""
        due: float | None = None
        for client in list(self._peers):
            for feed in client.feeds.values():
                if feed.sent_version == self._market_version:
                    continue
                if now < feed.next_at:
                    due = feed.next_at if due is None else min(due, feed.next_at)
                    continue
                self._push_feed(feed, now, client)
        return due

    def _push_feed(self, feed: Feed, now: float, client: Peer, *, first: bool = False) -> None:
        """Send one feed its data if it changed (always the first time, on subscribing)."""
        feed.sent_version = self._market_version
        content, data = self._feed_data(feed)
        if not first and content == feed.last:
            return  # the book moved, but not what this feed shows
        feed.last = content
        feed.next_at = now + feed.interval
        client.peer.send_nowait(ws_text(WsMessage(channel=feed.kind, data=data)))

    def _feed_data(self, feed: Feed) -> tuple[Any, Any]:
        """(what the feed shows, to compare; the message's data)."""
        if feed.kind == "l2Book":
            book = self._book_json(feed.levels)
            return book.levels, book
        if feed.kind == "bbo":
            bids, asks = self._levels(Side.BID, 1), self._levels(Side.ASK, 1)
            top = (bids[0] if bids else None, asks[0] if asks else None)
            return top, {"coin": self.coin, "time": epoch_ms(), "bbo": list(top)}
        if feed.kind == "allMids":
            mid = self._mid()
            return mid, {"mids": {self.coin: mid} if mid is not None else {}}
        ctx = self._asset_ctx(self.asset)
        return ctx, {"coin": self.coin, "ctx": ctx}

    async def disconnect_all(self) -> None:
        """Drop every WebSocket without a close frame, as a network failure would."""
        self.fault_state.counts["disconnects"] += 1
        for peer in list(self._peers):
            peer.peer.abort()
            self._peers.discard(peer)

    def _close_idle(self, now: float) -> None:
        idle = self.faults.idle_timeout_s
        for client in list(self._peers):
            if now - client.last_heard > idle:
                client.peer.abort()
                self._peers.discard(client)


def _direction(start: int, signed: int) -> str:
    after = start + signed
    if start >= 0 and after >= 0:
        return "Open Long" if signed > 0 else "Close Long"
    if start <= 0 and after <= 0:
        return "Open Short" if signed < 0 else "Close Short"
    return "Long > Short" if start > 0 else "Short > Long"


def _liquidated_direction(start: int) -> str:
    return f"Liquidated Cross {'Long' if start > 0 else 'Short'}"


def _usd(micro: int) -> Decimal:
    """Millionths of a dollar as the exact decimal the venue writes."""
    return Decimal(micro).scaleb(-6)
