"""Every fault of the simulated exchange's plan is observable, counted, and seeded.

Most tests use a still market with no latency and switch one fault on, so that what the fault
does is the only thing that happens.  Times are virtual; nothing sleeps.
"""

from __future__ import annotations

import statistics

from core.clock import VirtualClock
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    Modify,
    Place,
    QueryOrder,
    SetLeverage,
    SyncState,
    TimeInForce,
)
from core.events import (
    BookDelta,
    BookSnapshot,
    CancelAck,
    CancelUnknown,
    Connected,
    Disconnected,
    Fill,
    ModifyRejected,
    OpenOrders,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PlaceUnknown,
    QueryFailed,
    RejectionClass,
    Side,
    SyncFailed,
    Trade,
    VenueNotice,
    VenueStatus,
)
from core.harness.agents import TouchQuoter
from core.harness.loop import SimLoop
from core.simconfig import Delay, FaultConfig, SimConfig
from core.venues.sim.dialect import HYPERLIQUID
from core.venues.sim.exchange import SimExchange
from core.venues.sim.faults import FAULT_KINDS, FaultInjector
from tests.sim_harness import Idle, exchange_with, only, send

BID, ASK = Side.BID, Side.ASK
ALO, GTC = TimeInForce.ALO, TimeInForce.GTC
BEST_ASK = 300_030


def test_a_late_answer_lets_the_fill_arrive_before_the_ack_D2_D10() -> None:
    exchange = exchange_with(late_answer_rate=1.0, late_answer_delay=Delay(median_s=0.5, p99_s=0.5))
    exchange.submit(Batch(1, (Place("c1", BID, BEST_ASK, 100, GTC),)), 1.0)
    early = exchange.advance(1.1)
    assert [f.cloid for f in only(early, Fill)] == ["c1"]
    assert [u.status for u in only(early, OrderUpdate)] == [VenueStatus.FILLED]
    assert only(early, PlaceAck) == []
    late = exchange.advance(1.6)
    assert [(a.cloid, a.filled) for a in only(late, PlaceAck)] == [("c1", 100)]
    assert exchange.fault_counts["late_answer"] == 1


def test_a_stale_snapshot_misses_fresh_orders_and_shows_cancelled_ones_D9() -> None:
    exchange = exchange_with(stale_snapshot_rate=1.0, stale_snapshot_lag_s=1.5)
    ack = only(send(exchange, Place("c1", BID, 299_980, 100, ALO), t=1.0), PlaceAck)[0]
    first = only(send(exchange, SyncState("check"), t=2.0), OpenOrders)[0]
    assert first.orders == () and first.venue_time == 0.5  # taken before c1 existed
    send(exchange, Cancel("c1", None), t=2.5)
    second = only(send(exchange, SyncState("check"), t=3.0), OpenOrders)[0]
    assert [o.oid for o in second.orders] == [ack.oid]  # c1 is gone, the snapshot is not
    assert exchange.fault_counts["stale_snapshot"] == 2


def test_disconnect_drops_the_stream_then_reconnects_with_snapshot_and_fill_replay_D4_S3() -> None:
    exchange = exchange_with(disconnects_at=(5.0,), outage=Delay(median_s=1.0, p99_s=1.0))
    send(exchange, Place("c1", BID, 299_980, 1_000, ALO), t=1.0)
    exchange.inject_taker(ASK, 1_000)
    before = only(exchange.advance(1.0), Fill)
    send(exchange, Place("c2", BID, 299_980, 500, ALO), t=2.0)
    assert exchange.advance(5.0) == [Disconnected("simulated connection loss")]
    exchange.advance(5.5)
    exchange.inject_taker(ASK, 500)  # fills c2 while the stream is down
    assert exchange.advance(5.9) == []
    after = exchange.advance(6.0)
    assert isinstance(after[0], Connected) and isinstance(after[1], BookSnapshot)
    replay = only(after, Fill)
    assert all(f.snapshot for f in replay)
    assert [(f.cloid, f.size) for f in replay] == [("c1", 1_000), ("c2", 500)]
    assert replay[0].tid == before[0].tid  # a duplicate the maker must ignore (D4)
    counts = exchange.fault_counts
    assert counts["disconnect"] == 1 and counts["fills_replayed"] == 2
    assert counts["stream_events_dropped"] >= 4  # trade, fill, order update, book delta


