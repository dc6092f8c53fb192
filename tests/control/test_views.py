"""The view codec of the control socket (issue 18): a ``ConsoleView`` crosses as plain data
and comes back equal, typed, in every state the console draws; its log and fills cross as what
the console lacks (``core.control.tails``) and the console's copy is always the engine's, however
the sequences change and whichever frames are skipped."""

from __future__ import annotations

import dataclasses
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.control.protocol import ProtocolError, frame, parse
from core.control.tails import TailError, TailReceiver, TailSender, kept_run
from core.control.views import (
    ViewCodecError,
    bare_view_to_data,
    item_codec,
    view_from_data,
    view_to_data,
    view_with_tails,
)
from core.view import FillView, LogEntry, Side
from tests.tui import test_tui_engine as states


class _Link:
    """One console's two ends, through real frames."""

    def __init__(self) -> None:
        self.log_out = TailSender(item_codec(LogEntry)[0])
        self.fills_out = TailSender(item_codec(FillView)[0])
        self.log_in = TailReceiver(item_codec(LogEntry)[1])
        self.fills_in = TailReceiver(item_codec(FillView)[1])

    def send(self, view):  # type: ignore[no-untyped-def]
        raw = frame(
            {
                "t": "view",
                "view": bare_view_to_data(view),
                "log": self.log_out.delta(view.log),
                "fills": self.fills_out.delta(view.fills),
            }
        )
        message = parse(raw[4:])
        return view_with_tails(
            message["view"],
            self.log_in.apply(message["log"]),
            self.fills_in.apply(message["fills"]),
        ), len(raw)


def _round_trip(view):  # type: ignore[no-untyped-def]
    return _Link().send(view)[0]


@pytest.mark.parametrize(
    "name", ["quoting", "paused", "killed", "backoff", "breached", "recovering"]
)
def test_every_state_comes_back_equal(name: str) -> None:
    view = getattr(states, name)().latest_view()
    back = _round_trip(view)
    assert back == view
    assert type(back.mode) is type(view.mode) and type(back.instrument) is type(view.instrument)


def test_the_whole_view_also_crosses_in_one_piece() -> None:
    view = states.quoting().latest_view()
    raw = frame({"t": "view", "view": view_to_data(view)})
    assert view_from_data(parse(raw[4:])["view"]) == view


def test_only_what_is_new_crosses_and_the_copy_stays_the_engines() -> None:
    engine = states.quoting()
    link = _Link()
    first = engine.latest_view()
    back, whole = link.send(first)
    assert back == first and first.log
    later = engine.run_until(40.0).latest_view()
    assert later.log != first.log
    back, _ = link.send(later)
    assert back == later
    again, unchanged = link.send(later)  # nothing new: the log and fills are not sent again
    assert again == later
    assert unchanged < whole and unchanged < len(frame({"t": "view", "view": view_to_data(later)}))


def test_an_entry_rewritten_in_the_middle_is_sent_again() -> None:
    """D4: an immediate fill's row gives way to its trade's row, in the middle of the fills."""
    fills = [FillView(float(i), Side.BID, 100 + i, 1, i, None, None, False) for i in range(6)]
    link = _Link()
    view = states.quoting().latest_view()
    link.send(dataclasses.replace(view, fills=tuple(fills)))
    fills[2] = dataclasses.replace(fills[2], size=7)
    back, _ = link.send(dataclasses.replace(view, fills=tuple(fills)))
    assert back.fills == tuple(fills) and back.fills[2].size == 7


def test_kept_run_compares_objects_not_values() -> None:
    a, b, c = LogEntry(1.0, "x", "same"), LogEntry(1.0, "x", "same"), LogEntry(2.0, "x", "z")
    assert kept_run((a, b), (b, c)) == 1
    assert kept_run((a, b), (LogEntry(1.0, "x", "same"), c)) == 0  # equal, not the same entry
    assert kept_run((a, b), (a, b)) == 2
    assert kept_run((a, b), ()) == 0 and kept_run((), (a,)) == 0


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["append", "burst", "rewrite", "clear", "skip"]), st.integers(0, 40)
        ),
        max_size=60,
    )
)
def test_the_consoles_copy_is_the_engines_whatever_changes_and_whichever_frames_are_skipped(
    steps: list[tuple[str, int]],
) -> None:
    """A bounded deque as the maker keeps it (appends, bursts past its bound, rows rewritten
    in the middle, cleared and refilled) and a sender that skips some views (a slow console):
    after every frame sent, the console holds exactly what the engine held."""
    held: deque[LogEntry] = deque(maxlen=12)
    out, into = TailSender(item_codec(LogEntry)[0]), TailReceiver(item_codec(LogEntry)[1])
    serial = 0
    for op, n in steps:
        if op == "append":
            serial += 1
            held.append(LogEntry(float(serial), "t", f"e{serial}"))
        elif op == "burst":
            for _ in range(n):
                serial += 1
                held.append(LogEntry(float(serial), "t", f"e{serial}"))
        elif op == "rewrite" and held:
            rows = list(held)
            rows[n % len(rows)] = LogEntry(-1.0, "r", f"rewritten {n}")
            held.clear()
            held.extend(rows)
        elif op == "clear":
            kept = list(held)[n % 3 :]
            held.clear()
            held.extend(kept)
        if op == "skip":
            continue
        data = parse(frame({"t": "view", "log": out.delta(tuple(held))})[4:])["log"]
        assert into.apply(data) == tuple(held)


def test_a_delta_that_does_not_fit_is_an_error() -> None:
    into = TailReceiver(item_codec(LogEntry)[1])
    with pytest.raises(TailError):
        into.apply([3, []])  # keeps more than it holds
    with pytest.raises(TailError):
        into.apply("nonsense")
    with pytest.raises(ViewCodecError):
        into.apply([0, [[1.0, "x"]]])  # an entry of the wrong width


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(ViewCodecError):
        view_from_data([1, 2, 3])
    with pytest.raises(ProtocolError):
        parse(b"\xc1")
