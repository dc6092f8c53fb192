"""``mm-console replay JOURNAL``: a recorded session in the same console, with transport keys.

``ReplayApp`` is the console (every pane, theme and the event log) fed by views of a maker
rebuilt from the journal (``core.journal.replay.Replay``) instead of a live runner.  Playback
follows the recorded clock at a chosen speed; a frame applies the inputs recorded up to the
replay's time within a small budget, so the screen never freezes behind a long fast-forward.
The transport keys:

    space      play / pause            .        step one input (pauses)
    + / -      faster / slower         n / N    next / previous mark
    m          which marks n and N jump to: kill, rejection, reconnect, operator action
    home       back to the start       q        leave the replay

The emergency and order keys do nothing here -- nothing is connected to a venue -- and say so
when pressed (the console's read-only path).  The replay bar at the bottom shows the state,
the recorded UTC time, the input and a time bar.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from core.config import UiConfig
from core.exitcodes import EXIT_OK, EXIT_USAGE
from core.journal.replay import MARK_KINDS, Replay
from core.journal.store import JournalError, JournalReader
from core.view import ConsoleView
from themes import load_themes
from tui import fmt
from tui.app import _FOOTER_LABEL, KEYS, ConsoleApp
from tui.screens import HelpScreen
from tui.state import StateStore, state_path, user_theme_dir

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 30.0, 100.0, 1000.0)
FRAME_HZ = 20.0
FRAME_BUDGET_S = 0.03  # inputs applied per frame at most this long: the keys stay live
TRANSPORT: tuple[tuple[str, str], ...] = (
    ("space", "play / pause"),
    (".", "step one input (pauses)"),
    ("+ / -", "faster / slower"),
    ("n / N", "next / previous mark"),
    ("m", "marks to jump to: " + ", ".join(MARK_KINDS)),
    ("home", "back to the start"),
    ("q", "leave the replay"),
)


class ReplayBar(Static):
    DEFAULT_CSS = """
    ReplayBar { height: 1; background: $primary; color: $background; text-wrap: nowrap;
                text-overflow: ellipsis; }
    """


class ReplayApp(ConsoleApp, inherit_bindings=False):
    READ_ONLY_NOTICE = "replay: a recording, not connected to any venue; order keys do nothing"
    # Only the keys that do something here are offered (``inherit_bindings=False``); an order
    # key pressed anyway is answered by the console's read-only path (``_why_off``).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("space", "play", "Play/pause", priority=True),
        Binding("full_stop", "step", "Step"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("n", "next_mark", "Next mark"),
        Binding("N", "previous_mark", "Prev mark"),
        Binding("m", "mark_kind", "Mark kind"),
        Binding("home", "restart", "Start", show=False, priority=True),
        *(
            Binding(k.keys, k.id, _FOOTER_LABEL[k.id], id=k.id, priority=k.priority)
            for k in KEYS
            if k.id in ("help", "filter_log", "log_kind", "theme")
        ),
    ]

    def __init__(
        self,
        replay: Replay,
        *,
        speed: float = 1.0,
        ui: UiConfig | None = None,
        themes_dir: Path | None = None,
        state: StateStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        autoplay: bool = True,
    ) -> None:
        self.replay = replay
        self.speed = speed
        self.playing = autoplay
        self.mark_kind = MARK_KINDS[0]
        self._cursor = replay.rows[0].mono if replay.rows else 0.0  # the replay's clock
        self._last_frame: float | None = None
        self._view: ConsoleView | None = None
        self._view_at = -1
        self._wall = clock
        super().__init__(
            view_source=self._current_view,
            operate=self._refuse,
            request_stop=lambda reason: self.exit(),
            ui=ui,
            read_only=True,
            themes=load_themes(themes_dir),
            state=state,
            clock=clock,
        )
        self.bar = ReplayBar(id="replay-bar")
        self.title = f"mm-console replay · {replay.reader.path.name}"

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield self.bar

    def on_mount(self) -> None:
        # (Textual has already run the console's own ``on_mount``: handlers run per class.)
        for warning in self.replay.warnings():
            self.notify(warning, title="replay", severity="warning", timeout=10)
        if self.replay.position == 0:
            self.replay.step()  # the session's start: something to show at once
        self.set_interval(1.0 / FRAME_HZ, self._frame)
        self._show_bar()

    # ---- playback -----------------------------------------------------------------------

    def _frame(self) -> None:
        now = self._wall()
        last, self._last_frame = self._last_frame, now
        replay = self.replay
        if self.playing and last is not None:
            target = self._cursor + (now - last) * self.speed
            reached = replay.play_until(target, FRAME_BUDGET_S)
            row = replay.row(replay.position)
            # Behind (the budget ran out): the clock waits for the inputs, not the reverse.
            self._cursor = target if reached or row is None else row.mono
            if replay.position >= replay.total:
                self.playing = False
                self.notify("end of the recording", title="replay")
        self._show_bar()

    def _current_view(self) -> ConsoleView | None:
        position = self.replay.position
        if position != self._view_at:
            self._view_at = position
            self._view = self.replay.view()
        return self._view

    def _jumped(self) -> None:
        row = self.replay.row(self.replay.position)
        if row is not None:
            self._cursor = row.mono
        self._poll()
        self._show_bar()

    def action_play(self) -> None:
        if self.replay.position >= self.replay.total:
            self.notify("at the end of the recording: home goes back to the start")
            return
        self.playing = not self.playing
        self._last_frame = None
        self._show_bar()

    def action_step(self) -> None:
        self.playing = False
        if self.replay.step() is None:
            self.notify("at the end of the recording")
        self._jumped()

    def action_faster(self) -> None:
        self.speed = next((s for s in SPEEDS if s > self.speed), self.speed)
        self._show_bar()

    def action_slower(self) -> None:
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), self.speed)
        self._show_bar()

    def action_mark_kind(self) -> None:
        i = MARK_KINDS.index(self.mark_kind)
        self.mark_kind = MARK_KINDS[(i + 1) % len(MARK_KINDS)]
        count = len(self.replay.marks[self.mark_kind])
        self.notify(f"n / N jump to: {self.mark_kind} ({count} in this recording)")
        self._show_bar()

    def action_next_mark(self) -> None:
        self._jump(self.replay.next_mark(self.mark_kind), "next")

    def action_previous_mark(self) -> None:
        self._jump(self.replay.previous_mark(self.mark_kind), "previous")

    def action_restart(self) -> None:
        self.playing = False
        self.replay.seek(1)
        self._jumped()

    def _jump(self, position: int | None, which: str) -> None:
        if position is None:
            self.notify(f"no {which} {self.mark_kind} in this recording", severity="warning")
            return
        self.playing = False
        self.replay.seek(position)
        row = self.replay.row(position)
        if row is not None:
            self.notify(f"{self.mark_kind}: input {position:,} ({row.name})", title="replay")
        self._jumped()

    # ---- what the console's own keys do here ------------------------------------------

    def _refuse(self, action: object) -> None:
        self.notify(f"replay: {type(action).__name__} does nothing in a recording")

    def _why_off(self, action: str) -> str:
        label = _FOOTER_LABEL[action]
        return f"{label}: does nothing in replay (a recording, not connected to any venue)"

    async def action_quit(self) -> None:
        self.exit()

    def action_help(self) -> None:
        rows = [(keys, what, "") for keys, what in TRANSPORT]
        rows += [
            (k.keys, k.description, "off in replay" if k.order_affecting else "")
            for k in KEYS
            if k.id != "quit"
        ]
        notes = [
            "REPLAY: the maker is rebuilt from the journal and given its recorded inputs;",
            "nothing is sent anywhere. Order and emergency keys do nothing here.",
        ]
        self.push_screen(HelpScreen(rows, notes))

    # ---- the bar --------------------------------------------------------------------------

    def _show_bar(self) -> None:
        replay = self.replay
        total = max(1, replay.total)
        row = replay.row(replay.position)
        state = "▶ playing" if self.playing else "❚❚ paused"
        when = fmt.utc(row.wall) if row is not None else "--"
        width = 20
        filled = round(width * replay.position / total)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" REPLAY {state} {self.speed:g}x ", "bold")
        text.append(f"│ {when} UTC │ input {replay.position:,}/{replay.total:,} ")
        text.append("█" * filled + "─" * (width - filled))
        text.append(f" │ marks: {self.mark_kind} ({len(replay.marks[self.mark_kind])})")
        text.append(" · space . + - n N m ? q")
        self.bar.update(text)


def run_replay(path: Path, *, speed: float = 1.0) -> int:
    """The replay console; 0 when left with q, 2 when the journal cannot be read."""
    try:
        reader = JournalReader(path)
        replay = Replay(reader)
    except JournalError as exc:
        print(f"mm-console replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not replay.rows:
        print(f"mm-console replay: {path}: the journal holds no inputs", file=sys.stderr)
        return EXIT_USAGE
    app = ReplayApp(
        replay,
        speed=speed,
        ui=replay.recipe.config.ui,
        themes_dir=user_theme_dir(),
        state=StateStore(state_path()),
    )
    try:
        app.run()
    finally:
        reader.close()
    return EXIT_OK
