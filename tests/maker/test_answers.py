"""D10 (fills and order updates in either order) and D5 (a modify that raced a fill), through
``core/maker/answers.py``.

Every test names its rule.  The maker runs on a virtual clock (``tests.maker_harness``); the
"venue" is the test itself, answering exactly what the rule needs and nothing else.
"""

from __future__ import annotations

import pytest

from core.events import (
    AckStatus,
    ModifyRejected,
    OrderUpdate,
    PlaceAck,
    RejectionClass,
    Side,
    VenueStatus,
)
from core.orders import OrderState
from tests.maker_harness import (
    ASK,
    BID,
    book,
    fill,
    modifies,
    places,
    running_maker,
)

# ==== D10: fills and order updates are independent ==============================================


@pytest.mark.parametrize("update_first", [True, False], ids=["update-first", "fills-first"])
def test_D10_fills_and_updates_in_either_order(update_first: bool) -> None:
    """D10: the "filled" update and the fills may come in either order (or the update alone
    first); the order ends filled and the position counts each fill once."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.handle(PlaceAck(bid.cloid, 90, AckStatus.RESTING), s.now + 0.01)
    update = OrderUpdate(90, bid.cloid, VenueStatus.FILLED, "filled")
    fills = [fill(11, bid, size=6, oid=90), fill(12, bid, size=4, oid=90)]
    events = [update, *fills] if update_first else [*fills, update]
    for ev in events:
        s.handle(ev, s.now + 0.01)
    order = s.order(bid.cloid)
    assert order.state is OrderState.FILLED
    assert order.filled == 10
    assert s.maker.position.lots == 10
    assert s.maker.counters["illegal_transitions"] == 0


def test_D10_cancelled_update_then_fill_from_before_the_cancel() -> None:
    """D10/D1: a venue "canceled" update followed by a fill that happened before it: the
    fill is counted and the order ends FilledDuringCancel, not live and not lost."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.handle(PlaceAck(bid.cloid, 91, AckStatus.RESTING), s.now + 0.01)
    s.handle(OrderUpdate(91, bid.cloid, VenueStatus.CANCELED, "canceled"), s.now + 0.01)
    s.handle(fill(13, bid, size=3, oid=91), s.now + 0.2)
    s.run(s.now + 1.5)
    assert s.order(bid.cloid).state is OrderState.FILLED_DURING_CANCEL
    assert s.maker.position.lots == 3


@pytest.mark.parametrize("raced", [True, False])
def test_D5_a_raced_modify_is_no_verdict_on_the_replacement(raced: bool) -> None:
    """D5: a modify that found its original already gone is a race, not a rejection of the new
    quote.  The adapter says so (``raced``); the maker never reads the text to tell."""
    s, first = running_maker()
    s.ack_all(first, 100)
    mods = modifies(s.handle(book(BID + 5, ASK + 5), s.now + 0.1))
    assert mods
    m = mods[0]
    before = s.maker.counters["rejections"]
    text = "Cannot modify canceled or filled order"
    answer = ModifyRejected(m.cloid, m.new_cloid, text, RejectionClass.OTHER, True, raced=raced)
    s.handle(answer, s.now + 0.1)
    assert s.maker.counters["rejections"] - before == (0 if raced else 1)


@pytest.mark.parametrize("part", [4, 10])
def test_D4_the_trade_behind_an_immediate_fill_replaces_its_row(part: int) -> None:
    """D4 (issue 16, seen in the demo): an order filled at once is counted from the placement
    answer ("imm", no trade id); when its trades arrive with their ids they are not counted
    again, and the fills pane shows each lot once: the trade's row, never beside an "imm" row
    for the same lots.  A part filled at once leaves the rest of the "imm" row standing."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    filled = 10
    s.handle(PlaceAck(bid.cloid, 90, AckStatus.FILLED, filled, filled * bid.price), s.now + 0.01)
    assert [(f.tid, f.size) for f in s.view().fills] == [(None, filled)]
    s.handle(fill(11, bid, size=part, oid=90), s.now + 0.01)
    rows = [(f.tid, f.size) for f in s.view().fills]
    left = [(None, filled - part)] if part < filled else []
    assert rows == [*left, (11, part)], rows
    assert sum(size for _, size in rows) == filled == s.maker.position.lots


@pytest.mark.parametrize("fills_arrive", [False, True], ids=["fills-lost", "fills-later"])
def test_D10_D4_an_ack_overtaken_by_its_filled_update_still_counts_what_traded(
    fills_arrive: bool,
) -> None:
    """D10/D4 (swarm seed 1319955): the "filled" update overtakes the placement's answer.
    The update names no amount; the ack says what traded at once, and that is counted even
    though the order is already finished -- whether the trades' fills never come (the
    position was left short) or come later (counted once, not again)."""
    s, first = running_maker()
    (bid,) = places(first, Side.BID)
    s.handle(OrderUpdate(90, bid.cloid, VenueStatus.FILLED, "filled"), s.now + 0.01)
    assert s.maker.position.lots == 0  # no amount yet: nothing to count
    s.handle(
        PlaceAck(bid.cloid, 90, AckStatus.FILLED, bid.size, bid.size * bid.price), s.now + 0.01
    )
    assert s.maker.position.lots == bid.size
    if fills_arrive:
        s.handle(fill(11, bid, size=bid.size, oid=90), s.now + 0.01)
        assert s.maker.position.lots == bid.size
    assert s.order(bid.cloid).state in (OrderState.FILLED, OrderState.FILLED_IMMEDIATELY)
