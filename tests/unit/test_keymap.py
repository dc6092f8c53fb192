"""Key maps that cannot disarm the console (issue 16 item 1; D13, D18).

``kill = "c"`` used to pass ``config check``: the footer read "c KILL", ``c`` sent a
cancel-all and no key killed.  A map that gives two actions one key, leaves kill, cancel-all or
quit without a key, or puts an action on a key text fields and dialogs take for themselves is
refused when the config is read, one line per problem, exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core import keymap
from core.config import ConfigError, parse


def test_the_default_map_is_safe() -> None:
    assert keymap.problems({}) == []


def test_two_actions_on_one_key_are_refused() -> None:
    (problem,) = keymap.problems({"kill": "c"})
    assert "'c' is bound to kill and cancel_all" in problem


def test_an_essential_action_without_a_key_is_refused() -> None:
    assert keymap.problems({"quit": " , "}) == ["quit needs a key"]


@pytest.mark.parametrize("key", ["escape", "enter", "y", "up", "ctrl+q"])
def test_a_key_the_console_takes_for_itself_is_refused(key: str) -> None:
    (problem,) = keymap.problems({"cancel_all": key})
    assert problem.startswith(f"cancel_all = {key!r}: {key} ")


def test_every_problem_is_its_own_line_and_names_the_table() -> None:
    with pytest.raises(ConfigError) as err:
        parse({"ui": {"keys": {"kill": "c", "pause": "escape"}}})
    assert len(err.value.problems) == 2
    assert all(p.startswith("ui.keys: ") for p in err.value.problems)


def test_a_remap_that_moves_both_keys_is_fine() -> None:
    assert keymap.problems({"kill": "c", "cancel_all": "C"}) == []


@pytest.mark.parametrize("command", [["config", "check"], ["--no-ui", "--duration", "1"]])
def test_config_check_and_start_up_refuse_it_with_exit_2(
    tmp_path: Path, command: list[str]
) -> None:
    bad = tmp_path / "keys.toml"
    bad.write_text('[ui.keys]\nkill = "c"\n')
    args = [*command, str(bad)] if command[0] == "config" else ["--config", str(bad), *command]
    proc = subprocess.run(
        [sys.executable, "-m", "mm_console", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "ui.keys: 'c' is bound to kill and cancel_all" in proc.stderr
