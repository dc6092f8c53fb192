"""Polymarket answers and stream frames to core events, item by item.

This is the one place where the venue's decimal strings become ticks and lots (D20): prices in
ticks of the instrument's unit (0.0001, the finest tick the venue uses: every price it can
write is a whole number of them, whatever the market's current grid, D39), sizes in lots of
0.01 share.  Sides: ``BUY`` is our bid, ``SELL`` our ask.

* Books: the venue lists the best price LAST (bids ascending, asks descending, reference 4);
  ``BookSnapshot`` wants it first, so levels are sorted here, whatever order they came in.
* Orders: ``OrderUpdate`` from the user channel's PLACEMENT / UPDATE / CANCELLATION with
  ``filled`` = ``size_matched`` (D33); an unknown status word is ``UNKNOWN`` and counted (D6).
* Trades: one trade may hold several fills of ours: the taker's (top-level fields, when the
  taker order is ours) and one per ``maker_orders`` entry that is ours.  A maker entry speaks
  for its own token: on our token it is read as it is; on the other outcome's token (a
  complementary match) a fill at ``p`` is our token at ``1 - p`` on the opposite side
  (reference 1 "Buying NO at p = selling YES at 1 - p").  Each fill's ``tid`` is
  ``ids.fill_tid(trade id, order id)``, so two of our orders in one trade are two fills.
  ``Settlements`` turns the statuses of a trade into ``Fill(final=False)`` (MATCHED, MINED,
  RETRYING) and later ``FillSettled`` (CONFIRMED / FAILED), once each, however the statuses
  arrive or repeat (D38), and re-sends a fill whose content changed so the maker's ledger can
  flag the disagreement (D35).
* Answers: ``PlaceAck`` / ``PlaceRejected`` per item of ``POST /orders`` (D7: a non-empty
  ``errorMsg`` or an empty ``orderID`` is a rejection); ``CancelAck`` / ``CancelRejected`` from
  ``canceled`` / ``not_canceled``; anything missing is an unknown outcome (D8).

A message of many rows is read row by row (D34, ``Rows`` shared with the Hyperliquid
connector): good rows become events, bad ones are counted and reported once.  Numbers out of
any venue's range (1e999, NaN, negatives, more than 64 bits) make their row bad, never a crash.

Why one module of about 850 lines: ``PmTranslator`` is the connector's codec -- every frame
and answer read in one place, so a field's conversion (price, size, side, status) is written
once -- and ``Settlements`` is the per-trade state its trade reading needs; each kind of frame
is a section of it.

No I/O, no clock.  ``PmTranslator`` keeps one counter (unknown status words, for the operator)
and ``Settlements`` the fills it has seen; nothing else here has state.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from core.commands import Cancel, Place, TimeInForce
from core.events import (
    AckStatus,
    BookDelta,
    BookSnapshot,
    CancelAck,
    CancelRejected,
    CancelUnknown,
    Event,
    Fill,
    FillSettled,
    Liquidity,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    PositionSnapshot,
    Side,
    TickSizeChanged,
    Trade,
    VenueNotice,
    VenueOrder,
    VenueStatus,
)
from core.units import POLYMARKET_UNIT, Instrument, UnitError, grid_of
from core.venues.polymarket import statuses as st
from core.venues.polymarket.errors import classify, classify_order, is_order_gone
from core.venues.polymarket.ids import IdError, fill_tid, oid_of
from core.venues.polymarket.market import PmMarket
from core.venues.polymarket.statuses import Finality
from core.venues.polymarket.wire import (
    BalanceAllowance,
    Book,
    CancelResult,
    LastTradePrice,
    Level,
    MakerOrder,
    Num,
    Order,
    PostResult,
    PriceChange,
    PriceChanges,
    Stamp,
    TickSizeChange,
    WireSide,
)
from core.venues.polymarket.wire import Trade as WireTrade
from core.venues.rows import MappingError, Rows, parse_or_raise, read_rows

_MAX_UNITS = 2**63
_ONE = 10_000  # ticks of the unit in one pUSD: the price of a share that surely pays
_UNITS_PER_LOT = 10_000  # base units (1e-6 share) in a lot (0.01 share)
_PROBLEM_CHARS = 160
# A time beyond this (year 2286 in seconds) is taken for milliseconds; beyond the millisecond
# equivalent it is no time at all.
_MAX_SECONDS = 10**10
_MAX_MILLIS = 10**13


def side_of(side: WireSide) -> Side:
    return Side.BID if side == "BUY" else Side.ASK


def wire_side(side: Side) -> WireSide:
    return "BUY" if side is Side.BID else "SELL"


def order_type_of(tif: TimeInForce) -> tuple[str, bool]:
    """``(orderType, postOnly)`` of a time in force: ALO is GTC post-only (D23), IOC is FAK
    (fill what you can, kill the rest)."""
    if tif is TimeInForce.ALO:
        return "GTC", True
    if tif is TimeInForce.IOC:
        return "FAK", False
    return "GTC", False


@dataclass(frozen=True, slots=True)
class Sighting:
    """One fill of ours in one status report of a trade: what ``Settlements`` decides on."""

    tid: int
    trade_id: str
    order_id: str
    word: str  # the trade status, bare
    finality: Finality
    fill: Fill  # final=False: Settlements sets it


class PmTranslator:
    """Conversions for one outcome token of one market."""

    def __init__(self, market: PmMarket, instrument: Instrument) -> None:
        self.market = market
        self.instrument = instrument
        self.token = market.token_id
        self.other = market.other_token_id
        # Status and event words the reference does not have: counted, shown, never guessed.
        self.unknown_words: Counter[str] = Counter()
        # Book levels under one lot, dropped (finding 3).
        self.dust_levels = 0
        # Fills whose size was floored to lots, and the shares floored away (D20: exact
        # numbers; the position sync says the rest, D16), each fill counted once.
        self.truncated_fills = 0
        self.truncated_shares = Decimal(0)
        self.foreign_fills = 0  # fills of our API key's orders this venue did not place
        # Notices for the venue to pass on (foreign fills, unreadable immediate-fill amounts,
        # truncations), drained by ``take_notices``.
        self.notices: list[VenueNotice] = []
        self._told: OrderedDict[tuple[str, int], None] = OrderedDict()

    # ---- units ------------------------------------------------------------------------

    def price(self, text: str) -> int:
        """A price (0 < p < 1) in ticks of the unit; exact, or the row is bad."""
        d = _decimal(text, "price")
        ticks = d / POLYMARKET_UNIT
        if ticks != ticks.to_integral_value() or not 0 < ticks < _ONE:
            raise MappingError(f"bad price {text[:40]!r}: not a multiple of 0.0001 in (0, 1)")
        return int(ticks)

    def size(self, text: str, *, positive: bool = False) -> int:
        """A size in shares, in lots rounded toward zero (a fill of 10.004 shares is 10.00:
        the position sync settles the rest, D16); ``positive`` where nothing is no size."""
        d = _decimal(text, "size")
        if d < 0:
            raise MappingError(f"bad size {text[:40]!r}: negative")
        lots = int(d / self.instrument.lot_size)
        if lots >= _MAX_UNITS:
            raise MappingError(f"bad size {text[:40]!r}: beyond any venue's range")
        if positive and lots <= 0:
            raise MappingError(f"bad size {text[:40]!r}: less than one lot")
        return lots

    def micro(self, text: str, what: str) -> int:
        """A pUSD amount in millionths (ticks x lots), exact to six decimals."""
        d = _decimal(text, what)
        value = int((d * 1_000_000).to_integral_value(ROUND_HALF_EVEN))
        if not 0 <= value < _MAX_UNITS:
            raise MappingError(f"bad {what} {text[:40]!r}: out of range")
        return value

    @staticmethod
    def seconds(value: Stamp | None) -> float | None:
        """A venue time (seconds or milliseconds, string or integer) in seconds."""
        if value is None or value == "":
            return None
        try:
            number = int(value)
        except ValueError:
            raise MappingError(f"bad time {str(value)[:40]!r}") from None
        if not 0 <= number < _MAX_MILLIS:
            raise MappingError(f"bad time {str(value)[:40]!r}: out of range")
        return number / 1000 if number >= _MAX_SECONDS else float(number)

    def _ours(self, asset_id: str) -> bool:
        return asset_id == self.token

    def take_notices(self) -> list[VenueNotice]:
        out, self.notices = self.notices, []
        return out

    def _tell_once(self, kind: str, key: int, notice: VenueNotice) -> bool:
        """Queue ``notice`` unless one of ``kind`` was queued for ``key`` already (a trade is
        told again at each status).  True when queued."""
        if (kind, key) in self._told:
            return False
        self._told[(kind, key)] = None
        while len(self._told) > 10_000:
            self._told.popitem(last=False)
        self.notices.append(notice)
        return True

    # ---- market data --------------------------------------------------------------------

    def book(self, book: Book) -> BookSnapshot | None:
        """Our token's book, best level first; None for the other token's."""
        if not self._ours(book.asset_id):
            return None
        bids = sorted(self._levels(book.bids), reverse=True)
        asks = sorted(self._levels(book.asks))
        return BookSnapshot(tuple(bids), tuple(asks), self.seconds(book.timestamp))

    def _levels(self, levels: Sequence[Level]) -> list[tuple[int, int]]:
        """A side's levels in (ticks, lots).  A level under one lot (dust: a remainder of a
        marketable order's 4-6 decimal share amount) floors to 0 and is dropped, counted in
        ``dust_levels``; it never makes the rest of the book unreadable."""
        out: list[tuple[int, int]] = []
        for level in levels:
            price, lots = self.price(level.price), self.size(level.size)
            if lots <= 0:
                self.dust_levels += 1
                continue
            out.append((price, lots))
        return out

    def price_changes(self, message: PriceChanges) -> Rows[BookDelta]:
        venue_time = self.seconds(message.timestamp)
        return read_rows(
            message.price_changes, lambda raw: self._delta(raw, venue_time), "price_change"
        )

    def _delta(self, raw: object, venue_time: float | None) -> BookDelta | None:
        row = parse_or_raise(PriceChange, raw)
        if not self._ours(row.asset_id):
            return None
        return BookDelta(side_of(row.side), self.price(row.price), self.size(row.size), venue_time)

    def tick_change(self, message: TickSizeChange) -> TickSizeChanged | None:
        """D39: the new grid in ticks of the unit, with the venue's text."""
        if not self._ours(message.asset_id):
            return None
        return self.tick(str(message.new_tick_size), self.seconds(message.timestamp))

    @staticmethod
    def tick(text: str, venue_time: float | None = None) -> TickSizeChanged:
        """A tick as the venue writes it ("0.01") as the grid it makes (D39)."""
        tick = _decimal(text, "tick size")
        try:
            grid = grid_of(tick, POLYMARKET_UNIT)
        except UnitError as exc:
            raise MappingError(f"bad tick size {text[:40]!r}: {exc}") from None
        if not 0 < grid < _ONE or _ONE % grid:
            raise MappingError(f"bad tick size {tick}: not a grid of the unit")
        return TickSizeChanged(grid, text, venue_time)

    def last_trade(self, message: LastTradePrice) -> Trade | None:
        if not self._ours(message.asset_id):
            return None
        lots = self.size(message.size)
        if lots <= 0:  # a trade of dust: nothing a lot can say
            return None
        return Trade(
            side_of(message.side),
            self.price(message.price),
            lots,
            self.seconds(message.timestamp),
        )

    # ---- orders -------------------------------------------------------------------------

    def order_update(
        self, row: Order, cloid_of: Callable[[int], str | None]
    ) -> tuple[str, OrderUpdate] | None:
        """A user-channel order event as ``(order id, OrderUpdate)``; None for the other token.
        A CANCELLATION is a cancel whatever its status says."""
        if not self._ours(row.asset_id):
            return None
        oid = _oid(row.id)
        kind = (row.type or "").upper()
        if kind and kind not in (st.PLACEMENT, st.UPDATE, st.CANCELLATION):
            self.unknown_words[f"order event {kind[:40]}"] += 1
        if kind == st.CANCELLATION:
            status, rclass, raw = VenueStatus.CANCELED, None, st.CANCELED
        else:
            raw = st.order_word(row.status or (st.LIVE if kind == st.PLACEMENT else ""))
            status, rclass = st.venue_status(raw)
            if status is VenueStatus.UNKNOWN:
                self.unknown_words[f"order status {raw[:40]}"] += 1
        original, matched = self._order_sizes(row)
        if matched > original:
            raise MappingError(f"order {row.id[:20]}…: matched more than its size")
        venue_time = self.seconds(row.timestamp) or self.seconds(row.created_at)
        update = OrderUpdate(oid, cloid_of(oid), status, raw, rclass, venue_time, matched)
        return row.id.lower(), update

    def _order_sizes(self, row: Order) -> tuple[int, int]:
        """``(original, matched)`` in lots.  The OpenAPI spec writes 6-decimal fixed integers
        ("100000000"), the docs and the WebSocket shares ("10") (reference 4, conflict): whole
        numbers of a million or more are read as fixed -- no order of ours is a million shares."""
        original, matched = row.original_size, row.size_matched
        if _fixed(original) and (matched or "0").isdigit():
            return self._fixed_lots(original), self._fixed_lots(matched or "0")
        return self.size(original, positive=True), self.size(matched or "0")

    def _fixed_lots(self, text: str) -> int:
        lots = int(text) // _UNITS_PER_LOT
        if lots >= _MAX_UNITS:
            raise MappingError(f"bad size {text[:40]!r}: beyond any venue's range")
        return lots

    def venue_order(self, row: Order, cloid_of: Callable[[int], str | None]) -> VenueOrder | None:
        """An open order of our token (other tokens' are not ours to quote)."""
        if not self._ours(row.asset_id):
            return None
        oid = _oid(row.id)
        original, matched = self._order_sizes(row)
        if matched > original:
            raise MappingError(f"order {row.id[:20]}…: matched more than its size")
        return VenueOrder(
            oid=oid,
            cloid=cloid_of(oid),
            side=side_of(row.side),
            price=self.price(row.price),
            size=original - matched,
            orig_size=original,
            placed_time=self.seconds(row.created_at),
        )

    def open_orders(
        self, data: object, cloid_of: Callable[[int], str | None]
    ) -> Rows[tuple[str, VenueOrder]]:
        """Rows of ``GET /data/orders`` as ``(order id, VenueOrder)``, row by row (D34)."""

        def read(raw: object) -> tuple[str, VenueOrder] | None:
            row = parse_or_raise(Order, raw)
            order = self.venue_order(row, cloid_of)
            return None if order is None else (row.id.lower(), order)

        return read_rows(data, read, "open orders")

    def order_status(
        self, row: Order, cloid: str | None, cloid_of: Callable[[int], str | None]
    ) -> OrderStatusReport:
        """``GET /data/order/{id}``: definitive (D24)."""
        oid = _oid(row.id)
        raw = st.order_word(row.status or "")
        status, _ = st.venue_status(raw)
        if status is VenueStatus.UNKNOWN:
            self.unknown_words[f"order status {raw[:40]}"] += 1
        original, matched = self._order_sizes(row)
        if matched > original:
            raise MappingError(f"order {row.id[:20]}…: matched more than its size")
        remaining = original - matched if status is VenueStatus.OPEN else 0
        return OrderStatusReport(
            cloid if cloid is not None else cloid_of(oid), oid, status, raw, remaining, matched
        )

    # ---- trades -------------------------------------------------------------------------

    def trades(
        self,
        data: object,
        ours: Callable[[str, str | None], bool],
        *,
        snapshot: bool,
        cloid_of: Callable[[int], str | None],
        what: str,
    ) -> Rows[Sighting]:
        """Our fills in trade rows (``GET /data/trades`` rows, or one user-channel event).
        ``ours(order_id, owner)`` says whether an order is ours.  A trade row that cannot be
        read is bad; so is a maker entry that cannot be read unless it names another's order
        (D34).  Unknown trade statuses make their rows bad (counted, never guessed, D6)."""
        if not isinstance(data, list):
            raise MappingError(f"{what}: expected a list, got {type(data).__name__}")
        items: list[Sighting] = []
        unread: list[Any] = []
        problem = ""
        good = 0
        for index, raw in enumerate(data):
            try:
                sightings, bad = self._trade(raw, ours, snapshot, cloid_of)
            except MappingError as exc:
                problem = problem or f"row {index}: {exc}"[:_PROBLEM_CHARS]
                unread.append(raw)
                continue
            items.extend(sightings)
            if bad:
                problem = problem or f"row {index}: {bad[0][1]}"[:_PROBLEM_CHARS]
                unread.extend(entry for entry, _ in bad)
            good += 1
        return Rows(items, good, unread, problem)

    def _trade(
        self,
        raw: object,
        ours: Callable[[str, str | None], bool],
        snapshot: bool,
        cloid_of: Callable[[int], str | None],
    ) -> tuple[list[Sighting], list[tuple[Any, str]]]:
        trade = parse_or_raise(WireTrade, raw)
        word = st.trade_word(trade.status)
        final = st.finality(word)
        if final is Finality.UNKNOWN:
            self.unknown_words[f"trade status {word[:40]}"] += 1
            raise MappingError(f"trade {trade.id[:40]}: unknown status {word[:40]!r}")
        venue_time = self.seconds(trade.match_time) or self.seconds(trade.last_update)
        out: list[Sighting] = []
        bad: list[tuple[Any, str]] = []
        taker = trade.taker_order_id
        we_took = taker is not None and (
            ours(taker, None)
            or ((trade.trader_side or "").upper() == "TAKER" and ours(taker, trade.owner))
        )
        if (
            we_took
            and taker is not None
            and not ours(taker, None)
            and not self._ours(trade.asset_id)
        ):
            self._foreign(trade.id, taker, trade.asset_id, word)
            we_took = False
        fill = None
        if we_took and taker is not None:
            fill = self._fill(
                trade.id,
                taker,
                trade.asset_id,
                trade.side,
                trade.price,
                trade.size,
                Liquidity.TAKER,
                venue_time,
                snapshot,
                cloid_of,
                trade.fee_rate_bps,
            )
        if fill is not None and taker is not None:
            out.append(Sighting(fill.tid, trade.id, taker.lower(), word, final, fill))
        for entry in trade.maker_orders or ():
            try:
                maker = parse_or_raise(MakerOrder, entry)
            except MappingError as exc:
                named = entry.get("order_id") if isinstance(entry, dict) else None
                if isinstance(named, str) and not ours(named, None):
                    continue  # another maker's part of the trade: not ours to read
                bad.append((entry, str(exc)))
                continue
            if not ours(maker.order_id, None):
                if not ours(maker.order_id, maker.owner):
                    continue  # another's order
                if not self._ours(maker.asset_id):
                    # Our API key, but an order this venue did not place on our token (a
                    # manual order, another bot on the key, a previous run on the other
                    # outcome): outcome tokens are separate balances, so it is not a fill of
                    # our token at 1 - p.  Told, never counted; the maker reconciles.
                    self._foreign(trade.id, maker.order_id, maker.asset_id, word)
                    continue
            try:
                fill = self._fill(
                    trade.id,
                    maker.order_id,
                    maker.asset_id,
                    maker.side,
                    maker.price,
                    maker.matched_amount,
                    Liquidity.MAKER,
                    venue_time,
                    snapshot,
                    cloid_of,
                    None,
                )
            except MappingError as exc:
                bad.append((entry, str(exc)))
                continue
            if fill is not None:
                out.append(Sighting(fill.tid, trade.id, maker.order_id.lower(), word, final, fill))
        return out, bad

    def _foreign(self, trade_id: str, order_id: str, asset_id: str, word: str) -> None:
        try:
            key = fill_tid(trade_id, order_id)
        except IdError:
            return
        told = self._tell_once(
            "foreign",
            key,
            VenueNotice(
                "foreign fill",
                f"trade {trade_id[:40]} ({word[:20]}): order {order_id[:18]}… of our API key on "
                f"token {asset_id[:12]}…, not placed here on ours: not counted; reconcile",
            ),
        )
        if told:
            self.foreign_fills += 1

    def _fill(
        self,
        trade_id: str,
        order_id: str,
        asset_id: str,
        side: WireSide,
        price: str,
        size: str,
        liquidity: Liquidity,
        venue_time: float | None,
        snapshot: bool,
        cloid_of: Callable[[int], str | None],
        fee_rate_bps: str | None,
    ) -> Fill | None:
        """One fill of ours; None for a fill under one lot (dust: counted and told)."""
        try:
            tid = fill_tid(trade_id, order_id)
        except IdError as exc:
            raise MappingError(str(exc)) from None
        oid = _oid(order_id)
        ticks = self.price(price)
        our_side = side_of(side)
        if asset_id == self.other:
            # A complementary match: the other outcome at p is ours at 1 - p, the other way.
            ticks, our_side = _ONE - ticks, our_side.opposite
        elif asset_id != self.token:
            raise MappingError(f"fill on token {asset_id[:20]}…, not of this market")
        lots = self.size(size)
        shares = _decimal(size, "size")
        rest = shares - lots * self.instrument.lot_size
        if rest > 0 and self._tell_once(
            "truncated",
            tid,
            VenueNotice(
                "fill truncated",
                f"trade {trade_id[:40]}: {size[:40]} shares counted as {lots} lots; "
                f"{rest} share(s) below one lot not counted (the position sync says the rest)",
            ),
        ):
            self.truncated_fills += 1
            self.truncated_shares += rest
        if lots <= 0:
            return None
        fee = self._taker_fee(fee_rate_bps, ticks, lots) if liquidity is Liquidity.TAKER else 0
        return Fill(
            tid=tid,
            oid=oid,
            cloid=cloid_of(oid),
            side=our_side,
            price=ticks,
            size=lots,
            liquidity=liquidity,
            venue_time=venue_time,
            snapshot=snapshot,
            fee=fee,
            fee_token="pUSD" if fee else "",
            final=False,
        )

    def _taker_fee(self, bps: str | None, ticks: int, lots: int) -> int:
        """D36: ``shares x rate x p x (1 - p)``, rounded to 5 decimals, at least 0.00001 when
        charged (reference 1 "Fees"), in millionths of pUSD.  Makers pay nothing."""
        if not bps:
            return 0
        rate = _decimal(bps, "fee_rate_bps")
        if not 0 <= rate <= 10_000:
            raise MappingError(f"bad fee_rate_bps {bps[:40]!r}")
        p = Decimal(ticks) / _ONE
        fee = (Decimal(lots) / 100 * rate / 10_000 * p * (1 - p)).quantize(
            Decimal("0.00001"), ROUND_HALF_EVEN
        )
        if rate > 0 and fee < Decimal("0.00001"):
            fee = Decimal("0.00001")
        return int(fee * 1_000_000)

    # ---- answers to commands ------------------------------------------------------------

    def place_answers(
        self,
        places: Sequence[Place],
        order_ids: Sequence[str],
        answer: object,
        batch_id: int | None,
    ) -> list[tuple[Event, str | None]]:
        """One event per placement, in order (D7), each with the order id the venue gave
        (None unless accepted).  A missing or unreadable item is unknown (D8)."""
        items = answer if isinstance(answer, list) else [answer]
        out: list[tuple[Event, str | None]] = []
        for i, cmd in enumerate(places):
            raw = items[i] if i < len(items) else None
            if raw is None:
                out.append((PlaceUnknown(cmd.cloid, "no answer for this order", batch_id), None))
                continue
            try:
                result = parse_or_raise(PostResult, raw)
                out.append(self._placed(cmd, order_ids[i], result, batch_id))
            except MappingError as exc:
                out.append((PlaceUnknown(cmd.cloid, f"unreadable answer: {exc}", batch_id), None))
        return out

    def _placed(
        self, cmd: Place, expected: str, result: PostResult, batch_id: int | None
    ) -> tuple[Event, str | None]:
        error = (result.errorMsg or "").strip()
        order_id = (result.orderID or "").strip().lower()
        if error or not order_id or result.success is False:
            text = error or "refused without a reason (empty orderID)"
            return PlaceRejected(cmd.cloid, text, classify_order(text, cmd.tif), batch_id), None
        oid = _oid(order_id)
        word = st.order_word(result.status or "")
        if word != st.MATCHED:
            if word and word not in (st.LIVE, st.UNMATCHED, st.DELAYED):
                self.unknown_words[f"placement status {word[:40]}"] += 1
            return PlaceAck(cmd.cloid, oid, AckStatus.RESTING, 0, 0, batch_id), order_id
        # Filled at once, in part or whole (D3): the shares and pUSD it says traded.
        shares, value = (
            (result.takingAmount, result.makingAmount)
            if cmd.side is Side.BID
            else (result.makingAmount, result.takingAmount)
        )
        filled, filled_value = self._immediate(cmd, shares or "0", value or "0", order_id)
        if filled >= cmd.size or cmd.tif is TimeInForce.IOC:
            status = AckStatus.FILLED
        elif filled > 0:
            status = AckStatus.PARTIALLY_FILLED
        else:
            status = AckStatus.RESTING
        ack = PlaceAck(cmd.cloid, oid, status, filled, filled_value if filled else 0, batch_id)
        return ack, order_id

    def _immediate(self, cmd: Place, shares: str, value: str, order_id: str) -> tuple[int, int]:
        """``(lots, millionths of pUSD)`` an immediate fill says it traded.  The reference
        leaves the amounts' units open: shares beyond the order's size, or shares and value
        whose ratio is not a price in (0, 1), are unreadable -- (0, 0) with a notice, and the
        stream's fills count instead (D4)."""
        try:
            share_d, value_d = _decimal(shares, "shares"), _decimal(value, "traded value")
            filled, filled_value = self.size(shares), self.micro(value, "traded value")
        except MappingError as exc:
            problem = str(exc)
        else:
            if share_d == 0 and value_d == 0:
                return 0, 0
            if share_d > cmd.size * self.instrument.lot_size:
                problem = f"{shares[:40]} shares, more than the order's {cmd.size} lots"
            elif share_d <= 0 or not 0 < value_d / share_d < 1:
                problem = f"{shares[:40]} shares for {value[:40]} pUSD: not a price in (0, 1)"
            else:
                return filled, filled_value
        self.notices.append(
            VenueNotice(
                "immediate fill unreadable",
                f"order {order_id[:18]}…: {problem}; its fills are counted from the stream",
            )
        )
        return 0, 0

    @staticmethod
    def cancel_answers(
        cancels: Sequence[Cancel], order_ids: Sequence[str], answer: object, batch_id: int | None
    ) -> list[Event]:
        """Each cancel from ``canceled`` / ``not_canceled`` (D24: "already gone" is
        ``gone``); one named in neither is unknown."""
        try:
            result = parse_or_raise(CancelResult, answer)
        except MappingError as exc:
            return [
                CancelUnknown(c.cloid, c.oid, f"unreadable answer: {exc}", batch_id)
                for c in cancels
            ]
        canceled = {i.lower() for i in result.canceled or ()}
        refused = {str(k).lower(): str(v) for k, v in (result.not_canceled or {}).items()}
        out: list[Event] = []
        for cmd, order_id in zip(cancels, order_ids, strict=True):
            key = order_id.lower()
            if key in canceled:
                out.append(CancelAck(cmd.cloid, cmd.oid, batch_id))
            elif key in refused:
                reason = refused[key][:300]
                gone = is_order_gone(reason)
                out.append(
                    CancelRejected(cmd.cloid, cmd.oid, reason, gone, classify(reason), batch_id)
                )
            else:
                out.append(CancelUnknown(cmd.cloid, cmd.oid, "not in the answer", batch_id))
        return out

    def position(self, answer: object, pending: int = 0) -> PositionSnapshot:
        """``GET /balance-allowance`` CONDITIONAL for our token: shares in base units (1e-6);
        outcome tokens are never short.  The balance is what settled on chain; the core's
        position is the matching engine's (D38: pending fills count until the venue undoes
        them), so ``pending`` -- our provisional fills, signed lots -- is added: the two
        compare like with like, and a fill settling between the two reads is a transient the
        reconciler confirms before it believes it (D16)."""
        balance = parse_or_raise(BalanceAllowance, answer).balance
        units = _whole(balance, "balance")
        lots = units // _UNITS_PER_LOT
        if lots >= _MAX_UNITS:
            raise MappingError("balance beyond any venue's range")
        return PositionSnapshot(lots + pending, None)


