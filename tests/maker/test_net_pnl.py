"""D36: net PnL -- fees and funding -- in the maker (issue 19 items 1 and 2).

Every fill's fee is counted once with its trade id, also when its position move was counted
from a placement answer; funding payments enter once, a replay after a reconnect counts
nothing twice, and those replayed while the maker starts are history; the loss limit judges
the net figure; the venue's ``closedPnl`` is checked against our average cost, and a
disagreement is counted, logged and shown -- never silently corrected.
"""

from __future__ import annotations

import dataclasses

from core.events import Fill, Funding, Liquidity, Side
from core.reporter import HeadlessReporter
from core.view import Mode
from tests.maker_harness import (
    INSTRUMENT,
    cancel_alls,
    fill,
    make_config,
    make_params,
    places,
    quoting,
)
from tui.exposure import ExposurePane

# INSTRUMENT: ticks of 0.01, lots of 0.1: one tick x one lot is 0.001 USD = 1000 millionths.
MICRO_PER_VALUE = 1000


def _quoting(**risk: str):  # type: ignore[no-untyped-def]
    config = make_config(strategy={"levels": 1}, risk=risk) if risk else None
    return quoting(make_params(config=config) if config else make_params())


def test_D36_each_fee_is_counted_once_with_its_trade_id() -> None:
    s, first = _quoting()
    (bid,) = places(first, Side.BID)
    paid = dataclasses.replace(fill(50, bid, size=3), fee=4_500, fee_token="USDC")
    s.handle(paid, s.now + 0.01)
    s.handle(dataclasses.replace(paid, snapshot=True), s.now + 0.01)  # a replay
    s.handle(dataclasses.replace(paid, size=4, fee=9_999), s.now + 0.01)  # altered repeat
    # D35 on money: the venue's history telling the same trade with another fee is a
    # disagreement (counted, logged, reconciled), never a second fee.
    s.handle(dataclasses.replace(paid, fee=4_600, snapshot=True), s.now + 0.01)
    view = s.view()
    assert view.counters.inconsistent_fills == 2
    assert any("fee 4600" in e.text for e in view.log)
    assert s.maker.costs.fees == 4_500
    assert view.costs is not None and view.costs.fees == 0.0045
    gross = view.realized_pnl + view.unrealized_pnl
    assert view.pnl() == gross - 0.0045


def test_D36_a_rebate_raises_net_pnl_and_another_tokens_fee_stays_apart() -> None:
    s, first = _quoting()
    (bid,) = places(first, Side.BID)
    s.handle(dataclasses.replace(fill(51, bid, size=1), fee=-200, fee_token="USDC"), s.now)
    s.handle(dataclasses.replace(fill(52, bid, size=1), fee=70, fee_token="HYPE"), s.now)
    view = s.view()
    assert view.costs is not None
    assert view.costs.fees == -0.0002  # a rebate: net PnL is above gross
    assert view.costs.other_fees == (("HYPE", 0.00007),)
    assert view.pnl() == view.gross_pnl() + 0.0002
    pane = ExposurePane().build(view).plain
    assert "HYPE fees" in pane and "fees +0.00" in pane


def test_D36_the_loss_limit_judges_net_pnl() -> None:
    """Flat after a round trip that made 0.10 gross, but fees of 0.25: net -0.15 is past a
    loss limit of 0.1 -- a gross judge would have let it run."""
    s, first = _quoting(loss_limit="0.1")
    (bid,) = places(first, Side.BID)
    (ask,) = places(first, Side.ASK)
    s.handle(dataclasses.replace(fill(60, bid, size=10), fee=100_000), s.now + 0.01)
    assert s.maker.mode is Mode.RUNNING
    out = s.handle(
        dataclasses.replace(fill(61, ask, size=10, price=bid.price + 10), fee=150_000),
        s.now + 0.01,
    )
    assert s.maker.position.lots == 0
    assert s.maker.position.realized * MICRO_PER_VALUE == 100_000  # +0.10 gross
    assert s.maker.mode is Mode.KILLED
    assert cancel_alls(out)
    reason = s.view().kill_triggers[-1].reason
    assert reason == "loss limit: net PnL -0.15 below -0.10", reason


