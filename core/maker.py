"""MarketMaker: the sans-I/O engine.  Events in, command batches out, time passed in.

    handle(event, now)   -> list[Batch]   something happened at the venue
    tick(now)            -> list[Batch]   timers: quoting, timeouts, reconcile, risk, recovery
    operate(action, now) -> list[Batch]   the operator: pause, cancel all, kill, re-arm, quit
    view(now)            -> ConsoleView   the immutable picture for the console and reporters

It never awaits, never reads a clock and never touches a socket, so the same object runs inside
the async runner on the wall clock and inside the simulation loop in virtual time (D22).  It
wires the parts together; each rule lives in its part: order state in ``orders`` (D1-D8), fill
counting in ``fills`` (D4), rejections and backoff in ``rejections`` (D11-D14), recovery in
``recovery`` (D15), reconciliation in ``reconcile`` (D9, D16, D19), limits and the kill switch
in ``risk`` (D17, D18), the ladder in ``strategy`` (D23) and the diff in ``executor`` (D13).

What it must never do: delay a cancel, a cancel-all or a kill behind anything (D13); place while
killed, halted or sweeping; place a second order for an intent whose first one is unanswered
(D8); raise on any venue event (a malformed one is counted and logged).
"""

from __future__ import annotations

import dataclasses
import enum
from collections import deque
from dataclasses import dataclass
from fractions import Fraction

from core.actions import Action, CancelAllOrders, CancelOrder, Kill, Pause, Quit, Rearm, Resume
from core.book import LocalBook
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    FetchFills,
    Modify,
    Place,
    QueryOrder,
    SyncState,
    TimeInForce,
)
from core.config import Config
from core.events import (
    AckStatus,
    BookDelta,
    BookSnapshot,
    CancelAck,
    CancelAllDone,
    CancelRejected,
    CancelUnknown,
    Channel,
    Connected,
    Disconnected,
    Event,
    Fill,
    FillsFetched,
    LeverageInfo,
    Liquidity,
    MalformedMessage,
    ModifyAck,
    ModifyRejected,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    PositionSnapshot,
    QueryFailed,
    RejectionClass,
    Side,
    SyncFailed,
    Trade,
    VenueNotice,
    VenueStatus,
)
from core.executor import Executor, SideMode
from core.exposure import Position, exposure
from core.fillgaps import FillGaps
from core.oidnews import UnboundNews
from core.orders import OrderState, OrderTracker, Outcome, TrackedOrder
from core.pacing import RetryPacing, TokenBucket
from core.reconcile import PositionMoves, Reconciler
from core.recovery import RecoveryParams, ReduceOnlyRecovery
from core.rejections import RejectionPolicy, RejectionTracker
from core.risk import KillSwitch, RiskLimits, kill_reason, notional_blocks_increase
from core.strategy import Quote, StrategyParams, desired_ladder
from core.units import Instrument, Rounding
from core.view import (
    BackoffView,
    ConsoleView,
    FillView,
    Limits,
    LogEntry,
    Mode,
    OrderView,
    RecoveryView,
    RejectionText,
)

# The default pacing of retries (config: [emergency] and [reconcile], D29).
CANCEL_RETRY = RetryPacing(0.1, 2.0)
SWEEP_RETRY = RetryPacing(0.2, 2.0)
QUERY_RETRY = RetryPacing(0.25, 8.0)
# Status queries are one request each: a burst of ten, then five a second (D29).  Hyperliquid
# weighs an orderStatus 2 of 1200 a minute per IP: this stays under half of that budget.
QUERY_RATE_PER_S = 5.0
QUERY_BURST = 10


@dataclass(frozen=True, slots=True)
class MakerParams:
    """Everything the maker needs, in core units (lots, ticks, seconds)."""

    strategy: StrategyParams
    risk: RiskLimits
    rejection: RejectionPolicy
    recovery: RecoveryParams
    recovery_enabled: bool = True
    requote_threshold: int = 1
    min_requote_interval: float = 0.05
    grace_period: float = 2.0
    request_lifetime: float = 10.0
    sync_interval: float = 30.0
    position_tolerance: int = 0
    late_fill_window: float = 1.0
    terminal_retention: float = 60.0
    answer_timeout: float = 5.0  # a placement or cancel unanswered this long is queried (D8, D24)
    query_timeout: float = 5.0
    # D29: retries of what the venue refused or did not settle are paced, never at tick rate
    cancel_retry: RetryPacing = CANCEL_RETRY
    sweep_retry: RetryPacing = SWEEP_RETRY
    query_retry: RetryPacing = QUERY_RETRY
    fill_gap_wait: float = 1.0  # D33: fills the venue says happened may be this late
    unknown_orders: str = "cancel"  # or "adopt"
    on_start: str = "cancel_all"  # or "adopt"
    leverage: int = 5
    live: bool = False
    verify_gap: float = 0.3
    sweep_timeout: float = 5.0
    sweep_attempts: int = 5
    cancel_escalation: int = 3
    price_fence_s: float = 2.0
    log_size: int = 500
    fills_shown: int = 200

    @classmethod
    def from_config(cls, cfg: Config, instrument: Instrument, *, live: bool) -> MakerParams:
        lots = instrument.size_to_lots
        max_position = lots(cfg.risk.max_position, Rounding.DOWN)
        s = cfg.strategy
        size_lots = max(1, lots(s.size, Rounding.DOWN))
        skew_per_lot = float(s.skew_ticks_per_unit * instrument.lot_size)
        e = cfg.emergency
        return cls(
            strategy=StrategyParams(
                levels=s.levels,
                level_spacing_ticks=s.level_spacing_ticks,
                half_spread_ticks=s.half_spread_ticks,
                size_lots=size_lots,
                max_position_lots=max(1, max_position),
                size_step_lots=lots(s.size_step, Rounding.DOWN),
                skew_ticks_per_lot=skew_per_lot,
            ),
            risk=RiskLimits(
                max_position=max(1, max_position),
                max_notional=int(cfg.risk.max_notional / instrument.value_unit),
                loss_limit=int(cfg.risk.loss_limit / instrument.value_unit),
                stale_data_s=cfg.risk.stale_data_s,
                runaway_multiple=cfg.risk.runaway_multiple,
                kill_on_stale_data=cfg.risk.kill_on_stale_data,
                value_unit=float(instrument.value_unit),
            ),
            rejection=RejectionPolicy(
                backoff_base=cfg.backoff.base_s,
                backoff_factor=cfg.backoff.factor,
                backoff_cap=cfg.backoff.cap_s,
                price_error_threshold=cfg.backoff.price_error_threshold,
                position_hold=cfg.backoff.position_limit_hold_s,
            ),
            recovery=RecoveryParams(
                rejection_threshold=cfg.recovery.rejection_threshold,
                min_ioc_size=max(1, lots(cfg.recovery.min_ioc_size, Rounding.DOWN)),
                cooldown=cfg.recovery.cooldown_s,
                max_attempts=cfg.recovery.max_attempts,
                slippage_ticks=cfg.recovery.slippage_ticks,
            ),
            recovery_enabled=cfg.recovery.enabled,
            requote_threshold=s.requote_threshold_ticks,
            min_requote_interval=min(0.05, s.tick_interval_s / 2),
            grace_period=cfg.reconcile.grace_period_s,
            request_lifetime=cfg.reconcile.request_lifetime_s,
            sync_interval=cfg.reconcile.interval_s,
            position_tolerance=lots(cfg.reconcile.position_tolerance, Rounding.DOWN),
            late_fill_window=cfg.reconcile.late_fill_window_s,
            terminal_retention=cfg.reconcile.terminal_retention_s,
            answer_timeout=cfg.reconcile.cancel_timeout_s,
            query_timeout=cfg.reconcile.query_timeout_s,
            cancel_retry=RetryPacing(e.cancel_retry_base_s, e.cancel_retry_cap_s),
            sweep_retry=RetryPacing(e.sweep_retry_base_s, e.sweep_retry_cap_s),
            query_retry=RetryPacing(
                min(0.25, cfg.reconcile.query_retry_cap_s), cfg.reconcile.query_retry_cap_s
            ),
            fill_gap_wait=cfg.reconcile.fill_gap_wait_s,
            unknown_orders=cfg.reconcile.unknown_orders,
            on_start=cfg.reconcile.on_start,
            leverage=cfg.market.leverage,
            live=live,
            verify_gap=e.verify_gap_s,
            sweep_timeout=e.sweep_timeout_s,
            sweep_attempts=e.sweep_attempts,
            cancel_escalation=e.escalate_after,
        )


class SweepPhase(enum.Enum):
    """A venue-wide cancel-all, then proof that the venue is empty (D25)."""

    IDLE = ""
    SWEEPING = "sweeping"  # a cancel-all is on its way
    RETRYING = "retrying"  # the venue is rate-limiting us: the next cancel-all waits (D29)
    VERIFYING = "verifying"
    VERIFIED = "verified"
    FAILED = "failed"


# A cancel-all the operator (or a kill) asks for within this long of the last one sent joins it
# instead of sending another: its answer takes one round trip, and a key held down, or a kill
# right behind an operator's cancel-all, must not become a burst of venue-wide sweeps (D29).
JOIN_WINDOW_S = 1.0


class _Sweep:
    __slots__ = (
        "attempts",
        "deadline",
        "done_at",
        "empty_seen",
        "for_startup",
        "next_verify",
        "phase",
        "purpose",
        "rate_limited",
        "retries",
        "retry_at",
        "sent_at",
    )

    def __init__(self) -> None:
        self.phase = SweepPhase.IDLE
        self.purpose = ""
        self.for_startup = False  # the start-up sweep (D19) is this one, or joined it
        self.attempts = 0  # cancel-alls that left orders behind or went unanswered
        self.retries = 0  # waits because the venue was rate-limiting us (D29)
        self.rate_limited = False  # the venue said 429 to this attempt (any item of it)
        self.empty_seen = 0
        self.deadline = 0.0
        self.sent_at = -1e18
        self.retry_at = 0.0
        self.done_at = -1e18  # when the venue said the latest cancel-all was done
        self.next_verify: float | None = None

    @property
    def active(self) -> bool:
        return self.phase in (SweepPhase.SWEEPING, SweepPhase.RETRYING, SweepPhase.VERIFYING)


