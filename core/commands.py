"""Everything that leaves the market maker: small, immutable, typed commands.

The maker never sends a command on its own; it returns ``Batch``es from ``handle``/``tick``/
``operate`` and the runner (or the simulation loop) submits them.  A venue answers a batch item
by item, echoing ``batch_id`` (D7, D12).  Every placement carries its client order id from the
start (D2).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.events import Side


class TimeInForce(enum.Enum):
    ALO = "Alo"  # post-only: rejected instead of taking liquidity (D23)
    GTC = "Gtc"
    IOC = "Ioc"  # fill what you can, cancel the rest (recovery, D15)


@dataclass(frozen=True, slots=True)
class Place:
    """``level`` is the ladder level of the quoting intent (0 = closest to the touch); ``None``
    for orders outside the ladder (recovery IOCs)."""

    cloid: str
    side: Side
    price: int
    size: int
    tif: TimeInForce = TimeInForce.ALO
    reduce_only: bool = False
    level: int | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    cloid: str | None
    oid: int | None


@dataclass(frozen=True, slots=True)
class Modify:
    """Cancel-and-replace of ``cloid``/``oid`` by a new order ``new_cloid`` (D5)."""

    cloid: str
    oid: int
    new_cloid: str
    side: Side
    price: int
    size: int
    tif: TimeInForce = TimeInForce.ALO
    reduce_only: bool = False
    level: int | None = None


@dataclass(frozen=True, slots=True)
class CancelAll:
    """Venue-wide: every open order of the account, tracked or not (D25)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SetLeverage:
    leverage: int


@dataclass(frozen=True, slots=True)
class QueryOrder:
    cloid: str | None
    oid: int | None


@dataclass(frozen=True, slots=True)
class SyncState:
    """Ask for an open-orders snapshot and the position (answered by ``OpenOrders`` and
    ``PositionSnapshot``, or ``SyncFailed``)."""

    reason: str


@dataclass(frozen=True, slots=True)
class FetchFills:
    """Ask the venue for our fills of the last ``lookback_s`` seconds (Hyperliquid's
    ``userFillsByTime``): answered by ``Fill(snapshot=True)`` events, de-duplicated by trade id
    like any replay (D4), and then ``FillsFetched``.  Sent when the venue said an order traded
    more than the fills we saw (D33) or a fill row could not be read (D34)."""

    lookback_s: float
    reason: str


Command = Place | Cancel | Modify | CancelAll | SetLeverage | QueryOrder | SyncState | FetchFills


@dataclass(frozen=True, slots=True)
class Batch:
    """One submission.  The venue answers each item on its own (D7).

    ``expires_in``: seconds after sending past which the venue must refuse the batch instead
    of executing it (Hyperliquid's ``expiresAfter``), so that a placement that takes too long
    to arrive can never rest after we believed it never placed (D24; swarm seed 1052759)."""

    batch_id: int
    commands: tuple[Command, ...]
    expires_in: float | None = None
