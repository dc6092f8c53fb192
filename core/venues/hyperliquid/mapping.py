"""Hyperliquid answers and stream messages to core events, item by item; commands to wire.

This is the one place where the venue's decimal strings become ticks and lots (through the
instrument built from ``meta``) and back (D20), and where sides become ``"B"``/``"A"`` and back
(statuses: ``statuses``).  Every request the connector sends (signed actions, ``/info``
requests, subscriptions) is built by ``Translator``; the loopback twin writes its answers with the
same ``Translator`` and wire models.

A batch answer is mapped per item (D7): each order gets its own ``PlaceAck`` /
``PlaceRejected`` / ``PlaceUnknown``; a placement that traded part of its size at once is
``PARTIALLY_FILLED`` with that amount, not ``FILLED`` (D3); an unexpected item is an unknown
outcome to be resolved by a status query (D8), never a guess.  Error texts are classified
(``errors``, D11) and kept raw for the operator.

A message of many rows (fills, order updates, trades, open orders) is read row by row (D34):
each good row becomes its event, a row that cannot be read is counted and kept aside
(``Rows``), and the message is reported once (``Rows.report``), never dropped whole for one bad
row.  A range check that fails (``_held``) makes its row a bad row like a schema mismatch.

Every function is pure: no I/O, no clock, no state.  A message that cannot be read at all raises
``MappingError``; the venue reports it and changes nothing.

Why one module of about 630 lines: ``Translator`` is the codec, both directions in one place
(issue 15), so a field's conversion is written once; each direction is a section of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from core.commands import Cancel, Modify, Place, TimeInForce
from core.events import (
    AckStatus,
    BookSnapshot,
    CancelAck,
    CancelRejected,
    CancelUnknown,
    Event,
    Fill,
    Funding,
    Liquidity,
    ModifyAck,
    ModifyRejected,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    PositionSnapshot,
    RejectionClass,
    Side,
    Trade,
    VenueOrder,
    VenueStatus,
)
from core.units import Instrument, Rounding, UnitError, wire
from core.venues.hyperliquid.errors import classify, is_modify_race, is_order_gone
from core.venues.hyperliquid.statuses import venue_status
from core.venues.hyperliquid.wire import (
    BatchModifyAction,
    CancelAction,
    CancelByCloidAction,
    CancelByCloidWire,
    CancelWire,
    ClearinghouseState,
    CoinSubscription,
    ErrorStatus,
    FastBookSubscription,
    FilledStatus,
    ItemStatus,
    L2Book,
    Limit,
    LimitOrderType,
    MetaRequest,
    ModifyWire,
    NonUserCancel,
    OpenOrder,
    OrderAction,
    OrderRef,
    OrderStatusAnswer,
    OrderStatusEntry,
    OrderStatusRequest,
    OrderWire,
    RestingStatus,
    UpdateLeverageAction,
    UserFill,
    UserFillsByTimeRequest,
    UserFunding,
    UserInfoRequest,
    UserSubscription,
    WireSide,
    WsTrade,
)
from core.venues.rows import MAX_UNITS, MappingError, Rows, parse_or_raise, read_rows

_WIRE_SIDES: dict[Side, WireSide] = {Side.BID: "B", Side.ASK: "A"}


def side_to_wire(side: Side) -> WireSide:
    """Our side as the venue writes it: ``"B"`` (bid, buy) or ``"A"`` (ask, sell)."""
    return _WIRE_SIDES[side]


def side_from_wire(side: WireSide) -> Side:
    return Side.BID if side == "B" else Side.ASK


def is_buy(side: Side) -> bool:
    """The ``b`` of an order on the wire."""
    return side is Side.BID


def side_from_is_buy(buy: bool) -> Side:
    return Side.BID if buy else Side.ASK


class Translator:
    """Conversions for one market: the instrument's grids and the coin's asset id."""

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.coin = instrument.symbol
        self.asset = instrument.asset_id

    # ---- units ------------------------------------------------------------------------

    def price(self, text: str) -> int:
        """A price from the venue (on the grid: book levels, limit prices, trade prices)."""
        try:
            ticks = self.instrument.price_to_ticks(text, Rounding.DOWN)
        except UnitError as exc:
            raise MappingError(f"bad price {text!r}: {exc}") from None
        return _held(ticks, f"price {text!r}")

    def size(self, text: str, *, positive: bool = False) -> int:
        """A size from the venue; ``positive`` where nothing is no size at all (a fill, a
        trade, a book level)."""
        try:
            lots = self.instrument.size_to_lots(text, Rounding.DOWN)
        except UnitError as exc:
            raise MappingError(f"bad size {text!r}: {exc}") from None
        if positive and lots <= 0:
            raise MappingError(f"bad size {text!r}: less than one lot")
        return _held(lots, f"size {text!r}")

    def value(self, price: str, size: str) -> int:
        """price x size in ticks x lots (an average price need not be on the grid)."""
        try:
            total = abs(Decimal(price) * Decimal(size)) / self.instrument.value_unit
            value = int(total.to_integral_value())
        except (ArithmeticError, ValueError) as exc:  # NaN, infinities, decimal overflow
            raise MappingError(f"bad value {price!r} x {size!r}: {exc!r}") from None
        return _held(value, f"value {price!r} x {size!r}")

    # ---- commands -> wire -------------------------------------------------------------

    def order_wire(
        self,
        side: Side,
        price: int,
        size: int,
        tif: TimeInForce,
        reduce_only: bool,
        cloid: str | None,
    ) -> OrderWire:
        inst = self.instrument
        return OrderWire(
            a=self.asset,
            b=is_buy(side),
            p=wire(inst.ticks_to_price(price)),
            s=wire(inst.lots_to_size(size)),
            r=reduce_only,
            t=LimitOrderType(limit=Limit(tif=tif.value)),
            c=cloid,
        )

    def place(self, cmd: Place) -> OrderWire:
        return self.order_wire(cmd.side, cmd.price, cmd.size, cmd.tif, cmd.reduce_only, cmd.cloid)

    def modify(self, cmd: Modify) -> ModifyWire:
        """Cancel-and-replace of ``cmd.oid``; the replacement carries the new cloid (D5)."""
        order = self.order_wire(
            cmd.side, cmd.price, cmd.size, cmd.tif, cmd.reduce_only, cmd.new_cloid
        )
        return ModifyWire(oid=cmd.oid, order=order)

    def order_action(self, places: Sequence[Place]) -> OrderAction:
        return OrderAction(orders=[self.place(p) for p in places])

    def modify_action(self, modifies: Sequence[Modify]) -> BatchModifyAction:
        return BatchModifyAction(modifies=[self.modify(m) for m in modifies])

    def cancel_action(self, cancels: Sequence[Cancel]) -> CancelAction:
        """The cancels that name an oid, by oid (the others are left out)."""
        wires = [CancelWire(a=self.asset, o=c.oid) for c in cancels if c.oid is not None]
        return CancelAction(cancels=wires)

    def cancel_by_cloid_action(self, cancels: Sequence[Cancel]) -> CancelByCloidAction:
        """The cancels that name a cloid, by cloid (the others are left out)."""
        wires = [CancelByCloidWire(asset=self.asset, cloid=c.cloid) for c in cancels if c.cloid]
        return CancelByCloidAction(cancels=wires)

    def leverage_action(self, leverage: int) -> UpdateLeverageAction:
        """Cross margin at ``leverage`` for this market."""
        return UpdateLeverageAction(asset=self.asset, isCross=True, leverage=leverage)

    # ---- /info requests and subscriptions -----------------------------------------------

    @staticmethod
    def meta_request() -> MetaRequest:
        """The universe: read before there is a market to translate for (D20)."""
        return MetaRequest()

    @staticmethod
    def open_orders_request(user: str) -> UserInfoRequest:
        return UserInfoRequest(type="openOrders", user=user)

    @staticmethod
    def clearinghouse_request(user: str) -> UserInfoRequest:
        return UserInfoRequest(type="clearinghouseState", user=user)

    @staticmethod
    def rate_limit_request(user: str) -> UserInfoRequest:
        return UserInfoRequest(type="userRateLimit", user=user)

    @staticmethod
    def order_status_request(user: str, cloid: str | None, oid: int | None) -> OrderStatusRequest:
        """By cloid when we have one (it names the order before its oid is known), else by
        oid."""
        return OrderStatusRequest(user=user, oid=cloid if cloid is not None else oid)

    @staticmethod
    def fills_request(user: str, start_ms: int) -> UserFillsByTimeRequest:
        """The account's fills from ``start_ms`` (epoch milliseconds) on."""
        return UserFillsByTimeRequest(user=user, startTime=start_ms)

    def subscriptions(
        self, user: str
    ) -> list[CoinSubscription | FastBookSubscription | UserSubscription]:
        """Everything the connector streams: this market's book (fast: 5 levels every ~0.5 s)
        and trades, the account's order updates, fills and events."""
        return [
            FastBookSubscription(type="l2Book", coin=self.coin, fast=True),
            CoinSubscription(type="trades", coin=self.coin),
            UserSubscription(type="orderUpdates", user=user),
            UserSubscription(type="userFills", user=user),
            UserSubscription(type="userEvents", user=user),
            UserSubscription(type="userFundings", user=user),
        ]

    # ---- events -> wire: what the loopback twin answers ---------------------------------

    def price_text(self, ticks: int) -> str:
        return wire(self.instrument.ticks_to_price(ticks))

    def size_text(self, lots: int) -> str:
        return wire(self.instrument.lots_to_size(lots))

    def signed_size_text(self, lots: int) -> str:
        """A signed size (``szi``, ``startPosition``): "-" before a short's size."""
        return self.size_text(lots) if lots >= 0 else "-" + self.size_text(-lots)

    # ---- /exchange answers -> events ----------------------------------------------------

    def _immediate(
        self, status: FilledStatus, size: int, tif: TimeInForce
    ) -> tuple[AckStatus, int, int]:
        filled = self.size(status.filled.totalSz)
        if filled > size:
            # D3: never more than the order's size; such an answer is asked about instead.
            raise MappingError(f"filled {status.filled.totalSz} is more than the order's size")
        value = self.value(status.filled.avgPx, status.filled.totalSz)
        if filled >= size or tif is TimeInForce.IOC:
            return AckStatus.FILLED, filled, value  # an IOC's remainder is gone: all there is
        return AckStatus.PARTIALLY_FILLED, filled, value  # D3: the rest still rests

    def place_answers(
        self,
        places: Sequence[Place],
        statuses: Sequence[ItemStatus],
        batch_id: int | None,
        venue_time: float | None = None,
    ) -> list[Event]:
        """One event per placement, in order (D7).  A missing or unexpected item is an
        unknown outcome (D8)."""
        out: list[Event] = []
        for i, cmd in enumerate(places):
            item = statuses[i] if i < len(statuses) else None
            try:
                if isinstance(item, RestingStatus):
                    out.append(
                        PlaceAck(
                            cmd.cloid,
                            item.resting.oid,
                            AckStatus.RESTING,
                            0,
                            0,
                            batch_id,
                            venue_time,
                        )
                    )
                    continue
                if isinstance(item, FilledStatus):
                    status, filled, value = self._immediate(item, cmd.size, cmd.tif)
                    out.append(
                        PlaceAck(
                            cmd.cloid, item.filled.oid, status, filled, value, batch_id, venue_time
                        )
                    )
                    continue
            except MappingError as exc:
                out.append(PlaceUnknown(cmd.cloid, f"unreadable answer: {exc}", batch_id))
                continue
            if isinstance(item, ErrorStatus):
                out.append(
                    PlaceRejected(cmd.cloid, item.error, classify(item.error), batch_id, venue_time)
                )
            else:
                what = "no status" if item is None else f"unexpected status {item!r}"
                out.append(PlaceUnknown(cmd.cloid, f"{what} for this order", batch_id))
        return out

    def modify_answers(
        self, modifies: Sequence[Modify], statuses: Sequence[ItemStatus], batch_id: int | None
    ) -> list[Event]:
        out: list[Event] = []
        for i, cmd in enumerate(modifies):
            item = statuses[i] if i < len(statuses) else None
            try:
                if isinstance(item, RestingStatus):
                    out.append(
                        ModifyAck(
                            cmd.cloid,
                            cmd.new_cloid,
                            item.resting.oid,
                            AckStatus.RESTING,
                            0,
                            0,
                            batch_id,
                        )
                    )
                    continue
                if isinstance(item, FilledStatus):
                    status, filled, value = self._immediate(item, cmd.size, cmd.tif)
                    out.append(
                        ModifyAck(
                            cmd.cloid,
                            cmd.new_cloid,
                            item.filled.oid,
                            status,
                            filled,
                            value,
                            batch_id,
                        )
                    )
                    continue
            except MappingError as exc:
                out.extend(self.modify_unknown([cmd], f"unreadable answer: {exc}", batch_id))
                continue
            if isinstance(item, ErrorStatus):
                out.append(self.modify_rejected(cmd, item.error, batch_id))
            else:
                what = "no status" if item is None else f"unexpected status {item!r}"
                out.extend(self.modify_unknown([cmd], f"{what} for this modify", batch_id))
        return out

    def cancel_answers(
        self, cancels: Sequence[Cancel], statuses: Sequence[ItemStatus], batch_id: int | None
    ) -> list[Event]:
        out: list[Event] = []
        for i, cmd in enumerate(cancels):
            item = statuses[i] if i < len(statuses) else None
            if item == "success":
                out.append(CancelAck(cmd.cloid, cmd.oid, batch_id))
            elif isinstance(item, ErrorStatus):
                out.append(self.cancel_rejected(cmd, item.error, classify(item.error), batch_id))
            else:
                what = "no status" if item is None else f"unexpected status {item!r}"
                out.append(CancelUnknown(cmd.cloid, cmd.oid, f"{what} for this cancel", batch_id))
        return out

    # ---- whole-action outcomes --------------------------------------------------------

    @staticmethod
    def place_rejected(
        places: Iterable[Place], text: str, rclass: RejectionClass, batch_id: int | None
    ) -> list[Event]:
        """A top-level error (pre-validation, 429, signature...) applies to every order."""
        return [PlaceRejected(cmd.cloid, text, rclass, batch_id) for cmd in places]

    @staticmethod
    def place_unknown(places: Iterable[Place], reason: str, batch_id: int | None) -> list[Event]:
        return [PlaceUnknown(cmd.cloid, reason, batch_id) for cmd in places]

    @staticmethod
    def modify_rejected(cmd: Modify, text: str, batch_id: int | None) -> ModifyRejected:
        gone = is_order_gone(text)
        raced = is_modify_race(text)
        return ModifyRejected(
            cmd.cloid, cmd.new_cloid, text, classify(text), gone, batch_id, raced=raced
        )

    @staticmethod
    def modify_unknown(
        modifies: Iterable[Modify], reason: str, batch_id: int | None
    ) -> list[Event]:
        """Either leg may have happened: both are asked about (D8, D24)."""
        out: list[Event] = []
        for cmd in modifies:
            out.append(CancelUnknown(cmd.cloid, cmd.oid, reason, batch_id))
            out.append(PlaceUnknown(cmd.new_cloid, reason, batch_id))
        return out

    @staticmethod
    def cancel_rejected(
        cmd: Cancel, text: str, rclass: RejectionClass, batch_id: int | None
    ) -> CancelRejected:
        return CancelRejected(cmd.cloid, cmd.oid, text, is_order_gone(text), rclass, batch_id)

    @staticmethod
    def cancel_unknown(cancels: Iterable[Cancel], reason: str, batch_id: int | None) -> list[Event]:
        return [CancelUnknown(cmd.cloid, cmd.oid, reason, batch_id) for cmd in cancels]

    # ---- /info answers -> events ------------------------------------------------------

    def venue_order(self, row: OpenOrder) -> VenueOrder:
        size = self.size(row.sz)
        orig = self.size(row.origSz) if row.origSz is not None else size
        return VenueOrder(
            oid=row.oid,
            cloid=row.cloid,
            side=side_from_wire(row.side),
            price=self.price(row.limitPx),
            size=size,
            orig_size=orig,
            placed_time=row.timestamp / 1000,
        )

    def open_orders(self, data: object) -> Rows[VenueOrder]:
        """Our market's open orders, row by row (other coins of the account are not ours to
        judge, D34)."""
        return read_rows(data, self._open_order, "openOrders")

    def _open_order(self, raw: object) -> VenueOrder | None:
        row = parse_or_raise(OpenOrder, raw)
        return self.venue_order(row) if row.coin == self.coin else None

    def order_refs(self, data: object) -> Rows[OrderRef]:
        """The open orders a cancel-all sweeps (D25): a row is good when it names its coin and
        oid, whatever else is wrong with it -- an order we can name is one we can cancel."""
        return read_rows(data, self._order_ref, "openOrders")

    def _order_ref(self, raw: object) -> OrderRef | None:
        ref = parse_or_raise(OrderRef, raw)
        return ref if ref.coin == self.coin else None

    def position(self, state: ClearinghouseState) -> PositionSnapshot:
        venue_time = state.time / 1000 if state.time is not None else None
        for asset in state.assetPositions:
            pos = asset.position
            if pos.coin != self.coin:
                continue
            try:
                lots = self.instrument.signed_size_to_lots(pos.szi)
            except UnitError as exc:
                raise MappingError(f"bad position size {pos.szi!r}: {exc}") from None
            _held(abs(lots), f"position size {pos.szi!r}")
            entry = self.value(pos.entryPx, pos.szi) if pos.entryPx is not None else None
            return PositionSnapshot(lots, entry, venue_time)
        return PositionSnapshot(0, 0, venue_time)  # flat coins are absent

    def order_status(
        self, answer: OrderStatusAnswer, cloid: str | None, oid: int | None
    ) -> OrderStatusReport:
        entry = answer.order
        if answer.status != "order" or entry is None:
            status, _ = venue_status(answer.status)
            if status is VenueStatus.UNKNOWN:
                status = VenueStatus.NOT_FOUND if answer.status == "unknownOid" else status
            return OrderStatusReport(cloid, oid, status, answer.status)
        order = entry.order
        status, _ = venue_status(entry.status)
        remaining = self.size(order.sz)
        orig = self.size(order.origSz) if order.origSz is not None else remaining
        return OrderStatusReport(
            order.cloid if order.cloid is not None else cloid,
            order.oid,
            status,
            entry.status,
            remaining if status is VenueStatus.OPEN else 0,
            max(orig - remaining, 0),
        )

    # ---- stream -> events ---------------------------------------------------------------

    def book(self, book: L2Book) -> BookSnapshot:
        bids, asks = book.levels
        return BookSnapshot(
            bids=tuple((self.price(lv.px), self.size(lv.sz, positive=True)) for lv in bids),
            asks=tuple((self.price(lv.px), self.size(lv.sz, positive=True)) for lv in asks),
            venue_time=book.time / 1000,
        )

    def trades(self, data: object) -> Rows[Trade]:
        return read_rows(data, self._trade, "trades")

    def _trade(self, raw: object) -> Trade | None:
        t = parse_or_raise(WsTrade, raw)
        if t.coin != self.coin:
            return None
        side = side_from_wire(t.side)
        return Trade(side, self.price(t.px), self.size(t.sz, positive=True), t.time / 1000)

    def order_updates(self, data: object) -> Rows[OrderUpdate]:
        return read_rows(data, self._order_update, "orderUpdates")

    def _order_update(self, raw: object) -> OrderUpdate | None:
        row = parse_or_raise(OrderStatusEntry, raw)
        order = row.order
        if order.coin != self.coin:
            return None
        status, rclass = venue_status(row.status)
        return OrderUpdate(
            order.oid,
            order.cloid,
            status,
            row.status,
            rclass,
            row.statusTimestamp / 1000,
            self._traded(order),
        )

    def _traded(self, order: OpenOrder) -> int | None:
        """D33: how much of the order has traded, by the venue's count (original size minus what
        rests; a cancelled order keeps its unfilled size in ``sz``); None without ``origSz``."""
        if order.origSz is None:
            return None
        return max(self.size(order.origSz) - self.size(order.sz), 0)

    def non_user_cancels(self, data: object) -> Rows[OrderUpdate]:
        """``nonUserCancel`` rows of channel ``user``: our orders the venue cancelled."""
        return read_rows(data, self._non_user_cancel, "nonUserCancel")

    def _non_user_cancel(self, raw: object) -> OrderUpdate | None:
        cancel = parse_or_raise(NonUserCancel, raw)
        if cancel.coin != self.coin:
            return None
        return OrderUpdate(cancel.oid, None, VenueStatus.VENUE_CANCELED, "nonUserCancel")

    def fills(
        self, data: object, *, snapshot: bool, what: str, account: str = ""
    ) -> Rows[tuple[UserFill, Fill | None]]:
        """Fill rows as read, every coin's (the venue's history and resume point follow them
        all), each with its ``Fill`` when it is of our market; ``account`` (lower case) is
        ours, to tell our liquidation from one we were the counterparty of (D41)."""
        return read_rows(data, lambda raw: self._fill(raw, snapshot, account), what)

    def _fill(self, raw: object, snapshot: bool, account: str) -> tuple[UserFill, Fill | None]:
        row = parse_or_raise(UserFill, raw)
        if row.coin != self.coin:
            return row, None
        fill = Fill(
            tid=row.tid,
            oid=row.oid,
            cloid=row.cloid,
            side=side_from_wire(row.side),
            price=self.price(row.px),
            size=self.size(row.sz, positive=True),
            liquidity=Liquidity.TAKER if row.crossed else Liquidity.MAKER,
            venue_time=row.time / 1000,
            snapshot=snapshot,
            liquidation=our_liquidation(row, account),
            fee=micro(row.fee, "fee") + micro(row.builderFee or "0", "builderFee"),
            fee_token=row.feeToken,
            closed_pnl=micro(row.closedPnl, "closedPnl"),
            start_position=self._start_position(row.startPosition),
        )
        return row, fill

    def _start_position(self, text: str) -> int | None:
        """``startPosition`` in signed lots; None when it is not on our grid (it is a
        check's precondition, never worth a fill)."""
        try:
            return self.instrument.signed_size_to_lots(text)
        except UnitError:
            return None

    def fundings(self, data: object, *, snapshot: bool) -> Rows[Funding]:
        """``userFundings`` rows, each of our market a ``Funding`` (D36)."""
        return read_rows(data, lambda raw: self._funding(raw, snapshot), "userFundings")

    def _funding(self, raw: object, snapshot: bool) -> Funding | None:
        row = parse_or_raise(UserFunding, raw)
        if row.coin != self.coin:
            return None
        return Funding(micro(row.usdc, "usdc"), row.time / 1000, row.fundingRate, snapshot)


