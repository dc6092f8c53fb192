"""The matching engine: exchange rules, matching and settlement, for one or more markets.

Every command of an account goes through the checks a real perp venue makes, in Hyperliquid's
order (size, price grid, minimum value, reduce-only, position limit, margin, post-only, IOC),
then matches in price-time priority; synthetic traders (``owner None``) use the same book
without checks.  What a refusal or a status reads is the market's venue's (``Market.dialect``,
``core.venues.sim.dialect``): Hyperliquid's on a perp, Polymarket's on a binary market.
Results are core events appended to ``answers`` (what the request returns) and ``stream``
(what the user and market websocket say), which the caller drains and delivers with whatever
latency it likes.

The D4 trap is built in on purpose: a placement answer reports what traded at once as a total
without trade ids, and the stream reports the same trades again as ``Fill``s with their tids.

It never reads a clock (``now`` is passed in), never draws a random number, never delays or
drops anything: faults belong to the exchange driver around it.

Binary markets (Polymarket-style outcome tokens, ``Instrument.bounded``) keep the same order
of checks with their own rules in the middle: a minimum size in shares, and balances instead
of position limits and margin -- a buy needs the pUSD, a sell the shares already settled (what
open asks and unsettled sells do not hold already; outcome tokens cannot be sold short).  Their
fills are provisional (``Fill.final`` False, D38) until ``settle`` confirms them or, FAILED,
reverses exactly what they moved; takers pay ``C x rate x p x (1 - p)`` in pUSD, makers pay
nothing.

Why one module of about 840 lines: the checks, matching and settlement of an order are one
sequence whose order is the venue's (a refused order must be refused by the first check the
venue would fail, with that check's words); split, that order would be spread over files.
Liquidation (D41) lives here too: it is the venue's own order, settled through the same
matching and fills; and so does a binary market's settlement (D38), which books and unbooks
through the same accounts.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction

from core.commands import Cancel, Modify, Place, TimeInForce
from core.events import (
    AckStatus,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    Event,
    Fill,
    FillSettled,
    LeverageInfo,
    Liquidated,
    Liquidity,
    ModifyAck,
    ModifyRejected,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PositionSnapshot,
    Side,
    Trade,
    VenueStatus,
)
from core.units import Instrument, UnitError
from core.venues.sim.accounts import CONFIRMED, Account, AccountOrder, Exposure
from core.venues.sim.book import Book, BookOrder, Match
from core.venues.sim.dialect import Dialect, Refusal

MICRO_USD = Decimal("0.000001")
USD = "USDC"  # the collateral and fee token of every perp here


class Market:
    """One instrument: its book, its limits, its mark price (set by whoever knows fair) and
    the words of its venue (``dialect``)."""

    def __init__(
        self, instrument: Instrument, max_position: int, mark: int, dialect: Dialect
    ) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.book = Book()
        self.dialect = dialect
        self.max_position = max_position  # lots, per account
        self.leverage_cap = instrument.max_leverage
        self.mark = mark  # ticks
        micro = instrument.value_unit / MICRO_USD
        if micro != micro.to_integral_value() or micro < 1:
            raise UnitError(
                f"instrument {instrument.symbol}: one tick x one lot ({instrument.value_unit} "
                "USD) must be a whole number of micro-dollars for the simulated exchange"
            )
        self.micro = int(micro)  # micro-dollars per tick x lot
        # Fees as exact fractions of notional (D36); the exchange sets them from its config.
        self.maker_fee = Fraction(0)
        self.taker_fee = Fraction(0)
        # Smallest price x size (ticks x lots) that reaches the minimum order value.
        self.min_value = int(
            (instrument.min_notional / instrument.value_unit).to_integral_value(ROUND_CEILING)
        )
        # A binary (Polymarket-style) market: balances instead of margin, provisional fills,
        # fees of ``C x taker_fee_rate x p x (1 - p)`` (``binary_fee``).
        self.binary = instrument.bounded
        self.taker_fee_rate = Fraction(0)
        self.fee_token = instrument.quote if self.binary else USD

    def binary_fee(self, price: int, lots: int) -> int:
        """Polymarket's taker fee in millionths of pUSD: ``C x rate x p x (1 - p)`` (C shares,
        p the price) rounded half to even to 5 decimals, at least 0.00001 when not zero."""
        inst = self.instrument
        one = inst.max_ticks + inst.grid  # ticks per whole pUSD
        shares = Fraction(lots) * Fraction(inst.lot_size)
        p = Fraction(price, one)
        exact = shares * self.taker_fee_rate * p * (1 - p) * 1_000_000
        if exact <= 0:
            return 0
        return max(10, round(exact / 10) * 10)


class _Placed:
    """What became of an accepted order right away."""

    __slots__ = ("filled", "order", "status", "value")

    def __init__(self, order: AccountOrder, status: AckStatus, filled: int, value: int) -> None:
        self.order = order
        self.status = status
        self.filled = filled
        self.value = value


class MatchingEngine:
    """Markets, accounts, and the rules between them."""

    def __init__(self) -> None:
        self.markets: dict[str, Market] = {}
        self.accounts: dict[str, Account] = {}
        self.answers: list[Event] = []
        self.stream: list[Event] = []
        self._next_oid = 100_000
        self._next_tid = 1
        self._liquidating: str | None = None  # how the fills of a liquidation under way say so
        self.matched: list[int] = []  # D38: our provisional trades since the caller last looked

    def add_market(self, market: Market) -> None:
        self.markets[market.symbol] = market

    def open_account(self, name: str, collateral: int, leverage: int, replay_fills: int) -> Account:
        account = Account(name, collateral, leverage, replay_fills)
        self.accounts[name] = account
        return account

    # ---- placements -------------------------------------------------------------------

    def place(
        self, account: Account, market: Market, cmd: Place, now: float, batch_id: int | None
    ) -> None:
        refusal = self._check(account, market, cmd.cloid, cmd)
        if refusal is not None:
            self.reject(account, market, cmd, refusal, now, batch_id)
            return
        placed = self._accept(account, market, cmd.cloid, cmd, now)
        if placed is None:
            reason = market.dialect.ioc_unmatched(market.instrument).text
            rclass = market.dialect.classify(reason)
            self.answers.append(PlaceRejected(cmd.cloid, reason, rclass, batch_id, now))
            return
        self.answers.append(
            PlaceAck(
                cmd.cloid,
                placed.order.oid,
                placed.status,
                placed.filled,
                placed.value,
                batch_id,
                now,
            )
        )

    def reject(
        self,
        account: Account,
        market: Market,
        cmd: Place,
        refusal: Refusal,
        now: float,
        batch_id: int | None,
    ) -> None:
        """Answer a placement with an error; rejections the matching engine itself makes
        (``refusal.status`` given) also get an oid and a rejected update on the stream."""
        reason = refusal.text
        self.answers.append(
            PlaceRejected(cmd.cloid, reason, market.dialect.classify(reason), batch_id, now)
        )
        if refusal.status is not None:
            self._stream_rejection(account, market, cmd, refusal, now)

    def modify(
        self, account: Account, market: Market, cmd: Modify, now: float, batch_id: int | None
    ) -> None:
        """Cancel-and-replace: the replacement is a new order with a new oid (D5).  When the
        replacement fails, the cancel leg has already happened and the original is gone."""
        words = market.dialect
        ex = account.exposure(market.symbol)
        target = ex.open.get(cmd.oid)
        if target is None:
            self._modify_rejected(market, cmd, words.modify_gone(market.instrument), batch_id, True)
            return
        self._cancel_order(account, market, ex, target, now)
        refusal = self._check(account, market, cmd.new_cloid, cmd)
        if refusal is not None:
            if refusal.status is not None:
                self._stream_rejection(account, market, cmd, refusal, now)
            self._modify_rejected(market, cmd, words.modify_failed(refusal.text), batch_id, False)
            return
        placed = self._accept(account, market, cmd.new_cloid, cmd, now)
        if placed is None:
            inner = words.ioc_unmatched(market.instrument).text
            self._modify_rejected(market, cmd, words.modify_failed(inner), batch_id, False)
            return
        self.answers.append(
            ModifyAck(
                cmd.cloid,
                cmd.new_cloid,
                placed.order.oid,
                placed.status,
                placed.filled,
                placed.value,
                batch_id,
                now,
            )
        )

    def _modify_rejected(
        self, market: Market, cmd: Modify, reason: str, batch_id: int | None, raced: bool
    ) -> None:
        """Either way the original is gone: it was not there (``raced``: a fill or a cancel
        got there first, not a verdict on the replacement, D5), or the cancel leg took it."""
        rclass = market.dialect.classify(reason)
        self.answers.append(
            ModifyRejected(cmd.cloid, cmd.new_cloid, reason, rclass, True, batch_id, raced=raced)
        )

    def _check(
        self, account: Account, market: Market, cloid: str, cmd: Place | Modify
    ) -> Refusal | None:
        """The first rule an order (``cloid``: the new order of a modify) breaks, or None."""
        words = market.dialect
        inst = market.instrument
        side, price, size = cmd.side, cmd.price, cmd.size
        if size <= 0:
            return words.bad_size(inst, cloid, size)
        if not inst.is_valid_ticks(price):
            return words.bad_price(inst, cloid, price)
        if not market.binary and price * size < market.min_value:
            return words.below_min_value(inst)
        if market.binary and size < inst.min_lots:
            return words.bad_size(inst, cloid, size)
        ex = account.exposure(market.symbol)
        pos = ex.position
        if cmd.reduce_only:
            if pos * side.sign >= 0 or size > abs(pos):
                return words.reduce_only(inst)
        elif market.binary:
            if not self._balance_ok(account, market, side, price, size):
                return words.no_funds(inst)
        else:
            after = pos + side.sign * size
            if abs(after) > market.max_position and abs(after) > abs(pos):
                return words.above_max_position(inst)
            if not self._margin_ok(account, market, side, price * size):
                return words.no_funds(inst)
        book = market.book
        crosses = book.crosses(side, price)
        if cmd.tif is TimeInForce.ALO and crosses:
            return words.alo_crosses(inst, book.best_bid(), book.best_ask())
        if cmd.tif is TimeInForce.IOC and not crosses:
            return words.ioc_unmatched(inst)
        return None

    def _balance_ok(
        self, account: Account, market: Market, side: Side, price: int, size: int
    ) -> bool:
        """A binary market's balances (reference section 1: the venue reserves what open
        orders need, and what matched trades will take once they settle): a buy needs its
        pUSD beside what open bids reserve and what unsettled sells have not paid yet; a sell
        needs settled shares beside those that open asks and unsettled sells hold."""
        ex = account.exposure(market.symbol)
        pending_net = pending_sold = pending_proceeds = 0
        for fill in account.pending.values():
            if fill.side is Side.BID:
                pending_net += fill.size
            else:
                pending_net -= fill.size
                pending_sold += fill.size
                pending_proceeds += fill.size * fill.price
        if side is Side.BID:
            spendable = (
                account.cash(market.micro) - (pending_proceeds + ex.open_bid_value) * market.micro
            )
            return price * size * market.micro <= spendable
        asking = sum(o.size for o in ex.open.values() if o.side is Side.ASK)
        return size <= ex.position - pending_net - pending_sold - asking

    def _margin_ok(self, account: Account, market: Market, side: Side, value: int) -> bool:
        """Cross margin: the worst case of every market (all bids fill, or all asks fill) at
        each market's leverage must fit in the account's equity — unless the order does not
        raise the requirement (an under-margined account may still reduce)."""
        equity = self.equity(account)
        needed = self._margin_needed(account, market, side, value)
        return needed <= equity or needed <= self._margin_needed(account, market, side, 0)

    def _margin_needed(self, account: Account, market: Market, side: Side, value: int) -> int:
        needed = 0
        for symbol, ex in account.exposures.items():
            m = self.markets[symbol]
            held = ex.position * m.mark
            longest = held + ex.open_bid_value
            shortest = held - ex.open_ask_value
            if m is market:
                if side is Side.BID:
                    longest += value
                else:
                    shortest -= value
            worst = max(abs(longest), abs(shortest)) * m.micro
            needed += -(-worst // ex.leverage)
        return needed

    def liquidate_if_due(self, account: Account, market: Market, now: float) -> bool:
        """D41: an account whose equity has fallen below its maintenance margin (half the
        initial margin at the market's maximum leverage, Hyperliquid's rule) is liquidated:
        its resting orders cancelled ("liquidatedCanceled"), its position closed at market
        against the book, and what the book cannot take closed by the backstop at the mark.
        Its fills say so (``Fill.liquidation``), as the venue marks them."""
        ex = account.exposure(market.symbol)
        pos = ex.position
        if not pos:
            return False
        maintenance = -(-abs(pos) * market.mark * market.micro // (2 * market.leverage_cap))
        if self.equity(account) >= maintenance:
            return False
        words = market.dialect
        for order in list(ex.open.values()):
            market.book.remove(order)
            self._venue_cancel(account, market, order, words.liquidated_canceled, now)
        side = Side.ASK if pos > 0 else Side.BID
        lots = abs(pos)
        order = AccountOrder(
            account,
            market.symbol,
            self._oid(),
            None,
            side,
            market.mark,
            lots,
            True,
            now,
            words.open,
        )
        account.remember(order)
        self._liquidating = f"Liquidated Cross {'Long' if pos > 0 else 'Short'}"
        left, matches, _ = market.book.match(side, None, lots, account)
        self._settle(market, side, matches, now, order)
        if left:  # the backstop (the venue's liquidator) takes the rest at the mark
            tid = self._next_tid
            self._next_tid = tid + 1
            self.stream.append(Trade(side, market.mark, left, now, tid))
            self._fill(market, order, side, market.mark, left, Liquidity.TAKER, tid, now)
        self._liquidating = None
        account.close(order, words.filled, now)
        account.liquidations += 1
        # As userEvents says it beside the fills (no replay: a disconnect loses it).
        self.stream.append(Liquidated(f"{account.name} liquidated on {market.symbol}", now))
        return True

    def _liquidation_text(self, market: Market, lots: int, price: int) -> str | None:
        if self._liquidating is None:
            return None
        inst = market.instrument
        return (
            f"{self._liquidating} {inst.lots_to_size(lots)} {market.symbol} at "
            f"{inst.ticks_to_price(price)} (mark {inst.ticks_to_price(market.mark)}, market)"
        )

    def equity(self, account: Account) -> int:
        """Collateral plus realised and unrealised PnL at each market's mark, micro-dollars,
        rounded down.

        The margin check of every order and the liquidation check after every step of the
        flow read it, so it works on the numerators and denominators of the exact realised
        PnL and entry values with integers alone: the same floor as the ``Fraction`` sum,
        without a ``Fraction`` made (and reduced by a gcd) for each term."""
        realized = account.realized
        den = realized.denominator
        total = (account.collateral - account.fees + account.funding) * den + realized.numerator
        for symbol, ex in account.exposures.items():
            m = self.markets[symbol]
            entry = ex.entry_value
            position = ex.position
            entry_num = entry.numerator if position >= 0 else -entry.numerator
            entry_den = entry.denominator
            unrealised = (position * m.mark * entry_den - entry_num) * m.micro
            if entry_den == 1:
                total += unrealised * den
            else:
                total = total * entry_den + unrealised * den
                den *= entry_den
        return total // den

    def _accept(
        self, account: Account, market: Market, cloid: str, cmd: Place | Modify, now: float
    ) -> _Placed | None:
        """Match a checked order and rest what is left (ALO/GTC) or drop it (IOC).  None when
        an IOC found nothing to trade with (its only counterparties were our own orders)."""
        words = market.dialect
        ex = account.exposure(market.symbol)
        order = AccountOrder(
            account,
            market.symbol,
            self._oid(),
            cloid,
            cmd.side,
            cmd.price,
            cmd.size,
            cmd.reduce_only,
            now,
            words.open,
        )
        account.remember(order)
        filled = value = 0
        if market.book.crosses(cmd.side, cmd.price):
            filled, value = self._take(account, market, order, now)
        stream = self.stream
        if order.size == 0:
            account.close(order, words.filled, now)
            stream.append(
                OrderUpdate(order.oid, cloid, VenueStatus.FILLED, words.filled, None, now)
            )
            status = AckStatus.FILLED
        elif cmd.tif is TimeInForce.IOC:
            if filled == 0:
                refusal = words.ioc_unmatched(market.instrument)
                assert refusal.status is not None, "an unmatched IOC's end is on the stream"
                account.close(order, refusal.status, now)
                rclass = words.classify(refusal.text)
                stream.append(
                    OrderUpdate(order.oid, cloid, VenueStatus.REJECTED, refusal.status, rclass, now)
                )
                return None
            account.close(order, words.canceled, now)
            stream.append(
                OrderUpdate(order.oid, cloid, VenueStatus.CANCELED, words.canceled, None, now)
            )
            status = AckStatus.FILLED  # what traded is all there will ever be
        else:
            market.book.rest(order)
            ex.rest(order)
            stream.append(OrderUpdate(order.oid, cloid, VenueStatus.OPEN, words.open, None, now))
            status = AckStatus.PARTIALLY_FILLED if filled else AckStatus.RESTING
        return _Placed(order, status, filled, value)

    def _take(
        self, account: Account, market: Market, order: AccountOrder, now: float
    ) -> tuple[int, int]:
        """Our order as aggressor: trade it, settle both sides, return (lots, ticks x lots)."""
        left, matches, self_trades = market.book.match(order.side, order.price, order.size, account)
        for resting in self_trades:
            assert isinstance(resting, AccountOrder)
            self._venue_cancel(account, market, resting, market.dialect.self_trade_canceled, now)
        self._settle(market, order.side, matches, now, order)
        filled = order.size - left
        order.size = left
        order.history.append((now, left))
        return filled, sum(lots * price for _, lots, price in matches)

    def _stream_rejection(
        self, account: Account, market: Market, cmd: Place | Modify, refusal: Refusal, now: float
    ) -> None:
        """The refused order's end on the stream, with the class of the refusal's text (the
        status word need not carry it: Polymarket's INVALID does not)."""
        assert refusal.status is not None
        cloid = cmd.new_cloid if isinstance(cmd, Modify) else cmd.cloid
        order = AccountOrder(
            account,
            market.symbol,
            self._oid(),
            cloid,
            cmd.side,
            cmd.price,
            max(cmd.size, 0),
            cmd.reduce_only,
            now,
            market.dialect.open,
        )
        account.remember(order)
        account.close(order, refusal.status, now)
        rclass = market.dialect.classify(refusal.text)
        self.stream.append(
            OrderUpdate(order.oid, cloid, VenueStatus.REJECTED, refusal.status, rclass, now)
        )

    # ---- cancels --------------------------------------------------------------------

    def cancel(
        self, account: Account, market: Market, cmd: Cancel, now: float, batch_id: int | None
    ) -> None:
        ex = account.exposure(market.symbol)
        order = self._open_order(account, ex, cmd.oid, cmd.cloid)
        if order is None:  # gone: a fill may still be on its way (D24)
            reason = market.dialect.cancel_gone(market.instrument)
            rclass = market.dialect.classify(reason)
            self.answers.append(CancelRejected(cmd.cloid, cmd.oid, reason, True, rclass, batch_id))
            return
        self._cancel_order(account, market, ex, order, now)
        self.answers.append(CancelAck(order.cloid, order.oid, batch_id))

    def cancel_all(
        self,
        account: Account,
        market: Market,
        now: float,
        batch_id: int | None,
        rate_limited: Callable[[], bool] | None = None,
    ) -> None:
        """Every open order of the account in this market, whoever placed it (D25), one
        cancel each; ``rate_limited`` says which of those cancels a storm refuses with a 429
        (that order keeps resting and counts as failed, D29)."""
        ex = account.exposure(market.symbol)
        swept = failed = 0
        for order in list(ex.open.values()):
            if rate_limited is not None and rate_limited():
                reason = market.dialect.rate_limited(market.instrument)
                rclass = market.dialect.classify(reason)
                self.answers.append(
                    CancelRejected(order.cloid, order.oid, reason, False, rclass, batch_id)
                )
                failed += 1
                continue
            self._cancel_order(account, market, ex, order, now)
            self.answers.append(CancelAck(order.cloid, order.oid, batch_id))
            swept += 1
        self.answers.append(CancelAllDone(swept, failed, batch_id))

    def _open_order(
        self, account: Account, ex: Exposure, oid: int | None, cloid: str | None
    ) -> AccountOrder | None:
        if oid is not None:
            return ex.open.get(oid)
        order = account.find(None, cloid)
        if order is None or order.closed is not None or ex.open.get(order.oid) is not order:
            return None
        return order

    def _cancel_order(
        self, account: Account, market: Market, ex: Exposure, order: AccountOrder, now: float
    ) -> None:
        market.book.remove(order)
        ex.unrest(order)
        word = market.dialect.canceled
        account.close(order, word, now)
        self.stream.append(
            OrderUpdate(order.oid, order.cloid, VenueStatus.CANCELED, word, None, now)
        )

    def venue_close(
        self,
        account: Account,
        market: Market,
        order: AccountOrder,
        raw_status: str,
        now: float,
        *,
        non_user: bool = False,
    ) -> None:
        """The venue takes a resting order down on its own, with a venue-cancel or rejection
        status (D31): it leaves the book, the account closes it with ``raw_status`` (what a
        status query answers from now on), and the stream says so with the filled size
        (D33) — or, ``non_user``, the way Hyperliquid's ``userEvents`` does: ``nonUserCancel``
        naming the oid only."""
        market.book.remove(order)
        account.exposure(market.symbol).unrest(order)
        account.close(order, raw_status, now)
        if non_user:
            word = market.dialect.non_user_cancel
            assert word is not None, "this venue always names the order it cancels"
            update = OrderUpdate(order.oid, None, VenueStatus.VENUE_CANCELED, word, None, now)
        else:
            status, rclass = market.dialect.venue_status(raw_status)
            update = OrderUpdate(
                order.oid, order.cloid, status, raw_status, rclass, now, order.filled
            )
        self.stream.append(update)

    def _venue_cancel(
        self, account: Account, market: Market, order: AccountOrder, raw_status: str, now: float
    ) -> None:
        """The venue cancels on its own (self-trade prevention, reduce-only no longer valid,
        liquidation); the update reads as the venue's word does (Polymarket's CANCELED does
        not say who cancelled)."""
        ex = account.exposure(market.symbol)
        if order.oid in ex.open:
            ex.unrest(order)
        account.close(order, raw_status, now)
        status, _ = market.dialect.venue_status(raw_status)
        self.stream.append(OrderUpdate(order.oid, order.cloid, status, raw_status, None, now))

    def _enforce_reduce_only(
        self, account: Account, market: Market, ex: Exposure, now: float
    ) -> None:
        """A resting reduce-only order that would now increase the position is cancelled."""
        if not ex.reduce_only_open:
            return
        pos = ex.position
        stale = [
            o
            for o in ex.open.values()
            if o.reduce_only and (pos * o.side.sign >= 0 or o.size > abs(pos))
        ]
        for order in stale:
            market.book.remove(order)
            self._venue_cancel(account, market, order, market.dialect.reduce_only_canceled, now)

    # ---- settlement -------------------------------------------------------------------

    def _settle(
        self,
        market: Market,
        side: Side,
        matches: list[Match],
        now: float,
        taker: AccountOrder | None,
    ) -> None:
        """Publish each match as a trade, book fills into the accounts involved, then cancel
        the reduce-only orders the new positions made invalid."""
        stream = self.stream
        touched: dict[Account, Exposure] = {}
        if taker is not None:
            touched[taker.account] = taker.account.exposure(market.symbol)
        for maker, lots, price in matches:
            tid = self._next_tid
            self._next_tid = tid + 1
            stream.append(Trade(side, price, lots, now, tid))
            if taker is not None:
                self._fill(market, taker, side, price, lots, Liquidity.TAKER, tid, now)
            if isinstance(maker, AccountOrder):
                account = maker.account
                ex = touched[account] = account.exposure(market.symbol)
                ex.change_open_value(maker.side, -price * lots)
                maker.history.append((now, maker.size))
                self._fill(market, maker, maker.side, price, lots, Liquidity.MAKER, tid, now)
                if maker.size == 0:
                    self._maker_filled(market, ex, maker, now)
        for account, ex in touched.items():
            self._enforce_reduce_only(account, market, ex, now)

    def _maker_filled(self, market: Market, ex: Exposure, maker: AccountOrder, now: float) -> None:
        del ex.open[maker.oid]
        if maker.reduce_only:
            ex.reduce_only_open -= 1
        word = market.dialect.filled
        maker.account.close(maker, word, now)
        self.stream.append(OrderUpdate(maker.oid, maker.cloid, VenueStatus.FILLED, word, None, now))

    def _fill(
        self,
        market: Market,
        order: AccountOrder,
        side: Side,
        price: int,
        lots: int,
        liquidity: Liquidity,
        tid: int,
        now: float,
    ) -> None:
        account = order.account
        ex = account.exposure(market.symbol)
        start = ex.position
        if market.binary:  # D38: every fill is pending; keep what a failure must replay
            if account.base is None:
                account.base = (start, ex.entry_value, account.realized)
            account.since.append((tid, side.sign * lots, price))
        closed = ex.apply_fill(side.sign * lots, price) * market.micro
        account.realized += closed
        if market.binary:
            fee = market.binary_fee(price, lots) if liquidity is Liquidity.TAKER else 0
        else:
            rate = market.taker_fee if liquidity is Liquidity.TAKER else market.maker_fee
            fee = round(price * lots * market.micro * rate)
        account.fees += fee
        fill = Fill(
            tid,
            order.oid,
            order.cloid,
            side,
            price,
            lots,
            liquidity,
            now,
            fee=fee,
            fee_token=market.fee_token,
            closed_pnl=round(closed),
            start_position=start,
            liquidation=self._liquidation_text(market, lots, price),
            final=not market.binary,
        )
        if market.binary:
            account.provisional(fill)
            self.matched.append(tid)
        account.recent_fills.append(fill)
        account.fill_history.append(fill)
        self.stream.append(fill)

    def settle(
        self, account: Account, market: Market, tid: int, status: str, now: float
    ) -> FillSettled | None:
        """D38: the venue's last word on a provisional trade of ``account``: CONFIRMED makes it
        final; FAILED voids it -- nothing moved on chain, so the account takes back exactly
        what the match moved (position, cash, fee) -- and the order stays as matched (its
        ``filled`` keeps the trade: whether the real CLOB restores ``size_matched`` is
        unconfirmed, reference section 5).  The stream says so with a ``FillSettled``.  A
        trade already settled (or never ours) is left alone: None."""
        fill = account.pending.pop(tid, None)
        if fill is None:
            return None
        confirmed = status == CONFIRMED
        account.statuses[tid] = status
        if not confirmed:
            self._reverse(account, market, fill)
        if not account.pending:
            account.base = None
            account.since.clear()
        settled = FillSettled(tid, confirmed, status, now)
        self.stream.append(settled)
        if not confirmed:
            ex = account.exposure(market.symbol)
            self._enforce_reduce_only(account, market, ex, now)
        return settled

    def _reverse(self, account: Account, market: Market, fill: Fill) -> None:
        """Undo a FAILED trade exactly, as if it had never been: the fee is given back, and
        the position, entry value and realised PnL are replayed from before the first pending
        trade through every later fill but this one (average cost is path-dependent).  Cash
        moves back by exactly what the trade paid or received."""
        account.fees -= fill.fee
        base = account.base
        assert base is not None, "a pending trade is always after the base"
        ex = account.exposure(market.symbol)
        ex.position, ex.entry_value, account.realized = base
        kept = [move for move in account.since if move[0] != fill.tid]
        account.since = kept
        for _, signed, price in kept:
            account.realized += ex.apply_fill(signed, price) * market.micro

    # ---- synthetic traders ------------------------------------------------------------

    def add_liquidity(self, market: Market, side: Side, price: int, lots: int, now: float) -> None:
        """A synthetic maker quotes; if the market moved through a resting order of ours, it
        trades with it first (that is how a stale quote gets picked off)."""
        book = market.book
        if book.crosses(side, price):
            lots, matches, _ = book.match(side, price, lots, None)
            self._settle(market, side, matches, now, None)
        if lots:
            book.rest(BookOrder(None, side, price, lots))

    def take(
        self, market: Market, side: Side, limit: int | None, lots: int, now: float
    ) -> int | None:
        """A synthetic taker sweeps the book (IOC); returns the worst price it traded at."""
        _, matches, _ = market.book.match(side, limit, lots, None)
        if not matches:
            return None
        self._settle(market, side, matches, now, None)
        return matches[-1][2]

    # ---- state, queries, leverage, test hooks ----------------------------------------

    def sync(
        self, account: Account, market: Market, now: float, as_of: float
    ) -> tuple[OpenOrders, PositionSnapshot]:
        """Open orders as of ``as_of`` (older than ``now`` when the snapshot is stale, D9) and
        the position now; the caller answers with them (after a fault may have spoilt a row
        of the listing, D34)."""
        ex = account.exposure(market.symbol)
        orders = account.open_orders_at(market.symbol, as_of)
        return OpenOrders(orders, as_of), PositionSnapshot(ex.position, round(ex.entry_value), now)

    def status(
        self, account: Account, market: Market, oid: int | None, cloid: str | None
    ) -> OrderStatusReport:
        """The definitive status of one order (D24); orders closed long ago are forgotten."""
        words = market.dialect
        order = account.find(oid, cloid)
        if order is None:
            return OrderStatusReport(cloid, oid, VenueStatus.NOT_FOUND, words.unknown_order)
        raw = order.raw_status
        remaining = order.size if order.closed is None else 0
        return OrderStatusReport(
            order.cloid, order.oid, words.venue_status(raw)[0], raw, remaining, order.filled
        )

    def set_leverage(self, account: Account, market: Market, leverage: int) -> None:
        """The venue's answer to a leverage change (``Dialect.leverage``: D14 on a perp)."""
        ex = account.exposure(market.symbol)
        ex.leverage, source = market.dialect.leverage(leverage, ex.leverage, market.leverage_cap)
        self.answers.append(LeverageInfo(ex.leverage, source))

    def inject(
        self,
        account: Account,
        market: Market,
        side: Side,
        price: int,
        lots: int,
        cloid: str | None,
        now: float,
    ) -> int:
        """Rest an order for ``account`` without telling anyone (an order placed by another
        process with the same key: scenario S11).  It must not cross."""
        if market.book.crosses(side, price):
            raise ValueError(f"an injected {side.value} at {price} would cross the book")
        if lots <= 0 or not market.instrument.is_valid_ticks(price):
            raise ValueError(f"an injected order needs a valid price and size, got {price}/{lots}")
        order = AccountOrder(
            account,
            market.symbol,
            self._oid(),
            cloid,
            side,
            price,
            lots,
            False,
            now,
            market.dialect.open,
        )
        account.remember(order)
        market.book.rest(order)
        account.exposure(market.symbol).rest(order)
        return order.oid

    @property
    def next_oid(self) -> int:
        """The oid the next order will get: the orders one request made are the oids from
        before it to after it (the adversary strips their news of cloids, D32)."""
        return self._next_oid

    def _oid(self) -> int:
        oid = self._next_oid
        self._next_oid = oid + 1
        return oid
