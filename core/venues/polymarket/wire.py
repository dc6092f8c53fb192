"""Polymarket's wire format as pydantic models: the REST answers and WebSocket frames the
connector reads (reference 4 and 5).

Answers are parsed leniently: unknown keys are ignored (the venue adds fields over time),
optional keys may be missing or ``null``, and keys the connector never reads are not declared.
Prices and sizes stay decimal strings here ("all numbers are strings" on the WebSocket); the
few numbers the REST market endpoints send as JSON numbers (``minimum_tick_size``, ``mts``) are
accepted as either.  They become ticks and lots once, in ``mapping``.

A message of many rows (``price_changes``, ``maker_orders``, a page's ``data``) keeps its rows
as raw values (``list[Any]``): each row is read on its own in ``mapping``, so one bad row never
loses the others (D34).

Requests are plain JSON built in ``venue`` (the order entries by the official
``order_to_json_v2``); this module only describes what comes back.  No units, no I/O.

Why one module of about 250 lines: a catalogue of the venue's shapes, one small model each,
read like the reference it follows.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

WireSide = Literal["BUY", "SELL"]
# A decimal the venue writes as a string (prices, sizes, amounts).
Dec = StrictStr
# A number the venue writes as a JSON number or a string (ticks and sizes of market info).
Num = StrictStr | StrictInt | StrictFloat
# A time in seconds or milliseconds, as a string or an integer.
Stamp = StrictStr | Annotated[StrictInt, Field(ge=0, lt=2**63)]
# Bounded text: ids and words are short; a megabyte of "id" is a corrupt frame.
Text = Annotated[StrictStr, Field(max_length=256)]
# The terminal cursor of a paginated listing (reference 4).
END_CURSOR = "LTE="
FIRST_CURSOR = "MA=="


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# ---- books (GET /book, the market channel's ``book``) --------------------------------------


class Level(_Answer):
    price: Dec
    size: Dec


class Book(_Answer):
    """``GET /book`` and the ``book`` event: full depth, best price LAST on each side."""

    asset_id: Text
    market: Text | None = None
    bids: list[Level]
    asks: list[Level]
    timestamp: Stamp | None = None
    hash: StrictStr | None = None
    # GET /book only:
    min_order_size: Num | None = None
    tick_size: Num | None = None
    neg_risk: StrictBool | None = None


class PriceChange(_Answer):
    """One row of ``price_changes``: ``size`` is the level's new total, "0" removes it."""

    asset_id: Text
    price: Dec
    size: Dec
    side: WireSide


class PriceChanges(_Answer):
    market: Text | None = None
    timestamp: Stamp | None = None
    price_changes: list[Any]


class TickSizeChange(_Answer):
    asset_id: Text
    market: Text | None = None
    old_tick_size: Num | None = None
    new_tick_size: Num
    timestamp: Stamp | None = None


class LastTradePrice(_Answer):
    asset_id: Text
    price: Dec
    side: WireSide
    size: Dec
    timestamp: Stamp | None = None


class EventHead(_Answer):
    """What every WebSocket event says it is."""

    event_type: Text


# ---- orders (user channel ``order``, GET /data/orders rows, GET /data/order/{id}) ----------


class Order(_Answer):
    """An order as the venue lists or streams it.  ``type`` (PLACEMENT, UPDATE, CANCELLATION)
    only on the user channel."""

    id: Text
    type: Text | None = None
    status: Text | None = None
    owner: Text | None = None
    market: Text | None = None
    asset_id: Text
    side: WireSide
    price: Dec
    original_size: Dec
    size_matched: Dec = "0"
    order_type: Text | None = None
    created_at: Stamp | None = None
    timestamp: Stamp | None = None


# ---- trades (user channel ``trade``, GET /data/trades rows) -------------------------------


class MakerOrder(_Answer):
    """One maker's part of a trade, from that maker's side: its own token, side and price."""

    order_id: Text
    owner: Text | None = None
    matched_amount: Dec
    price: Dec
    asset_id: Text
    side: WireSide
    fee_rate_bps: Dec | None = None


class Trade(_Answer):
    """A match.  The top-level ``side``/``price``/``size``/``asset_id`` are the TAKER's;
    makers find theirs in ``maker_orders`` (reference 5, 7.11)."""

    id: Text
    taker_order_id: Text | None = None
    market: Text | None = None
    asset_id: Text
    side: WireSide
    size: Dec
    price: Dec
    status: Text
    fee_rate_bps: Dec | None = None
    match_time: Stamp | None = None
    last_update: Stamp | None = None
    owner: Text | None = None
    trader_side: Text | None = None
    maker_orders: list[Any] | None = None
    transaction_hash: StrictStr | None = None


# ---- pages, answers to commands ------------------------------------------------------------


class Page(_Answer):
    """A paginated listing: ``data`` rows, read one by one; ``next_cursor`` ``LTE=`` at the
    end."""

    data: list[Any]
    next_cursor: StrictStr | None = None


class PostResult(_Answer):
    """One item of ``POST /orders`` (or the answer of ``POST /order``).  Rejected when
    ``errorMsg`` is not empty or ``orderID`` is (D7, reference 4)."""

    success: StrictBool | None = None
    errorMsg: StrictStr | None = ""
    orderID: StrictStr | None = ""
    status: StrictStr | None = ""
    makingAmount: StrictStr | None = ""
    takingAmount: StrictStr | None = ""


class CancelResult(_Answer):
    """``DELETE /order(s)`` and ``/cancel-market-orders``: which went, which did not and why."""

    canceled: list[StrictStr] | None = None
    not_canceled: dict[StrictStr, Any] | None = None


class HeartbeatAnswer(_Answer):
    heartbeat_id: StrictStr


class ErrorAnswer(_Answer):
    """``{"error": text}`` (``error_msg`` on some pages); a refused heartbeat adds the id the
    venue expected."""

    error: StrictStr | None = None
    error_msg: StrictStr | None = None
    code: StrictStr | None = None
    retry_after_seconds: Num | None = None
    heartbeat_id: StrictStr | None = None

    @property
    def text(self) -> str:
        return self.error or self.error_msg or ""


class BalanceAllowance(_Answer):
    """``GET /balance-allowance``: the balance in base units (1e-6)."""

    balance: Num


# ---- market info --------------------------------------------------------------------------


class Token(_Answer):
    token_id: Text
    outcome: StrictStr | None = None


class Market(_Answer):
    """``GET /markets/{condition_id}``."""

    condition_id: Text
    question: StrictStr | None = None
    market_slug: StrictStr | None = None
    tokens: list[Token]
    minimum_order_size: Num | None = None
    minimum_tick_size: Num | None = None
    neg_risk: StrictBool | None = None
    accepting_orders: StrictBool | None = None
    active: StrictBool | None = None
    closed: StrictBool | None = None


class ClobToken(_Answer):
    t: Text
    o: StrictStr | None = None


class ClobMarket(_Answer):
    """``GET /clob-markets/{condition_id}`` (compressed keys; ``nr`` omitted when false)."""

    t: list[ClobToken]
    mts: Num | None = None
    mos: Num | None = None
    nr: StrictBool | None = None


class MarketByToken(_Answer):
    """``GET /markets-by-token/{token_id}``."""

    condition_id: Text
    primary_token_id: Text | None = None
    secondary_token_id: Text | None = None


class TickSizeAnswer(_Answer):
    minimum_tick_size: Num


class NegRiskAnswer(_Answer):
    neg_risk: StrictBool
