"""The embedded exchange's adversary (issue 14): every answer shape Hyperliquid's protocol allows.

Each fault kind is shown against ``SimExchange`` alone (no maker): it fires, its counter counts
it, the venue's own truth stays consistent with what it answers afterwards (status queries,
open orders, fills by time, the position), and ``quiesce`` switches it off.  Most tests use a
still market with no latency, so that the fault is the only thing that happens; times are
virtual and nothing sleeps.  The rules: D29 (429s beyond placements), D31 (terminal statuses
for resting orders), D32 (news by oid only), D33 (fills late or missing), D34 (unreadable
rows), D35 (duplicates that disagree, unknown statuses), D22 (seeded and deterministic).
"""

from __future__ import annotations

import hashlib
from typing import Any

from core.clock import VirtualClock
from core.commands import (
    Batch,
    Cancel,
    CancelAll,
    Command,
    FetchFills,
    Place,
    QueryOrder,
    SyncState,
    TimeInForce,
)
from core.events import (
    CancelAck,
    CancelAllDone,
    CancelRejected,
    Channel,
    Connected,
    Event,
    Fill,
    FillsFetched,
    MalformedMessage,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceAck,
    PlaceRejected,
    PositionSnapshot,
    QueryFailed,
    RejectionClass,
    Side,
    SyncFailed,
    VenueStatus,
)
from core.harness.agents import TouchQuoter
from core.harness.loop import SimLoop
from core.simconfig import Delay, FaultConfig, SimConfig
from core.venues.hyperliquid import statuses
from core.venues.hyperliquid.statuses import classify_status, venue_status
from core.venues.sim.dialect import HYPERLIQUID
from core.venues.sim.exchange import SimExchange
from core.venues.sim.faults import FAULT_KINDS, TOMORROW_STATUSES, FaultInjector
from tests.sim_harness import exchange_with, only, send

BID, ASK = Side.BID, Side.ASK
ALO, GTC = TimeInForce.ALO, TimeInForce.GTC
BEST_ASK = 300_030  # the still market's best ask; its best bid is 299_970
TOO_MANY = "HTTP 429 Too Many Requests"

NEW_KINDS = (
    "cancels_rate_limited",
    "queries_rate_limited",
    "syncs_rate_limited",
    "venue_cancels",
    "resting_rejected",
    "oid_only_news",
    "fills_delayed",
    "fills_lost",
    "malformed_rows",
    "altered_duplicates",
    "unknown_statuses",
    "duplicate_acks",
)
# Every adversary knob at full strength (the storm ones need a storm to act in).
EVERYTHING: dict[str, Any] = {
    "storm_cancel_429_rate": 0.5,
    "storm_query_429_rate": 0.5,
    "storm_sync_429_rate": 0.5,
    "venue_cancel_rate_per_min": 6.0,
    "resting_reject_rate_per_min": 6.0,
    "oid_only_news_rate": 0.3,
    "fill_delay_rate": 0.3,
    "fill_loss_rate": 0.2,
    "malformed_row_rate": 0.3,
    "altered_duplicate_rate": 0.3,
    "unknown_status_rate": 0.2,
    "duplicate_ack_rate": 0.3,
}


def bids(n: int, lots: int = 100) -> list[Command]:
    """``n`` resting post-only bids below the touch, ``b0`` at the best price."""
    return [Place(f"b{i}", BID, 299_980 - 10 * i, lots, ALO) for i in range(n)]


def counts_of(exchange: SimExchange) -> dict[str, int]:
    return {kind: n for kind, n in exchange.fault_counts.items() if kind in NEW_KINDS}


# ---- D29: 429s for cancels, queries and syncs in a storm ----------------------------------


