"""Exact units: the one place where decimals become integer ticks and lots (D20).

Inside the core every price is an ``int`` number of ticks and every size an ``int`` number of
lots.  ``Decimal`` appears only here and at venue boundaries.  Nothing in this module ever
touches a binary float: a float price would make tick alignment a matter of luck.

Hyperliquid's price rule (reference section 5) is two rules at once: at most
``max_price_decimals`` decimals (which fixes the finest tick) *and* at most ``sig_figs``
significant figures, except that integer prices are always valid.  The second rule makes the
effective tick depend on the price (at 12345.6 only whole numbers are valid), so
:meth:`Instrument.round_ticks` snaps a tick count to the coarser grid in an explicit direction.
A maker bid rounds down and a maker ask rounds up — away from the spread — so that rounding can
never make a post-only order cross.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction


class UnitError(ValueError):
    """A price or size that cannot be represented exactly, or is not a finite positive number."""


class Rounding(enum.Enum):
    """Direction of a rounding, always explicit: there is no silent 'nearest' in the order path."""

    DOWN = "down"
    UP = "up"
    EXACT = "exact"


_MAX_EXPONENT = 100  # decimal exponents beyond this are no price, size or notional


def _as_decimal(value: Decimal | str | int, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise UnitError(f"{what} must be a Decimal, str or int, got {type(value).__name__}")
    try:
        d = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise UnitError(f"{what} is not a number: {value!r}") from exc
    if not d.is_finite():
        raise UnitError(f"{what} must be finite, got {value!r}")
    if d and not -_MAX_EXPONENT <= d.adjusted() <= _MAX_EXPONENT:
        # Exact arithmetic on 1e999999999 would take minutes: an input no market can mean.
        raise UnitError(f"{what} is out of any market's range: {value!r}")
    return d


def _grid(value: Decimal, step: Decimal, rounding: Rounding, what: str) -> int:
    # Exact rational arithmetic: a Decimal division rounds to the context precision (28
    # digits), which would call 1.00000000000000000000000000001 a multiple of 0.1 and round
    # it *up* to 1.0.
    quotient = Fraction(value) / Fraction(step)
    whole = math.floor(quotient)
    if quotient == whole:
        return whole
    if rounding is Rounding.EXACT:
        raise UnitError(f"{what} {value} is not a multiple of {step}")
    if rounding is Rounding.DOWN:
        return whole
    return math.ceil(quotient)


POLYMARKET_UNIT = Decimal("0.0001")  # the finest tick Polymarket uses (reference section 1)


def grid_of(tick: Decimal | str, unit: Decimal) -> int:
    """A venue tick as a whole number of ``unit`` ticks; a tick that is not is an error."""
    d = _as_decimal(tick, "tick size")
    if d <= 0:
        raise UnitError(f"tick size must be greater than 0, got {tick!r}")
    return _grid(d, unit, Rounding.EXACT, "tick size")


def tiers_rise_and_fall(tiers: tuple[tuple[Decimal, int], ...]) -> bool:
    """A margin table as the venue keeps one: bounds (finite, >= 0) rising, leverage (>= 1)
    falling -- the one check the instrument and the simulator's config both apply."""
    bounds = [b for b, _ in tiers]
    leverages = [lev for _, lev in tiers]
    return (
        all(isinstance(b, Decimal) and b.is_finite() and b >= 0 for b in bounds)
        and bounds == sorted(set(bounds))
        and all(lev >= 1 for lev in leverages)
        and leverages == sorted(leverages, reverse=True)
    )


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable market and its grids.

    ``tick_size`` is the finest price step (``10**-max_price_decimals`` on Hyperliquid perps),
    ``lot_size`` the size step (``10**-sz_decimals``).  ``sig_figs`` is the significant-figure
    limit on non-integer prices (5 on Hyperliquid; 0 disables it).  ``margin_tiers`` are the
    venue's margin table (issue 19): ``(lower_bound, max_leverage)`` pairs, the notional (USD)
    from which a position may use at most that leverage, lowest bound first; none: only
    ``max_leverage``.
    """

    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    sz_decimals: int
    max_price_decimals: int
    sig_figs: int = 5
    min_notional: Decimal = Decimal(10)
    max_leverage: int = 20
    asset_id: int = 0
    margin_tiers: tuple[tuple[Decimal, int], ...] = ()
    # The currency prices, PnL and fees are in (D36): a fee charged in another token is shown
    # beside the net PnL, never added into it.
    quote: str = "USDC"
    # The venue's current price step in ticks (D39).  ``tick_size`` is the finest step the
    # venue can ever use and never changes, so every price the core holds stays an exact
    # integer when the venue moves its grid; a coarser venue tick is a ``grid`` of several
    # ticks (Polymarket: tick_size 0.0001, a 0.01 market has grid 100).
    grid: int = 1
    # Binary outcome shares (Polymarket): a price is a probability, valid only within
    # [grid, one - grid] ticks of the unit.
    bounded: bool = False
    # The venue's minimum order size in lots (Polymarket's ``min_order_size``); 0: none.
    min_lots: int = 0
    # Whether a sell may take the position below zero.  Outcome tokens cannot be sold short:
    # an ask needs the shares (Polymarket refuses "not enough balance / allowance").
    shortable: bool = True
    # What the operator calls this market when the symbol does not say it (Polymarket: the
    # question and the outcome token quoted).  Display only.
    title: str = field(default="", compare=False)
    # Ticks per whole unit of price (0 when a tick is 1 or more): derived once, because the
    # significant-figure rule needs it on every quote.
    _ticks_per_unit: int = field(init=False, repr=False, compare=False, default=0)
    # min_notional in ticks x lots, as an exact fraction (numerator, denominator).
    _min_value: tuple[int, int] = field(init=False, repr=False, compare=False, default=(0, 1))

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size", "min_notional"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise UnitError(f"instrument {self.symbol}: {name} must be a finite Decimal >= 0")
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise UnitError(f"instrument {self.symbol}: tick_size and lot_size must be > 0")
        if self.sz_decimals < 0 or self.max_price_decimals < 0 or self.sig_figs < 0:
            raise UnitError(f"instrument {self.symbol}: decimals and sig_figs must be >= 0")
        if self.max_leverage < 1:
            raise UnitError(f"instrument {self.symbol}: max_leverage must be >= 1")
        if self.grid < 1 or self.min_lots < 0:
            raise UnitError(f"instrument {self.symbol}: grid must be >= 1 and min_lots >= 0")
        if self.grid > 1 and self.sig_figs:
            raise UnitError(f"instrument {self.symbol}: a grid of several ticks needs sig_figs 0")
        if self.bounded and (self.tick_size >= 1 or (1 / self.tick_size) % self.grid):
            raise UnitError(
                f"instrument {self.symbol}: a bounded (0..1) price needs a tick below 1 that "
                f"divides 1, and a grid dividing the unit, got tick {self.tick_size} grid "
                f"{self.grid}"
            )
        if not tiers_rise_and_fall(self.margin_tiers):
            raise UnitError(
                f"instrument {self.symbol}: margin_tiers must rise in bound (finite, >= 0) "
                f"and fall in leverage (>= 1), got {self.margin_tiers}"
            )
        if self.sig_figs and self.tick_size.normalize().as_tuple().digits != (1,):
            # The significant-figure grid is computed on the tick count, which only counts
            # the price's digits when a tick is a power of ten.
            raise UnitError(
                f"instrument {self.symbol}: a significant-figure rule needs a power-of-ten "
                f"tick_size, got {self.tick_size}"
            )
        object.__setattr__(self, "_ticks_per_unit", int(Decimal(1) / self.tick_size))
        need = Fraction(self.min_notional) / Fraction(self.value_unit)
        object.__setattr__(self, "_min_value", (need.numerator, need.denominator))

    @classmethod
    def hyperliquid_perp(
        cls, symbol: str, sz_decimals: int, max_leverage: int, asset_id: int = 0
    ) -> Instrument:
        """The grids Hyperliquid derives from ``meta``: 6 - szDecimals price decimals, 5 s.f."""
        price_decimals = max(0, 6 - sz_decimals)
        return cls(
            symbol=symbol,
            tick_size=Decimal(1).scaleb(-price_decimals),
            lot_size=Decimal(1).scaleb(-sz_decimals),
            sz_decimals=sz_decimals,
            max_price_decimals=price_decimals,
            sig_figs=5,
            min_notional=Decimal(10),
            max_leverage=max_leverage,
            asset_id=asset_id,
        )

    @classmethod
    def polymarket(
        cls, symbol: str, tick: Decimal, min_size: Decimal, asset_id: int = 0
    ) -> Instrument:
        """A Polymarket outcome token: prices in pUSD per share on a unit of 0.0001 (the finest
        tick the venue uses) with the market's ``tick`` as the grid, sizes in shares to two
        decimals (the venue's size rounding for every tick), no leverage, no shorting.  One
        tick x one lot is a millionth of pUSD, the venue's own base unit."""
        return cls(
            symbol=symbol,
            tick_size=POLYMARKET_UNIT,
            lot_size=Decimal("0.01"),
            sz_decimals=2,
            max_price_decimals=4,
            sig_figs=0,
            min_notional=Decimal(0),
            max_leverage=1,
            asset_id=asset_id,
            quote="pUSD",
            grid=grid_of(tick, POLYMARKET_UNIT),
            bounded=True,
            min_lots=_grid(_as_decimal(min_size, "min_size"), Decimal("0.01"), Rounding.UP, "size"),
            shortable=False,
        )

    def with_grid(self, grid: int) -> Instrument:
        """The same market on another venue tick (D39): prices already held stay integers."""
        return dataclasses.replace(self, grid=grid)

    @property
    def venue_tick(self) -> Decimal:
        """The venue's current tick as it writes it."""
        return _canonical(self.grid * self.tick_size)

    @property
    def min_ticks(self) -> int:
        """The lowest valid price in ticks (one grid step)."""
        return self.grid

    @property
    def max_ticks(self) -> int:
        """The highest valid price in ticks; 0 when prices are unbounded."""
        if not self.bounded:
            return 0
        return self._ticks_per_unit - self.grid

    # ---- margin tiers -------------------------------------------------------------------

    def tier_cap_value(self, leverage: int) -> int | None:
        """The largest position notional (ticks x lots) the venue allows at ``leverage``: up
        to the bound of the first tier that allows less leverage, never past it.  None when
        every tier allows it.  The venue refuses an order past it with "Order would cause
        position to exceed margin tier limit at current leverage."."""
        for bound, max_leverage in self.margin_tiers:
            if max_leverage < leverage:
                cap = Fraction(bound) / Fraction(self.value_unit)
                return cap.numerator // cap.denominator
        return None

    # ---- prices -------------------------------------------------------------------------

    def price_to_ticks(
        self, price: Decimal | str | int, rounding: Rounding = Rounding.EXACT
    ) -> int:
        """Decimal price -> ticks on the price-dependent grid (tick and significant figures).

        With ``Rounding.EXACT`` a price off the grid is an error; otherwise it is snapped in the
        given direction.  Negative prices and zero are rejected: no market here trades at them.
        """
        d = _as_decimal(price, "price")
        if d <= 0:
            raise UnitError(f"price must be greater than 0, got {price!r}")
        ticks = _grid(d, self.tick_size, rounding, "price")
        snapped = self.round_ticks(ticks, rounding)
        if snapped <= 0:
            raise UnitError(f"price {price!r} rounds to zero ticks")
        return snapped

    def ticks_to_price(self, ticks: int) -> Decimal:
        """Ticks -> canonical Decimal (no trailing zeros, no exponent) for the wire."""
        if not isinstance(ticks, int) or isinstance(ticks, bool):
            raise UnitError(f"ticks must be an int, got {type(ticks).__name__}")
        return _canonical(ticks * self.tick_size)

    def price_step(self, ticks: int) -> int:
        """The effective step, in ticks, of the valid-price grid around ``ticks`` (>= 1)."""
        if self.sig_figs == 0 or ticks <= 0:
            return self.grid
        one = self._ticks_per_unit
        if one < 1:
            return 1  # a tick of 10 or more: every price on the tick grid is an integer
        digits = len(str(ticks))  # digits of the tick count
        excess = digits - self.sig_figs
        step = 10**excess if excess > 0 else 1
        # Integer prices are always valid: never require a coarser step than one whole unit.
        return min(step, one)

    def round_ticks(self, ticks: int, rounding: Rounding) -> int:
        """Snap ``ticks`` to a valid price under the significant-figure rule, in a direction.

        ``Rounding.DOWN`` is what a maker bid wants, ``Rounding.UP`` what a maker ask wants.
        """
        if ticks <= 0:
            return ticks
        step = self.price_step(ticks)
        if step == 1 or ticks % step == 0:
            return ticks
        if rounding is Rounding.EXACT:
            if not self.sig_figs:
                raise UnitError(
                    f"price {self.ticks_to_price(ticks)} is not a multiple of the tick "
                    f"{self.venue_tick}"
                )
            raise UnitError(
                f"price {self.ticks_to_price(ticks)} has more than {self.sig_figs} significant "
                f"figures and is not an integer"
            )
        down = ticks - ticks % step
        if rounding is Rounding.DOWN:
            return down
        up = down + step
        # Rounding up can add a digit (9999.9 -> 10000): the new grid is coarser but still
        # contains ``up`` because it is a multiple of the larger step too.
        return up

    def is_valid_ticks(self, ticks: int) -> bool:
        if self.bounded and ticks > self.max_ticks:
            return False
        return ticks > 0 and ticks % self.price_step(ticks) == 0

    # ---- sizes --------------------------------------------------------------------------

    def size_to_lots(self, size: Decimal | str | int, rounding: Rounding = Rounding.EXACT) -> int:
        """Decimal size -> lots; inexact sizes round toward zero (never size up by accident)."""
        d = _as_decimal(size, "size")
        if d < 0:
            raise UnitError(f"size must not be negative, got {size!r}")
        return _grid(d, self.lot_size, rounding, "size")

    def lots_to_size(self, lots: int) -> Decimal:
        if not isinstance(lots, int) or isinstance(lots, bool):
            raise UnitError(f"lots must be an int, got {type(lots).__name__}")
        return _canonical(lots * self.lot_size)

    def size_text(self, lots: int, *, signed: bool = False) -> str:
        """Lots as the operator reads them: coin units and the coin ("+0.05 ETH").  Log lines
        and reasons use it; lots are the core's bookkeeping, not a unit anyone trades in."""
        size = self.lots_to_size(lots)
        return f"{size:+f} {self.symbol}" if signed else f"{size:f} {self.symbol}"

    def signed_size_to_lots(self, size: Decimal | str | int) -> int:
        """A signed position size (``szi``) -> signed lots; must be exact."""
        d = _as_decimal(size, "position size")
        lots = _grid(abs(d), self.lot_size, Rounding.EXACT, "position size")
        return -lots if d < 0 else lots

    # ---- value --------------------------------------------------------------------------

    @property
    def value_unit(self) -> Decimal:
        """Quote currency of one tick x one lot: the unit of every notional inside the core."""
        return self.tick_size * self.lot_size

    def notional(self, ticks: int, lots: int) -> Decimal:
        return _canonical(ticks * lots * self.value_unit)

    def value_to_decimal(self, value: int) -> Decimal:
        return _canonical(value * self.value_unit)

    def min_lots_for_notional(self, ticks: int) -> int:
        """Smallest size in lots whose notional at ``ticks`` reaches ``min_notional``."""
        if ticks <= 0:
            raise UnitError("price must be greater than 0")
        num, den = self._min_value
        return max(-(-num // (den * ticks)), 1)  # exact ceiling, integers only


def _canonical(d: Decimal) -> Decimal:
    """Strip trailing zeros without switching to exponent notation (``2000``, not ``2E+3``)."""
    if d == 0:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, len(d.as_tuple().digits) + 1)
        n = d.normalize()
        _, digits, exponent = n.as_tuple()
        if isinstance(exponent, int) and exponent > 0:
            ctx.prec = max(ctx.prec, len(digits) + exponent)
            return n.quantize(Decimal(1))
        return n


def wire(d: Decimal) -> str:
    """The string a venue wants: canonical, no exponent, no trailing dot."""
    return format(_canonical(d), "f")
