"""Hyperliquid's error texts: the words it refuses with, and what each means for quoting.

The venue refuses orders, cancels and actions with English text only (reference 7).  This is
the one module that reads that text: ``classify`` gives its ``RejectionClass`` (D11),
``is_order_gone`` says a cancel or modify found the order gone (D5, D24), ``parse_leverage``
reads the cap a leverage error names (D14).  Matching is by prefix after stripping the trailing
`` asset=<n>``, never by equality; unknown text is ``Other``.  The adapters that speak
Hyperliquid's words (the connector's ``mapping`` and ``venue``, the embedded exchange) attach
these answers to the events they make; the core decides by class and keeps the text only for
the operator.

``Texts`` and the constants below write the same texts for the embedded exchange and the
loopback twin, so that the classifier is exercised on realistic strings rather than on names we
made up.  Prices in texts are formatted with ``Decimal`` here and only here.

This module never decides whether an order is valid; it only says how a decision reads and what
a text means.
"""

from __future__ import annotations

import re

from core.events import RejectionClass
from core.units import Instrument, wire

_ASSET_SUFFIX = re.compile(r"\s*asset=\d+\s*$")
_LEVERAGE = re.compile(r"(?<![\w.])(\d{1,3})x\b")

_STALE_POSITION = "Reduce only order would increase position"

# Prefix -> class, in the order they are tried (reference 7).
_PREFIXES: tuple[tuple[str, RejectionClass], ...] = (
    ("Post only order would have immediately matched", RejectionClass.PRICE_ERROR),
    ("Price must be divisible by tick size", RejectionClass.PRICE_ERROR),
    ("Order has invalid price", RejectionClass.PRICE_ERROR),
    ("Order has invalid size", RejectionClass.PRICE_ERROR),
    ("Order has zero size", RejectionClass.PRICE_ERROR),
    ("Order must have minimum value of", RejectionClass.PRICE_ERROR),
    ("Order price cannot be more than", RejectionClass.PRICE_ERROR),
    ("Order price too far from oracle", RejectionClass.PRICE_ERROR),
    ("Invalid TP/SL price", RejectionClass.PRICE_ERROR),
    ("Insufficient margin to place order", RejectionClass.MARGIN),
    ("Order has insufficient spot balance", RejectionClass.MARGIN),
    ("(Spot-only) Order has insufficient spot balance", RejectionClass.MARGIN),
    ("Insufficient spot balance", RejectionClass.MARGIN),
    ("Cross position does not have sufficient margin", RejectionClass.MARGIN),
    ("Isolated position does not have sufficient margin", RejectionClass.MARGIN),
    (_STALE_POSITION, RejectionClass.STALE_POSITION),  # D26: our position is stale
    ("Order would increase open interest", RejectionClass.POSITION_LIMIT),
    ("Order rejected due to price more aggressive than oracle", RejectionClass.POSITION_LIMIT),
    ("Order would cause position to exceed margin tier limit", RejectionClass.POSITION_LIMIT),
    ("Order value too large", RejectionClass.POSITION_LIMIT),
    ("Too many open orders", RejectionClass.POSITION_LIMIT),
    ("Too many cumulative requests sent", RejectionClass.RATE_LIMIT),
    ("too many pending post requests", RejectionClass.RATE_LIMIT),
    ("Cannot send more than", RejectionClass.RATE_LIMIT),
    ("Cannot subscribe to more than", RejectionClass.RATE_LIMIT),
    ("Cannot track more than", RejectionClass.RATE_LIMIT),
)

# HTTP 429 as an adapter reports it ("HTTP 429", "429 Too Many Requests"); not "4290 ...".
_HTTP_429 = re.compile(r"(?:HTTP )?429(?!\d)")

_MODIFY_INNER = "Error placing new order during modify: "
_ORDER_GONE = "Order was never placed, already canceled, or filled"
_MODIFY_GONE = "Cannot modify canceled or filled order"
_GONE_PREFIXES = (_ORDER_GONE, "Cannot modify canceled or filled")
_VOLUME_GATE = "enough volume"


