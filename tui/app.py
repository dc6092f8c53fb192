"""The console app: panes, keys and what each key does, drawn from the engine's views.

``ConsoleApp`` pulls a ``ConsoleView`` on a timer at ``ui.refresh_hz`` (conflated: a frame whose
view object did not change is skipped) and sends operator actions through a callable (the
runner's ``operate``).  It never reaches into the maker.  Kill and cancel-all do not wait for
the app's loop at all: the terminal driver hands their keys to ``tui.emergency.EmergencyKeys``
on its input thread, which sends them at once; the app only paints what was done.  The process
around it (the engine's thread, signals, the exit code) is ``tui.run``.

``ConsoleApp`` takes plain callables (view source, operate, request stop, engine finished)
and an injectable clock, so tests drive it with views from a virtual-time engine.

Why one class of about 750 lines: Textual calls an app's bindings, ``action_*``,
``check_action``, ``on_*`` handlers and the emergency hooks as methods of the ``App`` itself;
split into mixins they would share every field anyway.  Everything that is not such a method
lives in its own module (panes, ladder, orders, event log, screens, emergency keys, state).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import set_cell_size
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.keys import key_to_character
from textual.theme import Theme
from textual.widgets import Footer, Input, Static

from core.actions import (
    Action,
    CancelOrder,
    Pause,
    Rearm,
    Resume,
)
from core.config import UiConfig
from core.keymap import DEFAULT_KEYS, keys_of
from core.view import ConsoleView, Mode, SweepPhase
from themes import DEFAULT_THEME, VARIABLE_DEFAULTS, ThemeSet, load_themes
from tui.emergency import (
    CONFIRM_WINDOW_S,
    JUDGED,
    EmergencyKeyHandled,
    EmergencyKeys,
    Outcome,
    Press,
    with_emergency_keys,
)
from tui.eventlog import EventLog
from tui.exposure import ExposureBox
from tui.ladder import Ladder
from tui.orders import OrdersView, shown_orders
from tui.panes import FillsPane, HeaderPane, RecoveryPane, RejectionsPane, TextPane
from tui.screens import ConfirmScreen, HelpScreen
from tui.state import StateStore

NARROW_COLUMNS = 150
SHORT_LINES = 34
STARTED_AFTER_S = 2.0
REPEAT_NOTICE_S = 2.0  # at most one "nothing new was sent" notice this often
FIELD_GRACE_S = 0.5  # a key-opened field not seen open after this long is taken as closed
_ID_CHARACTERS = frozenset("0123456789abcdefABCDEFxX")


@dataclass(frozen=True, slots=True)
class KeySpec:
    id: str
    keys: str
    description: str
    order_affecting: bool
    priority: bool = False


# One table of every key: bindings, the help screen and the README are made from it.
_D = DEFAULT_KEYS
KEYS: tuple[KeySpec, ...] = (
    KeySpec("kill", _D["kill"], "KILL: cancel all, stop quoting, latch", True, True),
    KeySpec("cancel_all", _D["cancel_all"], "Cancel all orders on the venue now", True, True),
    KeySpec("pause", _D["pause"], "Pause/resume quoting, keep resting orders", True),
    KeySpec("pause_cancel", _D["pause_cancel"], "Pause quoting and cancel resting orders", True),
    KeySpec("cancel_selected", _D["cancel_selected"], "Cancel the selected order", True),
    KeySpec("rearm", _D["rearm"], "Re-arm after a kill", True),
    KeySpec("filter_log", _D["filter_log"], "Filter the event log by cloid or oid", False, True),
    KeySpec("log_kind", _D["log_kind"], "Event log: cycle the kinds shown", False),
    KeySpec("help", _D["help"], "This help", False),
    KeySpec("theme", _D["theme"], "Pick a theme", False, priority=True),
    KeySpec("quit", _D["quit"], "Quit: cancel every order, then exit", False),
)
_FOOTER_LABEL = {
    "pause": "Pause",
    "pause_cancel": "Pause+cxl",
    "cancel_all": "Cancel all",
    "cancel_selected": "Cancel sel",
    "filter_log": "Filter",
    "log_kind": "Log kind",
    "kill": "KILL",
    "rearm": "Re-arm",
    "help": "Help",
    "theme": "Theme",
    "quit": "Quit",
}
_KEY_NAMES = {"question_mark": "?", "slash": "/"}
_FOOTER_FIRST = {"kill": 0, "cancel_all": 1, "pause": 2, "quit": 3, "help": 4}
# Below this the panes cannot be drawn readably: a notice takes the screen, the keys still work.
MIN_COLUMNS, MIN_LINES = 80, 24
KILL_PROMPT_TITLE = "cancel every order and stop quoting?"


def _kill_prompt(keys: list[str]) -> tuple[str, str]:
    """The kill confirmation, drawn in the header while a kill is armed (no screen to push)."""
    confirm = " or ".join([*keys, "y"])
    return (
        KILL_PROMPT_TITLE,
        f"press {confirm} within {CONFIRM_WINDOW_S:g} s · escape aborts · latched until r re-arms",
    )


ORDER_ACTIONS = frozenset(k.id for k in KEYS if k.order_affecting)
_ACTION_IDS = frozenset(k.id for k in KEYS)


def _id_character(character: str | None) -> bool:
    return character is not None and character in _ID_CHARACTERS


def _printable(character: str | None) -> bool:
    return character is not None and character.isprintable()


class FilterInput(Input):
    """The log filter.  It claims only the characters an id can hold, so any other key (k to
    kill, p, q ...) still reaches the app's bindings while the filter has focus.  Its own keys
    are in the footer while it has focus, and the app's keys it types are not (issue 16)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Apply filter"),
        Binding("escape", "app.close_filter", "Close filter"),
    ]

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return _id_character(character)


