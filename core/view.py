"""ConsoleView: the immutable picture of the market maker that every screen is drawn from.

The console, the headless reporter and the benchmarks only ever read a ``ConsoleView``; none of
them reaches into the maker.  It is built by ``MarketMaker.view(now)`` at a bounded rate (the
runner publishes 10-20 per second), so it must stay cheap: it copies what is shown, not the
maker's whole state.  Prices are ticks and sizes lots like everywhere in the core; the
``instrument`` turns them into decimals for display.

The boundary is typed: an order's state is an ``OrderState``, the recovery's a
``RecoveryState``, the sweep's a ``SweepPhase`` (defined here, beside ``Mode``, so that the
console can read it without importing the maker), the counters a ``Counters`` with one named
field each.  Strings appear only where a screen or ``--json`` prints them (``.value``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from core.events import HeartbeatState, Liquidity, RejectionClass, Side
from core.exposure import Exposure
from core.orders import OrderState
from core.recovery import RecoveryState
from core.rejections import RejectionText as RejectionText  # as: the maker imports it from here
from core.risk import KillTrigger
from core.spread import SideSpread
from core.units import Instrument


class Mode(enum.Enum):
    STARTING = "STARTING"  # start-up sync and sweep (D19) not finished yet
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    KILLED = "KILLED"
    HALTED = "HALTED"  # a safety rule stopped the engine; needs a human and a restart


class SweepPhase(enum.Enum):
    """A venue-wide cancel-all, then proof that the venue is empty (D25).

    The phases only; the table that moves between them is the maker's (``core.maker.sweep``).
    The values are what the console and ``--json`` print ("" when no sweep ran)."""

    IDLE = ""
    SWEEPING = "sweeping"  # a cancel-all is on its way
    RETRYING = "retrying"  # the venue is rate-limiting us: the next cancel-all waits (D29)
    VERIFYING = "verifying"
    VERIFIED = "verified"
    FAILED = "failed"

    # Singletons: identity hashing (``is_active`` is asked on every reaction; Enum's own hash
    # hashes the name).  Only membership is asked of ``_SWEEP_ACTIVE``.
    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:
        """Under way: sent, waiting to retry, or checking that the venue is empty."""
        return self in _SWEEP_ACTIVE


_SWEEP_ACTIVE = frozenset({SweepPhase.SWEEPING, SweepPhase.RETRYING, SweepPhase.VERIFYING})


@dataclass(frozen=True, slots=True)
class OrderView:
    cloid: str
    oid: int | None
    side: Side
    price: int
    size: int
    filled: int
    state: OrderState  # never terminal: the view holds the orders the tracker still follows
    age: float
    level: int | None
    reduce_only: bool
    unknown_for: float | None  # seconds the placement outcome has been unknown (D8)
    adopted: bool

    @property
    def shown_live(self) -> bool:
        """On the console's ladder and in its order pane: the state is live (may rest on the
        venue, ``OrderState.is_live``) or the placement's outcome is unknown (D8).  The rest
        (``CancelConfirmed``) only await late fills."""
        return self.state.is_live or self.unknown_for is not None


@dataclass(frozen=True, slots=True)
class FillView:
    time: float
    side: Side
    price: int
    size: int
    tid: int | None  # None for an immediate fill reported by the placement answer (D4)
    liquidity: Liquidity | None
    cloid: str | None
    immediate: bool
    flagged: str = ""  # "late", "unmatched", "overfill"


@dataclass(frozen=True, slots=True)
class BackoffView:
    """One side's placement block, for a countdown (D12, D27)."""

    side: Side
    remaining: float
    consecutive: int
    rclass: RejectionClass | None


@dataclass(frozen=True, slots=True)
class RecoveryView:
    state: RecoveryState
    attempts: int
    cooldown_left: float
    last_reason: str


