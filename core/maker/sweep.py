"""A venue-wide cancel-all and the proof that it worked (D25), as a table of phases.

A sweep sends one cancel-all (``CancelAll``: the venue cancels every order it holds for us,
ours or not), waits for the venue to say it is done, then asks for the open orders twice, a
moment apart, until the venue lists none: only then is it VERIFIED.  An attempt that leaves
orders behind, goes unanswered or cannot be checked is sent again, up to ``sweep_attempts``;
then the sweep FAILED (the engine halts, or holds quoting: ``lifecycle``).  A rate-limited
attempt is not a failure: the sweep waits, RETRYING, paced, and tries again (D29).

Kill, quit, the operator's cancel-all, a pause that cancels, the start-up sweep (D19) and an
escalation of failing cancels all run through the one sweep: a trigger while one is under way
joins it (``JOIN_WINDOW_S``).  ``SweepState.to`` is the only way the phase changes, and only
along ``TRANSITIONS``.  The phases (``SweepPhase``) are defined in ``core.view``, where the
console reads them; their table is here.
"""

from __future__ import annotations

import enum

from core.view import SweepOutcome, SweepPhase  # the phases are the view's: the console reads them


class SweepEvent(enum.Enum):
    SENT = "cancel-all sent"  # any phase: an emergency never waits for the sweep's state
    DONE = "the venue says the cancel-all ran"
    RATE_LIMITED = "the venue is rate-limiting us"
    EMPTY = "the venue listed nothing, twice"
    GAVE_UP = "attempts exhausted"
    REARMED = "the kill switch was re-armed"  # a finished sweep is forgotten


_ALL = tuple(SweepPhase)
_I, _S, _R, _V = SweepPhase.IDLE, SweepPhase.SWEEPING, SweepPhase.RETRYING, SweepPhase.VERIFYING
_OK, _F = SweepPhase.VERIFIED, SweepPhase.FAILED
# (phase, event) -> the next phase.  A pair not listed is a bug in the sweep's logic.
TRANSITIONS: dict[tuple[SweepPhase, SweepEvent], SweepPhase] = {
    **{(phase, SweepEvent.SENT): _S for phase in _ALL},
    (_S, SweepEvent.DONE): _V,
    (_S, SweepEvent.RATE_LIMITED): _R,
    (_V, SweepEvent.RATE_LIMITED): _R,
    (_V, SweepEvent.EMPTY): _OK,
    (_S, SweepEvent.GAVE_UP): _F,
    (_V, SweepEvent.GAVE_UP): _F,
    (_I, SweepEvent.REARMED): _I,
    (_OK, SweepEvent.REARMED): _I,
    (_F, SweepEvent.REARMED): _I,
}

# A cancel-all the operator (or a kill) asks for within this long of the last one sent joins it
# instead of sending another: its answer takes one round trip, and a key held down, or a kill
# right behind an operator's cancel-all, must not become a burst of venue-wide sweeps (D29).
JOIN_WINDOW_S = 1.0


class IllegalSweepTransition(RuntimeError):
    """The sweep's logic asked for a move its table does not have (a bug, never the venue)."""


class SweepState:
    """The one sweep: its phase (changed by ``to`` only) and its bookkeeping."""

    __slots__ = (
        "attempts",
        "deadline",
        "done_at",
        "empty_seen",
        "ended",
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
        self.ended: SweepOutcome | None = None  # the latest sweep that finished, and when

    @property
    def active(self) -> bool:
        return self.phase.is_active

    def to(self, event: SweepEvent, now: float) -> SweepPhase:
        """Move along ``TRANSITIONS``; returns the new phase."""
        phase = TRANSITIONS.get((self.phase, event))
        if phase is None:
            raise IllegalSweepTransition(f"sweep: {event.value} in {self.phase.name}")
        self.phase = phase
        if phase in (_OK, _F):
            self.ended = SweepOutcome(phase, now)
        return phase
