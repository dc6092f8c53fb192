"""Metrics (issue 17 item 4): the published view as Prometheus exposition, scraped over HTTP
from 127.0.0.1 and read back with ``prometheus_client``'s own parser.  The views come from the
real maker in virtual time (deterministic)."""

from __future__ import annotations

import dataclasses
import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.actions import Kill
from core.metrics import MetricsExporter
from core.view import JournalView
from tests.tui.test_tui_engine import quoting


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


@pytest.fixture
def exporter() -> MetricsExporter:
    exp = MetricsExporter()
    yield exp
    exp.close()


def test_the_seeds_gauges_and_the_engine_state_are_scraped(exporter: MetricsExporter) -> None:
    engine = quoting()
    view = dataclasses.replace(
        engine.latest_view(),
        journal=JournalView("/tmp/j.sqlite", 12345, 0.05, 99),
        epoch_offset=1_780_000_000.0,
    )
    port = exporter.serve(0)
    exporter.update(view)
    m = scrape(port)
    inst, ex = view.instrument, view.exposure
    assert view.exposure.pending_bid > 0  # it is quoting: the gauges have something to say
    assert m[("mm_pending_bid_exposure", ())] == float(inst.lots_to_size(ex.pending_bid))
    assert m[("mm_pending_ask_exposure", ())] == float(inst.lots_to_size(ex.pending_ask))
    assert m[("mm_worst_case_max_position", ())] == float(
        inst.lots_to_size(ex.worst_case_max_position)
    )
    assert m[("mm_worst_case_min_position", ())] == float(
        inst.lots_to_size(ex.worst_case_min_position)
    )
    assert m[("mm_position", ())] == float(inst.lots_to_size(view.position))
    assert m[("mm_pnl", ())] == pytest.approx(view.pnl())
    assert (
        m[("mm_orders", (("state", "Resting"),))]
        == view.state_counts[next(s for s in view.state_counts if s.value == "Resting")]
    )
    assert m[("mm_mode", (("mode", "RUNNING"),))] == 1.0
    assert m[("mm_kill_switch_latched", ())] == 0.0
    assert m[("mm_requests_total", (("kind", "places"),))] == view.counters.places_sent
    assert m[("mm_journal_bytes", ())] == 12345
    assert m[("mm_journal_lag_seconds", ())] == 0.05
    assert m[("mm_journal_failed", ())] == 0.0
    assert ("mm_backoff_remaining_seconds", (("side", "bid"),)) in m
    assert ("mm_loop_lag_seconds", ()) in m and ("mm_request_rate_per_second", ()) in m
    signals = view.signals
    assert signals is not None  # issue 20: the market signals, per aggressor side
    for side, ratio in signals.cascade.items():
        assert m[("mm_cascade_ratio", (("side", side.value),))] == pytest.approx(ratio)
    assert ("mm_volatility_ticks", ()) in m and m[("mm_liquidations_total", ())] == 0.0
    assert view.spreads is not None and view.costs is not None
    for side, spread in view.spreads.items():
        assert m[("mm_half_spread_ticks", (("side", side.value),))] == spread.half_spread
        assert m[("mm_side_pulled", (("side", side.value),))] == float(spread.pulled)
    assert m[("mm_fees", ())] == pytest.approx(view.costs.fees)
    assert m[("mm_funding", ())] == pytest.approx(view.costs.funding)


def test_a_kill_shows_in_the_next_scrape(exporter: MetricsExporter) -> None:
    engine = quoting()
    port = exporter.serve(0)
    exporter.update(engine.latest_view())
    engine.operate(Kill("operator key"))
    engine.run_until(31.0)
    exporter.update(engine.latest_view())
    m = scrape(port)
    assert m[("mm_kill_switch_latched", ())] == 1.0
    assert m[("mm_mode", (("mode", "KILLED"),))] == 1.0
    assert m[("mm_mode", (("mode", "RUNNING"),))] == 0.0


def test_it_listens_on_loopback_only_D21(exporter: MetricsExporter) -> None:
    port = exporter.serve(0)
    assert exporter._server.server_address[0] == "127.0.0.1"
    outside = _an_outside_address()
    if outside is None:
        pytest.skip("this machine has no address but loopback")
    with pytest.raises(OSError):
        socket.create_connection((outside, port), timeout=2).close()


def _an_outside_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_metrics_port_flag_serves_during_a_headless_run(tmp_path) -> None:
    """``--metrics-port``: a port already taken is a clear error (exit 2), not a traceback."""
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "mm_console",
                "--no-ui",
                "--duration",
                "1",
                "--no-journal",
                "--metrics-port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 2
    assert f"cannot serve metrics on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_headless_session_is_scraped_while_it_runs() -> None:
    import signal
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mm_console",
            "--no-ui",
            "--seed",
            "4",
            "--no-journal",
            "--metrics-port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for _ in range(2):  # two status lines: it has published views
            assert proc.stdout.readline(), proc.stderr.read() if proc.stderr else ""
        m = scrape(port)
        assert m[("mm_events_total", ())] > 0
        assert m[("mm_connected", ())] == 1.0
        assert sum(v for (name, _), v in m.items() if name == "mm_mode") == 1.0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0