def test_a_storm_refuses_cancel_items_with_429s_and_those_orders_keep_resting_D29() -> None:
    """D29, D13: in a storm a cancel item may get a 429 of its own; the order keeps resting, the
    venue says so to every later question, and once the storm lifts the cancel goes through."""
    exchange = exchange_with(rate_limit_storms_at=(1.5,), storm_cancel_429_rate=0.5)
    send(exchange, *bids(10), t=1.0)
    during = send(exchange, *(Cancel(f"b{i}", None) for i in range(10)), t=2.0, batch_id=7)
    refused, acked = only(during, CancelRejected), only(during, CancelAck)
    assert refused and acked and len(refused) + len(acked) == 10
    for r in refused:
        assert (r.reason, r.gone, r.rclass, r.batch_id) == (
            TOO_MANY,
            False,
            RejectionClass.RATE_LIMIT,
            7,
        )
        assert exchange.order_status(None, r.cloid).status is VenueStatus.OPEN
    assert {o.cloid for o in exchange.open_orders()} == {r.cloid for r in refused}
    assert exchange.fault_counts["cancels_rate_limited"] == len(refused)
    after = send(exchange, *(Cancel(r.cloid, None) for r in refused), t=5.0)
    assert len(only(after, CancelAck)) == len(refused) and exchange.open_orders() == ()


def test_a_storm_can_refuse_a_cancel_all_its_listing_and_nothing_is_cancelled_D29() -> None:
    """D29, D25: a cancel-all whose listing is refused cancels nothing and says why (429)."""
    exchange = exchange_with(rate_limit_storms_at=(1.5,), storm_sync_429_rate=1.0)
    send(exchange, *bids(3), t=1.0)
    answer = send(exchange, CancelAll("kill"), t=2.0, batch_id=4)
    assert answer == [CancelAllDone(0, 0, 4, error=TOO_MANY, rate_limited=True)]
    assert len(exchange.open_orders()) == 3
    assert exchange.fault_counts["syncs_rate_limited"] == 1
    done = only(send(exchange, CancelAll("kill"), t=5.0), CancelAllDone)
    assert done == [CancelAllDone(3, 0, 1)] and exchange.open_orders() == ()


def test_a_storm_refuses_a_cancel_all_item_by_item_D25_D29() -> None:
    """D25, D29: a cancel-all can also sweep with per-order 429s: what it cancelled and what
    it could not are counted, and what it could not still rests."""
    exchange = exchange_with(rate_limit_storms_at=(1.5,), storm_cancel_429_rate=0.5)
    send(exchange, *bids(10), t=1.0)
    answer = send(exchange, CancelAll("kill"), t=2.0, batch_id=5)
    refused, acked = only(answer, CancelRejected), only(answer, CancelAck)
    assert refused and acked
    assert all(r.rclass is RejectionClass.RATE_LIMIT and not r.gone for r in refused)
    assert only(answer, CancelAllDone) == [CancelAllDone(len(acked), len(refused), 5)]
    assert {o.oid for o in exchange.open_orders()} == {r.oid for r in refused}
    assert exchange.fault_counts["cancels_rate_limited"] == len(refused)


def test_a_storm_refuses_queries_syncs_and_fill_fetches_and_placements_as_before_D29() -> None:
    """D29, D24: status queries, syncs and fill fetches get 429s in storms too, marked as rate
    limited so the client paces its retries; placements are refused as they always were."""
    exchange = exchange_with(
        rate_limit_storms_at=(1.5,), storm_query_429_rate=1.0, storm_sync_429_rate=1.0
    )
    send(exchange, *bids(1), t=1.0)
    commands = (
        QueryOrder("b0", None),
        SyncState("check"),
        FetchFills(60.0, "gap"),
        Place("p", BID, 299_900, 100, ALO),
    )
    during = send(exchange, *commands, t=2.0)
    assert during[:3] == [
        QueryFailed("b0", None, TOO_MANY, rate_limited=True),
        SyncFailed(TOO_MANY, rate_limited=True),
        FillsFetched(0, error=TOO_MANY, rate_limited=True),
    ]
    assert only(during, PlaceRejected)[0].rclass is RejectionClass.RATE_LIMIT
    counts = exchange.fault_counts
    assert (counts["queries_rate_limited"], counts["syncs_rate_limited"]) == (1, 2)
    assert counts["rate_limited"] == 1  # placements are refused in storms as they always were
    after = send(exchange, *commands[:3], t=5.0)
    assert [type(e) for e in after] == [
        OrderStatusReport,
        OpenOrders,
        PositionSnapshot,
        FillsFetched,
    ]