def strip_asset(text: str) -> str:
    """Drop Hyperliquid's trailing `` asset=<n>`` so prefixes match."""
    return _ASSET_SUFFIX.sub("", text.strip())


def classify(raw_text: str) -> RejectionClass:
    """The class of a rejection text (D11).  Unknown text is ``Other``; the caller keeps the raw
    text for display.  The replacement of a modify refused with "Reduce only order would
    increase position" is a plain ``PositionLimit``: D26's refresh-and-retry is for reduce-only
    placements (it has always been so; ``StalePosition`` only for the text itself)."""
    text = strip_asset(raw_text)
    if text.startswith(_MODIFY_INNER):
        inner = classify(text[len(_MODIFY_INNER) :])
        return RejectionClass.POSITION_LIMIT if inner is RejectionClass.STALE_POSITION else inner
    for prefix, rclass in _PREFIXES:
        if text.startswith(prefix):
            return rclass
    if _HTTP_429.match(text):
        return RejectionClass.RATE_LIMIT
    return RejectionClass.OTHER


def classify_post_error(text: str) -> RejectionClass:
    """A WebSocket ``post`` refused on channel ``error``: "429" style texts anywhere in it are
    rate limits like their HTTP twins."""
    rclass = classify(text)
    if rclass is RejectionClass.OTHER and "429" in text:
        return RejectionClass.RATE_LIMIT
    return rclass


def is_order_gone(raw_text: str) -> bool:
    """True when a cancel or modify failed because the order no longer rests (D5, D24).  The
    venue cannot tell filled from canceled here, so a fill may still be on its way."""
    text = strip_asset(raw_text)
    return text.startswith(_GONE_PREFIXES) or text.startswith(_MODIFY_INNER)


def is_modify_race(raw_text: str) -> bool:
    """True when a modify found its original already gone ("Cannot modify canceled or filled
    order"): a race with a fill or a cancel, not a verdict on the replacement (D5)."""
    return raw_text.startswith(_MODIFY_GONE)


def parse_leverage(raw_text: str, fallback: int) -> int:
    """The leverage a venue error says it really allows ("... is 25x ..."), else ``fallback``
    (the instrument's max leverage) (D14).  The smallest number found wins: a venue that caps
    leverage names the cap, and believing the lower figure is the safe side."""
    found = [int(m) for m in _LEVERAGE.findall(raw_text)]
    found = [v for v in found if v >= 1]
    return min(found) if found else fallback


def is_volume_gate(text: str) -> bool:
    """``scheduleCancel`` refused until the account has traded $1,000,000: re-arming the dead
    man's switch cannot succeed today."""
    return _VOLUME_GATE in text


# ---- the texts, as the embedded exchange and the loopback twin write them ----------------

# A whole action refused because it arrived after its ``expiresAfter`` (reference 3.9).
ACTION_EXPIRED = "Action already expired"
# An answer the twin cannot give (no item came back for it).
NOT_PROCESSED = "Order could not be processed."
# The body of a request the venue's parser refuses (HTTP 422), followed by why.
DESERIALIZE = "Failed to deserialize the JSON body into the target type: "
# WebSocket ``error`` channel texts.
WS_BAD_REQUEST = "Error parsing JSON into valid websocket request: "
WS_BAD_POST = "400 Bad Request: request type"
TOO_MANY_REQUESTS = "Too Many Requests"
SCHEDULE_TOO_SOON = "Scheduled cancel time must be at least 5 seconds in the future."
SCHEDULE_TOO_MANY = "Too many scheduled cancels triggered today."


