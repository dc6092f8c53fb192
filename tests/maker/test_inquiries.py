"""D24: no answer is not "not found" (``core/maker/inquiries.py``, ``core/maker/answers.py``).

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

from core.actions import CancelAllOrders, CancelOrder, Kill, Rearm
from core.commands import Cancel, Modify, Place
from core.events import (
    CancelUnknown,
    OpenOrders,
    OrderStatusReport,
    OrderUpdate,
    PlaceUnknown,
    QueryFailed,
    Side,
    VenueStatus,
)
from core.orders import OrderState
from tests.maker_harness import (
    ASK,
    BID,
    Rig,
    book,
    cancel_alls,
    cancels,
    make_config,
    make_params,
    modifies,
    places,
    queries,
    running_maker,
    venue_order,
    verify_empty,
)

# ==== D24: no answer is not "not found" =========================================================


def test_D24_unanswered_cancel_becomes_a_status_query_retried_until_definitive() -> None:
    """D24: a cancel with no answer times out into a status query; a failed query is retried,
    never read as "cancelled"; "still open" sends the cancel again; "canceled" confirms it."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.ack_all(first, 100)
    t0 = s.now + 0.1
    s.operate(CancelOrder(bid.cloid), t0)
    sent = s.run(t0 + s.maker.params.answer_timeout + 0.2)
    assert [(q.cloid, q.oid) for q in queries(sent)] == [(bid.cloid, 100)]
    order = s.order(bid.cloid)

    for _ in range(3):
        s.handle(QueryFailed(bid.cloid, 100, "timeout"), s.now + 0.01)
        assert order.state is OrderState.CANCEL_PENDING
        assert queries(s.run(s.now + 1.1)), "retried"

    again = s.handle(OrderStatusReport(bid.cloid, 100, VenueStatus.OPEN, "open"), s.now + 0.01)
    assert cancels(again) == [Cancel(bid.cloid, 100)]
    s.handle(OrderStatusReport(bid.cloid, 100, VenueStatus.CANCELED, "canceled"), s.now + 0.5)
    assert order.state is OrderState.CANCEL_CONFIRMED
    s.run(s.now + 1.5)
    assert order.state is OrderState.CANCELLED


def test_D24_placements_expire_at_the_venue_within_half_their_request_lifetime() -> None:
    """D24 (swarm seed 1052759): "not found" is believed once a placement can no longer
    arrive, so the venue must refuse one that arrives later (Hyperliquid's expiresAfter): every
    placement batch carries an expiry of half the request lifetime (the other half is margin
    for clock skew and the refusal's way back).  Cancels never expire: late is still useful."""
    config = make_config(reconcile={"request_lifetime_s": 8.0})
    s, _ = running_maker(make_params(config=config))
    assert s.batches and all(
        b.expires_in == (4.0 if any(isinstance(c, Place | Modify) for c in b.commands) else None)
        for b in s.batches
    )
    s.operate(CancelAllOrders("test"), s.now + 0.1)
    assert s.batches[-1].expires_in is None and cancel_alls(s.batches[-1].commands)


