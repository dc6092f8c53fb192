"""The words of the venue the embedded exchange's market models, and how it reads them back.

The exchange's rules are its own (``engine``: which order is refused, in what order the checks
run, what a cancel finds); only how a decision reads depends on the venue.  A perp market
(``SimConfig.market = "perp"``) is Hyperliquid's and speaks ``core.venues.hyperliquid.errors``
and ``statuses``; a binary market is Polymarket's and speaks ``core.venues.polymarket.errors``
and ``statuses``.  Taking the words from the connectors' own modules means each connector's
classifier is exercised on the strings its venue writes, never on names made up here, and a
client of a binary market never meets Hyperliquid's words (the Polymarket twin passes the
exchange's refusals on as they are).

This is the one module of ``core.venues.sim`` that imports a venue package (an import-linter
contract keeps it so).  It words and reads; it never decides whether an order is valid.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NamedTuple, NoReturn, Protocol

from core.events import RejectionClass, VenueStatus
from core.units import Instrument, wire
from core.venues.hyperliquid import errors as hl_errors
from core.venues.hyperliquid import statuses as hl_statuses
from core.venues.polymarket import errors as pm_errors
from core.venues.polymarket import statuses as pm_statuses


class Refusal(NamedTuple):
    """An order refused: what the answer says, and the status word the stream ends the order
    with (None: only the answer tells)."""

    text: str
    status: str | None


class Dialect(Protocol):
    """How one venue words what the exchange decides, and how it reads its own words.

    A rule the venue does not have (Polymarket's minimum order value, Hyperliquid's post-only
    mode) raises: its market never asks, and a made-up text would hide the mistake if it did.
    """

    # Status words: on the stream, and in status answers (``AccountOrder.raw_status``).
    open: str
    filled: str
    canceled: str  # our cancel, and the cancel leg of a modify
    self_trade_canceled: str
    reduce_only_canceled: str
    liquidated_canceled: str  # D41
    heartbeat_canceled: str  # the dead-man switch's cancel (D40)
    unknown_order: str  # a status answer for an order the venue does not know
    # A venue cancel told by oid only, as Hyperliquid's ``userEvents`` does (None: never).
    non_user_cancel: str | None
    # What the fault plan's adversary has the venue take a resting order down with (D31).
    venue_cancels: tuple[str, ...]
    resting_rejects: tuple[str, ...]

    # An order refused by the engine's checks, in the engine's order.
    def bad_size(self, inst: Instrument, cloid: str, lots: int) -> Refusal: ...
    def bad_price(self, inst: Instrument, cloid: str, ticks: int) -> Refusal: ...
    def below_min_value(self, inst: Instrument) -> Refusal: ...
    def reduce_only(self, inst: Instrument) -> Refusal: ...
    def above_max_position(self, inst: Instrument) -> Refusal: ...
    def no_funds(self, inst: Instrument) -> Refusal: ...
    def alo_crosses(
        self, inst: Instrument, best_bid: int | None, best_ask: int | None
    ) -> Refusal: ...

    def ioc_unmatched(self, inst: Instrument) -> Refusal: ...

    # Refusals of a request rather than of an order's terms.
    def cancel_gone(self, inst: Instrument) -> str: ...
    def modify_gone(self, inst: Instrument) -> str: ...
    def modify_failed(self, inner: str) -> str: ...
    def rate_limited(self, inst: Instrument) -> str: ...
    def expired(self) -> str: ...
    def post_only_mode(self) -> str: ...
    def timed_out(self, what: str, timeout_s: float) -> str: ...

    def leverage(self, requested: int, current: int, cap: int) -> tuple[int, str]:
        """The leverage an ``updateLeverage`` leaves, and what the answer says."""
        ...

    # Reading words back, as the venue's connector does.
    def classify(self, text: str) -> RejectionClass: ...
    def venue_status(self, word: str) -> tuple[VenueStatus, RejectionClass | None]: ...


@lru_cache(maxsize=8)
def _hl_texts(inst: Instrument) -> hl_errors.Texts:
    """Hyperliquid's texts name the asset and the minimum value: one set per instrument."""
    return hl_errors.Texts(inst)


