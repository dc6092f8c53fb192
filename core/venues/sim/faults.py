"""The fault plan: seeded decisions about latency, lost answers, outages and rate limits, and
the adversary that produces every other answer shape Hyperliquid's protocol allows (D29-D35);
the venue's own closes of a resting order are drawn from the words of the market's venue
(``dialect``).

Each fault draws from its own random stream derived from the seed, and only while it is
switched on, so enabling one fault never changes the market path or the draws of another.  The
injector only decides and counts — how often each fault fired is in ``counts`` for the swarm's
report; the exchange driver carries the decisions out and keeps the venue's truth consistent.
It is told how many orders or rows there are, or a fill's size, never looks inside an order,
and never reads a clock.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from core.commands import Batch
from core.simconfig import Delay, FaultConfig
from core.venues.sim.dialect import Dialect

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
    "cancels_rate_limited",
    "queries_rate_limited",
    "syncs_rate_limited",
    "venue_cancels",
    "resting_rejected",
    "oid_only_news",
    "fills_delayed",
    "fills_lost",
    "malformed_rows",
    "altered_duplicates",
    "unknown_statuses",
    "duplicate_acks",
    "funding_payments",  # D36: not a fault, the account's cost the swarm draws
    "liquidations",  # D41: the exchange closed our position at maintenance margin
    "trades_failed",  # D38: a binary market's trade FAILED after matching (reversed)
    "settlements_repeated",  # D38: a trade's final word said twice
    "tick_changes",  # D39: the venue moved a binary market's tick
    "heartbeat_lapses",  # D40: our heartbeats stopped; the venue cancelled every order
    "post_only_modes",  # the venue refused non-post-only placements for a while
    "post_only_refused",  # placements refused in post-only mode
)

DISCONNECT = "disconnect"
CONNECT = "connect"
STORM = "storm"
VENUE_CANCEL = "venue_cancel"
RESTING_REJECT = "resting_reject"
TICK_CHANGE = "tick_change"
HEARTBEAT_LAPSE = "heartbeat_lapse"
HEARTBEAT_RESUME = "heartbeat_resume"
HEARTBEAT_EXPIRY = "heartbeat_expiry"
POST_ONLY = "post_only"

# Status strings a venue might add tomorrow: no venue here knows any of them (D6, D35).
TOMORROW_STATUSES = ("expired", "pendingCancel", "waitingForFill", "frozenByRisk")

# What ``quiesce`` switches off: every rate and schedule of the plan.  Latencies stay.
_QUIET: dict[str, object] = {
    "late_answer_rate": 0.0,
    "stale_snapshot_rate": 0.0,
    "disconnect_rate_per_min": 0.0,
    "disconnects_at": (),
    "timeout_rate": 0.0,
    "lost_request_rate": 0.0,
    "rate_limit_storm_rate_per_min": 0.0,
    "rate_limit_storms_at": (),
    "mixed_reject_rate": 0.0,
    "storm_cancel_429_rate": 0.0,
    "storm_query_429_rate": 0.0,
    "storm_sync_429_rate": 0.0,
    "venue_cancel_rate_per_min": 0.0,
    "resting_reject_rate_per_min": 0.0,
    "oid_only_news_rate": 0.0,
    "fill_delay_rate": 0.0,
    "fill_loss_rate": 0.0,
    "malformed_row_rate": 0.0,
    "altered_duplicate_rate": 0.0,
    "unknown_status_rate": 0.0,
    "duplicate_ack_rate": 0.0,
    "tick_change_every_s": 0.0,
    "heartbeat_lapse_every_s": 0.0,
    "post_only_mode_every_s": 0.0,
}


@dataclass(frozen=True, slots=True)
class Fate:
    """What happens to one submitted batch: ``lost`` never reaches the exchange, ``timed_out``
    is executed but its answer never comes back, ``extra_delay`` holds the answer back so the
    stream overtakes it."""

    lost: bool = False
    timed_out: bool = False
    extra_delay: float = 0.0


_CLEAN = Fate()
# The timers the quiet phase keeps: reconnects, and heartbeats resuming after a lapse.
_KEPT_TIMERS = frozenset({CONNECT, HEARTBEAT_RESUME})


@dataclass(frozen=True, slots=True)
class Alteration:
    """How a repeated fill differs from the original (D35): ``lots`` more or fewer (never
    below one lot in all), or ``steps`` price steps up or down; it is sent ``delay`` seconds
    after the original."""

    lots: int
    steps: int
    delay: float


@dataclass(frozen=True, slots=True)
class VenueClose:
    """A resting order the venue takes down on its own (D31): which one (an index into our
    open orders sorted by oid), its status, and whether the news comes as Hyperliquid's
    ``nonUserCancel`` (oid only, no status or filled size)."""

    index: int
    raw_status: str
    non_user: bool


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

    def __init__(self, config: FaultConfig, seed: int, start: float, dialect: Dialect) -> None:
        self.config = config
        self._dialect = dialect  # the words the venue's own closes are drawn from
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
        self._storm_cancels = rng("storm_cancels")
        self._storm_queries = rng("storm_queries")
        self._storm_syncs = rng("storm_syncs")
        self._venue_cancel_pick = rng("venue_cancel_pick")
        self._resting_reject_pick = rng("resting_reject_pick")
        self._oid_only = rng("oid_only")
        self._oid_only_delay = _Sampler(config.late_answer_delay, rng("oid_only_delay"))
        self._fill_delays = rng("fill_delays")
        self._fill_delay = _Sampler(config.fill_delay, rng("fill_delay"))
        self._fill_losses = rng("fill_losses")
        self._malformed = rng("malformed")
        self._altered = rng("altered")
        self._altered_delay = _Sampler(config.altered_duplicate_delay, rng("altered_delay"))
        self._unknown = rng("unknown_statuses")
        self._duplicate_acks = rng("duplicate_acks")
        self._duplicate_ack_delay = _Sampler(config.duplicate_ack_delay, rng("duplicate_delay"))
        # Timers that come from a rate: the knob and the stream that draws their times.
        self._rated: dict[str, tuple[str, random.Random]] = {
            DISCONNECT: ("disconnect_rate_per_min", rng("disconnects")),
            STORM: ("rate_limit_storm_rate_per_min", rng("storms")),
            VENUE_CANCEL: ("venue_cancel_rate_per_min", rng("venue_cancels")),
            RESTING_REJECT: ("resting_reject_rate_per_min", rng("resting_rejects")),
            TICK_CHANGE: ("tick_change_every_s", rng("tick_changes")),
            HEARTBEAT_LAPSE: ("heartbeat_lapse_every_s", rng("heartbeat_lapses")),
            POST_ONLY: ("post_only_mode_every_s", rng("post_only_modes")),
        }
        self._tick_pick = rng("tick_pick")
        self.shapes_stream = _shapes_stream(config)
        self._timers: list[tuple[float, int, str, bool]] = []
        self._seq = 0
        self.storm_until = -math.inf
        self.post_only_until = -math.inf
        for t in config.disconnects_at:
            self.schedule(start + t, DISCONNECT)
        for t in config.rate_limit_storms_at:
            self.schedule(start + t, STORM)
        for kind in self._rated:
            self._next_random(start, kind)

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
        knob, rng = self._rated[kind]
        rate: float = getattr(self.config, knob)
        if rate > 0:
            per_s = 1.0 / rate if knob.endswith("_every_s") else rate / 60.0
            self.schedule(t + rng.expovariate(per_s), kind, rearm=True)

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
        rejected, no snapshot is stale, no answer or stream row is altered, repeated or lost,
        and no disconnect, storm, venue cancel, tick change, heartbeat lapse or post-only mode
        is left to fire.  Latencies stay as they are, an outage under way still ends with its
        reconnect, heartbeats lapsed resume, and what was already sent (a late answer, a
        held-back fill) still arrives: the swarm's quiet phase, in which the client must
        converge."""
        self.config = self.config.model_copy(update=_QUIET)
        self.shapes_stream = False
        self._timers = [timer for timer in self._timers if timer[2] in _KEPT_TIMERS]
        heapq.heapify(self._timers)
        self.storm_until = min(self.storm_until, t)
        self.post_only_until = min(self.post_only_until, t)

    def start_storm(self, t: float) -> None:
        self.counts["rate_limit_storm"] += 1
        self.storm_until = max(self.storm_until, t + self.config.rate_limit_storm_s)

    def start_post_only_mode(self, t: float) -> None:
        self.counts["post_only_modes"] += 1
        self.post_only_until = max(self.post_only_until, t + self.config.post_only_mode_s)

    def post_only_refused(self, t: float) -> bool:
        """A placement that is not post-only, in the venue's post-only mode: refused."""
        if t < self.post_only_until:
            self.counts["post_only_refused"] += 1
            return True
        return False

    def new_grid(self, grid: int, grids: tuple[int, ...], fair: float, one: int) -> int | None:
        """D39: the tick a binary market moves to from ``grid``: another of the venue's
        ``grids`` (ticks of the unit) on which ``fair`` keeps a level of the other makers'
        ladder on each side (None when there is none)."""
        fits = [g for g in grids if g != grid and 2 * g <= fair <= one - 2 * g]
        if not fits:
            return None
        return self._tick_pick.choice(fits)

    def rate_limited(self, t: float) -> bool:
        """A placement or modify during a storm: always refused."""
        if t < self.storm_until:
            self.counts["rate_limited"] += 1
            return True
        return False

    # ---- the adversary: 429s beyond placements (D29) -----------------------------------

    def cancel_rate_limited(self, t: float) -> bool:
        """One cancel item (alone or in a cancel-all's sweep) refused with a 429 in a storm."""
        rate = self.config.storm_cancel_429_rate
        if t < self.storm_until and rate and self._storm_cancels.random() < rate:
            self.counts["cancels_rate_limited"] += 1
            return True
        return False

    def query_rate_limited(self, t: float) -> bool:
        """A status query refused with a 429 in a storm."""
        rate = self.config.storm_query_429_rate
        if t < self.storm_until and rate and self._storm_queries.random() < rate:
            self.counts["queries_rate_limited"] += 1
            return True
        return False

    def sync_rate_limited(self, t: float) -> bool:
        """A listing request (open orders and position, fills by time, or a cancel-all's list
        of what to cancel) refused with a 429 in a storm."""
        rate = self.config.storm_sync_429_rate
        if t < self.storm_until and rate and self._storm_syncs.random() < rate:
            self.counts["syncs_rate_limited"] += 1
            return True
        return False

    # ---- the adversary: what the venue does on its own (D31) ---------------------------

    def venue_close(self, kind: str, orders: int) -> VenueClose:
        """Which of ``orders`` resting orders a ``VENUE_CANCEL`` or ``RESTING_REJECT`` timer
        takes down, and how it reads (the venue's words): a third of the venue's cancels come
        by oid only where the venue has such news (Hyperliquid's ``nonUserCancel``),
        rejections always name their status."""
        words = self._dialect
        if kind == VENUE_CANCEL:
            rng = self._venue_cancel_pick
            self.counts["venue_cancels"] += 1
            index = rng.randrange(orders)
            raw = rng.choice(words.venue_cancels)
            return VenueClose(
                index, raw, rng.random() < 1 / 3 and words.non_user_cancel is not None
            )
        rng = self._resting_reject_pick
        self.counts["resting_rejected"] += 1
        index = rng.randrange(orders)
        return VenueClose(index, rng.choice(words.resting_rejects), False)

    # ---- the adversary: answers and stream rows (D32-D35) ------------------------------

    def oid_only_news(self) -> float | None:
        """For a batch that places or modifies: how much longer its answer is held back while
        the stream names its orders by oid only (D32), or None."""
        rate = self.config.oid_only_news_rate
        if rate and self._oid_only.random() < rate:
            return self._oid_only_delay()
        return None

    def duplicate_ack(self) -> float | None:
        """How long after a batch's answer the same answer arrives again, or None."""
        rate = self.config.duplicate_ack_rate
        if rate and self._duplicate_acks.random() < rate:
            self.counts["duplicate_acks"] += 1
            return self._duplicate_ack_delay()
        return None

    def fill_fate(self) -> tuple[bool, float | None]:
        """One fill of ours on the stream (D33): (lost, delay) — lost fills are never streamed
        (the venue still has them), delayed ones go out ``delay`` seconds later in a message
        of their own.  Both streams draw for every fill while on, so each keeps its draws when
        the other is switched on; a fill drawn for both is lost."""
        c = self.config
        lost = bool(c.fill_loss_rate) and self._fill_losses.random() < c.fill_loss_rate
        delay = None
        if c.fill_delay_rate and self._fill_delays.random() < c.fill_delay_rate:
            delay = self._fill_delay()
        if lost:
            self.counts["fills_lost"] += 1
            return True, None
        if delay is not None:
            self.counts["fills_delayed"] += 1
        return False, delay

    def altered_duplicate(self, lots: int) -> Alteration | None:
        """Whether a fill of ``lots`` is sent again later with the same trade id and altered
        content (D35): its size changed by at least one lot (never below one lot), or its
        price moved by one step.  Counted by the caller, which sends it only after the
        original was sent readable."""
        rate = self.config.altered_duplicate_rate
        rng = self._altered
        if not rate or rng.random() >= rate:
            return None
        if rng.random() < 0.5:
            change = rng.randint(1, max(1, lots // 2))
            down = rng.random() < 0.5 and lots - change >= 1
            return Alteration(-change if down else change, 0, self._altered_delay())
        return Alteration(0, rng.choice((-1, 1)), self._altered_delay())

    def malformed_row(self, rows: int) -> int | None:
        """Which of a message's ``rows`` rows of ours cannot be read (D34), or None."""
        rate = self.config.malformed_row_rate
        if rate and self._malformed.random() < rate:
            self.counts["malformed_rows"] += 1
            return self._malformed.randrange(rows)
        return None

    def unknown_status(self) -> str | None:
        """A status word Hyperliquid might add tomorrow, to replace a known one (D6, D35)."""
        rate = self.config.unknown_status_rate
        if rate and self._unknown.random() < rate:
            self.counts["unknown_statuses"] += 1
            return self._unknown.choice(TOMORROW_STATUSES)
        return None


def _shapes_stream(config: FaultConfig) -> bool:
    """Whether any fault rewrites stream messages (the exchange skips the rewrite if not)."""
    return bool(
        config.fill_delay_rate
        or config.fill_loss_rate
        or config.malformed_row_rate
        or config.altered_duplicate_rate
        or config.unknown_status_rate
    )