@dataclass(frozen=True, slots=True)
class LogEntry:
    time: float
    kind: str  # "transition", "rejection", "fill", "kill", "connection", "reconcile", ...
    text: str
    cloid: str | None = None
    oid: int | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    max_position: int
    kill_position: int
    max_notional: int  # ticks x lots
    loss_limit: float  # quote currency
    tier_limit: int | None = None  # the venue's margin tier at our leverage, lots (issue 19)


@dataclass(frozen=True, slots=True)
class Counters:
    """The maker's running counts, one named field each (``--json`` prints some by name).

    Built by the maker's projection from its own counts: a count the maker keeps that has no
    field here, or a field it does not fill, is an error there, not a silent zero."""

    events: int
    book_updates: int
    fills: int  # every fill that moved the position, late and unmatched ones included
    duplicate_fills: int
    history_fills: int
    fills_in_adopted_position: int
    untimed_fills: int
    unmatched_fills: int
    strays_cancelled: int
    late_fills: int
    illegal_transitions: int  # the tracker's count (D1): updates its table refused
    venue_notices: int
    inconsistent_fills: int
    unknown_statuses: int
    malformed_rows: int
    unsettled_answers: int
    oid_news_kept: int
    oid_news_bound: int
    places_sent: int
    modifies_sent: int  # a re-price is a modify
    cancels_sent: int
    cancel_alls_sent: int
    queries_sent: int
    syncs_sent: int
    fill_fetches: int
    rejections: int
    taker_fills: int
    recovery_iocs: int
    disconnects: int  # the venue's stream lost (each is followed by a reconnect and a sync)
    liquidations: int  # D41: the venue liquidated our account (or auto-deleveraged us)
    fundings: int  # D36: funding payments counted
    closed_pnl_mismatches: int  # D36: fills whose closedPnl disagreed with our books
    cascades: int  # issue 20: times a side entered a cascade (and was pulled or widened)
    provisional_fills: int  # D38: fills counted before the venue made them final
    failed_fills: int  # D38: provisional fills the venue voided, each reversed once
    tick_changes: int  # D39: the venue moved the price grid
    old_grid_rejections: int  # D39: refusals of orders sent on the grid the venue left
    heartbeat_lapses: int  # D40: the venue's dead-man switch lapsed
    tracked_orders: int
    pruned_orders: int
    syncs: int

    def anomalies(self) -> dict[str, int]:
        """What the venue told us that did not add up (D34, D35), by counter name: only those
        above zero, in the order every screen lists them."""
        seen = {
            "inconsistent_fills": self.inconsistent_fills,
            "unknown_statuses": self.unknown_statuses,
            "malformed_rows": self.malformed_rows,
            "illegal_transitions": self.illegal_transitions,
            "closed_pnl_mismatches": self.closed_pnl_mismatches,
        }
        return {name: n for name, n in seen.items() if n}


@dataclass(frozen=True, slots=True)
class JournalView:
    """The session's journal as the shell reports it (issue 17): where it is, how big, how far
    behind the engine, and why it stopped recording if it did."""

    path: str
    size_bytes: int
    lag_s: float
    recorded: int
    failed: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class SignalsView:
    """The market signals (issue 20, ``core.estimators``): one standard deviation of the mid
    over a second, in ticks (``volatility_ready`` once warmed up), and the cascade ratio of
    aggressive flow per aggressor side -- buyers (BID) lift asks, sellers (ASK) hit bids."""

    volatility_ticks: float
    volatility_ready: bool
    cascade: dict[Side, float]


