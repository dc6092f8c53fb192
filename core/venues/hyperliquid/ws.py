"""The WebSocket transport: subscriptions, ``post`` with request ids, heartbeat, reconnect.

One connection at a time.  After connecting, every subscription is sent again and its ack
awaited; only then is the connection "up" and ``on_up`` runs (the venue's state sync, D16), so
nothing that happens after the acks can fall between the stream and the sync.  While up:

* ``post`` sends an action or info request with a unique increasing id and awaits the answer on
  channel ``post`` with that id (or an ``error`` frame ending in ``id=<n>``); no answer in time,
  or a connection lost with the request in flight, is ``PostLost`` — an unknown outcome (D8);
* an app-level ``{"method":"ping"}`` goes out every ``ping_interval_s``; a connection silent
  for longer than that plus ``pong_timeout_s`` is closed and replaced (reference 6.6);
* every other message goes to ``on_message`` as ``(channel, data)``.

When the connection drops, ``on_down`` is told, pending posts fail as ``PostLost``, and the
client reconnects after a jittered exponential backoff.  Non-JSON frames (the venue's greeting
text) are ignored; malformed JSON goes to ``on_notice``.  This module never signs, never maps
data to core events and never retries a post.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from core.clock import Clock
from core.venues.hyperliquid.budget import RateBudget
from core.venues.hyperliquid.wire import InfoPayload, PostData, WsMessage

_POST_ID = re.compile(r"id=(\d+)\s*$")
_MAX_MESSAGE = 64 * 1024 * 1024


class NotConnected(Exception):
    """The WebSocket is not up: nothing was sent (use REST)."""


class PostFailed(Exception):
    """The venue answered the post with an error string: nothing was done."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class PostLost(Exception):
    """The post may have reached the venue but no answer came: outcome unknown (D8)."""


