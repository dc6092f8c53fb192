"""ConsoleView: the immutable picture of the market maker that every screen is drawn from.

The console, the headless reporter and the benchmarks only ever read a ``ConsoleView``; none of
them reaches into the maker.  It is built by ``MarketMaker.view(now)`` at a bounded rate (the
runner publishes 10-20 per second), so it must stay cheap: it copies what is shown, not the
maker's whole state.  Prices are ticks and sizes lots like everywhere in the core; the
``instrument`` turns them into decimals for display.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from core.events import Liquidity, RejectionClass, Side
from core.exposure import Exposure
from core.rejections import RejectionText as RejectionText  # as: the maker imports it from here
from core.risk import KillTrigger
from core.units import Instrument


class Mode(enum.Enum):
    STARTING = "STARTING"  # start-up sync and sweep (D19) not finished yet
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    KILLED = "KILLED"
    HALTED = "HALTED"  # a safety rule stopped the engine; needs a human and a restart


@dataclass(frozen=True, slots=True)
class OrderView:
    cloid: str
    oid: int | None
    side: Side
    price: int
    size: int
    filled: int
    state: str
    age: float
    level: int | None
    reduce_only: bool
    unknown_for: float | None  # seconds the placement outcome has been unknown (D8)
    adopted: bool


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
    state: str
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
    state_counts: dict[str, int]
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
    sweep: str  # cancel-all / kill sweep state: "", "sweeping", "verifying", "verified", ...
    leverage: int
    log: tuple[LogEntry, ...]
    counters: dict[str, int] = field(default_factory=dict)
    # D27/D31: ladder levels the strategy wants that have no live quote, and why ("bid L2":
    # "asking the venue about ...").  A side-wide reason is in ``side_reasons`` instead.
    stalls: dict[str, str] = field(default_factory=dict)
    # What the runner adds to ``time`` (and every time in this view) for Unix seconds (UTC);
    # None in virtual time.  The core keeps monotonic time; only the shell knows the calendar.
    epoch_offset: float | None = None
    started: float | None = None  # when the session began, on the same time line as ``time``
    answer_s: float | None = None  # the venue's median answer time over recent batches

    def epoch(self, t: float) -> float | None:
        """``t`` (a time of this view) as Unix seconds, when the runner knows the calendar."""
        return None if self.epoch_offset is None else t + self.epoch_offset

    def pnl(self) -> float:
        return self.realized_pnl + self.unrealized_pnl

    def orders_at(self, side: Side, price: int) -> tuple[OrderView, ...]:
        return tuple(o for o in self.orders if o.side is side and o.price == price)

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
