"""The [sim] settings: sane defaults, clear errors for bad values, named fault profiles."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from core.venues.sim.config import Delay, FaultConfig, FlowConfig, SimConfig


def test_defaults_make_a_calm_hyperliquid_style_market() -> None:
    config = SimConfig()
    instrument = config.instrument()
    assert (instrument.symbol, instrument.tick_size, instrument.lot_size) == (
        "ETH",
        Decimal("0.01"),
        Decimal("0.0001"),
    )
    assert instrument.max_leverage == config.leverage_cap
    faults = config.faults
    assert faults.request_latency.median_s > 0  # mild latency only
    rates = (
        faults.late_answer_rate,
        faults.stale_snapshot_rate,
        faults.disconnect_rate_per_min,
        faults.timeout_rate,
        faults.lost_request_rate,
        faults.rate_limit_storm_rate_per_min,
        faults.mixed_reject_rate,
    )
    assert not any(rates)
    assert faults.disconnects_at == faults.rate_limit_storms_at == ()


def test_settings_are_frozen_and_unknown_keys_are_errors() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SimConfig.model_validate({"sede": 3})
    with pytest.raises(ValidationError, match="frozen"):
        SimConfig().seed = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"start_price": "-1"}, "start_price"),
        ({"flow": {"taker_rate_per_s": -2}}, "taker_rate_per_s"),
        ({"faults": {"timeout_rate": 1.5}}, "timeout_rate"),
        ({"faults": {"disconnects_at": [-1.0]}}, "disconnects_at"),
        ({"start_price": "0.5"}, "start_price (0.5) must be at least 100 ticks"),
        ({"leverage": 30, "leverage_cap": 25}, "leverage (30) must be <= leverage_cap (25)"),
        ({"max_position": "0.00001"}, "max_position (0.00001) is not a multiple of the lot size"),
        (
            {"flow": {"taker_min_size": "5", "taker_max_size": "1"}},
            "taker_max_size (1) must be >= taker_min_size (5)",
        ),
    ],
)
def test_bad_values_name_the_field(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SimConfig.model_validate(settings)


def test_a_delay_needs_its_p99_at_or_above_its_median() -> None:
    with pytest.raises(ValidationError, match="p99_s"):
        Delay(median_s=0.05, p99_s=0.01)
    with pytest.raises(ValidationError, match="median_s = 0"):
        Delay(median_s=0.0, p99_s=0.01)
    assert Delay(median_s=0.01, p99_s=0.01).sigma == 0


def test_fault_profiles_are_named_presets() -> None:
    assert FaultConfig.profile("calm") == FaultConfig()
    instant = FaultConfig.profile("instant")
    assert instant.request_latency.median_s == instant.stream_latency.p99_s == 0
    adversarial = FaultConfig.profile("adversarial", timeout_rate=0.5)
    assert adversarial.disconnect_rate_per_min > 0 and adversarial.timeout_rate == 0.5
    with pytest.raises(ValueError, match="unknown fault profile 'wild'"):
        FaultConfig.profile("wild")  # type: ignore[arg-type]


def test_a_still_market_does_not_move_by_itself() -> None:
    still = FlowConfig.still()
    assert still.volatility_bps == still.taker_rate_per_s == still.refresh_rate_per_s == 0
