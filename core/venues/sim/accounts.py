"""Accounts on the simulated exchange: their orders, positions, money and recent fills.

This is the exchange's own truth, the thing the maker's local state must converge to (D22):
orders with their full lifecycle (kept a while after they close so that status queries and
late snapshots can be answered), positions with entry value and realised PnL in exact integers,
and the last fills for replay after a reconnect.  Money is in micro-dollars (1e-6 USD, the value
of one tick x one lot on every Hyperliquid perp) so that several markets share one collateral.
It never matches orders and never decides whether an order is allowed.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from fractions import Fraction

from core.events import Event, Fill, FillSettled, Funding, Side, VenueOrder
from core.venues.sim.book import BookOrder

# How long a closed order stays queryable.  Bounded so that a console left running for days
# does not grow without limit.
ORDER_RETENTION_S = 600.0
# How many of an account's fills stay fetchable by time (``FetchFills``): Hyperliquid answers
# at most 2000 fills per ``userFillsByTime`` call.
FILL_HISTORY = 2000
# D38: a binary market's trade statuses (reference section 5), as the venue writes them.
MATCHED = "MATCHED"
MINED = "MINED"
RETRYING = "RETRYING"
CONFIRMED = "CONFIRMED"
FAILED = "FAILED"


class AccountOrder(BookOrder):
    """An order of an account: the book's view plus ids and lifecycle."""

    __slots__ = (
        "account",
        "cloid",
        "closed",
        "history",
        "oid",
        "orig_size",
        "placed",
        "raw_status",
        "reduce_only",
        "symbol",
    )

    def __init__(
        self,
        account: Account,
        symbol: str,
        oid: int,
        cloid: str | None,
        side: Side,
        price: int,
        size: int,
        reduce_only: bool,
        now: float,
        status: str,
    ) -> None:
        """``status``: the venue's word for an order that rests (``Dialect.open``)."""
        super().__init__(account, side, price, size)
        self.account = account
        self.symbol = symbol
        self.oid = oid
        self.cloid = cloid
        self.orig_size = size
        self.reduce_only = reduce_only
        self.placed = now
        self.closed: float | None = None
        self.raw_status = status  # its venue's word, as a status query answers it
        # (time, size still resting) after every change: answers "what rested at time T?"
        self.history: list[tuple[float, int]] = [(now, size)]

    @property
    def filled(self) -> int:
        return self.orig_size - self.size

    def size_at(self, t: float) -> int:
        for when, size in reversed(self.history):
            if when <= t:
                return size
        return 0

    def venue_order(self, size: int) -> VenueOrder:
        return VenueOrder(
            oid=self.oid,
            cloid=self.cloid,
            side=self.side,
            price=self.price,
            size=size,
            orig_size=self.orig_size,
            placed_time=self.placed,
        )


class Exposure:
    """One account in one market: position, entry value, leverage, and its resting orders."""

    __slots__ = (
        "entry_value",
        "leverage",
        "open",
        "open_ask_value",
        "open_bid_value",
        "position",
        "reduce_only_open",
    )

    def __init__(self, leverage: int) -> None:
        self.position = 0  # signed lots
        self.entry_value = Fraction(0)  # |position| x average entry price, ticks x lots
        self.leverage = leverage
        self.open: dict[int, AccountOrder] = {}  # oid -> resting order, in placement order
        self.open_bid_value = 0  # sum of price x size of resting bids, ticks x lots
        self.open_ask_value = 0
        self.reduce_only_open = 0

    def apply_fill(self, signed_lots: int, price: int) -> Fraction:
        """Move the position by a fill; returns the realised PnL in ticks x lots.

        Average cost, exact: closing takes the entry value pro rata as a ``Fraction``, the
        very arithmetic the maker's books use (``core.exposure.Position``), so that the PnL
        each fill closed (the venue's ``closedPnl``) is one both sides can check to the unit."""
        pos = self.position
        if pos == 0 or (pos > 0) == (signed_lots > 0):
            self.position = pos + signed_lots
            self.entry_value += abs(signed_lots) * price
            return Fraction(0)
        closing = min(abs(signed_lots), abs(pos))
        entry_part = self.entry_value * closing / abs(pos)
        pnl = price * closing - entry_part if pos > 0 else entry_part - price * closing
        self.entry_value -= entry_part
        self.position = pos + signed_lots
        flipped = abs(signed_lots) - closing
        if flipped:
            self.entry_value = Fraction(flipped * price)
        elif self.position == 0:
            self.entry_value = Fraction(0)
        return pnl

    def rest(self, order: AccountOrder) -> None:
        self.open[order.oid] = order
        self.change_open_value(order.side, order.price * order.size)
        if order.reduce_only:
            self.reduce_only_open += 1

    def unrest(self, order: AccountOrder) -> None:
        del self.open[order.oid]
        self.change_open_value(order.side, -order.price * order.size)
        if order.reduce_only:
            self.reduce_only_open -= 1

    def change_open_value(self, side: Side, value: int) -> None:
        if side is Side.BID:
            self.open_bid_value += value
        else:
            self.open_ask_value += value