# ---- D31: the venue cancels or rejects a resting order on its own ------------------------


def _venue_closes(**faults: object) -> tuple[SimExchange, list[OrderUpdate]]:
    """Ten resting bids (the best one partly filled), then a minute of the venue's own doing;
    returns the exchange and the updates it streamed about them."""
    exchange = exchange_with(**faults)
    send(exchange, *bids(10), t=0.5)
    exchange.inject_taker(ASK, 30)  # b0 is partly filled: 30 of 100 lots
    exchange.advance(0.5)
    events = exchange.advance(60.0)
    return exchange, only(events, OrderUpdate)


def test_the_venue_cancels_resting_orders_and_its_answers_agree_with_the_stream_D31() -> None:
    """D31, D33: the venue cancels resting orders on its own with a real venue-cancel status
    (a third as ``nonUserCancel``, oid only); the book, the open orders, status queries and a
    later cancel all agree with what the stream said, filled size included."""
    exchange, updates = _venue_closes(venue_cancel_rate_per_min=12.0)
    assert updates and all(u.status is VenueStatus.VENUE_CANCELED for u in updates)
    assert exchange.fault_counts["venue_cancels"] == len(updates)
    named = [u for u in updates if u.cloid is not None]
    anonymous = [u for u in updates if u.cloid is None]
    assert named and anonymous, "some venue cancels come as nonUserCancel, some with a status"
    resting = {o.oid for o in exchange.open_orders()}
    for update in updates:
        assert update.oid is not None and update.oid not in resting
        report = exchange.order_status(update.oid, None)
        assert report.status is VenueStatus.VENUE_CANCELED and report.remaining == 0
        assert report.raw_status in statuses.VENUE_CANCEL_STATUSES
        assert report.cloid is not None  # the venue's records keep the cloid
        if update.cloid is None:
            assert (update.raw_status, update.filled) == (statuses.NON_USER_CANCEL, None)
        else:
            assert update.raw_status == report.raw_status
            assert update.filled == report.filled
        again = send(exchange, Cancel(report.cloid, None), t=60.0)
        assert only(again, CancelRejected)[0].gone  # gone, as the stream said
    assert len(resting) == 10 - len(updates)
    book = exchange.book
    for price in range(299_890, 299_990, 10):  # the book holds exactly what the account does
        ours = book.level_size(BID, price) - book.synthetic_size(BID, price)
        assert ours == sum(o.size for o in exchange.open_orders() if o.price == price)
    partly = [u for u in named if u.filled]
    assert partly and all(u.filled == 30 for u in partly)  # b0's fill is in its cancel's news (D33)


def test_the_venue_rejects_resting_orders_with_classified_statuses_D31() -> None:
    """D31, D11: an order that was resting can come back rejected; the status is classified,
    the order is gone from the venue, and queries and snapshots say the same."""
    exchange, updates = _venue_closes(resting_reject_rate_per_min=12.0)
    assert updates and exchange.fault_counts["resting_rejected"] == len(updates)
    for update in updates:
        assert update.status is VenueStatus.REJECTED and update.cloid is not None
        assert update.raw_status in statuses.RESTING_REJECT_STATUSES
        assert update.rclass is classify_status(update.raw_status)
        report = exchange.order_status(None, update.cloid)
        assert (report.status, report.raw_status) == (VenueStatus.REJECTED, update.raw_status)
    assert len({u.raw_status for u in updates}) > 1
    assert len(exchange.open_orders()) == 10 - len(updates)
    sync = only(send(exchange, SyncState("check"), t=60.0), OpenOrders)[0]
    assert {o.oid for o in sync.orders} == {o.oid for o in exchange.open_orders()}


