"""``mm-console attach``: the console for an engine running headless (issue 18).

``AttachedApp`` is the same console -- panes, keys, themes -- fed by the views a
``core.control.client.ControlClient`` receives; its keys go back over the socket (kill and
cancel-all straight from the input thread, as in-process).  What differs, and is always on the
bar at the bottom: which engine, how many consoles are attached, READ-ONLY when attached so
(the engine refuses this console's actions too), and the moment the engine is lost, a red
``ENGINE LOST`` -- the keys then say "not sent" and nothing looks as if it still works.
``q`` detaches: the engine goes on as it was; ``S`` stops the engine, after a confirmation.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Static

from core.control.client import AttachError, ControlClient
from core.exitcodes import EXIT_OK, EXIT_USAGE
from core.gcpolicy import quiet_collector
from core.keymap import DEFAULT_KEYS
from themes import load_themes
from tui.app import ConsoleApp
from tui.screens import ConfirmScreen
from tui.state import StateStore, state_path, user_theme_dir


class AttachBar(Static):
    DEFAULT_CSS = """
    AttachBar { height: 1; background: $primary; color: $background; text-wrap: nowrap;
                text-overflow: ellipsis; }
    AttachBar.-lost { background: $error; color: $text; text-style: bold; }
    """


class AttachedApp(ConsoleApp):
    READ_ONLY_NOTICE = "attached read-only: watching; the engine refuses actions from here"
    QUIT_HELP = "Detach: this console leaves, the engine goes on as it is"
    HANGUP_NOTE = "Closing the terminal detaches too: the engine goes on as it is."
    BINDINGS: ClassVar[list[BindingType]] = [
        # The same key as the in-process quit (and the keymap's id), named for what it does.
        Binding(DEFAULT_KEYS["quit"], "quit", "Detach", id="quit", tooltip=QUIT_HELP),
        Binding("S", "stop_engine", "Stop engine", tooltip="Stop the engine (asks first)"),
    ]

    def __init__(self, client: ControlClient, **kwargs: object) -> None:
        self.client = client
        self._lost_shown = False
        super().__init__(
            view_source=lambda: client.latest_view,
            operate=client.operate,
            request_stop=lambda reason: self.exit(),
            read_only=client.read_only,
            **kwargs,  # type: ignore[arg-type]
        )
        self.bar = AttachBar(id="attach-bar")

    def compose(self):  # type: ignore[no-untyped-def]
        yield from super().compose()
        yield self.bar

    def on_mount(self) -> None:
        self.set_interval(0.1, self._show_bar)
        self._show_bar()

    def _show_bar(self) -> None:
        client = self.client
        name = client.welcome.get("name", "?")
        text = Text(no_wrap=True, overflow="ellipsis")
        if client.lost is not None:
            self.bar.add_class("-lost")
            text.append(f" ENGINE LOST ({name}): {client.lost} · keys do nothing · q leaves ")
            if not self._lost_shown:
                self._lost_shown = True
                self.emergency.enabled = False
                self.notify(
                    f"{client.lost}: nothing you press reaches it",
                    title="ENGINE LOST",
                    severity="error",
                    timeout=3600,
                )
        else:
            text.append(f" ATTACHED to {name} (pid {client.welcome.get('pid')}) ", "bold")
            if client.read_only:
                text.append(" READ-ONLY ", "bold reverse")
            others = client.attached - 1
            text.append(
                f" · {client.attached} console{'s' if client.attached != 1 else ''} "
                f"attached" + (f" ({others} other)" if others else "")
            )
            text.append(" · q detaches, the engine goes on · S stops it")
        self.bar.update(text)

    async def action_quit(self) -> None:
        """Detach: the engine goes on exactly as it was."""
        self.exit()

    def action_stop_engine(self) -> None:
        """Stopping the engine is its own action, confirmed: q only detaches."""
        if self.client.read_only:
            self.notify("read-only: this console cannot stop the engine", severity="warning")
            return
        self.push_screen(
            ConfirmScreen(
                f"Stop the engine {self.client.welcome.get('name')}?",
                "It cancels every order, verifies the venue is empty and exits; "
                "every attached console loses it.",
                ["S", "y"],
                clock=self._clock,
            ),
            self._stop_answered,
        )

    def _stop_answered(self, confirmed: bool | None) -> None:
        if not confirmed:
            self.notify("the engine goes on")
            return
        try:
            self.client.stop_engine()
        except RuntimeError as exc:
            self.notify(f"not sent: {exc}", severity="error")
            return
        self.notify("stop sent: the engine cancels every order, then exits", timeout=10)


def run_attached(path: Path, *, read_only: bool) -> int:
    """Attach, run the console until ``q``; the engine is never stopped by leaving."""
    try:
        client = ControlClient.attach(path, read_only=read_only)
    except AttachError as exc:
        print(f"mm-console attach: {exc}", file=sys.stderr)
        return EXIT_USAGE
    app = AttachedApp(
        client,
        themes=load_themes(user_theme_dir()),
        state=StateStore(state_path()),
        started=quiet_collector,  # the full collections that delayed keys (core/gcpolicy.py)
    )
    try:
        app.run()
    finally:
        client.close()
    print(f"detached from {client.welcome.get('name')}; the engine goes on", flush=True)
    return EXIT_OK