class CloidSource:
    """Client order ids in Hyperliquid's shape (0x + 32 hex): a per-session prefix and a
    counter, so ids never repeat across restarts that use different prefixes (D2)."""

    __slots__ = ("_n", "_prefix")

    def __init__(self, prefix: int) -> None:
        self._prefix = prefix & 0xFFFFFFFF
        self._n = 0

    def __call__(self) -> str:
        self._n += 1
        return f"0x{self._prefix:08x}{self._n:024x}"


class MarketMaker:
    def __init__(
        self,
        params: MakerParams,
        instrument: Instrument,
        *,
        venue: str = "sim",
        cloid_prefix: int = 1,
    ) -> None:
        self.params = params
        self.instrument = instrument
        self.venue = venue
        self.tracker = OrderTracker(
            late_fill_window=params.late_fill_window,
            retention=params.terminal_retention,
            grace_period=params.grace_period,
            request_lifetime=params.request_lifetime,
        )
        self.position = Position()
        self.position_moves = PositionMoves()  # lines our position up with the venue's (D16)
        self.book = LocalBook()
        self.rejections = RejectionTracker(params.rejection)
        self.recovery = ReduceOnlyRecovery(params.recovery)
        self.reconciler = Reconciler(
            grace_period=params.grace_period,
            interval=params.sync_interval,
            position_tolerance=params.position_tolerance,
            timeout=params.query_timeout,
        )
        self.kill_switch = KillSwitch()
        self.next_cloid = CloidSource(cloid_prefix)
        self.executor = Executor(self.next_cloid, params.requote_threshold)
        self.leverage = params.leverage
        self.strategy = params.strategy  # sized for the leverage the venue really applies
        self.connected = False
        self.paused = False
        # Why quoting paused when the operator did not ask for it (a cancel-all that could
        # not be verified); empty for the operator's own pause.
        self.pause_reason = ""
        self.halted_reason = ""
        self.starting = True
        self.stopping = False
        self._startup_orders: OpenOrders | None = None
        self._startup_position: PositionSnapshot | None = None
        self._startup_failures = 0  # start-up syncs failed (not rate-limited: D29)
        self._startup_tries = 0  # start-up syncs retried, for their pacing
        self._unreadable_snapshots = 0  # open-orders answers in a row with unreadable rows
        self._sweep = _Sweep()
        self._batch_id = 0
        self._last_data: float | None = None
        self._last_quote = -1e18
        self._answer_deadlines: deque[tuple[float, str]] = deque()
        self._queries: dict[str, float] = {}  # cloid -> when to (re)send its status query
        # cloid -> send times (oldest first) of its status queries whose answers may still
        # arrive (D24: a "not found" may answer any of them; see ``_query_answered``)
        self._asked: dict[str, list[float]] = {}
        self._fences: dict[Side, tuple[int, float]] = {}  # D23: price a rejected quote hit
        self._requested: dict[str, None] = {}  # orders the operator asked to cancel, by cloid
        # D13/D29: cancels refused in a row (reset by any cancel the venue accepts): retries of
        # refused cancels wait until ``_cancel_retry_at``; ``_escalation`` counts toward one
        # cancel-all.
        self._cancel_failures = 0
        self._cancel_retry_at = -1e18
        self._escalation = 0
        # D31: status answers in a row that settled nothing for an order (a failed query, an
        # unknown status, one the table refuses), and the last such answer, shown (D27).
        self._unsettled: dict[str, tuple[int, str]] = {}
        self._startup_retry_at: float | None = None
        # When the venue's position last matched ours (set at start-up, D19): lost fills are
        # fetched from then on (D33).
        self._position_agreed_at: float | None = None
        self._query_budget = TokenBucket(QUERY_RATE_PER_S, QUERY_BURST)
        self._last_sync_sent = -1e18
        self.unbound = UnboundNews(
            wait=params.answer_timeout, horizon=3 * max(params.request_lifetime, 1.0)
        )
        self.fill_gaps = FillGaps(
            wait=params.fill_gap_wait, pacing=params.query_retry, timeout=params.query_timeout
        )
        self._position_refresh_asked = False
        self.untracked_venue_orders = 0
        self.loop_lag = 0.0
        self.log: deque[LogEntry] = deque(maxlen=params.log_size)
        self.fills: deque[FillView] = deque(maxlen=params.fills_shown)
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "events",
                "book_updates",
                "fills",
                "duplicate_fills",
                "history_fills",
                "fills_in_adopted_position",
                "untimed_fills",
                "unmatched_fills",
                "strays_cancelled",
                "late_fills",
                "illegal_transitions",
                "venue_notices",
                "inconsistent_fills",
                "unknown_statuses",
                "malformed_rows",
                "unsettled_answers",
                "oid_news_kept",
                "oid_news_bound",
                "places_sent",
                "modifies_sent",
                "cancels_sent",
                "cancel_alls_sent",
                "queries_sent",
                "syncs_sent",
                "fill_fetches",
                "rejections",
                "taker_fills",
                "recovery_iocs",
            ),
            0,
        )

    # ---- mode -----------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        if self.halted_reason:
            return Mode.HALTED
        if self.kill_switch.latched:
            return Mode.KILLED
        if self.starting:
            return Mode.STARTING
        if self.paused:
            return Mode.PAUSED
        return Mode.RUNNING

    @property
    def sweep_phase(self) -> SweepPhase:
        return self._sweep.phase

    @property
    def quiescent_after_stop(self) -> bool:
        """True once a quit's sweep has been verified (or failed): the process may exit."""
        return self.stopping and self._sweep.phase in (SweepPhase.VERIFIED, SweepPhase.FAILED)

    # ---- the four entry points ----------------------------------------------------------

    def start(self, now: float) -> list[Batch]:
        """D19: learn the venue's state before anything else; quoting waits for it."""
        self.starting = True
        self._log(now, "reconcile", "start-up: asking the venue for open orders and position")
        return self._batches(now, [self._sync(now, "start-up")])

    def handle(self, event: Event, now: float) -> list[Batch]:
        self.counters["events"] += 1
        out: list[Command] = []
        position_before = self.position.lots
        if isinstance(event, BookDelta):
            self.counters["book_updates"] += 1
            before = self.book.best_bid, self.book.best_ask
            self.book.apply_delta(event)
            self._last_data = now
            if (self.book.best_bid, self.book.best_ask) != before:
                out.extend(self._quote(now, reacting=True))
        elif isinstance(event, BookSnapshot):
            self.counters["book_updates"] += 1
            self.book.apply_snapshot(event)
            self._last_data = now
            out.extend(self._quote(now, reacting=True))
        elif isinstance(event, Trade):
            self._last_data = now
        elif isinstance(event, Fill):
            kept = self._bind_news(event.cloid, event.oid, now)
            self._on_fill(event, now)
            out.extend(self._apply_kept(kept, now))
        elif isinstance(event, PlaceAck):
            kept = self._bind_news(event.cloid, event.oid, now)
            self._on_place_ack(event, now)
            if event.status is not AckStatus.FILLED:
                out.extend(self._claim_stray(event.cloid, event.oid, now))
            out.extend(self._apply_kept(kept, now))
        elif isinstance(event, PlaceRejected):
            self._on_place_rejected(event, now)
        elif isinstance(event, PlaceUnknown):
            outcome = self.tracker.on_place_unknown(event, now)
            self._after(outcome, now, f"placement unknown: {event.reason}")
            self.reconciler.trigger("unknown outcome")
            if outcome.order is not None and outcome.order.tif is TimeInForce.IOC:
                self.recovery.on_ioc_result(0, now, f"IOC outcome unknown: {event.reason}")
        elif isinstance(event, CancelAck):
            self._after(self.tracker.on_cancel_ack(event, now), now)
            self._cancel_failures = self._escalation = 0
        elif isinstance(event, CancelRejected):
            out.extend(self._on_cancel_rejected(event, now))
        elif isinstance(event, CancelUnknown):
            self._after(self.tracker.on_cancel_unknown(event, now), now, event.reason)
        elif isinstance(event, ModifyAck):
            kept = self._bind_news(event.new_cloid, event.oid, now)
            self._on_modify_ack(event, now)
            if event.status is not AckStatus.FILLED:
                out.extend(self._claim_stray(event.new_cloid, event.oid, now))
            out.extend(self._apply_kept(kept, now))
        elif isinstance(event, ModifyRejected):
            self._on_modify_rejected(event, now)
        elif isinstance(event, OrderUpdate):
            kept = self._bind_news(event.cloid, event.oid, now)
            self._on_order_update(event, now)
            if event.status is VenueStatus.OPEN:
                out.extend(self._claim_stray(event.cloid, event.oid, now))
            out.extend(self._apply_kept(kept, now))
        elif isinstance(event, OrderStatusReport):
            kept = self._bind_news(event.cloid, event.oid, now)
            out.extend(self._on_status_report(event, now))
            if event.status is VenueStatus.OPEN:
                out.extend(self._claim_stray(event.cloid, event.oid, now))
            out.extend(self._apply_kept(kept, now))
        elif isinstance(event, QueryFailed):
            key = event.cloid or self._cloid_for(event.oid)
            if key is not None:
                self._query_answered(key, now)
                wait = self._unsettled_answer(key, f"query failed: {event.reason}")
                self._queries[key] = now + wait
            self._log(now, "reconcile", f"status query failed, retrying: {event.reason}")
        elif isinstance(event, OpenOrders):
            out.extend(self._on_open_orders(event, now))
        elif isinstance(event, PositionSnapshot):
            out.extend(self._on_position_snapshot(event, now))
        elif isinstance(event, CancelAllDone):
            out.extend(self._on_cancel_all_done(event, now))
        elif isinstance(event, SyncFailed):
            out.extend(self._on_sync_failed(event, now))
        elif isinstance(event, FillsFetched):
            self._on_fills_fetched(event, now)
        elif isinstance(event, MalformedMessage):
            self._on_malformed(event, now)
        elif isinstance(event, LeverageInfo):
            self._believe_leverage(event, now)
        elif isinstance(event, Connected):
            self.connected = True
            self._log(now, "connection", f"connected to {event.venue}")
            self.reconciler.trigger("reconnect")
        elif isinstance(event, Disconnected):
            self.connected = False
            self._log(now, "connection", f"disconnected: {event.reason}")
        elif isinstance(event, VenueNotice):
            self.counters["venue_notices"] += 1
            self._log(now, "venue", f"{event.kind}: {event.text[:200]}")
        if self.position.lots != position_before:
            out.extend(self._risk(now))  # D30: judged on the event that moved it
        return self._batches(now, out) if out else []

    def tick(self, now: float) -> list[Batch]:
        out: list[Command] = []
        for outcome in self.tracker.expire(now):
            self._after(outcome, now)
        out.extend(self._timeouts(now))
        out.extend(self._due_queries(now))
        out.extend(self._sweep_timers(now))
        if (
            self._startup_waiting()
            and self._startup_retry_at is None
            and self.reconciler.timed_out(now)
        ):
            # D19/D24: the start-up sync's answer is lost: a failure like any other.
            out.extend(self._on_sync_failed(SyncFailed("start-up sync unanswered"), now))
        if self._startup_retry_at is not None and now >= self._startup_retry_at:
            self._startup_retry_at = None
            out.append(self._sync(now, "start-up retry"))
        out.extend(self._retry_requested_cancels(now))
        if not self.starting:
            reason = self.reconciler.due(now)
            if reason is not None:
                out.append(self._sync(now, reason))
            out.extend(self._fetch_fill_gaps(now))
        out.extend(self._risk(now))
        out.extend(self._recovery(now))
        out.extend(self._quote(now, reacting=False))
        return self._batches(now, out) if out else []

    def operate(self, action: Action, now: float) -> list[Batch]:
        """The operator's priority path.  Cancels and kills go out on this very call."""
        out: list[Command] = []
        if isinstance(action, Kill):
            out.extend(self._kill(f"operator: {action.reason}", now))
        elif isinstance(action, Rearm):
            if self.kill_switch.rearm():
                self._log(now, "kill", "kill switch re-armed by the operator")
                if not self._sweep.active:
                    # A sweep still in flight finishes and verifies first (D25); quoting waits.
                    self._sweep.phase = SweepPhase.IDLE
        elif isinstance(action, Pause):
            self.paused = True
            self.pause_reason = ""
            self._log(
                now,
                "operator",
                "paused; resting orders " + ("cancelled" if action.cancel_orders else "kept"),
            )
            if action.cancel_orders:
                out.extend(self._begin_sweep("pause", now, urgent=True))
        elif isinstance(action, Resume):
            if self.stopping:
                self._log(now, "operator", "resume ignored: stopping")
            elif self.paused:
                self.paused = False
                self.pause_reason = ""
                self._log(now, "operator", "resumed quoting")
        elif isinstance(action, CancelAllOrders):
            out.extend(self._begin_sweep(f"cancel-all ({action.reason})", now, urgent=True))
        elif isinstance(action, CancelOrder):
            out.extend(self._cancel_one(action.cloid, now))
        elif isinstance(action, Quit):
            self.stopping = True
            self.paused = True
            self.pause_reason = ""
            self._log(now, "operator", f"stopping: {action.reason}; cancelling every order")
            out.extend(self._begin_sweep("quit", now, urgent=True))
        return self._batches(now, out) if out else []

    def _believe_leverage(self, event: LeverageInfo, now: float) -> None:
        """D14: the venue's leverage wins over the configured one, and quotes are sized with
        it: the margin a ladder needs grows as leverage falls, so sizes and the position limit
        shrink in proportion (never grow past what was configured)."""
        if event.leverage != self.leverage:
            self._log(now, "risk", f"venue leverage {event.leverage}x ({event.source[:120]})")
        self.leverage = event.leverage
        base = self.params.strategy
        planned = max(1, self.params.leverage)
        if event.leverage >= planned:
            self.strategy = base
            return
        scale = Fraction(event.leverage, planned)
        self.strategy = dataclasses.replace(
            base,
            size_lots=max(1, int(base.size_lots * scale)),
            size_step_lots=int(base.size_step_lots * scale),
            max_position_lots=max(1, int(base.max_position_lots * scale)),
        )
        self._log(
            now,
            "risk",
            f"quotes sized for {event.leverage}x instead of {planned}x: "
            f"size {self.strategy.size_lots} lots, limit {self.strategy.max_position_lots} lots",
        )

    # ---- fills and answers --------------------------------------------------------------

    def _on_fill(self, ev: Fill, now: float) -> None:
        if ev.snapshot and self.starting and self._startup_position is None:
            # History from before this session: the venue's start-up position already holds
            # it (D19).  Remember its trade ids so that a later replay is never counted (D4).
            self.tracker.ledger.first_sighting(ev.tid, now)
            self.counters["history_fills"] += 1
            return
        outcome = self.tracker.on_fill(ev, now)
        if outcome.duplicate:
            self.counters["duplicate_fills"] += 1
            if outcome.inconsistent:
                # D35: the same trade told twice, differently: one of the two is wrong, and
                # our position may be; the venue's position and fills decide.
                self.counters["inconsistent_fills"] += 1
                self._log(
                    now,
                    "venue",
                    f"trade id {ev.tid} seen again with different content "
                    f"({ev.side.value} {ev.size} @ {ev.price}); not counted again; reconciling",
                    ev.cloid,
                    ev.oid,
                )
                self.reconciler.trigger("a trade id repeated with different content")
            return
        flagged = ""
        if outcome.unmatched:
            self.counters["unmatched_fills"] += 1
            self.reconciler.trigger("fill for an unknown order")
            flagged = "unmatched"
            if ev.cloid is None and ev.oid is not None and not self.tracker.forgotten(None, ev.oid):
                # D32: maybe ours, its ack still on the way: attributed when the oid is bound.
                self.unbound.keep_fill(ev, now)
                self.counters["oid_news_kept"] += 1
        elif outcome.late_fill:
            self.counters["late_fills"] += 1
            self.reconciler.trigger("fill for a finished order")
            flagged = "late"
        elif outcome.overfill:
            self.reconciler.trigger("fill beyond order size")
            flagged = "overfill"
        if outcome.position_delta:
            self._count_fill(outcome.position_delta, outcome.value_delta, ev.venue_time)
        if ev.liquidity is Liquidity.TAKER:
            self.counters["taker_fills"] += 1
        self.fills.append(
            FillView(
                now, ev.side, ev.price, ev.size, ev.tid, ev.liquidity, ev.cloid, False, flagged
            )
        )
        if flagged:
            self._log(now, "fill", f"{flagged} fill tid {ev.tid}", ev.cloid, ev.oid)
        self._after(outcome, now)
        order = outcome.order
        if order is not None and order.cloid in self.fill_gaps:
            self._close_filled_gaps()

    def _count_fill(self, position_delta: int, value_delta: int, venue_time: float | None) -> None:
        """Move the position by a fill the tracker counted once (D4) -- unless the venue made
        it no later than the venue position we adopted, which holds it already (D16: a fill
        still on the wire, or replayed after a reconnect, when that position was taken)."""
        if self.position_moves.included(venue_time):
            self.counters["fills_in_adopted_position"] += 1
            # If the venue's position did not hold it after all, the next look shows drift.
            self.reconciler.trigger("a fill already in the adopted position")
            return
        self.position.apply(position_delta, value_delta)
        self.position_moves.record(venue_time, position_delta, value_delta)
        self.counters["fills"] += 1
        if venue_time is None:
            self.counters["untimed_fills"] += 1
        self.rejections.on_position(self.position.lots)

    def _on_place_ack(self, ev: PlaceAck, now: float) -> None:
        outcome = self.tracker.on_place_ack(ev, now)
        order = outcome.order
        self._after(outcome, now)
        if order is None:
            self.reconciler.trigger("ack for an unknown order")
            return
        self._record_immediate(order, outcome, now, ev.venue_time)
        self.rejections.record_accepted(order.side, now, ev.batch_id)
        if order.tif is TimeInForce.IOC:
            self.recovery.on_ioc_result(ev.filled, now)
        elif order.reduce_only:
            self.recovery.on_reduce_only_accepted()

    def _record_immediate(
        self, order: TrackedOrder, outcome: Outcome, now: float, venue_time: float | None
    ) -> None:
        if not outcome.position_delta:
            return
        self._count_fill(outcome.position_delta, outcome.value_delta, venue_time)
        lots = abs(outcome.position_delta)
        price = abs(outcome.value_delta) // lots
        liquidity = Liquidity.MAKER if order.tif is TimeInForce.ALO else Liquidity.TAKER
        self.fills.append(
            FillView(now, order.side, price, lots, None, liquidity, order.cloid, True)
        )

    def _on_place_rejected(self, ev: PlaceRejected, now: float) -> None:
        outcome = self.tracker.on_place_rejected(ev, now)
        self._after(outcome, now, ev.reason)
        order = outcome.order
        if order is None or outcome.transition is None:
            return
        self._placement_rejected(order, ev.rclass, ev.reason, ev.batch_id, now)

    def _placement_rejected(
        self,
        order: TrackedOrder,
        rclass: RejectionClass,
        reason: str,
        batch_id: int | None,
        now: float,
    ) -> None:
        self.counters["rejections"] += 1
        self.rejections.record_rejections(order.side, batch_id, rclass, reason, now)
        if order.tif is TimeInForce.IOC:
            self.recovery.on_ioc_result(0, now, reason)
            return
        if order.reduce_only:
            if not self.recovery.skip_normal_quoting:
                # D15: judge the rejection against the position as it is now, not as the last
                # tick saw it (a reacting quote can be refused before the next tick).  In
                # these states ``update`` never sends anything.
                self.recovery.update(
                    self.position.lots, self.params.risk.max_position, None, None, now
                )
            self.recovery.on_reduce_only_rejected(rclass, reason, now)
        if rclass is RejectionClass.PRICE_ERROR:
            self._fences[order.side] = (order.price, now + self.params.price_fence_s)
        elif rclass is not RejectionClass.RATE_LIMIT:
            self.reconciler.trigger(f"{rclass.category.value} rejection")

    def _on_cancel_rejected(self, ev: CancelRejected, now: float) -> list[Command]:
        self._after(self.tracker.on_cancel_rejected(ev, now), now, ev.reason)
        if ev.gone:
            self._cancel_failures = self._escalation = 0
            return []
        # D29: the order is live again; its cancel is retried, paced (the executor waits for
        # ``_cancel_retry_at``), never at the quoting tick, so a rate limit is not deepened.
        self._cancel_failures += 1
        self._cancel_retry_at = now + self.params.cancel_retry.delay(self._cancel_failures)
        if ev.rclass is RejectionClass.RATE_LIMIT and self._sweep.active:
            self._sweep.rate_limited = True
        self._escalation += 1
        if self._escalation < self.params.cancel_escalation:
            return []
        self._escalation = 0
        if self._sweep.active:
            return []  # D29: the cancel-all under way absorbs the escalation
        self._log(now, "reconcile", "cancels keep failing: escalating to one cancel-all")
        return self._begin_sweep("cancel failures", now)

    def _on_modify_ack(self, ev: ModifyAck, now: float) -> None:
        old, new = self.tracker.on_modify_ack(ev, now)
        self._after(old, now)
        self._after(new, now)
        if new.order is not None:
            self._record_immediate(new.order, new, now, ev.venue_time)
            self.rejections.record_accepted(new.order.side, now, ev.batch_id)

    def _on_modify_rejected(self, ev: ModifyRejected, now: float) -> None:
        old, new = self.tracker.on_modify_rejected(ev, now)
        self._after(old, now, ev.reason)
        self._after(new, now, ev.reason)
        if new.order is None or new.transition is None:
            return
        if ev.raced:
            return  # D5: a race with a fill or cancel, not a verdict on the new quote
        self._placement_rejected(new.order, ev.rclass, ev.reason, ev.batch_id, now)

    def _on_order_update(self, ev: OrderUpdate, now: float) -> None:
        outcome = self.tracker.on_order_update(ev, now)
        if outcome.unmatched:
            if ev.cloid is None and ev.oid is not None and not self.tracker.forgotten(None, ev.oid):
                # D32: news by oid alone, ahead of the ack that binds the oid: kept, not lost.
                self.unbound.keep_update(ev, now)
                self.counters["oid_news_kept"] += 1
            elif ev.status is VenueStatus.OPEN:
                self.reconciler.trigger("update for an unknown open order")
            return
        if ev.status is VenueStatus.UNKNOWN:
            self._unknown_status(ev.raw_status, outcome.order, now)
        self._after(outcome, now, ev.raw_status)
        if outcome.order is not None:
            says_filled = ev.status is VenueStatus.FILLED
            self._note_venue_filled(outcome.order, ev.filled, now, says_filled=says_filled)
        if (
            ev.status is VenueStatus.REJECTED
            and outcome.order is not None
            and outcome.transition is not None
        ):
            rclass = ev.rclass if ev.rclass is not None else RejectionClass.OTHER
            self._placement_rejected(outcome.order, rclass, ev.raw_status, None, now)

    def _on_status_report(self, ev: OrderStatusReport, now: float) -> list[Command]:
        about = self.tracker.get(ev.cloid, ev.oid)  # a stray is asked by oid, answered by cloid
        key = about.cloid if about is not None else ev.cloid or self._cloid_for(ev.oid)
        asked_at: float | None = None
        if key is not None:
            waiting = key in self._asked
            self._queries.pop(key, None)
            asked_at = self._query_answered(key, now)
            if ev.status is VenueStatus.NOT_FOUND and about is not None and not waiting:
                # D24/D35: no query of ours waits for this answer: it is one delivered twice
                # (or a stray).  A "not found" is believed only as the answer to a question
                # (swarm seed 1200851: the repeat of a stale "not found" ended an order that
                # rested, and its intent was placed a second time).  Ask again instead.
                if not about.state.is_terminal:
                    self._queries.setdefault(about.cloid, now + self.params.grace_period)
                return []
        # D24: a "not found" that may answer a query sent before the venue first showed us the
        # order (it overtook the placement) is stale, not definitive: the tracker says ask again.
        outcome = self.tracker.on_status_report(ev, now, asked_at=asked_at)
        order = outcome.order
        if outcome.requery_later and order is not None:
            self._queries[order.cloid] = now + self.params.grace_period
            return []
        if ev.status is VenueStatus.UNKNOWN:
            self._unknown_status(ev.raw_status, order, now)
        if order is not None:
            if outcome.needs_query and not order.state.is_terminal:
                # D31: an answer that settles nothing (a status we do not know, or one the
                # table refuses) is asked again, paced and shown, never in a loop.
                wait = self._unsettled_answer(order.cloid, f"venue answers {ev.raw_status!r}")
                self._queries[order.cloid] = now + wait
                self._log(
                    now,
                    "reconcile",
                    f"venue answer {ev.raw_status!r} settles nothing in {order.state.value}; "
                    f"asking again in {wait:.1f}s",
                    order.cloid,
                    order.oid,
                )
            else:
                self._unsettled.pop(order.cloid, None)
        self._after(outcome, now, f"status {ev.raw_status}")
        if order is not None:
            says_filled = ev.status is VenueStatus.FILLED
            self._note_venue_filled(order, ev.filled, now, says_filled=says_filled)
        if (
            order is not None
            and order.state is OrderState.CANCEL_PENDING
            and ev.status is VenueStatus.OPEN
        ):
            # The cancel was lost: still resting, so cancel again (D24).
            return [self._cancel(order, now)]
        return []

    # ---- reconciliation ---------------------------------------------------------------

    def _on_open_orders(self, ev: OpenOrders, now: float) -> list[Command]:
        self.reconciler.answered()
        out: list[Command] = []
        if self._startup_answer(self._startup_orders):
            self._startup_orders = ev
            out.extend(self._maybe_finish_startup_sync(now))
            return out
        plan = self.reconciler.plan_snapshot(ev, self.tracker, now)
        for order, vo in plan.listed:
            if vo.orig_size == order.size:  # the venue's own count of what traded (D33)
                self._note_venue_filled(order, vo.orig_size - vo.size, now)
        if ev.bad_rows:
            self.counters["malformed_rows"] += ev.bad_rows
            self._unreadable_snapshots += 1
            if self._unreadable_snapshots == 1:
                # D34: one look again; a row that stays unreadable is counted each time, not
                # chased with a sync a second for ever.
                self._log(now, "venue", f"open orders: {ev.bad_rows} rows unreadable; re-syncing")
                self.reconciler.trigger("open orders with unreadable rows")
        else:
            self._unreadable_snapshots = 0
        for order, vo in plan.confirm_live:
            update = OrderUpdate(vo.oid, order.cloid, VenueStatus.OPEN, "open (snapshot)")
            self._after(self.tracker.on_order_update(update, now), now, "seen in snapshot")
            # No need to ask any more, but a query already sent is still unanswered, and its
            # answer may be older than this snapshot: ``_asked`` keeps it (D24, seed 1003829).
            self._queries.pop(order.cloid, None)
            self._unsettled.pop(order.cloid, None)
        for order in plan.query:
            if order.cloid not in self._queries:
                self._queries[order.cloid] = now
                self._log(now, "reconcile", "missing from snapshot; asking", order.cloid, order.oid)
        self.untracked_venue_orders = len(plan.untracked)
        if self._sweep.phase is SweepPhase.VERIFYING:
            if self._last_sync_sent < self._sweep.done_at:
                # Asked before the cancel-all was done: it proves nothing about it.  The one
                # sync in flight is answered now, so the verification goes out (D25, D29).
                out.extend(self._verify_sync(now))
            else:
                out.extend(self._verify(ev, now))
        elif plan.untracked and not self._sweep.active:
            if self.params.unknown_orders == "adopt" and not self.kill_switch.latched:
                for vo in plan.untracked:
                    self.tracker.adopt(
                        oid=vo.oid,
                        cloid=vo.cloid,
                        side=vo.side,
                        price=vo.price,
                        size=vo.size,
                        now=now,
                    )
                    self._log(now, "reconcile", "adopted venue order", vo.cloid, vo.oid)
                self.untracked_venue_orders = 0
            else:
                for vo in plan.untracked:
                    out.append(Cancel(vo.cloid, vo.oid))
                    self.counters["cancels_sent"] += 1
                    self._log(now, "reconcile", "cancelling unknown venue order", vo.cloid, vo.oid)
        for order, vo in plan.recancel:
            if order.state is OrderState.REJECTED and order.level is not None:
                out.extend(self._claim_stray(order.cloid, vo.oid, now))  # keeps its intent
                continue
            out.append(Cancel(None, vo.oid))
            self.counters["cancels_sent"] += 1
            self._log(now, "reconcile", "venue still lists it; cancelling", order.cloid, vo.oid)
        for vo in plan.forgotten:
            out.append(Cancel(None, vo.oid))
            self.counters["cancels_sent"] += 1
            self._log(
                now, "reconcile", "venue lists an order we finished; cancelling", vo.cloid, vo.oid
            )
        return out

    def _on_position_snapshot(self, ev: PositionSnapshot, now: float) -> list[Command]:
        self._position_refresh_asked = False
        if self._startup_answer(self._startup_position):
            self.recovery.on_position_refreshed()
            self._startup_position = ev
            self.rejections.on_position_refreshed(ev.position)
            return self._maybe_finish_startup_sync(now)
        after = self.position_moves.after(ev.venue_time)
        if after is None:
            # Older than the position we adopted (answers overtake each other) or than the
            # moves we remember: it cannot be lined up with ours and refreshes nothing (D26
            # recovery asks again); the next sync judges afresh.
            self._log(now, "reconcile", "position snapshot too old to line up with ours; ignored")
            return []
        self.recovery.on_position_refreshed()
        # D16: compare like with like -- our position as of the snapshot's venue time.  Fills
        # from before it that are still on their way show as drift, which a second look
        # usually clears; if it is confirmed anyway, adopting is still exact (see below).
        local_then = self.position.lots - sum(lots for lots, _ in after)
        verdict = self.reconciler.judge_position(
            ev.position, local_then, self.counters["untimed_fills"]
        )
        if not verdict.text:
            self._position_agreed_at = now
        if verdict.text:
            self._log(now, "reconcile", verdict.text)
            if not verdict.correct:
                self.reconciler.trigger("position drift")  # D16: drift triggers a sync
                # D33: and the fills since we last agreed are fetched: lost ones are found
                # even while new trades keep the drift from ever showing twice the same.
                agreed = self._position_agreed_at
                self.fill_gaps.note_drift(now - 60.0 if agreed is None else agreed, now)
        if verdict.correct and self._untimed_fill_may_follow():
            # An answer that may carry an immediate fill without a venue time is still out:
            # it cannot be lined up, and if the snapshot holds its trade, counting it on
            # arrival would count it twice.  Look again once it is answered.
            self._log(now, "reconcile", "drift confirmed, but an IOC is unanswered; re-checking")
            self.reconciler.trigger("position drift")
        elif verdict.correct:
            self._adopt_position(ev, after)
            self._position_agreed_at = now
        self.rejections.on_position_refreshed(self.position.lots)
        return []

    def _untimed_fill_may_follow(self) -> bool:
        """Is an order that can trade on arrival (not post-only) still unanswered?  Venues
        may not time such answers (Hyperliquid does not), so its fill cannot be placed
        before or after a snapshot (D16)."""
        return any(
            order.tif is not TimeInForce.ALO
            and (order.state is OrderState.PENDING_NEW or order.unknown_since is not None)
            for order in self.tracker.non_terminal()
        )

    def _adopt_position(self, ev: PositionSnapshot, after: list[tuple[int, int]]) -> None:
        """Take the venue's position as of ``ev.venue_time`` (D16, D19), plus the moves we
        counted after that time, which it does not hold.  From now on a fill the venue made
        up to that time is in the position already and never moves it again (D4): adopting
        while fills were still on the wire used to count them twice (swarm seed 1004877)."""
        position = self.position
        realized, fills, volume = position.realized, position.fills, position.volume
        position.reset(ev.position, ev.entry_value)
        for lots, value in after:
            position.apply(lots, value)
        # Re-applied moves were counted (and realised) once already.
        position.realized, position.fills, position.volume = realized, fills, volume
        self.position_moves.adopted(ev.venue_time)

    def _startup_answer(self, received: OpenOrders | PositionSnapshot | None) -> bool:
        """Is this snapshot an answer to the start-up sync (D19)?  Before the start-up sweep
        begins, yes; after it, only if the start-up answer has not arrived yet (a kill or quit
        sweep that started first must not swallow the venue's start-up state)."""
        return self.starting and (self._sweep.phase is SweepPhase.IDLE or received is None)

    def _maybe_finish_startup_sync(self, now: float) -> list[Command]:
        orders, pos = self._startup_orders, self._startup_position
        if orders is None or pos is None:
            return []
        # Fills counted while the start-up answers were on their way: the ones after the
        # snapshot's venue time are not in it (an older snapshot cannot happen here).
        self._adopt_position(pos, self.position_moves.after(pos.venue_time) or [])
        self._position_agreed_at = now
        self.rejections.on_position_refreshed(self.position.lots)
        self._log(
            now,
            "reconcile",
            f"start-up: venue has {len(orders.orders)} open orders, position {pos.position} lots",
        )
        if self.params.on_start == "adopt":
            for vo in orders.orders:
                self.tracker.adopt(
                    oid=vo.oid, cloid=vo.cloid, side=vo.side, price=vo.price, size=vo.size, now=now
                )
            self.starting = False
            self._log(now, "reconcile", f"start-up: adopted {len(orders.orders)} orders")
            return self._risk(now)  # D30
        return self._begin_sweep("start-up", now)

    # ---- sweeps: cancel-all, kill, quit, start-up (D25) ---------------------------------

    def _begin_sweep(self, purpose: str, now: float, *, urgent: bool = False) -> list[Command]:
        """Start a venue-wide cancel-all, or join the one under way (D29: a cancel-all in
        flight absorbs new triggers).  ``urgent`` (the operator, a kill) sends one at once
        unless another went out less than ``JOIN_WINDOW_S`` ago: an emergency never waits for
        the pacing of retries, but a burst of emergencies is one sweep."""
        sweep = self._sweep
        startup = purpose == "start-up"
        if sweep.active:
            if not sweep.purpose.startswith("kill") or purpose.startswith("kill"):
                sweep.purpose = purpose
            sweep.for_startup = sweep.for_startup or startup
            # A kill that latches sends its own at once: the one under way may have been lost
            # (its retry would come only at the sweep timeout), and a kill latches once.
            kill = purpose.startswith("kill")
            if not urgent or (not kill and self.cancel_all_in_flight(now)):
                self._log(now, "sweep", f"{purpose}: joins the cancel-all under way")
                return []
            return self._send_cancel_all(now, purpose)
        sweep.purpose = purpose
        sweep.for_startup = startup
        sweep.attempts = 1
        sweep.retries = 0
        sweep.done_at = -1e18
        self._log(now, "kill" if purpose.startswith("kill") else "sweep", f"cancel-all: {purpose}")
        return self._send_cancel_all(now, purpose)

    def cancel_all_in_flight(self, now: float) -> bool:
        """A cancel-all went out less than ``JOIN_WINDOW_S`` ago for a sweep still under way
        (answered or not: a 429 comes back in one round trip, and its paced retry follows)."""
        sweep = self._sweep
        return sweep.active and now - sweep.sent_at < JOIN_WINDOW_S

    def _send_cancel_all(self, now: float, label: str) -> list[Command]:
        sweep = self._sweep
        sweep.phase = SweepPhase.SWEEPING
        sweep.sent_at = now
        sweep.deadline = now + self.params.sweep_timeout
        sweep.empty_seen = 0
        sweep.next_verify = None
        sweep.rate_limited = False
        deadline = now + self.params.answer_timeout
        for order in self.tracker.non_terminal():
            if order.state.is_active:
                self._after(self.tracker.cancel_sent(order.cloid, now), now, label)
                # D24: like any cancel, one the venue never answers for this order times out
                # into a status query; a verified-empty venue says nothing about fills.
                self._answer_deadlines.append((deadline, order.cloid))
        self.counters["cancel_alls_sent"] += 1
        return [CancelAll(label)]

    def _on_cancel_all_done(self, ev: CancelAllDone, now: float) -> list[Command]:
        sweep = self._sweep
        if ev.error:
            self._log(now, "sweep", f"cancel-all could not run: {ev.error[:160]}")
        else:
            self._log(now, "sweep", f"venue swept {ev.swept} orders, {ev.failed} failed")
        if sweep.phase is not SweepPhase.SWEEPING:
            return []  # a late or repeated answer: the sweep has moved on
        if ev.error:
            return self._resweep(now, "the venue could not list its orders", ev.rate_limited)
        sweep.phase = SweepPhase.VERIFYING
        sweep.done_at = now
        sweep.deadline = now + self.params.sweep_timeout
        return self._verify_sync(now)

    def _verify_sync(self, now: float) -> list[Command]:
        """Ask the venue for its orders to verify the sweep -- unless a sync is already in
        flight: its answer comes first and, being older than the cancel-all, asks again
        (D29: verification syncs are coalesced)."""
        if self.reconciler.in_flight_since is not None and not self.reconciler.timed_out(now):
            return []
        self._sweep.deadline = now + self.params.sweep_timeout
        return [self._sync(now, "verify the sweep")]

    def _verify(self, ev: OpenOrders, now: float) -> list[Command]:
        sweep = self._sweep
        unanswered = self.tracker.state_counts[OrderState.PENDING_NEW]
        if ev.orders:
            return self._resweep(
                now, f"venue still lists {len(ev.orders)} orders", sweep.rate_limited
            )
        if ev.bad_rows:
            # D34/D25: rows we could not read may be orders: not proof of an empty venue.  A
            # row that stays unreadable must end the sweep (failed, with the reason), not
            # keep it verifying for ever.
            return self._resweep(now, f"venue lists {ev.bad_rows} unreadable rows", False)
        if sweep.empty_seen and sweep.next_verify is not None and now < sweep.next_verify:
            return []  # D25: the second look must come a moment after the first
        if unanswered:
            sweep.next_verify = now + self.params.verify_gap
            return []
        sweep.empty_seen += 1
        if sweep.empty_seen >= 2:
            sweep.phase = SweepPhase.VERIFIED
            self._log(now, "sweep", f"venue verified empty ({sweep.purpose})")
            return self._sweep_finished(now)
        sweep.next_verify = now + self.params.verify_gap
        return []

    def _resweep(self, now: float, why: str, rate_limited: bool) -> list[Command]:
        sweep = self._sweep
        if rate_limited:
            # D29: the venue is rate-limiting us.  Not a failed attempt: the venue will be
            # emptied once the limit lifts; meanwhile the retries are paced, never a storm.
            sweep.retries += 1
            wait = self.params.sweep_retry.delay(sweep.retries)
            sweep.phase = SweepPhase.RETRYING
            sweep.retry_at = now + wait
            self._log(now, "sweep", f"{why} (rate limited); cancel-all again in {wait:.1f}s")
            return []
        if sweep.attempts >= self.params.sweep_attempts:
            sweep.phase = SweepPhase.FAILED
            self._log(now, "sweep", f"cancel-all failed after {sweep.attempts} attempts: {why}")
            if self.starting or self.kill_switch.latched:
                self._halt(now, f"{sweep.purpose}: cancel-all failed ({why})")
            elif not self.stopping and not self.paused:
                # D13, D25: what the sweep could not cancel may still rest at the venue, and
                # quoting on top of it piles orders up where we cannot take them down.  Quoting
                # waits until the operator resumes with p (D27, D28) or a later cancel-all
                # verifies the venue empty.  An operator's own pause stays theirs.
                self.paused = True
                self.pause_reason = f"cancel-all not verified: {why} ({sweep.purpose})"
                self._log(now, "sweep", f"quoting paused: {self.pause_reason}; p resumes")
            return []
        sweep.attempts += 1
        self._log(now, "sweep", f"{why}; cancel-all again (attempt {sweep.attempts})")
        return self._send_cancel_all(now, f"{sweep.purpose} (retry)")

    def _on_sync_failed(self, ev: SyncFailed, now: float) -> list[Command]:
        self.reconciler.answered()
        self._log(now, "reconcile", f"state sync failed: {ev.reason}")
        sweep = self._sweep
        out: list[Command] = []
        if sweep.phase is SweepPhase.VERIFYING:
            if ev.rate_limited:
                # D29: the venue is rate-limiting us: the verification is asked again,
                # paced; that is not a failed cancel-all.
                sweep.retries += 1
                sweep.next_verify = now + self.params.sweep_retry.delay(sweep.retries)
                sweep.deadline = sweep.next_verify + self.params.sweep_timeout
            else:
                out.extend(self._resweep(now, f"verification failed: {ev.reason[:120]}", False))
        if self._startup_waiting():
            self._startup_tries += 1
            if not ev.rate_limited:
                self._startup_failures += 1  # D29: a rate limit is a wait, not a failure
            if self.params.live and self._startup_failures >= 3:
                self._halt(now, f"start-up sync failed 3 times: {ev.reason}")
            else:
                wait = self.params.sweep_retry.delay(self._startup_tries)
                self._startup_retry_at = now + wait
        return out

    def _startup_waiting(self) -> bool:
        """Start-up still waits for the venue's open orders or position (D19)."""
        return (
            self.starting
            and not self.halted_reason
            and (self._startup_orders is None or self._startup_position is None)
        )

    def _sweep_timers(self, now: float) -> list[Command]:
        sweep = self._sweep
        if not sweep.active:
            return []
        if sweep.phase is SweepPhase.RETRYING:
            if now < sweep.retry_at:
                return []
            self._log(now, "sweep", f"cancel-all again after a rate limit ({sweep.purpose})")
            return self._send_cancel_all(now, f"{sweep.purpose} (retry)")
        if sweep.phase is SweepPhase.VERIFYING and sweep.next_verify is not None:
            if now >= sweep.next_verify:
                sweep.next_verify = None
                return self._verify_sync(now)
            return []
        if now >= sweep.deadline:
            return self._resweep(now, f"no answer in {self.params.sweep_timeout:g}s", False)
        return []

    def _sweep_finished(self, now: float) -> list[Command]:
        out: list[Command] = []
        if self.starting and self._sweep.for_startup:
            self.starting = False
            self._log(now, "reconcile", "start-up sweep verified; quoting may begin")
            out.extend(self._risk(now))  # D30: the position found at start-up is judged now
        if self.pause_reason:
            # The venue is verified empty, so the pause's cause is gone, whatever this sweep
            # was for.  Behind a kill, quoting resumes at the re-arm; a quit stays paused.
            self.pause_reason = ""
            if not self.stopping:
                self.paused = False
                self._log(now, "sweep", "venue verified empty: the cancel-all pause ends")
        return out

    # ---- kill, risk, recovery -----------------------------------------------------------

    def _kill(self, reason: str, now: float) -> list[Command]:
        newly = self.kill_switch.trip(reason, now)
        self._log(now, "kill", f"KILL: {reason}")
        if not newly and self._sweep.active:
            return []
        return self._begin_sweep(f"kill: {reason}", now, urgent=True)

    def _halt(self, now: float, reason: str) -> None:
        if not self.halted_reason:
            self.halted_reason = reason
            self._log(now, "kill", f"HALTED: {reason}")

    def _risk(self, now: float) -> list[Command]:
        if self.kill_switch.latched or self.starting:
            return []
        mark = self.book.mid
        reason = kill_reason(
            self.params.risk,
            position=self.position.lots,
            pnl=self.position.total_pnl(mark),
            data_age=None if self._last_data is None else now - self._last_data,
            connected=self.connected,
        )
        return self._kill(reason, now) if reason is not None else []

    def _recovery(self, now: float) -> list[Command]:
        if not self.params.recovery_enabled or self.starting or self.stopping:
            return []
        out: list[Command] = []
        if self.recovery.needs_position_refresh and not self._position_refresh_asked:
            self._position_refresh_asked = True
            reason = "reduce-only said our position is stale (D26)"
            if self.reconciler.in_flight_since is None or self.reconciler.timed_out(now):
                out.append(self._sync(now, reason))
            else:
                self.reconciler.trigger(reason)  # D29: coalesced with the sync in flight
        if self.kill_switch.latched or self.halted_reason or self.paused or self._sweep.active:
            return out
        order = self.recovery.update(
            self.position.lots,
            self.params.risk.max_position,
            self.book.best_bid,
            self.book.best_ask,
            now,
        )
        if order is None:
            return out
        rounding = Rounding.UP if order.side is Side.BID else Rounding.DOWN
        price = self.instrument.round_ticks(order.price, rounding)
        if price <= 0:
            return out
        place = Place(
            cloid=self.next_cloid(),
            side=order.side,
            price=price,
            size=order.size,
            tif=TimeInForce.IOC,
            reduce_only=order.reduce_only,
        )
        self.tracker.track_place(place, now)
        self._answer_deadlines.append((now + self.params.answer_timeout, place.cloid))
        self.counters["recovery_iocs"] += 1
        self.counters["places_sent"] += 1
        self._log(now, "recovery", f"IOC {order.side.value} {order.size} lots", place.cloid)
        out.append(place)
        return out

    # ---- quoting ------------------------------------------------------------------------

    def _global_reason(self, now: float) -> tuple[str | None, SideMode]:
        """The reason that stops both sides, and what the executor may still do."""
        if self.halted_reason:
            return "halted", SideMode.CANCEL_ONLY
        if self.kill_switch.latched:
            return "killed", SideMode.CANCEL_ONLY
        if self.starting:
            return "reconciling (start-up)", SideMode.HOLD
        if self._sweep.active:
            return f"cancel-all in progress ({self._sweep.purpose})", SideMode.HOLD
        if self.stopping:
            return "stopping", SideMode.CANCEL_ONLY  # a quit leaves nothing resting
        if self.paused:
            why = f"paused: {self.pause_reason}" if self.pause_reason else "paused"
            return why, SideMode.HOLD
        if not self.connected:
            return "venue disconnected", SideMode.HOLD
        if self._last_data is None or self.book.best_bid is None or self.book.best_ask is None:
            return "no market data", SideMode.CANCEL_ONLY
        if now - self._last_data > self.params.risk.stale_data_s:
            return "stale market data", SideMode.CANCEL_ONLY
        if self.recovery.skip_normal_quoting:
            return f"recovery {self.recovery.state.value}", SideMode.CANCEL_ONLY
        return None, SideMode.QUOTE

    def _quote(self, now: float, *, reacting: bool) -> list[Command]:
        if reacting and now - self._last_quote < self.params.min_requote_interval:
            return []
        self._last_quote = now
        desired, modes, _ = self._sides(now)
        plan = self.executor.plan(
            desired, modes, self.tracker, now=now, cancel_retry_at=self._cancel_retry_at
        )
        out: list[Command] = []
        for cancel in plan.cancels:
            order = self.tracker.get(cancel.cloid, cancel.oid)
            if order is not None:
                out.append(self._cancel(order, now))
        for side in (Side.BID, Side.ASK):
            for cmd in plan.placements[side]:
                deadline = now + self.params.answer_timeout
                if isinstance(cmd, Modify):
                    self.tracker.track_modify(cmd, now)
                    self.counters["modifies_sent"] += 1
                    # D8/D24: both legs of an unanswered modify are asked about, the
                    # replacement (unknown placement) as well as the original (its cancel).
                    self._answer_deadlines.append((deadline, cmd.new_cloid))
                else:
                    self.tracker.track_place(cmd, now)
                    self.counters["places_sent"] += 1
                self._answer_deadlines.append((deadline, cmd.cloid))
                out.append(cmd)
        return out

    def _sides(
        self, now: float
    ) -> tuple[dict[Side, tuple[Quote, ...]], dict[Side, SideMode], dict[Side, str | None]]:
        """What each side should rest, what the executor may do there, and the one reason a
        side may not quote (D27).  No side effects but dropping an expired price fence, so that
        ``view`` can ask it too and always show the reason that holds *now*."""
        reason, mode = self._global_reason(now)
        desired: dict[Side, tuple[Quote, ...]] = {Side.BID: (), Side.ASK: ()}
        modes = {Side.BID: mode, Side.ASK: mode}
        reasons: dict[Side, str | None] = {Side.BID: reason, Side.ASK: reason}
        if reason is None:
            ladder = desired_ladder(
                self.instrument,
                self.book.best_bid,
                self.book.best_ask,
                self.position.lots,
                self.strategy,
                bid_size=self.book.size_at(Side.BID, self.book.best_bid or 0),
                ask_size=self.book.size_at(Side.ASK, self.book.best_ask or 0),
            )
            notional_blocked = notional_blocks_increase(
                self.params.risk, self.position.lots, self.book.mid
            )
            for side in (Side.BID, Side.ASK):
                quotes = self._fenced(side, ladder.quotes(side), now)
                increases = (side is Side.BID) == (self.position.lots >= 0)
                block = self.rejections.placement_block(side, now)
                why = ladder.reason(side)
                if notional_blocked and increases:
                    reasons[side] = "notional limit"
                    quotes = ()
                elif block is not None:
                    reasons[side] = block.describe()
                    modes[side] = SideMode.CANCEL_ONLY
                elif why is not None:
                    reasons[side] = why.value
                elif not quotes:
                    reasons[side] = "re-pricing after a price rejection"
                elif self._only_cancels_in_flight(side):
                    reasons[side] = self._cancel_wait_reason(side, now)
                desired[side] = quotes
        return desired, modes, reasons

    def side_plan(self, now: float) -> tuple[dict[Side, tuple[Quote, ...]], dict[Side, str | None]]:
        """What each side should rest now, and the one reason a side may not quote (D27)."""
        desired, _, reasons = self._sides(now)
        return desired, reasons

    def stalls(
        self,
        now: float,
        desired: dict[Side, tuple[Quote, ...]] | None = None,
        reasons: dict[Side, str | None] | None = None,
    ) -> dict[str, str]:
        """D27, D31: every level the ladder wants, on a side that may quote, that has no order
        resting or on its way, with the one reason it waits -- never a silent stall.  (A level
        with none of these is about to be placed by the executor.)"""
        if desired is None or reasons is None:
            desired, _, reasons = self._sides(now)
        out: dict[str, str] = {}
        for side in (Side.BID, Side.ASK):
            if reasons[side] is not None:
                continue  # the side says why, for all its levels
            for quote in desired[side]:
                why = self._intent_wait(side, quote.level, now)
                if why is not None:
                    out[f"{side.value} L{quote.level}"] = why
        return out

    def _intent_wait(self, side: Side, level: int, now: float) -> str | None:
        orders = self.tracker.live_for_intent(side, level)
        if any(quotes_now(o) for o in orders):
            return None
        for order in orders:
            unsettled = self._unsettled.get(order.cloid)
            if unsettled is not None:
                count, what = unsettled
                due = self._queries.get(order.cloid)
                when = f", next in {max(0.0, due - now):.1f}s" if due is not None else ""
                return f"asking the venue about {order.cloid}: {what} ({count}x{when})"
        if any(o.cancel_failures and o.state.is_active for o in orders):
            wait = max(0.0, self._cancel_retry_at - now)
            return f"cancel refused by the venue; retry in {wait:.1f}s"
        unknown = [o.unknown_since for o in orders if o.unknown_since is not None]
        if unknown:
            return f"placement outcome unknown for {now - min(unknown):.0f}s; asking the venue"
        if any(o.state is OrderState.CANCEL_PENDING for o in orders):
            return "waiting for a cancel answer"
        return None

    def _cancel_wait_reason(self, side: Side, now: float) -> str:
        """D27/D31: why a side whose orders all wait for cancel answers waits -- the venue's
        answers that settle nothing, when there are such, say more than "waiting"."""
        for intent_side, level in self.tracker.intents:
            if intent_side is side:
                why = self._intent_wait(side, level, now)
                if why is not None and why.startswith("asking"):
                    return f"reconciling ({why})"
        return "reconciling (waiting for cancel answers)"

    def _only_cancels_in_flight(self, side: Side) -> bool:
        """D27: the side's intents hold nothing but unanswered cancels, so the executor waits
        for the venue before it quotes again (a stall that must not be silent)."""
        waiting = False
        tracker = self.tracker
        for (intent_side, _), cloids in tracker.intents.items():
            if intent_side is not side:
                continue
            for cloid in cloids:
                if tracker.by_cloid[cloid].state is not OrderState.CANCEL_PENDING:
                    return False  # something of this side may rest or is about to
                waiting = True
        return waiting

    def _fenced(self, side: Side, quotes: tuple[Quote, ...], now: float) -> tuple[Quote, ...]:
        """D23/S7: after a PriceError at price P, quote strictly behind P for a while, so a
        stale book never makes us resend the very price the venue just refused.  Levels that
        the fence pushes onto each other are pushed further out, one valid price each, so every
        level is re-priced rather than dropped (as the strategy does for its own grid)."""
        fence = self._fences.get(side)
        if fence is None or not quotes:
            return quotes
        price, until = fence
        if now >= until:
            del self._fences[side]
            return quotes
        out: list[Quote] = []
        bound = price  # every quote strictly behind this (the fence, then the level before)
        for q in quotes:
            p = q.price
            if side is Side.BID:
                if p >= bound:
                    p = self.instrument.round_ticks(bound - 1, Rounding.DOWN)
                if p <= 0:
                    break
            elif p <= bound:
                p = self.instrument.round_ticks(bound + 1, Rounding.UP)
            bound = p
            out.append(Quote(q.side, q.level, p, q.size, q.reduce_only) if p != q.price else q)
        return tuple(out)

    def _claim_stray(self, cloid: str | None, oid: int | None, now: float) -> list[Command]:
        """D22, D24: the venue says an order rests that we had given up on (Rejected: its
        placement outlived every "not found").  Its intent may already be quoted again (swarm
        seed 1038750: a placement reached the venue 14.6 s late and, 0.1 s after its ack was
        ignored, a second order was placed for the same intent).  It is tracked again as a
        stray of that intent, which keeps the intent occupied, and cancelled at once."""
        if cloid is None or oid is None:
            return []
        order = self.tracker.by_cloid.get(cloid)
        if order is None or order.state is not OrderState.REJECTED:
            return []
        stray = self.tracker.track_stray(order, oid, now)
        if stray is None:
            return []
        self.counters["strays_cancelled"] += 1
        self._log(now, "reconcile", "venue rests an order we gave up on; cancelling", cloid, oid)
        return [self._cancel(stray, now)]

    def _cancel(self, order: TrackedOrder, now: float) -> Cancel:
        outcome = self.tracker.cancel_sent(order.cloid, now)
        self._after(outcome, now)
        self._answer_deadlines.append((now + self.params.answer_timeout, order.cloid))
        self.counters["cancels_sent"] += 1
        return Cancel(order.cloid, order.oid)

    def _cancel_one(self, cloid: str, now: float) -> list[Command]:
        order = self.tracker.get(cloid)
        if order is None or order.state.is_terminal:
            self._log(now, "operator", "cancel: no such live order", cloid)
            return []
        if order.state is OrderState.PENDING_NEW and order.oid is None:
            self._log(now, "operator", "cancel by cloid of an unanswered placement", cloid)
        self._log(now, "operator", "cancel sent", cloid, order.oid)
        order.cancel_requested = True  # refused (a 429)?  retried, paced, until it goes (D29)
        self._requested[order.cloid] = None
        return [self._cancel(order, now)]

    def _retry_requested_cancels(self, now: float) -> list[Command]:
        """D13/D29: an operator's cancel the venue refused is sent again when the retry pacing
        allows, whatever the side's mode (paused sides are not touched by the executor) and
        whether or not the order quotes a ladder level (an adopted one does not)."""
        if not self._requested or now < self._cancel_retry_at:
            return []
        out: list[Command] = []
        for cloid in list(self._requested):
            order = self.tracker.by_cloid.get(cloid)
            if order is None or order.state.is_terminal:
                del self._requested[cloid]
            elif order.state.is_active:
                self._log(now, "operator", "cancel refused earlier; sent again", cloid, order.oid)
                out.append(self._cancel(order, now))
        return out

    # ---- timeouts and queries (D8, D24) -------------------------------------------------

    def _timeouts(self, now: float) -> list[Command]:
        deadlines = self._answer_deadlines
        while deadlines and deadlines[0][0] <= now:
            _, cloid = deadlines.popleft()
            order = self.tracker.get(cloid)
            if order is None or order.state.is_terminal or cloid in self._queries:
                continue
            if order.state is OrderState.PENDING_NEW and order.unknown_since is None:
                outcome = self.tracker.on_place_unknown(
                    PlaceUnknown(cloid, f"no answer in {self.params.answer_timeout:g}s"), now
                )
                self._after(outcome, now, "placement unanswered")
                self._queries[cloid] = now
            elif (
                order.state is OrderState.CANCEL_PENDING
                and order.cancel_sent_at is not None
                and now - order.cancel_sent_at >= self.params.answer_timeout - 1e-9
            ):
                self._log(now, "reconcile", "cancel unanswered; asking", cloid, order.oid)
                self._queries[cloid] = now
        return []

    def _due_queries(self, now: float) -> list[Command]:
        out: list[Command] = []
        for oid in self.unbound.to_ask(now):
            if not self._query_budget.take(now):
                break  # D29: asked on a later tick
            self.unbound.asked(oid)
            out.append(QueryOrder(None, oid))  # D32: whose is this oid?
        self.counters["queries_sent"] += len(out)
        if not self._queries:
            return out
        for cloid, due in list(self._queries.items()):
            if due > now:
                continue
            order = self.tracker.get(cloid)
            if order is None or order.state.is_terminal:
                del self._queries[cloid]
                self._asked.pop(cloid, None)  # no answer can move a terminal order (D1)
                self._unsettled.pop(cloid, None)
                continue
            if not self._query_budget.take(now):
                break  # D29: the rest wait for the next tick
            self._queries[cloid] = now + self.params.query_timeout
            self._asked.setdefault(cloid, []).append(now)
            self.counters["queries_sent"] += 1
            out.append(QueryOrder(None if order.adopted else cloid, order.oid))
        return out

    def _query_answered(self, cloid: str, now: float) -> float | None:
        """One answer to a status query about ``cloid`` arrived (a report or a failure).
        Returns when the oldest query it may be answering was sent, or None if none is known.

        Answers are not matched to the queries they answer and can arrive in any order (D10),
        so the answer is counted against the newest query: the older ones stay "may still be
        answered" until their own answers arrive or they are older than a request can live
        (``request_lifetime``).  That is the conservative reading: a "not found" is judged
        against the oldest question it may be answering (D24).  Nothing that happens meanwhile
        (a snapshot listing the order, an "open" answer) ends a query that is still out:
        swarm seed 1003829 believed a stale "not found" because a snapshot had."""
        sent = self._asked.get(cloid)
        if not sent:
            return None
        horizon = now - self.params.request_lifetime
        alive = [t for t in sent if t >= horizon]
        oldest = alive[0] if alive else None
        if alive:
            alive.pop()
        if alive:
            self._asked[cloid] = alive
        else:
            del self._asked[cloid]
        return oldest

    def _sync(self, now: float, reason: str) -> SyncState:
        self.reconciler.sent(now)
        self._last_sync_sent = now
        self.counters["syncs_sent"] += 1
        return SyncState(reason)

    # ---- news the venue tells in pieces (D31-D35) ---------------------------------------

    def _unsettled_answer(self, cloid: str, what: str) -> float:
        """One more answer about ``cloid`` that settled nothing (D31): how long to wait before
        asking again.  The count and the answer are shown as the order's stall reason."""
        count = self._unsettled.get(cloid, (0, ""))[0] + 1
        self._unsettled[cloid] = (count, what)
        self.counters["unsettled_answers"] += 1
        return self.params.query_retry.delay(count)

    def _unknown_status(self, raw: str, order: TrackedOrder | None, now: float) -> None:
        """D6, D35: a status string we do not know is counted and logged; the order is asked
        about (the tracker says so), never guessed."""
        self.counters["unknown_statuses"] += 1
        cloid, oid = (order.cloid, order.oid) if order is not None else (None, None)
        self._log(now, "venue", f"unknown order status {raw[:60]!r}; asking the venue", cloid, oid)

    def _bind_news(self, cloid: str | None, oid: int | None, now: float) -> list[OrderUpdate]:
        """D32: an event names ``cloid`` with ``oid``.  Fills kept under that oid are ours:
        they are attributed to the order now, before the event (a fill before its ack is the
        first of the trades the ack reports, D4).  Updates kept under it are returned, to be
        applied after the event, in the order the venue said them."""
        if cloid is None or oid is None or oid not in self.unbound:
            return []
        order = self.tracker.by_cloid.get(cloid)
        if order is None or (order.oid is not None and order.oid != oid):
            return []
        fills, updates = self.unbound.take(oid)
        self.counters["oid_news_bound"] += len(fills) + len(updates)
        for kept in fills:
            outcome = self.tracker.attribute_fill(order, kept, now)
            self._after(outcome, now, "a fill named by its oid before the ack")
        if fills:
            self._log(now, "reconcile", f"{len(fills)} fills named by oid bound", cloid, oid)
        return [dataclasses.replace(u, cloid=cloid) for u in updates]

    def _apply_kept(self, updates: list[OrderUpdate], now: float) -> list[Command]:
        out: list[Command] = []
        for update in updates:
            self._log(
                now,
                "reconcile",
                f"{update.raw_status} (told by oid before the ack)",
                update.cloid,
                update.oid,
            )
            self._on_order_update(update, now)
            if update.status is VenueStatus.OPEN:
                out.extend(self._claim_stray(update.cloid, update.oid, now))
        return out

    def _note_venue_filled(
        self,
        order: TrackedOrder,
        venue_filled: int | None,
        now: float,
        *,
        says_filled: bool = False,
    ) -> None:
        """D33: the venue's word on how much of ``order`` traded (``says_filled``: its status
        is "filled").  More than we counted is a gap: the fills get ``fill_gap_wait`` to
        arrive, then they are fetched.  An adopted order's venue count includes trades from
        before we adopted it, which our count never saw: no gap is read from it."""
        if order.adopted:
            return
        if venue_filled is None and says_filled and order.tif is not TimeInForce.IOC:
            venue_filled = order.size  # "filled" with no amount: all of it (an IOC's rest is
            # cancelled, not filled)
        if venue_filled is None or venue_filled <= order.filled:
            return
        since = order.last_fill_at if order.last_fill_at is not None else order.placed_at
        self.fill_gaps.note(order.cloid, min(venue_filled, order.size), since, now)

    def _close_filled_gaps(self) -> None:
        for cloid, venue_filled in self.fill_gaps.open_gaps():
            order = self.tracker.by_cloid.get(cloid)
            if order is None or order.filled >= venue_filled:
                self.fill_gaps.close(cloid)

    def _fetch_fill_gaps(self, now: float) -> list[Command]:
        if not len(self.fill_gaps):
            return []
        self._close_filled_gaps()
        plan = self.fill_gaps.due(now)
        if plan is None:
            return []
        self.counters["fill_fetches"] += 1
        self._log(
            now, "reconcile", f"fetching fills of the last {plan.lookback_s:.0f}s: {plan.reason}"
        )
        return [FetchFills(plan.lookback_s, plan.reason)]

    def _on_fills_fetched(self, ev: FillsFetched, now: float) -> None:
        self._close_filled_gaps()
        if ev.error:
            self._log(now, "reconcile", f"fetching fills failed: {ev.error[:160]}")
        else:
            self._log(now, "reconcile", f"fetched {ev.count} fills")
        if ev.bad_rows:
            self.counters["malformed_rows"] += ev.bad_rows
            self.reconciler.trigger("fetched fills with unreadable rows")
        for cloid in self.fill_gaps.fetched(now, failed=bool(ev.error)):
            # D33/D16: the venue's fills do not show what its status said: the position is
            # checked against the venue's instead, and corrected if the drift is confirmed.
            self._log(
                now, "reconcile", "fills still missing after fetching; checking the position", cloid
            )
            self.reconciler.trigger("fills missing after fetching")

    def _on_malformed(self, ev: MalformedMessage, now: float) -> None:
        """D34: the good rows of the message were applied; the bad ones are counted, shown and
        reconciled: a lost fill row is fetched again, a lost order row re-synced."""
        self.counters["malformed_rows"] += ev.bad_rows
        self._log(
            now,
            "venue",
            f"malformed {ev.channel.value}: {ev.bad_rows} rows unreadable, {ev.good_rows} "
            f"applied: {ev.text[:160]}",
        )
        if ev.channel is Channel.MARKET:
            return
        self.reconciler.trigger(f"unreadable {ev.channel.value}")
        if ev.channel in (Channel.FILLS, Channel.OTHER):
            self.fill_gaps.note_lost_row(now)

    # ---- bookkeeping --------------------------------------------------------------------

    def _after(self, outcome: Outcome, now: float, reason: str = "") -> None:
        """Log transitions; turn flags into queries and reconcile triggers."""
        t = outcome.transition
        if t is not None:
            text = f"{t.old.value} -> {t.new.value} ({t.trigger.value})"
            if reason:
                text += f": {reason[:160]}"
            self._log(now, "transition", text, t.cloid, t.oid)
        if outcome.illegal is not None:
            ill = outcome.illegal
            self.counters["illegal_transitions"] += 1
            self._log(
                now,
                "illegal",
                f"{ill.event} ({ill.trigger.value}) not allowed in {ill.state.value}; asking",
                ill.cloid,
            )
            self.reconciler.trigger("illegal transition")
        if outcome.needs_query and outcome.order is not None:
            order = outcome.order
            if not order.state.is_terminal and order.cloid not in self._queries:
                unsettled = self._unsettled.get(order.cloid, (0, ""))[0]
                self._queries[order.cloid] = now + self.params.query_retry.delay(unsettled)

    def _cloid_for(self, oid: int | None) -> str | None:
        if oid is None:
            return None
        order = self.tracker.by_oid.get(oid)
        return order.cloid if order is not None else None

    def _batches(self, now: float, commands: list[Command]) -> list[Batch]:
        """Cancels first, then everything else, then placements by side (D13)."""
        urgent: list[Command] = []
        other: list[Command] = []
        sides: dict[Side, list[Command]] = {Side.BID: [], Side.ASK: []}
        for cmd in commands:
            if isinstance(cmd, Cancel | CancelAll):
                urgent.append(cmd)
            elif isinstance(cmd, Place | Modify):
                sides[cmd.side].append(cmd)
            else:
                other.append(cmd)
        batches: list[Batch] = []
        for group in (urgent, other):
            if group:
                self._batch_id += 1
                batches.append(Batch(self._batch_id, tuple(group)))
        # D24: a placement must reach the venue well inside its request lifetime or be refused
        # there; half of it leaves the other half for clock skew and the refusal's way back.
        expires_in = self.params.request_lifetime / 2
        for group in (sides[Side.BID], sides[Side.ASK]):
            if group:
                self._batch_id += 1
                batches.append(Batch(self._batch_id, tuple(group), expires_in))
        return batches

    def _log(
        self, now: float, kind: str, text: str, cloid: str | None = None, oid: int | None = None
    ) -> None:
        self.log.append(LogEntry(now, kind, text, cloid, oid))

    # ---- the picture ----------------------------------------------------------------------

    def view(self, now: float) -> ConsoleView:
        tracker = self.tracker
        desired, _, reasons = self._sides(now)
        mark = self.book.mid
        orders = tuple(
            OrderView(
                cloid=o.cloid,
                oid=o.oid,
                side=o.side,
                price=o.price,
                size=o.size,
                filled=o.filled,
                state=o.state.value,
                age=o.age(now),
                level=o.level,
                reduce_only=o.reduce_only,
                unknown_for=None if o.unknown_since is None else now - o.unknown_since,
                adopted=o.adopted,
            )
            for o in tracker.by_cloid.values()
            if not o.state.is_terminal
        )
        unit = float(self.instrument.value_unit)
        avg = self.position.average_entry
        backoff = tuple(
            BackoffView(
                side,
                self.rejections.remaining(side, now),
                self.rejections.consecutive(side),
                block.rclass if (block := self.rejections.placement_block(side, now)) else None,
            )
            for side in (Side.BID, Side.ASK)
        )
        snap = self.recovery.snapshot(now)
        risk = self.params.risk
        counters = dict(self.counters)
        counters["illegal_transitions"] = tracker.illegal_count
        counters["tracked_orders"] = len(tracker)
        counters["pruned_orders"] = tracker.pruned
        counters["syncs"] = self.reconciler.syncs
        return ConsoleView(
            time=now,
            venue=self.venue,
            instrument=self.instrument,
            mode=self.mode,
            mode_reason=self._mode_reason(),
            connected=self.connected,
            position=self.position.lots,
            average_entry=float(avg) if avg is not None else None,
            realized_pnl=float(self.position.realized) * unit,
            unrealized_pnl=float(self.position.unrealized(mark)) * unit,
            data_age=None if self._last_data is None else max(0.0, now - self._last_data),
            loop_lag=self.loop_lag,
            best_bid=self.book.best_bid,
            best_ask=self.book.best_ask,
            bids=self.book.depth(Side.BID, 20),
            asks=self.book.depth(Side.ASK, 20),
            orders=orders,
            state_counts={s.value: n for s, n in tracker.state_counts.items() if n},
            untracked_venue_orders=self.untracked_venue_orders,
            fills=tuple(self.fills),
            rejection_counts=dict(self.rejections.counts_by_class),
            rejection_texts=tuple(
                RejectionText(t.time, t.side, t.rclass, t.reason)
                for t in self.rejections.last_texts
            ),
            backoff=backoff,
            global_backoff=max(
                0.0,
                min(
                    self.rejections.remaining(Side.BID, now),
                    self.rejections.remaining(Side.ASK, now),
                ),
            ),
            side_reasons=reasons,
            stalls=self.stalls(now, desired, reasons),
            recovery=RecoveryView(
                snap.state.value, snap.attempts, snap.cooldown_left, snap.last_reason
            ),
            exposure=exposure(
                self.position.lots, tracker.pending_lots, tracker.pending_value, risk.max_position
            ),
            limits=Limits(
                max_position=risk.max_position,
                kill_position=risk.kill_position,
                max_notional=risk.max_notional,
                loss_limit=risk.loss_limit * unit,
            ),
            kill_triggers=self.kill_switch.triggers,
            sweep=self._sweep.phase.value,
            leverage=self.leverage,
            log=tuple(self.log),
            counters=counters,
        )

    def view_mode_reason(self) -> str:
        """Why the engine is halted, killed, stopping or paused (D37), as the view says it."""
        return self._mode_reason()

    def _mode_reason(self) -> str:
        if self.halted_reason:
            return self.halted_reason
        if self.kill_switch.latched:
            triggers = self.kill_switch.triggers
            return triggers[-1].reason if triggers else "killed"
        if self.stopping:
            return "stopping: cancelling every order"
        if self.paused and self.pause_reason:
            return f"quoting paused: {self.pause_reason}; p resumes"
        return ""


def quotes_now(order: TrackedOrder) -> bool:
    """Does ``order`` quote its level: resting, or placed and waiting for its first answer
    (not one whose outcome is already unknown, D8, nor one the operator asked to cancel)?"""
    if order.cancel_requested:
        return False
    if order.state is OrderState.PENDING_NEW:
        return order.unknown_since is None
    return order.state.is_active


def total_pnl(maker: MarketMaker) -> Fraction:
    """PnL in ticks x lots at the current mid (tests and reporters)."""
    return maker.position.total_pnl(maker.book.mid)
