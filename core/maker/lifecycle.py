"""The engine's life, as tables: where it is (starting, quoting, paused, stopping, killed,
halted), what moves it, and the one priority that answers "why is this side not quoting".

Three small machines, each changed only through its table:

* **start-up** (D19): ``starting`` from ``start`` until the start-up sweep verifies the venue
  empty (or the venue's orders are adopted); quoting waits for it.
* **quoting** (``QUOTING``): RUNNING, PAUSED (the operator's ``p``), HELD (paused by the
  engine: a cancel-all it could not verify may have left orders behind, D25, D28) and
  STOPPING (quit: cancel everything, then exit).  A pause is the operator's to end; a hold
  ends when a later cancel-all verifies the venue empty; nothing ends a stop.
* **halt** (D37): absorbing -- the engine cannot go on safely and says why.

The kill switch (``core.risk.KillSwitch``) latches on its own and is re-armed by the operator;
it is a fact this module reads, not a state it owns.

``BLOCKERS`` is the single priority among all of these and the market's own conditions
(a sweep under way, no connection, no or stale data, recovery).  The engine's mode, the reason
the view gives for it, and why a side quotes nothing are all read from it, first row first
(the priority used to be written three times, in three orders that had to agree).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from core.executor import SideMode
from core.view import Mode


class Quoting(enum.Enum):
    RUNNING = "running"
    PAUSED = "paused"  # the operator's pause: the operator resumes
    HELD = "held"  # paused by the engine until a cancel-all verifies the venue empty
    STOPPING = "stopping"  # quit: everything is cancelled, then the process exits


class QuotingEvent(enum.Enum):
    PAUSE = "pause"  # the operator (p, P)
    RESUME = "resume"  # the operator (p again)
    QUIT = "quit"  # the operator (q), or the runner shutting down
    SWEEP_UNVERIFIED = "cancel-all not verified"  # D25: orders may rest where we cannot see
    SWEEP_VERIFIED = "venue verified empty"  # D25: the cause of a hold is gone


_R, _P, _H, _S = Quoting.RUNNING, Quoting.PAUSED, Quoting.HELD, Quoting.STOPPING
# (state, event) -> the new state.  Every pair is listed: a missing one is a bug, not a no-op.
QUOTING: dict[tuple[Quoting, QuotingEvent], Quoting] = {
    (_R, QuotingEvent.PAUSE): _P,
    (_P, QuotingEvent.PAUSE): _P,
    (_H, QuotingEvent.PAUSE): _P,  # the operator's pause replaces the engine's hold
    (_S, QuotingEvent.PAUSE): _S,
    (_R, QuotingEvent.RESUME): _R,
    (_P, QuotingEvent.RESUME): _R,
    (_H, QuotingEvent.RESUME): _R,  # D28: the operator may overrule a hold
    (_S, QuotingEvent.RESUME): _S,  # a stop is never undone
    (_R, QuotingEvent.QUIT): _S,
    (_P, QuotingEvent.QUIT): _S,
    (_H, QuotingEvent.QUIT): _S,
    (_S, QuotingEvent.QUIT): _S,
    (_R, QuotingEvent.SWEEP_UNVERIFIED): _H,
    (_P, QuotingEvent.SWEEP_UNVERIFIED): _P,  # an operator's pause stays theirs
    (_H, QuotingEvent.SWEEP_UNVERIFIED): _H,  # the first reason stays
    (_S, QuotingEvent.SWEEP_UNVERIFIED): _S,
    (_R, QuotingEvent.SWEEP_VERIFIED): _R,
    (_P, QuotingEvent.SWEEP_VERIFIED): _P,
    (_H, QuotingEvent.SWEEP_VERIFIED): _R,
    (_S, QuotingEvent.SWEEP_VERIFIED): _S,
}


class Lifecycle:
    """Start-up, quoting and halt state; changed only through ``QUOTING``, ``started`` and
    ``halt``."""

    __slots__ = ("halted_reason", "held_reason", "quoting", "starting")

    def __init__(self) -> None:
        self.starting = True
        self.quoting = Quoting.RUNNING
        self.held_reason = ""  # why the engine holds quoting (HELD only)
        self.halted_reason = ""

    @property
    def paused(self) -> bool:
        """No new quotes by the operator's or the engine's choice (a stop included)."""
        return self.quoting is not Quoting.RUNNING

    @property
    def stopping(self) -> bool:
        return self.quoting is Quoting.STOPPING

    def on(self, event: QuotingEvent, reason: str = "") -> Quoting:
        """Move the quoting machine; returns the state it was in."""
        was = self.quoting
        self.quoting = QUOTING[was, event]
        if self.quoting is Quoting.HELD and was is not Quoting.HELD:
            self.held_reason = reason
        elif self.quoting is not Quoting.HELD:
            self.held_reason = ""
        return was

    def start(self) -> None:
        """D19: the venue's state is about to be asked for; quoting waits for it."""
        self.starting = True

    def started(self) -> None:
        """D19: the venue's state is known and dealt with; quoting may begin."""
        self.starting = False

    def halt(self, reason: str) -> bool:
        """D37: True when this halted the engine (the first reason stays)."""
        if self.halted_reason:
            return False
        self.halted_reason = reason
        return True


