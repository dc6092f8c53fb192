"""The state every room of the maker shares, and the small things they all use.

``MakerBase`` holds the tracker, book, position, reconciler, rejection and recovery policies,
kill switch, lifecycle, sweep, pacing and the log, and offers the helpers that touch several of
them: the engine's ``mode`` and the facts the lifecycle's priority is read from (``_facts``),
what to do after an order's outcome (``_after``: exposure, syncs, the log), a cancel, a sync,
and ``_batches``, which puts cancels and cancel-alls in a batch of their own ahead of everything
else (D13) and placements in one batch per side with the venue's expiry (D24).  No room
changes another room's state except through these helpers or that room's methods.
"""

from __future__ import annotations

from collections import deque

from core.book import LocalBook
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    Modify,
    Place,
    SyncState,
)
from core.estimators.hawkes import HawkesIntensity
from core.estimators.volatility import MidVolatility
from core.events import (
    HeartbeatState,
    OpenOrders,
    PositionSnapshot,
    Side,
)
from core.executor import Executor
from core.exposure import Position
from core.fillgaps import FillGaps
from core.maker.lifecycle import (
    Facts,
    Lifecycle,
    mode_of,
    mode_reason,
)
from core.maker.params import QUERY_BURST, QUERY_RATE_PER_S, MakerParams
from core.maker.sweep import SweepState
from core.oidnews import UnboundNews
from core.orders import OrderState, OrderTracker, Outcome, TrackedOrder, Trigger
from core.pacing import TokenBucket
from core.pnl import Costs
from core.reconcile import PositionMoves, Reconciler
from core.recovery import ReduceOnlyRecovery
from core.rejections import RejectionTracker
from core.risk import KillSwitch
from core.settlement import Settlements
from core.spread import SpreadPolicy
from core.units import Instrument
from core.view import (
    FillView,
    LogEntry,
    Mode,
    SweepPhase,
)

_PLACEMENTS = (Place, Modify)
_CANCELS = (Cancel, CancelAll)
# "Resting -> CancelPending (cancel sent)" per (old, new, trigger), made once: every order's
# transitions are logged, and an enum's ``value`` is a descriptor call (a few hundred entries
# at most: the table's).
_TRANSITION_TEXTS: dict[tuple[OrderState, OrderState, Trigger], str] = {}


class CloidSource:
    """Client order ids in Hyperliquid's shape (0x + 32 hex): a per-session prefix and a
    counter, so ids never repeat across restarts that use different prefixes (D2)."""

    __slots__ = ("_head", "_n")

    def __init__(self, prefix: int) -> None:
        self._head = f"0x{prefix & 0xFFFFFFFF:08x}"  # formatted once: a reaction asks for six
        self._n = 0

    def __call__(self) -> str:
        self._n += 1
        return f"{self._head}{self._n:024x}"


