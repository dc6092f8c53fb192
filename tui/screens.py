"""Modal screens: the confirmation of a kill or re-arm, and the key help.

``ConfirmScreen`` answers True only for a confirming key pressed before its deadline (2 s); a
late key, ``escape`` or ``n`` answer False.  The deadline is checked against an injected clock
and a timer closes the screen when it passes, so nothing here blinks or animates.  The screen
only answers; the app decides what to send.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

CONFIRM_WINDOW_S = 2.0


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    """

    def __init__(
        self,
        title: str,
        body: str,
        keys: Sequence[str],
        *,
        clock: Callable[[], float],
        window: float = CONFIRM_WINDOW_S,
    ) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._keys = tuple(keys)
        self._clock = clock
        self._window = window
        self._deadline = clock() + window
        self._answered = False

    def _answer(self, confirmed: bool) -> None:
        """Dismiss exactly once: keys queued behind the first answer (a held or doubled key)
        must not pop the screen underneath."""
        if self._answered:
            return
        self._answered = True
        self.dismiss(confirmed)

    def compose(self) -> ComposeResult:
        keys = " or ".join(self._keys)
        with Vertical(id="confirm-box"):
            yield Static(Text(self._title), id="confirm-title")
            yield Static(Text(self._body), id="confirm-body")
            yield Static(
                Text(f"press {keys} within {self._window:g} s to confirm · escape aborts"),
                id="confirm-keys",
            )

    def on_mount(self) -> None:
        self.set_timer(self._window, self._expire)

    def _expire(self) -> None:
        if self.is_current:
            self._answer(False)

    def on_key(self, event: events.Key) -> None:
        event.stop()
        key = event.key
        if key in self._keys:
            self._answer(self._clock() <= self._deadline)
        elif key in ("escape", "n"):
            self._answer(False)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", show=False)
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    """

    def __init__(self, rows: Sequence[tuple[str, str, str]], notes: Sequence[str]) -> None:
        super().__init__()
        self._rows = tuple(rows)
        self._notes = tuple(notes)

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Keys\n\n", "bold")
        for keys, description, state in self._rows:
            text.append(f"  {keys:<14}", "bold")
            text.append(f"{description}")
            if state:
                text.append(f"  ({state})", "dim")
            text.append("\n")
        for note in self._notes:
            text.append(f"\n{note}", "dim")
        text.append("\n\nescape closes this screen", "dim")
        with VerticalScroll(id="help-box"):  # scrolls when the terminal is short (issue 16)
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)