def test_every_venue_status_maps_to_what_it_means_D6_D31() -> None:
    """D31, D6: every venue-cancel and rejection status the venue can send normalises to what
    it means; tomorrow's words are unknown."""
    for raw in (
        *statuses.VENUE_CANCEL_STATUSES,
        statuses.NON_USER_CANCEL,
        "vaultWithdrawalCanceled",
    ):
        assert venue_status(raw)[0] is VenueStatus.VENUE_CANCELED, raw
    for raw in (*statuses.RESTING_REJECT_STATUSES, "badAloPxRejected", "iocCancelRejected"):
        assert venue_status(raw)[0] is VenueStatus.REJECTED, raw
    assert venue_status("canceled")[0] is VenueStatus.CANCELED
    assert venue_status("filled")[0] is VenueStatus.FILLED
    for raw in TOMORROW_STATUSES:
        assert venue_status(raw)[0] is VenueStatus.UNKNOWN, raw


def test_no_venue_close_fires_without_resting_orders() -> None:
    """D31: the venue can only take down what rests; with nothing resting its timers do nothing."""
    exchange = exchange_with(venue_cancel_rate_per_min=60.0, resting_reject_rate_per_min=60.0)
    assert exchange.advance(30.0) == []
    assert exchange.fault_counts["venue_cancels"] == exchange.fault_counts["resting_rejected"] == 0


# ---- D32: news by oid only, before the placement answer --------------------------------


def test_news_names_only_the_oid_until_the_held_back_answer_arrives_D32() -> None:
    """D32, D2: while a placing batch's answer is held back, the stream names its orders by oid
    only; the venue itself still knows their cloids, and once the answer is delivered the
    news names them in full again."""
    exchange = exchange_with(
        oid_only_news_rate=1.0, late_answer_delay=Delay(median_s=0.5, p99_s=0.5)
    )
    exchange.submit(Batch(1, (Place("c1", BID, BEST_ASK, 100, GTC), *bids(1))), 1.0)
    early = exchange.advance(1.4)
    assert only(early, PlaceAck) == []
    news = only(early, Fill) + only(early, OrderUpdate)
    assert len(news) == 3 and all(e.cloid is None and e.oid is not None for e in news)
    filled = only(early, Fill)[0]
    assert filled.oid is not None
    assert exchange.order_status(filled.oid, None).cloid == "c1"  # the venue knows it
    late = exchange.advance(1.5)
    acks = only(late, PlaceAck)
    assert [a.cloid for a in acks] == ["c1", "b0"] and acks[0].oid == filled.oid
    assert exchange.fault_counts["oid_only_news"] == 3
    exchange.inject_taker(ASK, 40)  # after the answer: named in full again
    assert [f.cloid for f in only(exchange.advance(1.5), Fill)] == ["b0"]


def test_batches_without_placements_are_never_held_for_oid_only_news_D32() -> None:
    """D32: only answers that bind oids (placements, modifies) are held back for oid-only news."""
    exchange = exchange_with(oid_only_news_rate=1.0)
    send(exchange, *bids(1), t=0.5)
    answer = send(exchange, Cancel("b0", None), SyncState("check"), t=5.0)
    assert only(answer, CancelAck) and only(answer, OpenOrders)


# ---- D33: fills late or never on the stream ------------------------------------------------


def test_a_lost_fill_never_streams_but_the_venue_still_has_it_D33() -> None:
    """D33, D4: a fill lost on the stream is still the venue's truth: the position, a status
    query, fills by time and the reconnect replay all have it."""
    exchange = exchange_with(
        fill_loss_rate=1.0, disconnects_at=(3.0,), outage=Delay(median_s=1.0, p99_s=1.0)
    )
    send(exchange, *bids(1, lots=1_000), t=1.0)
    exchange.inject_taker(ASK, 400)
    assert only(exchange.advance(1.0), Fill) == []
    assert exchange.position == 400
    assert exchange.order_status(None, "b0").filled == 400
    fetched = send(exchange, FetchFills(60.0, "gap"), t=2.0)
    (fill,) = only(fetched, Fill)
    assert (fill.cloid, fill.size, fill.snapshot) == ("b0", 400, True)
    assert fetched[-1] == FillsFetched(1)
    replay = only(exchange.advance(4.0), Fill)  # the reconnect replays it too
    assert [(f.tid, f.snapshot) for f in replay] == [(fill.tid, True)]
    assert exchange.fault_counts["fills_lost"] == 1


