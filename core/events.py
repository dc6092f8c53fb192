"""Everything that enters the market maker: small, immutable, typed events.

A venue adapter (simulated or Hyperliquid) turns its wire messages into these and nothing else;
the maker never sees a venue's wire format.  Prices are ``int`` ticks and sizes ``int`` lots
(D20).  Error text arrives already classified (``RejectionClass``) with the raw text kept for
the operator (D11).  Times are seconds as floats in the venue's clock when it gives one
(``venue_time``); the receive time is the ``now`` passed to ``MarketMaker.handle``.

Answers to a submitted ``Batch`` carry its ``batch_id`` so that a rejected batch counts as one
event for backoff (D12) while each item is still applied on its own (D7).

One module of about 420 lines on purpose: it is the contract every venue and the maker share,
and a newcomer should read every event in one place, as the list of what can happen.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Side(enum.Enum):
    """Our side of an order: a bid buys, an ask sells."""

    BID = "bid"
    ASK = "ask"

    # Singletons: identity hashing is exact and far cheaper than Enum's name hashing; sides key
    # dictionaries on every event.  (Iteration of our dicts never depends on hashes.)
    __hash__ = object.__hash__

    @property
    def sign(self) -> int:
        """+1 for a bid (a fill adds to the position), -1 for an ask."""
        return 1 if self is Side.BID else -1

    @property
    def opposite(self) -> Side:
        return Side.ASK if self is Side.BID else Side.BID


class RejectionClass(enum.Enum):
    """What a rejection means for quoting (D11), as the venue adapter classified it.

    ``STALE_POSITION`` is the ``PositionLimit`` of D26: the venue says a reduce-only order would
    increase the position, so our position is stale (refresh it, retry once).  It is counted and
    shown as ``PositionLimit`` (``category``)."""

    POSITION_LIMIT = "PositionLimit"
    STALE_POSITION = "StalePosition"
    MARGIN = "Margin"
    PRICE_ERROR = "PriceError"
    RATE_LIMIT = "RateLimit"
    OTHER = "Other"

    __hash__ = object.__hash__

    @property
    def category(self) -> RejectionClass:
        """The D11 class this one counts and shows as (``PositionLimit`` for a stale
        position, itself for every other)."""
        return RejectionClass.POSITION_LIMIT if self is RejectionClass.STALE_POSITION else self


class Liquidity(enum.Enum):
    MAKER = "maker"
    TAKER = "taker"


class AckStatus(enum.Enum):
    """How a placement answer left the order (D3: a partial immediate fill is not terminal)."""

    RESTING = "resting"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"


class VenueStatus(enum.Enum):
    """An order's status as the venue reports it, normalised from the venue's own strings."""

    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"  # by us
    VENUE_CANCELED = "venue_canceled"  # margin, self-trade, scheduled cancel, ...
    REJECTED = "rejected"
    NOT_FOUND = "not_found"  # the venue does not know the order (only from a status query)
    UNKNOWN = "unknown"  # a status string we do not know: query, never guess (D6)


# ---- market data ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Full depth, best level first on each side: ``(price_ticks, size_lots)``."""

    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    venue_time: float | None = None


@dataclass(frozen=True, slots=True)
class BookDelta:
    """One level changed; ``size == 0`` removes the level."""

    side: Side
    price: int
    size: int
    venue_time: float | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    """A public trade; ``side`` is the aggressor's side."""

    side: Side
    price: int
    size: int
    venue_time: float | None = None
    tid: int | None = None  # the match's id where the venue gives it (the same as our fill's)


# ---- answers to our commands ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceAck:
    """The venue accepted a placement.  ``filled``/``filled_value`` report what traded at once
    (a total, without trade ids: the trap of D4).  ``filled_value`` is ticks x lots."""

    cloid: str
    oid: int
    status: AckStatus
    filled: int = 0
    filled_value: int = 0
    batch_id: int | None = None
    venue_time: float | None = None


@dataclass(frozen=True, slots=True)
class PlaceRejected:
    cloid: str
    reason: str
    rclass: RejectionClass
    batch_id: int | None = None
    venue_time: float | None = None


@dataclass(frozen=True, slots=True)
class PlaceUnknown:
    """No answer (timeout, lost connection): the order may be live (D8)."""

    cloid: str
    reason: str
    batch_id: int | None = None


@dataclass(frozen=True, slots=True)
class CancelAck:
    cloid: str | None
    oid: int | None
    batch_id: int | None = None


