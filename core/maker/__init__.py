"""MarketMaker: the sans-I/O engine.  Events in, command batches out, time passed in.

    handle(event, now)   -> list[Batch]   something happened at the venue
    tick(now)            -> list[Batch]   timers: quoting, timeouts, reconcile, risk, recovery
    operate(action, now) -> list[Batch]   the operator: pause, cancel all, kill, re-arm, quit
    view(now)            -> ConsoleView   the immutable picture for the console and reporters

It never awaits, never reads a clock and never touches a socket, so the same object runs inside
the async runner on the wall clock and inside the simulation loop in virtual time (D22).  Each
rule lives in its part: order state in ``core.orders`` (D1-D8), fill counting in ``core.fills``
(D4), rejections and backoff in ``core.rejections`` (D11-D14), recovery in ``core.recovery``
(D15), reconciliation in ``core.reconcile`` (D9, D16, D19), limits and the kill switch in
``core.risk`` (D17, D18), the ladder in ``core.strategy`` (D23), the diff in ``core.executor``
(D13).  The engine itself is split into rooms, each a class in its own module that builds on
the rooms it names as its bases (and on no other):

    params       MakerParams: what the engine is told, in lots, ticks and seconds
    lifecycle    the engine's mode as tables; the one priority: why is this side not quoting
    sweep        a venue-wide cancel-all and its proof, as a table of phases (D25, D29)
    base         MakerBase: the state every room shares, logging, batching (D13), syncs
    emergency    cancel-all, kill, quit, halt, risk: the sweep's logic (D13, D17, D18, D25)
    inquiries    answer deadlines and status queries, paced (D8, D24, D29, D31)
    fills        counting fills once, the venue's position adopted, fills fetched (D4, D16, D33)
    answers      what the venue answered about our orders; news by order id (D5, D24, D32)
    startup      learning the venue's state before quoting (D19)
    reconciling  open orders and position snapshots, syncs that fail (D9, D16, D19, D34)
    quoting      side gates, price fences, strays, placing and re-pricing; recovery IOCs (D15)
    projection   state -> ConsoleView
    engine       MarketMaker: the rooms put together; handle / tick / operate

What it must never do: delay a cancel, a cancel-all or a kill behind anything (D13); place while
killed, halted or sweeping; place a second order for an intent whose first one is unanswered
(D8); raise on any venue event (a malformed one is counted and logged).
"""

from core.maker.base import CloidSource
from core.maker.engine import MarketMaker
from core.maker.lifecycle import Quoting, QuotingEvent
from core.maker.params import QUERY_BURST, QUERY_RATE_PER_S, MakerParams
from core.maker.quoting import quotes_now
from core.maker.sweep import JOIN_WINDOW_S
from core.view import SweepPhase

__all__ = [
    "JOIN_WINDOW_S",
    "QUERY_BURST",
    "QUERY_RATE_PER_S",
    "CloidSource",
    "MakerParams",
    "MarketMaker",
    "Quoting",
    "QuotingEvent",
    "SweepPhase",
    "quotes_now",
]
