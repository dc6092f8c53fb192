"""No argument of any subcommand produces a traceback (issue 16 item 2).

``mm-console sim-server --port 99999`` used to print one.  Hypothesis throws argument lists
built from every flag and subcommand and hostile values at ``mm_console.cli.main``; whatever it
gets, it returns an exit code or argparse exits with a message (``SystemExit``) -- never another
exception.  What would run for real (the console, the headless engine, the twin's server, the
swarm) is replaced by a stub that checks it was given sane values and returns at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mm_console import cli

_FLAGS = [
    "--config",
    "--no-ui",
    "--json",
    "--duration",
    "--seed",
    "--read-only",
    "--venue",
    "--network",
    "--api-url",
    "--confirm-mainnet",
    "--port",
    "--account",
    "--faults",
    "--seeds",
    "--start",
    "--jobs",
    "--trace",
    "--without",
    "--force",
    "--help",
]
_WORDS = ["config", "check", "init", "sim-server", "swarm", "sim", "hyperliquid", "mainnet"]
_VALUES = [
    "0",
    "1",
    "-1",
    "99999",
    "65536",
    "1e999",
    "nan",
    "inf",
    "",
    " ",
    "0x" + "a" * 40,
    "http://127.0.0.1:1",
    "ftp://x",
    "storm_429,operator",
    "nope",
    "adversarial",
    "cfg.toml",
    "missing.toml",
    "dir",
    "\x00",
    "é",
]
_COMMANDS = [[], ["config", "check"], ["config", "init"], ["sim-server"], ["swarm"], ["nope"]]
_ARGV = st.builds(
    lambda command, positional, flags: [*command, *positional, *(a for f in flags for a in f)],
    st.sampled_from(_COMMANDS),
    st.lists(st.sampled_from(_VALUES), max_size=2),
    st.lists(st.tuples(st.sampled_from(_FLAGS), st.sampled_from(_VALUES)), max_size=4),
) | st.lists(st.sampled_from([*_FLAGS, *_WORDS, *_VALUES]), max_size=7)


class _Ran(Exception):
    """What a stub raises when it is reached: the arguments got through to a real run."""


def _stubs(monkeypatch: pytest.MonkeyPatch) -> None:
    def headless(config: Any, args: Any) -> int:
        assert args.duration is None or args.duration > 0
        raise _Ran

    def console(config: Any, **kwargs: Any) -> int:
        raise _Ran

    async def serve(sim: Any, **kwargs: Any) -> None:
        assert 0 <= kwargs["port"] <= 65535
        raise _Ran

    def swarm(seeds: Any, *args: Any, **kwargs: Any) -> Any:
        raise _Ran

    monkeypatch.setattr(cli, "run_headless", headless)
    monkeypatch.setattr("tui.run.run_console", console)
    monkeypatch.setattr("core.venues.loopback.serve.run", serve)
    monkeypatch.setattr("core.harness.swarm.run_swarm", swarm)
    monkeypatch.setattr("core.harness.swarm.run_seed", swarm)
    monkeypatch.setenv("MM_CONSOLE_PRIVATE_KEY", "0x" + "11" * 32)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=500)
@given(argv=_ARGV)
def test_no_argument_list_produces_a_traceback(argv: list[str]) -> None:
    """Issue 16: bad arguments get a message and exit 2, never a traceback."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _stubs(monkeypatch)
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's own message (or --help)
            assert exc.code in (0, 2)
        except _Ran:
            pass
        else:
            assert code in (0, 1, 2, 3)


@pytest.fixture(autouse=True)
def _in_a_scratch_directory(tmp_path: Path) -> Any:
    """Relative paths the fuzz names (cfg.toml, dir) live in a scratch directory."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "cfg.toml").write_text("[strategy]\nlevels = 2\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield
    finally:
        os.chdir(cwd)


def test_a_port_out_of_range_is_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sim-server", "--port", "99999"])
    assert exit_.value.code == 2
    assert "a TCP port is 0 to 65535, got 99999" in capsys.readouterr().err


def test_json_without_no_ui_runs_headless(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: ``--json`` used to start the console and write escape codes into the file."""
    _stubs(monkeypatch)
    ran: list[bool] = []
    monkeypatch.setattr(cli, "run_headless", lambda config, args: ran.append(args.json) or 0)
    assert cli.main(["--json", "--duration", "1"]) == 0
    assert ran == [True]


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "check", "a\x00b"],
        ["config", "init", "a\x00b"],
        ["--api-url", "ftp://x", "--no-ui"],
        ["sim-server", "--account", "nope"],
    ],
)
def test_the_cases_the_fuzz_found_are_messages(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: a path with a NUL byte, a bad --api-url and a bad --account each printed a
    traceback; each is now a message and exit 2."""
    _stubs(monkeypatch)
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
