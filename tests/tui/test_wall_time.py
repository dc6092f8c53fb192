"""Real time for the operator (issue 16 item 3): UTC to the millisecond on every event-log line
and every JSON status line, and a UTC clock with the session's uptime in the header.

The core still keeps only monotonic time, passed in; the runner stamps each published view
with the offset to the calendar (``Clock.epoch_offset``), and only the screen and the
reporters turn times into UTC.  In virtual time there is no calendar and nothing changes.
"""

from __future__ import annotations

import dataclasses
import io
import re
import time

import pytest

from core.clock import VirtualClock, WallClock
from core.reporter import HeadlessReporter
from tests.maker_harness import INSTRUMENT, quoting
from tui.eventlog import EventLog

# 2026-12-06T09:58:01.123Z as Unix seconds, for a view whose time is 100.0
EPOCH = 1796551081.123
OFFSET = EPOCH - 100.0


def _view_at_100():
    s, _ = quoting()
    view = s.view()
    return dataclasses.replace(view, time=100.0, epoch_offset=OFFSET, started=40.0)


def test_the_wall_clock_knows_the_calendar_and_virtual_time_does_not() -> None:
    assert abs(WallClock().now() + WallClock().epoch_offset() - time.time()) < 1.0
    assert VirtualClock().epoch_offset() is None


def test_json_status_lines_carry_utc_to_the_millisecond() -> None:
    status = HeadlessReporter(INSTRUMENT, json_lines=True, out=io.StringIO()).status(_view_at_100())
    assert status["utc"] == "2026-12-06T09:58:01.123Z"
    assert status["t"] == 100.0


def test_text_status_lines_begin_with_utc() -> None:
    line = HeadlessReporter(INSTRUMENT, json_lines=False, out=io.StringIO()).line(_view_at_100())
    assert line.startswith("2026-12-06T09:58:01.123Z | ")


def test_virtual_time_keeps_the_sessions_seconds() -> None:
    s, _ = quoting()
    status = HeadlessReporter(INSTRUMENT, json_lines=True, out=io.StringIO()).status(s.view())
    assert status["utc"] is None


@pytest.mark.asyncio
async def test_event_log_lines_show_utc_to_the_millisecond() -> None:
    log = EventLog()
    view = _view_at_100()
    assert view.log
    log.show(view)
    # Every entry's line (the first row may be the count of hidden order transitions).
    times = [str(row[0][0]).strip() for row in log.rows if len(row) > 1]
    assert times and all(re.fullmatch(r"\d\d:\d\d:\d\d\.\d\d\d", t) for t in times), times[:3]
