"""The quoting model: the ladder of maker quotes we want resting, from the book and our position.

``desired_ladder`` is a pure function: the same touch, position and parameters always give the
same ladder.  It keeps no state, reads no clock and does no I/O; the executor diffs its answer
against the live orders.  Prices are ``int`` ticks and sizes ``int`` lots (D20).  It must never
return a quote that would take liquidity (D23): every bid is strictly below the best ask and
every ask strictly above the best bid, on the instrument's valid-price grid, so a post-only
order is never sent just to be rejected and re-sent in a loop.

How a side's ladder is built (bids shown; asks mirror it):

1. Fair price from the touch (``fair_price``).  The exact fair is kept as a fraction: bids are
   measured from it rounded down, asks from it rounded up, so both sides sit symmetrically
   around it.
2. Inventory skew: ``trunc(position * skew_ticks_per_lot)`` ticks, rounded toward zero so a
   small position never moves the quotes by a whole tick it has not earned.  It is subtracted
   from both sides: long moves both sides down (sell more, buy less), short moves them up.
3. Level ``i`` targets ``fair - half_spread_ticks - skew - i * level_spacing_ticks``.
4. The target is clamped behind the touch (at most the best ask minus one tick) and at least
   one tick below the level before it, then rounded down onto the valid-price grid (asks: up).
   Rounding away from the spread cannot cross, and because each level starts below the one
   before, levels that the 5-significant-figure grid would merge are pushed out one valid step
   instead: every level keeps a distinct, strictly ordered price.  A bid that would land at or
   below zero ends the side.
5. Size ``size_lots + i * size_step_lots``, raised to the instrument's minimum-notional size at
   that price.  Pending exposure never takes the position past ``max_position_lots``: the ladder
   is the whole intended resting set, so bids stop where ``position + bid sizes`` would exceed
   the limit (asks: where ``position - ask sizes`` would go below minus the limit).  The level
   that meets the limit is cut down to the room left; if that is below the minimum size the
   side ends there.
6. At or beyond the limit (``|position| >= max_position_lots``) the side that would increase
   the position is not quoted, and with ``reduce_only_near_limit`` the other side is quoted
   reduce-only: the level sizes are clamped so that together they never exceed ``|position|``
   (D26); a last piece too small to be an order on its own joins the level before it.

A side with no quotes always carries exactly one ``NoQuoteReason`` (D27).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import NamedTuple

from core.events import Side
from core.units import Instrument, Rounding


class NoQuoteReason(enum.Enum):
    """Why the model leaves a side empty; the value is the text shown to the operator (D27)."""

    NO_BOOK = "no book"
    CROSSED_BOOK = "crossed book"
    POSITION_LIMIT = "position limit"
    NO_VALID_PRICE = "no valid price"
    BELOW_MIN_NOTIONAL = "below min notional"
    # Outcome shares cannot be sold short (Polymarket): confirmed shares below the venue's
    # minimum order size leave nothing to offer (D38: shares still settling do not count).
    NO_SHARES = "no confirmed shares to sell"


@dataclass(frozen=True, slots=True)
class StrategyParams:
    """The ladder's shape, in ticks and lots of the instrument it quotes.

    ``skew_ticks_per_lot`` is the only float: how many ticks both sides move per lot of
    position.  Invalid values raise ``ValueError`` naming the field.
    """

    levels: int
    level_spacing_ticks: int
    half_spread_ticks: int
    size_lots: int
    max_position_lots: int
    size_step_lots: int = 0
    skew_ticks_per_lot: float = 0.0
    reduce_only_near_limit: bool = True

    def __post_init__(self) -> None:
        minimums = (
            ("levels", self.levels, 1),
            ("level_spacing_ticks", self.level_spacing_ticks, 1),
            ("half_spread_ticks", self.half_spread_ticks, 0),
            ("size_lots", self.size_lots, 1),
            ("max_position_lots", self.max_position_lots, 1),
            ("size_step_lots", self.size_step_lots, 0),
        )
        for name, value, least in minimums:
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"StrategyParams.{name} must be an int (got {value!r})")
            if value < least:
                raise ValueError(f"StrategyParams.{name} must be at least {least} (got {value})")
        skew = self.skew_ticks_per_lot
        if not isinstance(skew, int | float) or not math.isfinite(skew) or skew < 0:
            raise ValueError(
                f"StrategyParams.skew_ticks_per_lot must be a finite number >= 0 (got {skew!r}); "
                "the skew always leans against the position"
            )


class Quote(NamedTuple):
    """One desired resting order: ``level`` 0 is closest to the touch.

    A named tuple rather than a frozen dataclass: a reaction builds a dozen of these, and a
    frozen dataclass's ``__init__`` (``object.__setattr__`` per field, compiled or not) costs
    several times as much, for the same immutability and equality."""

    side: Side
    level: int
    price: int
    size: int
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class Ladder:
    """The desired quotes per side, ordered by level, and for an empty side the one reason.

    ``fair`` is ``fair_price`` of the touch used (``None`` without a usable book) and
    ``skew_ticks`` the inventory skew applied to both sides, for display.
    """

    bids: tuple[Quote, ...]
    asks: tuple[Quote, ...]
    bid_reason: NoQuoteReason | None
    ask_reason: NoQuoteReason | None
    fair: int | None = None
    skew_ticks: int = 0

    def __post_init__(self) -> None:
        if (not self.bids) is (self.bid_reason is None):
            raise ValueError("Ladder: the bid side needs quotes or exactly one reason, not both")
        if (not self.asks) is (self.ask_reason is None):
            raise ValueError("Ladder: the ask side needs quotes or exactly one reason, not both")

    def quotes(self, side: Side) -> tuple[Quote, ...]:
        return self.bids if side is Side.BID else self.asks

    def reason(self, side: Side) -> NoQuoteReason | None:
        return self.bid_reason if side is Side.BID else self.ask_reason


def fair_price(
    best_bid: int | None, best_ask: int | None, bid_size: int = 0, ask_size: int = 0
) -> int | None:
    """The fair price in ticks, rounded down to a whole tick; ``None`` without a usable book.

    With both touch sizes known (> 0) it is the size-weighted microprice
    ``(best_bid * ask_size + best_ask * bid_size) / (bid_size + ask_size)``, which leans toward
    the thinner side (the side more likely to trade through next); otherwise the mid.  A missing
    side, a non-positive price or a crossed or locked book (``best_bid >= best_ask``) gives
    ``None``.
    """
    if best_bid is None or best_ask is None or best_bid <= 0 or best_ask <= best_bid:
        return None
    numerator, denominator = _fair_fraction(best_bid, best_ask, bid_size, ask_size)
    return numerator // denominator


def desired_ladder(
    instrument: Instrument,
    best_bid: int | None,
    best_ask: int | None,
    position: int,
    params: StrategyParams,
    *,
    bid_size: int = 0,
    ask_size: int = 0,
    tier_lots: int | None = None,
    bid_half_spread: int | None = None,
    ask_half_spread: int | None = None,
    sellable: int | None = None,
) -> Ladder:
    """The ladder to keep resting for this touch and signed ``position`` (lots).

    ``bid_size``/``ask_size`` are the sizes at the touch, for the microprice (see
    ``fair_price``); ``tier_lots`` the venue's margin-tier limit as lots, when it has one: the
    position limit is the lower of it and ``max_position_lots``; ``bid_half_spread`` /
    ``ask_half_spread`` replace ``half_spread_ticks`` on one side (the signals' spread,
    ``core.spread``).  ``sellable`` is the confirmed position (D38) when the instrument
    cannot be sold short: asks then offer at most that (default: the position).  See the
    module docstring for the rules; none of the returned quotes can cross the touch (D23).
    """
    if best_bid is None or best_ask is None or best_bid <= 0 or best_ask <= 0:
        return Ladder((), (), NoQuoteReason.NO_BOOK, NoQuoteReason.NO_BOOK)
    if best_bid >= best_ask:
        return Ladder((), (), NoQuoteReason.CROSSED_BOOK, NoQuoteReason.CROSSED_BOOK)
    numerator, denominator = _fair_fraction(best_bid, best_ask, bid_size, ask_size)
    fair_down = numerator // denominator
    fair_up = -(-numerator // denominator)

    skew = int(position * params.skew_ticks_per_lot)  # int() truncates: toward zero
    limit = (
        params.max_position_lots if tier_lots is None else min(params.max_position_lots, tier_lots)
    )
    at_long_limit = position >= limit
    at_short_limit = position <= -limit

    # The notional floor in ticks x lots: ``min_lots_for_notional`` at a price of one tick is
    # ceil(min_notional / value_unit), and ceil(floor / price) is then the exact minimum size at
    # any price -- one Decimal computation per ladder instead of one per quote.
    notional_floor = instrument.min_lots_for_notional(1)
    bids, bid_reason = _side_ladder(
        instrument,
        params,
        notional_floor,
        Side.BID,
        first_target=fair_down - _half(bid_half_spread, params) - skew,
        touch_bound=best_ask - 1,
        room=limit - position,
        reduce_only=at_short_limit and params.reduce_only_near_limit,
        position=position,
        limit=limit,
    )
    asks, ask_reason = _side_ladder(
        instrument,
        params,
        notional_floor,
        Side.ASK,
        first_target=fair_up + _half(ask_half_spread, params) - skew,
        touch_bound=best_bid + 1,
        room=limit + position
        if instrument.shortable
        else min(limit + position, position if sellable is None else sellable),
        reduce_only=at_long_limit and params.reduce_only_near_limit,
        position=position,
        limit=limit,
    )
    return Ladder(bids, asks, bid_reason, ask_reason, fair=fair_down, skew_ticks=skew)


def _half(given: int | None, params: StrategyParams) -> int:
    return params.half_spread_ticks if given is None else given


def _fair_fraction(best_bid: int, best_ask: int, bid_size: int, ask_size: int) -> tuple[int, int]:
    """The exact fair price of a valid touch as ``(numerator, denominator)`` in ticks."""
    if bid_size > 0 and ask_size > 0:
        return best_bid * ask_size + best_ask * bid_size, bid_size + ask_size
    return best_bid + best_ask, 2


def _side_ladder(
    instrument: Instrument,
    params: StrategyParams,
    notional_floor: int,
    side: Side,
    *,
    first_target: int,
    touch_bound: int,
    room: int,
    reduce_only: bool,
    position: int,
    limit: int,
) -> tuple[tuple[Quote, ...], NoQuoteReason | None]:
    """One side's quotes, or no quotes and the reason.

    ``notional_floor`` is the minimum notional in ticks x lots (see ``desired_ladder``),
    ``first_target`` level 0's price before clamping, ``touch_bound`` the most aggressive
    price allowed (one tick behind the opposite touch), ``room`` the lots this side may add
    before the position limit.  ``reduce_only`` quotes at most ``|position|`` in total.
    """
    if reduce_only:
        room = abs(position)
        shortage = NoQuoteReason.BELOW_MIN_NOTIONAL
    else:
        shortage = NoQuoteReason.POSITION_LIMIT
    if side is Side.ASK and not instrument.shortable and room < limit + position:
        shortage = NoQuoteReason.NO_SHARES  # the shares held, not the limit, bound the asks
    if room <= 0:
        return (), shortage if shortage is NoQuoteReason.NO_SHARES else NoQuoteReason.POSITION_LIMIT

    is_bid = side is Side.BID
    rounding = Rounding.DOWN if is_bid else Rounding.UP
    direction = -1 if is_bid else 1  # deeper levels move away from the touch this way
    spacing = params.level_spacing_ticks
    base_size, size_step = params.size_lots, params.size_step_lots
    min_ticks, min_lots = instrument.min_ticks, instrument.min_lots
    bounded, max_ticks = instrument.bounded, instrument.max_ticks
    quotes: list[Quote] = []
    stop = shortage
    bound = touch_bound
    for level in range(params.levels):
        target = first_target + direction * level * spacing
        if is_bid:
            price = instrument.round_ticks(target if target < bound else bound, rounding)
            if price < min_ticks:
                stop = NoQuoteReason.NO_VALID_PRICE
                break
        else:
            price = instrument.round_ticks(target if target > bound else bound, rounding)
            if bounded and price > max_ticks:
                stop = NoQuoteReason.NO_VALID_PRICE  # an outcome share is worth at most 1
                break
        bound = price + direction  # the next level must be strictly deeper

        least = -(-notional_floor // price)  # the venue's minimums
        if least < min_lots:
            least = min_lots
        size = base_size + level * size_step
        if size < least:
            size = least
        if size > room:
            size = room
        if size < least:
            if reduce_only and quotes:
                last = quotes[-1]
                quotes[-1] = Quote(side, last.level, last.price, last.size + size, True)
            break
        quotes.append(Quote(side, level, price, size, reduce_only))
        room -= size
        if room == 0:
            break

    if quotes:
        return tuple(quotes), None
    return (), stop
