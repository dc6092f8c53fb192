"""Polymarket's error texts: the words the CLOB refuses with, and what each means for quoting.

The CLOB refuses with English text only, as ``{"error": ...}`` with an HTTP status, or per item
of a batch as ``errorMsg`` (reference section 6).  This is the one module that reads that text:
``classify`` gives its ``RejectionClass`` (D11), ``is_order_gone`` says a cancel found the order
already gone (D24), ``is_not_placed`` says a 500 answer is a definite refusal rather than an
unknown outcome (D8), ``is_heartbeat_refused`` reads the dead-man switch's refusal (D40).
Templated texts (``order {id} is invalid. Price (...) ...``) are matched by pattern, the others
by prefix, case-sensitively; unknown text is ``Other``.

The constants and the ``Texts`` functions below are the verbatim texts of the reference, named,
so that the loopback twin writes exactly the strings the connector reads (the twin imports them
from here) and the classifier is exercised on the venue's own words, never on names we made up.

Classes, and why (D11):

* ``PriceError`` -- the order as priced cannot rest: post-only would cross, off the tick grid
  (D39: the old grid's refusals after a tick change), below the minimum size, amounts with too
  many decimals.  Re-price on the next tick.
* ``Margin`` -- ``not enough balance / allowance``: pUSD for a bid, shares for an ask (reserved
  by our open orders and by matched trades not yet settled, reference 7.3-7.4).  Transient:
  back off that side.
* ``RateLimit`` -- the venue will not take placements from anyone for now: 429, the per-token
  limit, the engine restarting (425), post-only mode, cancel-only mode, trading disabled, the
  market not yet ready (reference 4 "Trading modes").  Back off all placements (D29); cancels
  still go out (D13).
* ``PositionLimit`` -- the address is in closed-only mode: it may only reduce.
* ``Other`` -- everything else (auth, signature, payload, duplicates, FOK/FAK kills, engine
  500s): back off.

This module never decides whether an order is valid and never does I/O; it only says how a
refusal reads and what a text means.
"""

from __future__ import annotations

import re

from core.commands import TimeInForce
from core.events import RejectionClass

# ---- request level: HTTP status + {"error": ...}; a batch fails whole ---------------------

INVALID_ORDER_PAYLOAD = "Invalid order payload"
OWNER_NOT_API_KEY = "the order owner has to be the owner of the API KEY"
SIGNER_NOT_API_KEY = "the order signer address has to be the address of the API KEY"
ORDER_VERSION_MISMATCH = "order_version_mismatch"
INVALID_ORDER_VERSION = "invalid order version, please use the latest clob-client"
MAKER_NOT_ALLOWED = "maker address not allowed, please use the deposit wallet flow"
INVALID_SIGNATURE = "invalid signature"
UNAUTHORIZED = "Unauthorized/Invalid api key"  # 401, L2
INVALID_L1_HEADERS = "Invalid L1 Request headers"  # 401, L1
INVALID_API_KEY = "Invalid API key"  # 401, OAS example
INVALID_L1_HEADERS_SHORT = "Invalid L1 headers"  # 401, OAS example
SERVICE_NOT_READY = "service not ready"  # 425: the matching engine is restarting
TOO_MANY_REQUESTS = "Too Many Requests"  # 429
COULD_NOT_INSERT = "could not insert order"  # 500: safe to resubmit
ORDER_TIMED_OUT = "order timed out"  # 500: safe to resubmit
# 503 operating modes (reference 4 "Trading modes"); the post-only one is also per item.
POST_ONLY_MODE = "post-only mode: only post-only orders and cancels are allowed"
POST_ONLY_MODE_CODE = "post_only_mode"
CANCEL_ONLY = (
    "Trading is currently cancel-only. New orders are not accepted, but cancels are allowed."
)
TRADING_DISABLED = "Trading is currently disabled. Check polymarket.com for updates"
INTERNAL_SERVER_ERROR = "Internal server error"

# ---- per order: POST /order (400 error or 200 errorMsg) and each item of POST /orders ------

POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
NOT_ENOUGH_BALANCE = "not enough balance / allowance"
INVALID_EXPIRATION = "invalid expiration"
CANCELED_IN_CONTRACT = "order canceled in the CTF exchange contract"
MATCH_DELAYED = "order match delayed due to market conditions"
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
    "match is found."
)
MARKET_NOT_READY = "the market is not yet ready to process new orders"
INVALID_AMOUNTS_BUY = (
    "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 "
    "decimals, taker amount a max of 4 decimals"
)
INVALID_AMOUNTS_SELL = (
    "invalid amounts, the sell orders maker amount supports a max accuracy of 2 decimals"
)
# Matching-engine 500s.
NO_MATCHING_ORDERS = "there are no matching orders"
FOK_FILLED_OR_KILLED = "FOK orders are filled or killed"
ROUNDING_ISSUES = "the trade contains rounding issues"
PRICE_DISCREPANCY = (
    "the price of the taker's order has a discrepancy greater than allowed with the worst "
    "maker order"
)

