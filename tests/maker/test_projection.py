"""D17: pending exposure and worst case as the view shows them (``core/maker/projection.py``).

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

from core.actions import CancelOrder
from core.events import (
    Connected,
    OpenOrders,
    PositionSnapshot,
    Side,
    VenueOrder,
)
from core.maker import MarketMaker
from core.view import Mode
from tests.maker_harness import (
    BID,
    INSTRUMENT,
    Rig,
    book,
    fill,
    make_config,
    make_params,
    places,
    running_maker,
)

# ==== D17: pending exposure and worst case ======================================================


def test_D17_pending_exposure_and_worst_case_in_the_view() -> None:
    """D17: pending bid/ask lots and notional from every order that may rest (unanswered
    placements included), net pending change, and the worst-case positions."""
    s, first = running_maker(make_params(config=make_config(strategy={"levels": 3})))
    bids, asks = places(first, Side.BID), places(first, Side.ASK)
    ex = s.view().exposure
    assert (ex.pending_bid, ex.pending_ask) == (30, 30)  # PendingNew counts
    assert ex.bid_notional == sum(p.price * p.size for p in bids)
    assert ex.ask_notional == sum(p.price * p.size for p in asks)
    assert ex.net_pending_change == 0
    assert (ex.worst_case_max_position, ex.worst_case_min_position) == (30, -30)
    assert not ex.breached

    s.ack_all(first, 100)
    s.handle(fill(20, bids[0], size=4), s.now + 0.01)
    ex = s.view().exposure
    assert (ex.position, ex.pending_bid, ex.pending_ask) == (4, 26, 30)
    assert (ex.worst_case_max_position, ex.worst_case_min_position) == (30, -26)

    s.operate(CancelOrder(asks[0].cloid), s.now + 0.01)  # CancelPending may still fill
    assert s.view().exposure.pending_ask == 30


def test_D17_worst_case_beyond_the_limit_is_a_warning_not_a_block() -> None:
    """D17: orders found on the venue can push the worst case past the limit; that shows as a
    breach, and quoting goes on."""
    config = make_config(reconcile={"on_start": "adopt"})
    s = Rig(MarketMaker(make_params(config=config), INSTRUMENT))
    s.start()
    s.handle(OpenOrders((VenueOrder(1, None, Side.BID, BID - 100, 45, 45),)), 0.01)
    s.handle(PositionSnapshot(10), 0.02)
    assert s.maker.mode is Mode.RUNNING
    s.handle(Connected("sim"), 0.2)
    sent = s.handle(book(), 0.3)
    ex = s.view().exposure
    assert ex.breaches_long and ex.worst_case_max_position > ex.max_position
    assert places(sent, Side.ASK), "a worst-case breach does not block quoting"
