"""The loopback server, as Polymarket's CLOB needs it: request headers in, reply headers out,
and two WebSocket paths.

``LoopbackServer`` (``..server``) passes a handler a method, a path and a body, and writes back
a status and a body: enough for Hyperliquid, whose auth is inside the body.  Polymarket
authenticates in headers (``POLY_*``), answers rate limits and operating modes with headers
(``Retry-After``, ``Poly-RateLimit-*``), puts queries in the URL, sends JSON bodies with
``DELETE``, and serves ``/ws/market`` and ``/ws/user``.  ``PmServer`` is the same server (h11 and
websockets' sans-I/O protocol on one 127.0.0.1 port, ``WsPeer`` for sockets) with those two
entries widened; it never reads a clock and knows nothing of exchanges.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import h11
from websockets.http11 import Request
from websockets.server import ServerProtocol

from core.venues.loopback.server import LoopbackServer, WsPeer

_MAX_BODY = 16 * 1024 * 1024
_MAX_HEAD = 64 * 1024
WS_PATHS = ("/ws/market", "/ws/user")


@dataclass(frozen=True, slots=True)
class PmRequest:
    """One HTTP request: the path without its query, the query, headers (names lower case)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class PmReply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> PmReply:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, tuple((headers or {}).items()))

    @classmethod
    def error(
        cls, status: int, text: str, headers: dict[str, str] | None = None, **more: Any
    ) -> PmReply:
        """The venue's error shape: ``{"error": text, ...}``."""
        return cls.json({"error": text, **more}, status, headers)


class PmHandler(Protocol):
    async def request(self, request: PmRequest) -> PmReply | None:
        """The reply, or None to drop the connection unanswered."""
        ...

    async def socket(self, peer: WsPeer, path: str) -> None:
        """Serve one WebSocket (``path`` is one of ``WS_PATHS``) until it closes."""
        ...


def split_target(target: str) -> tuple[str, dict[str, str]]:
    """(path, query) of a request target; a repeated key keeps its last value."""
    parts = urlsplit(target)
    return parts.path or "/", dict(parse_qsl(parts.query, keep_blank_values=True))


class PmServer(LoopbackServer):
    """``LoopbackServer`` with headers both ways and Polymarket's two WebSocket paths."""

    def __init__(self, handler: PmHandler, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(_Unused(), host, port)
        self._pm = handler

    def _wants_websocket(self, head: bytes) -> bool:
        """A ``GET`` is a WebSocket handshake only when it asks for an upgrade: Polymarket's
        REST reads are ``GET`` requests too."""
        return head.startswith(b"GET ") and b"upgrade: websocket" in head.lower()

    async def _websocket(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        protocol = ServerProtocol(max_size=_MAX_BODY)
        protocol.receive_data(head)
        requests = [e for e in protocol.events_received() if isinstance(e, Request)]
        if not requests:
            return
        request = requests[0]
        path = request.path.split("?")[0].rstrip("/")
        if path not in WS_PATHS:
            response = protocol.reject(
                404, "Not Found: the WebSocket endpoints are /ws/market and /ws/user\n"
            )
        else:
            response = protocol.accept(request)
        protocol.send_response(response)
        for chunk in protocol.data_to_send():
            writer.write(chunk)
        await writer.drain()
        if response.status_code != 101:
            return
        await self._pm.socket(WsPeer(protocol, reader, writer), path)

    async def _http(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        conn = h11.Connection(h11.SERVER)
        conn.receive_data(head)
        method, target, headers, body = "", "", {}, bytearray()
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError:
                await _send(writer, conn, PmReply(400, b"bad request\n", content_type="text/plain"))
                return
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
                continue
            if isinstance(event, h11.Request):
                method, target = event.method.decode(), event.target.decode()
                headers = {k.decode().lower(): v.decode() for k, v in event.headers}
                body = bytearray()
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_BODY:
                    await _send(writer, conn, PmReply.error(413, "Payload exceeds the limit"))
                    return
            elif isinstance(event, h11.EndOfMessage):
                path, query = split_target(target)
                reply = await self._pm.request(PmRequest(method, path, query, headers, bytes(body)))
                if reply is None:
                    return  # the answer is lost on the way back
                await _send(writer, conn, reply)
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return


class _Unused:
    """``LoopbackServer`` wants a handler of its own shape; ``PmServer`` never calls it."""

    async def http(self, method: str, path: str, body: bytes) -> None:
        raise RuntimeError("PmServer routes requests to its PmHandler")

    async def websocket(self, peer: WsPeer) -> None:
        raise RuntimeError("PmServer routes sockets to its PmHandler")


async def _send(writer: asyncio.StreamWriter, conn: h11.Connection, reply: PmReply) -> None:
    headers = [
        ("content-type", reply.content_type),
        ("content-length", str(len(reply.body))),
        *reply.headers,
    ]
    try:
        data = conn.send(h11.Response(status_code=reply.status, headers=headers)) or b""
        data += conn.send(h11.Data(data=reply.body)) or b""
        data += conn.send(h11.EndOfMessage()) or b""
    except h11.LocalProtocolError:
        return
    writer.write(data)
    await writer.drain()
