"""Cancel-all, kill, quit and halt: the engine's emergency path (D13, D17, D18, D25, D29).

Every one of them runs the one venue-wide sweep (``core.maker.sweep``): ``_begin_sweep`` sends a
``CancelAll`` on the very call that asked for it, joins one already under way within
``JOIN_WINDOW_S`` (a kill that latches always sends its own), then verifies the venue empty,
retrying paced while the venue rate-limits (D29) and giving up after ``sweep_attempts`` (a kill
or start-up sweep that fails halts the engine, D37; any other holds quoting, D25).  ``_risk``
judges the kill rules (runaway position, loss limit, stale data, D17-D18) on the tick and on
every event that moved the position (D30).

Never: wait for backoff, a pause, the token bucket or a previous sweep before sending a
cancel-all or a kill.
"""

from __future__ import annotations

from core.commands import (
    CancelAll,
    Command,
)
from core.events import (
    CancelAllDone,
    OpenOrders,
)
from core.maker.base import MakerBase
from core.maker.lifecycle import (
    Quoting,
    QuotingEvent,
)
from core.maker.sweep import JOIN_WINDOW_S, SweepEvent
from core.orders import OrderState
from core.risk import kill_reason
from core.view import SweepPhase


class Emergency(MakerBase):
    """The maker's emergency room: sweeps, kill, halt and the risk rules that trigger them."""

    @property
    def quiescent_after_stop(self) -> bool:
        """True once a quit's sweep has been verified (or failed): the process may exit."""
        return self.life.stopping and self._sweep.phase in (SweepPhase.VERIFIED, SweepPhase.FAILED)

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
        sweep.to(SweepEvent.SENT, now)
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
        sweep.to(SweepEvent.DONE, now)
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
            sweep.to(SweepEvent.EMPTY, now)
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
            sweep.to(SweepEvent.RATE_LIMITED, now)
            sweep.retry_at = now + wait
            self._log(now, "sweep", f"{why} (rate limited); cancel-all again in {wait:.1f}s")
            return []
        if sweep.attempts >= self.params.sweep_attempts:
            sweep.to(SweepEvent.GAVE_UP, now)
            self._log(now, "sweep", f"cancel-all failed after {sweep.attempts} attempts: {why}")
            if self.life.starting or self.kill_switch.latched:
                self._halt(now, f"{sweep.purpose}: cancel-all failed ({why})")
            else:
                # D13, D25: what the sweep could not cancel may still rest at the venue, and
                # quoting on top of it piles orders up where we cannot take them down.  Quoting
                # is held until the operator resumes with p (D27, D28) or a later cancel-all
                # verifies the venue empty.  An operator's own pause stays theirs.
                reason = f"cancel-all not verified: {why} ({sweep.purpose})"
                if self.life.on(QuotingEvent.SWEEP_UNVERIFIED, reason) is Quoting.RUNNING:
                    self._log(now, "sweep", f"quoting paused: {reason}; p resumes")
            return []
        sweep.attempts += 1
        self._log(now, "sweep", f"{why}; cancel-all again (attempt {sweep.attempts})")
        return self._send_cancel_all(now, f"{sweep.purpose} (retry)")

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
        if self.life.starting and self._sweep.for_startup:
            self.life.started()
            self._log(now, "reconcile", "start-up sweep verified; quoting may begin")
            out.extend(self._risk(now))  # D30: the position found at start-up is judged now
        # The venue is verified empty, so a hold's cause is gone, whatever this sweep was
        # for.  Behind a kill, quoting resumes at the re-arm; a quit stays stopped.
        if self.life.on(QuotingEvent.SWEEP_VERIFIED) is Quoting.HELD:
            self._log(now, "sweep", "venue verified empty: the cancel-all pause ends")
        return out

    def _kill(self, reason: str, now: float) -> list[Command]:
        newly = self.kill_switch.trip(reason, now)
        self._log(now, "kill", f"KILL: {reason}")
        if not newly and self._sweep.active:
            return []
        return self._begin_sweep(f"kill: {reason}", now, urgent=True)

    def _liquidated(self, what: str, now: float) -> list[Command]:
        """D41: our own liquidation (or an auto-deleveraging) kills at once.  It stays on
        screen until the operator acknowledges it (the re-arm does, after saying so), and the
        run ends with exit 3 whatever follows."""
        self.counters["liquidations"] += 1
        self.liquidation = what
        self._log(now, "kill", f"LIQUIDATED: {what}")
        return self._kill(f"our account was liquidated: {what}", now)

    def _halt(self, now: float, reason: str) -> None:
        if self.life.halt(reason):
            self._log(now, "kill", f"HALTED: {reason}")

    def _risk(self, now: float) -> list[Command]:
        if self.kill_switch.latched or self.life.starting:
            return []
        position, costs = self.position, self.costs
        # Net PnL (D36), gross plus funding minus fees, over the product of their denominators.
        value_den = costs.value_den
        reason = kill_reason(
            self.params.risk,
            position=position.lots,
            pnl=position.pnl_num(self.book.mid) * value_den + costs.value_num * position.den,
            pnl_den=position.den * value_den,
            data_age=None if self._last_data is None else now - self._last_data,
            connected=self.connected,
            size_text=self.instrument.size_text,
        )
        return self._kill(reason, now) if reason is not None else []
