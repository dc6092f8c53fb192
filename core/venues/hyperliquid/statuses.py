"""Hyperliquid's order statuses: their names, and what each means (reference 6.4).

``venue_status`` is the one normalisation of a status string (``orderUpdates``, ``orderStatus``,
and the words the embedded exchange and the loopback twin use): every ``...Canceled`` status
(and the cancels not named so) is the venue's own cancel, every ``...Rejected`` one a rejection
with its ``RejectionClass`` (D11, D31); anything else is ``UNKNOWN``, to be queried, never
guessed (D6).  Statuses are case-sensitive.

This module only names and normalises; it never decides what to do about an order.
"""

from __future__ import annotations

from core.events import RejectionClass, VenueStatus

OPEN = "open"
TRIGGERED = "triggered"
FILLED = "filled"
CANCELED = "canceled"
SELF_TRADE_CANCELED = "selfTradeCanceled"
REDUCE_ONLY_CANCELED = "reduceOnlyCanceled"
SCHEDULED_CANCEL = "scheduledCancel"
INTERNAL_CANCEL = "internalCancel"
TICK_REJECTED = "tickRejected"
MIN_NOTIONAL_REJECTED = "minTradeNtlRejected"
MARGIN_REJECTED = "perpMarginRejected"
REDUCE_ONLY_REJECTED = "reduceOnlyRejected"
MAX_POSITION_REJECTED = "perpMaxPositionRejected"
ALO_REJECTED = "badAloPxRejected"
IOC_REJECTED = "iocCancelRejected"
REJECTED = "rejected"
# What ``orderStatus`` answers for an order it does not know.
UNKNOWN_OID = "unknownOid"
# How ``userEvents`` says the venue cancelled an order: ``nonUserCancel`` rows carry only the
# coin and the oid -- no cloid, no status, no filled size (reference 6.4).
NON_USER_CANCEL = "nonUserCancel"

# An order taken down because its account is being liquidated (D41).
LIQUIDATED_CANCELED = "liquidatedCanceled"
# Statuses with which the venue takes a resting order down on its own (reference 6.4, D31).
VENUE_CANCEL_STATUSES = (
    "marginCanceled",
    SELF_TRADE_CANCELED,
    REDUCE_ONLY_CANCELED,
    "openInterestCapCanceled",
    LIQUIDATED_CANCELED,
    "delistedCanceled",
    "siblingFilledCanceled",
    SCHEDULED_CANCEL,
    INTERNAL_CANCEL,
)
# Rejections the stream can report for an order that was resting (reference 6.4, D31).
RESTING_REJECT_STATUSES = (
    REJECTED,
    MARGIN_REJECTED,
    "tooManyOpenOrdersRejected",
    "openInterestIncreaseRejected",
)

_STATUS: dict[str, VenueStatus] = {
    OPEN: VenueStatus.OPEN,
    TRIGGERED: VenueStatus.OPEN,
    FILLED: VenueStatus.FILLED,
    CANCELED: VenueStatus.CANCELED,
    SCHEDULED_CANCEL: VenueStatus.VENUE_CANCELED,
    INTERNAL_CANCEL: VenueStatus.VENUE_CANCELED,
    NON_USER_CANCEL: VenueStatus.VENUE_CANCELED,
    UNKNOWN_OID: VenueStatus.NOT_FOUND,
}

# Statuses that are rejections, by class (reference 7).
_STATUS_CLASSES: dict[str, RejectionClass] = {
    MARGIN_REJECTED: RejectionClass.MARGIN,
    "insufficientSpotBalanceRejected": RejectionClass.MARGIN,
    "marginCanceled": RejectionClass.MARGIN,
    TICK_REJECTED: RejectionClass.PRICE_ERROR,
    MIN_NOTIONAL_REJECTED: RejectionClass.PRICE_ERROR,
    ALO_REJECTED: RejectionClass.PRICE_ERROR,
    "badTriggerPxRejected": RejectionClass.PRICE_ERROR,
    "oracleRejected": RejectionClass.PRICE_ERROR,
    REDUCE_ONLY_REJECTED: RejectionClass.STALE_POSITION,  # D26: our position is stale
    "positionIncreaseAtOpenInterestCapRejected": RejectionClass.POSITION_LIMIT,
    "positionFlipAtOpenInterestCapRejected": RejectionClass.POSITION_LIMIT,
    "tooAggressiveAtOpenInterestCapRejected": RejectionClass.POSITION_LIMIT,
    "openInterestIncreaseRejected": RejectionClass.POSITION_LIMIT,
    MAX_POSITION_REJECTED: RejectionClass.POSITION_LIMIT,
    "tooManyOpenOrdersRejected": RejectionClass.POSITION_LIMIT,
    "openInterestCapCanceled": RejectionClass.POSITION_LIMIT,
    IOC_REJECTED: RejectionClass.OTHER,
    "marketOrderNoLiquidityRejected": RejectionClass.OTHER,
    REJECTED: RejectionClass.OTHER,
}


def classify_status(raw: str) -> RejectionClass:
    """The class of a status that is a rejection (``badAloPxRejected`` ...); ``Other`` for one
    not in the reference."""
    return _STATUS_CLASSES.get(raw, RejectionClass.OTHER)


def venue_status(raw: str) -> tuple[VenueStatus, RejectionClass | None]:
    """A status string normalised, with the class of a rejection (None for anything else)."""
    known = _STATUS.get(raw)
    if known is not None:
        return known, None
    if raw == REJECTED or raw.endswith("Rejected"):
        return VenueStatus.REJECTED, classify_status(raw)
    if raw.endswith("Canceled"):
        return VenueStatus.VENUE_CANCELED, None
    return VenueStatus.UNKNOWN, None
