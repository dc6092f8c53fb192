"""Hourly funding on the embedded exchange (D36): the rate process and the payments it makes.

A perp's funding moves money between longs and shorts every interval (hourly on Hyperliquid):
a positive rate has longs pay shorts ``position x mark x rate``.  The rate here is a seeded,
mean-reverting process (an AR(1) walk: ``r' = mean + phi (r - mean) + sigma N(0, 1)``, clamped
to the venue's cap of 4 % an hour), so that a session sees it drift and change sign as real
funding does; with ``sigma`` zero it is the constant ``mean``.  Payments are exact millionths
of the quote, rounded half to even as the venue writes them.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

from core.simconfig import FundingConfig

# Hyperliquid caps funding at 4 % an hour.
RATE_CAP = 0.04


class FundingProcess:
    """When the next payment is due and at what rate."""

    __slots__ = ("_config", "_rng", "next_time", "rate")

    def __init__(self, config: FundingConfig, seed: int, start: float) -> None:
        self._config = config
        self._rng = random.Random(f"funding:{seed}")
        self.rate = config.mean_rate
        self.next_time = start + config.interval_s if config.enabled else math.inf

    def step(self) -> float:
        """The rate of the payment due now; schedules the next one."""
        c = self._config
        rate = self.rate
        self.next_time += c.interval_s
        if c.volatility:
            drawn = c.mean_rate + c.persistence * (rate - c.mean_rate)
            drawn += c.volatility * self._rng.gauss(0.0, 1.0)
            self.rate = max(-RATE_CAP, min(RATE_CAP, drawn))
        return rate


def payment(position_lots: int, mark_ticks: int, micro_per_value: int, rate: float) -> int:
    """What the account receives (negative: pays), in millionths of the quote: longs pay a
    positive rate.  The rate is taken as the exact decimal it prints as."""
    exact = Fraction(repr(rate)) * position_lots * mark_ticks * micro_per_value
    return -round(exact)
