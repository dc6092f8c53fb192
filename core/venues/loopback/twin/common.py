"""What the loopback twin's rooms share: our order as the wire tells it, a WebSocket client,
and JSON in and out.

``Order`` is what the wire says about one of our orders (``base`` registers them, ``info``
lists them); ``Peer`` is one WebSocket client and its subscriptions (``base`` pushes to them,
``websocket`` serves them).  ``parse_json`` reads every outside input (``/info`` and
``/exchange`` bodies, WebSocket texts) with the venue's nesting limit; ``ws_text`` writes a
WebSocket message with the connector's wire models.  They sit below every room so that no room
has to import a sibling for them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.events import Side
from core.venues.hyperliquid import statuses
from core.venues.hyperliquid.wire import WsMessage, answer_json
from core.venues.loopback.server import WsPeer
from core.venues.loopback.twin.feeds import Feed

CLOID = re.compile(r"0x[0-9a-fA-F]{32}")  # used with fullmatch: no trailing newline
ZERO = "0.0"
_MAX_NESTING = 127  # serde_json (the venue's parser) refuses a 128th nested array/object


class Order:
    """What the wire says about one of our orders (the engine keys it by ``key``)."""

    __slots__ = (
        "cloid",
        "key",
        "oid",
        "orig",
        "price",
        "remaining",
        "side",
        "status",
        "status_ms",
        "tif",
        "timestamp",
    )

    def __init__(
        self,
        oid: int,
        key: str,
        cloid: str | None,
        side: Side,
        price: int,
        size: int,
        ms: int,
        tif: str | None = None,
    ) -> None:
        self.oid = oid
        self.key = key
        self.cloid = cloid
        self.side = side
        self.price = price
        self.orig = size
        self.remaining = size
        self.timestamp = ms
        self.status = statuses.OPEN
        self.status_ms = ms
        self.tif = tif  # "Alo" / "Gtc" / "Ioc" as placed; None for an order placed elsewhere


class Peer:
    """One WebSocket client and its subscriptions."""

    def __init__(self, peer: WsPeer, now: float) -> None:
        self.peer = peer
        self.subs: list[dict[str, Any]] = []
        self.channels: set[str] = set()
        self.feeds: dict[str, Feed] = {}  # market data at its own pace, by subscription
        self.last_heard = now
        self.pending_posts = 0


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` for outside input: anything refused is a ``ValueError``.  Nesting past
    the venue's limit is refused too: ``json.loads`` raises ``RecursionError`` on deep nesting
    (or, just under Python's limit, leaves a tree that ``str``/``json.dumps`` cannot walk)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("recursion limit exceeded") from None
    level: list[Any] = [value]
    for _ in range(_MAX_NESTING):  # breadth-first: no recursion of our own
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return value
    if any(isinstance(node, dict | list) for node in level):
        raise ValueError("recursion limit exceeded")
    return value


def ws_text(message: WsMessage) -> str:
    return json.dumps(answer_json(message))