def test_a_held_back_fill_arrives_after_its_filled_update_in_a_message_of_its_own_D33() -> None:
    """D33, D10: a held-back fill arrives after the "filled" update, alone, exactly at its
    release: ``next_due`` never jumps past it."""
    exchange = exchange_with(fill_delay_rate=1.0, fill_delay=Delay(median_s=2.0, p99_s=2.0))
    send(exchange, *bids(1), t=1.0)
    exchange.inject_taker(ASK, 100)
    now = exchange.advance(1.0)
    assert [u.status for u in only(now, OrderUpdate)] == [VenueStatus.FILLED]
    assert only(now, Fill) == []
    arrived: list[tuple[float, Event]] = []
    t = 1.0
    while not only([e for _, e in arrived], Fill):
        due = exchange.next_due()
        assert due is not None and due <= 3.0  # the loop never jumps past the release
        t = due
        arrived += [(t, e) for e in exchange.advance(t)]
    assert t == 3.0 and [type(e) for _, e in arrived if _ == 3.0][-1] is Fill
    assert exchange.fault_counts["fills_delayed"] == 1


def test_a_disconnect_loses_held_back_fills_like_anything_in_flight_D33() -> None:
    """D33, D4: a disconnect loses a held-back fill with the rest of the stream in flight; the
    reconnect's replay brings it back."""
    exchange = exchange_with(
        fill_delay_rate=1.0,
        fill_delay=Delay(median_s=2.0, p99_s=2.0),
        disconnects_at=(2.0,),
        outage=Delay(median_s=0.5, p99_s=0.5),
    )
    send(exchange, *bids(1), t=1.0)
    exchange.inject_taker(ASK, 100)
    exchange.advance(1.0)
    dropped = exchange.fault_counts["stream_events_dropped"]
    events = exchange.advance(10.0)
    assert isinstance(events[1], Connected)
    assert [(f.cloid, f.snapshot) for f in only(events, Fill)] == [("b0", True)]  # replay only
    assert exchange.fault_counts["stream_events_dropped"] == dropped + 1


# ---- D34: one unreadable row of several -------------------------------------------------


def test_one_row_of_a_multi_row_message_is_unreadable_and_the_rest_arrive_D34() -> None:
    """D34: one row of several of ours in a stream message is unreadable; the rest arrive and
    the bad one is reported with its channel; a single row is never spoilt."""
    exchange = exchange_with(malformed_row_rate=1.0)
    lone = send(exchange, *bids(1), t=1.0)
    assert only(lone, MalformedMessage) == []  # one row of ours: nothing to salvage around
    events = send(exchange, Place("c1", BID, BEST_ASK, 100, GTC), *bids(3)[1:], t=2.0)
    (bad,) = only(events, MalformedMessage)
    rows = only(events, Fill) + only(events, OrderUpdate)
    assert (bad.bad_rows, bad.good_rows) == (1, len(rows)) and len(rows) == 3
    assert bad.channel in (Channel.FILLS, Channel.ORDER_UPDATES)
    assert bad.text.startswith("malformed row: ")
    assert exchange.fault_counts["malformed_rows"] == 1


def test_an_open_orders_answer_drops_one_row_and_says_so_D34_D25() -> None:
    """D34, D25: an open-orders answer can miss a row, and says so (``bad_rows``), so it never
    proves the venue empty."""
    exchange = exchange_with(malformed_row_rate=1.0)
    send(exchange, *bids(3), t=1.0)
    before = exchange.fault_counts["malformed_rows"]
    (listing,) = only(send(exchange, SyncState("check"), t=2.0), OpenOrders)
    assert listing.bad_rows == 1 and len(listing.orders) == 2
    assert {o.oid for o in listing.orders} < {o.oid for o in exchange.open_orders()}
    assert exchange.fault_counts["malformed_rows"] == before + 1
    send(exchange, CancelAll("sweep"), t=3.0)
    (empty,) = only(send(exchange, SyncState("check"), t=4.0), OpenOrders)
    assert empty == OpenOrders((), 4.0)  # an empty listing has no row to spoil


# ---- D35: the same trade id again with other content; unknown statuses ----------------------


