"""The swarm draws the adversary (issue 14): every part on for some seeds, from its own stream.

Only ``scenario.build`` runs here (no simulation), so 400 seeds take a fraction of a second.
The base draws of a seed (fault mix, market, maker config, operator script) must stay exactly
what they were before the adversary existed (D22: a failing seed replays as it was found), and
``without`` must take one part out while every other draw stays (shrinking).
"""

from __future__ import annotations

from core.actions import Kill
from core.harness.scenario import SHRINKABLE, build

ADVERSARY_PARTS = (
    "storm_429",
    "venue_cancels",
    "resting_rejected",
    "oid_only_news",
    "fills_delayed",
    "fills_lost",
    "malformed_rows",
    "altered_duplicates",
    "unknown_statuses",
    "duplicate_acks",
)


def test_every_adversary_part_can_be_switched_off() -> None:
    """Shrinking and ``--without`` can name every part of the adversary."""
    assert set(ADVERSARY_PARTS) <= set(SHRINKABLE)


def test_the_swarm_draws_every_adversary_part_for_some_seeds() -> None:
    """Issue 14: over the CI sweep's 400 seeds every part of the adversary is on for some
    seeds (from its own stream), and kills during a rate-limit storm are drawn often (D29)."""
    seen = dict.fromkeys(ADVERSARY_PARTS, 0)
    kills_in_storms = 0
    for seed in range(1000, 1400):
        scenario = build(seed)
        for part in ADVERSARY_PARTS:
            seen[part] += part in scenario.faults_on
        faults = scenario.config.sim.faults
        if "storm_429" in scenario.faults_on:
            assert faults.rate_limit_storms_at and faults.storm_cancel_429_rate > 0
            kills = [t for t, a in scenario.actions if isinstance(a, Kill)]
            storm = faults.rate_limit_storm_s
            kills_in_storms += any(
                s <= k < s + storm for k in kills for s in faults.rate_limit_storms_at
            )
    assert all(100 < n < 250 for n in seen.values()), seen
    assert kills_in_storms >= 10


def test_without_an_adversary_part_only_that_part_goes() -> None:
    seed = next(
        s
        for s in range(1000, 2000)
        if {"storm_429", "rate_limit_storm", "fills_lost"} <= set(build(s).faults_on)
    )
    full = build(seed)
    less = build(seed, without=("storm_429",))
    assert "storm_429" not in less.faults_on and "fills_lost" in less.faults_on
    assert less.config.sim.flow == full.config.sim.flow and less.actions == full.actions
    kept, dropped = full.config.sim.faults, less.config.sim.faults
    assert dropped.storm_cancel_429_rate == dropped.storm_sync_429_rate == 0
    assert dropped.fill_loss_rate == kept.fill_loss_rate > 0
    assert set(dropped.rate_limit_storms_at) < set(kept.rate_limit_storms_at)  # base storms stay
    assert len(dropped.rate_limit_storms_at) == 1
    assert any(line.startswith("adversary: ") and "fills_lost" in line for line in less.describe())


def test_the_adversary_moves_no_base_draw_D22() -> None:
    """D22: the adversary draws from its own stream after everything else, so every seed's
    fault mix, market, maker config and operator script are what they were before it existed
    (seed 1003 as drawn by the code before issue 14), and taking the adversary out changes
    nothing but its own knobs."""
    old_1003 = build(1003, without=ADVERSARY_PARTS, binary_share=0.0)  # as a perp, then
    assert old_1003.faults_on == ("latency", "stale_snapshot", "disconnect", "timeout")
    assert old_1003.describe()[4] == (
        "operator: 83.1s Pause, 85.1s Resume, 92.0s Pause, 117.3s Pause, 120.0s Resume"
    )
    adversary_knobs = {
        "storm_cancel_429_rate",
        "storm_query_429_rate",
        "storm_sync_429_rate",
        "rate_limit_storms_at",
        "venue_cancel_rate_per_min",
        "resting_reject_rate_per_min",
        "oid_only_news_rate",
        "fill_delay_rate",
        "fill_delay",
        "fill_loss_rate",
        "malformed_row_rate",
        "altered_duplicate_rate",
        "unknown_status_rate",
        "duplicate_ack_rate",
    }
    for seed in range(1000, 1100):
        full, base = build(seed), build(seed, without=ADVERSARY_PARTS)
        assert base.faults_on == tuple(p for p in full.faults_on if p not in ADVERSARY_PARTS)
        assert base.actions == full.actions
        assert base.config.model_dump(exclude={"sim"}) == full.config.model_dump(exclude={"sim"})
        assert base.config.sim.flow == full.config.sim.flow
        drawn, plain = full.config.sim.faults.model_dump(), base.config.sim.faults.model_dump()
        assert {k for k in drawn if drawn[k] != plain[k]} <= adversary_knobs
