"""``/ws/market`` and ``/ws/user`` of the Polymarket twin.

A client subscribes with its first frame -- ``{"type": "market", "assets_ids": [...],
"initial_dump": true}`` or ``{"type": "user", "auth": {apiKey, secret, passphrase}, "markets":
[...]}`` -- and may change what it follows later with ``{"operation": "subscribe" |
"unsubscribe", "assets_ids" | "markets": [...]}``.  The text ``PING`` is answered ``PONG``.  A
market subscriber gets its initial ``book`` dump as one JSON array (as the venue frames it), then
the pushes ``base`` makes; a user subscriber gets its account's order and trade events.  Bad
credentials close the socket (code 1008; the venue's own answer is not documented).  Nothing is
replayed after a reconnect; a stalled feed (``PmTwin.stall_ws``) says nothing at all, not even
``PONG``.
"""

from __future__ import annotations

import json
from typing import Any

from core.venues.loopback.polymarket.base import Socket
from core.venues.loopback.polymarket.orders import Orders
from core.venues.loopback.server import WsPeer


class Sockets(Orders):
    """The twin's WebSocket room."""

    async def socket(self, peer: WsPeer, path: str) -> None:
        sock = Socket(peer, "market" if path.endswith("/market") else "user")
        self.sockets.add(sock)
        try:
            while True:
                text = await peer.recv()
                if text is None:
                    return
                if text.strip() == "PING":
                    if not self.ws_stalled:
                        await peer.send("PONG")
                    continue
                try:
                    frame = json.loads(text)
                except ValueError:
                    continue
                if isinstance(frame, dict) and not await self._frame(sock, frame):
                    return
        finally:
            self.sockets.discard(sock)

    async def _frame(self, sock: Socket, frame: dict[str, Any]) -> bool:
        """Act on one frame; False when the socket was closed for it."""
        operation = frame.get("operation")
        if operation in ("subscribe", "unsubscribe") and sock.subscribed:
            add = operation == "subscribe"
            if sock.channel == "market":
                assets = self._known_assets(frame.get("assets_ids"))
                sock.assets = sock.assets | assets if add else sock.assets - assets
                if add and assets and frame.get("initial_dump", True):
                    self._dump(sock, assets)
            else:
                markets = _strings(frame.get("markets"))
                sock.markets = sock.markets | markets if add else sock.markets - markets
            return True
        kind = str(frame.get("type", "")).lower()
        if kind != sock.channel:
            return True
        if kind == "market":
            sock.assets = self._known_assets(frame.get("assets_ids"))
            sock.subscribed = True
            if sock.assets and frame.get("initial_dump", True):
                self._dump(sock, sock.assets)
            return True
        auth = frame.get("auth")
        creds = self.creds.get(auth.get("apiKey", "")) if isinstance(auth, dict) else None
        if (
            creds is None
            or not isinstance(auth, dict)
            or auth.get("secret") != creds.secret
            or auth.get("passphrase") != creds.passphrase
        ):
            await sock.peer.close(1008, "Unauthorized/Invalid api key")
            return False
        sock.address = creds.address
        sock.markets = _strings(frame.get("markets"))
        sock.subscribed = True
        return True

    def _known_assets(self, ids: Any) -> set[str]:
        return {i for i in _strings(ids) if i in self.tokens}

    def _dump(self, sock: Socket, assets: set[str]) -> None:
        books = [
            {"event_type": "book", **self.book_row(token)}
            for token in (self.yes, self.no)
            if token.token_id in assets
        ]
        self._send(sock, books)


def _strings(value: Any) -> set[str]:
    if not isinstance(value, list):
        return set()
    return {str(v) for v in value if isinstance(v, str | int)}