def test_altered_duplicates_repeat_a_trade_id_with_other_content_and_move_nothing_D35() -> None:
    """D35, D4: a trade id is repeated later with a different size (at least one lot, never
    below one) or a price one step off; the venue's position and fills stay the originals."""
    exchange = exchange_with(
        altered_duplicate_rate=1.0, altered_duplicate_delay=Delay(median_s=1.0, p99_s=1.0)
    )
    send(exchange, *(Place(f"b{i}", BID, 299_980, 1_000, ALO) for i in range(10)), t=1.0)
    events: list[Event] = []
    for i in range(20):
        events += exchange.advance(1.0 + i / 10)
        exchange.inject_taker(ASK, 300 + 10 * i, limit=299_980)
        events += exchange.advance(1.0 + i / 10)
    events += exchange.advance(5.0)
    first: dict[int, Fill] = {}
    repeats: list[tuple[Fill, Fill]] = []
    for fill in only(events, Fill):
        if fill.tid in first:
            repeats.append((first[fill.tid], fill))
        else:
            first[fill.tid] = fill
    assert len(repeats) == len(first) == exchange.fault_counts["altered_duplicates"]
    sized = priced = 0
    for original, repeat in repeats:
        assert (repeat.oid, repeat.cloid, repeat.side) == (original.oid, original.cloid, BID)
        if repeat.size != original.size:
            assert repeat.price == original.price and repeat.size >= 1
            sized += 1
        else:
            step = exchange.instrument.price_step(original.price)
            assert abs(repeat.price - original.price) == step
            priced += 1
    assert sized and priced
    assert exchange.position == sum(f.size for f in first.values())  # the truth is the original
    fetched = only(send(exchange, FetchFills(60.0, "check"), t=6.0), Fill)
    assert {(f.tid, f.size, f.price) for f in fetched} == {
        (f.tid, f.size, f.price) for f in first.values()
    }


def test_statuses_can_be_words_hyperliquid_might_add_tomorrow_D6_D35() -> None:
    """D6, D35: stream updates and status answers can carry a status word nobody knows yet;
    only the word changes, never the venue's numbers or its own state."""
    exchange = exchange_with(unknown_status_rate=1.0)
    (update,) = only(send(exchange, *bids(1), t=1.0), OrderUpdate)
    assert update.status is VenueStatus.UNKNOWN and update.cloid == "b0"
    assert update.raw_status in TOMORROW_STATUSES
    (report,) = only(send(exchange, QueryOrder("b0", None), t=2.0), OrderStatusReport)
    assert report.status is VenueStatus.UNKNOWN and report.raw_status in TOMORROW_STATUSES
    assert report.remaining == 100  # only the word is new: the numbers are the venue's
    assert exchange.order_status(None, "b0").status is VenueStatus.OPEN
    assert exchange.fault_counts["unknown_statuses"] == 2


# ---- answers twice ----------------------------------------------------------------------


def test_a_batch_answer_can_arrive_twice_D4_D7() -> None:
    """D4, D7: a batch's whole answer can arrive a second time later; the venue did it once."""
    exchange = exchange_with(
        duplicate_ack_rate=1.0, duplicate_ack_delay=Delay(median_s=0.5, p99_s=0.5)
    )
    first = only(send(exchange, *bids(2), t=1.0), PlaceAck)
    assert len(first) == 2 and only(exchange.advance(1.4), PlaceAck) == []
    assert only(exchange.advance(1.5), PlaceAck) == first
    assert len(exchange.open_orders()) == 2
    assert exchange.fault_counts["duplicate_acks"] == 1


# ---- the plan as a whole: quiesce, determinism, independence, the swarm's draws -----------


def _everything_run(seed: int, until: float, **extra: Any) -> SimLoop:
    faults = FaultConfig.profile("adversarial", **{**EVERYTHING, **extra})
    exchange = SimExchange(SimConfig(seed=seed, faults=faults))
    loop = SimLoop(exchange, TouchQuoter(size=1_000, sync_every_s=1.0), VirtualClock())
    loop.run_until(until)
    return loop


