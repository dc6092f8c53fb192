"""Snapshot tests of the console (pytest-textual-snapshot): deterministic states of a seeded
virtual-time engine at 80x24 and 160x48, and each theme once.  The app gets a fixed view
source and a fixed clock; nothing blinks or animates.  Update with ``--snapshot-update`` and
look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.view import ConsoleView
from tests.tui import test_tui_engine as states
from tui.app import ConsoleApp

SMALL = (80, 24)
LARGE = (160, 48)


def make_app(state: Callable[[], states.Engine], theme: str = "mm-dark") -> ConsoleApp:
    engine = state()
    view: ConsoleView = engine.latest_view()
    return ConsoleApp(
        view_source=lambda: view,
        operate=engine.operate,
        request_stop=engine.request_stop,
        theme=theme,
        clock=lambda: 0.0,
    )


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_quoting(snap_compare, size):
    assert snap_compare(make_app(states.quoting), terminal_size=size)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_killed(snap_compare, size):
    assert snap_compare(make_app(states.killed), terminal_size=size)


def test_paused(snap_compare):
    assert snap_compare(make_app(states.paused), terminal_size=SMALL)


def test_kill_confirmation(snap_compare):
    assert snap_compare(make_app(states.quoting), press=["k"], terminal_size=SMALL)


def test_backoff_countdown(snap_compare):
    assert snap_compare(make_app(states.backoff), terminal_size=LARGE)


def test_recovery_active(snap_compare):
    assert snap_compare(make_app(states.recovering), terminal_size=SMALL)


def test_worst_case_breached(snap_compare):
    assert snap_compare(make_app(states.breached), terminal_size=LARGE)


@pytest.mark.parametrize("theme", ["mm-light", "mm-contrast"])
def test_theme(snap_compare, theme):
    assert snap_compare(make_app(states.quoting, theme), terminal_size=LARGE)


def test_help(snap_compare):
    assert snap_compare(make_app(states.quoting), press=["question_mark"], terminal_size=SMALL)


@pytest.mark.parametrize("size", [(100, 30), LARGE], ids=["100x30", "160x48"])
def test_recovery_shows_at_every_size(snap_compare, size):
    """Issue 16: the recovery pane folds away on smaller terminals; the header's badge stays."""
    assert snap_compare(make_app(states.recovering), terminal_size=size)


def test_too_small(snap_compare):
    """Issue 16: below 80x24 a notice says so; the emergency keys keep working."""
    assert snap_compare(make_app(states.quoting), terminal_size=(70, 20))


def test_binary_market(snap_compare):
    """Issue 21: prices as the venue shows them (two decimals on a 0.01 tick), the settling
    line (final and pending shares, FAILED trades), pending and FAILED fill rows, the
    heartbeat in the header."""
    assert snap_compare(make_app(states.binary), terminal_size=LARGE)
