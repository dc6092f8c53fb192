"""Scripted agents for exercising the simulated exchange without the market maker.

The exchange's own tests, determinism checks and throughput figures need something that
quotes, replaces, cancels, syncs and queries, so that every answer path and fault is hit — but
they must measure the exchange, not the maker.  ``TouchQuoter`` is that: a few dozen lines of
deliberately naive quoting.  It is not a strategy, keeps no position or risk state, and must
never be pointed at a real venue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.commands import Batch, Cancel, Command, Place, QueryOrder, SyncState, TimeInForce
from core.events import (
    BookDelta,
    BookSnapshot,
    CancelAck,
    CancelRejected,
    Event,
    OpenOrders,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    Side,
    VenueStatus,
)


@dataclass(slots=True)
class _Quote:
    cloid: str
    price: int
    oid: int | None = None


class TouchQuoter:
    """Joins the best bid and the best ask with one post-only order each, moves them when the
    touch moves (cancel + place in one batch), queries placements whose outcome is unknown,
    and every ``sync_every_s`` asks for a snapshot and cancels what it does not know."""

    def __init__(self, size: int, *, sync_every_s: float = 5.0) -> None:
        self._size = size
        self._sync_every_s = sync_every_s
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._quotes: dict[Side, _Quote] = {}
        self._next_id = 0
        self._next_sync = 0.0

    def handle(self, event: Event, now: float) -> list[Batch]:
        match event:
            case BookSnapshot():
                self._bids = dict(event.bids)
                self._asks = dict(event.asks)
            case BookDelta():
                levels = self._bids if event.side is Side.BID else self._asks
                if event.size:
                    levels[event.price] = event.size
                else:
                    levels.pop(event.price, None)
            case PlaceAck():
                quote = self._quote(event.cloid)
                if quote is not None:
                    quote.oid = event.oid
            case PlaceRejected() | CancelAck() | CancelRejected():
                self._forget(event.cloid)
            case OrderUpdate() if event.status is not VenueStatus.OPEN:
                self._forget(event.cloid)
            case PlaceUnknown():
                return [self._batch([QueryOrder(event.cloid, None)])]
            case OpenOrders():
                known = {q.oid for q in self._quotes.values()}
                stray = [Cancel(o.cloid, o.oid) for o in event.orders if o.oid not in known]
                if stray:
                    return [self._batch(stray)]
        return []

    def tick(self, now: float) -> list[Batch]:
        commands: list[Command] = []
        for side in (Side.BID, Side.ASK):
            price = self._touch(side)
            quote = self._quotes.get(side)
            if price is None or (quote is not None and quote.price == price):
                continue
            if quote is not None:
                commands.append(Cancel(quote.cloid, quote.oid))
            cloid = self._cloid()
            self._quotes[side] = _Quote(cloid, price)
            commands.append(Place(cloid, side, price, self._size, TimeInForce.ALO, level=0))
        if now >= self._next_sync:
            self._next_sync = now + self._sync_every_s
            commands.append(SyncState("periodic"))
        return [self._batch(commands)] if commands else []

    def _touch(self, side: Side) -> int | None:
        """The best price of ``side`` not counting a level that is only our own quote."""
        levels = self._bids if side is Side.BID else self._asks
        quote = self._quotes.get(side)
        ranked = sorted(levels, reverse=side is Side.BID)
        for price in ranked:
            if quote is not None and price == quote.price and levels[price] <= self._size:
                continue
            return price
        return None

    def _quote(self, cloid: str | None) -> _Quote | None:
        for quote in self._quotes.values():
            if quote.cloid == cloid:
                return quote
        return None

    def _forget(self, cloid: str | None) -> None:
        for side, quote in list(self._quotes.items()):
            if quote.cloid == cloid:
                del self._quotes[side]

    def _cloid(self) -> str:
        self._next_id += 1
        return f"0x{self._next_id:032x}"

    def _batch(self, commands: Sequence[Command]) -> Batch:
        self._next_id += 1
        return Batch(self._next_id, tuple(commands))