class Facts(NamedTuple):
    """What the priority is read from, at one moment.  A named tuple: one is made for every
    reaction, and a frozen dataclass costs several times more to construct."""

    life: Lifecycle
    kill_reason: str | None  # the latest trigger's reason while the kill switch is latched
    sweep_purpose: str | None  # while a cancel-all is under way
    connected: bool
    has_market: bool  # market data and both sides of the book
    stale_market: bool
    recovery: str | None  # the recovery state while it takes over quoting (D15)
    heartbeat_lapse: str | None = None  # D40: why the venue's dead-man switch is lapsed


@dataclass(frozen=True, slots=True)
class Blocker:
    """One row of the priority: when it holds, what it makes of the mode, why the sides quote
    nothing and what the executor may still do there, and what the view says of the mode
    (``None``: this row has nothing to say to that question; the next row that holds does)."""

    name: str
    holds: Callable[[Facts], bool]
    mode: Mode | None
    side_mode: SideMode
    why: Callable[[Facts], str]
    mode_reason: Callable[[Facts], str] | None = None


def _paused_why(f: Facts) -> str:
    reason = f.life.held_reason
    return f"paused: {reason}" if reason else "paused"


def _paused_mode_reason(f: Facts) -> str:
    reason = f.life.held_reason
    return f"quoting paused: {reason}; p resumes" if reason else ""


# First row first.  A kill or halt leaves only cancels (D13); a start-up, a sweep and a pause
# hold the orders as they are; a stop cancels everything; missing or stale data cancels.
BLOCKERS: tuple[Blocker, ...] = (
    Blocker(
        "halted",
        lambda f: bool(f.life.halted_reason),
        Mode.HALTED,
        SideMode.CANCEL_ONLY,
        lambda f: "halted",
        lambda f: f.life.halted_reason,
    ),
    Blocker(
        "killed",
        lambda f: f.kill_reason is not None,
        Mode.KILLED,
        SideMode.CANCEL_ONLY,
        lambda f: "killed",
        lambda f: f.kill_reason or "killed",
    ),
    Blocker(
        "starting",
        lambda f: f.life.starting,
        Mode.STARTING,
        SideMode.HOLD,
        lambda f: "reconciling (start-up)",
    ),
    Blocker(
        "sweeping",
        lambda f: f.sweep_purpose is not None,
        None,
        SideMode.HOLD,
        lambda f: f"cancel-all in progress ({f.sweep_purpose})",
    ),
    Blocker(
        "stopping",
        lambda f: f.life.stopping,
        Mode.PAUSED,
        SideMode.CANCEL_ONLY,  # a quit leaves nothing resting
        lambda f: "stopping",
        lambda f: "stopping: cancelling every order",
    ),
    Blocker(
        "paused",
        lambda f: f.life.paused,
        Mode.PAUSED,
        SideMode.HOLD,
        _paused_why,
        _paused_mode_reason,
    ),
    Blocker(
        "disconnected",
        lambda f: not f.connected,
        None,
        SideMode.HOLD,
        lambda f: "venue disconnected",
    ),
    Blocker(
        "heartbeat lapsed",
        lambda f: f.heartbeat_lapse is not None,
        None,
        SideMode.HOLD,  # the sweep that follows a lapse cancels and verifies (D40)
        lambda f: f"venue heartbeat lapsed ({f.heartbeat_lapse})",
    ),
    Blocker(
        "no market data",
        lambda f: not f.has_market,
        None,
        SideMode.CANCEL_ONLY,
        lambda f: "no market data",
    ),
    Blocker(
        "stale market data",
        lambda f: f.stale_market,
        None,
        SideMode.CANCEL_ONLY,
        lambda f: "stale market data",
    ),
    Blocker(
        "recovery",
        lambda f: f.recovery is not None,
        None,
        SideMode.CANCEL_ONLY,
        lambda f: f"recovery {f.recovery}",
    ),
)


def why_not_quoting(facts: Facts) -> tuple[str | None, SideMode]:
    """The reason that stops both sides, and what the executor may still do (D27)."""
    for row in BLOCKERS:
        if row.holds(facts):
            return row.why(facts), row.side_mode
    return None, SideMode.QUOTE


def mode_of(facts: Facts) -> Mode:
    for row in BLOCKERS:
        if row.mode is not None and row.holds(facts):
            return row.mode
    return Mode.RUNNING


def mode_reason(facts: Facts) -> str:
    """Why the engine is halted, killed, stopping or paused (D37), as the view says it."""
    for row in BLOCKERS:
        if row.mode_reason is not None and row.holds(facts):
            return row.mode_reason(facts)
    return ""