# ---- cancels: request level, and the reasons of ``not_canceled`` ----------------------------

INVALID_ORDER_ID = "Invalid orderID"
NOT_FOUND_OR_CANCELED = "Order not found or already canceled"
ALREADY_MATCHED = "Order already matched"
ALREADY_MATCHED_LOWER = "order already matched"
ORDER_NOT_FOUND = "Order not found"  # also GET /data/order/{id} 404
ALREADY_CANCELED = "Order already canceled"

# ---- queries, market data, auth, balances, heartbeats -----------------------------------

INVALID_ORDER_PARAMS = "invalid order params payload"
INVALID_TRADE_PARAMS = "Invalid trade params payload"
INVALID_TOKEN_ID = "Invalid token id"
NO_ORDERBOOK = "No orderbook exists for the requested token id"  # 404
MARKET_NOT_FOUND = "market not found"
FEE_RATE_NOT_FOUND = "fee rate not found for market"
INVALID_SIDE = "Invalid side"
INVALID_PAYLOAD = "Invalid payload"
PAYLOAD_TOO_LARGE = "Payload exceeds the limit"
COULD_NOT_CREATE_API_KEY = "Could not create api key"
COULD_NOT_DERIVE_API_KEY = "Could not derive api key!"
COULD_NOT_RETRIEVE_API_KEYS = "Could not retrieve API keys"
COULD_NOT_DELETE_API_KEY = "Could not delete API key"
INVALID_ASSET_TYPE = "Invalid asset type"
INVALID_SIGNATURE_TYPE = "Invalid signature_type"
INVALID_HEARTBEAT_ID = "Invalid Heartbeat ID"  # 400, with the expected ``heartbeat_id``

# ---- what the official client refuses before sending (PY2) ----------------------------------

POST_ONLY_NOT_FOR_FOK_FAK = "post_only is not supported for FOK/FAK orders"

MAX_BATCH_ORDERS = 15  # POST /orders (OAS maxItems)
MAX_BATCH_CANCELS = 1000  # DELETE /orders (CHG 2026-06-15)

# Templated texts, as patterns (ids, prices and sizes vary).
_PRICE_BREAKS_TICK = re.compile(r"^order \S+ is invalid\. Price \(.*\) breaks minimum tick size")
_SIZE_BELOW_MIN = re.compile(r"^order \S+ is invalid\. Size \(.*\) lower than the minimum")
_DUPLICATED = re.compile(r"^order \S+ is invalid\. Duplicated\.")
_CROSSES_BOOK = re.compile(r"^order \S+ crosses the book")
_TOKEN_RATE_LIMIT = re.compile(r"^Rate limit exceeded for tokenId")
_BANNED = re.compile(r"^'[^']*' address banned")
_CLOSED_ONLY = re.compile(r"^'[^']*' address in closed only mode")
_TOO_MANY_ORDERS = re.compile(r"^Too many orders in payload")
# "429" as an adapter reports it ("HTTP 429", "429 Too Many Requests"); not "4290 ...".
_HTTP_429 = re.compile(r"^(?:HTTP )?429(?!\d)")

# Prefix -> class, tried in order after the patterns.
_PREFIXES: tuple[tuple[str, RejectionClass], ...] = (
    (POST_ONLY_CROSSES, RejectionClass.PRICE_ERROR),
    ("invalid amounts,", RejectionClass.PRICE_ERROR),
    (NOT_ENOUGH_BALANCE, RejectionClass.MARGIN),  # and its variants ": balance is 0", ...
    (TOO_MANY_REQUESTS, RejectionClass.RATE_LIMIT),
    (SERVICE_NOT_READY, RejectionClass.RATE_LIMIT),
    (POST_ONLY_MODE, RejectionClass.RATE_LIMIT),
    ("Trading is currently cancel-only", RejectionClass.RATE_LIMIT),
    ("Trading is currently disabled", RejectionClass.RATE_LIMIT),
    (MARKET_NOT_READY, RejectionClass.RATE_LIMIT),
)
_PATTERNS: tuple[tuple[re.Pattern[str], RejectionClass], ...] = (
    (_PRICE_BREAKS_TICK, RejectionClass.PRICE_ERROR),
    (_SIZE_BELOW_MIN, RejectionClass.PRICE_ERROR),
    (_CROSSES_BOOK, RejectionClass.PRICE_ERROR),
    (_DUPLICATED, RejectionClass.OTHER),
    (_TOKEN_RATE_LIMIT, RejectionClass.RATE_LIMIT),
    (_CLOSED_ONLY, RejectionClass.POSITION_LIMIT),
    (_BANNED, RejectionClass.OTHER),
    (_TOO_MANY_ORDERS, RejectionClass.OTHER),
    (_HTTP_429, RejectionClass.RATE_LIMIT),
)

# ``not_canceled`` reasons meaning the order no longer rests (a fill may be on its way, D24).
_GONE = (NOT_FOUND_OR_CANCELED, ALREADY_MATCHED, ALREADY_MATCHED_LOWER, ALREADY_CANCELED)
# 500 texts after which the order is known not to rest ("safe to resubmit", reference 6).
_NOT_PLACED = (COULD_NOT_INSERT, ORDER_TIMED_OUT)


