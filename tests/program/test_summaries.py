"""Summaries that agree (issue 16 item 6): the headless text summary, ``--json`` and the
console's quit summary come from one function and show the same numbers -- position, realised
and unrealised PnL, fills with the late ones, placements, modifies and cancels sent, and
rejections by class.  Hundreds of re-prices used to show as "places_sent: 6, cancels_sent: 0"
(re-prices are modifies, which no summary listed), and the console's quit line had no
position or PnL at all."""

from __future__ import annotations

import io
import json

import pytest

from core.reporter import HeadlessReporter, session_summary, summary_lines
from core.runner import RunResult
from core.view import Mode, SweepPhase
from tests.maker_harness import INSTRUMENT, book, modifies, quoting
from tui.run import _print_summary


def _session_with_re_prices():
    s, _ = quoting()
    sent = []
    for step in range(1, 6):
        sent += s.handle(book(10_000 + 3 * step, 10_010 + 3 * step), s.now + 0.2)
        s.ack_all(sent, 500 + 10 * step)
    assert modifies(sent), "the book moved: re-prices went out as modifies"
    return s, RunResult("operator quit", Mode.RUNNING, 0, 0, sweep=SweepPhase.VERIFIED)


def test_the_summary_counts_modifies_fills_and_rejections_by_class() -> None:
    s, result = _session_with_re_prices()
    summary = session_summary(INSTRUMENT, s.view(), result)
    assert summary["modifies_sent"] > 0
    for key in ("position", "realized_pnl", "unrealized_pnl", "fills", "late_fills"):
        assert key in summary
    assert isinstance(summary["rejections"], dict)


def test_text_json_and_console_say_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    s, result = _session_with_re_prices()
    view = s.view()
    text = summary_lines(
        HeadlessReporter(INSTRUMENT, json_lines=False, out=io.StringIO()).summary(view, result)
    )
    as_json = json.loads(
        json.dumps(
            HeadlessReporter(INSTRUMENT, json_lines=True, out=io.StringIO()).summary(view, result)
        )
    )
    _print_summary({"result": result}, False, view)
    console = capsys.readouterr().out.splitlines()
    assert console == text
    assert text == [f"{k}: {v}" for k, v in session_summary(INSTRUMENT, view, result).items()]
    assert as_json["modifies_sent"] == session_summary(INSTRUMENT, view, result)["modifies_sent"]
