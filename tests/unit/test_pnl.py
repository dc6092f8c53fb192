"""D36 arithmetic: exact fees, funding and PnL (issue 19's properties).

Net = gross - fees + funding over random fill sequences, exactly; splitting a fill into parts
changes no PnL; the exchange's own average cost (``core.venues.sim.accounts``) and the
maker's (``core.exposure.Position``) close the same PnL on every fill, to the unit, which is
what lets the maker check the venue's ``closedPnl`` with no tolerance but the venue's own
rounding; funding payments de-duplicate by time; the sim's funding sign and cap.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from core.exposure import Position
from core.pnl import Costs, round_half_even
from core.simconfig import FundingConfig
from core.venues.sim.accounts import Exposure
from core.venues.sim.funding import RATE_CAP, FundingProcess, payment

fills = st.lists(
    st.tuples(st.integers(-500, 500).filter(bool), st.integers(9_000, 11_000)),
    min_size=1,
    max_size=60,
)


@given(fills, st.lists(st.integers(-(10**6), 10**6), max_size=60), st.integers(9_000, 11_000))
def test_net_is_gross_minus_fees_plus_funding_exactly(
    sequence: list[tuple[int, int]], money: list[int], mark: int
) -> None:
    position = Position()
    costs = Costs("USDC", Decimal("0.001"))  # 1000 millionths per value unit
    for i, (lots, price) in enumerate(sequence):
        position.apply(lots, lots * price)
        fee = money[i] if i < len(money) else 0
        costs.charge(fee, "USDC")
    for i, amount in enumerate(money):
        costs.pay(amount, float(i))
    gross = position.total_pnl(mark)
    net = gross + costs.value()
    assert net * 1000 == gross * 1000 - costs.fees + costs.funding
    assert costs.fees == sum(money[: len(sequence)])
    assert costs.funding == sum(money)


@given(fills, st.integers(9_000, 11_000), st.data())
def test_pnl_is_the_same_when_a_fill_is_split(
    sequence: list[tuple[int, int]], mark: int, data: st.DataObject
) -> None:
    whole, split = Position(), Position()
    for lots, price in sequence:
        whole.apply(lots, lots * price)
        part = data.draw(st.integers(0, abs(lots)))
        sign = 1 if lots > 0 else -1
        for piece in (part, abs(lots) - part):
            if piece:
                split.apply(sign * piece, sign * piece * price)
    assert (whole.lots, whole.realized) == (split.lots, split.realized)
    assert whole.total_pnl(mark) == split.total_pnl(mark)


@given(fills)
def test_the_exchange_and_the_maker_close_the_same_pnl_on_every_fill(
    sequence: list[tuple[int, int]],
) -> None:
    ours, venue = Position(), Exposure(leverage=10)
    for lots, price in sequence:
        before = ours.realized
        ours.apply(lots, lots * price)
        closed = venue.apply_fill(lots, price)
        assert ours.realized - before == closed
        assert ours.lots == venue.position
        assert abs(ours.cost) == venue.entry_value


def test_a_funding_payment_is_known_by_its_time() -> None:
    costs = Costs("USDC", Decimal("0.000001"))
    assert costs.pay(-5, 3600.0)
    assert not costs.pay(-5, 3600.0)
    costs.remember_funding(0.0)  # history: known, not counted
    assert not costs.pay(-7, 0.0)
    assert (costs.funding, costs.fundings) == (-5, 1)


def test_closed_pnl_agrees_within_the_venues_rounding_only() -> None:
    costs = Costs("USDC", Decimal("0.000001"))
    assert costs.check_closed(Fraction(10_001, 2), 5_000) == ""  # 5000.5 rounds to 5000
    assert costs.check_closed(Fraction(5_002), 5_000) != ""
    assert (costs.checked, costs.closed_mismatches) == (2, 1)
    assert round_half_even(5, 2) == 2 and round_half_even(7, 2) == 4  # half to even


def test_longs_pay_a_positive_rate_and_shorts_receive_it() -> None:
    # 1 ETH (10,000 lots of 0.0001) at 3000 (300,000 ticks of 0.01): 3000 USD; 0.01 % = 0.30.
    assert payment(10_000, 300_000, 1, 0.0001) == -300_000
    assert payment(-10_000, 300_000, 1, 0.0001) == 300_000
    assert payment(10_000, 300_000, 1, -0.0001) == 300_000


def test_the_rate_drifts_within_the_venues_cap() -> None:
    wild = FundingConfig(interval_s=1.0, mean_rate=0.04, volatility=0.04, persistence=1.0)
    process = FundingProcess(wild, seed=1, start=0.0)
    rates = [process.step() for _ in range(500)]
    assert all(-RATE_CAP <= r <= RATE_CAP for r in rates)
    assert len(set(rates)) > 10
    assert process.next_time == 501.0
    still = FundingProcess(FundingConfig(volatility=0.0), seed=1, start=0.0)
    assert {still.step() for _ in range(5)} == {0.0000125}
