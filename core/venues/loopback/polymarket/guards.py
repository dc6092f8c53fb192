"""What stands before the Polymarket twin's order endpoints: the operating mode, the per-signer
rate limits, and the dead-man switch.

* Modes (reference 4, "Trading modes"): ``restarting`` answers every order endpoint 425
  ``service not ready``; ``post_only`` refuses a non-post-only ``POST /order`` with 503 (code
  ``post_only_mode``, ``retry_after_seconds``) and such items of a batch one by one;
  ``cancel_only`` refuses placements with 503; ``disabled`` refuses cancels too.  Each has a
  ``Retry-After``; a timed mode ends by itself, and a restart is followed by the venue's two
  minutes of post-only mode.
* Rate limits: a token bucket per signer for orders (a batch costs its size, admitted all or
  nothing) and one for cancels; a refusal is 429 ``Too Many Requests`` with ``Retry-After``;
  every order-endpoint answer carries ``Poly-RateLimit-Remaining``, ``-Reset`` and ``-Tier``.
  ``storm`` refuses everything for a while, whatever the buckets say.
* Scripted answers: the next placements refused with any status and text (``could not insert
  order`` 500, ``order timed out``, ...) without reaching the book, or the next writes carried
  out but never answered (the connection dropped: an unknown outcome for the client, reference
  7.14).
* Heartbeats (reference 4): ``POST /v1/heartbeats`` chains ids; once one is accepted, a silence
  longer than ``heartbeat_timeout_s`` cancels every open order of those credentials; a stale id
  is 400 ``Invalid Heartbeat ID`` with the id expected.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from core.commands import Cancel
from core.venues.loopback.polymarket.base import PmTwinBase
from core.venues.loopback.polymarket.transport import PmReply
from core.venues.polymarket.errors import (
    CANCEL_ONLY,
    INVALID_HEARTBEAT_ID,
    POST_ONLY_MODE,
    POST_ONLY_MODE_CODE,
    SERVICE_NOT_READY,
    TOO_MANY_REQUESTS,
    TRADING_DISABLED,
)

MODES = ("normal", "restarting", "post_only", "cancel_only", "disabled")


@dataclass
class Bucket:
    """A token bucket: ``rate`` tokens a second up to ``burst``."""

    rate: float
    burst: float
    tokens: float
    at: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def take(self, cost: float, now: float) -> bool:
        self.refill(now)
        if cost > self.tokens:
            return False
        self.tokens -= cost
        return True

    def wait_s(self, cost: float) -> float:
        return max(0.0, (min(cost, self.burst) - self.tokens) / self.rate)


@dataclass
class Heartbeat:
    """One credential set's dead-man switch: the id it must send next, and when it lapses."""

    expected: str | None = None  # None: never armed (any id is accepted)
    deadline: float = math.inf


