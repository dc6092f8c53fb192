"""The position's integer arithmetic against the ``Fraction`` arithmetic it replaced (issue 22).

``core.exposure.Position`` keeps cost and realised PnL as integer numerators over one shared
denominator, and ``core.pnl.Costs`` keeps funding minus fees as an integer ratio, so that a
fill builds no ``Fraction``.  ``_Reference`` below is the previous ``Fraction`` implementation,
kept here as the specification: over random sequences of fills (any prices, including values
that are not price x lots), venue adoptions and replays of counted moves, every exact figure
must agree -- cost, realised PnL, the PnL each fill closed, average entry, unrealised and total
PnL -- and so must the rounding to the venue's millionths and the loss-limit decision.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import lcm

from hypothesis import given
from hypothesis import strategies as st

from core.exposure import Position
from core.pnl import Costs, round_half_even
from core.risk import RiskLimits, kill_reason


class _Reference:
    """Average-cost accounting in ``Fraction``s, as ``Position`` did it before."""

    def __init__(self) -> None:
        self.lots = 0
        self.cost = Fraction(0)
        self.realized = Fraction(0)

    def apply(self, signed_lots: int, signed_value: int) -> Fraction:
        if signed_lots == 0:
            return Fraction(0)
        pos = self.lots
        if pos == 0 or (pos > 0) == (signed_lots > 0):
            self.lots = pos + signed_lots
            self.cost += signed_value
            return Fraction(0)
        price = Fraction(signed_value, signed_lots)
        closing = min(abs(signed_lots), abs(pos))
        avg = self.cost / pos
        direction = 1 if pos > 0 else -1
        realized = (price - avg) * closing * direction
        self.realized += realized
        remaining_old = pos - direction * closing
        self.cost = avg * remaining_old
        opening = abs(signed_lots) - closing
        self.lots = remaining_old + (opening * (1 if signed_lots > 0 else -1))
        if opening:
            self.cost += price * opening * (1 if signed_lots > 0 else -1)
        return realized

    def reset(self, lots: int, entry_value: int | None) -> None:
        if lots == 0:
            self.cost = Fraction(0)
        elif entry_value is not None:
            self.cost = Fraction(entry_value) * (1 if lots > 0 else -1)
        elif self.lots and (lots > 0) == (self.lots > 0):
            self.cost = self.cost / self.lots * lots
        else:
            self.cost = Fraction(0)
        self.lots = lots

    def total(self, mark: int | None) -> Fraction:
        if not self.lots or mark is None:
            return self.realized
        return self.realized + mark * self.lots - self.cost


lots = st.integers(-40, 40)
fill = st.tuples(st.just("fill"), lots, st.integers(1, 20_000), st.integers(-3, 3))
adopt = st.tuples(st.just("adopt"), lots, st.one_of(st.none(), st.integers(0, 400_000)), lots)
replay = st.tuples(st.just("replay"), lots, st.integers(1, 20_000), st.just(0))
steps = st.lists(st.one_of(fill, fill, fill, adopt, replay), min_size=1, max_size=80)


def _same(ours: Position, ref: _Reference, mark: int | None) -> None:
    # The denominator is the exact values' own, as small as the ``Fraction``s' (a larger one
    # would only make every later fill slower).
    assert ours.den == lcm(ref.cost.denominator, ref.realized.denominator)
    assert (ours.lots, ours.cost, ours.realized) == (ref.lots, ref.cost, ref.realized)
    assert ours.average_entry == (ref.cost / ref.lots if ref.lots else None)
    assert ours.total_pnl(mark) == ref.total(mark)
    assert Fraction(ours.pnl_num(mark), ours.den) == ref.total(mark)
    assert ours.unrealized(mark) == ref.total(mark) - ref.realized


@given(steps, st.one_of(st.none(), st.integers(1, 20_000)))
def test_position_agrees_with_the_fraction_reference(
    sequence: list[tuple[str, int, int | None, int]], mark: int | None
) -> None:
    ours, ref = Position(), _Reference()
    for kind, n, x, extra in sequence:
        if kind == "fill":
            assert x is not None
            value = n * x + (extra if n else 0)  # now and then not price x lots
            closed = ref.apply(n, value)
            ours.apply(n, value)
            assert Fraction(ours.closed_num, ours.closed_den) == closed
        elif kind == "adopt":
            # The venue's position, then the moves counted after it, realised once already.
            ours.reset(n, x)
            ref.reset(n, x)
            realized = ref.realized
            if extra:
                ref.apply(extra, extra * 1_000)
            ours.replay([(extra, extra * 1_000)] if extra else [])
            ref.realized = realized
        else:
            assert x is not None
            state = ours.state()
            ours.apply(n, n * x)
            ours.restore(state)
        _same(ours, ref, mark)
    assert ours.fills == sum(1 for kind, n, _, _ in sequence if kind == "fill" and n)


@given(st.integers(-(10**9), 10**9), st.integers(1, 10**6))
def test_round_half_even_is_round_of_the_fraction(num: int, den: int) -> None:
    assert round_half_even(num, den) == round(Fraction(num, den))


value_units = st.sampled_from(["0.000001", "0.001", "0.00001", "0.0000001", "0.0003", "1.5"])


@given(
    value_units,
    st.lists(st.tuples(st.booleans(), st.integers(-(10**6), 10**6)), max_size=20),
    st.integers(-(10**6), 10**6),
    st.integers(1, 10**4),
)
def test_costs_and_the_closed_check_agree_with_fractions(
    unit: str, moves: list[tuple[bool, int]], closed_num: int, closed_den: int
) -> None:
    costs = Costs("USDC", Decimal(unit))
    per_value = Fraction(Decimal(unit)) * 10**6
    for i, (is_fee, amount) in enumerate(moves):
        if is_fee:
            costs.charge(amount, "USDC")
        else:
            costs.pay(amount, float(i))
    net = Fraction(costs.funding - costs.fees)
    assert costs.value() == net / per_value
    assert Fraction(costs.value_num, costs.value_den) == net / per_value
    ours = Fraction(closed_num, closed_den)
    expected = round(ours * per_value)
    assert costs.quote_of(closed_num, closed_den) == expected
    assert costs.quote_of(ours) == expected


@given(
    st.lists(st.tuples(lots, st.integers(1, 20_000)), min_size=1, max_size=40),
    value_units,
    st.integers(-(10**7), 10**7),
    st.integers(0, 10**6),
    st.one_of(st.none(), st.integers(1, 20_000)),
)
def test_the_loss_limit_decides_as_with_fractions(
    fills: list[tuple[int, int]], unit: str, fee: int, loss_limit: int, mark: int | None
) -> None:
    ours, ref = Position(), _Reference()
    costs = Costs("USDC", Decimal(unit))
    costs.charge(fee, "")
    for n, price in fills:
        ours.apply(n, n * price)
        ref.apply(n, n * price)
    limits = RiskLimits(
        max_position=10**9, max_notional=10**12, loss_limit=loss_limit, stale_data_s=5.0
    )

    def reason(pnl: Fraction | int, den: int = 1) -> str | None:
        return kill_reason(
            limits,
            position=ours.lots,
            pnl=pnl,
            pnl_den=den,
            data_age=None,
            connected=True,
            size_text=str,
        )

    value_den = costs.value_den
    exact = reason(
        ours.pnl_num(mark) * value_den + costs.value_num * ours.den, ours.den * value_den
    )
    assert exact == reason(ref.total(mark) + costs.value())
