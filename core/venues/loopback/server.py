"""One asyncio TCP server that speaks HTTP/1.1 (h11) and WebSocket (websockets, sans-I/O).

Like Hyperliquid's API host, one port serves ``POST /info``, ``POST /exchange`` and the
``GET /ws`` upgrade.  Each connection's first request head decides: a ``GET`` is a WebSocket
handshake, handed to ``websockets``' sans-I/O ``ServerProtocol`` over the same stream; anything
else is HTTP, parsed by h11 with keep-alive (httpx reuses one connection).

The server knows nothing of exchanges: it passes request bodies and WebSocket texts to a
``Handler`` and writes back what the handler says.  A handler may answer ``None`` to an HTTP
request: the connection is then closed without an answer, as a network would lose it.  It binds
to 127.0.0.1 by default (D21) and never reads a clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import h11
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

_MAX_HEAD = 64 * 1024
_MAX_MESSAGE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpReply:
    """One HTTP answer."""

    status: int
    content_type: str
    body: bytes

    @classmethod
    def json(cls, payload: Any) -> HttpReply:
        return cls(200, "application/json", json.dumps(payload).encode())

    @classmethod
    def text(cls, status: int, text: str) -> HttpReply:
        return cls(status, "text/plain; charset=utf-8", text.encode())


class Handler(Protocol):
    async def http(self, method: str, path: str, body: bytes) -> HttpReply | None:
        """The reply to one request, or None to drop the connection unanswered."""
        ...

    async def websocket(self, peer: WsPeer) -> None:
        """Serve one WebSocket until it closes."""
        ...


class WsPeer:
    """One accepted WebSocket: text in, text out, close."""

    def __init__(
        self, protocol: ServerProtocol, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._protocol = protocol
        self._reader = reader
        self._writer = writer
        self._inbox: deque[str] = deque()
        self._fragments: list[bytes] = []
        self.closed = False

    async def recv(self) -> str | None:
        """The next text message, or None once the connection is closed."""
        protocol = self._protocol
        while not self._inbox:
            if self.closed:
                return None
            try:
                data = await self._reader.read(65536)
            except (ConnectionError, OSError):
                data = b""
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            for event in protocol.events_received():
                if isinstance(event, Frame):
                    self._frame(event)
            self._flush()
            if not data or protocol.state is State.CLOSED:
                self._abort()
        return self._inbox.popleft()

    def _frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.TEXT or frame.opcode is Opcode.CONT:
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                self._inbox.append(b"".join(self._fragments).decode("utf-8", "replace"))
                self._fragments.clear()
        elif frame.opcode is Opcode.CLOSE:
            self.closed = True

    async def send(self, text: str) -> None:
        if self.closed or self._protocol.state is not State.OPEN:
            return
        self._protocol.send_text(text.encode("utf-8"))
        self._flush()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.drain()

    def send_nowait(self, text: str) -> None:
        """Queue a message without waiting for the socket to drain (fan-out from sync code)."""
        if self.closed or self._protocol.state is not State.OPEN:
            return
        self._protocol.send_text(text.encode("utf-8"))
        self._flush()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """A clean close: a close frame, then the TCP connection."""
        if self._protocol.state is State.OPEN:
            self._protocol.send_close(code, reason)
            self._flush()
        self._abort()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, as a network failure would."""
        self._abort()

    def _flush(self) -> None:
        for chunk in self._protocol.data_to_send():
            if chunk:
                with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                    self._writer.write(chunk)

    def _abort(self) -> None:
        self.closed = True
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            self._writer.close()


class LoopbackServer:
    """Listen on ``host:port`` (0 picks a free port) and serve ``handler``."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        sock = self._server.sockets[0]
        return int(sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._port)

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._connections:
            _, stragglers = await asyncio.wait(set(self._connections), timeout=1.0)
            for task in stragglers:
                task.cancel()
            await asyncio.gather(*stragglers, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        self._writers.add(writer)
        try:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            if len(head) > _MAX_HEAD:
                return
            if self._wants_websocket(head):
                await self._websocket(head, reader, writer)
            else:
                await self._http(head, reader, writer)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            return  # the server is closing: this connection simply ends
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                writer.close()
            if task is not None:
                self._connections.discard(task)

    def _wants_websocket(self, head: bytes) -> bool:
        """Hyperliquid's host serves no ``GET`` but the WebSocket handshake."""
        return head.startswith(b"GET ")

    async def _websocket(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        protocol = ServerProtocol(max_size=_MAX_MESSAGE)
        protocol.receive_data(head)
        requests = [e for e in protocol.events_received() if isinstance(e, Request)]
        if not requests:
            return
        request = requests[0]
        if request.path.split("?")[0] != "/ws":
            response = protocol.reject(404, "Not Found: the WebSocket endpoint is /ws\n")
        else:
            response = protocol.accept(request)
        protocol.send_response(response)
        for chunk in protocol.data_to_send():
            writer.write(chunk)
        await writer.drain()
        if response.status_code != 101:
            return
        await self._handler.websocket(WsPeer(protocol, reader, writer))

    async def _http(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        conn = h11.Connection(h11.SERVER)
        conn.receive_data(head)
        method, path, body = "", "", bytearray()
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError:
                await _send(writer, conn, 400, "text/plain", b"bad request\n")
                return
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                method, path, body = event.method.decode(), event.target.decode(), bytearray()
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_MESSAGE:
                    await _send(writer, conn, 413, "text/plain", b"body too large\n")
                    return
            elif isinstance(event, h11.EndOfMessage):
                reply = await self._handler.http(method, path, bytes(body))
                if reply is None:
                    return  # the answer is lost on the way back
                await _send(writer, conn, reply.status, reply.content_type, reply.body)
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return


async def _send(
    writer: asyncio.StreamWriter, conn: h11.Connection, status: int, content_type: str, body: bytes
) -> None:
    headers = [("content-type", content_type), ("content-length", str(len(body)))]
    try:
        data = conn.send(h11.Response(status_code=status, headers=headers))
        data = (data or b"") + (conn.send(h11.Data(data=body)) or b"")
        data += conn.send(h11.EndOfMessage()) or b""
    except h11.LocalProtocolError:
        return
    writer.write(data)
    await writer.drain()
