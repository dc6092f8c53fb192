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
from core.clock import VirtualClock
from core.commands import Batch, Cancel, CancelAll, Modify, Place, SyncState, TimeInForce
from core.config import Config
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
from core.harness import invariants
from core.harness.invariants import Bounds
from core.harness.loop import SimLoop
from core.harness.probe import Probe
from core.harness.scenario import SHRINKABLE, build
from core.harness.swarm import render_summary, replay_command, run_seed, run_swarm
from core.maker import MakerParams, MarketMaker, Quoting, SweepPhase
from core.orders import OrderState
from core.simconfig import FlowConfig, SimConfig
from core.venues.sim.exchange import SimExchange
from mm_console.cli import main
from tests.maker_harness import BID, Rig, commands, places, running_maker

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
    assert any(len(mix) < len(SHRINKABLE) // 2 for mix in mixes)
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

    def failed_sweep() -> tuple[Probe, Rig]:
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

    def quote(probe: Probe, s: Rig) -> list[Place]:
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
    s.maker.life.quoting = Quoting.RUNNING  # a maker that forgets why it stopped
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


# ---- issue 14's invariants fire on a deliberately broken maker ----------------------------


def _run(
    faults: dict[str, Any],
    until: float,
    *,
    actions: tuple[tuple[float, Any], ...] = (),
    maker: dict[str, Any] | None = None,
    seed: int = 3,
    still: bool = False,
    free: bool = False,
) -> Probe:
    """The real maker (as configured) against the embedded exchange with ``faults``, watched by
    a probe, in virtual time; returns the probe (its ``violation`` says what broke).  ``free``:
    no fees, so that a maker made to drop fills is caught by the rule under test, not first
    by D36's count of their fees."""
    sim: dict[str, Any] = {"seed": seed, "faults": faults}
    if free:
        sim.update(maker_fee="0", taker_fee="0")
    if still:  # a market that does not move: resting quotes are never re-priced
        sim["flow"] = FlowConfig.still().model_dump()
    config = Config.model_validate({**(maker or {}), "sim": sim})
    exchange = SimExchange(config.sim)
    params = MakerParams.from_config(config, exchange.instrument, live=False)
    probe = Probe(MarketMaker(params, exchange.instrument), exchange)
    loop = SimLoop(
        exchange,
        probe,
        VirtualClock(),
        tick_interval=config.strategy.tick_interval_s,
        observer=probe.observe,
        record=False,
    )
    for batch in probe.start(0.0):
        exchange.submit(batch, 0.0)
    for at, action in actions:
        loop.run_until(at)
        for batch in probe.operate(action, at):
            exchange.submit(batch, at)
    t = loop.clock.now()
    while t < until and probe.violation is None:
        t = min(until, t + 1.0)
        loop.run_until(t)
    return probe


def test_no_amplification_fires_on_a_request_storm_and_reports_the_peak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D29: a maker that answers each tick with sixty syncs sends 120 requests in one second."""
    clean = _run({}, 20.0)
    assert clean.violation is None
    assert 0 < clean.max_request_rate <= Bounds().max_requests_per_s
    original = MarketMaker.tick

    def storm(self: MarketMaker, now: float) -> list[Batch]:
        out = original(self, now)
        if now > 10.0:
            out = [*out, *(Batch(10_000 + i, (SyncState("storm"),)) for i in range(60))]
        return out

    monkeypatch.setattr(MarketMaker, "tick", storm)
    probe = _run({}, 20.0)
    assert probe.violation is not None and probe.violation.invariant == "no_amplification"
    assert probe.max_request_rate > Bounds().max_requests_per_s


def test_risk_judged_on_the_fill_fires_when_the_kill_waits_for_a_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D30: the kill used to come at the next timer tick, with every quote still resting."""
    s, _ = running_maker()
    probe = Probe(s.maker, SimExchange(SimConfig(seed=1)))
    limit = s.maker.params.risk.kill_position
    monkeypatch.setattr(MarketMaker, "_risk", lambda self, now: [])
    probe.handle(Fill(77, None, None, Side.BID, BID, limit + 1, Liquidity.TAKER), s.now + 0.1)
    assert probe.violation is not None
    assert probe.violation.invariant == "risk_judged_on_the_fill"


def test_no_silent_stall_fires_on_a_level_left_unquoted_without_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D27/D31: a cancel the venue never answers holds one level of two; the maker says so
    (``stalls``).  A maker that says nothing is a silent stall."""
    ladder = {"strategy": {"levels": 2, "requote_threshold_ticks": 1}}
    faults = {"request_latency": {"median_s": 0.01, "p99_s": 0.01}}

    def unanswered_cancels(probe: Probe) -> None:
        original = probe.exchange.submit

        def submit(batch: Batch, now: float) -> None:
            kept = tuple(c for c in batch.commands if not isinstance(c, Cancel | Modify))
            if kept:
                original(Batch(batch.batch_id, kept, batch.expires_in), now)

        monkeypatch.setattr(probe.exchange, "submit", submit)

    made = _probes(monkeypatch)
    original_init = SimLoop.__init__

    def init(self: SimLoop, exchange: SimExchange, *args: Any, **kwargs: Any) -> None:
        original_init(self, exchange, *args, **kwargs)
        unanswered_cancels(made[-1])

    monkeypatch.setattr(SimLoop, "__init__", init)
    probe = _run(faults, 60.0, maker=ladder)
    assert probe.violation is None, probe.violation
    assert probe.maker.stalls(60.0) or any(r for r in probe.maker.side_plan(60.0)[1].values()), (
        "the maker says why"
    )
    monkeypatch.setattr(MarketMaker, "stalls", lambda self, now, desired=None, reasons=None: {})
    monkeypatch.setattr(MarketMaker, "_cancel_wait_reason", lambda self, side, now: None)
    probe = _run(faults, 60.0, maker=ladder)
    assert probe.violation is not None and probe.violation.invariant == "no_silent_stall"


def test_no_phantom_fires_on_a_maker_deaf_to_the_venues_cancels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D32: the venue cancels our resting orders on its own and says so; a maker that drops
    that news (as oid-only news used to be dropped) shows them resting: phantoms."""
    faults = {"venue_cancel_rate_per_min": 30.0}
    patient = {"risk": {"stale_data_s": 1000.0}}  # a still market sends no data at all
    assert _run(faults, 90.0, still=True, maker=patient).violation is None
    monkeypatch.setattr(MarketMaker, "_on_order_update", lambda self, ev, now: None)
    monkeypatch.setattr(MarketMaker, "_on_status_report", lambda self, ev, now: [])
    probe = _run(faults, 90.0, still=True, maker=patient)
    assert probe.violation is not None and probe.violation.invariant == "no_phantom"


def test_prompt_convergence_fires_on_a_position_that_drifts_between_syncs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D16/D22: not only at quiescence: a maker that loses fills and never corrects its
    position from the venue's disagrees with every position the venue had."""
    assert _run({}, 120.0).violation is None
    monkeypatch.setattr(MarketMaker, "_on_fill", lambda self, ev, now: None)
    monkeypatch.setattr(MarketMaker, "_adopt_position", lambda self, ev, after: None)
    probe = _run({}, 120.0, free=True)
    assert probe.violation is not None and probe.violation.invariant == "prompt_convergence"
    assert "position" in probe.violation.detail


def test_prompt_convergence_fires_on_an_orphan_the_maker_never_notices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(MarketMaker, "_on_open_orders", lambda self, ev, now: [])
    made = _probes(monkeypatch)
    original = SimLoop.run_until
    injected: list[int] = []

    def run_until(self: SimLoop, t_end: float) -> None:
        original(self, t_end)
        if t_end >= 10.0 and not injected:
            probe = made[-1]
            price = (probe.maker.book.best_bid or 1_000_000) - 500
            injected.append(probe.exchange.inject_account_order(Side.BID, price, 100))

    monkeypatch.setattr(SimLoop, "run_until", run_until)
    probe = _run({}, 90.0)
    assert probe.violation is not None and probe.violation.invariant == "prompt_convergence"
    assert f"oid {injected[0]}" in probe.violation.detail


def test_kill_empties_the_venue_after_the_storm_fires_on_a_kill_that_cancels_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D18/D29: a kill in a rate-limit storm that answers cancels 429: the venue must be
    empty within the bound once the storm lifts; a kill that sends nothing never empties it."""
    faults = {
        "rate_limit_storms_at": (10.0,),
        "rate_limit_storm_s": 8.0,
        "storm_cancel_429_rate": 1.0,
        "storm_sync_429_rate": 1.0,
        "storm_query_429_rate": 1.0,
    }
    kill = ((12.0, Kill("test")),)
    good = _run(faults, 60.0, actions=kill)
    assert good.violation is None, good.violation
    assert good.exchange.open_orders() == ()
    # A kill that sends its cancel-all once and never again (nor cancels order by order).
    monkeypatch.setattr(MarketMaker, "_resweep", lambda self, now, why, rate_limited: [])
    monkeypatch.setattr(MarketMaker, "_on_status_report", lambda self, ev, now: [])
    quote = MarketMaker._quote

    def no_cancels_once_killed(self: MarketMaker, now: float, *, reacting: bool) -> list[Any]:
        return [] if self.kill_switch.latched else quote(self, now, reacting=reacting)

    monkeypatch.setattr(MarketMaker, "_quote", no_cancels_once_killed)
    probe = _run(faults, 60.0, actions=kill)
    assert probe.violation is not None
    assert probe.violation.invariant == "kill_empties_the_venue_after_the_storm"