@dataclass(frozen=True, slots=True)
class CancelRejected:
    """``gone`` is true for "never placed, already canceled, or filled": the order is no longer
    live but a fill may still be on its way (D5, D24)."""

    cloid: str | None
    oid: int | None
    reason: str
    gone: bool
    rclass: RejectionClass = RejectionClass.OTHER
    batch_id: int | None = None


@dataclass(frozen=True, slots=True)
class CancelUnknown:
    """A cancel with no answer: resolved by a status query, never read as cancelled (D24)."""

    cloid: str | None
    oid: int | None
    reason: str
    batch_id: int | None = None


@dataclass(frozen=True, slots=True)
class ModifyAck:
    """A modify is cancel-and-replace: the original ``cloid`` is gone, ``new_cloid`` lives on
    under a new ``oid`` (D5)."""

    cloid: str
    new_cloid: str
    oid: int
    status: AckStatus
    filled: int = 0
    filled_value: int = 0
    batch_id: int | None = None
    venue_time: float | None = None  # when it traded, if ``filled`` (D16 lines fills up by it)


@dataclass(frozen=True, slots=True)
class ModifyRejected:
    """``original_gone``: the original order no longer rests ("Cannot modify canceled or filled
    order", or the replacement failed after the cancel leg).  ``raced``: it was gone before the
    modify arrived (filled or cancelled), so the venue never judged the replacement (D5); the
    adapter that read the venue's text says so, the maker never reads the text."""

    cloid: str
    new_cloid: str
    reason: str
    rclass: RejectionClass
    original_gone: bool
    batch_id: int | None = None
    raced: bool = False


# ---- the user stream --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """An order's status as the venue streams it.  ``filled`` is how much of the order the
    venue says has traded (original size minus what rests), or None when it does not say: more
    than we have counted is a gap in our fills (D33)."""

    oid: int | None
    cloid: str | None
    status: VenueStatus
    raw_status: str
    rclass: RejectionClass | None = None
    venue_time: float | None = None
    filled: int | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of ours with its unique trade id (the key of D4's de-duplication)."""

    tid: int
    oid: int | None
    cloid: str | None
    side: Side
    price: int
    size: int
    liquidity: Liquidity
    venue_time: float | None = None
    snapshot: bool = False  # replayed history after a (re)subscribe
    # D41: set when the venue marks this fill as the liquidation of our account or an
    # auto-deleveraging of our position (what it said): never just another fill.
    liquidation: str | None = None
    # D36: what the venue charged, in millionths of ``fee_token`` (a rebate is negative), and
    # the PnL it says the fill closed, in millionths of the quote (None: it does not say).
    fee: int = 0
    fee_token: str = ""
    closed_pnl: int | None = None
    start_position: int | None = None  # the venue's position before this fill, signed lots
    # D38: False while the venue may still undo the trade (Polymarket: MATCHED, MINED,
    # RETRYING); a ``FillSettled`` later makes it final or reverses it.
    final: bool = True


@dataclass(frozen=True, slots=True)
class Funding:
    """D36: one funding payment on our position, in millionths of the quote: positive when we
    received it.  The venue's time is its identity (one payment per market per interval), so a
    replay after a reconnect (``snapshot``) is never counted twice."""

    amount: int
    venue_time: float
    rate: str = ""  # the venue's hourly rate as it wrote it (display only)
    snapshot: bool = False


# ---- state snapshots and queries --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """One open order as the venue lists it (``size`` is what still rests)."""

    oid: int
    cloid: str | None
    side: Side
    price: int
    size: int
    orig_size: int
    placed_time: float | None = None


@dataclass(frozen=True, slots=True)
class OpenOrders:
    """The venue's open orders.  ``bad_rows`` counts rows the adapter could not read (D34): the
    good ones are here, but the snapshot is incomplete and never proves the venue empty (D25)."""

    orders: tuple[VenueOrder, ...]
    venue_time: float | None = None
    bad_rows: int = 0


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """Signed position in lots; ``entry_value`` is |position| x entry price in ticks x lots."""

    position: int
    entry_value: int | None = None
    venue_time: float | None = None


@dataclass(frozen=True, slots=True)
class LeverageInfo:
    """The leverage the venue really applies (D14), and where we learnt it."""

    leverage: int
    source: str


@dataclass(frozen=True, slots=True)
class OrderStatusReport:
    """Answer to ``QueryOrder``: definitive, unlike silence (D24)."""

    cloid: str | None
    oid: int | None
    status: VenueStatus
    raw_status: str
    remaining: int = 0
    filled: int = 0


