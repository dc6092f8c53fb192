"""The loopback twin's fault plan: what goes wrong on the wire, and when.

These faults live at the protocol level, where a real network and a real exchange misbehave:
answers that come late or never (the action executed all the same: an unknown outcome for the
client, D8), WebSocket connections dropped without a close frame (then the ``userFills``
snapshot replays fills the client has already seen, D4), and rate limits (HTTP 429 when the IP
weight runs out or during a storm; "Too many cumulative requests" when the address budget does).
Scheduled faults take times in seconds after the twin starts; rates are seeded.  Tests also
trigger faults directly through ``FaultState``.  Nothing here touches an order.
"""

from __future__ import annotations

import math
import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FaultPreset = Literal["none", "adversarial"]


class TwinFaults(BaseModel):
    """Settings of the fault plan; the defaults are a well-behaved exchange."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer_delay_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    drop_answer_rate: float = Field(default=0.0, ge=0, le=1)  # executed, never answered
    disconnects_at: tuple[float, ...] = ()
    disconnect_rate_per_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    rate_limit_storms_at: tuple[float, ...] = ()
    storm_s: float = Field(default=3.0, gt=0, allow_inf_nan=False)
    ip_weight_per_minute: int = Field(default=1200, ge=1)
    address_budget: int = Field(default=10_000, ge=0)
    idle_timeout_s: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    max_pending_posts: int = Field(default=100, ge=1)
    # scheduleCancel is refused with the venue's volume error until the account has traded
    # this much (USD): $1,000,000 on Hyperliquid, so a fresh account is refused, as there.
    dead_man_min_volume: int = Field(default=1_000_000, ge=0)

    @classmethod
    def preset(cls, name: FaultPreset, **overrides: Any) -> TwinFaults:
        presets: dict[str, dict[str, Any]] = {
            "none": {},
            "adversarial": {
                "answer_delay_s": 0.05,
                "drop_answer_rate": 0.02,
                "disconnect_rate_per_min": 2.0,
                "rate_limit_storms_at": (30.0, 90.0),
            },
        }
        if name not in presets:
            raise ValueError(f"unknown fault preset {name!r}; choose one of {sorted(presets)}")
        return cls.model_validate({**presets[name], **overrides})


class FaultState:
    """The plan running: seeded draws, timers, and the switches tests flip."""

    def __init__(self, faults: TwinFaults, seed: int, start: float) -> None:
        self.faults = faults
        self._drop = random.Random(f"{seed}:twin:drop")
        self._disconnect = random.Random(f"{seed}:twin:disconnect")
        self._start = start
        self._disconnects = sorted(start + t for t in faults.disconnects_at)
        self._storms = sorted(start + t for t in faults.rate_limit_storms_at)
        self._storm_until = -math.inf
        self._next_random_disconnect = self._draw_disconnect(start)
        self.drop_next = 0  # answers to drop, set by tests
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "answers_dropped",
                "answers_delayed",
                "disconnects",
                "http_429",
                "address_limited",
                "bad_signatures",
                "bad_nonces",
            ),
            0,
        )

    def _draw_disconnect(self, t: float) -> float:
        rate = self.faults.disconnect_rate_per_min
        return t + self._disconnect.expovariate(rate / 60.0) if rate > 0 else math.inf

    def drop_answer(self) -> bool:
        """Execute this action but never answer it."""
        if self.drop_next > 0:
            self.drop_next -= 1
            self.counts["answers_dropped"] += 1
            return True
        rate = self.faults.drop_answer_rate
        if rate and self._drop.random() < rate:
            self.counts["answers_dropped"] += 1
            return True
        return False

    def storm(self, now: float, seconds: float) -> None:
        """Answer every request with 429 for ``seconds`` from ``now``."""
        self._storm_until = max(self._storm_until, now + seconds)

    def end_storm(self) -> None:
        """End the storm under way (scheduled ones still come)."""
        self._storm_until = -math.inf

    def storming(self, now: float) -> bool:
        while self._storms and self._storms[0] <= now:
            self.storm(self._storms.pop(0), self.faults.storm_s)
        return now < self._storm_until

    def disconnect_due(self, now: float) -> bool:
        """A scheduled or random disconnect fell due (each fires once)."""
        due = False
        while self._disconnects and self._disconnects[0] <= now:
            self._disconnects.pop(0)
            due = True
        if now >= self._next_random_disconnect:
            self._next_random_disconnect = self._draw_disconnect(now)
            due = True
        return due

    def next_timer(self) -> float:
        candidates = [self._next_random_disconnect]
        if self._disconnects:
            candidates.append(self._disconnects[0])
        if self._storms:
            candidates.append(self._storms[0])
        return min(candidates)
