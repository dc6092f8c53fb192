"""``Twin``: the loopback twin's rooms put together, and what the outside calls on it.

``start`` / ``close``; ``http``, the server's entry for ``POST /info`` and ``POST /exchange``
(``/ws`` enters at ``websocket``); the tests' hooks (answers dropped, 429 storms, a synthetic
taker, raw WebSocket pushes) and inspection (fills, open orders, position, the dead man's
switch).  ``disconnect_all``, a hook too, is ``base``'s: the fault plan's clock calls it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.events import Side
from core.venues.hyperliquid.errors import DESERIALIZE
from core.venues.hyperliquid.wire import WsMessage, answer_json
from core.venues.loopback.faults import FaultState
from core.venues.loopback.server import HttpReply
from core.venues.loopback.twin.common import parse_json, ws_text
from core.venues.loopback.twin.websocket import WebSocket
from core.venues.sim.exchange import SimExchange


class Twin(WebSocket):
    """Hyperliquid's API for one market and one account, backed by the embedded exchange."""

    # ---- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        now = self._clock.now()
        self._exchange = SimExchange(self.config, start=now, name="loopback")
        self._fault_state = FaultState(self.faults, self.config.seed, now)
        self._exchange.connect(now)
        self._exchange.advance(now)  # the exchange's own hello: not for the wire
        self._driver = asyncio.create_task(self._clock_driver.run(), name="twin-driver")

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
        for task in list(self._post_tasks):
            task.cancel()
        await asyncio.gather(*self._post_tasks, return_exceptions=True)
        for peer in list(self._peers):
            await peer.peer.close(1001, "server shutting down")

    # ---- HTTP -----------------------------------------------------------------------------

    async def http(self, method: str, path: str, body: bytes) -> HttpReply | None:
        if method != "POST" or path not in ("/info", "/exchange"):
            return HttpReply.text(404, f"no route for {method} {path}\n")
        try:
            payload = parse_json(body)
        except ValueError as exc:
            return HttpReply.text(422, f"{DESERIALIZE}{exc}")
        if path == "/info":
            status, answer = self._info(payload, via_ws=False)
            if status == 200:
                return HttpReply.json(answer_json(answer))
            return HttpReply.text(status, str(answer))
        outcome = await self._exchange_request(payload, via_ws=False)
        if outcome.lost:
            return None
        if outcome.status == 200:
            return HttpReply.json(answer_json(outcome.payload))
        return HttpReply.text(outcome.status, str(outcome.payload))

    # ---- test hooks and inspection --------------------------------------------------------

    def drop_next_answers(self, n: int = 1) -> None:
        """Execute the next ``n`` actions but never answer them (unknown outcomes, D8)."""
        self.fault_state.drop_next += n

    def storm(self, seconds: float) -> None:
        """Answer every request with 429 for ``seconds``."""
        self.fault_state.storm(self._clock.now(), seconds)

    def take(self, side: Side, lots: int, limit: int | None = None) -> None:
        """A synthetic taker of ``side`` sweeps ``lots`` now (fills our resting orders)."""
        self.exchange.inject_taker(side, lots, limit)
        self._advance(self._clock.now())

    def send_raw(self, channel: str, data: Any) -> None:
        """Push any message, malformed or unasked-for, to every WebSocket client."""
        text = ws_text(WsMessage(channel=channel, data=data))
        for client in list(self._peers):
            client.peer.send_nowait(text)

    @property
    def fill_tids(self) -> set[int]:
        """Trade ids of every fill of the account so far."""
        return {row.tid for row in self._fills}

    def open_order_count(self) -> int:
        return len(self.exchange.open_orders())

    @property
    def fills_count(self) -> int:
        return len(self._fills)

    @property
    def position(self) -> int:
        return self.exchange.position

    @property
    def dead_man_armed(self) -> bool:
        return self._dead_man_at is not None
