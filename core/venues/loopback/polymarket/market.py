"""The Polymarket twin's market: one binary condition, its two outcome tokens, and our records.

The embedded exchange runs one book, the YES token's.  The NO token is its mirror, as the CLOB
matches complementary orders: buying NO at ``p`` is selling YES at ``1 - p`` (reference section
1), so a NO order rests in the exchange as the opposite side at the mirrored price, and the NO
book is the YES book turned over.  ``Token`` converts both ways.

``PmOrder`` and ``PmTrade`` are what the venue keeps and lists (``/data/orders``,
``/data/trades``, the user channel).  Balances are the exchange's (its binary account reserves
for open orders and unsettled trades, as the venue does).  Prices are ticks of 0.0001 (the
instrument's unit) and sizes lots of 0.01 share, so price x size is millionths of pUSD, the
venue's own base unit.  No I/O, no clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.events import Side

ONE = 10_000  # ticks in a price of 1
UNITS_PER_LOT = 10_000  # the venue's 6-decimal base units in one lot (0.01 share)


def decimal_text(value: Decimal) -> str:
    """A decimal as the venue writes it: no exponent, no trailing zeros ("0.5", "10")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def derived_id(seed: int, what: str, digits: int) -> str:
    """A stable decimal id (token ids are 77-78 digit numbers on the venue)."""
    digest = hashlib.sha256(f"{seed}:{what}".encode()).hexdigest()
    return str(int(digest, 16))[:digits]


def derived_hex(seed: int, what: str) -> str:
    return "0x" + hashlib.sha256(f"{seed}:{what}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Token:
    """One outcome token: its id, its outcome name, and whether it is the mirrored one."""

    token_id: str
    outcome: str  # "Yes" / "No"
    mirrored: bool

    def to_engine(self, buy: bool, price: int) -> tuple[Side, int]:
        """(exchange side, exchange price) of an order on this token."""
        if not self.mirrored:
            return (Side.BID if buy else Side.ASK), price
        return (Side.ASK if buy else Side.BID), ONE - price

    def from_engine(self, side: Side, price: int) -> tuple[bool, int]:
        """(buy, price on this token) of an exchange side and price."""
        if not self.mirrored:
            return side is Side.BID, price
        return side is Side.ASK, ONE - price


@dataclass(eq=False)
class PmOrder:
    """One of our orders as the venue keeps it (keyed by its EIP-712 digest)."""

    order_id: str
    token: Token
    buy: bool
    price: int  # ticks, on its token
    size: int  # lots, as placed
    order_type: str
    expiration: str
    owner: str  # the API key that placed it
    maker: str  # the funder address
    placed_by: str  # the address of the credentials that placed it (``POLY_ADDRESS``)
    created_at: int  # Unix s
    engine_oid: int | None = None
    matched: int = 0  # lots
    status: str = "LIVE"  # LIVE, MATCHED, CANCELED
    trades: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.size - self.matched if self.status == "LIVE" else 0

    @property
    def side_text(self) -> str:
        return "BUY" if self.buy else "SELL"


@dataclass(eq=False)
class PmTrade:
    """One match of ours, from our side of it (``trader_side``), and its settlement."""

    trade_id: str
    taker_order_id: str
    tid: int  # the exchange's
    trader_side: str  # "TAKER" / "MAKER"
    order: PmOrder  # ours
    buy: bool  # our side, on our order's token
    price: int  # ticks on our order's token
    size: int  # lots
    fee: int  # millionths of pUSD (takers only)
    match_time: int  # Unix s
    counterparty: dict[str, Any]  # the other side: as a maker entry, or the taker's fields
    status: str = "MATCHED"
    transaction_hash: str = ""
    last_update: int = 0

    @property
    def final(self) -> bool:
        return self.status in ("CONFIRMED", "FAILED")