def test_a_disconnect_loses_stream_messages_in_flight_but_not_request_answers() -> None:
    exchange = exchange_with(
        disconnects_at=(5.0,),
        outage=Delay(median_s=1.0, p99_s=1.0),
        stream_latency=Delay(median_s=1.0, p99_s=1.0),
        answer_latency=Delay(median_s=1.0, p99_s=1.0),
    )
    assert [type(e) for e in exchange.advance(4.5)] == [Connected, BookSnapshot]
    exchange.submit(Batch(1, (Place("c1", BID, 299_980, 100, ALO),)), 4.5)
    events = exchange.advance(5.6)
    assert [type(e) for e in events] == [Disconnected, PlaceAck]
    assert exchange.fault_counts["stream_events_dropped"] == 2  # OrderUpdate + BookDelta


def test_a_request_that_times_out_may_still_have_executed_D8() -> None:
    exchange = exchange_with(timeout_rate=1.0, request_timeout_s=5.0)
    exchange.submit(Batch(3, (Place("c1", BID, 299_980, 100, ALO),)), 1.0)
    early = exchange.advance(1.0)
    assert only(early, PlaceAck) == [] and only(early, OrderUpdate)[0].status is VenueStatus.OPEN
    late = exchange.advance(6.0)
    unknown = only(late, PlaceUnknown)
    assert [(u.cloid, u.batch_id) for u in unknown] == [("c1", 3)]
    assert "timed out" in unknown[0].reason
    assert exchange.order_status(None, "c1").status is VenueStatus.OPEN
    assert exchange.fault_counts["timeout"] == 1


def test_a_lost_request_answers_unknown_and_never_executes_D8_S10() -> None:
    exchange = exchange_with(lost_request_rate=1.0, request_timeout_s=5.0)
    exchange.submit(Batch(3, (Place("c1", BID, 299_980, 100, ALO),)), 1.0)
    assert exchange.advance(5.9) == []
    assert [u.cloid for u in only(exchange.advance(6.0), PlaceUnknown)] == ["c1"]
    assert exchange.order_status(None, "c1").status is VenueStatus.NOT_FOUND
    assert exchange.open_orders() == ()
    assert exchange.fault_counts["lost_request"] == 1


def test_every_command_has_an_unknown_answer_when_its_request_is_lost_D24() -> None:
    exchange = exchange_with(lost_request_rate=1.0, request_timeout_s=2.0)
    commands: tuple[Command, ...] = (
        Cancel("c1", 11),
        Modify("c2", 12, "c3", BID, 299_980, 100),
        QueryOrder("c4", None),
        SyncState("check"),
        CancelAll("kill"),
        SetLeverage(5),
    )
    exchange.submit(Batch(9, commands), 1.0)
    kinds = [type(e) for e in exchange.advance(3.0)]
    assert kinds == [
        CancelUnknown,
        CancelUnknown,
        PlaceUnknown,
        QueryFailed,
        SyncFailed,
        VenueNotice,
        VenueNotice,
    ]


def test_a_rate_limit_storm_rejects_placements_but_cancels_go_through_D13() -> None:
    exchange = exchange_with(rate_limit_storms_at=(1.5,), rate_limit_storm_s=3.0)
    send(exchange, Place("c1", BID, 299_980, 100, ALO), Place("c3", ASK, 300_100, 100, ALO), t=1.0)
    during = send(exchange, Cancel("c1", None), Place("c2", BID, 299_990, 100, ALO), t=2.0)
    assert [a.cloid for a in only(during, CancelAck)] == ["c1"]
    rejected = only(during, PlaceRejected)
    assert [(r.reason, r.rclass) for r in rejected] == [
        ("HTTP 429 Too Many Requests", RejectionClass.RATE_LIMIT)
    ]
    oid = exchange.open_orders()[0].oid
    modify = only(send(exchange, Modify("c3", oid, "c4", ASK, 300_090, 100), t=3.0), ModifyRejected)
    assert modify[0].rclass is RejectionClass.RATE_LIMIT and not modify[0].original_gone
    assert [o.cloid for o in exchange.open_orders()] == ["c3"]
    assert only(send(exchange, Place("c5", BID, 299_990, 100, ALO), t=5.0), PlaceAck)
    counts = exchange.fault_counts
    assert counts["rate_limit_storm"] == 1 and counts["rate_limited"] == 2


