"""The [sim] settings: sane defaults, clear errors for bad values, named fault profiles."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.simconfig import Delay, FaultConfig, FlowConfig, SimConfig


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
        faults.storm_cancel_429_rate,
        faults.storm_query_429_rate,
        faults.storm_sync_429_rate,
        faults.venue_cancel_rate_per_min,
        faults.resting_reject_rate_per_min,
        faults.oid_only_news_rate,
        faults.fill_delay_rate,
        faults.fill_loss_rate,
        faults.malformed_row_rate,
        faults.altered_duplicate_rate,
        faults.unknown_status_rate,
        faults.duplicate_ack_rate,
    )
    assert not any(rates)
    assert faults.disconnects_at == faults.rate_limit_storms_at == ()


def test_config_toml_lists_every_fault_knob_with_its_default() -> None:
    """The packaged config.toml is where an operator looks for a knob: every fault knob is
    there, at its default, so switching one on is an edit, never a guess."""
    with (Path(__file__).parents[2] / "config.toml").open("rb") as file:
        table = tomllib.load(file)["sim"]["faults"]
    assert set(table) == set(FaultConfig.model_fields)
    assert FaultConfig.model_validate(table) == FaultConfig()


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
        ({"faults": {"storm_cancel_429_rate": 2}}, "storm_cancel_429_rate"),
        ({"faults": {"storm_query_429_rate": -0.1}}, "storm_query_429_rate"),
        ({"faults": {"storm_sync_429_rate": 1.01}}, "storm_sync_429_rate"),
        ({"faults": {"venue_cancel_rate_per_min": -1}}, "venue_cancel_rate_per_min"),
        ({"faults": {"resting_reject_rate_per_min": "inf"}}, "resting_reject_rate_per_min"),
        ({"faults": {"oid_only_news_rate": 1.5}}, "oid_only_news_rate"),
        ({"faults": {"fill_delay_rate": -1}}, "fill_delay_rate"),
        ({"faults": {"fill_delay": {"median_s": 2, "p99_s": 1}}}, "fill_delay"),
        ({"faults": {"fill_loss_rate": 3}}, "fill_loss_rate"),
        ({"faults": {"malformed_row_rate": -0.5}}, "malformed_row_rate"),
        ({"faults": {"altered_duplicate_rate": 1.1}}, "altered_duplicate_rate"),
        ({"faults": {"unknown_status_rate": 2}}, "unknown_status_rate"),
        ({"faults": {"duplicate_ack_rate": -2}}, "duplicate_ack_rate"),
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
    # "every fault on": every rate of the plan, the adversary of issue 14 included
    rates = {
        name: value
        for name, value in adversarial.model_dump().items()
        if name.endswith(("_rate", "_per_min"))
    }
    assert len(rates) == 19 and all(rates.values())
    with pytest.raises(ValueError, match="unknown fault profile 'wild'"):
        FaultConfig.profile("wild")  # type: ignore[arg-type]


def test_a_still_market_does_not_move_by_itself() -> None:
    still = FlowConfig.still()
    assert still.volatility_bps == still.taker_rate_per_s == still.refresh_rate_per_s == 0


def test_a_margin_table_that_does_not_rise_and_fall_names_its_key_and_values() -> None:
    """Issue 19: the simulator's (and the twin's) margin table; a wrong one is a config error
    that names ``margin_tiers`` and shows the pairs, never a traceback."""
    assert SimConfig(margin_tiers=(("0", 25), ("500000", 10))).instrument().margin_tiers == (
        (Decimal(0), 25),
        (Decimal(500_000), 10),
    )
    with pytest.raises(ValidationError, match=r"margin_tiers[\s\S]*\['1000', 30\]"):
        SimConfig(margin_tiers=(("0", 25), ("1000", 30)))
