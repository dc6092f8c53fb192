"""The market's book as we last heard it: price levels in ticks and lots, best level cached.

Fed by ``BookSnapshot`` and ``BookDelta`` events.  Updates are O(1) except when the best level
itself disappears, which costs one pass over that side's levels (a few dozen on a venue that
publishes 20 levels).  The book never decides anything; the strategy and the maker-only checks
(D23) read the touch from it.
"""

from __future__ import annotations

from typing import Final

from core.events import BookDelta, BookSnapshot, Side

# A module constant: compiled, it is a native static (no lookup of ``Side`` and its member).
_BID: Final = Side.BID


class LocalBook:
    __slots__ = ("_asks", "_bids", "best_ask", "best_bid", "updates")

    def __init__(self) -> None:
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self.best_bid: int | None = None
        self.best_ask: int | None = None
        self.updates = 0

    def apply_snapshot(self, ev: BookSnapshot) -> None:
        self._bids = {p: s for p, s in ev.bids if s > 0}
        self._asks = {p: s for p, s in ev.asks if s > 0}
        self.best_bid = max(self._bids) if self._bids else None
        self.best_ask = min(self._asks) if self._asks else None
        self.updates += 1

    def apply_delta(self, ev: BookDelta) -> None:
        """Apply one level change; the cached best is kept exact."""
        self.updates += 1
        price = ev.price
        if ev.side is _BID:
            levels = self._bids
            if ev.size > 0:
                levels[price] = ev.size
                if self.best_bid is None or price > self.best_bid:
                    self.best_bid = price
            elif levels.pop(price, None) is not None and price == self.best_bid:
                self.best_bid = max(levels) if levels else None
        else:
            levels = self._asks
            if ev.size > 0:
                levels[price] = ev.size
                if self.best_ask is None or price < self.best_ask:
                    self.best_ask = price
            elif levels.pop(price, None) is not None and price == self.best_ask:
                self.best_ask = min(levels) if levels else None

    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()
        self.best_bid = self.best_ask = None

    def size_at(self, side: Side, price: int) -> int:
        return (self._bids if side is Side.BID else self._asks).get(price, 0)

    @property
    def touch(self) -> tuple[int | None, int | None]:
        return self.best_bid, self.best_ask

    @property
    def mid(self) -> int | None:
        """Mid in ticks, rounded down (display and marks only; never a quote price)."""
        if self.best_bid is None or self.best_ask is None:
            return None
        return (self.best_bid + self.best_ask) // 2

    def depth(self, side: Side, levels: int) -> tuple[tuple[int, int], ...]:
        """The best ``levels`` levels of one side, best first (for the console's ladder)."""
        book = self._bids if side is Side.BID else self._asks
        prices = sorted(book, reverse=side is Side.BID)[:levels]
        return tuple((p, book[p]) for p in prices)