class Hyperliquid:
    """A perp's words: every check has its own status word on ``orderUpdates``."""

    open = hl_statuses.OPEN
    filled = hl_statuses.FILLED
    canceled = hl_statuses.CANCELED
    self_trade_canceled = hl_statuses.SELF_TRADE_CANCELED
    reduce_only_canceled = hl_statuses.REDUCE_ONLY_CANCELED
    liquidated_canceled = hl_statuses.LIQUIDATED_CANCELED
    heartbeat_canceled = hl_statuses.SCHEDULED_CANCEL
    unknown_order = hl_statuses.UNKNOWN_OID
    non_user_cancel: str | None = hl_statuses.NON_USER_CANCEL
    venue_cancels: tuple[str, ...] = hl_statuses.VENUE_CANCEL_STATUSES
    resting_rejects: tuple[str, ...] = hl_statuses.RESTING_REJECT_STATUSES

    def bad_size(self, inst: Instrument, cloid: str, lots: int) -> Refusal:
        texts = _hl_texts(inst)
        return Refusal(texts.zero_size if lots == 0 else texts.invalid_size, None)

    def bad_price(self, inst: Instrument, cloid: str, ticks: int) -> Refusal:
        return Refusal(_hl_texts(inst).invalid_price, hl_statuses.TICK_REJECTED)

    def below_min_value(self, inst: Instrument) -> Refusal:
        return Refusal(_hl_texts(inst).min_notional, hl_statuses.MIN_NOTIONAL_REJECTED)

    def reduce_only(self, inst: Instrument) -> Refusal:
        return Refusal(_hl_texts(inst).reduce_only, hl_statuses.REDUCE_ONLY_REJECTED)

    def above_max_position(self, inst: Instrument) -> Refusal:
        return Refusal(_hl_texts(inst).max_position, hl_statuses.MAX_POSITION_REJECTED)

    def no_funds(self, inst: Instrument) -> Refusal:
        return Refusal(_hl_texts(inst).margin, hl_statuses.MARGIN_REJECTED)

    def alo_crosses(self, inst: Instrument, best_bid: int | None, best_ask: int | None) -> Refusal:
        text = _hl_texts(inst).alo_would_cross(best_bid, best_ask)
        return Refusal(text, hl_statuses.ALO_REJECTED)

    def ioc_unmatched(self, inst: Instrument) -> Refusal:
        return Refusal(_hl_texts(inst).ioc_no_match, hl_statuses.IOC_REJECTED)

    def cancel_gone(self, inst: Instrument) -> str:
        return _hl_texts(inst).cancel_gone

    def modify_gone(self, inst: Instrument) -> str:
        return _hl_texts(inst).modify_gone

    def modify_failed(self, inner: str) -> str:
        return hl_errors.Texts.modify_failed(inner)

    def rate_limited(self, inst: Instrument) -> str:
        return _hl_texts(inst).rate_limited

    def expired(self) -> str:
        return hl_errors.ACTION_EXPIRED

    def post_only_mode(self) -> NoReturn:
        raise ValueError("Hyperliquid has no post-only mode (a perp refuses the fault knob)")

    def timed_out(self, what: str, timeout_s: float) -> str:
        return hl_errors.Texts.timed_out(what, timeout_s)

    def leverage(self, requested: int, current: int, cap: int) -> tuple[int, str]:
        """Above the cap the venue applies the cap and says so in the D14 shape."""
        if requested > cap:
            return cap, hl_errors.Texts.leverage_above_cap(requested, cap)
        if requested < 1:
            return current, f"Invalid leverage {requested}; kept {current}x"
        return requested, "updateLeverage accepted"

    def classify(self, text: str) -> RejectionClass:
        return hl_errors.classify(text)

    def venue_status(self, word: str) -> tuple[VenueStatus, RejectionClass | None]:
        return hl_statuses.venue_status(word)


