"""``PositionMoves.record`` forgets moves past its horizon exactly as a full check per move
would, with times in any order, untimed moves and adoptions in between (D16)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.reconcile import PositionMoves


class _EveryMove(PositionMoves):
    """The reference: the horizon is checked after every recorded move."""

    def record(self, venue_time: float | None, lots: int, value: int) -> None:
        if venue_time is None or not lots:
            return
        moves = self._moves
        moves.append((venue_time, lots, value))
        self._newest = max(self._newest, venue_time)
        horizon = self._newest - self.horizon
        while moves and moves[0][0] < horizon:
            self.covers_since = max(self.covers_since, moves.popleft()[0])


_STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("record"),
            st.one_of(st.none(), st.integers(0, 60).map(float)),
            st.integers(-3, 3),
        ),
        st.tuples(
            st.just("adopt"), st.one_of(st.none(), st.integers(0, 60).map(float)), st.just(0)
        ),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(steps=_STEPS, horizon=st.sampled_from([0.0, 1.0, 5.0, 20.0]))
def test_record_forgets_what_a_check_per_move_forgets(
    steps: list[tuple[str, float | None, int]], horizon: float
) -> None:
    fast, reference = PositionMoves(horizon), _EveryMove(horizon)
    for kind, t, lots in steps:
        for moves in (fast, reference):
            if kind == "record":
                moves.record(t, lots, 100 * lots)
            else:
                moves.adopted(t)
        assert len(fast) == len(reference)
        assert fast.covers_since == reference.covers_since
        for probe in (None, -1.0, 0.0, 10.0, 30.0, 59.5):
            assert fast.after(probe) == reference.after(probe)
