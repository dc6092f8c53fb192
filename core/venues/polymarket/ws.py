"""One Polymarket WebSocket channel (``/ws/market`` or ``/ws/user``): subscribe, PING, silence
detection, reconnect.

After connecting, the subscribe frame is sent at once (the venue may close a connection that
stays unsubscribed, and it acknowledges nothing, reference 5); the channel is then "up" and
``on_up`` runs -- the venue's REST resync, since the venue replays nothing (D16).  While up:

* the text ``PING`` goes out every ``ping_interval_s`` (10 s); the venue answers ``PONG``;
* a channel silent for longer than ``ping_interval_s + silence_s`` (no PONG, no data) is a
  stalled stream (reference 7.9): it is closed and replaced;
* every JSON frame goes to ``on_frame`` as parsed -- an object or, for the initial dumps, an
  array of them (reference 7.10); the venue splits arrays.

When the connection drops, ``on_down`` is told and the client reconnects after a jittered
exponential backoff.  Frames that are not JSON go to ``on_notice``.  The subscribe frame of the
user channel carries the API credentials: it is sent, never logged, never put in a notice.
This module never maps frames to core events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from core.clock import Clock

_MAX_MESSAGE = 64 * 1024 * 1024


class PmWs:
    def __init__(
        self,
        url: str,
        subscribe: Callable[[], dict[str, Any]],
        *,
        on_frame: Callable[[Any], None],
        on_up: Callable[[], Awaitable[None]],
        on_down: Callable[[str], None],
        on_notice: Callable[[str, str], None],
        clock: Clock,
        open_timeout_s: float = 5.0,
        ping_interval_s: float = 10.0,
        silence_s: float = 10.0,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self._subscribe = subscribe
        self._on_frame = on_frame
        self._on_up = on_up
        self._on_down = on_down
        self._on_notice = on_notice
        self._clock = clock
        self._open_timeout = open_timeout_s
        self._ping_interval = ping_interval_s
        self._silence = silence_s
        self._backoff_base = backoff_base_s
        self._backoff_cap = backoff_cap_s
        self._rng = rng if rng is not None else random.Random()
        self._ws: ClientConnection | None = None
        self._last_heard = 0.0
        self._closing = False
        self.up = False
        self.connections = 0  # successful connections so far (1 = the first)
        self.pongs = 0

    async def run(self) -> None:
        """Connect, and reconnect until ``close``."""
        attempt = 0
        while not self._stopping():
            reason, was_up = await self._session()
            if self._stopping():
                return
            attempt = 0 if was_up else min(attempt + 1, 16)
            delay = min(self._backoff_cap, self._backoff_base * 2**attempt)
            delay *= self._rng.uniform(0.5, 1.0)  # jitter: clients must not reconnect in step
            self._on_notice("ws", f"{self.url}: reconnecting in {delay:.2f}s: {reason}")
            await asyncio.sleep(delay)

    async def _session(self) -> tuple[str, bool]:
        reason = "closed"
        was_up = False
        try:
            async with connect(
                self.url,
                max_size=_MAX_MESSAGE,
                open_timeout=self._open_timeout,
                ping_interval=None,  # the venue's keepalive is its own text PING
                close_timeout=1.0,
            ) as ws:
                self._ws = ws
                self._last_heard = self._clock.now()
                await ws.send(json.dumps(self._subscribe()))
                pinger = asyncio.create_task(self._ping(ws), name="pm-ws-ping")
                reader = asyncio.create_task(self._read(ws), name="pm-ws-reader")
                try:
                    self.up = was_up = True
                    self.connections += 1
                    await self._on_up()
                    reason = await reader
                finally:
                    pinger.cancel()
                    reader.cancel()
                    await asyncio.gather(reader, pinger, return_exceptions=True)
        except TimeoutError:
            reason = "connect timeout"
        except (OSError, WebSocketException) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            self.up = False
            self._ws = None
            if was_up:
                self._on_down(reason)
        return reason, was_up

    async def _read(self, ws: ClientConnection) -> str:
        try:
            async for raw in ws:
                self._last_heard = self._clock.now()
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                stripped = text.strip()
                if stripped == "PONG":
                    self.pongs += 1
                    continue
                try:
                    frame = json.loads(stripped)
                except (ValueError, RecursionError):  # not JSON, or nested too deep to read
                    self._on_notice("malformed", f"{self.url}: {stripped[:200]}")
                    continue
                self._on_frame(frame)
        except ConnectionClosed as exc:
            return f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
        return "connection closed by the venue"

    async def _ping(self, ws: ClientConnection) -> None:
        interval = self._ping_interval
        while True:
            await asyncio.sleep(interval)
            if self._clock.now() - self._last_heard > interval + self._silence:
                self._on_notice("ws", f"{self.url}: silent (no PONG, no data): reconnecting")
                await ws.close(code=1001, reason="stream stalled")
                return
            with contextlib.suppress(ConnectionClosed):
                await ws.send("PING")

    def _stopping(self) -> bool:
        return self._closing

    async def close(self) -> None:
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(WebSocketException, OSError):
                await ws.close()
