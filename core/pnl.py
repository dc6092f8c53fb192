"""Net PnL (D36): the fees and funding that turn the position's gross PnL into what was made.

A market maker's edge is often smaller than its fees, so a loss limit judged on gross PnL can
let a losing session run.  ``Costs`` keeps, for one session, the fees the venue charged on our
fills and the funding it paid or took, each in millionths of the quote currency (exact
integers, as the venue writes them to six decimals), and turns them into the core's value unit
(ticks x lots) as an exact ratio of integers (``value_num / value_den``) so that net PnL =
realised + unrealised - fees + funding holds to the last unit, with no ``Fraction`` on the
path of a fill.

It also keeps the venue honest where the venue says what a fill closed (Hyperliquid's
``closedPnl``): our average-cost realised PnL of the same fill, rounded to the venue's six
decimals, must agree within one millionth (the venue's own rounding).  A disagreement is never
corrected silently: it is counted, and the caller logs and shows it.

Fees and funding are counted where their fill or payment is counted once (D4): a repeated
trade id brings no second fee; a funding payment is known by its time, so the snapshot a
venue replays after every (re)subscribe counts nothing twice.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from fractions import Fraction

MICRO = 10**6
# Payment times remembered for de-duplication: hourly payments replayed after a reconnect
# are recent ones, so a few days of them is plenty.
_FUNDING_MEMORY = 500
# The venue rounds closedPnl to six decimals; our exact figure may round the other way.
_CLOSED_TOLERANCE = 1


def round_half_even(num: int, den: int) -> int:
    """``num / den`` (``den`` > 0) to the nearest integer, ties to even (``round`` of the same
    ``Fraction``, without building one): millionths, as the venue rounds its figures."""
    floor, remainder = divmod(num, den)
    twice = 2 * remainder
    if twice < den:
        return floor
    if twice > den:
        return floor + 1
    return floor + (floor & 1)


class Costs:
    """Fees, funding and the closed-PnL check of one session."""

    __slots__ = (
        "_funding_times",
        "_micro_den",
        "_micro_num",
        "checked",
        "closed_mismatches",
        "closed_ours",
        "closed_venue",
        "fees",
        "funding",
        "fundings",
        "last_mismatch",
        "other_fees",
        "quote",
        "value_den",
        "value_num",
    )

    def __init__(self, quote: str, value_unit: Decimal) -> None:
        self.quote = quote
        per_value = Fraction(value_unit) * MICRO
        # Millionths of the quote per tick x lot, as a ratio: 1/1 on every Hyperliquid perp.
        self._micro_num = per_value.numerator
        self._micro_den = per_value.denominator
        self.fees = 0  # millionths of the quote; rebates negative
        self.other_fees: dict[str, int] = {}  # fees charged in another token, millionths
        self.funding = 0  # millionths of the quote; positive: received
        # funding - fees in ticks x lots (``value_num / value_den``, ``value_den`` > 0), kept
        # as it changes: the risk check reads it on every tick and fill.
        self.value_num = 0
        self.value_den = self._micro_num
        self.fundings = 0
        self._funding_times: OrderedDict[float, None] = OrderedDict()
        self.checked = 0  # fills whose closedPnl we compared
        self.closed_ours = 0  # sum over them, millionths: ours rounded per fill
        self.closed_venue = 0  # and the venue's
        self.closed_mismatches = 0
        self.last_mismatch = ""

    def charge(self, fee: int, token: str) -> None:
        """A counted fill's fee (``token`` empty: the quote)."""
        if not token or token == self.quote:
            if fee:
                self.fees += fee
                self._revalue()
        else:
            self.other_fees[token] = self.other_fees.get(token, 0) + fee

    def remember_funding(self, venue_time: float) -> bool:
        """Know a payment by its time (history, or one being counted); False if known."""
        times = self._funding_times
        if venue_time in times:
            return False
        times[venue_time] = None
        if len(times) > _FUNDING_MEMORY:
            times.popitem(last=False)
        return True

    def pay(self, amount: int, venue_time: float) -> bool:
        """A funding payment; False when this payment was counted already (a replay)."""
        if not self.remember_funding(venue_time):
            return False
        self.funding += amount
        self.fundings += 1
        self._revalue()
        return True

    def _revalue(self) -> None:
        # millionths / (millionths per value unit) = (funding - fees) x den / num.
        self.value_num = (self.funding - self.fees) * self._micro_den

    def value(self) -> Fraction | int:
        """Funding minus fees in the core's value unit (ticks x lots): add to gross PnL."""
        if self.value_den == 1:
            return self.value_num
        return Fraction(self.value_num, self.value_den)

    def quote_of(self, value: Fraction | int, den: int = 1) -> int:
        """A value in ticks x lots (``value / den``, ``den`` > 0) as millionths of the quote."""
        if not value:
            return 0
        if isinstance(value, int):
            num = value
        else:
            num = value.numerator
            den *= value.denominator
        return round_half_even(num * self._micro_num, den * self._micro_den)

    def check_closed(self, ours: Fraction | int, venue: int, den: int = 1) -> str:
        """Compare the PnL one fill closed by our books (``ours / den`` ticks x lots) with the
        venue's ``closedPnl`` (millionths); the disagreement as text, empty when they agree."""
        mine = self.quote_of(ours, den)
        self.checked += 1
        self.closed_ours += mine
        self.closed_venue += venue
        if abs(mine - venue) <= _CLOSED_TOLERANCE:
            return ""
        self.closed_mismatches += 1
        self.last_mismatch = (
            f"closed PnL {mine / MICRO:+.6f} by our books, {venue / MICRO:+.6f} by the venue"
        )
        return self.last_mismatch
