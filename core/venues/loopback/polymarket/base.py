"""The state every room of the Polymarket twin shares, and the clock's turn.

``PmTwinBase`` holds the embedded exchange (one YES book; NO mirrored, ``market``), our orders
by id and by the exchange's oid, our trades and their settlement, the API
credentials, the dead-man switch, the operating mode and the WebSocket clients.  The clock's
turn (``_step``, run by the ``ClockDriver``) runs the exchange, moves each trade along its
lifecycle as the exchange settles it (MATCHED -> MINED -> CONFIRMED, or RETRYING / FAILED:
D38, ``core.venues.sim.settlement``; a FAILED trade is reversed by the exchange itself), fires
the dead-man switch and ends timed modes.  ``_absorb`` turns the exchange's events into the
venue's records and pushes: a fill of ours becomes a trade (uuid, MATCHED at once), book
changes become ``price_change``, matches ``last_trade_price`` and a fresh ``book``, a tick
change ``tick_size_change``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from core.clock import Clock, unix_now
from core.commands import Batch, Command
from core.events import (
    BookDelta,
    BookSnapshot,
    Event,
    Fill,
    FillSettled,
    Liquidity,
    OrderUpdate,
    PlaceAck,
    Side,
    TickSizeChanged,
    Trade,
    VenueStatus,
)
from core.simconfig import FaultConfig, HeartbeatConfig, SimConfig
from core.units import Instrument, grid_of
from core.venues.loopback.polymarket.auth import Creds, derive_creds
from core.venues.loopback.polymarket.market import (
    ONE,
    PmOrder,
    PmTrade,
    Token,
    decimal_text,
    derived_hex,
    derived_id,
)
from core.venues.loopback.polymarket.settings import PmTwinSettings
from core.venues.loopback.server import WsPeer
from core.venues.sim.driver import ClockDriver
from core.venues.sim.exchange import SimExchange

SYNTHETIC_OWNER = "00000000-0000-4000-8000-000000000000"  # the flow's orders have no API key
SYNTHETIC_MAKER = "0x" + "0" * 40
_KEPT_TRADES = 10_000
_KEPT_ORDERS = 20_000  # closed orders beyond this are forgotten, oldest first


class Socket:
    """One WebSocket client: its channel, what it follows, and (user) whose news it gets."""

    def __init__(self, peer: WsPeer, channel: str) -> None:
        self.peer = peer
        self.channel = channel  # "market" / "user"
        self.assets: set[str] = set()
        self.markets: set[str] = set()  # user: condition ids (empty: all)
        self.address: str | None = None  # user: authenticated address
        self.subscribed = False


class PmTwinBase:
    """The shared state (see the module's docstring); built once, by ``PmTwin``."""

    def __init__(self, config: SimConfig, clock: Clock, settings: PmTwinSettings | None) -> None:
        # The exchange's own faults and dead-man switch are off: the twin's happen on the wire.
        instant = FaultConfig.profile("instant", replay_fills=0)
        off = HeartbeatConfig(enabled=False)
        self.config = config.model_copy(update={"faults": instant, "heartbeat": off})
        self.settings = settings if settings is not None else PmTwinSettings()
        inst = self.config.instrument()
        if not inst.bounded or inst.tick_size != Decimal("0.0001"):
            raise ValueError(
                "the Polymarket twin needs a binary market: SimConfig(market='binary', ...) "
                f"(got {inst.symbol} with tick {inst.tick_size})"
            )
        self.instrument: Instrument = inst
        seed = self.config.seed
        self.condition_id = derived_hex(seed, "condition")
        self.question_id = derived_hex(seed, "question")
        self.yes = Token(derived_id(seed, "yes", 77), "Yes", mirrored=False)
        self.no = Token(derived_id(seed, "no", 77), "No", mirrored=True)
        self.tokens = {self.yes.token_id: self.yes, self.no.token_id: self.no}
        self.min_lots = inst.min_lots
        self._clock = clock
        offset = clock.epoch_offset()
        self._epoch = offset if offset is not None else unix_now() - clock.now()
        self._seed = f"pm-twin:{seed}".encode()
        self.account = self.settings.account.lower() if self.settings.account else None
        self.creds: dict[str, Creds] = {}  # api key -> creds
        self.orders: dict[str, PmOrder] = {}
        self.gtd: set[str] = set()  # GTD orders that may still be live (expiry)
        self._by_oid: dict[int, PmOrder] = {}
        self.trades: OrderedDict[str, PmTrade] = OrderedDict()
        self._by_tid: dict[int, PmTrade] = {}
        self.last_price: dict[str, str] = {self.yes.token_id: "", self.no.token_id: ""}
        self.sockets: set[Socket] = set()
        self.ws_stalled = False
        self._exchange: SimExchange | None = None
        self._batch_id = 0
        self._driver: asyncio.Task[None] | None = None
        self._clock_driver = ClockDriver(clock, self._step)
        self._book_dirty = False
        self._trades_made = 0

    # ---- the exchange and the clock ------------------------------------------------------

    @property
    def exchange(self) -> SimExchange:
        if self._exchange is None:
            raise RuntimeError("the twin is not started: await start() first")
        return self._exchange

    @property
    def tick(self) -> Decimal:
        return self.instrument.venue_tick

    def epoch(self, now: float | None = None) -> float:
        """Unix seconds of a clock reading (now by default)."""
        return (self._clock.now() if now is None else now) + self._epoch

    async def _step(self, now: float) -> float | None:
        self._absorb(self.exchange.advance(now))
        due = [self.exchange.next_due(), self._timers(now)]
        self._flush_book()
        times = [t for t in due if t is not None]
        return min(times) if times else None

    def _timers(self, now: float) -> float | None:
        """Modes, heartbeats and the like (``PmTwin`` overrides): when next due."""
        return None

    def _execute(self, commands: list[Command]) -> list[Event]:
        """Run commands on the exchange now; the answers (the stream is absorbed)."""
        now = self._clock.now()
        self._batch_id += 1
        self.exchange.submit(Batch(self._batch_id, tuple(commands)), now)
        events = self.exchange.advance(now)
        answers = self._absorb(events)
        self._flush_book()
        self._clock_driver.wake()
        return answers

    # ---- the exchange's events as the venue's records -----------------------------------

    def _absorb(self, events: list[Event]) -> list[Event]:
        answers: list[Event] = []
        for event in events:
            if isinstance(event, BookDelta):
                self._price_change(event)
            elif isinstance(event, BookSnapshot):
                self._book_dirty = True
            elif isinstance(event, Trade):
                self._public_trade(event)
            elif isinstance(event, Fill):
                if not event.snapshot:
                    self._our_fill(event)
            elif isinstance(event, OrderUpdate):
                self._order_update(event)
            elif isinstance(event, TickSizeChanged):
                self._tick_changed(event.grid)
            elif isinstance(event, FillSettled):
                pass  # its statuses come from ``drain_trade_statuses``, below
            else:
                if isinstance(event, PlaceAck):
                    order = self.orders.get(event.cloid)
                    if order is not None:
                        self._bind(order, event.oid)
                answers.append(event)
        for _, tid, status in self.exchange.drain_trade_statuses():
            trade = self._by_tid.get(tid)
            if trade is not None and status != "MATCHED" and status != trade.status:
                self._advance_trade(trade, status)
        return answers

    def _forget_old_orders(self) -> None:
        """Bound the memory of a long session: the oldest closed orders go (open ones stay)."""
        excess = len(self.orders) - _KEPT_ORDERS
        if excess <= 0:
            return
        for order_id in [o.order_id for o in self.orders.values() if o.status != "LIVE"][:excess]:
            order = self.orders.pop(order_id)
            if order.engine_oid is not None:
                self._by_oid.pop(order.engine_oid, None)

    def _bind(self, order: PmOrder, oid: int) -> None:
        order.engine_oid = oid
        self._by_oid[oid] = order

    def _find(self, oid: int | None, cloid: str | None) -> PmOrder | None:
        order = self._by_oid.get(oid) if oid is not None else None
        if order is None and cloid is not None:
            order = self.orders.get(cloid)
            if order is not None and oid is not None:
                self._bind(order, oid)
        return order

    def _order_update(self, event: OrderUpdate) -> None:
        order = self._find(event.oid, event.cloid)
        if order is None:
            return
        if event.status is VenueStatus.FILLED:
            order.status = "MATCHED"
        elif event.status is VenueStatus.OPEN:
            if order.status == "LIVE":
                self._order_event(order, "PLACEMENT")
        elif event.status in (VenueStatus.CANCELED, VenueStatus.VENUE_CANCELED):
            if order.status == "LIVE":
                order.status = "CANCELED"
                self._order_event(order, "CANCELLATION")
        elif event.status is VenueStatus.REJECTED:
            order.status = "CANCELED"

    def _our_fill(self, fill: Fill) -> None:
        """A match of ours: a trade (uuid) MATCHED at once, on the user channel with our
        order's ``UPDATE``; the counterparty is the flow's, on the YES book."""
        order = self._find(fill.oid, fill.cloid)
        if order is None:
            return
        buy, price = order.token.from_engine(fill.side, fill.price)
        trade_id = str(uuid.UUID(int=self._trade_number(), version=4))
        epoch = int(self.epoch())
        taker = fill.liquidity is Liquidity.TAKER
        them = self.yes  # the exchange's book is YES: a NO order meets YES ones
        their_buy, their_price = them.from_engine(fill.side.opposite, fill.price)
        trade = PmTrade(
            trade_id=trade_id,
            tid=fill.tid,
            taker_order_id=order.order_id if taker else derived_hex(fill.tid, "taker"),
            trader_side="TAKER" if taker else "MAKER",
            order=order,
            buy=buy,
            price=price,
            size=fill.size,
            fee=fill.fee,
            match_time=epoch,
            last_update=epoch,
            counterparty={
                "order_id": derived_hex(fill.tid, "maker" if taker else "taker"),
                "owner": SYNTHETIC_OWNER,
                "maker_address": SYNTHETIC_MAKER,
                "token": them,
                "buy": their_buy,
                "price": their_price,
            },
        )
        self.trades[trade_id] = trade
        self._by_tid[fill.tid] = trade
        while len(self.trades) > _KEPT_TRADES:
            _, old = self.trades.popitem(last=False)
            self._by_tid.pop(old.tid, None)
        order.matched += fill.size
        order.trades.append(trade_id)
        if order.matched >= order.size:
            order.status = "MATCHED"
        self._trade_event(trade)
        self._order_event(order, "UPDATE")

    def _trade_number(self) -> int:
        """A uuid's 128 bits, drawn from the seed and a counter: the same run, the same ids."""
        self._trades_made += 1
        return int(derived_hex(self.config.seed, f"trade:{self._trades_made}"), 16) >> 128

    def _advance_trade(self, trade: PmTrade, status: str) -> None:
        trade.status = status
        trade.last_update = int(self.epoch())
        if status == "MINED" and not trade.transaction_hash:
            trade.transaction_hash = derived_hex(0, trade.trade_id)
        self._trade_event(trade)

    def _tick_changed(self, grid: int) -> None:
        """The exchange moved the grid (D39): from now on the twin refuses the old grid's
        prices, and every market subscriber hears ``tick_size_change`` for both tokens."""
        old = decimal_text(self.tick)
        self.instrument = self.instrument.with_grid(grid)
        ms = str(int(self.epoch() * 1000))
        for token in (self.yes, self.no):
            row = {
                "event_type": "tick_size_change",
                "asset_id": token.token_id,
                "market": self.condition_id,
                "old_tick_size": old,
                "new_tick_size": decimal_text(self.tick),
                "timestamp": ms,
            }
            self._market_push({token.token_id}, lambda _a, row=row: row)

    # ---- balances ------------------------------------------------------------------------

    def balances(self) -> tuple[int, int]:
        """(settled pUSD in millionths, settled YES shares in lots): the exchange's account
        less what trades not yet CONFIRMED moved (the chain has not moved it yet)."""
        ex = self.exchange
        cash = int(ex.equity * 1_000_000) - ex.position * ex.mark
        for fill in ex.pending_trades():
            cash += fill.side.sign * fill.price * fill.size + fill.fee
        return cash, ex.confirmed_position

    # ---- wire rows -----------------------------------------------------------------------

    def price_text(self, ticks: int) -> str:
        return decimal_text(self.instrument.ticks_to_price(ticks))

    def size_text(self, lots: int) -> str:
        return decimal_text(self.instrument.lots_to_size(lots))

    def order_row(self, order: PmOrder) -> dict[str, Any]:
        return {
            "id": order.order_id,
            "status": order.status,
            "owner": order.owner,
            "maker_address": order.maker,
            "market": self.condition_id,
            "asset_id": order.token.token_id,
            "side": order.side_text,
            "original_size": self.size_text(order.size),
            "size_matched": self.size_text(order.matched),
            "price": self.price_text(order.price),
            "outcome": order.token.outcome,
            "expiration": order.expiration,
            "order_type": order.order_type,
            "associate_trades": list(order.trades),
            "created_at": order.created_at,
        }

    def trade_row(self, trade: PmTrade) -> dict[str, Any]:
        """The trade as ``/data/trades`` and the user channel write it: the top-level fields
        are the taker's, our maker fill is an entry of ``maker_orders``."""
        order = trade.order
        taker_bps = str(int(self.config.taker_fee_rate * 10_000))
        us = {
            "order_id": order.order_id,
            "owner": order.owner,
            "maker_address": order.maker,
            "matched_amount": self.size_text(trade.size),
            "price": self.price_text(trade.price),
            "fee_rate_bps": taker_bps if trade.trader_side == "TAKER" else "0",
            "asset_id": order.token.token_id,
            "outcome": order.token.outcome,
            "side": "BUY" if trade.buy else "SELL",
        }
        other = trade.counterparty
        token: Token = other["token"]
        them = {
            "order_id": other["order_id"],
            "owner": other["owner"],
            "maker_address": other["maker_address"],
            "matched_amount": self.size_text(trade.size),
            "price": self.price_text(other["price"]),
            "fee_rate_bps": "0" if trade.trader_side == "TAKER" else taker_bps,
            "asset_id": token.token_id,
            "outcome": token.outcome,
            "side": "BUY" if other["buy"] else "SELL",
        }
        taker, makers = (us, [them]) if trade.trader_side == "TAKER" else (them, [us])
        return {
            "id": trade.trade_id,
            "taker_order_id": trade.taker_order_id,
            "market": self.condition_id,
            "asset_id": taker["asset_id"],
            "side": taker["side"],
            "size": taker["matched_amount"],
            "fee_rate_bps": taker["fee_rate_bps"],
            "price": taker["price"],
            "status": trade.status,
            "match_time": str(trade.match_time),
            "last_update": str(trade.last_update),
            "outcome": taker["outcome"],
            "bucket_index": 0,
            "owner": taker["owner"],
            "maker_address": taker["maker_address"],
            "transaction_hash": trade.transaction_hash,
            "trader_side": trade.trader_side,
            "maker_orders": makers,
            "err_msg": "" if trade.status != "FAILED" else "trade failed on chain",
        }

    def book_row(self, token: Token) -> dict[str, Any]:
        """``GET /book`` (and the ``book`` event): best price LAST on both sides, and the
        SHA-1 hash of the compact JSON with an empty ``hash``, as the official client checks."""
        book = self.exchange.book
        engine_bids, engine_asks = book.depth(Side.BID), book.depth(Side.ASK)
        if token.mirrored:
            bids = [(ONE - p, s) for p, s in engine_asks]
            asks = [(ONE - p, s) for p, s in engine_bids]
        else:
            bids, asks = list(engine_bids), list(engine_asks)
        payload: dict[str, Any] = {
            "market": self.condition_id,
            "asset_id": token.token_id,
            "timestamp": str(int(self.epoch() * 1000)),
            "hash": "",
            "bids": [self._level(p, s) for p, s in reversed(bids)],
            "asks": [self._level(p, s) for p, s in reversed(asks)],
            "min_order_size": self.size_text(self.min_lots),
            "tick_size": decimal_text(self.tick),
            "neg_risk": self.settings.neg_risk,
            "last_trade_price": self.last_price[token.token_id],
        }
        compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        payload["hash"] = hashlib.sha1(compact.encode()).hexdigest()
        return payload

    def _level(self, price: int, lots: int) -> dict[str, str]:
        return {"price": self.price_text(price), "size": self.size_text(lots)}

    def best(self, token: Token) -> tuple[str, str]:
        """(best bid, best ask) of a token as ``price_change`` writes them ("0" / "1": none)."""
        book = self.exchange.book
        bid, ask = book.best_bid(), book.best_ask()
        if token.mirrored:
            bid, ask = (None if ask is None else ONE - ask), (None if bid is None else ONE - bid)
        return (
            self.price_text(bid) if bid is not None else "0",
            self.price_text(ask) if ask is not None else "1",
        )

    # ---- pushes --------------------------------------------------------------------------

    def _send(self, sock: Socket, payload: Any) -> None:
        if self.ws_stalled:
            return  # a stalled feed says nothing, and never says it later
        sock.peer.send_nowait(json.dumps(payload, separators=(",", ":")))

    def _market_push(self, asset_ids: set[str], make: Any) -> None:
        for sock in list(self.sockets):
            if sock.channel == "market" and sock.subscribed and sock.assets & asset_ids:
                self._send(sock, make(sock.assets & asset_ids))

    def _user_push(self, payload: dict[str, Any], address: str) -> None:
        """To the user sockets of ``address`` (the credentials' address that placed the order)
        that follow this market."""
        for sock in list(self.sockets):
            if sock.channel != "user" or sock.address != address or not sock.subscribed:
                continue
            if sock.markets and self.condition_id not in sock.markets:
                continue
            self._send(sock, payload)

    def _listened(self) -> bool:
        """Whether any market subscriber would hear a push (building one costs)."""
        return any(s.channel == "market" and s.subscribed for s in self.sockets)

    def _price_change(self, delta: BookDelta) -> None:
        if not self._listened():
            return
        ms = str(int(self.epoch() * 1000))
        changes = []
        for token in (self.yes, self.no):
            buy, price = token.from_engine(delta.side, delta.price)
            bid, ask = self.best(token)
            changes.append(
                {
                    "asset_id": token.token_id,
                    "price": self.price_text(price),
                    "size": self.size_text(delta.size),
                    "side": "BUY" if buy else "SELL",
                    "hash": derived_hex(delta.price * 1_000_003 + delta.size, ms)[2:42],
                    "best_bid": bid,
                    "best_ask": ask,
                }
            )

        def make(assets: set[str]) -> dict[str, Any]:
            return {
                "event_type": "price_change",
                "market": self.condition_id,
                "timestamp": ms,
                "price_changes": [c for c in changes if c["asset_id"] in assets],
            }

        self._market_push(set(self.tokens), make)

    def _public_trade(self, trade: Trade) -> None:
        ms = str(int(self.epoch() * 1000))
        self._book_dirty = True
        for token in (self.yes, self.no):
            buy, price = token.from_engine(trade.side, trade.price)
            self.last_price[token.token_id] = self.price_text(price)
            if not self._listened():
                continue
            row = {
                "event_type": "last_trade_price",
                "asset_id": token.token_id,
                "market": self.condition_id,
                "price": self.price_text(price),
                "side": "BUY" if buy else "SELL",
                "size": self.size_text(trade.size),
                "fee_rate_bps": "0",
                "timestamp": ms,
                "transaction_hash": derived_hex(trade.tid or 0, "tx"),
            }
            self._market_push({token.token_id}, lambda _a, row=row: row)

    def _flush_book(self) -> None:
        """After trades, every market subscriber gets the full book of what it follows."""
        if not self._book_dirty:
            return
        self._book_dirty = False
        if not self._listened():
            return
        for token in (self.yes, self.no):
            row = {"event_type": "book", **self.book_row(token)}
            self._market_push({token.token_id}, lambda _a, row=row: row)

    def _order_event(self, order: PmOrder, kind: str) -> None:
        ts = str(int(self.epoch()))
        row = self.order_row(order)
        row.update(
            {
                "event_type": "order",
                "type": kind,
                "order_owner": order.owner,
                "associate_trades": list(order.trades) or None,
                "created_at": str(order.created_at),
                "timestamp": ts,
            }
        )
        self._user_push(row, order.placed_by)

    def _trade_event(self, trade: PmTrade) -> None:
        row = self.trade_row(trade)
        row.update(
            {
                "event_type": "trade",
                "type": "TRADE",
                "trade_owner": trade.order.owner,
                "timestamp": str(int(self.epoch())),
            }
        )
        self._user_push(row, trade.order.placed_by)

    # ---- credentials ---------------------------------------------------------------------

    def creds_of(self, address: str, nonce: int) -> Creds:
        return derive_creds(self._seed, address, nonce)

    def grid_of_tick(self, tick: Decimal | str) -> int:
        return grid_of(tick, self.instrument.tick_size)
