"""Issue 20 item 4 (the engine's half): the maker feeds its market signals from the book and
the trades, and every output shows them -- the view, the console's exposure pane, the
headless status line and its JSON.  They change no decision yet: the same events give the
same commands with or without them (the swarm's summaries are identical)."""

from __future__ import annotations

import io
import json

from core.events import Side, Trade
from core.reporter import HeadlessReporter
from tests.maker_harness import INSTRUMENT, book, quoting
from tui.exposure import ExposurePane


def test_a_burst_of_aggressive_buys_reads_as_a_cascade_on_the_buy_side() -> None:
    s, _ = quoting()
    t = s.now
    for _ in range(120):  # a trade a second each way for two minutes: ordinary flow
        t += 1.0
        s.handle(Trade(Side.BID, 10_010, 1), t)
        s.handle(Trade(Side.ASK, 10_000, 1), t + 0.5)
    calm = s.maker.view(t + 0.9).signals
    assert calm is not None
    assert 0.5 < calm.cascade[Side.BID] < 2.0 and 0.5 < calm.cascade[Side.ASK] < 2.0
    for k in range(40):  # forty buys in under a second
        s.handle(Trade(Side.BID, 10_010, 1), t + 1.0 + k / 50)
    hot = s.maker.view(t + 1.8).signals
    assert hot is not None
    assert hot.cascade[Side.BID] > 3.0 > hot.cascade[Side.ASK]
    text = ExposurePane().build(s.maker.view(t + 1.8)).plain
    assert "buy " in text and "sell " in text
    status = HeadlessReporter(INSTRUMENT, json_lines=True, out=io.StringIO()).status(
        s.maker.view(t + 1.8)
    )
    assert json.loads(json.dumps(status["signals"]))["cascade"]["bid"] > 3.0


def test_volatility_warms_up_then_reads_the_mid_moving() -> None:
    s, _ = quoting()
    t = s.now
    assert s.maker.view(t).signals is not None and not s.maker.view(t).signals.volatility_ready
    for i in range(40):
        t += 1.0
        bid = 10_000 + (5 if i % 2 else -5)
        s.handle(book(bid, bid + 10), t)
    signals = s.maker.view(t).signals
    assert signals is not None and signals.volatility_ready and signals.volatility_ticks > 1.0
