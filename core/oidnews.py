"""News about an order id we have not bound yet (D32).

The venue can name an order by its oid alone before our placement's answer has told us that
oid: Hyperliquid's ``nonUserCancel`` carries only the oid, and a fill or an order update can
outrun the ack on another connection.  Dropping such news leaves the late ack to show a
resting order the venue has already cancelled or filled: a phantom, until the next periodic
sync.  So it is kept here, by oid, and handed back when something binds the oid to one of our
orders (the ack, a status answer, any event carrying both ids).  News nothing binds within
``wait`` seconds is asked about by oid (the answer names the order's cloid), once; news still
unbound after ``horizon`` seconds is about an order that is not ours (another process with the
same key) or long gone, and is dropped and counted.

Fills kept here were already counted toward the position when they arrived (money moved, D1):
binding only attributes them to their order.  The store is bounded: past ``max_oids`` the
oldest oid's news is dropped (and counted).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from core.events import Fill, OrderUpdate


@dataclass(slots=True)
class _News:
    first_seen: float
    fills: list[Fill] = field(default_factory=list)
    updates: list[OrderUpdate] = field(default_factory=list)
    asked: bool = False


class UnboundNews:
    """Oid-only news waiting for its order, oldest first."""

    __slots__ = ("_news", "dropped", "horizon", "kept", "max_oids", "wait")

    def __init__(self, *, wait: float, horizon: float, max_oids: int = 1000) -> None:
        self.wait = wait
        self.horizon = max(horizon, wait)
        self.max_oids = max_oids
        self._news: OrderedDict[int, _News] = OrderedDict()
        self.kept = 0  # events kept, ever
        self.dropped = 0  # events dropped unbound, ever

    def __len__(self) -> int:
        return len(self._news)

    def __contains__(self, oid: object) -> bool:
        return oid in self._news

    def keep_fill(self, fill: Fill, now: float) -> None:
        assert fill.oid is not None
        self._entry(fill.oid, now).fills.append(fill)

    def keep_update(self, update: OrderUpdate, now: float) -> None:
        assert update.oid is not None
        self._entry(update.oid, now).updates.append(update)

    def take(self, oid: int) -> tuple[list[Fill], list[OrderUpdate]]:
        """Everything kept about ``oid``, in arrival order, forgotten here."""
        news = self._news.pop(oid, None)
        if news is None:
            return [], []
        return news.fills, news.updates

    def to_ask(self, now: float) -> list[int]:
        """Oids whose news has waited ``wait`` seconds unbound and was not asked about yet
        (the caller says which it did ask, ``asked``); news older than ``horizon`` is
        dropped."""
        due: list[int] = []
        expired: list[int] = []
        for oid, news in self._news.items():
            age = now - news.first_seen
            if age >= self.horizon:
                expired.append(oid)
            elif age >= self.wait and not news.asked:
                due.append(oid)
        for oid in expired:
            self._drop(oid)
        return due

    def asked(self, oid: int) -> None:
        news = self._news.get(oid)
        if news is not None:
            news.asked = True

    def _entry(self, oid: int, now: float) -> _News:
        self.kept += 1
        news = self._news.get(oid)
        if news is None:
            news = self._news[oid] = _News(now)
            while len(self._news) > self.max_oids:
                self._drop(next(iter(self._news)))
        return news

    def _drop(self, oid: int) -> None:
        news = self._news.pop(oid)
        self.dropped += len(news.fills) + len(news.updates)
