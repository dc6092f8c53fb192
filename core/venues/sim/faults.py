"""The fault plan: seeded decisions about latency, lost answers, outages and rate limits.

Each fault draws from its own random stream derived from the seed, so enabling one fault never
changes the market path or the draws of another.  The injector only decides and counts — how
often each fault fired is in ``counts`` for the swarm's report; the exchange driver carries the
decisions out.  It never looks at an order and never reads a clock.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from core.commands import Batch
from core.venues.sim.config import Delay, FaultConfig

# Every fault the plan can fire, plus what they caused; printed by the swarm runner.
FAULT_KINDS = (
    "late_answer",
    "stale_snapshot",
    "disconnect",
    "timeout",
    "lost_request",
    "rate_limit_storm",
    "rate_limited",
    "mixed_reject",
    "stream_events_dropped",
    "fills_replayed",
)

DISCONNECT = "disconnect"
CONNECT = "connect"
STORM = "storm"


@dataclass(frozen=True, slots=True)
class Fate:
    """What happens to one submitted batch: ``lost`` never reaches the exchange, ``timed_out``
    is executed but its answer never comes back, ``extra_delay`` holds the answer back so the
    stream overtakes it."""

    lost: bool = False
    timed_out: bool = False
    extra_delay: float = 0.0


_CLEAN = Fate()


class _Sampler:
    """Lognormal delays from one random stream."""

    def __init__(self, delay: Delay, rng: random.Random) -> None:
        self._mu = math.log(delay.median_s) if delay.median_s > 0 else 0.0
        self._sigma = delay.sigma
        self._median = delay.median_s
        self._rng = rng

    def __call__(self) -> float:
        if self._median == 0 or self._sigma == 0:
            return self._median
        return math.exp(self._mu + self._sigma * self._rng.gauss(0.0, 1.0))


class FaultInjector:
    """Seeded fault decisions for one exchange, and the timers of scheduled faults."""

    def __init__(self, config: FaultConfig, seed: int, start: float) -> None:
        self.config = config
        self.counts: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)

        def rng(name: str) -> random.Random:
            return random.Random(f"{seed}:fault:{name}")

        self.request_delay = _Sampler(config.request_latency, rng("request"))
        self.answer_delay = _Sampler(config.answer_latency, rng("answer"))
        self.stream_delay = _Sampler(config.stream_latency, rng("stream"))
        self._late_delay = _Sampler(config.late_answer_delay, rng("late_delay"))
        self.outage = _Sampler(config.outage, rng("outage"))
        self._late = rng("late")
        self._stale = rng("stale")
        self._timeout = rng("timeout")
        self._lost = rng("lost")
        self._mixed = rng("mixed")
        self._disconnects = rng("disconnects")
        self._storms = rng("storms")
        self._timers: list[tuple[float, int, str, bool]] = []
        self._seq = 0
        self.storm_until = -math.inf
        for t in config.disconnects_at:
            self.schedule(start + t, DISCONNECT)
        for t in config.rate_limit_storms_at:
            self.schedule(start + t, STORM)
        self._next_random(start, DISCONNECT)
        self._next_random(start, STORM)

    # ---- timers -----------------------------------------------------------------------

    def schedule(self, t: float, kind: str, rearm: bool = False) -> None:
        """A timer of ``kind`` at ``t``; ``rearm`` timers come from a rate and schedule their
        successor when they fire."""
        self._seq += 1
        heapq.heappush(self._timers, (t, self._seq, kind, rearm))

    @property
    def next_timer(self) -> float:
        return self._timers[0][0] if self._timers else math.inf

    def pop_timer(self) -> tuple[float, str]:
        t, _, kind, rearm = heapq.heappop(self._timers)
        if rearm:
            self._next_random(t, kind)
        return t, kind

    def _next_random(self, t: float, kind: str) -> None:
        if kind == DISCONNECT:
            rate, rng = self.config.disconnect_rate_per_min, self._disconnects
        else:
            rate, rng = self.config.rate_limit_storm_rate_per_min, self._storms
        if rate > 0:
            self.schedule(t + rng.expovariate(rate / 60.0), kind, rearm=True)

    # ---- per-request decisions --------------------------------------------------------

    def fate(self) -> Fate:
        c = self.config
        if c.lost_request_rate and self._lost.random() < c.lost_request_rate:
            self.counts["lost_request"] += 1
            return Fate(lost=True)
        if c.timeout_rate and self._timeout.random() < c.timeout_rate:
            self.counts["timeout"] += 1
            return Fate(timed_out=True)
        if c.late_answer_rate and self._late.random() < c.late_answer_rate:
            self.counts["late_answer"] += 1
            return Fate(extra_delay=self._late_delay())
        return _CLEAN

    def mixed_reject(self, batch: Batch) -> bool:
        """Reject this placement of a multi-item batch although it would have been fine."""
        rate = self.config.mixed_reject_rate
        if rate and len(batch.commands) > 1 and self._mixed.random() < rate:
            self.counts["mixed_reject"] += 1
            return True
        return False

    def snapshot_lag(self) -> float:
        """How old the content of an open-orders snapshot is (0: fresh)."""
        c = self.config
        if c.stale_snapshot_rate and self._stale.random() < c.stale_snapshot_rate:
            self.counts["stale_snapshot"] += 1
            return c.stale_snapshot_lag_s
        return 0.0

    def quiesce(self, t: float) -> None:
        """End the fault plan at ``t``: from now on no request is lost, timed out, held back or
        rejected, no snapshot is stale, and no disconnect or storm is left to fire.  Latencies
        stay as they are, and an outage under way still ends with its reconnect (the swarm's
        quiet phase, in which the client must converge)."""
        self.config = self.config.model_copy(
            update={
                "late_answer_rate": 0.0,
                "stale_snapshot_rate": 0.0,
                "disconnect_rate_per_min": 0.0,
                "disconnects_at": (),
                "timeout_rate": 0.0,
                "lost_request_rate": 0.0,
                "rate_limit_storm_rate_per_min": 0.0,
                "rate_limit_storms_at": (),
                "mixed_reject_rate": 0.0,
            }
        )
        self._timers = [timer for timer in self._timers if timer[2] == CONNECT]
        heapq.heapify(self._timers)
        self.storm_until = min(self.storm_until, t)

    def start_storm(self, t: float) -> None:
        self.counts["rate_limit_storm"] += 1
        self.storm_until = max(self.storm_until, t + self.config.rate_limit_storm_s)

    def rate_limited(self, t: float) -> bool:
        if t < self.storm_until:
            self.counts["rate_limited"] += 1
            return True
        return False