def test_a_mixed_batch_answers_some_items_with_margin_errors_D7_S8() -> None:
    exchange = exchange_with(mixed_reject_rate=0.5)
    places = [Place(f"c{i}", BID, 299_960 - 10 * i, 100, ALO) for i in range(10)]
    events = send(exchange, *places, t=1.0)
    acks, rejects = only(events, PlaceAck), only(events, PlaceRejected)
    assert acks and rejects and len(acks) + len(rejects) == 10
    assert {r.rclass for r in rejects} == {RejectionClass.MARGIN}
    assert len(exchange.open_orders()) == len(acks)
    assert exchange.fault_counts["mixed_reject"] == len(rejects)
    singles = [send(exchange, Place(f"s{i}", ASK, 300_100, 100, ALO), t=2.0) for i in range(20)]
    assert all(only(answer, PlaceAck) for answer in singles)  # a lone order is never "mixed"


def test_rate_driven_faults_fire_on_their_own() -> None:
    faults = FaultConfig.profile(
        "calm", disconnect_rate_per_min=6.0, rate_limit_storm_rate_per_min=6.0
    )
    exchange = SimExchange(SimConfig(seed=5, faults=faults))
    loop = SimLoop(exchange, TouchQuoter(size=1_000), VirtualClock())
    loop.run_until(120.0)
    counts = exchange.fault_counts
    assert counts["disconnect"] > 3 and counts["rate_limit_storm"] > 3
    kinds = [type(e) for _, e in loop.log]
    assert kinds.count(Disconnected) == counts["disconnect"]
    assert kinds.count(Connected) in (counts["disconnect"], counts["disconnect"] + 1)


def test_the_stream_stays_in_order_while_answers_race_it_D10() -> None:
    """The websocket is FIFO: only fills the venue itself holds back or repeats go out later
    than they were made (tests/venues/test_sim_adversary.py), so those two faults are off here."""
    faults = FaultConfig.profile("adversarial", fill_delay_rate=0.0, altered_duplicate_rate=0.0)
    exchange = SimExchange(SimConfig(seed=11, faults=faults))
    loop = SimLoop(exchange, TouchQuoter(size=1_000), VirtualClock())
    loop.run_until(60.0)
    stream_times = [
        e.venue_time
        for _, e in loop.log
        if isinstance(e, BookDelta | Trade | OrderUpdate | BookSnapshot)
        or (isinstance(e, Fill) and not e.snapshot)
    ]
    assert stream_times == sorted(stream_times)  # type: ignore[type-var]
    seen_fill: set[str | None] = set()
    overtaken = 0
    for _, event in loop.log:
        if isinstance(event, Fill):
            seen_fill.add(event.cloid)
        elif isinstance(event, PlaceAck) and event.cloid in seen_fill:
            overtaken += 1
    assert overtaken > 0  # some fills arrived before their own placement answer


def test_faults_never_change_the_market_path() -> None:
    def market_path(faults: FaultConfig) -> list[tuple[float, tuple[tuple[int, int], ...]]]:
        exchange = SimExchange(SimConfig(seed=3, faults=faults))
        loop = SimLoop(exchange, Idle(), VirtualClock(), record=False)
        path = []
        for second in range(1, 61):
            loop.run_until(float(second))
            path.append((exchange.fair_price, exchange.book.depth(BID)[:5]))
        return path

    assert market_path(FaultConfig.profile("calm")) == market_path(
        FaultConfig.profile("adversarial")
    )


def test_latency_follows_the_configured_median_and_p99() -> None:
    faults = FaultConfig(answer_latency=Delay(median_s=0.01, p99_s=0.05))
    injector = FaultInjector(faults, seed=1, start=0.0, dialect=HYPERLIQUID)
    samples = sorted(injector.answer_delay() for _ in range(20_000))
    assert abs(statistics.median(samples) / 0.01 - 1) < 0.05
    assert abs(samples[int(0.99 * len(samples))] / 0.05 - 1) < 0.15


def test_fault_counts_name_every_fault_and_are_zero_when_calm() -> None:
    exchange = SimExchange(SimConfig(seed=2))
    SimLoop(exchange, TouchQuoter(size=1_000), VirtualClock(), record=False).run_until(30.0)
    assert exchange.fault_counts == dict.fromkeys(FAULT_KINDS, 0)