class Polymarket:
    """A binary market's words.  Polymarket says less than Hyperliquid: an order ends LIVE,
    MATCHED, CANCELED (whoever cancelled it: the user channel's CANCELLATION) or INVALID, and a
    refusal's reason is only in the answer.  The exchange still tells a refused order's end on
    the stream (the race where the stream beats the answer), as INVALID; the engine gives that
    update the class of the refusal's text, which INVALID alone does not carry."""

    open = pm_statuses.LIVE
    filled = pm_statuses.MATCHED
    canceled = pm_statuses.CANCELED
    self_trade_canceled = pm_statuses.CANCELED
    reduce_only_canceled = pm_statuses.CANCELED
    liquidated_canceled = pm_statuses.CANCELED
    heartbeat_canceled = pm_statuses.CANCELED
    unknown_order = pm_errors.ORDER_NOT_FOUND  # GET /data/order/{id}: 404
    non_user_cancel: str | None = None  # a CANCELLATION always names the order
    venue_cancels: tuple[str, ...] = (pm_statuses.CANCELED,)
    resting_rejects: tuple[str, ...] = (pm_statuses.INVALID,)

    def bad_size(self, inst: Instrument, cloid: str, lots: int) -> Refusal:
        size, least = wire(inst.lots_to_size(lots)), wire(inst.lots_to_size(inst.min_lots))
        return Refusal(pm_errors.Texts.size_below_min(cloid, size, least), None)

    def bad_price(self, inst: Instrument, cloid: str, ticks: int) -> Refusal:
        """Off the current tick (D39) or outside [tick, 1 - tick]: the venue's one text."""
        price = wire(inst.ticks_to_price(ticks))
        text = pm_errors.Texts.price_breaks_tick(cloid, price, wire(inst.venue_tick))
        return Refusal(text, pm_statuses.INVALID)

    def below_min_value(self, inst: Instrument) -> NoReturn:
        raise ValueError("Polymarket has no minimum order value, only a minimum size")

    def reduce_only(self, inst: Instrument) -> Refusal:
        """Polymarket has no reduce-only orders (its connector sends them as plain ones); what
        it refuses is a sell of shares not held, for balance."""
        return Refusal(pm_errors.NOT_ENOUGH_BALANCE, pm_statuses.INVALID)

    def above_max_position(self, inst: Instrument) -> NoReturn:
        raise ValueError("Polymarket has no position limit: a binary market checks balances")

    def no_funds(self, inst: Instrument) -> Refusal:
        """pUSD for a bid, settled shares for an ask, net of open orders and unsettled
        trades."""
        return Refusal(pm_errors.NOT_ENOUGH_BALANCE, pm_statuses.INVALID)

    def alo_crosses(self, inst: Instrument, best_bid: int | None, best_ask: int | None) -> Refusal:
        return Refusal(pm_errors.POST_ONLY_CROSSES, pm_statuses.INVALID)

    def ioc_unmatched(self, inst: Instrument) -> Refusal:
        return Refusal(pm_errors.FAK_NO_MATCH, pm_statuses.INVALID)

    def cancel_gone(self, inst: Instrument) -> str:
        return pm_errors.NOT_FOUND_OR_CANCELED

    def modify_gone(self, inst: Instrument) -> str:
        """Polymarket cannot amend: a modify is a cancel and a placement, and the cancel's
        reason is the answer (as the connector gives it)."""
        return pm_errors.NOT_FOUND_OR_CANCELED

    def modify_failed(self, inner: str) -> str:
        """The placement leg's own refusal, as the connector passes it on."""
        return inner

    def rate_limited(self, inst: Instrument) -> str:
        return pm_errors.TOO_MANY_REQUESTS

    def expired(self) -> str:
        """Polymarket has no action expiry; "order timed out" is its word for an order it
        did not insert because it came too late (500, safe to resubmit)."""
        return pm_errors.ORDER_TIMED_OUT

    def post_only_mode(self) -> str:
        return pm_errors.POST_ONLY_MODE

    def timed_out(self, what: str, timeout_s: float) -> str:
        return pm_errors.Texts.timed_out(what, timeout_s)

    def leverage(self, requested: int, current: int, cap: int) -> tuple[int, str]:
        """There is none, as the connector answers: shares are paid in full."""
        return 1, "Polymarket has no leverage: shares are fully paid"

    def classify(self, text: str) -> RejectionClass:
        return pm_errors.classify(text)

    def venue_status(self, word: str) -> tuple[VenueStatus, RejectionClass | None]:
        return pm_statuses.venue_status(word)


HYPERLIQUID: Dialect = Hyperliquid()
POLYMARKET: Dialect = Polymarket()


def for_market(market: Literal["perp", "binary"]) -> Dialect:
    """A perp is Hyperliquid's, a binary outcome token Polymarket's (``SimConfig.market``)."""
    return POLYMARKET if market == "binary" else HYPERLIQUID
