"""The command line for Polymarket: the issue's done-when run end to end -- the twin in one
process (``mm-console sim-server --venue polymarket``), ``mm-console --venue polymarket
--api-url ...`` headless in another -- and the refusals that exit 2 without a traceback."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.journal.replay import verify
from tests.venues.test_hl_cli import KEY, assert_no_key_in, run_cli


@pytest.fixture
def twin() -> Iterator[tuple[str, str]]:
    """The Polymarket twin as ``mm-console sim-server`` runs it: (its URL, its banner)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "mm_console", "sim-server", "--venue", "polymarket", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # blocks until the twin listens
        match = re.search(r"on (http://127\.0\.0\.1:\d+) ", banner)
        assert match, banner
        yield match.group(1), banner
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
    assert server.returncode == 0


def test_polymarket_mainnet_needs_the_confirmation_flag() -> None:
    proc = run_cli(
        "--venue",
        "polymarket",
        "--network",
        "mainnet",
        "--market",
        "0x" + "ab" * 32,
        "--no-ui",
        env={"MM_CONSOLE_PRIVATE_KEY": KEY},
    )
    assert proc.returncode == 2
    assert "pass --confirm-mainnet" in proc.stderr and "Traceback" not in proc.stderr


def test_a_market_that_names_nothing_on_polymarket_exits_2_naming_the_key() -> None:
    proc = run_cli("--venue", "polymarket", "--market", "ETH!", "--no-ui")
    assert proc.returncode == 2
    assert "market.symbol ('ETH!') must name a Polymarket market" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_signature_type_without_its_funder_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[venue]\nkind = "polymarket"\nsignature_type = 2\n[market]\nsymbol = "only"\n')
    proc = run_cli("--config", str(cfg), "--no-ui")
    assert proc.returncode == 2
    assert "venue.funder is required with venue.signature_type = 2" in proc.stderr


def test_an_unreachable_polymarket_exits_2() -> None:
    proc = run_cli(
        "--venue",
        "polymarket",
        "--api-url",
        "http://127.0.0.1:9",
        "--no-ui",
        env={"MM_CONSOLE_PRIVATE_KEY": KEY},
    )
    assert proc.returncode == 2
    assert "cannot start on Polymarket testnet: cannot reach http://127.0.0.1:9" in proc.stderr


@pytest.mark.slow
def test_headless_session_against_the_polymarket_twin_quotes_and_stops_clean(
    twin: tuple[str, str], tmp_path: Path
) -> None:
    """The done-when: ``mm-console --venue polymarket --api-url ...`` (the market: the twin's
    only one) derives its API key, quotes post-only on the venue's grid, the heartbeat is
    armed, and the stop sweeps the twin and verifies it empty (exit 0).  The journal replays
    batch for batch (the instrument's grid recorded) and holds no trace of the key (D21)."""
    url, banner = twin
    journal = tmp_path / "pm.sqlite"
    proc = run_cli(
        "--venue",
        "polymarket",
        "--api-url",
        url,
        "--no-ui",
        "--json",
        "--duration",
        "6",
        "--journal",
        str(journal),
        env={"MM_CONSOLE_PRIVATE_KEY": KEY},
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    summary = lines[-1]
    statuses = lines[:-1]
    assert any(s.get("mode") == "RUNNING" and s["orders"] for s in statuses)
    assert any((s.get("heartbeat") or {}).get("armed") for s in statuses)
    # The twin refuses a price off its 0.01 grid (a PriceError): none was sent.
    assert all("PriceError" not in s["rejections"] for s in statuses)
    assert summary["places_sent"] > 0 and summary["engine_errors"] == 0
    assert summary["live_orders_left"] == 0 and summary["untracked_venue_orders"] == 0
    assert summary["sweep"] == "verified"
    assert summary["market"] == "Loopback twin market YES? [Yes]"  # the question, the outcome
    assert "mm-console: market Loopback twin market YES? [Yes] (tick 0.01" in proc.stderr
    state = httpx.get(f"{url}/_twin/state").json()
    assert state["open_orders"] == []  # the venue's own word: nothing left resting
    assert KEY[2:] not in proc.stdout + proc.stderr + banner
    report = verify(journal)
    assert report.ok, report.lines()
    assert_no_key_in(journal)


def test_the_twin_says_where_it_serves_and_lists_its_one_market(twin: tuple[str, str]) -> None:
    url, banner = twin
    assert "loopback twin of Polymarket (CLOB V2, chain 80002)" in banner
    listing = httpx.get(f"{url}/markets", params={"next_cursor": "MA=="}).json()
    assert listing["next_cursor"] == "LTE=" and len(listing["data"]) == 1
    assert listing["data"][0]["market_slug"].startswith("loopback-twin-")
