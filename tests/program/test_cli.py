"""The command line: config commands, exit codes, the headless run end to end, import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Config, ConfigError, dump, load, parse
from mm_console.cli import main


def run_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mm_console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_packaged_config_is_valid_and_matches_the_model_defaults() -> None:
    assert load() == Config()


def test_config_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    assert "OK" in capsys.readouterr().out


def test_bad_config_names_key_value_and_rule_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[risk]\nmax_position = -1\nmax_positon = 3\n[strategy]\nlevels = 0\n")
    proc = run_cli("config", "check", str(bad))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "risk.max_position: must be greater than 0, got -1" in proc.stderr
    assert "risk.max_positon: unknown key (allowed: max_position" in proc.stderr
    assert "strategy.levels: must be greater than or equal to 1, got 0" in proc.stderr


def test_invalid_toml_and_missing_file_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[risk\n")
    proc = run_cli("--config", str(broken), "--no-ui")
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr
    proc = run_cli("--config", str(tmp_path / "nope.toml"), "--no-ui")
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    assert "Traceback" not in proc.stderr
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    proc = run_cli("--config", str(deep), "--no-ui")
    assert proc.returncode == 2 and "nested too deep" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_secrets_are_refused_in_the_config_file_D21() -> None:
    with pytest.raises(ConfigError) as err:
        parse({"venue": {"private_key": "0xdeadbeef"}})
    text = str(err.value)
    assert "venue.private_key: secrets are never read from the config file" in text
    assert "deadbeef" not in text


def test_config_init_writes_defaults_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "c.toml"
    assert main(["config", "init", str(target)]) == 0
    assert load(target) == Config()
    assert main(["config", "init", str(target)]) == 2
    assert main(["config", "init", str(target), "--force"]) == 0


def test_dump_roundtrips() -> None:
    import tomllib

    assert parse(tomllib.loads(dump(Config()))) == Config()


def test_bad_arguments_exit_2() -> None:
    proc = run_cli("--duration", "-3", "--no-ui")
    assert proc.returncode == 2
    assert "must be a finite number greater than 0" in proc.stderr


@pytest.mark.slow
def test_headless_run_quotes_fills_and_leaves_no_orders_D19_D25() -> None:
    """End to end on the wall clock: `mm-console --no-ui --duration 5` quotes on the embedded
    exchange, gets filled, and exits 0 leaving zero live orders on the venue."""
    proc = run_cli("--no-ui", "--json", "--duration", "5", "--seed", "7", timeout=90)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    status, summary = lines[:-1], lines[-1]
    assert any(s["mode"] == "RUNNING" for s in status)
    assert summary["places_sent"] > 0
    assert summary["fills"] > 0
    assert summary["live_orders_left"] == 0
    assert summary["untracked_venue_orders"] == 0
    assert summary["sweep"] == "verified"
    assert summary["engine_errors"] == 0


def test_a_closed_status_output_stops_the_engine_cleanly_D25() -> None:
    """`mm-console --no-ui --json | head -1`: once nobody can read the status the engine must
    not run on unseen.  It stops as a quit does (everything cancelled, the venue verified
    empty), exits 0 without a traceback, and says so on stderr with the summary."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mm_console", "--no-ui", "--json", "--duration", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("{")
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the engine ran on after its output was closed") from None
    assert proc.returncode == 0, err
    assert "status output closed" in err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    summary = json.loads(err.strip().splitlines()[-1])
    assert summary["live_orders_left"] == 0
    assert summary["sweep"] == "verified"
