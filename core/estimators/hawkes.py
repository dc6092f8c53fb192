"""The intensity of aggressive trade flow on one side, as a Hawkes process, in O(1) per trade
(issue 20): the cascade detector.

Theory of operation.  A Hawkes process has the intensity

    lambda(t) = mu + alpha * sum_i exp(-beta * (t - t_i))

over past events ``t_i``: every trade raises the rate of the next ones, which decays with
``beta``; a liquidation cascade is such a burst.  All past events decay alike, so the sum is
carried as one number, ``S``, decayed to the latest event: ``S <- S * exp(-beta * dt) + 1``
on each event, and read at ``t`` as ``S * exp(-beta * (t - t_last))`` -- one exponential per
event instead of one per remembered event (the seed's market maker went from 500 to 1).

What is "a lot" depends on the market, so the intensity is compared with a slow baseline:
the same sum with a slow decay ``beta_slow`` estimates the recent rate of trades
``r = beta_slow * S_slow / (1 - exp(-beta_slow * (t - t_first)))`` (events per second; the
divisor corrects for the memory not yet filled since the first trade, without which a fresh
session reads a cascade for minutes), and a steady flow at that rate would hold the fast sum
at ``r / beta``.  ``ratio`` is the intensity now over the intensity that steady flow
would give: about 1 in an ordinary market, many times that in a cascade.

Numerics: each step multiplies by a factor in (0, 1] and adds 1, so ``S`` stays within
``[0, 1 / (1 - exp(-beta * dt_min))]`` with no cancellation; a long gap underflows the factor
to 0.0 and the process restarts from the next trade, as it should.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class HawkesIntensity:
    """Self-exciting intensity of one side's aggressive trades, and its ratio to a baseline."""

    mu: float = 0.1  # events/s with no recent trades
    alpha: float = 0.5  # each trade's kick to the intensity
    beta: float = 1.0  # decay of a kick, 1/s (fast: a few seconds)
    beta_slow: float = 1.0 / 300.0  # decay of the baseline's memory, 1/s (minutes)
    # How long after the first trade the baseline is trusted: before it, one trade reads as
    # many times "the" rate (a strategy must not pull a side on it).
    warmup_s: float = 30.0
    _fast: float = 0.0
    _slow: float = 0.0
    _last_t: float | None = None
    _first_t: float = 0.0

    def __post_init__(self) -> None:
        values = (self.mu, self.alpha, self.beta, self.beta_slow)
        if (
            not all(math.isfinite(v) and v > 0 for v in values)
            or self.beta_slow >= self.beta
            or not self.warmup_s >= 0
        ):
            raise ValueError(
                f"HawkesIntensity needs mu, alpha, beta, beta_slow > 0, beta_slow < beta "
                f"and warmup_s >= 0, got {self}"
            )

    def record(self, t: float, weight: float = 1.0) -> None:
        """One aggressive trade at ``t`` (seconds, not earlier than the last)."""
        last = self._last_t
        if last is None:
            self._first_t = t
        elif t > last:  # trades at the same instant decay nothing: exp(0) is exactly 1
            dt = t - last
            self._fast *= math.exp(-self.beta * dt)
            self._slow *= math.exp(-self.beta_slow * dt)
        self._fast += weight
        self._slow += weight
        self._last_t = t if last is None else max(t, last)

    def _decayed(self, t: float) -> tuple[float, float]:
        last = self._last_t
        if last is None:
            return 0.0, 0.0
        dt = t - last
        if dt <= 0.0:
            return self._fast, self._slow  # read at the last trade: nothing has decayed
        return self._fast * math.exp(-self.beta * dt), self._slow * math.exp(-self.beta_slow * dt)

    def intensity(self, t: float) -> float:
        """Events per second expected at ``t``."""
        fast, _ = self._decayed(t)
        return self.mu + self.alpha * fast

    def _rate(self, slow: float, t: float) -> float:
        """The slow-average rate of trades (events/s), its memory's filling corrected for."""
        filled = -math.expm1(-self.beta_slow * max(0.0, t - self._first_t))
        if filled <= 0.0:
            return 0.0
        return self.beta_slow * slow / filled

    def baseline(self, t: float) -> float:
        """The intensity a steady flow at the slow-average rate would hold."""
        _, slow = self._decayed(t)
        return self.mu + self.alpha * self._rate(slow, t) / self.beta

    def ready(self, t: float) -> bool:
        """Whether the baseline has seen ``warmup_s`` of flow by ``t``."""
        return self._last_t is not None and t - self._first_t >= self.warmup_s

    def ratio(self, t: float) -> float:
        """Intensity over baseline: about 1 in ordinary flow, high in a cascade."""
        fast, slow = self._decayed(t)
        alpha = self.alpha
        return (self.mu + alpha * fast) / (self.mu + alpha * self._rate(slow, t) / self.beta)