class Settlements:
    """D38: what to tell the maker about each fill as its trade's statuses come in.

    First sighting: PROVISIONAL -> ``Fill(final=False)``; CONFIRMED -> ``Fill(final=True)``;
    FAILED -> nothing to reverse (a notice).  Then PROVISIONAL -> CONFIRMED or FAILED ->
    ``FillSettled`` once.  The same (tid, status) again is nothing; a later provisional status
    after the last word is nothing; CONFIRMED after FAILED or the reverse is the venue
    contradicting itself (a notice, D35).  A sighting whose content differs from the first is
    sent again as a ``Fill`` so the maker's ledger flags it (D35).  Bounded by count."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        # tid -> (finality, the fill as last told, the latest status word)
        self._state: OrderedDict[int, tuple[Finality, Fill, str]] = OrderedDict()
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()

    def see(self, s: Sighting) -> list[Event]:
        key = (s.tid, s.word)
        known = self._state.get(s.tid)
        changed = known is not None and _content(known[1]) != _content(s.fill)
        if key in self._seen and not changed:
            return []
        self._remember(key)
        if known is None:
            if s.finality is Finality.FAILED:
                self._set(s.tid, Finality.FAILED, s.fill, s.word)
                return [
                    VenueNotice("trade failed", f"trade {s.trade_id} FAILED (never matched here)")
                ]
            final = s.finality is Finality.CONFIRMED
            self._set(s.tid, s.finality, s.fill, s.word)
            return [replace(s.fill, final=final)]
        state, _, word = known
        out: list[Event] = []
        if changed:
            if state is Finality.FAILED:
                # The maker never counted this fill (or has reversed it): a Fill now would be a
                # new pending fill that nothing ever settles.
                out.append(
                    VenueNotice(
                        "trade changed",
                        f"trade {s.trade_id}: told again with other content after FAILED: "
                        "not counted; reconcile",
                    )
                )
            else:
                out.append(replace(s.fill, final=state is Finality.CONFIRMED))
            self._set(s.tid, state, s.fill, word)  # flagged once: the new content stands
        if s.finality is Finality.PROVISIONAL or s.finality is state:
            if state is Finality.PROVISIONAL and _STEP[s.word] >= _STEP[word]:
                self._set(s.tid, state, s.fill, s.word)  # the latest word, never a step back
            return out
        if state is Finality.PROVISIONAL:
            self._set(s.tid, s.finality, s.fill, s.word)
            confirmed = s.finality is Finality.CONFIRMED
            out.append(FillSettled(s.tid, confirmed, s.word, s.fill.venue_time))
            return out
        out.append(
            VenueNotice(
                "trade status conflict",
                f"trade {s.trade_id}: {s.word} after {state.value.upper()}: reconcile",
            )
        )
        return out

    def pending_lots(self) -> int:
        """Signed lots of our fills whose trade has not moved the chain yet (bought minus
        sold): latest status MATCHED (or MATCHED_NOT_BROADCASTED) or RETRYING.  On chain the
        balance holds none of such a buy's shares and all of such a sell's.  A MINED trade
        has moved the chain: the balance holds it already, so it is not added (finding 1)."""
        net = 0
        for finality, fill, word in self._state.values():
            if finality is Finality.PROVISIONAL and word in _CHAIN_UNMOVED:
                net += fill.size if fill.side is Side.BID else -fill.size
        return net

    def _set(self, tid: int, finality: Finality, fill: Fill, word: str) -> None:
        self._state[tid] = (finality, fill, word)
        self._state.move_to_end(tid)
        while len(self._state) > self._capacity:
            self._state.popitem(last=False)

    def _remember(self, key: tuple[int, str]) -> None:
        self._seen[key] = None
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)


# Trade statuses after which the chain has not moved (yet, or again): the balance lacks them.
_CHAIN_UNMOVED = frozenset((st.TRADE_MATCHED, st.TRADE_MATCHED_NOT_BROADCASTED, st.TRADE_RETRYING))


# How far a provisional trade has got: MATCHED told late after MINED is not news.
_STEP = {
    st.TRADE_MATCHED: 0,
    st.TRADE_MATCHED_NOT_BROADCASTED: 0,
    st.TRADE_MINED: 1,
    st.TRADE_RETRYING: 1,
    st.TRADE_CONFIRMED: 2,
    st.TRADE_FAILED: 2,
}


def _content(fill: Fill) -> tuple[object, ...]:
    return (fill.oid, fill.side, fill.price, fill.size)


def _oid(order_id: str) -> int:
    try:
        return oid_of(order_id)
    except IdError as exc:
        raise MappingError(str(exc)) from None


def _decimal(text: object, what: str) -> Decimal:
    if not isinstance(text, str) or len(text) > 64:
        raise MappingError(f"bad {what}: {str(text)[:40]!r}")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise MappingError(f"bad {what} {text[:40]!r}: not a number") from None
    if not d.is_finite():
        raise MappingError(f"bad {what} {text[:40]!r}: not finite")
    if abs(d) >= Decimal(_MAX_UNITS):
        raise MappingError(f"bad {what} {text[:40]!r}: beyond any venue's range")
    return d


def _whole(value: Num, what: str) -> int:
    d = _decimal(str(value), what)
    if d < 0 or d != d.to_integral_value():
        raise MappingError(f"bad {what} {str(value)[:40]!r}: not a whole number of base units")
    return int(d)


def _fixed(text: str) -> bool:
    return text.isdigit() and len(text) >= 7