def test_D36_funding_enters_once_and_a_replay_counts_nothing_twice() -> None:
    s, _ = _quoting(loss_limit="1")
    s.handle(Funding(-300_000, 3600.0, "0.0000125"), s.now + 0.01)
    s.handle(Funding(-300_000, 3600.0, "0.0000125", snapshot=True), s.now + 0.01)  # replay
    s.handle(Funding(120_000, 7200.0, "-0.000005"), s.now + 0.01)
    costs = s.view().costs
    assert costs is not None
    assert (costs.funding, costs.fundings) == (-0.18, 2)
    assert s.view().counters.fundings == 2
    assert any("funding paid 0.300000 USDC" in e.text for e in s.view().log)
    # Funding alone can breach the limit: judged at once, not at the next tick.
    out = s.handle(Funding(-900_000, 10_800.0, "0.0001"), s.now + 0.01)
    assert s.maker.mode is Mode.KILLED and cancel_alls(out)


def test_D36_funding_replayed_while_starting_is_history() -> None:
    from core.maker import MarketMaker
    from tests.maker_harness import Rig

    s = Rig(MarketMaker(make_params(), INSTRUMENT), 0.0)
    s.start()
    s.handle(Funding(-500_000, 100.0, "0.0001", snapshot=True), s.now + 0.01)
    assert s.maker.costs.funding == 0  # before this session
    s.handle(Funding(-500_000, 100.0, "0.0001", snapshot=True), s.now + 0.01)
    assert s.maker.costs.funding == 0


def test_D36_closed_pnl_agreeing_is_checked_and_a_disagreement_is_shown() -> None:
    s, first = _quoting()
    (bid,) = places(first, Side.BID)
    (ask,) = places(first, Side.ASK)
    opened = dataclasses.replace(fill(70, bid, size=10), closed_pnl=0, start_position=0)
    opened = dataclasses.replace(opened, venue_time=1.0)
    s.handle(opened, s.now + 0.01)
    # Closing 4 lots 10 ticks higher: 40 value units = 0.04 USD, as the venue says.
    closing = Fill(
        71,
        None,
        ask.cloid,
        Side.ASK,
        bid.price + 10,
        4,
        Liquidity.MAKER,
        2.0,
        closed_pnl=40_000,
        start_position=10,
    )
    s.handle(closing, s.now + 0.01)
    costs = s.maker.costs
    assert (costs.checked, costs.closed_mismatches) == (2, 0)
    # The venue says another figure for the next: counted, logged, shown, reconciled.
    wrong = dataclasses.replace(
        closing, tid=72, venue_time=3.0, closed_pnl=55_000, start_position=6
    )
    s.handle(wrong, s.now + 0.01)
    view = s.view()
    assert view.counters.closed_pnl_mismatches == 1
    assert view.counters.anomalies() == {"closed_pnl_mismatches": 1}
    assert any("a fill may be missing" in e.text for e in view.log)
    assert "closedPnl ≠ venue x1" in ExposurePane().build(view).plain
    line = HeadlessReporter(INSTRUMENT, json_lines=False, out=None).line(view)  # type: ignore[arg-type]
    assert "closedPnl DISAGREES x1" in line and "1 closed-PnL disagreements" in line


def test_D36_no_check_while_our_books_hold_another_entry_than_the_venues() -> None:
    """A fill we have not seen (the venue's startPosition is not ours) or one that arrives
    after a later one leaves the entries apart: no false alarm until both are flat."""
    s, first = _quoting()
    (bid,) = places(first, Side.BID)
    (ask,) = places(first, Side.ASK)
    s.handle(dataclasses.replace(fill(80, bid, size=10), start_position=5, venue_time=1.0), s.now)
    s.handle(
        dataclasses.replace(
            fill(81, ask, size=10, price=bid.price + 5),
            closed_pnl=12_345,
            start_position=15,
            venue_time=2.0,
        ),
        s.now,
    )
    assert s.maker.costs.checked == 0 and s.maker.costs.closed_mismatches == 0
    # Both flat before the next fill: the same entry (none) again, so it is compared.
    s.handle(
        dataclasses.replace(fill(82, bid, size=1), closed_pnl=0, start_position=0, venue_time=3.0),
        s.now,
    )
    assert s.maker.costs.checked == 1
