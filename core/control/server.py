"""The engine's side of the control socket: consoles attach, watch and act (issue 18).

``ControlServer`` runs on the runner's own asyncio loop.  Every published view is encoded once
(only while a console is attached) without its log and fills, and each console has a sender
task that writes the newest view, with what that console lacks of the log and fills
(``core.control.tails``), and waits for its socket to drain: a slow console skips frames, the
engine never waits for it.  A console's actions are read by its own task and go straight to
``Runner.operate`` on the loop -- the same priority path the in-process console uses (D13) --
and each is answered ``done``: sent, or refused and why.  What the engine refuses, whatever
the console shows:

- any action from a console that attached read-only (watching means watching);
- ``Quit`` and ``Halt`` (a console detaches; stopping the engine is the ``stop`` message,
  which a console sends only after its operator confirmed it);
- a peer whose uid is not the engine's (checked with ``SO_PEERCRED`` on every connection);
- a protocol version other than this one.

A console that goes away -- detached, SIGHUP, SSH dead, killed -9 -- is a closed socket: its
tasks end, nothing else changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.actions import Action, Halt, Quit
from core.clock import counter
from core.control.paths import ControlPathError, private_dir
from core.control.protocol import (
    HEADER_SIZE,
    VERSION,
    ProtocolError,
    frame,
    length_of,
    parse,
)
from core.control.tails import TailSender
from core.control.views import bare_view_to_data, item_codec
from core.journal import codec
from core.view import ConsoleView, FillView, LogEntry

if TYPE_CHECKING:
    from core.runner import Runner

_HELLO_TIMEOUT_S = 5.0
_ACTIONS = codec.action_types()


_LOG_CODEC = item_codec(LogEntry)
_FILL_CODEC = item_codec(FillView)


@dataclass(eq=False)
class _Console:
    writer: asyncio.StreamWriter
    pid: int
    read_only: bool
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    log: TailSender = field(default_factory=lambda: TailSender(_LOG_CODEC[0]))
    fills: TailSender = field(default_factory=lambda: TailSender(_FILL_CODEC[0]))


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    header = await reader.readexactly(HEADER_SIZE)
    return parse(await reader.readexactly(length_of(header)))


def peer_uid(sock: socket.socket) -> int | None:
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


class ControlServer:
    def __init__(
        self, path: Path, *, name: str, on_listening: Callable[[Path], None] | None = None
    ) -> None:
        self.path = path
        self.name = name
        self.on_listening = on_listening  # told once the socket accepts consoles
        self._runner: Runner | None = None
        self._server: asyncio.AbstractServer | None = None
        self._consoles: set[_Console] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._view: ConsoleView | None = None
        self._bare: list[Any] = []
        self._seq = 0
        self.refused = 0  # connections refused (uid, version, malformed)
        self.serving_s = 0.0  # the engine's time spent encoding and writing views to consoles

    @property
    def attached(self) -> int:
        return len(self._consoles)

    async def start(self, runner: Runner) -> None:
        """Listen (``ControlPathError`` when the place is unsafe or another engine has it)."""
        self._runner = runner
        private_dir(self.path.parent)
        if self.path.exists() or self.path.is_symlink():
            if await _answers(self.path):
                raise ControlPathError(
                    f"an engine already serves {self.path}; choose another --name"
                )
            self.path.unlink()  # left by an engine that died
        self._server = await asyncio.start_unix_server(self._accept, path=str(self.path))
        os.chmod(self.path, 0o600)
        if self.on_listening is not None:
            self.on_listening(self.path)

    async def close(self, why: str) -> None:
        bye = frame({"t": "bye", "why": why})
        for console in list(self._consoles):
            with contextlib.suppress(Exception):
                console.writer.write(bye)
                console.writer.close()
        if self._server is not None:
            self._server.close()
            self._server = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def publish(self, view: ConsoleView) -> None:
        """The runner's publisher: the view without its log and fills is encoded once for
        every attached console; each console's sender adds what that console lacks of them."""
        if not self._consoles:
            return
        began = counter()
        self._seq += 1
        self._view = view
        self._bare = bare_view_to_data(view)
        for console in self._consoles:
            console.wake.set()
        self.serving_s += counter() - began

    def summary(self) -> dict[str, Any]:
        runner = self._runner
        view = runner.latest_view if runner is not None else None
        started = runner.started_at if runner is not None else None
        return {
            "name": self.name,
            "pid": os.getpid(),
            "venue": view.venue if view is not None else "",
            "symbol": view.instrument.symbol if view is not None else "",
            "mode": view.mode.value if view is not None else "STARTING",
            "uptime_s": (view.time - started) if view is not None and started is not None else 0,
            "attached": len(self._consoles),
            "version": VERSION,
        }

    # ---- one console ------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        console: _Console | None = None
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            console = await self._greet(reader, writer)
            if console is None:
                return
            sender = asyncio.create_task(self._send_views(console))
            try:
                while True:
                    await self._on_message(console, await read_message(reader))
            finally:
                sender.cancel()
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError, TimeoutError):
            pass  # the console went away (or spoke nonsense): nothing changes in the engine
        except asyncio.CancelledError:
            pass  # the engine is stopping (``close``): this console's task just ends
        finally:
            self._tasks.discard(task)
            if console is not None:
                self._consoles.discard(console)
            with contextlib.suppress(Exception):
                writer.close()

    async def _greet(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Console | None:
        sock = writer.get_extra_info("socket")
        uid = peer_uid(sock) if sock is not None else None
        if uid != os.getuid():
            self.refused += 1
            writer.write(frame({"t": "refused", "why": "another user's console"}))
            return None
        hello = await asyncio.wait_for(read_message(reader), _HELLO_TIMEOUT_S)
        if hello.get("t") != "hello" or hello.get("v") != VERSION:
            self.refused += 1
            writer.write(
                frame(
                    {
                        "t": "refused",
                        "why": f"protocol {hello.get('v')!r}; this engine "
                        f"speaks {VERSION}: attach with the same mm-console version",
                    }
                )
            )
            return None
        writer.write(frame({"t": "welcome", "v": VERSION, **self.summary()}))
        if hello.get("probe"):
            await writer.drain()
            return None
        console = _Console(writer, int(hello.get("pid") or 0), bool(hello.get("read_only")))
        self._consoles.add(console)
        if self._runner is not None and self._runner.latest_view is not None:
            self.publish(self._runner.latest_view)  # something to show at once
        return console

    async def _send_views(self, console: _Console) -> None:
        sent = 0
        while True:
            await console.wake.wait()
            console.wake.clear()
            if self._seq == sent:
                continue
            began = counter()
            sent = self._seq
            view = self._view
            assert view is not None
            console.writer.write(
                frame(
                    {
                        "t": "view",
                        "seq": sent,
                        "attached": len(self._consoles),
                        "view": self._bare,
                        "log": console.log.delta(view.log),
                        "fills": console.fills.delta(view.fills),
                    }
                )
            )
            self.serving_s += counter() - began
            await console.writer.drain()  # only this console waits; newer frames replace

    async def _on_message(self, console: _Console, message: dict[str, Any]) -> None:
        kind = message["t"]
        if kind == "action":
            ok, why = self._act(console, message.get("action"))
            console.writer.write(
                frame({"t": "done", "id": message.get("id"), "sent": ok, "why": why})
            )
        elif kind == "stop":
            ok = not console.read_only
            if ok and self._runner is not None:
                self._runner.request_stop(f"stopped from the console of pid {console.pid}")
            console.writer.write(
                frame(
                    {
                        "t": "done",
                        "id": message.get("id"),
                        "sent": ok,
                        "why": "" if ok else "read-only console",
                    }
                )
            )
        else:
            raise ProtocolError(f"unexpected message {kind!r}")

    def _act(self, console: _Console, record: Any) -> tuple[bool, str]:
        if console.read_only:
            return False, "this console attached read-only: the engine refuses its actions"
        try:
            action: Action = codec.from_record(record)
        except codec.CodecError as exc:
            return False, f"not an action: {exc}"
        if not isinstance(action, _ACTIONS):
            return False, f"not an action: {type(action).__name__}"
        if isinstance(action, Quit | Halt):
            return False, "a console detaches; stopping the engine is its own confirmed action"
        if self._runner is None:
            return False, "the engine is not running"
        try:
            self._runner.operate(action, f"console (pid {console.pid})")
        except RuntimeError as exc:
            return False, str(exc)
        return True, ""


async def _answers(path: Path) -> bool:
    """Whether an engine listens on ``path`` (else it is left over from a dead one)."""
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 2.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True