class Guards(PmTwinBase):
    """Modes, rate limits and heartbeats (see the module's docstring)."""

    def _guards_init(self) -> None:
        self.mode = "normal"
        self._mode_until = math.inf
        self._then_post_only_s = 0.0
        self._storm_until = -math.inf
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self.heartbeats: dict[str, Heartbeat] = {}
        self.heartbeat_lapses = 0
        self.refusals: list[tuple[int, str]] = []  # the next placements' (status, text)
        self.drops = 0  # the next writes carried out but not answered

    # ---- scripted answers ----------------------------------------------------------------

    def refuse_next_posts(self, status: int, text: str, count: int = 1) -> None:
        """The next ``count`` placement requests are answered ``status`` ``{"error": text}``
        and never reach the book."""
        self.refusals.extend([(status, text)] * count)

    def drop_next_answers(self, count: int = 1) -> None:
        """The next ``count`` placements or cancels are carried out, and their connection is
        closed without an answer."""
        self.drops += count

    def scripted_refusal(self) -> PmReply | None:
        if not self.refusals:
            return None
        status, text = self.refusals.pop(0)
        return PmReply.error(status, text)

    def drop_this(self) -> bool:
        if self.drops <= 0:
            return False
        self.drops -= 1
        return True

    # ---- modes ---------------------------------------------------------------------------

    def set_mode(self, mode: str, seconds: float | None = None) -> None:
        """Switch the venue's mode (``MODES``), for ``seconds`` or until switched again."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
        now = self._clock.now()
        self.mode = mode
        self._mode_until = math.inf if seconds is None else now + seconds
        self._then_post_only_s = 0.0
        self._clock_driver.wake()

    def restart(self, seconds: float, post_only_s: float | None = None) -> None:
        """An engine restart: 425 for ``seconds``, then post-only mode (two minutes by default)."""
        self.set_mode("restarting", seconds)
        self._then_post_only_s = (
            self.settings.post_only_after_restart_s if post_only_s is None else post_only_s
        )

    def _retry_after(self) -> int:
        left = self._mode_until - self._clock.now()
        return max(1, math.ceil(left)) if math.isfinite(left) else 60

    def _mode_timer(self, now: float) -> float | None:
        if now >= self._mode_until:
            follow = self._then_post_only_s if self.mode == "restarting" else 0.0
            self.mode, self._mode_until = "normal", math.inf
            if follow > 0:
                self.mode, self._mode_until = "post_only", now + follow
        return self._mode_until if math.isfinite(self._mode_until) else None

    def mode_refusal(self, *, placing: bool, post_only: bool = True) -> PmReply | None:
        """The answer the mode gives a request before anything else, or None."""
        headers = {"Retry-After": str(self._retry_after())}
        if self.mode == "restarting":
            return PmReply.error(425, SERVICE_NOT_READY, headers)
        if self.mode == "disabled":
            return PmReply.error(503, TRADING_DISABLED, headers)
        if placing and self.mode == "cancel_only":
            return PmReply.error(503, CANCEL_ONLY, headers)
        if placing and self.mode == "post_only" and not post_only:
            return self.post_only_refusal()
        return None

    def post_only_refusal(self) -> PmReply:
        retry = self._retry_after()
        return PmReply.error(
            503,
            POST_ONLY_MODE,
            {"Retry-After": str(retry)},
            code=POST_ONLY_MODE_CODE,
            retry_after_seconds=retry,
        )

    # ---- rate limits ---------------------------------------------------------------------

    def storm(self, seconds: float) -> None:
        """Refuse every order and cancel request with 429 for ``seconds``."""
        self._storm_until = self._clock.now() + seconds

    def _bucket(self, signer: str, kind: str) -> Bucket:
        key = (signer, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            s = self.settings
            rate, burst = (
                (s.order_rate, s.order_burst)
                if kind == "order"
                else (s.cancel_rate, s.cancel_burst)
            )
            bucket = self._buckets[key] = Bucket(rate, burst, burst, self._clock.now())
        return bucket

    def charge(self, signer: str, kind: str, cost: int) -> tuple[PmReply | None, dict[str, str]]:
        """(429 reply or None, the rate-limit headers every answer of this request carries)."""
        now = self._clock.now()
        bucket = self._bucket(signer, kind)
        storming = now < self._storm_until
        admitted = not storming and bucket.take(cost, now)
        wait = self._storm_until - now if storming else bucket.wait_s(cost)
        headers = {
            "Poly-RateLimit-Remaining": str(max(0, math.floor(bucket.tokens))),
            "Poly-RateLimit-Reset": str(math.ceil(self.epoch(now) + max(wait, 0.0))),
            "Poly-RateLimit-Tier": "standard",
        }
        if admitted:
            return None, headers
        refusal = {**headers, "Retry-After": str(max(1, math.ceil(wait)))}
        return PmReply.error(429, TOO_MANY_REQUESTS, refusal), headers

    # ---- the dead-man switch -------------------------------------------------------------

    def heartbeat(self, api_key: str, heartbeat_id: str) -> PmReply:
        state = self.heartbeats.setdefault(api_key, Heartbeat())
        if state.expected is not None and heartbeat_id != state.expected:
            return PmReply.error(400, INVALID_HEARTBEAT_ID, heartbeat_id=state.expected)
        state.expected = str(uuid.UUID(int=self._trade_number(), version=4))
        state.deadline = self._clock.now() + self.settings.heartbeat_timeout_s
        self._clock_driver.wake()
        return PmReply.json({"heartbeat_id": state.expected})

    def _heartbeat_timer(self, now: float) -> float | None:
        due: float | None = None
        for api_key, state in self.heartbeats.items():
            if now >= state.deadline:
                state.deadline = math.inf
                state.expected = ""  # lapsed: only a fresh start ("") is accepted now
                self.heartbeat_lapses += 1
                self.cancel_orders_of(api_key)
            elif math.isfinite(state.deadline):
                due = state.deadline if due is None else min(due, state.deadline)
        return due

    def cancel_orders_of(self, api_key: str) -> list[str]:
        """Cancel every open order placed with ``api_key``; the ids cancelled."""
        mine = [o for o in self.orders.values() if o.status == "LIVE" and o.owner == api_key]
        commands = [Cancel(o.order_id, o.engine_oid) for o in mine if o.engine_oid is not None]
        if commands:
            self._execute(list(commands))
        return [o.order_id for o in mine if o.status == "CANCELED"]

    def _timers(self, now: float) -> float | None:
        times = [t for t in (self._mode_timer(now), self._heartbeat_timer(now)) if t is not None]
        return min(times) if times else None
