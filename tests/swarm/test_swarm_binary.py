"""The swarm's Polymarket-style seeds (issue 21): binary markets, D38-D40 under the swarm.

A share of the seeds (``scenario.BINARY_SHARE``) trades a binary outcome token, drawn from a
stream of its own so that every perp seed is what it was; the D38 invariant
(``failed_reversed_once``, and the confirmed/pending split at quiescence) must fire when the
maker gets settlement wrong.  Runs are virtual and seeded.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from core.events import Fill, FillSettled, Liquidity, Side
from core.harness import invariants, scenario
from core.harness.invariants import Settled
from core.harness.scenario import SHRINKABLE, Scenario
from core.harness.swarm import run_seed
from core.maker import MarketMaker
from core.maker.settling import Settling
from core.settlement import Settlements
from core.simconfig import SimConfig
from core.venues.sim.exchange import SimExchange

SEEDS = range(1000, 1100)
# The share these tests draw at, whatever ``scenario.BINARY_SHARE`` is (it may be switched off
# while the maker's side of D38 is unfinished).
DRAWN = scenario.DRAWN_SHARE


@pytest.fixture(autouse=True)
def _binary_seeds_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario, "BINARY_SHARE", DRAWN)


def build(seed: int, *, without: tuple[str, ...] = (), binary_share: float = DRAWN) -> Scenario:
    return scenario.build(seed, without=without, binary_share=binary_share)


def test_a_share_of_the_seeds_trade_a_binary_market_and_perp_seeds_stay_as_they_were() -> None:
    binary = [seed for seed in SEEDS if build(seed).binary]
    assert 0.1 < len(binary) / len(SEEDS) < 0.45  # about DRAWN
    for seed in SEEDS:
        scenario, perp = build(seed), build(seed, binary_share=0.0)
        assert not perp.binary
        if not scenario.binary:
            assert scenario == perp  # the perp's every draw is untouched
        else:
            # a binary seed keeps its fault mix, operator script and signals
            assert scenario.actions == perp.actions
            assert scenario.config.signals == perp.config.signals
            assert set(perp.faults_on) <= set(scenario.faults_on)
            assert scenario.config.market.symbol == scenario.config.sim.symbol == "YES"


def test_binary_seeds_draw_the_polymarket_parts_and_can_shrink_them() -> None:
    parts = {"trade_failures", "tick_changes", "heartbeat_lapses", "post_only_mode", "no_replay"}
    assert parts <= set(SHRINKABLE)
    seen: set[str] = set()
    for seed in SEEDS:
        scenario = build(seed)
        if scenario.binary:
            seen |= parts & set(scenario.faults_on)
            assert any(line.startswith("polymarket: ") for line in scenario.describe())
    assert seen == parts
    seed = next(s for s in SEEDS if "tick_changes" in build(s).faults_on)
    less = build(seed, without=("tick_changes",))
    assert "tick_changes" not in less.faults_on
    assert less.config.sim.faults.tick_change_every_s == 0
    assert less.config.sim.flow == build(seed).config.sim.flow  # nothing else moves


def test_a_binary_seed_replays_exactly_and_exercises_the_venue() -> None:
    seed = next(
        s
        for s in SEEDS
        if "trade_failures" in build(s).faults_on
        and build(s).config.sim.faults.tick_change_every_s == 15.0
    )
    a = run_seed(seed, 40.0, settle=20.0)
    b = run_seed(seed, 40.0, settle=20.0)
    assert (a.events, a.fault_counts, a.invariant) == (b.events, b.fault_counts, b.invariant)
    assert a.invariant is None, "\n".join(a.report)
    assert a.fault_counts["tick_changes"] > 0


def test_a_maker_that_ignores_failed_trades_is_caught_D38(monkeypatch: pytest.MonkeyPatch) -> None:
    """A maker that never reverses a FAILED trade leaves it pending: caught at once."""
    seed = next(s for s in SEEDS if "trade_failures" in build(s).faults_on)
    monkeypatch.setattr(Settling, "_on_fill_settled", lambda self, ev, now: None)
    result = run_seed(seed)
    assert result.invariant == "failed_reversed_once", "\n".join(result.report)
    assert "still pending after the venue's last word" in result.report[1]


# ---- the invariant itself, on hand-made states ------------------------------------------------


def _fill(tid: int, side: Side = Side.BID, lots: int = 500) -> Fill:
    return Fill(tid, 1, "c1", side, 5000, lots, Liquidity.MAKER, 1.0, final=False)


def _maker(pending: dict[int, int] | None = None) -> MarketMaker:
    settlements = Settlements()
    for tid, lots in (pending or {}).items():
        settlements.hold(tid, lots, lots * 5000, 0, "pUSD")
    return cast(MarketMaker, SimpleNamespace(settlements=settlements))


def _exchange() -> SimExchange:
    return SimExchange(SimConfig(market="binary"))


def test_a_failed_trade_must_move_the_position_back_by_exactly_its_size_D38() -> None:
    exchange, settled = _exchange(), Settled()
    failed = FillSettled(7, False, "FAILED", 3.0)
    check = invariants.failed_reversed_once
    assert check(failed, -500, 500, False, settled, _maker(), exchange) is None
    settled = Settled()
    assert "not -500" in (check(failed, -300, 500, False, settled, _maker(), exchange) or "")
    settled = Settled()
    assert "not -500" in (check(failed, 0, 500, False, settled, _maker(), exchange) or "")


def test_a_repeated_early_or_confirmed_word_moves_nothing_D38() -> None:
    exchange, settled = _exchange(), Settled()
    check = invariants.failed_reversed_once
    failed = FillSettled(7, False, "FAILED", 3.0)
    assert check(failed, -500, 500, False, settled, _maker(), exchange) is None
    assert "repeated or early FAILED" in (
        check(failed, -500, None, False, settled, _maker(), exchange) or ""
    )
    early = FillSettled(8, False, "FAILED", 3.0)  # before its fill: nothing held yet
    assert check(early, 0, None, False, settled, _maker(), exchange) is None
    assert "told FAILED before it came" in (
        check(_fill(8), 500, None, True, settled, _maker(), exchange) or ""
    )
    assert check(_fill(8), 0, None, True, settled, _maker(), exchange) is None
    confirmed = FillSettled(9, True, "CONFIRMED", 3.0)
    assert "CONFIRMED for trade 9 moved" in (
        check(confirmed, 100, 500, False, settled, _maker(), exchange) or ""
    )
    assert "still pending" in (
        check(confirmed, 0, 500, False, settled, _maker({9: 500}), exchange) or ""
    )
