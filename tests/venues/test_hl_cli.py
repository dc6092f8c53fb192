"""The command line for Hyperliquid: refusals that exit 2 without a traceback, and the README's
loopback rehearsal (``mm-console sim-server`` + a headless run against it) end to end."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from core.journal.replay import verify

KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "MM_CONSOLE_PRIVATE_KEY"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mm_console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=full_env,
    )


def assert_no_key_in(journal: Path) -> None:
    """D21: the key in no byte of the file, its WAL, or any decompressed chunk or meta row."""
    secrets = {KEY[2:].lower(), KEY[2:].upper(), bytes.fromhex(KEY[2:]).hex()}
    raw = b"".join(p.read_bytes() for p in journal.parent.glob(journal.name + "*"))
    with sqlite3.connect(journal) as conn:
        chunks = [zlib.decompress(d) for (d,) in conn.execute("SELECT data FROM chunks")]
        meta = [v.encode() for (v,) in conn.execute("SELECT value FROM meta")]
        marks = [t.encode() for (t,) in conn.execute("SELECT text FROM marks")]
    blob = b"".join([raw, *chunks, *meta, *marks])
    assert chunks and meta
    for secret in secrets:
        assert secret.encode() not in blob
    assert bytes.fromhex(KEY[2:]) not in blob


def test_no_key_exits_2_with_a_clear_message_D21() -> None:
    proc = run_cli("--venue", "hyperliquid", "--network", "testnet", "--no-ui")
    assert proc.returncode == 2
    assert "no private key: set the MM_CONSOLE_PRIVATE_KEY environment variable" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_mainnet_needs_the_confirmation_flag() -> None:
    proc = run_cli(
        "--venue",
        "hyperliquid",
        "--network",
        "mainnet",
        "--no-ui",
        env={"MM_CONSOLE_PRIVATE_KEY": KEY},
    )
    assert proc.returncode == 2
    assert "pass --confirm-mainnet" in proc.stderr and "Traceback" not in proc.stderr
    assert KEY[2:] not in proc.stderr + proc.stdout


def test_the_confirmation_cannot_live_in_a_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[venue]\nkind = "hyperliquid"\nnetwork = "mainnet"\nmainnet_confirmed = true\n')
    proc = run_cli("--config", str(cfg), "--no-ui")
    assert proc.returncode == 2
    assert "venue.mainnet_confirmed: cannot be set in a config file" in proc.stderr


def test_a_group_readable_key_file_is_refused_D21(tmp_path: Path) -> None:
    key_file = tmp_path / "hl.key"
    key_file.write_text(KEY)
    key_file.chmod(0o640)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[venue]\nkind = "hyperliquid"\nkey_file = "{key_file}"\n')
    proc = run_cli("--config", str(cfg), "--no-ui")
    assert proc.returncode == 2
    assert f"chmod 600 {key_file}" in proc.stderr
    assert KEY[2:] not in proc.stderr


def test_an_unreachable_venue_exits_2() -> None:
    proc = run_cli(
        "--venue",
        "hyperliquid",
        "--api-url",
        "http://127.0.0.1:9",
        "--no-ui",
        env={"MM_CONSOLE_PRIVATE_KEY": KEY},
    )
    assert proc.returncode == 2
    assert "cannot start on Hyperliquid testnet: cannot reach http://127.0.0.1:9" in proc.stderr


def test_sim_server_needs_an_account() -> None:
    proc = run_cli("sim-server", "--port", "0")
    assert proc.returncode == 2 and "--account" in proc.stderr


@pytest.mark.slow
def test_headless_session_against_the_loopback_twin_fills_and_exits_clean(
    tmp_path: Path,
) -> None:
    """The README's rehearsal: the twin in one process, ``mm-console --venue hyperliquid
    --api-url ...`` in another; quotes are signed, verified, filled, and the stop leaves the
    venue empty (exit 0).  Its journal replays batch for batch and holds no trace of the key
    (issue 17, D21)."""
    journal = tmp_path / "twin.sqlite"
    env = {k: v for k, v in os.environ.items() if k != "MM_CONSOLE_PRIVATE_KEY"}
    env["MM_CONSOLE_PRIVATE_KEY"] = KEY
    server = subprocess.Popen(
        [sys.executable, "-m", "mm_console", "sim-server", "--port", "0", "--seed", "11"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # blocks until the twin listens
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner
        proc = run_cli(
            "--venue",
            "hyperliquid",
            "--network",
            "testnet",
            "--api-url",
            match.group(1),
            "--no-ui",
            "--json",
            "--duration",
            "5",
            "--journal",
            str(journal),
            env={"MM_CONSOLE_PRIVATE_KEY": KEY},
            timeout=90,
        )
        assert proc.returncode == 0, proc.stderr
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        summary = lines[-1]
        assert any(s.get("mode") == "RUNNING" for s in lines[:-1])
        assert summary["fills"] > 0
        assert summary["live_orders_left"] == 0 and summary["untracked_venue_orders"] == 0
        assert summary["sweep"] == "verified" and summary["engine_errors"] == 0
        assert KEY[2:] not in proc.stdout + proc.stderr + banner
        assert summary["journal"] == str(journal)
        report = verify(journal)
        assert report.ok, report.lines()
        assert report.inputs > 50
        assert_no_key_in(journal)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
    assert server.returncode == 0
