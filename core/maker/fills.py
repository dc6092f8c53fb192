"""Counting fills once (D4) and believing the venue's position (D16, D33, D34).

A fill is counted when its trade id is new (``core.fills.FillLedger``); a repeat that
disagrees with the first sighting is flagged and reconciled, never counted again (D35).  Fills
reported inside a placement answer and later on the stream count once.  When the venue says
more traded than we counted (an update, a status answer, an open-orders row, or an unreadable
fill row) a fill gap opens and one ``FetchFills`` by time asks for what is missing
(``core.fillgaps``).  An adopted position moves only by fills made after the snapshot it came
from.
"""

from __future__ import annotations

from dataclasses import replace

from core.commands import (
    Command,
    FetchFills,
    TimeInForce,
)
from core.events import (
    Channel,
    Fill,
    FillsFetched,
    Funding,
    Liquidity,
    MalformedMessage,
    PositionSnapshot,
    Side,
)
from core.maker.base import MakerBase
from core.orders import Outcome, TrackedOrder
from core.pnl import MICRO
from core.view import (
    FillView,
)


class FillCounting(MakerBase):
    """The maker's fill room: counting, position adoption, fill gaps and unreadable rows."""

    def _on_fill(self, ev: Fill, now: float) -> bool:
        """Count a fill once (D4); True when it was news (not history, not a replay)."""
        if ev.snapshot and self.life.starting and self._startup_position is None:
            # History from before this session: the venue's start-up position already holds
            # it (D19).  Remember its trade ids so that a later replay is never counted (D4).
            self.tracker.ledger.first_sighting(ev.tid, now)
            self.counters["history_fills"] += 1
            return False
        outcome = self.tracker.on_fill(ev, now)
        if outcome.duplicate:
            self.counters["duplicate_fills"] += 1
            if ev.final and ev.tid in self.settlements.pending and not outcome.inconsistent:
                # D38: a pending trade told again as final (a fetch, a replay after a
                # reconnect): the venue's last word, when its own was lost on the stream.
                self._settle(ev.tid, True, "CONFIRMED (told again)", ev.venue_time, now)
            if outcome.inconsistent:
                # D35: the same trade told twice, differently: one of the two is wrong, and
                # our position may be; the venue's position and fills decide.
                self.counters["inconsistent_fills"] += 1
                self._log(
                    now,
                    "venue",
                    f"trade id {ev.tid} seen again with different content "
                    f"({ev.side.value} {ev.size} @ {ev.price}, fee {ev.fee}); not counted again; "
                    "reconciling",
                    ev.cloid,
                    ev.oid,
                )
                self.reconciler.trigger("a trade id repeated with different content")
            return False
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
        # D36: the fee belongs to the trade id, counted once with it -- also when the
        # position moved already (an immediate fill's answer, an adopted position).
        final = ev.final
        if not final:
            # D38: the venue's last word may have come first, whatever order it was told in.
            early = self.settlements.early(ev.tid)
            if early is not None:
                final = True
                if not early:
                    self._void_unheld(ev, flagged, now)
                    return True
        self.costs.charge(ev.fee, ev.fee_token)
        self.settlements.before_move(self.position, final)
        moved = 0
        if outcome.position_delta and self._count_fill(
            outcome.position_delta, outcome.value_delta, ev.venue_time
        ):
            moved = outcome.position_delta
            self._closed_in_order(ev, moved, now)
        self.settlements.moved(ev.tid, moved, outcome.value_delta if moved else 0)
        if not final:
            signed = ev.size if ev.side is Side.BID else -ev.size
            self.settlements.hold(ev.tid, signed, signed * ev.price, ev.fee, ev.fee_token, now)
            self.counters["provisional_fills"] += 1
            flagged = flagged or "pending"
        if ev.liquidity is Liquidity.TAKER:
            self.counters["taker_fills"] += 1
        if outcome.absorbed and outcome.order is not None:
            self._absorb_immediate_rows(outcome.order.cloid, outcome.absorbed)
        self.fills.append(
            FillView(
                now, ev.side, ev.price, ev.size, ev.tid, ev.liquidity, ev.cloid, False, flagged
            )
        )
        if flagged and flagged != "pending":
            self._log(now, "fill", f"{flagged} fill tid {ev.tid}", ev.cloid, ev.oid)
        self._after(outcome, now)
        order = outcome.order
        if order is not None and order.cloid in self.fill_gaps:
            self._close_filled_gaps()
        return True

    def _settle(
        self, tid: int, confirmed: bool, status: str, venue_time: float | None, now: float
    ) -> None:
        entry = self.settlements.settle(tid, confirmed, self.position)
        self._last_settled_at = now
        if confirmed:
            self._mark_fill_row(tid, "")
            return
        if entry is None:
            return  # settled before its fill came (``early``), or already settled: once
        self.position_moves.record(venue_time, -entry.lots, -entry.value)
        # D36 x D38: the venue wrote the closedPnl of fills matched while this trade pended on
        # an entry that held it; ours no longer does.  Until both books are flat before the same
        # fill, or the venue's position is adopted, no closedPnl is compared.
        self._closed_basis_differs = True
        self.costs.charge(-entry.fee, entry.fee_token)
        self.counters["failed_fills"] += 1
        self.rejections.on_position(self.position.lots)
        self._mark_fill_row(tid, "FAILED")
        self._log(
            now,
            "fill",
            f"trade {tid} {status or 'FAILED'} at the venue: reversed "
            f"{self.instrument.size_text(-entry.lots, signed=True)}; position "
            f"{self.instrument.size_text(self.position.lots, signed=True)}",
        )

    def _mark_fill_row(self, tid: int, flag: str) -> None:
        rows = self.fills
        for i in range(len(rows) - 1, -1, -1):
            row = rows[i]
            if row.tid == tid:
                kept = row.flagged.replace("pending", "").strip()
                rows[i] = replace(row, flagged=f"{kept} {flag}".strip())
                return

    def _void_unheld(self, ev: Fill, flagged: str, now: float) -> None:
        """D38: a trade the venue voided (FAILED) before we counted its fill: it never moved
        the position; it is shown voided and counted as a failure once."""
        self.settlements.failed += 1
        self.counters["failed_fills"] += 1
        self._closed_basis_differs = True  # as in ``_settle``: the venue's entry held it
        self.fills.append(
            FillView(
                now,
                ev.side,
                ev.price,
                ev.size,
                ev.tid,
                ev.liquidity,
                ev.cloid,
                False,
                "FAILED" if not flagged else f"{flagged} FAILED",
            )
        )
        self._log(
            now,
            "fill",
            f"trade {ev.tid} FAILED at the venue before its fill arrived: not counted",
            ev.cloid,
            ev.oid,
        )

    def _on_funding(self, ev: Funding, now: float) -> bool:
        """D36: a funding payment enters net PnL once (the venue replays recent payments after
        every subscribe); those it replays while we start are history, before this session.
        True when it was counted."""
        if ev.snapshot and self.life.starting:
            self.costs.remember_funding(ev.venue_time)
            return False
        if not self.costs.pay(ev.amount, ev.venue_time):
            return False
        self.counters["fundings"] += 1
        rate = f" (rate {ev.rate})" if ev.rate else ""
        self._log(
            now,
            "fill",
            f"funding {'received' if ev.amount >= 0 else 'paid'} "
            f"{abs(ev.amount) / MICRO:.6f} {self.costs.quote}{rate}",
        )
        return True

    def _count_fill(self, position_delta: int, value_delta: int, venue_time: float | None) -> bool:
        """Move the position by a fill the tracker counted once (D4) -- unless the venue made
        it no later than the venue position we adopted, which holds it already (D16: a fill
        still on the wire, or replayed after a reconnect, when that position was taken).
        True when the position moved (the PnL it realised is the position's ``closed_*``)."""
        if self.position_moves.included(venue_time):
            self.counters["fills_in_adopted_position"] += 1
            # If the venue's position did not hold it after all, the next look shows drift.
            self.reconciler.trigger("a fill already in the adopted position")
            return False
        self.position.apply(position_delta, value_delta)
        self.position_moves.record(venue_time, position_delta, value_delta)
        self.counters["fills"] += 1
        if venue_time is None:
            self.counters["untimed_fills"] += 1
        self.rejections.on_position(self.position.lots)
        return True

    def _closed_in_order(self, ev: Fill, delta: int, now: float) -> None:
        """D36: check the PnL this fill closed by our average cost against the venue's
        ``closedPnl`` -- when both books hold the same entry.  Average cost depends on what
        was counted and in which order: a fill we have not seen yet (lost, held back), one
        that arrives after a later one, or a move counted from an answer instead of its trade
        leaves our entry honestly different from the venue's until both are flat before the
        same fill or we adopt the venue's position (``_adopt_position``).  Until then nothing
        is compared, rather than a false alarm raised; the venue's ``startPosition`` says
        when its position before the fill is not ours."""
        lots_before = self.position.lots - delta
        if ev.start_position is not None and ev.start_position != lots_before:
            self._closed_basis_differs = True
        elif ev.start_position == 0 and lots_before == 0:
            self._closed_basis_differs = False  # both flat before it: nothing held differs
        key = (ev.venue_time, ev.tid) if ev.venue_time is not None else None
        last = self._closed_order
        if key is None or (last is not None and key < last):
            self._closed_basis_differs = True
        else:
            self._closed_order = key
        if delta != (ev.size if ev.side is Side.BID else -ev.size):
            self._closed_basis_differs = True
        elif ev.closed_pnl is not None and not self._closed_basis_differs:
            self._check_closed(ev, now)

    def _check_closed(self, ev: Fill, now: float) -> None:
        """The comparison itself, of the PnL the fill just realised (the position's
        ``closed_*``); a disagreement is counted, logged and shown (our books may hold a wrong
        entry)."""
        assert ev.closed_pnl is not None
        position = self.position
        disagreement = self.costs.check_closed(
            position.closed_num, ev.closed_pnl, position.closed_den
        )
        if disagreement:
            # Either a fill we have not seen moved the venue's entry (D33: the position may
            # agree while the entry does not) or our arithmetic is wrong: look again.
            self.counters["closed_pnl_mismatches"] += 1
            self._log(
                now,
                "venue",
                f"trade id {ev.tid}: {disagreement}; a fill may be missing, reconciling",
                ev.cloid,
                ev.oid,
            )
            self.reconciler.trigger("closedPnl disagrees with our books")

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

    def _absorb_immediate_rows(self, cloid: str, lots: int) -> None:
        """The trade behind an immediate fill has arrived with its trade id (D4): it was counted
        once, from the placement answer, so its row ("imm") gives way to the trade's own row
        instead of standing beside it -- two rows for one trade read as a fill counted twice."""
        rows = list(self.fills)
        for i in range(len(rows) - 1, -1, -1):
            if lots == 0:
                break
            row = rows[i]
            if not row.immediate or row.cloid != cloid:
                continue
            taken = min(lots, row.size)
            lots -= taken
            rows[i] = replace(row, size=row.size - taken)
        kept = [row for row in rows if not (row.immediate and row.size == 0)]
        self.fills.clear()
        self.fills.extend(kept)

    def _adopt_position(self, ev: PositionSnapshot, after: list[tuple[int, int]]) -> None:
        """Take the venue's position as of ``ev.venue_time`` (D16, D19), plus the moves we
        counted after that time, which it does not hold.  From now on a fill the venue made
        up to that time is in the position already and never moves it again (D4): adopting
        while fills were still on the wire used to count them twice (swarm seed 1004877)."""
        position = self.position
        position.reset(ev.position, ev.entry_value)
        self._closed_basis_differs = False  # the venue's entry, as the venue holds it (D36)
        position.replay(after)  # counted (and realised) once already
        self.position_moves.adopted(ev.venue_time)
        self.settlements.adopted(position)

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
