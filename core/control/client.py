"""The console's side of the control socket: a connection to a running engine (issue 18).

``ControlClient.attach`` connects, says ``hello`` and waits for ``welcome``; then a reader
thread keeps the newest view in ``latest_view`` (what the console paints) and notes how many
consoles are attached.  ``operate`` may be called from any thread -- the console's input thread
sends kill and cancel-all the moment the key is parsed -- and writes the action at once; it
raises ``RuntimeError`` once the engine is gone, so no key can look as if it still works.
``lost`` says why the connection ended (the engine stopped, the socket closed).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.actions import Action
from core.control.protocol import HEADER_SIZE, VERSION, ProtocolError, frame, length_of, parse
from core.control.tails import TailError, TailReceiver
from core.control.views import ViewCodecError, item_codec, view_with_tails
from core.journal import codec
from core.view import ConsoleView, FillView, LogEntry


class AttachError(Exception):
    """No engine to attach to, or it refused: the message says which and why."""


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise ConnectionError("the engine closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _receive(sock: socket.socket) -> dict[str, Any]:
    return parse(_recv_exactly(sock, length_of(_recv_exactly(sock, HEADER_SIZE))))


def _connect(
    path: Path, hello: dict[str, Any], timeout: float
) -> tuple[socket.socket, dict[str, Any]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        sock.sendall(frame({"t": "hello", "v": VERSION, "pid": os.getpid(), **hello}))
        answer = _receive(sock)
    except FileNotFoundError:
        sock.close()
        raise AttachError(f"no engine at {path} (mm-console ls lists the running ones)") from None
    except (OSError, ConnectionError, ProtocolError) as exc:
        sock.close()
        raise AttachError(f"cannot attach to {path}: {exc}") from None
    if answer.get("t") != "welcome":
        sock.close()
        raise AttachError(f"the engine at {path} refused: {answer.get('why', answer)}")
    return sock, answer


def probe(path: Path, timeout: float = 2.0) -> dict[str, Any]:
    """What the engine at ``path`` says about itself (``mm-console ls``)."""
    sock, welcome = _connect(path, {"probe": True}, timeout)
    sock.close()
    return welcome


class ControlClient:
    def __init__(self, sock: socket.socket, welcome: dict[str, Any], read_only: bool) -> None:
        self._sock = sock
        self.welcome = welcome
        self.read_only = read_only
        self.latest_view: ConsoleView | None = None
        self.attached = 1
        self.lost: str | None = None
        self.refusals: list[str] = []  # the engine's answers to actions it did not take
        self._send_lock = threading.Lock()
        self._changed = threading.Condition()
        self._next_id = 0
        self._log = TailReceiver(item_codec(LogEntry)[1])
        self._fills = TailReceiver(item_codec(FillView)[1])
        sock.settimeout(None)
        self._reader = threading.Thread(target=self._read, name="mm-attach", daemon=True)
        self._reader.start()

    @classmethod
    def attach(cls, path: Path, *, read_only: bool = False, timeout: float = 5.0) -> ControlClient:
        sock, welcome = _connect(path, {"read_only": read_only}, timeout)
        return cls(sock, welcome, read_only)

    def operate(self, action: Action) -> None:
        """Send an action now (any thread); ``RuntimeError`` if the engine is gone."""
        self._send({"t": "action", "action": codec.to_record(action)})

    def stop_engine(self) -> None:
        """Ask the engine to stop (cancel everything, verify, exit): the operator confirmed."""
        self._send({"t": "stop"})

    def close(self) -> None:
        """Detach: the engine goes on as it was."""
        if self.lost is None:
            self.lost = "detached"
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()

    def _send(self, message: dict[str, Any]) -> None:
        if self.lost is not None:
            raise RuntimeError(f"the engine is not connected ({self.lost})")
        with self._send_lock:
            self._next_id += 1
            message["id"] = self._next_id
            try:
                self._sock.sendall(frame(message))
            except OSError as exc:
                self.lost = f"connection lost: {exc.strerror or exc}"
                raise RuntimeError(f"not sent: {self.lost}") from None

    def _read(self) -> None:
        try:
            while True:
                message = _receive(self._sock)
                kind = message["t"]
                if kind == "view":
                    view = view_with_tails(
                        message["view"],
                        self._log.apply(message.get("log")),
                        self._fills.apply(message.get("fills")),
                    )
                    with self._changed:
                        self.latest_view = view
                        self.attached = int(message.get("attached", 1))
                        self._changed.notify_all()
                elif kind == "done" and not message.get("sent"):
                    self.refusals.append(str(message.get("why", "refused")))
                elif kind == "bye":
                    self.lost = f"the engine stopped: {message.get('why', '')}"
                    return
        except (OSError, ConnectionError, ProtocolError, ViewCodecError, TailError) as exc:
            if self.lost is None:
                self.lost = f"connection to the engine lost ({exc})"
        finally:
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, condition: Callable[[ControlClient], bool], timeout: float) -> bool:
        """Block until ``condition(self)`` holds after a view (or the end); for tools and
        tests, never for the console's own loop."""
        with self._changed:
            return self._changed.wait_for(
                lambda: condition(self) or self.lost is not None, timeout
            ) and condition(self)
