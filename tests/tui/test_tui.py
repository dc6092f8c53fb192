"""Pilot tests of the console keys against a virtual-time engine (tests/tui/test_tui_engine.py).

Each test presses keys in a headless app and asserts on what the app sent through ``operate``
and on what reached the simulated venue: cancel-all on ``c``; after a kill no placement ever
again until re-arm; quit leaves no live orders; read-only sends nothing.  The app's clock is
injected so the 2 s confirmation window is tested without sleeping.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from core.actions import CancelAllOrders, CancelOrder, Kill, Pause, Quit, Rearm, Resume
from core.commands import CancelAll, Place
from core.config import UiConfig
from core.orders import OrderState
from core.view import Mode, SweepOutcome, SweepPhase
from tests.tui.test_tui_engine import Engine, quoting
from themes import load_themes
from tui.app import ConsoleApp
from tui.emergency import EmergencyKeyHandled
from tui.eventlog import EventLog
from tui.orders import OrdersView
from tui.state import StateStore

SIZE = (160, 48)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_app(
    engine: Engine,
    clock: FakeClock | None = None,
    *,
    finished: list[bool] | None = None,
    **kwargs,
) -> ConsoleApp:
    done = finished if finished is not None else []
    return ConsoleApp(
        view_source=engine.latest_view,
        operate=engine.operate,
        request_stop=engine.request_stop,
        engine_finished=(lambda: bool(done)) if finished is not None else None,
        clock=clock or FakeClock(),
        **kwargs,
    )


def places_after(engine: Engine, index: int) -> list[Place]:
    return [c for c in engine.sent[index:] if isinstance(c, Place)]


async def until(pilot, condition: Callable[[], bool], what: str, *, rounds: int = 60) -> None:
    """Let the app handle what is queued, a round of messages at a time, until ``condition``.

    A fixed ``pause(0.2)`` is a race a loaded CI machine loses (it did); a round ends when
    every widget has handled what was queued when it began, however long that takes."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"not so after {rounds} rounds of messages: {what}")


async def settle(pilot, *, rounds: int = 5) -> None:
    """Rounds of messages enough for a key's chain (app, focused widget, bubbled message)."""
    for _ in range(rounds):
        await pilot.pause()


async def rearm(app: ConsoleApp, pilot) -> None:
    """r, then y once the confirmation is on screen (a y typed before it is mounted goes to
    the console's own screen, which does nothing with it: a loaded machine lost the re-arm)."""
    from tui.screens import ConfirmScreen

    await pilot.press("r")
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the re-arm confirmation")
    await pilot.press("y")
    await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the re-arm answered")


async def show_latest(app: ConsoleApp, pilot) -> None:
    """What the app's refresh timer does, now: poll the engine's view, and let it paint."""
    app._poll()
    await settle(pilot)


@pytest.mark.asyncio
async def test_c_sends_cancel_all_once_even_when_held() -> None:
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        before = len(engine.sent)
        await pilot.press("c", "c", "c")
        await pilot.pause()
    assert engine.actions == [CancelAllOrders("console key")]
    assert [c for c in engine.sent[before:] if isinstance(c, CancelAll)]