@dataclass(frozen=True, slots=True)
class QueryFailed:
    """A status query that got no answer: retried, never read as "cancelled" (D24), and paced
    (D29: ``rate_limited`` when the venue said 429)."""

    cloid: str | None
    oid: int | None
    reason: str
    rate_limited: bool = False


@dataclass(frozen=True, slots=True)
class CancelAllDone:
    """The venue-wide sweep finished: how many orders it cancelled and how many it could not
    (D25).  ``error`` is set when it could not even list the open orders (nothing was
    cancelled; ``rate_limited`` when the venue said 429): the maker retries, paced (D29)."""

    swept: int
    failed: int
    batch_id: int | None = None
    error: str = ""
    rate_limited: bool = False


@dataclass(frozen=True, slots=True)
class SyncFailed:
    """A state sync (open orders / position) could not be completed (``rate_limited``: 429)."""

    reason: str
    rate_limited: bool = False


@dataclass(frozen=True, slots=True)
class FillsFetched:
    """The end of the answer to ``FetchFills``: the fills themselves came before it as
    ``Fill(snapshot=True)`` events (``count`` of them).  ``error`` (and ``rate_limited``) when
    the venue could not be asked; ``bad_rows`` it could not read (D33, D34)."""

    count: int
    error: str = ""
    rate_limited: bool = False
    bad_rows: int = 0


# ---- connection -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    venue: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    reason: str


@dataclass(frozen=True, slots=True)
class Liquidated:
    """D41: the venue says our account was liquidated (an account event naming us, apart
    from the fills): an emergency, whatever the fills say."""

    text: str
    venue_time: float | None = None


@dataclass(frozen=True, slots=True)
class VenueNotice:
    """A malformed or unknown venue message: logged and counted, never a state change."""

    kind: str
    text: str


class Channel(enum.Enum):
    """Which kind of venue message a ``MalformedMessage`` was: it says what may have been lost."""

    FILLS = "fills"  # our fills: a trade may be missing from the position
    ORDER_UPDATES = "order updates"  # our orders' statuses: an order may have changed
    MARKET = "market data"  # book and public trades: nothing of ours is lost
    OTHER = "other"

    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True)
class MalformedMessage:
    """D34: rows of a venue message that could not be read.  The good rows of the same message
    were delivered as their own events; the bad ones are counted, reported and reconciled
    (fills are fetched again, orders re-synced).  ``bad_rows`` is 1 for a message that could
    not be read at all."""

    channel: Channel
    bad_rows: int
    good_rows: int
    text: str


@dataclass(frozen=True, slots=True)
class FillSettled:
    """D38: the venue's last word on a provisional fill: ``confirmed`` (final) or not (FAILED:
    nothing moved, the fill is void and reversed once).  ``status`` is the venue's word."""

    tid: int
    confirmed: bool
    status: str
    venue_time: float | None = None


@dataclass(frozen=True, slots=True)
class TickSizeChanged:
    """D39: the venue moved the price grid.  ``grid`` is the new tick in ticks of the
    instrument's unit (``Instrument.tick_size``, which never changes), ``tick`` the venue's
    text.  Every quote off the new grid is cancelled or re-priced at once."""

    grid: int
    tick: str
    venue_time: float | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatState:
    """D40: the venue's dead-man switch as the connector keeps it.  ``armed``: heartbeats are
    being accepted; ``lapsed``: the venue may have cancelled every order (a heartbeat was
    refused or none was answered within the venue's window) -- every order is presumed gone,
    the maker sweeps and verifies.  ``text`` says why, for the operator."""

    armed: bool
    lapsed: bool
    text: str
    venue_time: float | None = None


Event = (
    BookSnapshot
    | BookDelta
    | Trade
    | PlaceAck
    | PlaceRejected
    | PlaceUnknown
    | CancelAck
    | CancelRejected
    | CancelUnknown
    | ModifyAck
    | ModifyRejected
    | OrderUpdate
    | Fill
    | OpenOrders
    | PositionSnapshot
    | LeverageInfo
    | OrderStatusReport
    | QueryFailed
    | CancelAllDone
    | SyncFailed
    | FillsFetched
    | Connected
    | Disconnected
    | Liquidated
    | VenueNotice
    | MalformedMessage
    | Funding
    | FillSettled
    | TickSizeChanged
    | HeartbeatState
)
