"""The view codec of the control socket (issue 18): a ``ConsoleView`` crosses as plain data
and comes back equal, typed, in every state the console draws; the per-object memory for the
log and fills never serves a stale entry."""

from __future__ import annotations

import dataclasses

import pytest

from core.control.protocol import ProtocolError, frame, parse
from core.control.views import ViewCodecError, view_from_data, view_to_data
from core.view import LogEntry
from tests.tui import test_tui_engine as states


def _round_trip(view):  # type: ignore[no-untyped-def]
    raw = frame({"t": "view", "view": view_to_data(view)})
    return view_from_data(parse(raw[4:])["view"])


@pytest.mark.parametrize(
    "name", ["quoting", "paused", "killed", "backoff", "breached", "recovering"]
)
def test_every_state_comes_back_equal(name: str) -> None:
    view = getattr(states, name)().latest_view()
    back = _round_trip(view)
    assert back == view
    assert type(back.mode) is type(view.mode) and type(back.instrument) is type(view.instrument)


def test_the_memory_never_serves_a_stale_entry() -> None:
    engine = states.quoting()
    first = engine.latest_view()
    assert _round_trip(first) == first
    later = engine.run_until(40.0).latest_view()
    assert later.log != first.log
    assert _round_trip(later) == later
    same_text = dataclasses.replace(first, log=(LogEntry(1.0, "kill", "new"), *first.log[1:]))
    assert _round_trip(same_text).log[0].text == "new"


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(ViewCodecError):
        view_from_data([1, 2, 3])
    with pytest.raises(ProtocolError):
        parse(b"\xc1")
