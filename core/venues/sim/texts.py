"""The words the simulated exchange speaks: Hyperliquid's error texts and order statuses.

The texts follow the Hyperliquid reference (section 7), trailing `` asset=<id>`` included, so
that ``core.rejections.classify`` is exercised on realistic strings rather than on names we made
up.  Prices in texts are formatted with ``Decimal`` here and only here.  This module never
decides whether an order is valid; it only says how a decision reads.
"""

from __future__ import annotations

from core.events import VenueStatus
from core.units import Instrument, wire

# Order statuses as the user stream and ``orderStatus`` name them (reference 6.4).
OPEN = "open"
FILLED = "filled"
CANCELED = "canceled"
SELF_TRADE_CANCELED = "selfTradeCanceled"
REDUCE_ONLY_CANCELED = "reduceOnlyCanceled"
TICK_REJECTED = "tickRejected"
MIN_NOTIONAL_REJECTED = "minTradeNtlRejected"
MARGIN_REJECTED = "perpMarginRejected"
REDUCE_ONLY_REJECTED = "reduceOnlyRejected"
MAX_POSITION_REJECTED = "perpMaxPositionRejected"
ALO_REJECTED = "badAloPxRejected"
IOC_REJECTED = "iocCancelRejected"
UNKNOWN_OID = "unknownOid"
# How ``userEvents`` says the venue cancelled an order: ``nonUserCancel`` rows carry only the
# coin and the oid — no cloid, no status, no filled size (reference 6.4).
NON_USER_CANCEL = "nonUserCancel"
# A whole action refused because it arrived after its ``expiresAfter`` (reference 3.9).
ACTION_EXPIRED = "Action already expired"

# Statuses with which the venue takes a resting order down on its own (reference 6.4, D31).
VENUE_CANCEL_STATUSES = (
    "marginCanceled",
    SELF_TRADE_CANCELED,
    REDUCE_ONLY_CANCELED,
    "openInterestCapCanceled",
    "liquidatedCanceled",
    "delistedCanceled",
    "siblingFilledCanceled",
    "scheduledCancel",
    "internalCancel",
)
# Rejections the stream can report for an order that was resting (reference 6.4, D31).
RESTING_REJECT_STATUSES = (
    "rejected",
    MARGIN_REJECTED,
    "tooManyOpenOrdersRejected",
    "openInterestIncreaseRejected",
)
# Status strings Hyperliquid might add tomorrow: none of them is a known status (D6, D35).
TOMORROW_STATUSES = ("expired", "pendingCancel", "waitingForFill", "frozenByRisk")

_STATUS: dict[str, VenueStatus] = {
    OPEN: VenueStatus.OPEN,
    FILLED: VenueStatus.FILLED,
    CANCELED: VenueStatus.CANCELED,
    UNKNOWN_OID: VenueStatus.NOT_FOUND,
    "scheduledCancel": VenueStatus.VENUE_CANCELED,
    "internalCancel": VenueStatus.VENUE_CANCELED,
    NON_USER_CANCEL: VenueStatus.VENUE_CANCELED,
    "rejected": VenueStatus.REJECTED,
}


def venue_status(raw: str) -> VenueStatus:
    """Normalise a raw status: every ``...Canceled`` status (and the cancels that are not
    named so) is the venue's own cancel, every ``...Rejected`` one a rejection; anything else
    is unknown, to be queried, never guessed (D6, D31)."""
    known = _STATUS.get(raw)
    if known is not None:
        return known
    if raw.endswith("Rejected"):
        return VenueStatus.REJECTED
    if raw.endswith("Canceled"):
        return VenueStatus.VENUE_CANCELED
    return VenueStatus.UNKNOWN


class Texts:
    """Error texts for one instrument (the asset id and price format are per instrument)."""

    def __init__(self, instrument: Instrument) -> None:
        self._instrument = instrument
        self._suffix = f" asset={instrument.asset_id}"
        self.zero_size = "Order has zero size." + self._suffix
        self.invalid_size = "Order has invalid size." + self._suffix
        self.invalid_price = "Order has invalid price." + self._suffix
        self.min_notional = (
            f"Order must have minimum value of ${wire(instrument.min_notional)}." + self._suffix
        )
        self.reduce_only = "Reduce only order would increase position." + self._suffix
        self.max_position = (
            "Order would cause position to exceed margin tier limit at current leverage."
            + self._suffix
        )
        self.margin = "Insufficient margin to place order." + self._suffix
        self.ioc_no_match = (
            "Order could not immediately match against any resting orders." + self._suffix
        )
        self.cancel_gone = "Order was never placed, already canceled, or filled." + self._suffix
        self.modify_gone = "Cannot modify canceled or filled order"
        self.rate_limited = "HTTP 429 Too Many Requests"

    def alo_would_cross(self, best_bid: int | None, best_ask: int | None) -> str:
        bid = "0" if best_bid is None else wire(self._instrument.ticks_to_price(best_bid))
        ask = "0" if best_ask is None else wire(self._instrument.ticks_to_price(best_ask))
        return f"Post only order would have immediately matched, bbo was {bid}@{ask}." + (
            self._suffix
        )

    @staticmethod
    def modify_failed(inner: str) -> str:
        """The cancel leg of a modify succeeded, the new order did not: the original is gone."""
        return f"Error placing new order during modify: {inner}"

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
