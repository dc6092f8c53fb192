"""Answer deadlines and status queries (D8, D24, D29, D31).

An order whose placement or cancel went unanswered past its deadline is not guessed about: its
outcome is asked for (``QueryOrder`` by cloid or oid), at most ``QUERY_RATE_PER_S`` with a burst
of ``QUERY_BURST`` (``core.pacing.TokenBucket``).  A query that failed, or whose answer
settled nothing (an unknown status, a row the transition table refuses), is asked again after
a paced retry and shown as a stall meanwhile (D31); unknown status strings are counted and
logged, never applied (D6).
"""

from __future__ import annotations

from core.commands import (
    Command,
    QueryOrder,
)
from core.events import (
    PlaceUnknown,
)
from core.maker.base import MakerBase
from core.orders import OrderState, TrackedOrder


class Inquiries(MakerBase):
    """The maker's inquiry room: deadlines for answers, and the queries that replace guessing."""

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
