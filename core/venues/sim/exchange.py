"""SimExchange: the embedded exchange as a sans-I/O object, for one market and our account.

Time is passed in and never read: ``submit(batch, now)`` hands over our commands,
``advance(now)`` runs everything due up to ``now`` — synthetic flow, requests arriving after
their latency, scheduled faults — and returns the events due for delivery to our account by
then, in (deliver time, sequence) order.  ``next_due()`` tells a virtual-time loop where the next
thing happens, so it can jump there.  The wall-clock venue and the virtual loop both drive this
one object; with the same seed and the same inputs it says the same things, byte for byte.

Internal happenings run in time order (flow events, request arrivals, fault timers), and
deliveries are interleaved with them, so a disconnect drops exactly what was still in flight.

The fault plan's adversary (D29-D35) changes only what the client is told — a 429 instead of
an answer, a row it cannot read, a fill late, lost or repeated with other content, news without
a cloid, a status word it does not know, an answer twice — or has the venue do what a real
one does (cancel or reject a resting order on its own); the venue's own truth (orders, fills,
position) never contradicts what it answers later.
This module never sleeps, never reads a clock and never does I/O.

A binary (Polymarket-style) market adds the venue's own moves: trades settling after matching
(D38, ``settlement``), tick changes (D39), the dead-man switch (D40) and a post-only mode.  The
exchange speaks its market's venue's words (``dialect``): Hyperliquid's on a perp, Polymarket's
on a binary market.

Why one module of about 890 lines: ``SimExchange`` is the one object the maker, the swarm and
the twins drive; its methods are the exchange's surface (submit, advance, the adversary's
hooks, the binary market's scripted moves and the inspection the invariants read), and the
matching, flow, faults, settlement plan and delivery it composes are modules of their own.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Collection
from decimal import Decimal
from fractions import Fraction
from typing import assert_never

from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    FetchFills,
    Modify,
    Place,
    QueryOrder,
    SetLeverage,
    SyncState,
    TimeInForce,
)
from core.events import (
    CancelAllDone,
    CancelRejected,
    CancelUnknown,
    Channel,
    Connected,
    Disconnected,
    Event,
    Fill,
    FillsFetched,
    Funding,
    HeartbeatState,
    MalformedMessage,
    ModifyRejected,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceRejected,
    PlaceUnknown,
    QueryFailed,
    Side,
    SyncFailed,
    TickSizeChanged,
    VenueNotice,
    VenueOrder,
    VenueStatus,
)
from core.simconfig import BINARY_TICKS, FundingConfig, SimConfig
from core.units import Instrument, Rounding, grid_of, wire
from core.venues.sim.accounts import CONFIRMED, FAILED, MATCHED, AccountOrder
from core.venues.sim.book import Book
from core.venues.sim.delivery import DeliveryQueue
from core.venues.sim.dialect import Dialect, for_market
from core.venues.sim.engine import MICRO_USD, Market, MatchingEngine
from core.venues.sim.faults import (
    CONNECT,
    DISCONNECT,
    HEARTBEAT_EXPIRY,
    HEARTBEAT_LAPSE,
    HEARTBEAT_RESUME,
    POST_ONLY,
    STORM,
    TICK_CHANGE,
    Alteration,
    Fate,
    FaultInjector,
)
from core.venues.sim.flow import SyntheticFlow
from core.venues.sim.funding import FundingProcess, payment
from core.venues.sim.settlement import SettlementPlan

ACCOUNT = "maker"
TERMINAL = frozenset({CONFIRMED, FAILED})
_INF = math.inf


class SimExchange:
    """One simulated market with its synthetic participants, our account and a fault plan."""

    def __init__(self, config: SimConfig, *, start: float = 0.0, name: str = "sim") -> None:
        self.config = config
        self.name = name
        self.instrument: Instrument = config.instrument()
        start_ticks = self.instrument.price_to_ticks(config.start_price, Rounding.DOWN)
        self._engine = MatchingEngine()
        self.dialect: Dialect = for_market(config.market)
        self._market = Market(
            self.instrument,
            self.instrument.size_to_lots(config.max_position),
            start_ticks,
            self.dialect,
        )
        self._market.maker_fee = Fraction(config.maker_fee)
        self._market.taker_fee = Fraction(config.taker_fee)
        self._market.taker_fee_rate = Fraction(config.taker_fee_rate)
        self.binary = config.market == "binary"
        self._engine.add_market(self._market)
        self._account = self._engine.open_account(
            ACCOUNT,
            _micro(config.collateral),
            config.leverage,
            config.faults.replay_fills,
        )
        if config.start_position:
            self.set_position(self.instrument.signed_size_to_lots(config.start_position))
        self._faults = FaultInjector(config.faults, config.seed, start, self.dialect)
        self._flow = SyntheticFlow(
            self._engine, self._market, config.flow, config.seed, start, start_ticks
        )
        funding = config.funding if not self.binary else FundingConfig(enabled=False)
        self._funding = FundingProcess(funding, config.seed, start)
        self._settlement = SettlementPlan(config.settlement, config.seed)
        # D38, for the loopback twin: every trade status as it happens, (time, tid, status),
        # kept only when ``keep_trade_statuses`` is set (the twin drains it).
        self.keep_trade_statuses = False
        self._trade_statuses: list[tuple[float, int, str]] = []
        # The opening ladder reaches the client in the first snapshot, not as deltas.
        self._market.book.flush_into(self._engine.stream, start)
        self._engine.stream.clear()
        self._queue = DeliveryQueue()
        self._arrivals: list[tuple[float, int, Batch, Fate, float]] = []  # ..., sent at
        self._seq = 0
        # Oids whose news goes out without a cloid until their placement answer is delivered
        # (oid -> that time), and the same as a heap to forget them (D32).
        self._oid_only: dict[int, float] = {}
        self._oid_only_ends: list[tuple[float, int]] = []
        self._now = start
        self._due: float | None = None  # cached next_due(); None when it must be recomputed
        self.connected = False
        # D40: the venue's dead-man switch on a binary market (armed by the connection).
        self._heartbeats = self.binary and config.heartbeat.enabled
        self._expiry_at = _INF  # when a stream down since then lapses the heartbeats

    # ---- driving ----------------------------------------------------------------------

    def connect(self, now: float) -> None:
        """Open the user and market streams at ``now``: ``Connected``, a ``BookSnapshot`` and
        the recent fills (``snapshot=True``) follow."""
        self._check_time(now)
        self._faults.schedule(now, CONNECT)
        self._due = None

    def submit(self, batch: Batch, now: float) -> None:
        """Send a batch at ``now``; it reaches the exchange after the request latency."""
        self._check_time(now)
        self._due = None
        faults = self._faults
        fate = faults.fate()
        if fate.lost or fate.timed_out:
            reason = self.dialect.timed_out("request", faults.config.request_timeout_s)
            unknown = _unknown_answers(batch, reason)
            self._queue.direct(now + faults.config.request_timeout_s, unknown)
            if fate.lost:
                return
        self._seq += 1
        arrival = (now + faults.request_delay(), self._seq, batch, fate, now)
        heapq.heappush(self._arrivals, arrival)

    def next_due(self) -> float | None:
        """When something next happens (an internal event or a delivery), or None."""
        due = self._due
        if due is None:
            t_arrival = self._arrivals[0][0] if self._arrivals else _INF
            due = min(self._queue.next_time, self._flow.next_time, t_arrival)
            due = min(due, self._faults.next_timer, self._funding.next_time)
            due = min(due, self._settlement.next_time)
            self._due = due
        return None if due == _INF else due

    def advance(self, now: float) -> list[Event]:
        """Run everything up to ``now``; return what our account receives by then."""
        self._check_time(now)
        out: list[Event] = []
        queue = self._queue
        flow = self._flow
        faults = self._faults
        arrivals = self._arrivals
        funding = self._funding
        settlement = self._settlement
        while True:
            t_internal = t_flow = flow.next_time
            t_arrival = arrivals[0][0] if arrivals else _INF
            if t_arrival < t_internal:
                t_internal = t_arrival
            t_fault = faults.next_timer
            if t_fault < t_internal:
                t_internal = t_fault
            t_funding = funding.next_time
            if t_funding < t_internal:
                t_internal = t_funding
            t_settle = settlement.next_time
            if t_settle < t_internal:
                t_internal = t_settle
            # Deliveries due first, all of them: delivering changes none of the times above.
            t_delivery = queue.next_time
            while t_delivery <= t_internal and t_delivery <= now:
                queue.pop_into(out)
                t_delivery = queue.next_time
            if t_delivery <= t_internal:
                self._due = t_delivery
                break
            if t_internal > now:
                self._due = t_internal
                break
            if t_fault == t_internal:
                self._on_timer(*faults.pop_timer())
            elif t_funding == t_internal:
                self._pay_funding(t_funding)
            elif t_settle == t_internal:
                self._settle(*settlement.pop())
            elif t_arrival == t_internal:
                _, _, batch, fate, sent_at = heapq.heappop(arrivals)
                self._execute(batch, fate, t_arrival, sent_at)
            else:
                flow.step()
                self._margin_call(t_flow)
                self._publish(t_flow)
        self._now = now
        return out

    def _check_time(self, now: float) -> None:
        if now < self._now:
            raise ValueError(f"time went backwards: {now!r} after {self._now!r}")

    # ---- executing our requests -------------------------------------------------------

    def _execute(self, batch: Batch, fate: Fate, t: float, sent_at: float) -> None:
        engine = self._engine
        account = self._account
        market = self._market
        faults = self._faults
        words = self.dialect
        classify = words.classify
        batch_id = batch.batch_id
        too_many = words.rate_limited(market.instrument)
        first_oid = engine.next_oid
        # Arrived after its expiresAfter: its placements are refused, not executed (3.9).
        expired = batch.expires_in is not None and t > sent_at + batch.expires_in
        for cmd in batch.commands:
            match cmd:
                case Place() if expired:
                    reason = words.expired()
                    engine.answers.append(
                        PlaceRejected(cmd.cloid, reason, classify(reason), batch_id, t)
                    )
                case Modify() if expired:
                    reason = words.expired()
                    engine.answers.append(
                        ModifyRejected(
                            cmd.cloid, cmd.new_cloid, reason, classify(reason), False, batch_id
                        )
                    )
                case Place() if cmd.tif is not TimeInForce.ALO and faults.post_only_refused(t):
                    reason = words.post_only_mode()
                    engine.answers.append(
                        PlaceRejected(cmd.cloid, reason, classify(reason), batch_id, t)
                    )
                case Modify() if cmd.tif is not TimeInForce.ALO and faults.post_only_refused(t):
                    reason = words.post_only_mode()
                    engine.answers.append(
                        ModifyRejected(
                            cmd.cloid, cmd.new_cloid, reason, classify(reason), False, batch_id
                        )
                    )
                case Place():
                    if faults.rate_limited(t):
                        engine.answers.append(
                            PlaceRejected(cmd.cloid, too_many, classify(too_many), batch_id, t)
                        )
                    elif faults.mixed_reject(batch):
                        refusal = words.no_funds(market.instrument)
                        engine.reject(account, market, cmd, refusal, t, batch_id)
                    else:
                        engine.place(account, market, cmd, t, batch_id)
                case Modify():
                    if faults.rate_limited(t):
                        engine.answers.append(
                            ModifyRejected(
                                cmd.cloid,
                                cmd.new_cloid,
                                too_many,
                                classify(too_many),
                                False,
                                batch_id,
                            )
                        )
                    else:
                        engine.modify(account, market, cmd, t, batch_id)
                case Cancel():
                    if faults.cancel_rate_limited(t):
                        engine.answers.append(
                            CancelRejected(
                                cmd.cloid, cmd.oid, too_many, False, classify(too_many), batch_id
                            )
                        )
                    else:
                        engine.cancel(account, market, cmd, t, batch_id)
                case CancelAll():
                    if faults.sync_rate_limited(t):  # could not even list what to cancel
                        engine.answers.append(
                            CancelAllDone(0, 0, batch_id, error=too_many, rate_limited=True)
                        )
                    else:
                        engine.cancel_all(
                            account, market, t, batch_id, lambda: faults.cancel_rate_limited(t)
                        )
                case SetLeverage():
                    engine.set_leverage(account, market, cmd.leverage)
                case QueryOrder():
                    if faults.query_rate_limited(t):
                        engine.answers.append(
                            QueryFailed(cmd.cloid, cmd.oid, too_many, rate_limited=True)
                        )
                    else:
                        engine.answers.append(self._status_answer(cmd.oid, cmd.cloid))
                case SyncState():
                    if faults.sync_rate_limited(t):
                        engine.answers.append(SyncFailed(too_many, rate_limited=True))
                    else:
                        as_of = t - faults.snapshot_lag()
                        listing, position = engine.sync(account, market, t, as_of)
                        engine.answers.append(self._spoil_listing(listing))
                        engine.answers.append(position)
                case FetchFills():
                    if faults.sync_rate_limited(t):
                        engine.answers.append(FillsFetched(0, error=too_many, rate_limited=True))
                    else:
                        fills = account.fills_since(t - cmd.lookback_s, t)
                        engine.answers.extend(fills)
                        count = sum(1 for event in fills if type(event) is Fill)
                        engine.answers.append(FillsFetched(count))
                case _:
                    assert_never(cmd)
        answers = engine.answers
        engine.answers = []
        if answers and not fate.timed_out:
            at = t + faults.answer_delay() + fate.extra_delay
            if faults.config.oid_only_news_rate and _places(batch):
                held = faults.oid_only_news()
                if held is not None:
                    at += held
                    self._name_by_oid_only(batch, range(first_oid, engine.next_oid), at)
            self._queue.direct(at, answers)
            again = faults.duplicate_ack()
            if again is not None:
                self._queue.direct(at + again, list(answers))
        self._publish(t)

    def _status_answer(self, oid: int | None, cloid: str | None) -> OrderStatusReport:
        """What a status query answers: the venue's truth (D24), unless the adversary words
        the status as one the venue might add tomorrow (D6, D35)."""
        report = self._engine.status(self._account, self._market, oid, cloid)
        raw = self._faults.unknown_status()
        if raw is None:
            return report
        return dataclasses.replace(report, status=VenueStatus.UNKNOWN, raw_status=raw)

    def _spoil_listing(self, listing: OpenOrders) -> OpenOrders:
        """An open-orders answer with one row the client cannot read (D34): the row is
        missing and the answer says so, so it never proves the venue empty (D25)."""
        if not listing.orders:
            return listing
        bad = self._faults.malformed_row(len(listing.orders))
        if bad is None:
            return listing
        rows = listing.orders[:bad] + listing.orders[bad + 1 :]
        return OpenOrders(rows, listing.venue_time, bad_rows=listing.bad_rows + 1)

    def _name_by_oid_only(self, batch: Batch, made: range, until: float) -> None:
        """Until ``until`` (its answer's delivery), the stream names the orders this batch
        made or modified by oid only (D32); the venue's own records keep their cloids."""
        oids = [*made, *(cmd.oid for cmd in batch.commands if isinstance(cmd, Modify))]
        for oid in oids:
            if self._oid_only.get(oid, -_INF) < until:
                self._oid_only[oid] = until
                heapq.heappush(self._oid_only_ends, (until, oid))

    def _publish(self, t: float) -> None:
        """Send what the engine said on the websocket as one message (dropped while down);
        the trades it matched for us on a binary market start settling (D38)."""
        if self._engine.matched:
            self._matched(t)
        stream = self._engine.stream
        self._market.book.flush_into(stream, t)
        if not stream:
            return
        self._engine.stream = []
        faults = self._faults
        if self.connected:
            at = t + faults.stream_delay()
            if faults.shapes_stream or self._oid_only:
                stream = self._shape(t, stream)
            if stream:
                self._queue.stream(at, stream)
        else:
            faults.counts["stream_events_dropped"] += len(stream)

    def _shape(self, t: float, events: list[Event]) -> list[Event]:
        """The adversary's hand on one stream message published at ``t`` (D32-D35): news of
        orders whose placement answer is held back loses its cloid, a status may be a word
        the client does not know, a fill may be lost, sent later in a message of its own, or
        repeated later with altered content, and one of several rows of ours may be
        unreadable.  Only what the client is told changes, never the venue's records."""
        faults = self._faults
        oid_only = self._oid_only
        if oid_only:
            self._forget_oid_only(t)
        shaped: list[Event] = []
        rows: list[int] = []  # where our rows are in ``shaped``
        repeats: list[tuple[int, Fill, Alteration]] = []  # (row, original, how it differs)
        for event in events:
            if type(event) is OrderUpdate:
                if event.oid in oid_only and event.cloid is not None:
                    event = dataclasses.replace(event, cloid=None)
                    faults.counts["oid_only_news"] += 1
                raw = faults.unknown_status()
                if raw is not None:
                    event = dataclasses.replace(
                        event, status=VenueStatus.UNKNOWN, raw_status=raw, rclass=None
                    )
                rows.append(len(shaped))
            elif type(event) is Fill:
                if event.oid in oid_only and event.cloid is not None:
                    event = dataclasses.replace(event, cloid=None)
                    faults.counts["oid_only_news"] += 1
                if not event.snapshot:
                    lost, delay = faults.fill_fate()
                    alteration = faults.altered_duplicate(event.size)
                    if lost:
                        continue
                    if delay is not None:
                        self._queue.hold(t + delay, [event])
                        if alteration is not None:
                            self._repeat(t + delay, event, alteration)
                        continue
                    if alteration is not None:
                        repeats.append((len(shaped), event, alteration))
                rows.append(len(shaped))
            shaped.append(event)
        if len(rows) >= 2:
            bad = faults.malformed_row(len(rows))
            if bad is not None:
                row = rows[bad]
                channel = Channel.FILLS if type(shaped[row]) is Fill else Channel.ORDER_UPDATES
                text = f"malformed row: {channel.value} row {bad + 1} of {len(rows)} unreadable"
                shaped[row] = MalformedMessage(channel, 1, len(rows) - 1, text)
                repeats = [r for r in repeats if r[0] != row]  # never heard: nothing to repeat
        for _, fill, alteration in repeats:
            self._repeat(t, fill, alteration)
        return shaped

    def _repeat(self, sent: float, fill: Fill, alteration: Alteration) -> None:
        """Send ``fill``'s trade id again after the original went out at ``sent``, with other
        content (D35); the venue's truth stays the original."""
        step = alteration.steps * self.instrument.price_step(fill.price)
        altered = dataclasses.replace(
            fill, size=fill.size + alteration.lots, price=fill.price + step
        )
        self._queue.hold(sent + alteration.delay, [altered])
        self._faults.counts["altered_duplicates"] += 1

    def _forget_oid_only(self, t: float) -> None:
        """Oids whose placement answer has been delivered by ``t`` are named in full again."""
        ends = self._oid_only_ends
        while ends and ends[0][0] <= t:
            until, oid = heapq.heappop(ends)
            if self._oid_only.get(oid) == until:
                del self._oid_only[oid]

    def _margin_call(self, t: float) -> None:
        """D41: our account is liquidated the moment its equity falls below maintenance (the
        mark moves with every step of the flow; funding and fills move the equity).  A binary
        market has no margin: outcome shares are paid for in full."""
        if not self.binary and self._engine.liquidate_if_due(self._account, self._market, t):
            self._faults.counts["liquidations"] += 1

    def _pay_funding(self, t: float) -> None:
        """The hourly funding (D36): our account pays or receives on its position at the
        mark; the payment reaches us on the stream and is replayed after a reconnect."""
        rate = self._funding.step()
        account = self._account
        market = self._market
        ex = account.exposure(market.symbol)
        if not ex.position:
            return
        amount = payment(ex.position, market.mark, market.micro, rate)
        self._faults.counts["funding_payments"] += 1
        account.funding += amount
        paid = Funding(amount, t, f"{rate:.7f}")
        account.recent_fundings.append(paid)
        self._engine.stream.append(paid)
        self._margin_call(t)
        self._publish(t)

    # ---- settlement (D38, binary markets) ------------------------------------------------

    def _matched(self, t: float) -> None:
        """The trades the engine just matched for us start their way to settlement."""
        engine = self._engine
        for tid in engine.matched:
            self._settlement.matched(tid, t)
            if self.keep_trade_statuses:
                self._trade_statuses.append((t, tid, MATCHED))
        engine.matched.clear()
        self._due = None

    def _settle(self, t: float, tid: int, status: str) -> None:
        """One trade's next status: MINED or RETRYING only change what the venue says when
        asked; CONFIRMED or FAILED settle it (``MatchingEngine.settle``) and the stream says
        so."""
        account = self._account
        if self.keep_trade_statuses:
            self._trade_statuses.append((t, tid, status))
        if status in TERMINAL:
            if status == FAILED:
                self._faults.counts["trades_failed"] += 1
            settled = self._engine.settle(account, self._market, tid, status, t)
            self._publish(t)
            again = self._settlement.repeat()
            if settled is not None and again is not None and self.connected:
                self._queue.hold(t + again, [settled])  # the same word again, later
                self._faults.counts["settlements_repeated"] += 1
        elif tid in account.pending:
            account.statuses[tid] = status

    def script_settlement(self, path: tuple[str, ...], count: int = 1) -> None:
        """D38, scripted: the next ``count`` trades of ours follow ``path`` after MATCHED
        (e.g. ``("RETRYING", "FAILED")``), evenly over ``settlement.delay_s``; see
        ``SettlementPlan.script``.  A FAILED one is reversed as a drawn one is."""
        self._settlement.script(path, count)

    def drain_trade_statuses(self) -> list[tuple[float, int, str]]:
        """Every trade status since the last call, (venue time, tid, status), oldest first:
        MATCHED, MINED, RETRYING, CONFIRMED, FAILED (the twin's ``trade`` messages); empty
        unless ``keep_trade_statuses`` is set."""
        out, self._trade_statuses = self._trade_statuses, []
        return out

    def trade_status(self, tid: int) -> str | None:
        """A trade's status now (D38: None for a perp's trades, always final, and for trades
        long forgotten)."""
        return self._account.statuses.get(tid)

    # ---- connection faults ------------------------------------------------------------

    def _on_timer(self, t: float, kind: str) -> None:
        faults = self._faults
        if kind == CONNECT:
            if self.connected:
                return
            self.connected = True
            account = self._account
            if account.statuses:
                replay = [e for f in account.recent_fills for e in account.known(f, t)]
            else:
                replay = [dataclasses.replace(f, snapshot=True) for f in account.recent_fills]
            faults.counts["fills_replayed"] += len(account.recent_fills)
            fundings = [
                dataclasses.replace(f, snapshot=True) for f in self._account.recent_fundings
            ]
            message: list[Event] = [
                Connected(self.name),
                self._market.book.snapshot(t),
                *replay,
                *fundings,
            ]
            if self._heartbeats:
                self._expiry_at = _INF
                message.insert(1, HeartbeatState(True, False, "heartbeats accepted", t))
            at = t + faults.stream_delay()
            if faults.shapes_stream or self._oid_only:
                message = self._shape(t, message)
            self._queue.stream(at, message)
        elif kind == DISCONNECT:
            if not self.connected:
                return
            self.connected = False
            faults.counts["disconnect"] += 1
            faults.counts["stream_events_dropped"] += self._queue.drop_stream()
            self._queue.direct(t, [Disconnected("simulated connection loss")])
            faults.schedule(t + faults.outage(), CONNECT)
            if self._heartbeats:  # D40: no heartbeat gets through while the line is down
                self._expiry_at = t + self.config.heartbeat.window_s
                faults.schedule(self._expiry_at, HEARTBEAT_EXPIRY)
        elif kind == STORM:
            faults.start_storm(t)
        elif kind == TICK_CHANGE:
            self._random_tick_change(t)
        elif kind.startswith(TICK_CHANGE):
            self._change_tick(t, int(kind.rpartition(":")[2]))
        elif kind == HEARTBEAT_LAPSE:
            if self._heartbeats:
                self._lapse(t, "heartbeats stopped (fault plan): the venue cancelled every order")
                faults.schedule(t + faults.config.heartbeat_lapse_s, HEARTBEAT_RESUME)
        elif kind == HEARTBEAT_RESUME:
            self._queue.direct(t, [HeartbeatState(True, False, "heartbeats accepted again", t)])
        elif kind == HEARTBEAT_EXPIRY:
            if not self.connected and t == self._expiry_at:
                window = self.config.heartbeat.window_s
                self._lapse(t, f"no heartbeat for {window:g}s (connection down)")
        elif kind == POST_ONLY:
            faults.start_post_only_mode(t)
        else:
            self._venue_close(t, kind)

    # ---- the venue's own moves on a binary market: tick changes (D39), heartbeats (D40) ----

    def change_tick(self, grid: int, now: float) -> None:
        """D39, scripted: the market moves to a tick of ``grid`` ticks of the unit at ``now``
        (at the exchange's time or later: it happens in the ``advance`` that reaches it, in
        order with everything else; the quiet phase of ``end_faults`` drops one not yet due).
        See ``_change_tick``."""
        self._check_time(now)
        if not self.binary:
            raise ValueError("change_tick: only a binary market's tick can change")
        self.instrument.with_grid(grid)  # refuses a grid that does not divide the unit
        self._faults.schedule(now, f"{TICK_CHANGE}:{grid}")
        self._due = None

    def _random_tick_change(self, t: float) -> None:
        """The fault plan's tick change: another of the venue's ticks that fits fair."""
        inst = self.instrument
        grids = tuple(grid_of(tick, inst.tick_size) for tick in BINARY_TICKS)
        one = inst.max_ticks + inst.grid
        grid = self._faults.new_grid(inst.grid, grids, self._flow.fair, one)
        if grid is not None:
            self._change_tick(t, grid)

    def _change_tick(self, t: float, grid: int) -> None:
        """The grid moves at ``t``: our account hears ``TickSizeChanged`` first, the engine
        refuses our placements off the new grid from now on (as any bad price: "order ... is
        invalid. Price (...) breaks minimum tick size rule: <the new tick>"), and the other
        makers re-quote on it.  Our resting
        orders stay where they are, off the new grid or not: what the real venue does to them
        is unconfirmed (reference section 1), and keeping them is the harder case for a
        maker (it must re-grid them itself)."""
        if grid == self.instrument.grid:
            return
        inst = self.instrument.with_grid(grid)
        self.instrument = inst
        self._market.instrument = inst
        self._faults.counts["tick_changes"] += 1
        self._engine.stream.append(TickSizeChanged(grid, wire(inst.venue_tick), t))
        self._flow.regrid(t)
        self._publish(t)

    def _lapse(self, t: float, text: str) -> None:
        """D40: our heartbeats lapsed: the connector knows at once (a direct message, even
        with the stream down) -- ``HeartbeatState(armed, lapsed)`` -- and the venue cancels
        every order of ours, as its dead-man switch does (``Dialect.heartbeat_canceled``),
        told on the stream after it (lost if the stream is down)."""
        self._faults.counts["heartbeat_lapses"] += 1
        self._queue.direct(t, [HeartbeatState(True, True, text, t)])
        account = self._account
        market = self._market
        for order in sorted(account.exposure(market.symbol).open.values(), key=_oid):
            self._engine.venue_close(account, market, order, self.dialect.heartbeat_canceled, t)
        self._publish(t)

    def _venue_close(self, t: float, kind: str) -> None:
        """A venue-cancel or resting-reject timer: the venue takes one of our resting
        orders down on its own (D31), if there is one."""
        resting = sorted(self._account.exposure(self.instrument.symbol).open.values(), key=_oid)
        if not resting:
            return
        close = self._faults.venue_close(kind, len(resting))
        order = resting[close.index]
        self._engine.venue_close(
            self._account, self._market, order, close.raw_status, t, non_user=close.non_user
        )
        self._publish(t)

    # ---- inspection (tests, invariants, the view) ---------------------------------------

    @property
    def now(self) -> float:
        return self._now

    @property
    def book(self) -> Book:
        return self._market.book

    @property
    def fair_price(self) -> float:
        """The synthetic fair value, in ticks (a float: it is not a price on the book)."""
        return self._flow.fair

    @property
    def ladder(self) -> dict[Side, tuple[int, ...]]:
        """The other makers' quoted prices per side, best first."""
        return self._flow.ladder

    @property
    def position(self) -> int:
        return self._account.exposure(self.instrument.symbol).position

    @property
    def pending_position(self) -> int:
        """D38: the part of ``position`` (signed lots) in trades not settled yet."""
        return sum(f.side.sign * f.size for f in self._account.pending.values())

    @property
    def confirmed_position(self) -> int:
        """D38: the position in settled trades only (``position`` less the pending part)."""
        return self.position - self.pending_position

    def trade(self, tid: int) -> Fill | None:
        """Our trade ``tid`` as the venue made it (None when long forgotten)."""
        for fill in reversed(self._account.fill_history):
            if fill.tid <= tid:
                return fill if fill.tid == tid else None
        return None

    @property
    def post_only_until(self) -> float:
        """When the venue's post-only mode under way ends (in the past when none is)."""
        return self._faults.post_only_until

    def pending_trades(self) -> tuple[Fill, ...]:
        """D38: our trades matched and not settled yet, oldest first."""
        return tuple(self._account.pending.values())

    @property
    def mark(self) -> int:
        """The mark price in ticks (the flow's fair value)."""
        return self._market.mark

    @property
    def leverage(self) -> int:
        return self._account.exposure(self.instrument.symbol).leverage

    @property
    def equity(self) -> Decimal:
        """Collateral plus PnL at the mark, in USD."""
        return self._engine.equity(self._account) * MICRO_USD

    def account_money(self) -> tuple[int, int]:
        """The fees charged and the funding paid to our account, in millionths (D36)."""
        return self._account.fees, self._account.funding

    def open_orders(self) -> tuple[VenueOrder, ...]:
        return self._account.open_orders_at(self.instrument.symbol, self._now)

    def resting_orders(self) -> Collection[AccountOrder]:
        """Every order of ours resting right now (read its ``oid`` and ``cloid``; never change
        it): ``open_orders`` without building the snapshot, a live view of the account's own
        records, for checks that run after every event (the swarm's invariants)."""
        return self._account.exposure(self.instrument.symbol).open.values()

    def order_status(self, oid: int | None, cloid: str | None) -> OrderStatusReport:
        """What a ``QueryOrder`` would answer right now, without latency or faults."""
        return self._engine.status(self._account, self._market, oid, cloid)

    @property
    def fault_counts(self) -> dict[str, int]:
        return dict(self._faults.counts)

    @property
    def storm_until(self) -> float:
        """When the rate-limit storm under way ends (in the past when none is)."""
        return self._faults.storm_until

    def fills_after(self, tid: int) -> list[Fill]:
        """Our fills with a trade id above ``tid`` (ids only grow), oldest first: what the
        venue really traded for us, whatever the client was told."""
        found: list[Fill] = []
        for fill in reversed(self._account.fill_history):
            if fill.tid <= tid:
                break
            found.append(fill)
        found.reverse()
        return found

    def end_faults(self, now: float) -> None:
        """Stop injecting faults from ``now`` on (see ``FaultInjector.quiesce``); news of an
        order whose answer is still held back names its cloid again (D32); trades matched from
        now on are all confirmed (``SettlementPlan.quiesce``)."""
        self._check_time(now)
        self._faults.quiesce(now)
        self._settlement.quiesce()
        self._oid_only.clear()
        self._oid_only_ends.clear()
        self._due = None

    def calm_market(self, now: float) -> None:
        """No more takers and no price moves from ``now`` on (``SyntheticFlow.calm``): orders
        still rest, nothing trades with them, and the messages in flight drain."""
        self._check_time(now)
        self._flow.calm()
        self._due = None

    # ---- test hooks: they act at the exchange's current time, the last ``advance`` ------

    def inject_account_order(
        self, side: Side, price: int, size: int, *, cloid: str | None = None
    ) -> int:
        """Rest an order for our account that the maker never heard of (S11); returns its oid."""
        oid = self._engine.inject(self._account, self._market, side, price, size, cloid, self._now)
        self._publish(self._now)
        self._due = None
        return oid

    def inject_taker(self, side: Side, lots: int, limit: int | None = None) -> None:
        """A synthetic taker of ``side`` sweeps ``lots`` now (up to ``limit``, if given): a
        deterministic fill for tests and scripted scenarios."""
        self._flow.sweep(side, lots, limit, self._now)
        self._publish(self._now)
        self._due = None

    def set_position(self, lots: int, entry_price: int | None = None) -> None:
        """Force the account's position (entry at ``entry_price`` ticks, default the mark)."""
        ex = self._account.exposure(self.instrument.symbol)
        ex.position = lots
        ex.entry_value = Fraction(
            abs(lots) * (self._market.mark if entry_price is None else entry_price)
        )

    def set_collateral(self, usd: Decimal) -> None:
        self._account.collateral = _micro(usd)


def _oid(order: AccountOrder) -> int:
    return order.oid


def _places(batch: Batch) -> bool:
    """Whether a batch makes new orders (placements or modifies), whose acks bind oids."""
    return any(isinstance(cmd, Place | Modify) for cmd in batch.commands)


def _micro(usd: Decimal) -> int:
    return int((usd / MICRO_USD).to_integral_value())


def _unknown_answers(batch: Batch, reason: str) -> list[Event]:
    """What the client concludes when a request times out: nothing is known (D8, D24)."""
    answers: list[Event] = []
    batch_id = batch.batch_id
    for cmd in batch.commands:
        match cmd:
            case Place():
                answers.append(PlaceUnknown(cmd.cloid, reason, batch_id))
            case Cancel():
                answers.append(CancelUnknown(cmd.cloid, cmd.oid, reason, batch_id))
            case Modify():
                answers.append(CancelUnknown(cmd.cloid, cmd.oid, reason, batch_id))
                answers.append(PlaceUnknown(cmd.new_cloid, reason, batch_id))
            case QueryOrder():
                answers.append(QueryFailed(cmd.cloid, cmd.oid, reason))
            case SyncState():
                answers.append(SyncFailed(reason))
            case FetchFills():
                answers.append(FillsFetched(0, error=reason))
            case CancelAll() | SetLeverage():
                answers.append(VenueNotice("timeout", f"{type(cmd).__name__}: {reason}"))
            case _:
                assert_never(cmd)
    return answers