@dataclass(frozen=True, slots=True)
class CostsView:
    """D36: what turns the position's gross PnL into net, in the quote currency (display
    only; the core keeps millionths, ``core.pnl``).  Fees charged in another token are listed
    apart, never added in.  ``closed_*`` compare the PnL of the fills the venue told us a
    ``closedPnl`` for, ours against the venue's, over the ``closed_checked`` fills compared."""

    quote: str
    fees: float  # paid; a rebate is negative
    funding: float  # received; paid is negative
    fundings: int
    other_fees: tuple[tuple[str, float], ...] = ()
    closed_checked: int = 0
    closed_ours: float = 0.0
    closed_venue: float = 0.0
    closed_mismatches: int = 0
    last_mismatch: str = ""


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    """How the latest finished cancel-all ended (VERIFIED or FAILED) and when, in the maker's
    time: a console attached later shows when it happened, not when it first saw it."""

    phase: SweepPhase
    at: float


@dataclass(frozen=True, slots=True)
class ConsoleView:
    time: float
    venue: str
    instrument: Instrument
    mode: Mode
    mode_reason: str
    connected: bool
    position: int
    average_entry: float | None  # ticks per lot (display only)
    realized_pnl: float  # quote currency (display only)
    unrealized_pnl: float
    data_age: float | None
    loop_lag: float
    best_bid: int | None
    best_ask: int | None
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    orders: tuple[OrderView, ...]
    state_counts: dict[OrderState, int]  # tracked orders by state, the states with any
    untracked_venue_orders: int
    fills: tuple[FillView, ...]
    rejection_counts: dict[RejectionClass, int]
    rejection_texts: tuple[RejectionText, ...]
    backoff: tuple[BackoffView, ...]
    global_backoff: float
    side_reasons: dict[Side, str | None]  # D27: the one reason a side is not quoting
    recovery: RecoveryView
    exposure: Exposure
    limits: Limits
    kill_triggers: tuple[KillTrigger, ...]
    sweep: SweepPhase  # the cancel-all / kill sweep (D25)
    leverage: int
    log: tuple[LogEntry, ...]
    counters: Counters
    # D27/D31: ladder levels the strategy wants that have no live quote, and why ("bid L2":
    # "asking the venue about ...").  A side-wide reason is in ``side_reasons`` instead.
    stalls: dict[str, str] = field(default_factory=dict)
    # What the runner adds to ``time`` (and every time in this view) for Unix seconds (UTC);
    # None in virtual time.  The core keeps monotonic time; only the shell knows the calendar.
    epoch_offset: float | None = None
    started: float | None = None  # when the session began, on the same time line as ``time``
    answer_s: float | None = None  # the venue's median answer time over recent batches
    journal: JournalView | None = None  # stamped by the runner; None when not journaling
    last_sweep: SweepOutcome | None = None  # the latest finished cancel-all (D25)
    liquidation: str = ""  # D41: our liquidation, shown until the operator acknowledges it
    signals: SignalsView | None = None  # issue 20: volatility and cascade intensity
    costs: CostsView | None = None  # D36: fees and funding; None before the maker reports
    # Issue 20: each side's half-spread (ticks) and why it is not the configured one, or
    # that the side is pulled in a cascade.
    spreads: dict[Side, SideSpread] | None = None
    heartbeat: HeartbeatState | None = None  # D40: the venue's dead-man switch, if it has one

    def epoch(self, t: float) -> float | None:
        """``t`` (a time of this view) as Unix seconds, when the runner knows the calendar."""
        return None if self.epoch_offset is None else t + self.epoch_offset

    def gross_pnl(self) -> float:
        """Realised plus unrealised, before fees and funding."""
        return self.realized_pnl + self.unrealized_pnl

    def pnl(self) -> float:
        """Net PnL (D36): what the loss limit judges."""
        costs = self.costs
        if costs is None:
            return self.gross_pnl()
        return self.gross_pnl() - costs.fees + costs.funding

    def log_for(self, key: str) -> tuple[LogEntry, ...]:
        """Log entries that mention an order id (cloid prefix match or exact oid)."""
        key = key.strip().lower()
        if not key:
            return self.log
        return tuple(
            e
            for e in self.log
            if (e.cloid is not None and key in e.cloid.lower())
            or (e.oid is not None and key == str(e.oid))
        )
