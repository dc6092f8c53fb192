"""Self-exciting aggressive flow: the liquidation cascades the maker's signals must detect.

Issue 20: a calm Poisson taker stream never tests a cascade detector.  Here takers arrive as a
two-sided Hawkes process -- each side's intensity is a baseline plus an excitation that every
taker of that side raises by ``alpha`` and that decays at ``beta`` (``branching`` = alpha /
beta, the expected number of takers one taker triggers; below 1 the process is stable) -- and
liquidation-like shocks arrive at random: a burst of ``shock_takers`` expected extra takers on
one side at once.  The baselines are scaled by ``1 - branching`` so that, shocks apart, the
long-run taker rate is the configured one whatever the branching.

Events are drawn exactly by Ogata's thinning: between events the intensity only decays, so
the intensity now bounds it until the next event; a candidate time drawn at that bound is
accepted with the ratio of the intensity then to the bound.  Everything is seeded and passed
the time; nothing here reads a clock.
"""

from __future__ import annotations

import math
import random

from core.events import Side

BID = Side.BID
ASK = Side.ASK


class HawkesTakers:
    """When the next taker comes and on which side; the excitation per side."""

    __slots__ = ("_alpha", "_base", "_beta", "_rng", "_t", "excitation")

    def __init__(self, rate_per_s: float, branching: float, decay_s: float, rng: random.Random):
        self._beta = 1.0 / decay_s
        self._alpha = branching * self._beta
        self._base = rate_per_s / 2.0 * (1.0 - branching)  # per side
        self._rng = rng
        self._t = 0.0
        self.excitation = {BID: 0.0, ASK: 0.0}  # intensity above the baseline at ``_t``

    def _decay_to(self, t: float) -> None:
        if t != self._t:
            factor = math.exp(-self._beta * (t - self._t))
            ex = self.excitation
            ex[BID] *= factor
            ex[ASK] *= factor
            self._t = t

    def excite(self, side: Side, t: float, takers: float) -> None:
        """Raise ``side``'s intensity now by what ``takers`` expected extra takers need."""
        self._decay_to(t)
        self.excitation[side] += takers * self._beta

    def next_event(self, t: float) -> tuple[float, Side]:
        """The next taker after ``t`` and its side (``inf`` when the process is silent)."""
        rng = self._rng
        self._decay_to(t)
        ex = self.excitation
        bound = 2.0 * self._base + ex[BID] + ex[ASK]
        now = t
        while bound > 1e-12:
            now += rng.expovariate(bound)
            factor = math.exp(-self._beta * (now - t))
            bid = self._base + ex[BID] * factor
            ask = self._base + ex[ASK] * factor
            total = bid + ask
            if rng.random() * bound <= total:
                return now, BID if rng.random() * total < bid else ASK
            bound = total
        return math.inf, BID

    def taken(self, side: Side, t: float) -> None:
        """A taker of ``side`` traded at ``t``: it excites its own side."""
        self._decay_to(t)
        self.excitation[side] += self._alpha

    def heat(self, t: float) -> float:
        """Total intensity over its baseline (1 when calm): what clusters volatility."""
        self._decay_to(t)
        base = 2.0 * self._base
        if base <= 0:
            return 1.0
        return (base + self.excitation[BID] + self.excitation[ASK]) / base