class WsClient:
    def __init__(
        self,
        url: str,
        subscriptions: Sequence[dict[str, Any]],
        *,
        on_message: Callable[[str, Any], None],
        on_up: Callable[[], Awaitable[None]],
        on_down: Callable[[str], None],
        on_notice: Callable[[str, str], None],
        clock: Clock,
        budget: RateBudget,
        open_timeout_s: float = 5.0,
        ping_interval_s: float = 20.0,
        pong_timeout_s: float = 10.0,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self._subscriptions = list(subscriptions)
        self._on_message = on_message
        self._on_up = on_up
        self._on_down = on_down
        self._on_notice = on_notice
        self._clock = clock
        self._budget = budget
        self._open_timeout = open_timeout_s
        self._ping_interval = ping_interval_s
        self._pong_timeout = pong_timeout_s
        self._backoff_base = backoff_base_s
        self._backoff_cap = backoff_cap_s
        self._rng = rng if rng is not None else random.Random()
        self._ws: ClientConnection | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._acks = 0
        self._acked = asyncio.Event()
        self._last_heard = 0.0
        self._closing = False
        self.up = False
        self.connections = 0  # successful connections so far (1 = the first)
        self.failures = 0  # consecutive failed attempts

    # ---- posting ----------------------------------------------------------------------

    async def post(self, kind: str, payload: dict[str, Any], timeout_s: float) -> Any:
        """Send an ``action`` or ``info`` post; the ``/exchange`` JSON (action) or the info
        ``data`` comes back.  ``NotConnected``: nothing sent.  ``PostFailed``: refused.
        ``PostLost``: unknown."""
        ws = self._ws
        if ws is None or not self.up:
            raise NotConnected("the WebSocket is not connected")
        self._next_id += 1
        post_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[post_id] = future
        message = {"method": "post", "id": post_id, "request": {"type": kind, "payload": payload}}
        try:
            try:
                await ws.send(json.dumps(message))
            except ConnectionClosed:
                raise PostLost("the connection closed while sending") from None
            self._budget.record_ws_message(self._clock.now())
            try:
                async with asyncio.timeout(timeout_s):
                    return await future
            except TimeoutError:
                raise PostLost(f"no answer to post {post_id} in {timeout_s:g}s") from None
        finally:
            self._pending.pop(post_id, None)

    # ---- the connection loop ----------------------------------------------------------

    async def run(self) -> None:
        """Connect, and reconnect until ``close``."""
        attempt = 0
        while not self._stopping():
            reason, was_up = await self._session()
            if self._stopping():
                return
            if was_up:
                attempt = 0
            else:
                self.failures += 1
            delay = min(self._backoff_cap, self._backoff_base * 2**attempt)
            delay *= self._rng.uniform(0.5, 1.0)  # jitter: clients must not reconnect in step
            attempt = min(attempt + 1, 16)
            self._on_notice("ws", f"reconnecting in {delay:.2f}s: {reason}")
            await asyncio.sleep(delay)

    async def _session(self) -> tuple[str, bool]:
        """One connection, from opening to closing: why it ended, and whether it was up."""
        reason = "closed"
        was_up = False
        try:
            async with connect(
                self.url,
                max_size=_MAX_MESSAGE,
                open_timeout=self._open_timeout,
                ping_interval=None,  # the venue's keepalive is the app-level ping
                close_timeout=1.0,
            ) as ws:
                self._ws = ws
                self._acks = 0
                self._acked = asyncio.Event()
                self._last_heard = self._clock.now()
                reader = asyncio.create_task(self._read(ws), name="hl-ws-reader")
                pinger = asyncio.create_task(self._ping(ws), name="hl-ws-ping")
                try:
                    for sub in self._subscriptions:
                        await ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
                        self._budget.record_ws_message(self._clock.now())
                    async with asyncio.timeout(self._open_timeout):
                        await self._acked.wait()
                    self.up = was_up = True
                    self.connections += 1
                    self.failures = 0
                    await self._on_up()
                    reason = await reader
                finally:
                    pinger.cancel()
                    reader.cancel()
                    await asyncio.gather(reader, pinger, return_exceptions=True)
        except TimeoutError:
            reason = "no subscription acks in time" if self._ws is not None else "connect timeout"
        except (OSError, WebSocketException) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            self.up = False
            self._ws = None
            lost = PostLost(f"connection lost ({reason})")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(lost)
            if was_up:
                self._on_down(reason)
        return reason, was_up

    async def _read(self, ws: ClientConnection) -> str:
        try:
            async for raw in ws:
                self._last_heard = self._clock.now()
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                if not text.startswith("{"):
                    continue  # "Websocket connection established." and other greetings
                self._dispatch(text)
        except ConnectionClosed as exc:
            return f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
        return "connection closed by the venue"

    def _dispatch(self, text: str) -> None:
        try:
            message = WsMessage.model_validate(json.loads(text))
        except (ValueError, ValidationError, RecursionError):  # nested too deep to read
            self._on_notice("malformed", text[:300])
            return
        channel = message.channel
        if channel == "pong":
            return
        if channel == "subscriptionResponse":
            self._acks += 1
            if self._acks >= len(self._subscriptions):
                self._acked.set()
            return
        if channel == "post":
            self._answer(message.data)
            return
        if channel == "error":
            error = str(message.data)
            match = _POST_ID.search(error)
            future = self._pending.get(int(match.group(1))) if match else None
            if future is not None and not future.done():
                future.set_exception(PostFailed(error))
            else:
                self._on_notice("ws error", error)
            return
        self._on_message(channel, message.data)

    def _answer(self, data: Any) -> None:
        try:
            post = PostData.model_validate(data)
        except ValidationError:
            self._on_notice("malformed", f"post answer: {str(data)[:300]}")
            return
        future = self._pending.get(post.id)
        if future is None or future.done():
            return  # answered after we gave up on it: the caller already reported it unknown
        response = post.response
        if response.type == "error":
            future.set_exception(PostFailed(str(response.payload)))
        elif response.type == "info" and isinstance(response.payload, dict):
            future.set_result(InfoPayload.model_validate(response.payload).data)
        else:
            future.set_result(response.payload)

    async def _ping(self, ws: ClientConnection) -> None:
        interval = self._ping_interval
        while True:
            await asyncio.sleep(interval)
            if self._clock.now() - self._last_heard > interval + self._pong_timeout:
                self._on_notice("ws", "no message or pong in time: reconnecting")
                await ws.close(code=1001, reason="heartbeat lost")
                return
            with contextlib.suppress(ConnectionClosed):
                await ws.send('{"method":"ping"}')
                self._budget.record_ws_message(self._clock.now())

    def _stopping(self) -> bool:
        return self._closing

    async def close(self) -> None:
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(WebSocketException, OSError):
                await ws.close()