def classify(text: str) -> RejectionClass:
    """The class of a refusal text (D11).  Unknown text is ``Other``; the caller keeps the raw
    text for the operator."""
    text = text.strip()
    for pattern, rclass in _PATTERNS:
        if pattern.match(text):
            return rclass
    for prefix, rclass in _PREFIXES:
        if text.startswith(prefix):
            return rclass
    return RejectionClass.OTHER


def is_post_only_mode(text: str) -> bool:
    """The venue is in post-only mode (reference 4 "Trading modes")."""
    text = text.strip()
    return text.startswith(POST_ONLY_MODE) or text.startswith(POST_ONLY_MODE_CODE)


def classify_order(text: str, tif: TimeInForce, status: int | None = None) -> RejectionClass:
    """The class of one order's refusal.  Post-only mode refuses only orders that are not
    post-only: for such an order it is ``PriceError`` -- the class that backs off no side on
    its own (a side backs off only after ``price_error_threshold`` of them in a row, and an
    accepted quote on that side resets the run), where ``RateLimit`` would hold every placement,
    the post-only quotes the venue still takes included.  No class holds only non-post-only
    placements (core/rejections.py); the recovery IOC paces itself (D15)."""
    if tif is not TimeInForce.ALO and is_post_only_mode(text):
        return RejectionClass.PRICE_ERROR
    return classify(text) if status is None else classify_status(status, text)


def classify_status(status: int, text: str) -> RejectionClass:
    """The class of a refusal with its HTTP status: 425 (engine restarting), 429 and the 503
    operating modes refuse every placement for a while whatever their words (D29)."""
    if status in (425, 429, 503):
        return RejectionClass.RATE_LIMIT
    return classify(text)


def is_order_gone(reason: str) -> bool:
    """True when a cancel's ``not_canceled`` reason says the order no longer rests: not found,
    already cancelled or already matched (D24: success pending confirmation; a fill may still
    be on its way, D1)."""
    reason = reason.strip()
    return reason.startswith(_GONE) or reason == ORDER_NOT_FOUND


def is_not_placed(text: str) -> bool:
    """A 500 whose text says the order was not inserted ("safe to resubmit"): a definite
    refusal.  Any other 5xx is an unknown outcome (D8)."""
    return text.strip().startswith(_NOT_PLACED)


_TICK_IN_REFUSAL = re.compile(r"breaks minimum tick size rule: ([0-9.]+)")


def tick_in_refusal(text: str) -> str | None:
    """The venue's tick named by a "breaks minimum tick size rule: X" refusal (D39), or None."""
    found = _TICK_IN_REFUSAL.search(text)
    return found.group(1).rstrip(".") if found else None


def is_heartbeat_refused(text: str) -> bool:
    """The dead-man switch refused our heartbeat id: the venue has lapsed it (D40)."""
    return text.strip().startswith(INVALID_HEARTBEAT_ID)


class Texts:
    """The templated texts, written as the venue writes them (the twin's side)."""

    @staticmethod
    def price_breaks_tick(order_id: str, price: str, tick: str) -> str:
        return f"order {order_id} is invalid. Price ({price}) breaks minimum tick size rule: {tick}"

    @staticmethod
    def size_below_min(order_id: str, size: str, minimum: str) -> str:
        return f"order {order_id} is invalid. Size ({size}) lower than the minimum: {minimum}"

    @staticmethod
    def duplicated(order_id: str) -> str:
        return f"order {order_id} is invalid. Duplicated."

    @staticmethod
    def crosses_book(order_id: str) -> str:
        return f"order {order_id} crosses the book"

    @staticmethod
    def address_banned(address: str) -> str:
        return f"'{address}' address banned"

    @staticmethod
    def address_closed_only(address: str) -> str:
        return f"'{address}' address in closed only mode"

    @staticmethod
    def too_many_orders(count: int, allowed: int = MAX_BATCH_ORDERS) -> str:
        return f"Too many orders in payload: {count}, max allowed: {allowed}"

    @staticmethod
    def too_many_cancels(allowed: int = MAX_BATCH_CANCELS) -> str:
        return f"Too many orders in payload, max allowed: {allowed}"

    @staticmethod
    def token_rate_limited(token_id: str) -> str:
        return f"Rate limit exceeded for tokenId: {token_id}"

    @staticmethod
    def invalid_price(price: str, tick: str, top: str) -> str:
        """The official client's own refusal of a price outside [tick, 1 - tick]."""
        return f"invalid price ({price}), min: {tick} - max: {top}"

    @staticmethod
    def invalid_tick_size(tick: str, minimum: str) -> str:
        """The official client's refusal of a tick finer than the market's."""
        return f"invalid tick size ({tick}), minimum for the market is {minimum}"

    @staticmethod
    def timed_out(what: str, timeout_s: float) -> str:
        """Ours, not the venue's: no answer in time (D8)."""
        return f"{what} timed out after {timeout_s:g}s; the venue may have executed it"