def test_quiesce_switches_every_adversary_fault_off() -> None:
    """D22: once the plan ends, no adversary fault fires again (what was already on its way
    still arrives), so the swarm's quiet phase can judge convergence."""
    loop = _everything_run(seed=4, until=60.0, rate_limit_storm_rate_per_min=6.0)
    exchange = loop.exchange
    fired = counts_of(exchange)
    assert all(fired[kind] > 0 for kind in NEW_KINDS if kind != "queries_rate_limited"), fired
    exchange.end_faults(60.0)
    quiet = FaultInjector(
        FaultConfig.profile("adversarial", **EVERYTHING), seed=4, start=0.0, dialect=HYPERLIQUID
    )
    quiet.quiesce(0.0)
    knobs = quiet.config.model_dump()
    assert not any(v for k, v in knobs.items() if k.endswith(("_rate", "_per_min", "_at")))
    assert not quiet.shapes_stream and quiet.next_timer == float("inf")
    loop.run_until(62.0)  # what was already on its way (held fills, late answers) arrives
    settled = counts_of(exchange)
    loop.run_until(120.0)
    assert counts_of(exchange) == settled
    assert loop.log[-1][0] > 100.0  # the market and the quoter kept going


def test_same_seed_gives_the_same_event_log_with_the_adversary_on_D22() -> None:
    """D22: with every adversary fault on, the same seed still gives the same log, byte for byte."""

    def digest(loop: SimLoop) -> str:
        text = "\n".join(f"{t!r} {event!r}" for t, event in loop.log)
        return hashlib.sha256(text.encode()).hexdigest()

    first, second = _everything_run(seed=9, until=40.0), _everything_run(seed=9, until=40.0)
    assert digest(first) == digest(second)
    assert first.exchange.fault_counts == second.exchange.fault_counts
    assert sum(counts_of(first.exchange).values()) > 0


def _scripted(**faults: Any) -> SimExchange:
    """A fixed script that does not listen (so what the exchange says cannot change what it is
    asked): placements, cancels, syncs, queries and fetches, and takers that fill."""
    config = SimConfig(seed=3, faults=FaultConfig.profile("calm", **faults))
    exchange = SimExchange(config)
    exchange.connect(0.0)
    for second in range(1, 40):
        t = float(second)
        exchange.advance(t)
        mid = round(exchange.fair_price)
        commands: list[Command] = [
            Place(f"b{second}", BID, mid - 20 - second % 5, 500, ALO),
            Place(f"a{second}", ASK, mid + 20 + second % 5, 500, ALO),
            Cancel(f"b{second - 3}", None),
            QueryOrder(f"a{second - 1}", None),
            SyncState("script"),
        ]
        if second % 4 == 0:
            commands.append(FetchFills(10.0, "script"))
        exchange.submit(Batch(second, tuple(commands)), t)
        exchange.advance(t)
        exchange.inject_taker(ASK if second % 2 else BID, 400)
    exchange.advance(45.0)
    return exchange


def test_switching_adversary_faults_on_leaves_the_market_and_other_faults_alone() -> None:
    """Each fault draws from its own stream: with the same requests, switching the adversary
    on changes neither the market nor any base fault's counts, and switching more adversary
    faults on changes no other adversary fault's counts."""
    base = {"late_answer_rate": 0.3, "stale_snapshot_rate": 0.5, "mixed_reject_rate": 0.3}
    plain = _scripted(**base)
    hostile = _scripted(**base, **EVERYTHING)
    assert hostile.fair_price == plain.fair_price
    for kind in ("late_answer", "stale_snapshot", "mixed_reject"):
        assert hostile.fault_counts[kind] == plain.fault_counts[kind] > 0, kind
    some = {"fill_loss_rate": 0.3, "malformed_row_rate": 0.3}
    alone = _scripted(**some)
    more = _scripted(**some, unknown_status_rate=0.5, duplicate_ack_rate=0.5)
    for kind in ("fills_lost", "malformed_rows"):
        assert more.fault_counts[kind] == alone.fault_counts[kind] > 0, kind


def test_fault_kinds_name_every_adversary_counter() -> None:
    """Issue 14: every adversary fault kind has its own counter for the swarm's report."""
    assert set(NEW_KINDS) <= set(FAULT_KINDS)