class Texts:
    """Error texts for one instrument (the asset id and price format are per instrument)."""

    def __init__(self, instrument: Instrument) -> None:
        self._instrument = instrument
        self._suffix = f" asset={instrument.asset_id}"
        self.zero_size = "Order has zero size." + self._suffix
        self.invalid_size = "Order has invalid size." + self._suffix
        self.invalid_price = "Order has invalid price." + self._suffix
        self.off_tick = "Price must be divisible by tick size." + self._suffix
        self.min_notional = (
            f"Order must have minimum value of ${wire(instrument.min_notional)}." + self._suffix
        )
        self.reduce_only = _STALE_POSITION + "." + self._suffix
        self.max_position = (
            "Order would cause position to exceed margin tier limit at current leverage."
            + self._suffix
        )
        self.margin = "Insufficient margin to place order." + self._suffix
        self.ioc_no_match = (
            "Order could not immediately match against any resting orders." + self._suffix
        )
        self.cancel_gone = _ORDER_GONE + "." + self._suffix
        self.modify_gone = _MODIFY_GONE
        self.rate_limited = "HTTP 429 Too Many Requests"

    @staticmethod
    def order_gone(asset: int) -> str:
        """A cancel of an order the venue does not hold, named by the cancel's own asset."""
        return f"{_ORDER_GONE}. asset={asset}"

    def alo_would_cross(self, best_bid: int | None, best_ask: int | None) -> str:
        bid = "0" if best_bid is None else wire(self._instrument.ticks_to_price(best_bid))
        ask = "0" if best_ask is None else wire(self._instrument.ticks_to_price(best_ask))
        return f"Post only order would have immediately matched, bbo was {bid}@{ask}." + (
            self._suffix
        )

    @staticmethod
    def modify_failed(inner: str) -> str:
        """The cancel leg of a modify succeeded, the new order did not: the original is gone."""
        return f"{_MODIFY_INNER}{inner}"

    @staticmethod
    def leverage_above_cap(requested: int, cap: int) -> str:
        """D14: the text names the real cap as "... is Nx" so the maker can believe it."""
        return (
            f"Leverage {requested}x is above the maximum allowed for this position size, "
            f"max is {cap}x."
        )

    @staticmethod
    def timed_out(what: str, timeout_s: float) -> str:
        return f"{what} timed out after {timeout_s:g}s; the venue may have executed it"

    @staticmethod
    def invalid_order_asset(asset: int) -> str:
        return f"Order has invalid asset. asset={asset}"

    @staticmethod
    def invalid_asset(asset: int) -> str:
        return f"Invalid asset {asset}."

    @staticmethod
    def invalid_leverage(leverage: int) -> str:
        return f"Invalid leverage {leverage}."

    @staticmethod
    def unknown_signer(address: str) -> str:
        """The signature recovers to an address that is neither the account nor its agent."""
        return f"L1 error: User or API Wallet {address} does not exist."

    @staticmethod
    def nonce_outside_window(nonce: int) -> str:
        return f"Invalid nonce: nonce {nonce} is outside the allowed time window"

    @staticmethod
    def nonce_duplicate(nonce: int) -> str:
        return f"Invalid nonce: duplicate nonce {nonce}"

    @staticmethod
    def nonce_too_low(nonce: int, smallest: int) -> str:
        return f"Invalid nonce: nonce {nonce} is lower than the smallest kept ({smallest})"

    @staticmethod
    def address_limited(used: int, cap: int, volume: str) -> str:
        """The per-address request budget (reference 8): a ``RateLimit``."""
        return (
            f"Too many cumulative requests sent ({used} > {cap}) for "
            f"cumulative volume traded ${volume}."
        )

    @staticmethod
    def schedule_volume_gate(traded: str) -> str:
        """``scheduleCancel`` before $1,000,000 of volume (``is_volume_gate``)."""
        return (
            "Cannot set scheduled cancel time until enough volume traded. Required: "
            f"$1000000. Traded: ${traded}."
        )

    @staticmethod
    def too_many_pending_posts(post_id: int) -> str:
        return f"too many pending post requests id={post_id}"

    @staticmethod
    def invalid_subscription(subscription: str) -> str:
        return f"Invalid subscription {subscription}"

    @staticmethod
    def already_subscribed(subscription: str) -> str:
        return f"Already subscribed: {subscription}"

    @staticmethod
    def already_unsubscribed(subscription: str) -> str:
        return f"Already unsubscribed: {subscription}"
