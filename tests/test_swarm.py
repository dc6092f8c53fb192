"""The swarm (issue 6, D22): seeded adversarial runs of the real maker, checked by invariants.

The CI sweep runs a fixed range of seeds with every seed's own fault mix, market regime,
config and operator script; it must stay well under three minutes on the 2-core CI machine.
The other tests prove that the harness is deterministic, that swarm testing really varies the
fault mix, and that each invariant fires when its rule is broken (a checker that can never
fail proves nothing).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from core.actions import CancelAllOrders, Kill, Resume
from core.cli import main
from core.commands import CancelAll, Place, TimeInForce
from core.events import (
    CancelAllDone,
    Fill,
    Liquidity,
    OpenOrders,
    OrderStatusReport,
    Side,
    Trade,
    VenueOrder,
    VenueStatus,
)
from core.maker import SweepPhase
from core.orders import OrderState
from core.sim import invariants
from core.sim.invariants import Probe
from core.sim.scenario import build
from core.sim.swarm import render_summary, replay_command, run_seed, run_swarm
from core.venues.sim.config import SimConfig
from core.venues.sim.exchange import SimExchange
from tests.maker_harness import BID, Session, commands, places, running_maker

# A quick sweep in the test run; `.ci/run` runs the full fixed sweep through the CLI.
SWEEP_SEEDS = range(1000, 1012)  # 12 seeds x (60 s of faults + 30 s settle)
SWEEP_DURATION = 60.0


def test_ci_sweep_has_no_violations() -> None:
    """D22: the fixed CI sweep; prints how many seeds and how long they took."""
    t0 = time.perf_counter()
    summary = run_swarm(SWEEP_SEEDS, SWEEP_DURATION, jobs=2)
    wall = time.perf_counter() - t0
    print(f"\nswarm CI sweep: {summary.seeds} seeds, {summary.events:,} events in {wall:.1f}s")
    print("\n".join(render_summary(summary)))
    reports = "\n\n".join("\n".join(v.report) for v in summary.violations)
    assert not summary.violations, reports
    assert summary.seeds == len(SWEEP_SEEDS)
    assert sum(summary.fault_counts.values()) > 0, "the sweep must actually inject faults"


def test_same_seed_same_run() -> None:
    """D22: a seed replays exactly: the same events, the same faults, the same verdict."""
    a = run_seed(7, 20.0, settle=10.0)
    b = run_seed(7, 20.0, settle=10.0)
    assert (a.events, a.fault_counts, a.invariant) == (b.events, b.fault_counts, b.invariant)
    assert a.events > 0


def test_swarm_testing_varies_the_fault_mix() -> None:
    """Not every fault in every run: seeds switch different subsets on."""
    mixes = {build(seed).faults_on for seed in range(40)}
    assert len(mixes) > 10
    assert any(not mix for mix in mixes) or any(len(mix) < 4 for mix in mixes)
    assert build(3).describe() == build(3).describe()


def test_replay_command_names_the_run() -> None:
    assert replay_command(42, 120.0, "swarm") == "mm-console swarm --seeds 1 --start 42 --trace"
    assert replay_command(42, 30.0, "calm").endswith("--duration 30 --faults calm --trace")


# ---- the invariants fire when their rule is broken ---------------------------------------


def test_crossing_alo_and_placement_while_killed_are_caught() -> None:
    bid = Place("0x1", Side.BID, 101, 1, TimeInForce.ALO, level=0)
    assert invariants.maker_only_never_crosses(bid, best_bid=99, best_ask=101)
    assert invariants.maker_only_never_crosses(bid, best_bid=99, best_ask=102) is None
    ioc = Place("0x2", Side.BID, 105, 1, TimeInForce.IOC)
    assert invariants.maker_only_never_crosses(ioc, best_bid=99, best_ask=101) is None
    assert invariants.no_placement_while_killed(bid, killed=True)
    assert invariants.backoff_blocks_only_placements(bid, {Side.BID: "RateLimit 3s"})
    assert invariants.backoff_blocks_only_placements(ioc, {Side.BID: "RateLimit 3s"}) is None


def test_cancel_all_that_waits_is_caught() -> None:
    assert invariants.cancels_never_wait(CancelAllOrders(), [], sweep_was_active=False)
    assert invariants.cancels_never_wait(Kill(), [CancelAll("kill")], False) is None
    assert invariants.cancels_never_wait(Kill(), [], sweep_was_active=True) is None


def test_quotes_beside_an_unverified_cancel_all_are_caught() -> None:
    """D13/D25: the probe follows the sweep itself; a maker that quotes again after a failed
    cancel-all, before the operator resumes or a sweep verifies, is a violation."""
    bid = Place("0x1", Side.BID, 101, 1, TimeInForce.ALO, level=0)
    ioc = Place("0x2", Side.BID, 105, 1, TimeInForce.IOC)
    assert invariants.no_quotes_beside_an_unverified_sweep(bid, "the failed cancel-all")
    assert invariants.no_quotes_beside_an_unverified_sweep(ioc, "the failed cancel-all") is None
    assert invariants.no_quotes_beside_an_unverified_sweep(bid, None) is None

    def failed_sweep() -> tuple[Probe, Session]:
        s, first = running_maker()
        s.ack_all(first, 100)
        probe = Probe(s.maker, SimExchange(SimConfig(seed=1)))
        probe.operate(CancelAllOrders("test"), s.now + 0.1)
        stuck = (VenueOrder(9001, None, Side.BID, BID - 500, 10, 10),)  # not ours, will not go
        for _ in range(s.maker.params.sweep_attempts):
            s.now += 0.1
            probe.handle(CancelAllDone(len(first), len(stuck)), s.now)
            probe.handle(OpenOrders(stuck), s.now)
        assert s.maker.sweep_phase is SweepPhase.FAILED
        for order in list(s.maker.tracker.non_terminal()):  # ours did go
            probe.handle(OrderStatusReport(order.cloid, order.oid, VenueStatus.CANCELED, ""), s.now)
        return probe, s

    def quote(probe: Probe, s: Session) -> list[Place]:
        sent = []
        for _ in range(20):
            s.now += 0.1
            probe.handle(Trade(Side.BID, BID, 1), s.now)
            sent += places(commands(probe.tick(s.now)))
        return sent

    probe, s = failed_sweep()
    assert quote(probe, s) == [] and probe.violation is None
    probe.operate(Resume(), s.now + 0.1)
    assert quote(probe, s) and probe.violation is None, "resumed by the operator: quotes may go"

    probe, s = failed_sweep()
    s.maker.paused = False  # a maker that forgets why it stopped
    quote(probe, s)
    assert probe.violation is not None
    assert probe.violation.invariant == "no_quotes_beside_an_unverified_sweep"


def test_replayed_fill_counted_twice_is_caught() -> None:
    seen: set[int] = set()
    fill = Fill(9, 1, "0x1", Side.BID, 100, 3, Liquidity.MAKER)
    assert invariants.fill_counted_once(fill, seen, moved=3) is None
    assert invariants.fill_counted_once(fill, seen, moved=3)
    assert invariants.fill_counted_once(fill, seen, moved=0) is None


def _probes(monkeypatch: pytest.MonkeyPatch) -> list[Probe]:
    made: list[Probe] = []
    original = Probe.__init__

    def init(self: Probe, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Probe, "__init__", init)
    return made


def test_orphan_on_the_venue_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """D22/D25: an order on the venue the tracker does not know is an orphan at quiescence."""
    made = _probes(monkeypatch)
    result = run_seed(5, 10.0, "instant", settle=10.0)
    probe = made[0]
    assert result.invariant is None, result.report
    assert probe.converged(20.0) is None
    price = (probe.maker.book.best_bid or 1_000) - 50
    probe.exchange.inject_account_order(Side.BID, price, 100)
    assert "orphans on the venue" in (probe.converged(20.0) or "")


def test_unsound_orders_are_caught_overfill_at_once_resurrection_within_the_stride(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D1, D3: the incremental check still catches every kind of unsound order: an overfill
    on a live order after the very event, a terminal order changing state (or an order
    changing on a quiet event) within ``FULL_SCAN_EVERY`` events, and at quiescence at once."""
    made = _probes(monkeypatch)
    assert run_seed(5, 10.0, "instant", settle=10.0).invariant is None
    maker = made[0].maker
    orders = maker.tracker.by_cloid
    live = next(o for o in orders.values() if not o.state.is_terminal)
    done = next(o for o in orders.values() if o.state.is_terminal)

    watch = invariants.OrderWatch()
    assert invariants.order_state_sound(maker, watch, full=True) is None
    live.filled = live.size + 1
    assert "filled" in (invariants.order_state_sound(maker, watch) or "")
    live.filled = 0

    watch = invariants.OrderWatch()
    assert invariants.order_state_sound(maker, watch, full=True) is None
    done.state = OrderState.RESTING
    verdicts = [
        invariants.order_state_sound(maker, watch)
        for _ in range(invariants.OrderWatch.FULL_SCAN_EVERY)
    ]
    assert any(v is not None and "terminal order" in v for v in verdicts)
    assert "terminal order" in (invariants.order_state_sound(maker, watch, full=True) or "")

    watch = invariants.OrderWatch()
    assert invariants.order_state_sound(maker, watch, full=True) is None
    live.filled = live.size + 1  # changed on market data the maker sent nothing for
    assert invariants.order_state_sound(maker, watch, quiet=True) is None
    verdicts = [
        invariants.order_state_sound(maker, watch, quiet=True)
        for _ in range(invariants.OrderWatch.FULL_SCAN_EVERY)
    ]
    assert any(v is not None and "filled" in v for v in verdicts)
    live.filled = 0

    watch = invariants.OrderWatch()
    assert invariants.order_state_sound(maker, watch, full=True) is None
    maker.tracker.pending_lots[Side.ASK] = -1
    assert "negative" in (invariants.order_state_sound(maker, watch) or "")


