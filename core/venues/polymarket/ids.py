"""Polymarket's ids as the core's integers, and the way back.

The core keys orders and fills by Python ints that are journaled with msgpack, so they must fit
a signed 64-bit integer.  Polymarket's order ids are ``0x`` + 64 hex digits (the EIP-712 order
digest) and its trade ids are uuids.  The core's id is the first 60 bits of either:

* ``oid_of("0xabc...")`` = ``int(hex_id[2:17], 16)``;
* ``tid_of("28c4d2eb-...")`` = ``int(uuid.hex[:15], 16)``;
* ``fill_tid(trade id, order id)``: a fill's tid, one per (trade, our order) -- see there.

60 bits of a digest or a uuid4 collide with odds of about n^2 / 2^61: nothing a session's few
million orders can meet.  ``IdRegistry`` keeps int -> full id for the way back (a cancel needs
the full hex), bounded by count so a long session's memory stays flat; a forgotten id can still
be cancelled through the venue's own listing (cancel-all by market).

Pure: no I/O, no clock.  The loopback twin may import it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import OrderedDict

_ORDER_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")


class IdError(ValueError):
    """Not an id of the venue's shape."""


def is_order_id(text: str) -> bool:
    return bool(_ORDER_ID.match(text))


def oid_of(order_id: str) -> int:
    """The core's oid of a venue order id (``0x`` + 64 hex)."""
    if not _ORDER_ID.match(order_id):
        raise IdError(f"not an order id (0x + 64 hex): {order_id[:80]!r}")
    return int(order_id[2:17], 16)


def tid_of(trade_id: str) -> int:
    """The core's tid of a venue trade id (a uuid, any spelling ``uuid.UUID`` reads)."""
    try:
        hex_id = uuid.UUID(trade_id).hex
    except (ValueError, TypeError, AttributeError):
        raise IdError(f"not a trade id (uuid): {str(trade_id)[:80]!r}") from None
    return int(hex_id[:15], 16)


def fill_tid(trade_id: str, order_id: str) -> int:
    """The core's tid of one fill: one of our orders in one trade.  A trade can fill several
    of our orders at once (a taker sweeping two of our levels), and the core de-duplicates
    fills by tid (D4), so the tid names the pair: the first 60 bits of
    sha256(uuid hex + "/" + order id), the same from the stream and from ``/data/trades``."""
    hex_id = uuid.UUID(trade_id).hex if _is_uuid(trade_id) else None
    if hex_id is None:
        raise IdError(f"not a trade id (uuid): {str(trade_id)[:80]!r}")
    if not _ORDER_ID.match(order_id):
        raise IdError(f"not an order id (0x + 64 hex): {order_id[:80]!r}")
    digest = hashlib.sha256(f"{hex_id}/{order_id.lower()}".encode()).hexdigest()
    return int(digest[:15], 16)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


class IdRegistry:
    """Core oid -> the venue's full order id, for the orders we placed or were told of."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._full: OrderedDict[int, str] = OrderedDict()

    def remember(self, order_id: str) -> int:
        """Remember ``order_id`` and return its oid."""
        oid = oid_of(order_id)
        full = order_id.lower()
        self._full[oid] = full
        self._full.move_to_end(oid)
        while len(self._full) > self._capacity:
            self._full.popitem(last=False)
        return oid

    def full(self, oid: int) -> str | None:
        """The full id of ``oid``, or None when we never knew it (or forgot it)."""
        return self._full.get(oid)

    def __contains__(self, oid: object) -> bool:
        return oid in self._full

    def __len__(self) -> int:
        return len(self._full)
