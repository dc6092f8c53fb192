"""The market signals of issue 20 against their definitions: each O(1) recursion matches the
naive O(n) sum it stands for, on random sequences with bursts (many events at one instant)
and huge gaps (days), within a relative 1e-9 -- the recursion only multiplies by factors in
(0, 1] and adds non-negative terms, so its error is a few ulps per step."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.estimators.hawkes import HawkesIntensity
from core.estimators.volatility import MidVolatility

REL = 1e-9

# Gaps between events: bursts (0), ordinary spacing, and gaps of hours to days.
gaps = st.one_of(
    st.just(0.0),
    st.floats(1e-6, 5.0),
    st.floats(3600.0, 3 * 86400.0),
)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-300)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(gaps, st.integers(-40, 40)), min_size=1, max_size=300),
    st.floats(0.5, 600.0),
    st.sampled_from([0.0, 0.5, 1.0]),
)
def test_the_volatility_recursion_is_the_weighted_sum_it_stands_for(
    steps: list[tuple[float, int]], tau: float, sample_s: float
) -> None:
    vol = MidVolatility(tau_s=tau, warmup=10.0, sample_s=sample_s)
    t, mid = 1000.0, 300_000
    vol.update(t, mid)
    samples: list[tuple[float, float, float]] = []  # (time, return, dt) at each sample
    last_t, last_mid = t, mid
    for gap, move in steps:
        t += gap
        mid = max(1, mid + move)
        vol.update(t, mid)
        dt = t - last_t
        if dt >= sample_s and not (dt <= 0.0 and mid == last_mid):
            samples.append((t, math.log(mid / last_mid), dt))
            last_t, last_mid = t, mid
    if not samples:
        assert not vol.ready and vol.variance_per_s == 0.0
        return
    end = samples[-1][0]
    weights = [math.exp(-(end - at) / tau) for at, _, _ in samples]
    s = sum(w * r * r for w, (_, r, _) in zip(weights, samples, strict=True))
    time = sum(w * dt for w, (_, _, dt) in zip(weights, samples, strict=True))
    count = sum(weights)
    assert _close(vol.variance_per_s, s / time if time > 0 else 0.0)
    if not math.isclose(count, 10.0, rel_tol=1e-9):
        assert vol.ready == (count >= 10.0 and time > 0)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(gaps, st.floats(0.1, 10.0)), min_size=0, max_size=300),
    st.floats(0.0, 3 * 86400.0),
    st.floats(0.05, 5.0),
)
def test_the_hawkes_recursion_is_the_sum_over_every_past_trade(
    trades: list[tuple[float, float]], after: float, beta: float
) -> None:
    hawkes = HawkesIntensity(mu=0.2, alpha=0.7, beta=beta, beta_slow=beta / 200.0)
    t = 0.0
    times: list[tuple[float, float]] = []
    for gap, weight in trades:
        t += gap
        hawkes.record(t, weight)
        times.append((t, weight))
    now = t + after
    slow_beta = beta / 200.0
    fast = sum(w * math.exp(-beta * (now - at)) for at, w in times)
    slow = sum(w * math.exp(-slow_beta * (now - at)) for at, w in times)
    assert _close(hawkes.intensity(now), 0.2 + 0.7 * fast)
    # The slow rate over the memory filled since the first trade (none: no rate yet).
    filled = -math.expm1(-slow_beta * (now - times[0][0])) if times else 0.0
    rate = slow_beta * slow / filled if filled > 0 else 0.0
    baseline = 0.2 + 0.7 * rate / beta
    assert math.isclose(hawkes.baseline(now), baseline, rel_tol=1e-7)
    assert math.isclose(hawkes.ratio(now), (0.2 + 0.7 * fast) / baseline, rel_tol=1e-7)


def test_a_fresh_flow_reads_about_one_not_a_cascade() -> None:
    """The baseline corrects for the memory not yet filled: ten seconds of steady flow at
    one trade a second is ordinary (it read 8-10x on the embedded exchange without it)."""
    hawkes = HawkesIntensity(mu=0.1, alpha=0.5, beta=1.0, beta_slow=1.0 / 300.0)
    for i in range(10):
        hawkes.record(float(i))
    assert 0.5 < hawkes.ratio(9.5) < 2.0


def test_a_burst_reads_many_times_its_baseline_and_fades() -> None:
    """Steady flow of one trade a second for ten minutes reads about 1; fifty trades in one
    second read far above; a minute later the burst has faded."""
    hawkes = HawkesIntensity(mu=0.1, alpha=0.5, beta=1.0, beta_slow=1.0 / 300.0)
    for i in range(600):
        hawkes.record(float(i))
    steady = hawkes.ratio(599.5)
    assert 0.5 < steady < 2.0
    for k in range(50):
        hawkes.record(600.0 + k / 50)
    assert hawkes.ratio(601.0) > 4.0 * steady
    assert hawkes.ratio(660.0) < hawkes.ratio(601.0) / 4


def test_volatility_is_ready_after_its_warmup_and_scales_with_the_horizon() -> None:
    vol = MidVolatility(tau_s=60.0, warmup=5.0)
    mid = 300_000
    for i in range(10):
        vol.update(float(i), mid)
        assert vol.ready == (i >= 6)  # five returns, the first update has none
        mid += 30 if i % 2 else -30
    one = vol.sigma_ticks(1.0)
    assert one > 0
    assert math.isclose(vol.sigma_ticks(4.0), 2 * one)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        MidVolatility(tau_s=0.0)
    with pytest.raises(ValueError):
        HawkesIntensity(beta=1.0, beta_slow=2.0)
