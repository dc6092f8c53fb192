"""A typed view boundary (issue 15 item 2): order state, recovery state and sweep phase are
enums across ``ConsoleView``, the counters a frozen dataclass with named fields, and "live" has
one definition (``OrderState.is_live``).  What the screens and ``--json`` print stays byte for
byte what it was: the strings below were recorded from the tree before the change, for one
fixed session in virtual time (the embedded exchange with the swarm's adversarial preset, seed
1001: orders in five states, a stalled level, venue anomalies, then a quit)."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest

from core.actions import Quit
from core.clock import VirtualClock
from core.config import Config, SignalsConfig
from core.harness.loop import SimLoop
from core.harness.scenario import build
from core.maker import MakerParams, MarketMaker
from core.orders import LIVE, OrderState
from core.recovery import RecoveryState
from core.reporter import ANOMALIES, HeadlessReporter, session_summary
from core.runner import RunResult
from core.venues.sim.exchange import SimExchange
from core.view import ConsoleView, Counters, SweepPhase

STATUS_AT_16S = (
    # Issue 20 added the signals and the spread per side, issue 19 the parts of net PnL, at the
    # end (D36); "pnl" is net of fees and funding since then, and the seed draws the account.
    '{"t": 16.0, "utc": null, "mode": "RUNNING", "mode_reason": "", "mid": "3000.15", '
    '"position": "-0.5602", "pnl": 1.4751, "orders": {"PendingNew": 2, "PartialFilled": 2, '
    '"CancelPending": 1, "CancelConfirmed": 2, "Cancelled": 58}, '
    '"untracked_venue_orders": 0, "fills": 40, "rejections": {}, "backoff": {"bid": 0.0, '
    '"ask": 0.0}, "recovery": "Idle", "worst_case": ["-4.0095", "7.5221"], '
    '"worst_case_breached": true, "not_quoting": {}, '
    '"stalled_levels": {"ask L1": "placement outcome unknown for 7s; asking the venue"}, '
    '"anomalies": {"unknown_statuses": 2, "malformed_rows": 2}, "data_age": 0.03, '
    '"loop_lag_ms": 0.0, "signals": {"volatility_ticks": null, "cascade": {"bid": 1.34, '
    '"ask": 2.15}}, "pnl_parts": {"realized": 1.02086, "unrealized": 0.18055, '
    '"fees": -0.22751, "funding": 0.046155, "closed_pnl_check": {"fills": 7, '
    '"ours": 0.14252, "venue": 0.14252, "disagreements": 0}}, '
    '"spread": {"bid": {"half_spread_ticks": 30, "pulled": false, "reason": ""}, '
    '"ask": {"half_spread_ticks": 30, "pulled": false, "reason": ""}}, '
    # Issue 21 (D38, D40): what the venue may still undo, and its dead-man switch.
    '"settlement": {"confirmed_position": "-0.5602", "pending_bought": "0", '
    '"pending_sold": "0", "failed_fills": 0}, "heartbeat": null}'
)
LINE_AT_16S = (
    "      16.0 | RUNNING | mid 3000.15 | pos -0.5602 | "
    "pnl +1.48 (real +1.02 unreal +0.18 fees -0.23 funding +0.05) | "
    "orders PendingNew:2 PartialFilled:2 CancelPending:1 CancelConfirmed:2 | fills 40 | "
    "rej 0 | backoff b0.0/a0.0 | rec Idle | wc -4.0095..7.5221 BREACH | "
    "vol warming cascade b1.3/a2.1 | spread b30t a30t | "
    "waiting ask L1:placement outcome unknown for 7s; asking the venue | "
    "anomalies 2 unknown statuses, 2 unreadable rows"
)
SUMMARY_AFTER_QUIT = (
    '{"stopped": "operator quit", "mode": "PAUSED", '
    '"mode_reason": "stopping: cancelling every order", "exit_code": 0, '
    '"live_orders_left": 0, "untracked_venue_orders": 0, "sweep": "verified", '
    '"engine_errors": 0, "position": "-0.5602", "realized_pnl": 1.0209, '
    '"unrealized_pnl": 0.2646, "fees": -0.22751, "funding": 0.088171, "pnl": 1.6011, '
    '"fills": 40, "provisional_fills": 0, "failed_fills": 0, "late_fills": 1, '
    '"unmatched_fills": 1, "duplicate_fills_ignored": 50, '
    '"places_sent": 4, "modifies_sent": 61, "cancels_sent": 8, "cancel_alls_sent": 4, '
    '"rejections": {}, "kill_triggers": [], "anomalies": {"unknown_statuses": 3, '
    '"malformed_rows": 3}, "closed_pnl_check": {"fills": 7, "ours": 0.14252, '
    '"venue": 0.14252, "disagreements": 0}}'
)


def _config() -> Config:
    """Seed 1001's scenario as designed (five order states, a stall, anomalies): a fixed
    ladder on a market without cascades (issue 20 draws both per seed)."""
    drawn = build(1001, 60.0, "adversarial", 30.0, ()).config
    calm = drawn.sim.flow.model_copy(update={"cascade_branching": 0.0, "cascade_rate_per_min": 0.0})
    return drawn.model_copy(
        update={
            "signals": SignalsConfig(volatility_multiplier=0, cascade_enter=0),
            "sim": drawn.sim.model_copy(update={"flow": calm}),
        }
    )


def _session() -> tuple[HeadlessReporter, ConsoleView, ConsoleView, RunResult]:
    config = _config()
    exchange = SimExchange(config.sim)
    maker = MarketMaker(
        MakerParams.from_config(config, exchange.instrument, live=False), exchange.instrument
    )
    loop = SimLoop(
        exchange,
        maker,
        VirtualClock(),
        tick_interval=config.strategy.tick_interval_s,
        record=False,
    )
    for batch in maker.start(0.0):
        exchange.submit(batch, 0.0)
    loop.run_until(16.0)
    during = maker.view(16.0)
    for batch in maker.operate(Quit("operator quit"), 16.0):
        exchange.submit(batch, 16.0)
    loop.run_until(30.0)
    result = RunResult(  # as the runner builds it
        "operator quit",
        maker.mode,
        sum(1 for o in maker.tracker.by_cloid.values() if o.state.is_live),
        maker.untracked_venue_orders,
        sweep=maker.sweep_phase,
        mode_reason=maker.view_mode_reason(),
    )
    reporter = HeadlessReporter(exchange.instrument, json_lines=True, out=io.StringIO())
    return reporter, during, maker.view(30.0), result


@pytest.fixture(scope="module")
def session() -> tuple[HeadlessReporter, ConsoleView, ConsoleView, RunResult]:
    return _session()


def test_json_text_and_summary_are_byte_identical_to_before(session) -> None:
    reporter, during, after, result = session
    assert json.dumps(reporter.status(during)) == STATUS_AT_16S
    assert reporter.line(during) == LINE_AT_16S
    assert json.dumps(session_summary(reporter.instrument, after, result)) == SUMMARY_AFTER_QUIT
    reporter.on_view(during)  # what --json writes: the same object, one line
    assert reporter.out.getvalue() == STATUS_AT_16S + "\n"


def test_the_view_carries_enums_not_strings(session) -> None:
    _, during, after, result = session
    assert during.orders and all(type(o.state) is OrderState for o in during.orders)
    assert not any(o.state.is_terminal for o in during.orders)
    assert all(type(s) is OrderState for s in during.state_counts)
    assert OrderState.CANCEL_CONFIRMED in during.state_counts
    assert type(during.recovery.state) is RecoveryState
    assert type(during.sweep) is SweepPhase
    assert after.sweep is SweepPhase.VERIFIED and result.sweep is SweepPhase.VERIFIED
    assert type(during.counters) is Counters
    with pytest.raises(dataclasses.FrozenInstanceError):
        during.counters.fills = 0  # type: ignore[misc]


def test_counters_name_every_count_the_maker_keeps() -> None:
    """The projection fills every field from the maker's counts plus the tracker's and the
    reconciler's; a count without a field (or a field without a count) fails there."""
    config = _config()
    exchange = SimExchange(config.sim)
    maker = MarketMaker(
        MakerParams.from_config(config, exchange.instrument, live=False), exchange.instrument
    )
    fields = {f.name for f in dataclasses.fields(Counters)}
    assert fields == set(maker.counters) | {"tracked_orders", "pruned_orders", "syncs"}
    assert maker.view(0.0).counters == Counters(**dict.fromkeys(fields, 0))