def our_liquidation(row: UserFill, account: str) -> str | None:
    """D41: what the venue says when this fill liquidates our account or auto-deleverages our
    position; None for any other fill -- including our side of someone else's liquidation,
    whose ``liquidation`` object names that user."""
    liquidation = row.liquidation
    if liquidation is not None:
        victim = (liquidation.liquidatedUser or "").lower()
        if not victim or victim == account:
            return (
                f"{row.dir or 'liquidation'} {row.sz} {row.coin} at {row.px} "
                f"(mark {liquidation.markPx}, {liquidation.method})"
            )
        return None
    if row.dir.startswith("Liquidated") or row.dir == "Auto-Deleveraging":
        return f"{row.dir} {row.sz} {row.coin} at {row.px}"
    return None


def micro(text: str, what: str) -> int:
    """A money figure of the venue (six decimals, USDC) in exact millionths (D36); a figure
    with more decimals is rounded half to even, as the venue's own arithmetic would be."""
    try:
        value = int((Decimal(text) * 1_000_000).to_integral_value(ROUND_HALF_EVEN))
    except (ArithmeticError, ValueError) as exc:
        raise MappingError(f"bad {what} {text!r}: {exc!r}") from None
    if abs(value) >= MAX_UNITS:
        raise MappingError(f"bad {what} {text!r}: beyond any venue's range")
    return value


def _held(units: int, what: str) -> int:
    if units >= MAX_UNITS:
        raise MappingError(f"bad {what}: beyond any venue's range")
    return units
