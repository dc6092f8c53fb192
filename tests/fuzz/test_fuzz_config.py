"""Fuzzing the config parser (issue 6, item 5): outside input never escapes as a traceback.

Whatever ``core.config.load`` reads -- arbitrary bytes, or well-formed TOML carrying hostile
values (NaN, infinities, negatives, huge numbers, wrong types, unknown keys, secret-looking
keys) -- it returns a valid ``Config`` or raises ``ConfigError`` with one readable line per
problem.  A ``Config`` it accepts must also be one the maker can run with: converting it to
``MakerParams`` never raises (regression: ``backoff.cap_s`` below ``base_s`` was accepted by
the parser and then crashed the maker with a ValueError).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import Config, ConfigError, load, parse
from core.maker import MakerParams
from core.simconfig import FaultConfig, FlowConfig

SECTIONS: dict[str, tuple[str, ...]] = {
    name: tuple(field.annotation.model_fields)  # type: ignore[union-attr]
    for name, field in Config.model_fields.items()
}

HOSTILE = st.one_of(
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["NaN", "inf", "-1", "1e999", "1e999999999", "1e-999999999", "0", "", "0.0000001", "3000"]
    ),
    st.sampled_from(["1e-29", "9e29", "ETH", "sim"]),
    st.text(max_size=12),
    st.booleans(),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


@st.composite
def hostile_tables(draw: st.DrawFn) -> dict[str, Any]:
    """Real section and key names (so validation goes deep), hostile values, stray keys."""
    data: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True, max_size=5)):
        keys = SECTIONS[section]
        table: dict[str, Any] = {}
        for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=4)):
            table[key] = draw(HOSTILE)
        if draw(st.booleans()):
            table[draw(st.text(min_size=1, max_size=10))] = draw(HOSTILE)
        data[section] = table
    if draw(st.booleans()):
        data[draw(st.text(min_size=1, max_size=10))] = draw(HOSTILE)
    if draw(st.booleans()):
        sim = data["sim"] = data["sim"] if isinstance(data.get("sim"), dict) else {}
        for name, model in (("flow", FlowConfig), ("faults", FaultConfig)):
            keys = sorted(model.model_fields)
            chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=3))
            sim[name] = {key: draw(HOSTILE) for key in chosen}
    return data


def _judge(load_it: Any) -> None:
    try:
        config = load_it()
    except ConfigError as exc:
        assert exc.problems, "a ConfigError names at least one problem"
        for line in exc.problems:
            assert isinstance(line, str) and line.strip(), exc.problems
            assert "Traceback" not in line
        return
    assert isinstance(config, Config)
    MakerParams.from_config(config, config.sim.instrument(), live=False)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "config.toml"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=400))
def test_arbitrary_bytes_give_a_config_or_a_clear_error(scratch: Path, raw: bytes) -> None:
    scratch.write_bytes(raw)
    _judge(lambda: load(scratch))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=st.sampled_from('[]=."\n abcdefmnprstxyz_0123456789-+eE'), max_size=200)
)
def test_toml_shaped_text_gives_a_config_or_a_clear_error(scratch: Path, text: str) -> None:
    scratch.write_text(text, encoding="utf-8")
    _judge(lambda: load(scratch))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=hostile_tables())
def test_hostile_values_give_a_config_or_a_clear_error(data: dict[str, Any]) -> None:
    _judge(lambda: parse(data, "fuzz"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=hostile_tables())
def test_hostile_values_through_a_file(scratch: Path, data: dict[str, Any]) -> None:
    """The same tables written as TOML (where TOML can say them) and loaded from disk."""
    try:
        scratch.write_text(tomli_w.dumps(data), encoding="utf-8")
    except (TypeError, ValueError):  # not expressible in TOML (e.g. mixed-type arrays)
        return
    _judge(lambda: load(scratch))


def test_backoff_cap_below_base_is_a_config_error() -> None:
    """Regression found by the fuzz sweep: the parser accepted it, the maker then raised."""
    with pytest.raises(ConfigError) as info:
        parse({"backoff": {"base_s": 3.0, "cap_s": 2.0}})
    assert any("cap_s" in line for line in info.value.problems)


def test_huge_decimal_size_is_a_config_error() -> None:
    """Regression found by the fuzz test: 1e999 made the lot-grid check raise
    decimal.InvalidOperation straight through the parser."""
    with pytest.raises(ConfigError) as info:
        parse({"sim": {"flow": {"level_size": "1e999"}}})
    assert any("level_size" in line for line in info.value.problems)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("strategy", "size", "1e999999999"),
        ("risk", "max_position", "1e-999999999"),
        ("risk", "loss_limit", "1e31"),
    ],
)
def test_absurd_magnitudes_are_a_clear_error_not_a_hang(section: str, key: str, value: str) -> None:
    """Exact unit arithmetic on 1e-999999999 used to take minutes before the maker even started
    (the fuzz of the Hyperliquid wire found the same in the venue's numbers)."""
    with pytest.raises(ConfigError) as info:
        parse({section: {key: value}})
    assert f"{section}.{key}: must be between 1e-30 and 1e30, got '{value}'" in str(info.value)
    assert parse({section: {key: "1e-29" if key != "loss_limit" else "9e29"}})


NESTED = st.recursive(
    HOSTILE,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["market", "sim", "flow", "x", "secret"]), inner, max_size=3
        ),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.sampled_from([*sorted(SECTIONS), "x"]), NESTED, max_size=4))
def test_arbitrarily_nested_values_give_a_config_or_a_clear_error(data: dict[str, Any]) -> None:
    _judge(lambda: parse(data, "fuzz"))


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 5000 + "]" * 5000 + "\n",
        "market = " + "{ a = " * 3000 + "1" + " }" * 3000 + "\n",
        "x." * 5000 + "y = 1\n",
        "[" + "x." * 5000 + "y]\nz = 1\n",
    ],
    ids=["deep-array", "deep-inline-table", "deep-dotted-key", "deep-table-header"],
)
def test_a_file_nested_too_deep_is_a_clear_error_not_a_traceback(scratch: Path, text: str) -> None:
    """Regression: 5,000 nested arrays or tables made tomllib (or our own walk over the tables)
    raise RecursionError, and ``mm-console --config`` died with a traceback and exit 1."""
    scratch.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(scratch)
    assert "nested" in str(info.value)
