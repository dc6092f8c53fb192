"""``mm-console attach``: the console for an engine running headless (issue 18).

``AttachedApp`` is the same console -- panes, keys, themes -- fed by the views a
``core.control.client.ControlClient`` receives; its keys go back over the socket (kill and
cancel-all straight from the input thread, as in-process).  What differs, and is always on the
bar at the bottom: which engine, how many consoles are attached, READ-ONLY when attached so
(the engine refuses this console's actions too), and the moment the engine is lost, a red
``ENGINE LOST`` -- the keys then say "not sent" and nothing looks as if it still works.
``q`` detaches: the engine goes on as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from core.control.client import AttachError, ControlClient
from core.exitcodes import EXIT_OK, EXIT_USAGE
from themes import load_themes
from tui.app import ConsoleApp
from tui.state import StateStore, state_path, user_theme_dir


class AttachBar(Static):
    DEFAULT_CSS = """
    AttachBar { height: 1; background: $primary; color: $background; text-wrap: nowrap;
                text-overflow: ellipsis; }
    AttachBar.-lost { background: $error; color: $text; text-style: bold; }
    """


class AttachedApp(ConsoleApp):
    READ_ONLY_NOTICE = "attached read-only: watching; the engine refuses actions from here"

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
            text.append(" · q detaches, the engine goes on")
        self.bar.update(text)

    async def action_quit(self) -> None:
        self.exit()


def run_attached(path: Path, *, read_only: bool) -> int:
    """Attach, run the console until ``q``; the engine is never stopped by leaving."""
    try:
        client = ControlClient.attach(path, read_only=read_only)
    except AttachError as exc:
        print(f"mm-console attach: {exc}", file=sys.stderr)
        return EXIT_USAGE
    app = AttachedApp(client, themes=load_themes(user_theme_dir()), state=StateStore(state_path()))
    try:
        app.run()
    finally:
        client.close()
    print(f"detached from {client.welcome.get('name')}; the engine goes on", flush=True)
    return EXIT_OK
