"""Polymarket's status words: orders (LIVE, MATCHED, CANCELED ...) and trades (MATCHED ...
CONFIRMED), and what each means.

The venue spells them two ways (reference 4, 7.12): the OpenAPI spec prefixes them
(``ORDER_STATUS_LIVE``, ``TRADE_STATUS_CONFIRMED``), the WebSocket and the docs do not
(``LIVE``, ``CONFIRMED``); the placement answer writes its own in lower case (``live``,
``matched``, ``delayed``, ``unmatched``).  ``order_word`` / ``trade_word`` strip the prefix and
upper-case, and everything is read from the bare word.

* ``venue_status``: an order status as a ``VenueStatus``; a word not in the reference is
  ``UNKNOWN`` -- counted and logged by the caller, to be queried, never guessed (D6).
* ``finality``: a trade status as ``PROVISIONAL`` (MATCHED, MINED, RETRYING, and
  MATCHED_NOT_BROADCASTED), ``CONFIRMED`` or ``FAILED`` (D38), or ``UNKNOWN``.

This module only names and normalises; it never decides what to do about an order or a fill.
"""

from __future__ import annotations

import enum

from core.events import RejectionClass, VenueStatus

# Order statuses (bare words).
LIVE = "LIVE"
MATCHED = "MATCHED"
CANCELED = "CANCELED"
CANCELED_MARKET_RESOLVED = "CANCELED_MARKET_RESOLVED"
INVALID = "INVALID"
# The placement answer's words for an order that rests or waits (reference 4 "Place").
UNMATCHED = "UNMATCHED"
DELAYED = "DELAYED"

# Trade statuses (bare words).
TRADE_MATCHED = "MATCHED"
TRADE_MATCHED_NOT_BROADCASTED = "MATCHED_NOT_BROADCASTED"
TRADE_MINED = "MINED"
TRADE_RETRYING = "RETRYING"
TRADE_CONFIRMED = "CONFIRMED"
TRADE_FAILED = "FAILED"

# Order event types of the user channel.
PLACEMENT = "PLACEMENT"
UPDATE = "UPDATE"
CANCELLATION = "CANCELLATION"

_ORDER_PREFIX = "ORDER_STATUS_"
_TRADE_PREFIX = "TRADE_STATUS_"

_ORDER: dict[str, VenueStatus] = {
    LIVE: VenueStatus.OPEN,
    UNMATCHED: VenueStatus.OPEN,  # marketable, its delay over, now resting
    DELAYED: VenueStatus.OPEN,  # marketable, held in the delay window: may still rest or fill
    MATCHED: VenueStatus.FILLED,
    CANCELED: VenueStatus.CANCELED,
    CANCELED_MARKET_RESOLVED: VenueStatus.VENUE_CANCELED,
    INVALID: VenueStatus.REJECTED,
}


class Finality(enum.Enum):
    """How final a trade is (D38)."""

    PROVISIONAL = "provisional"  # matched; the chain may still undo it
    CONFIRMED = "confirmed"  # final: the fill stands
    FAILED = "failed"  # final: nothing moved, the fill is void
    UNKNOWN = "unknown"  # a word not in the reference: never guessed

    __hash__ = object.__hash__


_TRADE: dict[str, Finality] = {
    TRADE_MATCHED: Finality.PROVISIONAL,
    TRADE_MATCHED_NOT_BROADCASTED: Finality.PROVISIONAL,
    TRADE_MINED: Finality.PROVISIONAL,
    TRADE_RETRYING: Finality.PROVISIONAL,
    TRADE_CONFIRMED: Finality.CONFIRMED,
    TRADE_FAILED: Finality.FAILED,
}


def order_word(raw: str) -> str:
    """``ORDER_STATUS_LIVE``, ``LIVE`` and ``live`` all read ``LIVE``."""
    word = raw.strip().upper()
    return word.removeprefix(_ORDER_PREFIX)


def trade_word(raw: str) -> str:
    """``TRADE_STATUS_CONFIRMED`` and ``CONFIRMED`` both read ``CONFIRMED``."""
    word = raw.strip().upper()
    return word.removeprefix(_TRADE_PREFIX)


def venue_status(raw: str) -> tuple[VenueStatus, RejectionClass | None]:
    """An order status normalised, with the class of a rejection (INVALID: ``Other``)."""
    status = _ORDER.get(order_word(raw), VenueStatus.UNKNOWN)
    return status, (RejectionClass.OTHER if status is VenueStatus.REJECTED else None)


def is_known_order_status(raw: str) -> bool:
    return order_word(raw) in _ORDER


def finality(raw: str) -> Finality:
    """A trade status as its finality; ``UNKNOWN`` for a word not in the reference (D6)."""
    return _TRADE.get(trade_word(raw), Finality.UNKNOWN)
