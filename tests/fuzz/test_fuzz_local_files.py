"""Fuzzing the other files and values the console reads from outside (issue 6, item 5).

Besides the config and the venue's wire, three things come from the operator's machine: user
theme files (``~/.config/mm-console/themes/*.toml``), the console's own state file, and the
private key (an environment variable or a key file).  Whatever they hold, the console starts:
a broken theme is one reported line, a broken state file reads as empty, a bad key is a
``KeySourceError`` that never repeats the key.  Regressions found here: files nested thousands
of levels deep raised RecursionError out of the theme loader and the state store (the console
died at start-up), and a key of 64 hex digits outside secp256k1's range passed our check and
then crashed the signer with a bare ValueError.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.venues.hyperliquid.signing import Signer
from core.venues.keys import KeySourceError, PrivateKey, load_private_key
from themes import ThemeError, load_theme_file, load_themes, theme_from_dict
from tui.state import StateStore

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEEP = "x = " + "[" * 5000 + "]" * 5000 + "\n"
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

COLOURS = st.one_of(
    st.sampled_from(
        [
            "#123456",
            "#fff",
            "transparent",
            "ansi_red",
            "ansi_default",
            "rgb(1,2,3)",
            "rgb(999999999999999999999,0,0)",
            "hsl(1e999,1%,1%)",
            "rgba(1,2,3,nan)",
            "auto",
            "",
        ]
    ),
    st.text(max_size=12),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


@st.composite
def theme_tables(draw: st.DrawFn) -> dict[str, Any]:
    keys = ["name", "primary", "secondary", "background", "dark", "ansi", "variables", "bogus"]
    data: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=6)):
        if key == "name":
            data[key] = draw(st.one_of(st.text(max_size=10), st.integers(), st.just("mine")))
        elif key in ("dark", "ansi"):
            data[key] = draw(st.one_of(st.booleans(), COLOURS))
        elif key == "variables":
            data[key] = draw(
                st.one_of(
                    st.dictionaries(
                        st.sampled_from(["bid", "ask", "x y", ""]), COLOURS, max_size=3
                    ),
                    COLOURS,
                )
            )
        else:
            data[key] = draw(COLOURS)
    return data


def _file_holding(tmp_path_factory: Any, raw: bytes) -> Path:
    """A fresh ``.toml`` file holding ``raw`` (one per example: nothing leaks between them)."""
    path = tmp_path_factory.mktemp("fuzz") / "file.toml"
    path.write_bytes(raw)
    return path


def _judge_theme(read: Any) -> None:
    try:
        theme = read()
    except ThemeError as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)
        return
    assert theme.name.strip() and theme.name.isprintable()
    theme.to_color_system().generate()  # what Textual does when the theme is chosen


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_a_theme_file_give_a_theme_or_a_clear_error(
    tmp_path_factory: Any, raw: bytes
) -> None:
    path = _file_holding(tmp_path_factory, raw)
    _judge_theme(lambda: load_theme_file(path))


@FUZZ
@given(data=theme_tables())
def test_hostile_theme_tables_give_a_theme_or_a_clear_error(data: dict[str, Any]) -> None:
    _judge_theme(lambda: theme_from_dict(data, "fuzz.toml"))


def test_a_theme_file_nested_too_deep_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "deep.toml").write_text(DEEP, encoding="utf-8")
    (tmp_path / "line.toml").write_text('name = "a\\nb"\nprimary = "#123456"\n', encoding="utf-8")
    found = load_themes(tmp_path)
    assert "mm-dark" in {t.name for t in found.themes}
    assert len(found.problems) == 2
    assert "nested too deep" in found.problems[0] and "one printable line" in found.problems[1]


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_state_file_reads_as_a_table_and_can_be_saved_over(
    tmp_path_factory: Any, raw: bytes
) -> None:
    store = StateStore(_file_holding(tmp_path_factory, raw))
    assert isinstance(store.read(), dict)
    theme = store.theme()
    assert theme is None or (isinstance(theme, str) and theme)
    store.save_theme("mm-light")
    assert store.theme() == "mm-light"


def test_a_state_file_nested_too_deep_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "state.toml"
    path.write_text(DEEP, encoding="utf-8")
    store = StateStore(path)
    assert store.read() == {} and store.theme() is None
    store.save_theme("mm-dark")
    assert store.read() == {"theme": "mm-dark"}


KEYISH = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=string.hexdigits + "x \n\t", min_size=60, max_size=70),
    st.integers(min_value=0, max_value=2**256 - 1).map(lambda n: f"0x{n:064x}"),
    st.integers(min_value=CURVE_ORDER - 3, max_value=2**256 - 1).map(lambda n: f"{n:064x}"),
)


@FUZZ
@given(text=KEYISH)
def test_any_key_text_gives_a_signing_key_or_an_error_that_hides_it_D21(text: str) -> None:
    try:
        key = PrivateKey(text)
    except KeySourceError as exc:
        secret = text.strip()
        if len(secret) >= 8:
            assert secret not in str(exc) and secret.removeprefix("0x") not in str(exc)
        return
    assert Signer(key, is_mainnet=False).address.startswith("0x")
    assert text.strip() not in repr(key) and text.strip() not in f"{key}"


@pytest.mark.parametrize(
    "n", [0, CURVE_ORDER, CURVE_ORDER + 1, 2**256 - 1], ids=["zero", "n", "n+1", "2^256-1"]
)
def test_64_hex_digits_outside_the_curve_are_refused_at_load_D21(n: int) -> None:
    """Regression: they matched the pattern and crashed Account.from_key at start-up."""
    text = f"0x{n:064x}"
    with pytest.raises(KeySourceError) as info:
        load_private_key("MM_TEST_KEY", None, {"MM_TEST_KEY": text})
    assert "MM_TEST_KEY" in str(info.value) and "curve" in str(info.value)
    assert text[2:] not in str(info.value)


def test_a_key_file_with_an_out_of_range_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("f" * 64 + "\n", encoding="ascii")
    path.chmod(0o600)
    with pytest.raises(KeySourceError, match="not a valid secp256k1 key"):
        load_private_key("UNUSED", path)


def test_the_largest_valid_key_signs() -> None:
    assert Signer(PrivateKey(f"{CURVE_ORDER - 1:064x}"), is_mainnet=False).address


def test_tomli_w_round_trips_what_the_state_store_reads(tmp_path: Path) -> None:
    """save_theme writes back whatever it read; everything tomllib reads tomli-w can write."""
    path = tmp_path / "state.toml"
    path.write_text('theme = "x"\nwhen = 1979-05-27T07:32:00Z\n[t]\na = [1, 2]\n')
    store = StateStore(path)
    store.save_theme("mm-dark")
    assert tomli_w.dumps(store.read()) and store.read()["t"] == {"a": [1, 2]}