class Account:
    """One trader on the exchange (the maker's account; synthetic traders have none)."""

    def __init__(self, name: str, collateral: int, leverage: int, replay_fills: int) -> None:
        self.name = name
        self.collateral = collateral  # micro-dollars deposited
        self.realized = Fraction(0)  # micro-dollars of realised PnL (exact)
        self.fees = 0  # micro-dollars charged (rebates negative)
        self.funding = 0  # micro-dollars received (paid: negative)
        self.liquidations = 0  # D41: times the exchange liquidated this account
        self.recent_fundings: deque[Funding] = deque(maxlen=replay_fills)
        self.default_leverage = leverage
        self.exposures: dict[str, Exposure] = {}
        self.by_oid: dict[int, AccountOrder] = {}
        self.by_cloid: dict[str, AccountOrder] = {}
        # Closed orders in closing order: for retention and for snapshots as of an earlier time.
        self.closed: deque[AccountOrder] = deque()
        self.recent_fills: deque[Fill] = deque(maxlen=replay_fills)
        self.fill_history: deque[Fill] = deque(maxlen=FILL_HISTORY)
        # D38 (binary markets): our trades not settled yet, by tid, and the last status of
        # each trade (MATCHED ... CONFIRMED or FAILED), forgotten with the fill history.
        self.pending: dict[int, Fill] = {}
        self.statuses: dict[int, str] = {}
        # While any trade is pending: the position, entry value and realised PnL before the
        # first of them, and every fill since as (tid, signed lots, price), so that a FAILED
        # one can be taken out exactly (average cost is path-dependent: a replay without it).
        self.base: tuple[int, Fraction, Fraction] | None = None
        self.since: list[tuple[int, int, int]] = []

    def cash(self, micro: int) -> Fraction:
        """What the account holds in the quote, in millionths (``micro`` per tick x lot, one
        market): collateral and realised PnL, less fees, the cost of a long position (or plus
        the proceeds of a short one), with funding -- equity without the position's value."""
        total = self.collateral + self.realized - self.fees + self.funding
        for ex in self.exposures.values():
            total -= (ex.entry_value if ex.position >= 0 else -ex.entry_value) * micro
        return total

    def provisional(self, fill: Fill) -> None:
        """D38: ``fill`` is MATCHED, not settled yet.  Statuses are forgotten oldest first
        once there are more than the fill history holds (never a pending one's)."""
        self.pending[fill.tid] = fill
        statuses = self.statuses
        statuses[fill.tid] = MATCHED
        if len(statuses) > 2 * FILL_HISTORY:
            for tid in list(statuses)[:FILL_HISTORY]:
                if tid not in self.pending:
                    del statuses[tid]

    def known(self, fill: Fill, now: float) -> list[Event]:
        """``fill`` as the venue tells it again (a replay, a fetch): as history, with its
        finality as it is now (D38) -- final once confirmed, and a FAILED one followed by its
        ``FillSettled`` so that a client that missed the news still reverses it."""
        status = self.statuses.get(fill.tid) if self.statuses else None
        if status is None or fill.tid in self.pending:
            return [dataclasses.replace(fill, snapshot=True)]
        again = dataclasses.replace(fill, snapshot=True, final=status == CONFIRMED)
        if status == FAILED:
            return [again, FillSettled(fill.tid, False, status, now)]
        return [again]

    def fills_since(self, t: float, now: float) -> list[Event]:
        """Our fills at or after venue time ``t``, oldest first, as a replay (``snapshot``),
        each with its finality as of ``now`` (``known``, D38)."""
        found: list[Fill] = []
        for f in reversed(self.fill_history):
            if f.venue_time is not None and f.venue_time < t:
                break
            found.append(f)
        found.reverse()
        if not self.statuses:
            return [dataclasses.replace(f, snapshot=True) for f in found]
        return [event for f in found for event in self.known(f, now)]

    def exposure(self, symbol: str) -> Exposure:
        ex = self.exposures.get(symbol)
        if ex is None:
            ex = self.exposures[symbol] = Exposure(self.default_leverage)
        return ex

    def remember(self, order: AccountOrder) -> None:
        self.by_oid[order.oid] = order
        if order.cloid is not None:
            self.by_cloid[order.cloid] = order

    def find(self, oid: int | None, cloid: str | None) -> AccountOrder | None:
        """By oid when given, else by cloid; open or recently closed."""
        if oid is not None:
            return self.by_oid.get(oid)
        if cloid is not None:
            return self.by_cloid.get(cloid)
        return None

    def close(self, order: AccountOrder, raw_status: str, now: float) -> None:
        """Record that ``order`` no longer rests, and forget orders closed too long ago."""
        order.closed = now
        order.raw_status = raw_status
        self.closed.append(order)
        horizon = now - ORDER_RETENTION_S
        while self.closed and (self.closed[0].closed or 0.0) < horizon:
            old = self.closed.popleft()
            if self.by_oid.get(old.oid) is old:
                del self.by_oid[old.oid]
            if old.cloid is not None and self.by_cloid.get(old.cloid) is old:
                del self.by_cloid[old.cloid]

    def open_orders_at(self, symbol: str, t: float) -> tuple[VenueOrder, ...]:
        """The open orders as they were at time ``t`` (a snapshot taken then, D9)."""
        ex = self.exposure(symbol)
        rows = [o for o in ex.open.values() if o.placed <= t]
        for order in reversed(self.closed):
            if order.closed is not None and order.closed <= t:
                break
            if order.symbol == symbol and order.placed <= t:
                rows.append(order)
        sized = [(o, o.size_at(t)) for o in rows]
        return tuple(o.venue_order(size) for o, size in sorted(sized, key=_by_oid) if size > 0)


def _by_oid(row: tuple[AccountOrder, int]) -> int:
    return row[0].oid