def test_a_maker_that_raises_is_a_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: object, event: object, now: float) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr("core.maker.MarketMaker.handle", boom)
    result = run_seed(1, 5.0, "instant", settle=2.0)
    assert result.invariant == "maker_never_raises"
    assert any("RuntimeError" in line for line in result.report)
    assert result.report[-1].endswith("--trace")


def test_cli_swarm_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["swarm", "--seeds", "2", "--start", "11", "--duration", "10", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    for row in ("seeds run", "simulated hours", "events processed", "violations", "seeds/min"):
        assert row in out
    assert "fault: disconnect" in out


def _seed_with(*parts: str, operator: bool = True) -> int:
    """The first seed whose own plan has ``parts`` on (and an operator script if asked)."""
    return next(
        seed
        for seed in range(100, 10_000)
        if set(parts) <= set((s := build(seed)).faults_on) and bool(s.actions) == operator
    )


def test_without_switches_a_part_off_and_leaves_every_other_draw_as_it_was() -> None:
    """Shrinking needs the same run minus one part: the market, the maker's config, the other
    faults' strengths and the operator's times must not move when one part goes."""
    seed = _seed_with("disconnect", "timeout")
    full = build(seed)
    less = build(seed, without=("disconnect", "operator"))
    assert "disconnect" not in less.faults_on and "timeout" in less.faults_on
    assert less.actions == () and full.actions
    assert less.config.sim.flow == full.config.sim.flow
    assert less.config.strategy == full.config.strategy
    assert less.config.reconcile == full.config.reconcile
    faults, dropped = full.config.sim.faults, less.config.sim.faults
    assert dropped.disconnects_at == () and dropped.disconnect_rate_per_min == 0.0
    assert dropped.timeout_rate == faults.timeout_rate > 0
    assert dropped.request_timeout_s == faults.request_timeout_s
    assert less.describe()[-1] == "switched off: disconnect, operator"
    assert build(seed, without=()) == full
    with pytest.raises(ValueError, match="cannot switch off"):
        build(seed, without=("gremlins",))


def test_a_failing_seed_is_shrunk_to_the_fault_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 6: the report says the least of the plan that still fails, and how to replay it.
    Here the maker is broken on purpose so that it raises on a disconnect."""
    from core.events import Disconnected
    from core.maker import MarketMaker

    real = MarketMaker.handle

    def fragile(self: MarketMaker, event: object, now: float) -> list[Any]:
        if isinstance(event, Disconnected):
            raise RuntimeError("cannot bear a disconnect")
        return real(self, event, now)  # type: ignore[arg-type]

    monkeypatch.setattr(MarketMaker, "handle", fragile)
    seed = _seed_with("disconnect", "latency")
    summary = run_swarm([seed], 20.0, jobs=1)
    (violation,) = summary.violations
    assert violation.invariant == "maker_never_raises"
    report = violation.report
    shrunk = next(line for line in report if line.startswith("  shrunk:"))
    assert "still fails with only disconnect " in shrunk
    assert "latency" in shrunk.split("switched off:")[1] and "operator" in shrunk
    assert report[-1].startswith("  replay shrunk: mm-console swarm --seeds 1 --start")
    assert "--without " in report[-1] and report[-1].endswith("--trace")
    off = report[-1].split("--without ")[1].split()[0].split(",")
    assert "disconnect" not in off
    again = run_seed(seed, 20.0, without=off)
    assert again.invariant == "maker_never_raises"


def test_cli_without_names_what_may_be_switched_off(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["swarm", "--seeds", "1", "--without", "latency,gremlins"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "gremlins is not a part of the plan" in err and "mixed_reject, operator" in err
    code = main(
        [
            "swarm",
            "--seeds",
            "1",
            "--start",
            "3",
            "--duration",
            "5",
            "--jobs",
            "1",
            "--without",
            "operator",
        ]
    )
    assert code == 0
