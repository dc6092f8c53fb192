"""Operator actions: what a key press (or a signal) asks of the market maker.

They reach the maker through ``MarketMaker.operate`` on the runner's priority path, ahead of
any backlog of venue events.  None of them is ever delayed by backoff (D13).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop new quotes; market data, fills, reconciliation and risk keep running (D28).
    ``cancel_orders`` chooses whether resting orders stay (False) or are swept (True)."""

    cancel_orders: bool = False


@dataclass(frozen=True, slots=True)
class Resume:
    """Quote again after a pause (ignored while stopping)."""


@dataclass(frozen=True, slots=True)
class CancelAllOrders:
    """Sweep every open order of the account on the venue (D25); quoting goes on."""

    reason: str = "operator"


@dataclass(frozen=True, slots=True)
class CancelOrder:
    cloid: str


@dataclass(frozen=True, slots=True)
class Kill:
    """Cancel everything, stop placing, stay latched until ``Rearm`` (D18)."""

    reason: str = "operator"


@dataclass(frozen=True, slots=True)
class Rearm:
    """Re-arm the kill switch; quoting resumes once any sweep in flight is verified."""


@dataclass(frozen=True, slots=True)
class Quit:
    """Leave the venue clean: stop quoting and sweep all orders before the process exits."""

    reason: str = "operator quit"


@dataclass(frozen=True, slots=True)
class Halt:
    """Stop for good: cancel everything and never quote again in this session (D37).  The
    shell asks for it when something the session was told it requires has failed (a journal
    with ``journal.required``); unlike a kill, no re-arm undoes it."""

    reason: str


Action = Pause | Resume | CancelAllOrders | CancelOrder | Kill | Rearm | Quit | Halt