class MakerBase:
    """The state every room shares (see the module's docstring); built once, by ``MarketMaker``."""

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
        self.settlements = Settlements()  # D38: fills the venue may still undo
        self.heartbeat: HeartbeatState | None = None  # D40: the venue's dead-man switch
        self._grid_changed_at: float | None = None  # D39: when the venue last moved the grid
        self._settle_asked_at = -float("inf")  # D38: the last fetch about pending fills
        self._settle_asks = 0  # fetches in a row while the same fills stay pending
        self._settle_now = False  # a reconnect: ask about pending fills at the next tick
        self._last_settled_at: float | None = None  # the last provisional fill settled (D38)
        self.costs = Costs(instrument.quote, instrument.value_unit)  # D36
        # The (venue time, trade id) of the latest fill counted, and whether our average entry
        # may differ from the venue's (fills counted out of its order): ``_closed_in_order``.
        self._closed_order: tuple[float, int] | None = None
        self._closed_basis_differs = False
        self.position_moves = PositionMoves()  # lines our position up with the venue's (D16)
        self.book = LocalBook()
        self.rejections = RejectionTracker(params.rejection)
        self.recovery = ReduceOnlyRecovery(params.recovery)
        self.reconciler = Reconciler(
            grace_period=params.grace_period,
            interval=params.sync_interval,
            position_tolerance=params.position_tolerance,
            timeout=params.query_timeout,
            size_text=lambda lots: instrument.size_text(lots, signed=True),
        )
        self.kill_switch = KillSwitch()
        self.next_cloid = CloidSource(cloid_prefix)
        self.executor = Executor(self.next_cloid, params.requote_threshold)
        self.leverage = params.leverage
        # The margin tier's notional limit at this leverage (ticks x lots), None without one.
        self.tier_cap = instrument.tier_cap_value(self.leverage)
        self.strategy = params.strategy  # sized for the leverage the venue really applies
        self.connected = False
        self.life = Lifecycle()  # start-up, pause, hold, stop, halt: only through its tables
        self._startup_orders: OpenOrders | None = None
        self._startup_position: PositionSnapshot | None = None
        self._startup_failures = 0  # start-up syncs failed (not rate-limited: D29)
        self._startup_tries = 0  # start-up syncs retried, for their pacing
        self._unreadable_snapshots = 0  # open-orders answers in a row with unreadable rows
        self._sweep = SweepState()
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
                "disconnects",
                "liquidations",
                "fundings",
                "closed_pnl_mismatches",
                "cascades",
                "provisional_fills",
                "failed_fills",
                "tick_changes",
                "old_grid_rejections",
                "heartbeat_lapses",
            ),
            0,
        )
        self.liquidation = ""  # D41: our liquidation, on screen until the operator acknowledges
        # Issue 20: the market signals, fed by the book and the trades; shown, not yet used.
        self.volatility = MidVolatility(params.volatility_tau_s, params.volatility_warmup)
        self.spread = SpreadPolicy(params.spread)  # issue 20: the signals shape the quotes
        self.cascade = {
            side: HawkesIntensity(
                beta=1.0 / params.cascade_decay_s, beta_slow=1.0 / params.cascade_baseline_s
            )
            for side in (Side.BID, Side.ASK)
        }

    @property
    def mode(self) -> Mode:
        return mode_of(self._facts())

    @property
    def sweep_phase(self) -> SweepPhase:
        return self._sweep.phase

    def tier_lots(self) -> int | None:
        """The venue's margin tier at our leverage as lots (issue 19, D17), at the higher
        touch -- the price a bid would pay, the conservative one for both sides; None
        without a tier limit or a book."""
        cap = self.tier_cap
        if cap is None:
            return None
        price = self.book.best_ask or self.book.best_bid
        return cap // price if price else None

    def position_limit(self) -> int:
        """The most lots the position may reach: the configured limit and the margin tier's."""
        tier = self.tier_lots()
        limit = self.params.risk.max_position
        return limit if tier is None else min(limit, tier)

    def view_mode_reason(self) -> str:
        """Why the engine is halted, killed, stopping or paused (D37), as the view says it."""
        return self._mode_reason()

    def _mode_reason(self) -> str:
        return mode_reason(self._facts())

    def _facts(self, now: float | None = None) -> Facts:
        """What ``lifecycle.BLOCKERS`` reads; the market's condition only when ``now`` is
        given (the mode and its reason never depend on it)."""
        kill = None
        if self.kill_switch.latched:
            triggers = self.kill_switch.triggers
            kill = triggers[-1].reason if triggers else "killed"
        sweep = self._sweep
        if now is None:
            return Facts(
                self.life,
                kill,
                sweep.purpose if sweep.active else None,
                True,
                True,
                False,
                None,
                self._heartbeat_lapse(),
            )
        last = self._last_data
        book = self.book
        recovery = self.recovery
        return Facts(
            self.life,
            kill,
            sweep.purpose if sweep.active else None,
            self.connected,
            last is not None and book.best_bid is not None and book.best_ask is not None,
            last is not None and now - last > self.params.risk.stale_data_s,
            recovery.state.value if recovery.skip_normal_quoting else None,
            self._heartbeat_lapse(),
        )

    def _heartbeat_lapse(self) -> str | None:
        beat = self.heartbeat
        return beat.text or "lapsed" if beat is not None and beat.lapsed else None

    def _after(self, outcome: Outcome, now: float, reason: str = "") -> None:
        """Log transitions; turn flags into queries and reconcile triggers."""
        t = outcome.transition
        if t is not None:
            key = (t.old, t.new, t.trigger)
            text = _TRANSITION_TEXTS.get(key)
            if text is None:
                text = _TRANSITION_TEXTS[key] = (
                    f"{t.old.value} -> {t.new.value} ({t.trigger.value})"
                )
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

    def _cancel(self, order: TrackedOrder, now: float) -> Cancel:
        outcome = self.tracker.cancel_sent(order.cloid, now)
        self._after(outcome, now)
        self._answer_deadlines.append((now + self.params.answer_timeout, order.cloid))
        self.counters["cancels_sent"] += 1
        return Cancel(order.cloid, order.oid)

    def _sync(self, now: float, reason: str) -> SyncState:
        self.reconciler.sent(now)
        self._last_sync_sent = now
        self.counters["syncs_sent"] += 1
        return SyncState(reason)

    def _cloid_for(self, oid: int | None) -> str | None:
        if oid is None:
            return None
        order = self.tracker.by_oid.get(oid)
        return order.cloid if order is not None else None

    def _batches(self, now: float, commands: list[Command]) -> list[Batch]:
        """Cancels first, then everything else, then placements by side (D13)."""
        urgent: list[Command] = []
        other: list[Command] = []
        bids: list[Command] = []
        asks: list[Command] = []
        for cmd in commands:
            if isinstance(cmd, _PLACEMENTS):  # most commands: a reaction's modifies
                (bids if cmd.side is Side.BID else asks).append(cmd)
            elif isinstance(cmd, _CANCELS):
                urgent.append(cmd)
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
        for group in (bids, asks):
            if group:
                self._batch_id += 1
                batches.append(Batch(self._batch_id, tuple(group), expires_in))
        return batches

    def _log(
        self, now: float, kind: str, text: str, cloid: str | None = None, oid: int | None = None
    ) -> None:
        self.log.append(LogEntry(now, kind, text, cloid, oid))
