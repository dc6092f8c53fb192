"""The volatility of mid returns, time-normalised, in O(1) per mid change (issue 20).

Theory of operation. The mid is sampled at most every ``sample_s`` seconds (the first update
that far from the last sample): each sample gives a log return ``r = ln(m / m_prev)``, zero when
the mid has not moved, over the ``dt`` seconds since the previous one. Sampling every book
change instead would count the bid-ask bounce -- a mid that flickers between two values -- as
volatility, and inflates it. With a decay ``w = exp(-dt / tau)`` applied to the past at every
update,

    S <- w * S + r**2        (exponentially weighted sum of squared returns)
    T <- w * T + dt          (the same weights on the time the returns took)
    N <- w * N + 1           (the effective number of returns)

and the variance per second is ``S / T``: a ratio estimator, so irregular spacing is normalised
(a return over 10 s weighs as the 10 s it covers, not as one sample), and a quiet market does
not read as a calm one. The recursion equals the direct sums ``sum_i x_i * exp(-(t_n - t_i) /
tau)`` exactly in real arithmetic; in floating point each step multiplies by ``w <= 1`` and adds
a non-negative term, so there is no cancellation. A gap longer than a few ``tau`` decays the
past to nothing (``w`` underflows to 0.0): the estimate restarts from what follows, which is
what a reopened market should do. ``ready`` holds once ``N`` reaches ``warmup`` returns' worth
of weight.

This is an EWMA of the realised variance (RiskMetrics-style, with weights by time) rather than a
Welford running variance: the mean of returns over seconds is noise, and a market maker wants
the recent level, not the all-time one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class MidVolatility:
    """Variance of mid log returns per second, weighted by ``exp(-age / tau_s)``."""

    tau_s: float = 60.0
    warmup: float = 10.0  # effective samples before ``ready``
    sample_s: float = 1.0
    _sum_sq: float = 0.0
    _time: float = 0.0
    _count: float = 0.0
    _last_t: float | None = None
    _last_mid: float = 0.0

    def __post_init__(self) -> None:
        if (
            not (self.tau_s > 0 and math.isfinite(self.tau_s))
            or self.warmup < 0
            or not 0 <= self.sample_s < math.inf
        ):
            raise ValueError(
                f"MidVolatility needs tau_s > 0, warmup >= 0 and sample_s >= 0, got {self}"
            )

    def update(self, t: float, mid: float) -> None:
        """A mid (ticks, > 0; a half tick when the spread is odd) at time ``t`` (seconds, not
        earlier than the last)."""
        if mid <= 0:
            return
        last_t = self._last_t
        if last_t is None:
            self._last_t, self._last_mid = t, mid
            return
        dt = t - last_t
        if dt < self.sample_s or (dt <= 0.0 and mid == self._last_mid):
            return  # not a sample yet: its time is counted with the next one
        w = math.exp(-dt / self.tau_s)
        r = math.log(mid / self._last_mid)
        self._sum_sq = w * self._sum_sq + r * r
        self._time = w * self._time + dt
        self._count = w * self._count + 1.0
        self._last_t, self._last_mid = t, mid

    @property
    def ready(self) -> bool:
        return self._count >= self.warmup and self._time > 0.0

    @property
    def variance_per_s(self) -> float:
        """Variance of log returns per second (0.0 before any time has passed)."""
        return self._sum_sq / self._time if self._time > 0.0 else 0.0

    def sigma_ticks(self, horizon_s: float) -> float:
        """One standard deviation of the mid over ``horizon_s`` seconds, in ticks at the last
        mid: the unit the strategy widens its half-spread in."""
        return self._last_mid * math.sqrt(self.variance_per_s * horizon_s)