@pytest.mark.asyncio
async def test_kill_needs_confirmation_and_latches_until_rearm() -> None:
    engine = quoting()
    clock = FakeClock()
    app = make_app(engine, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k")
        assert engine.actions == []  # only the confirmation is open
        await pilot.press("k")
        await pilot.pause()
        assert engine.actions == [Kill("console key")]
        await pilot.press("k", "k", "y")  # auto-repeat: no second kill
        await pilot.pause()
        assert engine.actions == [Kill("console key")]
        mark = len(engine.sent)
        engine.run_until(60.0)
        await show_latest(app, pilot)
        assert engine.latest_view().mode is Mode.KILLED
        assert places_after(engine, mark) == []
        assert engine.exchange.open_orders() == ()
        await rearm(app, pilot)
        assert engine.actions[-1] == Rearm()
        mark = len(engine.sent)
        engine.run_until(70.0)
        assert places_after(engine, mark), "quoting resumes after re-arm"


@pytest.mark.asyncio
async def test_kill_aborts_on_escape_and_when_late() -> None:
    engine = quoting()
    clock = FakeClock()
    app = make_app(engine, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k", "escape")
        await pilot.pause()
        await pilot.press("k")
        clock.now += 2.5  # the second k comes too late
        await pilot.press("k")
        await pilot.pause()
    assert engine.actions == []


@pytest.mark.asyncio
async def test_pause_keeps_orders_and_shift_p_cancels_them() -> None:
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await show_latest(app, pilot)
        assert engine.actions == [Pause(cancel_orders=False)]
        assert engine.latest_view().mode is Mode.PAUSED
        await pilot.press("p")
        await show_latest(app, pilot)
        assert engine.actions[-1] == Resume()
        await pilot.press("P")
        await show_latest(app, pilot)
    assert engine.actions[-1] == Pause(cancel_orders=True)
    assert any(isinstance(c, CancelAll) for c in engine.sent)


@pytest.mark.asyncio
async def test_x_cancels_the_selected_order() -> None:
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down")
        selected = app.query_one(OrdersView).selected_order
        assert selected is not None
        await pilot.press("x")
        await pilot.pause()
    assert engine.actions == [CancelOrder(selected.cloid)]


@pytest.mark.asyncio
async def test_quit_stops_the_engine_and_leaves_no_live_orders() -> None:
    engine = quoting()
    finished: list[bool] = []
    app = make_app(engine, finished=finished)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert engine.stops == ["operator quit"]
        assert app.is_running
        # What the runner does on a stop request: quit, then pump until the sweep is verified.
        engine.operate(Quit("operator quit"))
        engine.run_until(engine.clock.now() + 5.0)
        assert engine.maker.quiescent_after_stop
        finished.append(True)
        app._poll()  # the refresh timer's turn: the engine has finished
        await until(pilot, lambda: not app.is_running, "the app exited")
    assert engine.exchange.open_orders() == ()


@pytest.mark.asyncio
async def test_read_only_sends_nothing() -> None:
    engine = quoting()
    app = make_app(engine, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "k", "k", "p", "P", "x", "r", "y")
        await pilot.pause()
        assert app.check_action("cancel_all", ()) is None
    assert engine.actions == []


@pytest.mark.asyncio
async def test_keys_are_remapped_by_id() -> None:
    engine = quoting()
    app = make_app(engine, ui=UiConfig(keys={"kill": "K", "cancel_all": "C"}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k", "c")
        await pilot.pause()
        assert engine.actions == []
        await pilot.press("C")
        await pilot.pause()
        assert engine.actions == [CancelAllOrders("console key")]
        await pilot.press("K", "K")
        await pilot.pause()
    assert engine.actions[-1] == Kill("console key")


@pytest.mark.asyncio
async def test_log_filter_takes_hex_and_c_does_not_cancel_while_typing() -> None:
    engine = quoting()
    app = make_app(engine)
    order = engine.latest_view().orders[0]
    tail = order.cloid[-3:]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *tail, "c")
        await pilot.pause()
        log = app.query_one(EventLog)
        assert log.filter == tail + "c"
        assert engine.actions == []
        await pilot.press("escape")
        await pilot.pause()
        assert log.filter == ""
    await_filtered = engine.latest_view().log_for(tail)
    assert all(tail in (e.cloid or "") for e in await_filtered)


@pytest.mark.asyncio
async def test_theme_choice_persists_in_the_state_file(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.toml")
    engine = quoting()
    app = make_app(engine, state=store)
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "mm-contrast"
        await pilot.pause()
    assert store.theme() == "mm-contrast"
    again = make_app(quoting(), state=store)
    assert again.theme == "mm-contrast"


def test_user_theme_files_are_loaded_and_broken_ones_reported(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'name = "mine"\nprimary = "#123456"\n[variables]\nbid = "#00ff00"\n', encoding="utf-8"
    )
    (tmp_path / "broken.toml").write_text('name = "broken"\nprimary = "nope"\n')
    found = load_themes(tmp_path)
    names = {t.name for t in found.themes}
    assert {"mm-dark", "mm-light", "mm-contrast", "mine"} <= names
    assert len(found.problems) == 1 and "broken.toml" in found.problems[0]


@pytest.mark.asyncio
async def test_typing_in_the_theme_picker_sends_nothing() -> None:
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t", *"catppuccin-k", "q")
        await pilot.pause()
        assert app.is_running
        await pilot.press("escape")
    assert engine.actions == []
    assert engine.stops == []


@pytest.mark.asyncio
async def test_k_still_kills_while_the_log_filter_has_focus() -> None:
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "1", "k", "y")
        await pilot.pause()
    assert engine.actions == [Kill("console key")]


@pytest.mark.asyncio
async def test_keys_queued_behind_the_kill_answer_send_one_kill_and_keep_the_console() -> None:
    """D18: confirm keys that pile up behind the first (a held or doubled key under load) send
    exactly one kill, close the prompt once, and never pop the console's own screen (a
    ScreenStackError the kill benchmark once hit with a modal dialog)."""
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("k")
        await pilot.pause()
        assert app.kill_prompt_shown
        await pilot.press("y", "y", "k", "k", "y")
        await until(pilot, lambda: not app.kill_prompt_shown, "the prompt closed")
        await settle(pilot)
        assert not app.kill_prompt_shown
        assert app.screen is screen
    assert engine.actions == [Kill("console key")]


@pytest.mark.asyncio
async def test_the_kill_prompt_shows_while_armed_and_escape_hides_it() -> None:
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        assert not app.kill_prompt_shown
        await pilot.press("k")
        await pilot.pause()
        assert app.kill_prompt_shown
        assert app.emergency.armed
        await pilot.press("escape")
        await pilot.pause()
        assert not app.kill_prompt_shown
        assert not app.emergency.armed
    assert engine.actions == []


@pytest.mark.asyncio
async def test_a_stale_killed_view_after_a_rearm_does_not_latch_the_kill_key_again() -> None:
    """D18: a view published before the re-arm reached the engine still says KILLED; the kill
    key must work once quoting resumes (the real-terminal kill benchmark found it dead)."""
    engine = quoting()
    stale: list[object] = []

    def views() -> object:
        # The first poll after the re-arm still sees a view published before it.
        if stale and engine.actions[-1] == Rearm():
            return stale.pop()
        return engine.latest_view()

    app = make_app(engine)
    app._view_source = views  # type: ignore[assignment]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k", "k")
        engine.run_until(60.0)
        await show_latest(app, pilot)
        killed_view = engine.latest_view()
        assert killed_view.mode is Mode.KILLED
        stale.append(dataclasses.replace(killed_view))  # a new object: the app applies it
        await rearm(app, pilot)
        await show_latest(app, pilot)
        assert engine.actions[-1] == Rearm()
        assert not stale, "the stale view was shown"
        engine.run_until(70.0)
        await show_latest(app, pilot)
        assert engine.latest_view().mode is Mode.RUNNING
        await pilot.press("k", "k")
        await pilot.pause()
    assert engine.actions.count(Kill("console key")) == 2


@pytest.mark.asyncio
async def test_a_kill_armed_just_before_the_engine_killed_itself_leaves_no_stale_prompt() -> None:
    """The input thread arms a kill; before the app paints the prompt the engine's own kill
    arrives and latches the keys: the prompt must not appear over the KILLED header."""
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        press = app.emergency.press("k", "k")  # as the driver's thread would
        assert press is not None
        app.emergency.latch()  # the view said KILLED first
        app.post_message(EmergencyKeyHandled(press))
        await pilot.pause()
        assert not app.kill_prompt_shown


@pytest.mark.asyncio
async def test_keys_typed_faster_than_the_app_handles_them_type_into_the_filter() -> None:
    """/ then c typed in one burst (queued before the app has handled the /): the c is text
    for the log filter, never a cancel-all (the real-terminal run cancelled everything)."""
    from textual import events

    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        for key, character in (("slash", "/"), ("c", "c"), ("3", "3")):
            app.post_message(events.Key(key, character))
        await until(pilot, lambda: app.query_one(EventLog).filter == "c3", "c3 typed")
        assert app.query_one(EventLog).filter == "c3"
        for key, character in (("escape", None), ("t", "t"), ("c", "c"), ("k", "k")):
            app.post_message(events.Key(key, character))
        await settle(pilot)
        await pilot.press("escape")
    assert engine.actions == []


@pytest.mark.asyncio
async def test_a_held_cancel_key_sends_once_and_says_so_once() -> None:
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "c", "c", "c")
        await pilot.pause()
        notices = [n.message for n in app._notifications]
    assert engine.actions == [CancelAllOrders("console key")]
    assert sum("already sent" in m for m in notices) == 1


def _replace(view, cloid: str, new_cloid: str):
    """The view after a re-price: ``cloid`` replaced on its level by ``new_cloid``."""
    orders = tuple(
        dataclasses.replace(o, cloid=new_cloid, oid=None, state=OrderState.PENDING_NEW)
        if o.cloid == cloid
        else o
        for o in view.orders
    )
    return dataclasses.replace(view, orders=orders)


@pytest.mark.asyncio
async def test_the_selection_follows_its_quote_through_a_re_price_and_never_jumps() -> None:
    """Issue 16: while quotes churn, the selection used to jump back to the top row, so x
    cancelled whatever was first.  It follows the order's replacement on its level; an order
    gone with none leaves nothing selected, and x cancels nothing."""
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        orders = app.query_one(OrdersView)
        await pilot.press("down", "down")
        chosen = orders.selected_order
        assert chosen is not None and chosen.level is not None
        first = orders._orders[0].cloid
        assert chosen.cloid != first
        view = app.view
        assert view is not None
        moved = _replace(view, chosen.cloid, "0xreplaced")
        orders.show(moved)
        assert orders.selected == "0xreplaced"
        gone = dataclasses.replace(
            moved, orders=tuple(o for o in moved.orders if o.cloid != "0xreplaced")
        )
        orders.show(gone)
        assert orders.selected is None, "never whatever order happens to be first"
        orders.show(gone)
        assert orders.selected is None
        assert orders.selected_order is None


def test_the_header_says_why_a_running_engine_does_not_quote_and_keeps_the_market() -> None:
    """Issue 16 item 4 (D27): RUNNING with both sides in backoff used to look like any RUNNING;
    KILLED dropped the bid/ask line; "venue verified empty" was a notice gone in seconds."""
    from tui.panes import HeaderPane

    engine = quoting()
    view = engine.latest_view()
    assert view is not None
    header = HeaderPane()
    idle = dataclasses.replace(
        view, side_reasons={s: "backoff RateLimit all sides 7.1s" for s in view.side_reasons}
    )
    line2 = header.build(idle).plain.splitlines()[1]
    assert line2.startswith(" not quoting: backoff RateLimit all sides 7.1s ·")
    killed = dataclasses.replace(view, mode=Mode.KILLED, mode_reason="operator: key")
    line2 = header.build(killed).plain.splitlines()[1]
    assert "operator: key" in line2 and " bid " in line2 and " ask " in line2
    header = HeaderPane()
    header.build(dataclasses.replace(view, sweep=SweepPhase.SWEEPING))
    done = dataclasses.replace(
        view,
        sweep=SweepPhase.VERIFIED,
        last_sweep=SweepOutcome(SweepPhase.VERIFIED, view.time + 1.0),
        time=view.time + 1.0,
    )
    header.build(done)
    later = dataclasses.replace(done, time=view.time + 30.0)
    assert "last cancel-all: venue verified empty 29s ago" in header.build(later).plain
    # Issue 18: a console that first sees the engine later (attached) says the same.
    assert "last cancel-all: venue verified empty 29s ago" in HeaderPane().build(later).plain


def test_the_footer_lists_kill_cancel_all_pause_quit_and_help_first() -> None:
    """Issue 16 item 7: at 80 columns the footer was cut before Quit."""
    ids = [b.id for b in ConsoleApp.BINDINGS if not isinstance(b, tuple)]
    assert ids[:5] == ["kill", "cancel_all", "pause", "quit", "help"]


@pytest.mark.asyncio
async def test_a_terminal_too_small_says_so_and_the_emergency_keys_still_work() -> None:
    """Issue 16 item 7: below 80x24 a notice replaces the panes; c still cancels all."""
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=(70, 20)) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-tiny")
        notice = str(app.too_small.render())
        assert "terminal too small: 70x20" in notice and "k kills" in notice
        await pilot.press("c")
        await settle(pilot)
        # The kill prompt is drawn in the header, which stays on screen above the notice.
        await pilot.press("k")
        await until(pilot, lambda: app.kill_prompt_shown, "the kill prompt shown")
        assert app.header_pane.display and app.header_pane.region.height == 2
        assert "KILL?" in str(app.header_pane.render())
    assert any(isinstance(a, CancelAllOrders) for a in engine.actions)


@pytest.mark.asyncio
async def test_a_terminal_made_small_under_the_help_screen_still_gets_the_notice() -> None:
    """The size class went on whichever screen was on top: resized with help open, the
    console's own screen never got the notice."""
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await settle(pilot)
        await pilot.resize_terminal(70, 20)
        await settle(pilot)
        assert app.screen_stack[0].has_class("-tiny")


@pytest.mark.asyncio
async def test_the_kill_key_closes_the_help_screen_so_its_prompt_is_seen() -> None:
    """At 80x24 the help screen covers the header, where the kill prompt is drawn."""
    from tui.screens import HelpScreen

    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help open")
        await pilot.press("k")
        await until(pilot, lambda: app.kill_prompt_shown, "the kill prompt shown")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("k")
        await settle(pilot)
    assert any(isinstance(a, Kill) for a in engine.actions)


def test_a_user_theme_that_replaces_a_built_in_one_says_so(tmp_path: Path) -> None:
    """Issue 16 item 11: a user theme named like a built-in one silently replaced it."""
    (tmp_path / "dark.toml").write_text('name = "mm-dark"\nprimary = "#123456"\n')
    found = load_themes(tmp_path)
    assert [t.primary for t in found.themes if t.name == "mm-dark"] == ["#123456"]
    assert found.problems == (f"{tmp_path / 'dark.toml'}: replaces the built-in theme 'mm-dark'",)


def test_small_things_of_the_panes_line_up() -> None:
    """Issue 16 item 11: 15-digit trade ids misaligned the fills columns; a ladder size of 10
    or more ran into our order's tag."""
    from tui import fmt

    assert fmt.short_tid(118906512037719) == "…12037719"
    assert len(fmt.short_tid(118906512037719)) == 9
    assert fmt.fit("10.2798", 6) == "10.279"
    assert fmt.fit("12345.6789", 6) == "12345"


@pytest.mark.asyncio
async def test_a_key_that_does_nothing_now_says_why() -> None:
    """Issue 16 item 4: r while RUNNING (nothing to re-arm) used to do nothing at all."""
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("nothing to re-arm" in m for m in said), said
    assert engine.actions == []


def _log_views(n: int, per_view: int = 50):
    """Views whose engine log (the last 500 entries) slides: ``n`` views of ``per_view`` new
    entries each, every fifth a transition of order 0x..{i}."""
    from core.view import LogEntry

    engine = quoting()
    base = engine.latest_view()
    assert base is not None
    entries: list[LogEntry] = []
    views = []
    for v in range(n):
        for j in range(per_view):
            i = v * per_view + j
            kind = "transition" if i % 5 == 0 else "reconcile"
            entries.append(LogEntry(float(i), kind, f"entry {i}", f"0x{i:032x}", 1000 + i))
        views.append(dataclasses.replace(base, log=tuple(entries[-500:])))
    return views


def test_the_event_log_keeps_its_own_history_beyond_the_engines() -> None:
    """Issue 16 item 5: the engine's view holds its last 500 entries; the console keeps
    10,000, so a filter on an id that matched a moment ago still finds it."""
    log = EventLog()
    for view in _log_views(40):  # 2,000 entries
        log.show(view)
    log.filter = f"{3:032x}"[-6:]  # entry 3, long gone from the engine's 500
    log.show(_log_views(40)[-1])
    texts = [row[-1][0] for row in log.rows]
    assert any(t.startswith("entry 3 ") for t in texts), texts[:3]


def test_order_transitions_are_hidden_by_default_and_shown_by_kind_or_id() -> None:
    """Issue 16 item 5: one line per order transition swamped the log."""
    log = EventLog()
    view = _log_views(1)[-1]
    log.show(view)
    assert log.rows[0][0][0] == "10 order transitions hidden"
    assert not any("transition" in str(row) for row in log.rows[1:])
    for _ in range(len(EventLog.KINDS)):
        if log.cycle_kind() == "transition":
            break
    log.show(view)
    assert len(log.rows) == 10 and all("transition" in row[1][0] for row in log.rows)
    log.kind = None
    log.filter = f"{5:032x}"[-6:]
    log.show(view)
    assert [row[-1][0].split(" [")[0] for row in log.rows] == ["entry 5"]


@pytest.mark.asyncio
async def test_the_exposure_pane_draws_position_and_pnl_sparklines_a_point_a_second() -> None:
    """Issue 16 item 9: Textual Sparklines of the session's position and net PnL."""
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        base = engine.latest_view()
        assert base is not None
        box = app.exposure
        before = len(box.position_trend.line.data or ())
        assert all(p < 20_000 for p in box.position_trend.line.data or ())
        for i, t in enumerate((10.0, 10.4, 11.0, 12.5, 13.5)):
            box.show(dataclasses.replace(base, time=base.time + t, position=20_000 + 1000 * i))
        await settle(pilot)
        # 10.4 s is within the second of the point at 10 s: four points, not five.
        assert (box.position_trend.line.data or ())[before:] == (20e3, 22e3, 23e3, 24e3)
        assert len(box.pnl_trend.line.data or ()) == before + 4
        line = box.position_trend.line
        assert line.size.width > 20, line.size
        console = Console(width=line.size.width, file=io.StringIO())
        bars = "".join(seg.text for seg in console.render(line.render())).strip()
        # Rising position: the first bar is the lowest, the last the highest, every bar drawn.
        assert len(bars) == line.size.width and bars[0] == "▁" and bars[-1] == "█", bars


def test_ladder_sizes_shade_a_depth_bar_scaled_to_the_deepest_level_shown() -> None:
    """Issue 16 item 9: the ladder shows depth as a bar in the size cell, from the price out."""
    from tui.ladder import Ladder

    view = quoting().latest_view()
    assert view is not None
    rows = Ladder().build_rows(view, 40)
    widths = {}
    for row in rows:
        for text, cls in row:
            if cls.endswith("-depth"):
                widths.setdefault(cls, []).append(len(text))
    assert set(widths) == {"ladder--bid-depth", "ladder--ask-depth"}, rows[:3]
    # The deepest level on screen fills its whole size cell; no bar is wider than that.
    longest = max(max(w) for w in widths.values())
    assert all(0 <= w <= longest for ws in widths.values() for w in ws)
    assert any(w == longest for ws in widths.values() for w in ws)
    # The text of every row is unchanged by the shading: a cell is split, never padded.
    assert len({sum(len(text) for text, _ in row) for row in rows if len(row) > 1}) == 1


@pytest.mark.asyncio
async def test_the_footer_tells_the_truth_while_the_log_filter_has_focus() -> None:
    """Issue 16 item 5: with the filter focused, c and x type hex digits; the footer offered
    them as Cancel all and Cancel sel all the same."""
    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await show_latest(app, pilot)

        def footer() -> dict[str, str]:
            return {
                b.key: b.description
                for (_, b, enabled, _) in app.screen.active_bindings.values()
                if b.show and enabled
            }

        before = footer()
        assert before["c"] == "Cancel all" and "escape" not in before
        await pilot.press("slash")
        await settle(pilot)
        typing = footer()
        assert "c" not in typing and "x" not in typing, typing
        assert typing["k"] == "KILL" and typing["q"] == "Quit", typing
        assert typing["enter"] == "Apply filter" and typing["escape"] == "Close filter"
        await pilot.press("c")
        await settle(pilot)
        assert app.filter_box.value == "c"
        assert engine.actions == []
        await pilot.press("escape")
        await settle(pilot)
        assert app.filter_box.value == "" and not app.filter_box.has_focus
        assert footer()["c"] == "Cancel all"


@pytest.mark.asyncio
async def test_the_prompt_the_input_thread_draws_covers_the_header_lines_at_any_width(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the input thread queues for the terminal: the app's own prompt text over the two
    header lines, each cut or padded to the terminal's width, restoring the cursor."""
    import re

    engine = quoting()
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        drawn = app._prompt_on_terminal()
        assert drawn is not None and drawn.startswith("\x1b7") and drawn.endswith("\x1b8")
        rows = re.findall(r"\x1b\[(\d);1H\x1b\[[0-9;]+m(.*?)\x1b\[0m", drawn)
        assert [r for r, _ in rows] == ["1", "2"]
        title, keys = (text for _, text in rows)
        assert title.startswith(" KILL?  cancel every order and stop quoting?")
        assert keys.startswith(" press k or y within 2 s")
        assert len(title) == len(keys) == 80
        assert "41m" in drawn  # red
        monkeypatch.setenv("NO_COLOR", "1")
        assert "41m" not in (app._prompt_on_terminal() or "")
        await pilot.resize_terminal(40, 20)
        await settle(pilot)
        short = app._prompt_on_terminal() or ""
        assert all(
            len(t) == 40 for _, t in re.findall(r"\x1b\[(\d);1H\x1b\[[0-9;]+m(.*?)\x1b\[0m", short)
        )
