"""Issue 20 item 2: the half-spread widens with volatility (floor: the configured one; cap),
and the side a cascade runs over is pulled or widened, with a reason, and hysteresis."""

from __future__ import annotations

import pytest

from core.events import Side
from core.spread import SideSpread, SpreadParams, SpreadPolicy

BID, ASK = Side.BID, Side.ASK
CALM = {BID: 1.0, ASK: 1.0}


def _policy(**over: object) -> SpreadPolicy:
    params = {
        "volatility_multiplier": 0.5,
        "cap_ticks": 80,
        "cascade_enter": 3.0,
        "cascade_exit": 1.5,
        "cascade_hold_s": 2.0,
        **over,
    }
    return SpreadPolicy(SpreadParams(**params))  # type: ignore[arg-type]


def test_volatility_widens_both_sides_from_the_configured_floor_to_the_cap() -> None:
    policy = _policy()
    policy.update(0.0, None, CALM)  # warming up: the configured spread
    assert policy.side(BID, 30) == SideSpread(30)
    policy.update(1.0, 40.0, CALM)  # 0.5 x 40 = 20 < 30: still the configured one
    assert policy.side(ASK, 30) == SideSpread(30)
    policy.update(2.0, 100.0, CALM)
    assert policy.side(BID, 30) == SideSpread(50, False, "volatility: σ1s 100t")
    policy.update(3.0, 1000.0, CALM)
    assert policy.side(ASK, 30).half_spread == 80  # the cap


def test_sellers_running_hot_pull_our_bids_until_they_calm_and_the_hold_has_passed() -> None:
    policy = _policy()
    policy.update(0.0, None, {BID: 1.0, ASK: 4.2})  # sellers hit bids: our bids are run over
    assert policy.side(BID, 30) == SideSpread(30, True, "cascade: intensity 4.2x baseline")
    assert not policy.side(ASK, 30).pulled
    policy.update(0.5, None, {BID: 1.0, ASK: 2.0})  # below enter, above exit: still in it
    assert policy.in_cascade(BID)
    policy.update(1.0, None, {BID: 1.0, ASK: 1.0})  # below exit, but held only 1 s
    assert policy.in_cascade(BID)
    policy.update(2.5, None, {BID: 1.0, ASK: 1.0})
    assert not policy.in_cascade(BID) and policy.side(BID, 30) == SideSpread(30)


def test_a_ratio_hovering_at_the_threshold_does_not_flap() -> None:
    policy = _policy()
    states = []
    for i, ratio in enumerate([3.1, 2.9, 3.0, 2.95, 3.05, 2.9, 1.4, 1.4, 1.4, 1.4]):
        policy.update(i * 0.5, None, {BID: ratio, ASK: 1.0})
        states.append(policy.in_cascade(ASK))
    assert states == [True] * 6 + [False] * 4  # in once; out once below exit after the hold


def test_widen_instead_of_pull() -> None:
    policy = _policy(cascade_action="widen", cascade_widen=2.5)
    policy.update(0.0, 100.0, {BID: 5.0, ASK: 1.0})  # buyers lift asks: our asks run over
    ask = policy.side(ASK, 30)
    assert (ask.half_spread, ask.pulled) == (125, False)  # 50 from volatility, x 2.5
    assert ask.reason == "cascade: intensity 5.0x baseline"
    assert policy.side(BID, 30).half_spread == 50


def test_off_is_the_fixed_ladder_and_bad_settings_name_themselves() -> None:
    policy = SpreadPolicy(SpreadParams())
    policy.update(0.0, 500.0, {BID: 50.0, ASK: 50.0})
    assert policy.side(BID, 30) == SideSpread(30) == policy.side(ASK, 30)
    with pytest.raises(ValueError, match="cascade_action"):
        SpreadParams(cascade_action="flee")
    with pytest.raises(ValueError, match="cascade_exit"):
        SpreadParams(cascade_enter=3.0, cascade_exit=4.0)