class ConsoleApp(App[None]):
    """Panes fed by ``ConsoleView``s from ``view_source``; keys that call ``operate``."""

    CSS_PATH = "console.tcss"
    TITLE = "mm-console"
    READ_ONLY_NOTICE = "read-only: order-affecting keys are disabled"
    # What leaving does, in the help screen (an attached console detaches instead).
    QUIT_HELP = "Quit: cancel every order, then exit"
    HANGUP_NOTE = "Closing the terminal (SIGHUP) cancels every order before exiting."
    # The footer lists the bindings in this order: what protects money and the way out
    # first, then help, so that an 80-column terminal cuts only the rest (issue 16).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            k.keys,
            k.id,
            _FOOTER_LABEL[k.id],
            id=k.id,
            priority=k.priority,
            tooltip=k.description,
        )
        for k in sorted(KEYS, key=lambda spec: _FOOTER_FIRST.get(spec.id, len(_FOOTER_FIRST)))
    ]

    def __init__(
        self,
        *,
        view_source: Callable[[], ConsoleView | None],
        operate: Callable[[Action], None],
        request_stop: Callable[[str], None],
        engine_finished: Callable[[], bool] | None = None,
        terminal_gone: Callable[[], bool] | None = None,
        started: Callable[[], None] | None = None,
        ui: UiConfig | None = None,
        read_only: bool = False,
        themes: ThemeSet | None = None,
        theme: str | None = None,
        state: StateStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._view_source = view_source
        self._operate = operate
        self._request_stop = request_stop
        self._engine_finished = engine_finished
        self._terminal_gone = terminal_gone
        self._started = started
        self._ui = ui if ui is not None else UiConfig()
        self._read_only = read_only or self._ui.read_only
        self._state = state
        self._clock = clock
        self.view: ConsoleView | None = None
        self.quitting = False
        self._prompt_timer: Any = None
        self._declined_key = False  # a key the emergency guard declined is being dispatched
        self._last_repeat_notice = float("-inf")
        self._sweep_watch = ""  # "" | "sent" | "seen": waiting for a cancel-all's verification
        theme_set = themes if themes is not None else load_themes(None)
        self._theme_problems = theme_set.problems
        for t in theme_set.themes:
            self.register_theme(t)
        chosen = theme or (state.theme() if state is not None else None) or self._ui.theme
        self.theme = chosen if chosen in self.available_themes else DEFAULT_THEME
        self.set_keymap(dict(self._ui.keys))
        self.emergency = EmergencyKeys(
            self._operate,
            clock,
            kill_keys=self._keys_of("kill"),
            cancel_all_keys=self._keys_of("cancel_all"),
            reserved=[
                key
                for k in KEYS
                if k.id not in ("kill", "cancel_all")
                for key in self._keys_of(k.id)
            ],
            text_fields={
                **dict.fromkeys(self._keys_of("filter_log"), _id_character),
                **dict.fromkeys([*self._keys_of("theme"), "ctrl+p"], _printable),
            },
            enabled=not self._read_only,
        )
        self.emergency.consumes = self._focused_consumes
        self.driver_class = with_emergency_keys(
            self.driver_class, self.emergency, self._prompt_on_terminal
        )
        self._kill_prompt = _kill_prompt(self._keys_of("kill"))
        self.header_pane = HeaderPane(id="header")
        self.body = Vertical(id="body")
        self.too_small = Static(id="too-small")
        self.ladder = Ladder(id="ladder")
        self.orders = OrdersView(id="orders")
        self.exposure = ExposureBox(id="exposure")
        self.rejections = RejectionsPane(id="rejections")
        self.recovery = RecoveryPane(id="recovery")
        self.fills = FillsPane(id="fills")
        self.log_pane = EventLog(id="log")
        self.logbox = Vertical(id="logbox", classes="pane")
        self.filter_box = FilterInput(
            placeholder="cloid or oid (hex digits); enter applies, escape clears",
            restrict=r"[0-9a-fA-FxX]*",
            id="filter",
        )
        self._panes: tuple[TextPane | ExposureBox | Ladder | OrdersView | EventLog, ...] = (
            self.header_pane,
            self.ladder,
            self.orders,
            self.exposure,
            self.rejections,
            self.recovery,
            self.fills,
            self.log_pane,
        )

    # ---- layout ---------------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield self.header_pane
        with self.body:
            with Horizontal(id="top"):
                yield self.ladder
                with Horizontal(id="right"):
                    yield self.orders
                    with Vertical(id="risk"):
                        yield self.exposure
                        yield self.rejections
                        yield self.recovery
            with Horizontal(id="bottom"):
                yield self.fills
                with self.logbox:
                    yield self.filter_box
                    yield self.log_pane
        yield self.too_small
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        titles = {
            self.ladder: "ladder",
            self.orders: "orders",
            self.exposure: "exposure",
            self.rejections: "rejections · backoff",
            self.recovery: "recovery",
            self.fills: "fills",
            self.logbox: "event log",
        }
        for widget, title in titles.items():
            widget.border_title = title
            widget.add_class("pane")
        self._apply_size(self.size.width, self.size.height)
        self.orders.focus()
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        for problem in self._theme_problems:
            self.notify(problem, title="theme file skipped", severity="warning", timeout=10)
        if self._read_only:
            self.notify(self.READ_ONLY_NOTICE, timeout=5)
        self._poll()
        self.set_interval(1.0 / self._ui.refresh_hz, self._poll)
        if self._started is not None:
            # Once the widget tree, styles and first frames exist (core/gcpolicy.py).
            self.set_timer(STARTED_AFTER_S, self._started)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, width: int, height: int) -> None:
        body = self.body
        body.set_class(width < NARROW_COLUMNS, "-narrow")
        body.set_class(height < SHORT_LINES, "-short")
        tiny = width < MIN_COLUMNS or height < MIN_LINES
        # The console's own screen, not a dialog that happens to be open on top of it.
        self.screen_stack[0].set_class(tiny, "-tiny")
        if tiny:
            kill, cancel_all, quit_ = (
                "/".join(self._keys_of(action)) for action in ("kill", "cancel_all", "quit")
            )
            self.too_small.update(
                f"terminal too small: {width}x{height}, the console needs "
                f"{MIN_COLUMNS}x{MIN_LINES}\n\nthe keys still work: {kill} kills · "
                f"{cancel_all} cancels every order · {quit_} quits"
            )

    # ---- the frame ------------------------------------------------------------------------

    def _poll(self) -> None:
        if self._engine_finished is not None and self._engine_finished():
            self.exit()
            return
        if not self.quitting and self._terminal_gone is not None and self._terminal_gone():
            self.quitting = True
            self._request_stop("terminal gone")
            if self._engine_finished is None:
                self.exit()
            return
        self._forget_closed_field()
        view = self._view_source()
        if view is None or view is self.view:
            return
        previous = self.view
        self.view = view
        if view.mode is Mode.KILLED and (previous is None or previous.mode is not Mode.KILLED):
            # Killed by the engine itself (risk) or by this console: kill keys send nothing
            # until a re-arm.  Only the change into KILLED latches: a view published before a
            # re-arm reached the engine still says KILLED and must not latch it again.
            self.emergency.latch()
            self._hide_prompt()
        with self.batch_update():
            for pane in self._panes:
                pane.show(view)
        self._follow_sweep(view)
        if previous is None or previous.mode is not view.mode:
            self.refresh_bindings()

    def _forget_closed_field(self) -> None:
        """A field a key opened and something else closed (a click, a theme picked with
        the mouse): the emergency keys must not stay text for good."""
        guard = self.emergency
        if guard.typing and guard.typing_for() > FIELD_GRACE_S:
            field_open = self.filter_box.has_focus or isinstance(self.screen, CommandPalette)
            if not field_open:
                guard.stop_typing()

    def _follow_sweep(self, view: ConsoleView) -> None:
        if not self._sweep_watch:
            return
        if view.sweep.is_active:
            self._sweep_watch = "seen"
        elif self._sweep_watch == "seen" and view.sweep is SweepPhase.VERIFIED:
            self._sweep_watch = ""
            self.notify(
                "venue confirmed: no open orders (checked twice)", title="cancel-all verified"
            )
        elif view.sweep is SweepPhase.FAILED:
            self._sweep_watch = ""
            self.notify(
                f"cancel-all not verified; {view.untracked_venue_orders} untracked venue "
                f"orders; {view.mode_reason or 'see the event log'}",
                title="cancel-all FAILED",
                severity="error",
                timeout=15,
            )

    # ---- which keys apply -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if isinstance(self.screen, ConfirmScreen) and action == "rearm":
            return False  # the confirmation screen reads this key itself
        if action in _ACTION_IDS and self._typed_by_focus(action):
            # The focused field types every key of it (c and x are hex digits in the log
            # filter): the footer must not offer it (issue 16).
            return False
        if action not in ORDER_ACTIONS:
            return True
        view = self.view
        if self._read_only or view is None:
            return None
        mode = view.mode
        if action in ("pause", "pause_cancel"):
            return True if mode in (Mode.RUNNING, Mode.PAUSED) and not self.quitting else None
        if action == "cancel_selected":
            return True if self.orders.selected_order is not None else None
        if action == "kill":
            return None if mode is Mode.KILLED or self.emergency.killed else True
        if action == "rearm":
            return True if mode is Mode.KILLED else None
        return True

    def _send(self, action: Action) -> bool:
        try:
            self._operate(action)
        except RuntimeError as exc:
            self.notify(f"not sent: {exc}", severity="error")
            return False
        return True

    def _keys_of(self, binding_id: str) -> list[str]:
        spec = next(k for k in KEYS if k.id == binding_id)
        return keys_of(self._ui.keys.get(binding_id, spec.keys))

    # ---- actions --------------------------------------------------------------------------

    def action_pause(self) -> None:
        if self.view is not None and self.view.mode is Mode.PAUSED:
            if self._send(Resume()):
                self.notify("quoting resumed")
        elif self._send(Pause(cancel_orders=False)):
            self.notify("paused: no new quotes, resting orders kept · p resumes, P cancels them")

    def action_pause_cancel(self) -> None:
        if self._send(Pause(cancel_orders=True)):
            self._sweep_watch = "sent"
            self.notify("paused and cancel-all sent · p resumes quoting")

    def action_cancel_all(self) -> None:
        """The binding's action (footer click, palette); the key itself is judged earlier."""
        if self._declined_key:
            return
        press = self.emergency.cancel_all_key()
        if press is not None:
            self._emergency_done(press)

    def action_cancel_selected(self) -> None:
        order = self.orders.selected_order
        if order is None:
            self.notify("no order selected", severity="warning")
            return
        if self._send(CancelOrder(order.cloid)):
            oid = f"oid {order.oid}" if order.oid is not None else "no oid yet"
            self.notify(f"cancel sent for {order.cloid} ({oid})")

    def action_kill(self) -> None:
        """The binding's action (footer click, palette); the key itself is judged earlier."""
        if self._declined_key:
            return
        press = self.emergency.kill_key()
        if press is not None:
            self._emergency_done(press)

    # ---- the emergency keys (tui/emergency.py) --------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Every key reaches the app here first: one the terminal driver has not already
        shown the guard (tests, the pilot) is judged now, before any binding, screen or
        widget sees it.  A kill or cancel-all key the guard declined (text for a field, or
        latched) must not then fire through its binding."""
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
            return
        if not getattr(event, JUDGED, False):
            press = self.emergency.press(event.key, event.character)
            if press is not None:
                event.stop()
                self._emergency_done(press)
                return
        self._declined_key = True
        try:
            await super().on_event(event)
        finally:
            self._declined_key = False

    def on_emergency_key_handled(self, message: EmergencyKeyHandled) -> None:
        self._emergency_done(message.press)

    def _typed_by_focus(self, action: str) -> bool:
        keys = self._keys_of(action)
        return bool(keys) and all(self._focused_consumes(k, key_to_character(k)) for k in keys)

    def _focused_consumes(self, key: str, character: str | None) -> bool:
        """Whether the focused widget types this key (read from the driver's thread too)."""
        try:
            if isinstance(self.screen, CommandPalette):
                # Its search field types every printable key, even before it is mounted
                # and focused (t then a theme name typed fast).
                return character is not None and character.isprintable()
            focused = self.focused
            return focused is not None and focused.check_consume_key(key, character)
        except Exception:  # no screen yet, the app is closing, a widget going away
            return False

    def _prompt_on_terminal(self) -> str | None:
        """The kill prompt as terminal output over the header's two lines, for the input
        thread to queue the moment a key arms the kill (``with_emergency_keys``).  Plain
        SGR, no theme lookup: it must not touch the widget tree from that thread."""
        driver = self._driver
        if driver is None or driver.is_inline or not self._running:
            return None
        width = self.size.width
        title, keys = self._kill_prompt
        plain = bool(os.environ.get("NO_COLOR"))
        styles = ("\x1b[7;1m", "\x1b[1m") if plain else ("\x1b[1;97;41m", "\x1b[1;93;40m")
        lines = (f" KILL?  {title}", f" {keys}")
        drawn = "".join(
            f"\x1b[{row};1H{style}{set_cell_size(line, width)}\x1b[0m"
            for row, (line, style) in enumerate(zip(lines, styles, strict=True), start=1)
        )
        return f"\x1b7{drawn}\x1b8"

    def _emergency_done(self, press: Press) -> None:
        """Paint what the guard did; everything order-related was already sent."""
        # The input thread may have drawn the kill prompt over the header already: whatever
        # happened since, the top two lines are repainted from what the app knows (over a
        # dialog too, which may cover the header).
        self.header_pane.refresh()
        self.screen.refresh(Region(0, 0, self.size.width, 2))
        outcome = press.outcome
        if outcome is Outcome.KILL_ARMED:
            if isinstance(self.screen, HelpScreen):
                self.pop_screen()  # it may cover the header, where the prompt is drawn
            if self.emergency.deadline is not None:  # not dropped since (a kill, a latch)
                self._show_prompt()
        elif outcome is Outcome.KILL_SENT:
            self._hide_prompt()
            self._sweep_watch = "sent"
            self.refresh_bindings()
            self.notify(
                "KILL sent: every order cancelled, quoting stopped · r re-arms",
                title="killed",
                severity="error",
                timeout=8,
            )
        elif outcome is Outcome.KILL_ABORTED:
            self._hide_prompt()
            self.notify("kill aborted")
        elif outcome is Outcome.KILL_TOO_LATE:
            self._hide_prompt()
            self.notify("kill not confirmed in time: nothing sent", severity="warning")
        elif outcome is Outcome.CANCEL_ALL_SENT:
            self._sweep_watch = "sent"
            live = len(shown_orders(self.view)) if self.view is not None else 0
            self.notify(
                f"cancel-all sent to the venue ({live} live orders); waiting for verification",
                title="cancel all",
            )
        elif outcome in (Outcome.CANCEL_ALL_REPEAT, Outcome.KILL_HELD):
            # A held key repeats many times a second: say once a while that nothing new went.
            if press.at - self._last_repeat_notice >= REPEAT_NOTICE_S:
                self._last_repeat_notice = press.at
                what = (
                    "cancel-all already sent: waiting for the venue"
                    if outcome is Outcome.CANCEL_ALL_REPEAT
                    else "already killed: r re-arms"
                )
                self.notify(what, timeout=2)
        elif outcome is Outcome.NOT_SENT:
            self._hide_prompt()
            self.notify(f"not sent: {press.error}", severity="error")

    @property
    def kill_prompt_shown(self) -> bool:
        return self.header_pane.prompt is not None

    def _show_prompt(self) -> None:
        self.header_pane.show_prompt(self._kill_prompt)
        self.call_after_refresh(self._prompt_painted)

    def _prompt_painted(self) -> None:
        deadline = self.emergency.shown()
        if deadline is None:
            self._hide_prompt()  # the arm was dropped before the prompt got on screen
        else:
            self._schedule_prompt_check(deadline)

    def _schedule_prompt_check(self, deadline: float) -> None:
        if self._prompt_timer is not None:
            self._prompt_timer.stop()
        wait = max(0.05, deadline - self._clock())
        self._prompt_timer = self.set_timer(wait, self._prompt_check)

    def _prompt_check(self) -> None:
        self._prompt_timer = None
        deadline = self.emergency.deadline
        if deadline is None:
            self._hide_prompt()
        elif self.emergency.expire():
            self._hide_prompt()
            self.notify("kill not confirmed in time: nothing sent", severity="warning")
        else:
            self._schedule_prompt_check(deadline)

    def _hide_prompt(self) -> None:
        if self._prompt_timer is not None:
            self._prompt_timer.stop()
            self._prompt_timer = None
        self.header_pane.show_prompt(None)

    def action_rearm(self) -> None:
        keys = [*self._keys_of("rearm"), "y"]
        liquidation = self.view.liquidation if self.view is not None else ""
        self.push_screen(
            ConfirmScreen(
                "Re-arm the kill switch and let quoting start again?",
                # D41: re-arming after our own liquidation acknowledges it, and says so.
                f"The venue LIQUIDATED this account: {liquidation}. Re-arming acknowledges it."
                if liquidation
                else "Check why it was killed first (header, event log).",
                keys,
                clock=self._clock,
            ),
            self._rearm_answered,
        )

    def _rearm_answered(self, confirmed: bool | None) -> None:
        if not confirmed:
            self.notify("re-arm aborted")
            return
        if self._send(Rearm()):
            self.emergency.rearmed()
            self.refresh_bindings()
            self.notify("kill switch re-armed: quoting resumes once the venue is verified empty")

    def action_filter_log(self) -> None:
        self.body.add_class("-log-open")
        box = self.filter_box
        box.add_class("-open")
        # At once, not on the next turn of the loop as ``focus()`` does: the keys typed right
        # after / are judged against this focus (a c must type, not cancel everything).
        self.screen.set_focus(box)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.log_pane.filter = event.value.strip()
        self._show_log()

    def action_log_kind(self) -> None:
        self.log_pane.cycle_kind()
        self._show_log()

    def _show_log(self) -> None:
        log = self.log_pane
        kinds = {None: "", "all": " · every kind"}
        title = "event log" + kinds.get(log.kind, f" · {log.kind}")
        if log.filter:
            title += f" · filter {log.filter}"
        self.logbox.border_title = title
        if self.view is not None:
            log.show(self.view)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self._close_filter()
        self.orders.focus()

    def action_close_filter(self) -> None:
        self.filter_box.value = ""
        self._close_filter()
        self.orders.focus()

    def on_key(self, event: events.Key) -> None:
        if isinstance(self.focused, Input) or self.screen is not self.screen_stack[0]:
            return  # typed into a field, or a dialog's own key
        # A key whose action is off in this mode reached here unhandled: say why, instead of
        # doing nothing at all (issue 16).
        for action in ORDER_ACTIONS:
            if event.key in self._keys_of(action) and self.check_action(action, ()) is None:
                why = self._why_off(action)
                if why:
                    self.notify(why, severity="warning", timeout=4)
                return

    def _why_off(self, action: str) -> str:
        """Why an order-affecting key does nothing now (one line for a toast)."""
        label = _FOOTER_LABEL[action]
        if self._read_only:
            return f"{label}: read-only, order-affecting keys are disabled"
        view = self.view
        if view is None:
            return f"{label}: the engine has not shown its state yet"
        if self.quitting:
            return f"{label}: quitting"
        mode = view.mode
        if action == "cancel_selected":
            return "no order selected: up/down picks one"
        if action == "kill":
            return "already killed: r re-arms"
        if action == "rearm":
            return f"nothing to re-arm: the engine is {mode.value}, not KILLED"
        if mode is Mode.KILLED:
            return f"{label}: the engine is KILLED; r re-arms first"
        return f"{label}: not while {mode.value}"

    def _close_filter(self) -> None:
        self.filter_box.remove_class("-open")
        self.body.remove_class("-log-open")

    def action_help(self) -> None:
        rows = []
        for k in KEYS:
            enabled = self.check_action(k.id, ())
            state = "" if enabled else "off now"
            keys = ", ".join(_KEY_NAMES.get(key, key) for key in self._keys_of(k.id))
            rows.append((keys, self.QUIT_HELP if k.id == "quit" else k.description, state))
        notes = [
            "k and r ask to confirm: the same key or y within 2 s; escape aborts.",
            "up/down select an order · ctrl+q quits too · ctrl+p command palette",
            "Holding a key never sends twice; in text inputs letters type (escape leaves).",
            self.HANGUP_NOTE,
        ]
        if self._read_only:
            notes.insert(0, "READ-ONLY: order-affecting keys are disabled.")
        self.push_screen(HelpScreen(rows, notes))

    def action_theme(self) -> None:
        self.search_themes()

    def _remember_theme(self, theme: Theme) -> None:
        if self._state is None:
            return
        try:
            self._state.save_theme(theme.name)
        except OSError as exc:
            self.notify(f"theme not saved: {exc}", severity="warning")

    async def action_quit(self) -> None:
        if self.quitting:
            return
        self.quitting = True
        self.refresh_bindings()
        self.notify(
            "quitting: cancelling every order on the venue first…", title="quit", timeout=30
        )
        self._request_stop("operator quit")
        if self._engine_finished is None:
            self.exit()