def _bid_placement_unknown_and_asked_about() -> tuple[Rig, Place, float]:
    """A running maker whose first bid timed out (outcome unknown) and was asked about."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.ack_all(places(first, Side.ASK), 200)
    t0 = s.now
    s.handle(PlaceUnknown(bid.cloid, "timeout"), t0 + 0.3)
    assert [q.cloid for q in queries(s.tick(t0 + 0.4))] == [bid.cloid]
    return s, bid, t0


def _asked_again_until_definitive_never_placed_twice(
    s: Rig, bid: Place, t0: float, mark: int
) -> None:
    """After a stale "not found": asked again, no second order for the intent, and the
    definitive "open" ends the questions."""
    again = s.run(t0 + 5.0)
    assert bid.cloid in [q.cloid for q in queries(again)], "asked again"
    assert places(s.sent[mark:], Side.BID) == [], "no second order for the intent"
    s.handle(OrderStatusReport(bid.cloid, 77, VenueStatus.OPEN, "open"), s.now + 0.01)
    assert s.order(bid.cloid).state is OrderState.RESTING
    assert queries(s.run(s.now + 8.0)) == []


def test_D24_not_found_older_than_the_venues_own_news_is_not_believed() -> None:
    """D24: a status query can overtake the placement it asks about.  When the venue has shown
    the order alive after we asked, a "not found" answer is stale: the order stays live, its
    intent is not placed twice, and the maker asks again until the answer is definitive."""
    s, bid, t0 = _bid_placement_unknown_and_asked_about()
    s.handle(OrderUpdate(77, bid.cloid, VenueStatus.OPEN, "open"), t0 + 0.6)
    mark = len(s.sent)
    stale = OrderStatusReport(bid.cloid, None, VenueStatus.NOT_FOUND, "unknownOid")
    s.handle(stale, t0 + 2.5)  # older than the grace period, yet older than the news
    order = s.order(bid.cloid)
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    _asked_again_until_definitive_never_placed_twice(s, bid, t0, mark)


def test_D24_not_found_asked_before_a_snapshot_listed_the_order_is_not_believed() -> None:
    """D24, D9, D22 (swarm seed 1003829): a status query overtakes the placement it asks about,
    and before its "not found" lands, an open-orders snapshot lists the order.  The snapshot
    settles the question but not the query: that answer is still on its way and older than the
    snapshot's news.  Believing it freed the intent, and a second order rested beside the
    first."""
    s, bid, t0 = _bid_placement_unknown_and_asked_about()
    s.handle(OpenOrders((*s.venue_orders(), venue_order(bid, 77))), t0 + 0.6)
    order = s.order(bid.cloid)
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    mark = len(s.sent)
    stale = OrderStatusReport(bid.cloid, None, VenueStatus.NOT_FOUND, "unknownOid")
    s.handle(stale, t0 + 2.5)  # past the grace period, but the question predates the snapshot
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    _asked_again_until_definitive_never_placed_twice(s, bid, t0, mark)


def test_D24_not_found_answered_after_a_later_query_said_open_is_not_believed() -> None:
    """D24, D10: answers are not matched to the queries they answer, and they can arrive in
    any order.  A query leaves before the venue has shown us the order, a second one after;
    the "open" answer lands first, then the first query's stale "not found".  One answer
    accounts for one query only: the older query may still be the one being answered."""
    s, bid, t0 = _bid_placement_unknown_and_asked_about()
    s.handle(OrderUpdate(77, bid.cloid, VenueStatus.OPEN, "open"), t0 + 0.6)
    resent = s.run(t0 + 0.4 + s.maker.params.query_timeout + 0.1)
    assert [q.cloid for q in queries(resent)] == [bid.cloid], "unanswered: asked again"
    s.handle(OrderStatusReport(bid.cloid, 77, VenueStatus.OPEN, "open"), s.now + 0.01)
    mark = len(s.sent)
    stale = OrderStatusReport(bid.cloid, None, VenueStatus.NOT_FOUND, "unknownOid")
    s.handle(stale, s.now + 0.05)
    order = s.order(bid.cloid)
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    s.run(s.now + 3.0)
    assert places(s.sent[mark:], Side.BID) == [], "no second order for the intent"


def test_D24_D6_an_unknown_status_is_not_the_venue_showing_the_order() -> None:
    """D24, D6, D22 (swarm seed 1328989, issue 14's 50,000-seed run): the first query about
    an unanswered placement is answered with a status we do not know; the maker asks again;
    the placement's ack arrives (the venue's first real news); then the second query's stale
    "not found" lands.  The unknown answer proves nothing -- taken as the venue's first sight
    of the order, it made the stale answer look newer than the news, the order was ended and
    its intent placed a second time beside the live one."""
    s, bid, t0 = _bid_placement_unknown_and_asked_about()
    weird = OrderStatusReport(bid.cloid, None, VenueStatus.UNKNOWN, "waitingForFill")
    s.handle(weird, t0 + 0.5)
    again = queries(s.run(t0 + 1.5))
    assert [q.cloid for q in again] == [bid.cloid], "an unknown answer is asked again (D31)"
    s.handle(OrderUpdate(77, bid.cloid, VenueStatus.OPEN, "open"), s.now + 0.05)
    mark = len(s.sent)
    stale = OrderStatusReport(bid.cloid, None, VenueStatus.NOT_FOUND, "unknownOid")
    s.handle(stale, t0 + 2.6)  # past the grace period, but asked before the venue's news
    order = s.order(bid.cloid)
    assert (order.state, order.oid) == (OrderState.RESTING, 77)
    _asked_again_until_definitive_never_placed_twice(s, bid, t0, mark)


def test_D24_cancel_unknown_is_queried() -> None:
    """D24: a cancel whose answer was lost is asked about, not assumed."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.ack_all(first, 100)
    s.operate(CancelOrder(bid.cloid), s.now + 0.1)
    s.handle(CancelUnknown(bid.cloid, 100, "connection reset"), s.now + 0.01)
    assert s.order(bid.cloid).state is OrderState.CANCEL_PENDING
    assert [q.cloid for q in queries(s.tick(s.now + 0.1))] == [bid.cloid]


def test_D24_unanswered_modify_asks_about_both_orders() -> None:
    """D24/D8: a modify with no answer is a cancel and a placement with unknown outcomes: both
    the original and its replacement are queried, so the intent is never stuck."""
    s, first = running_maker()
    s.ack_all(first, 100)
    sent = s.handle(book(BID + 5, ASK + 5), s.now + 0.1)
    mods = modifies(sent)
    assert mods
    asked = queries(s.run(s.now + s.maker.params.answer_timeout + 0.2))
    cloids = {q.cloid for q in asked}
    for m in mods:
        assert m.cloid in cloids and m.new_cloid in cloids
        assert s.order(m.new_cloid).unknown_since is not None


def test_D24_sweep_cancels_without_answers_are_resolved_by_queries() -> None:
    """D24/D25: orders a kill sweep marked CancelPending but whose cancel answers were lost are
    asked about after the timeout; once the venue says "canceled", exposure is clear and,
    after the re-arm, the maker quotes again (no silent stall)."""
    s, first = running_maker()
    s.ack_all(first, 100)
    s.run(s.now + 10)  # the placements' own answer deadlines are long gone
    s.operate(Kill(), s.now + 0.1)
    verify_empty(s, 2)
    asked = queries(s.run(s.now + s.maker.params.answer_timeout))
    assert {q.oid for q in asked} == {100, 101}
    for q in asked[:2]:
        s.handle(OrderStatusReport(q.cloid, q.oid, VenueStatus.CANCELED, "canceled"))
    s.run(s.now + 1.5)
    assert all(o.state.is_terminal for o in s.maker.tracker.by_cloid.values())
    ex = s.view().exposure
    assert (ex.pending_bid, ex.pending_ask) == (0, 0)
    s.operate(Rearm(), s.now + 0.01)
    assert places(s.run(s.now + 0.5))
