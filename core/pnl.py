"""Net PnL (D36): the fees and funding that turn the position's gross PnL into what was made.

A market maker's edge is often smaller than its fees, so a loss limit judged on gross PnL can
let a losing session run.  ``Costs`` keeps, for one session, the fees the venue charged on our
fills and the funding it paid or took, each in millionths of the quote currency (exact
integers, as the venue writes them to six decimals), and turns them into the core's value unit
(ticks x lots) as an exact ``Fraction`` so that net PnL = realised + unrealised - fees +
funding holds to the last unit.

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


def to_micro(value: Fraction | int) -> int:
    """Millionths, rounded half to even, as the venue writes its figures."""
    return round(value)


class Costs:
    """Fees, funding and the closed-PnL check of one session."""

    __slots__ = (
        "_funding_times",
        "_micro_per_value",
        "_value",
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
    )

    def __init__(self, quote: str, value_unit: Decimal) -> None:
        self.quote = quote
        per_value = Fraction(value_unit) * MICRO
        # An int when whole (every Hyperliquid perp: 1), so that the arithmetic below stays
        # in integers where it can.
        self._micro_per_value: Fraction | int = (
            per_value.numerator if per_value.denominator == 1 else per_value
        )
        self.fees = 0  # millionths of the quote; rebates negative
        self.other_fees: dict[str, int] = {}  # fees charged in another token, millionths
        self.funding = 0  # millionths of the quote; positive: received
        # funding - fees in ticks x lots, kept as it changes: the risk check reads it on every
        # tick and fill, and a Fraction division each time cost more than the check itself.
        self._value: Fraction | int = 0
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
        per_value = self._micro_per_value
        net = self.funding - self.fees
        if per_value == 1:  # a millionth is one tick x one lot: stay in integers
            self._value = net
        elif isinstance(per_value, int):
            self._value = Fraction(net, per_value)
        else:
            self._value = Fraction(net) / per_value

    def value(self) -> Fraction | int:
        """Funding minus fees in the core's value unit (ticks x lots): add to gross PnL."""
        return self._value

    def quote_of(self, value: Fraction | int) -> int:
        """A value in ticks x lots as millionths of the quote."""
        return to_micro(value * self._micro_per_value) if value else 0

    def check_closed(self, ours: Fraction | int, venue: int) -> str:
        """Compare the PnL one fill closed by our books (ticks x lots) with the venue's
        ``closedPnl`` (millionths); the disagreement as text, empty when they agree."""
        mine = self.quote_of(ours)
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
