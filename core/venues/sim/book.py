"""A price-time priority limit order book for one instrument, in integer ticks and lots.

Our orders and the synthetic participants' orders rest in the same FIFO queues, so queue
position is real: an order joins the back of its level and trades only after everything ahead
of it.  The book remembers which levels changed so that one ``BookDelta`` per level can be
published after each exchange step.  It never validates an order, never knows what an account
or a position is (an owner is an opaque tag, compared only for self-trade prevention), never
builds an answer and never reads a clock.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque

from core.events import BookDelta, BookSnapshot, Event, Side

BID = Side.BID
ASK = Side.ASK


class BookOrder:
    """A resting order as the book sees it.  ``owner`` is ``None`` for synthetic liquidity."""

    __slots__ = ("owner", "price", "side", "size")

    def __init__(self, owner: object | None, side: Side, price: int, size: int) -> None:
        self.owner = owner
        self.side = side
        self.price = price
        self.size = size  # what still rests, in lots


class Level:
    """All orders at one price, oldest first, and their total size."""

    __slots__ = ("orders", "size")

    def __init__(self) -> None:
        self.orders: deque[BookOrder] = deque()
        self.size = 0


# A trade between a resting order and an aggressor: (resting order, lots, price in ticks).
Match = tuple[BookOrder, int, int]


class _Side:
    """One side of the book: levels by price, the sorted prices, and the levels changed since
    the last flush.  Kept as plain attributes: hashing the ``Side`` enum on every access would
    cost more than the matching itself."""

    __slots__ = ("dirty", "levels", "prices", "side")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.levels: dict[int, Level] = {}
        self.prices: list[int] = []  # ascending
        self.dirty: dict[int, None] = {}

    def drop_level(self, price: int) -> None:
        del self.levels[price]
        prices = self.prices
        del prices[bisect_left(prices, price)]


class Book:
    """Both sides of one market.  Price lists are kept sorted ascending: the best bid is the
    last bid price, the best ask the first ask price (a few dozen levels: bisect is enough)."""

    def __init__(self) -> None:
        self._bids = _Side(BID)
        self._asks = _Side(ASK)

    def _of(self, side: Side) -> _Side:
        return self._bids if side is BID else self._asks

    # ---- reading ------------------------------------------------------------------------

    def best_bid(self) -> int | None:
        prices = self._bids.prices
        return prices[-1] if prices else None

    def best_ask(self) -> int | None:
        prices = self._asks.prices
        return prices[0] if prices else None

    def level_size(self, side: Side, price: int) -> int:
        level = self._of(side).levels.get(price)
        return 0 if level is None else level.size

    def synthetic_size(self, side: Side, price: int) -> int:
        level = self._of(side).levels.get(price)
        if level is None:
            return 0
        return sum(o.size for o in level.orders if o.owner is None)

    def depth(self, side: Side) -> tuple[tuple[int, int], ...]:
        """``(price, size)`` per level, best first."""
        book_side = self._of(side)
        levels = book_side.levels
        ordered = reversed(book_side.prices) if side is BID else iter(book_side.prices)
        return tuple((p, levels[p].size) for p in ordered)

    def snapshot(self, now: float) -> BookSnapshot:
        return BookSnapshot(bids=self.depth(BID), asks=self.depth(ASK), venue_time=now)

    def crosses(self, side: Side, price: int) -> bool:
        """Would an order at ``price`` trade at once against the other side?"""
        if side is BID:
            asks = self._asks.prices
            return bool(asks) and price >= asks[0]
        bids = self._bids.prices
        return bool(bids) and price <= bids[-1]

    # ---- changing -----------------------------------------------------------------------

    def rest(self, order: BookOrder) -> None:
        """Put ``order`` at the back of its level."""
        book_side = self._bids if order.side is BID else self._asks
        price = order.price
        level = book_side.levels.get(price)
        if level is None:
            level = book_side.levels[price] = Level()
            insort(book_side.prices, price)
        level.orders.append(order)
        level.size += order.size
        book_side.dirty[price] = None

    def remove(self, order: BookOrder) -> None:
        """Take ``order`` off the book (it keeps its remaining ``size`` for the record)."""
        book_side = self._bids if order.side is BID else self._asks
        level = book_side.levels[order.price]
        level.orders.remove(order)
        level.size -= order.size
        book_side.dirty[order.price] = None
        if not level.orders:
            book_side.drop_level(order.price)

    def pull_synthetic(self, side: Side, price: int) -> None:
        """Synthetic makers withdraw everything they have at ``price``; our orders stay."""
        book_side = self._of(side)
        level = book_side.levels.get(price)
        if level is None:
            return
        orders = level.orders
        if len(orders) == 1 and orders[0].owner is None:
            book_side.dirty[price] = None
            book_side.drop_level(price)
            return
        kept = deque(o for o in orders if o.owner is not None)
        if len(kept) == len(orders):
            return
        level.orders = kept
        level.size = sum(o.size for o in kept)
        book_side.dirty[price] = None
        if not kept:
            book_side.drop_level(price)

    def shrink_synthetic(self, side: Side, price: int, lots: int) -> None:
        """Synthetic makers reduce their size at ``price`` by up to ``lots``, newest first (a
        size decrease keeps queue priority on real venues, so the oldest are left alone)."""
        book_side = self._of(side)
        level = book_side.levels.get(price)
        if level is None:
            return
        for order in reversed(level.orders):
            if lots == 0:
                break
            if order.owner is None:
                cut = min(lots, order.size)
                order.size -= cut
                level.size -= cut
                lots -= cut
        emptied = [o for o in level.orders if o.size == 0]
        for order in emptied:
            level.orders.remove(order)
        book_side.dirty[price] = None
        if not level.orders:
            book_side.drop_level(price)

    def match(
        self, side: Side, limit: int | None, lots: int, owner: object | None
    ) -> tuple[int, list[Match], list[BookOrder]]:
        """Trade an aggressor of ``side`` for up to ``lots`` against the other side, best price
        first and oldest first within a price, not beyond ``limit`` (``None``: no limit).

        Returns the lots left over, the matches, and the resting orders of the same ``owner``
        that were removed instead of trading with it (self-trade prevention cancels the
        resting order, as Hyperliquid does).  Matched resting orders have their ``size``
        reduced and are removed when empty; the caller settles accounts."""
        buying = side is BID
        other = self._asks if buying else self._bids
        levels = other.levels
        prices = other.prices
        dirty = other.dirty
        matches: list[Match] = []
        self_trades: list[BookOrder] = []
        while lots and prices:
            price = prices[0] if buying else prices[-1]
            if limit is not None and (price > limit if buying else price < limit):
                break
            level = levels[price]
            orders = level.orders
            while lots and orders:
                maker = orders[0]
                if owner is not None and maker.owner is owner:
                    orders.popleft()
                    level.size -= maker.size
                    self_trades.append(maker)
                    continue
                fill = maker.size if maker.size < lots else lots
                maker.size -= fill
                level.size -= fill
                lots -= fill
                matches.append((maker, fill, price))
                if maker.size == 0:
                    orders.popleft()
            dirty[price] = None
            if not orders:
                del levels[price]
                if buying:
                    del prices[0]
                else:
                    prices.pop()
        return lots, matches, self_trades

    def flush_into(self, out: list[Event], now: float) -> None:
        """Append one delta per level changed since the last flush (size 0 removes it)."""
        for book_side in (self._bids, self._asks):
            dirty = book_side.dirty
            if not dirty:
                continue
            side = book_side.side
            levels = book_side.levels
            for price in dirty:
                level = levels.get(price)
                out.append(BookDelta(side, price, 0 if level is None else level.size, now))
            dirty.clear()