def test_anomalies_are_named_counters_in_one_order() -> None:
    every = Counters(**{f.name: 1 for f in dataclasses.fields(Counters)})
    assert list(every.anomalies()) == list(ANOMALIES)
    none = Counters(**{f.name: 0 for f in dataclasses.fields(Counters)})
    assert none.anomalies() == {}


def test_live_is_defined_once_on_the_order_state() -> None:
    """Live: may rest on the venue.  ``CancelConfirmed`` is not (the venue said it is gone;
    it waits for late fills only), and neither is any terminal state."""
    assert (
        LIVE
        == {s for s in OrderState if s.is_live}
        == {
            OrderState.PENDING_NEW,
            OrderState.RESTING,
            OrderState.PARTIAL_FILLED,
            OrderState.CANCEL_PENDING,
        }
    )
    assert not OrderState.CANCEL_CONFIRMED.is_live and not OrderState.CANCEL_CONFIRMED.is_terminal
    assert not any(s.is_live and s.is_terminal for s in OrderState)


def test_the_console_shows_live_orders_and_unknown_placements(session) -> None:
    from tui.orders import shown_orders

    _, during, _, _ = session
    order = during.orders[0]
    for state in OrderState:
        if state.is_terminal:
            continue
        seen = dataclasses.replace(order, state=state, unknown_for=None)
        assert seen.shown_live is state.is_live
        assert dataclasses.replace(seen, unknown_for=1.0).shown_live
    shown = shown_orders(during)
    assert {o.cloid for o in shown} == {o.cloid for o in during.orders if o.shown_live}
    assert any(not o.shown_live for o in during.orders)  # CancelConfirmed ones stay off


def test_the_sweep_phase_says_when_it_is_under_way() -> None:
    active = {p for p in SweepPhase if p.is_active}
    assert active == {SweepPhase.SWEEPING, SweepPhase.RETRYING, SweepPhase.VERIFYING}
    assert SweepPhase.IDLE.value == ""  # "-" in the summary, nothing on the console
