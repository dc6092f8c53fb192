"""``/ws`` of the loopback twin: one client's texts, its subscriptions and its posts.

``ping`` is answered ``pong``; ``subscribe`` / ``unsubscribe`` normalise the subscription
(``feeds.normalise``) and refuse duplicates with Hyperliquid's texts (a new market-data
subscriber gets its snapshot at once -- ``l2Book``, ``bbo``, ``allMids``, ``activeAssetCtx``,
each then at its own pace, ``feeds`` --, a new ``userFills`` one an ``isSnapshot`` replay);
``post`` runs an ``/info`` query or an ``/exchange`` action as a task of its own (at most
``max_pending_posts`` per client) and answers by id, so it builds on both of those rooms.
Anything else gets an ``error`` channel message. The pushes to subscribers are ``base``'s: the
clock makes them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from core.venues.hyperliquid.errors import WS_BAD_POST, WS_BAD_REQUEST, Texts
from core.venues.hyperliquid.wire import (
    InfoPayload,
    PostData,
    PostResponse,
    SubscriptionResponse,
    WsMessage,
    WsUserFills,
    WsUserFundings,
)
from core.venues.loopback.server import WsPeer
from core.venues.loopback.twin.actions import Actions
from core.venues.loopback.twin.common import Peer, parse_json, ws_text
from core.venues.loopback.twin.feeds import feed_for, normalise
from core.venues.loopback.twin.info import Info


class WebSocket(Info, Actions):
    """The twin's ``/ws`` room: a client's texts, subscriptions and posts."""

    async def websocket(self, peer: WsPeer) -> None:
        client = Peer(peer, self._clock.now())
        self._peers.add(client)
        await peer.send("Websocket connection established.")
        try:
            while True:
                text = await peer.recv()
                if text is None:
                    return
                client.last_heard = self._clock.now()
                await self._on_ws_text(client, text)
        finally:
            self._peers.discard(client)

    async def _on_ws_text(self, client: Peer, text: str) -> None:
        try:
            message = parse_json(text)
            method = message["method"]
        except (ValueError, KeyError, TypeError):
            await self._send(client, WsMessage(channel="error", data=WS_BAD_REQUEST + text[:200]))
            return
        if method == "ping":
            await self._send(client, WsMessage(channel="pong"))
        elif method in ("subscribe", "unsubscribe"):
            await self._subscription(client, method, message.get("subscription"))
        elif method == "post":
            post_id = message.get("id")
            if not isinstance(post_id, int):
                error = WS_BAD_REQUEST + "post id"
                await self._send(client, WsMessage(channel="error", data=error))
                return
            if client.pending_posts >= self.faults.max_pending_posts:
                error = Texts.too_many_pending_posts(post_id)
                await self._send(client, WsMessage(channel="error", data=error))
                return
            client.pending_posts += 1
            task = asyncio.create_task(self._post(client, post_id, message.get("request")))
            self._post_tasks.add(task)
            task.add_done_callback(self._post_tasks.discard)
        else:
            await self._send(client, WsMessage(channel="error", data=WS_BAD_REQUEST + text[:200]))

    async def _subscription(self, client: Peer, method: str, sub: Any) -> None:
        normal = normalise(sub)
        if normal is None:
            error = Texts.invalid_subscription(json.dumps(sub))
            await self._send(client, WsMessage(channel="error", data=error))
            return
        key = json.dumps(normal, sort_keys=True)
        present = any(json.dumps(s, sort_keys=True) == key for s in client.subs)
        if method == "subscribe":
            if present:
                error = Texts.already_subscribed(json.dumps(sub))
                await self._send(client, WsMessage(channel="error", data=error))
                return
            client.subs.append(normal)
            feed = feed_for(normal) if self._for_us(normal) else None
            if feed is not None:
                client.feeds[key] = feed
        else:
            if not present:
                error = Texts.already_unsubscribed(json.dumps(sub))
                await self._send(client, WsMessage(channel="error", data=error))
                return
            client.subs = [s for s in client.subs if json.dumps(s, sort_keys=True) != key]
            client.feeds.pop(key, None)
        client.channels = {self._channel(s) for s in client.subs if self._for_us(s)}
        ack = SubscriptionResponse(method=method, subscription=normal)
        await self._send(client, WsMessage(channel="subscriptionResponse", data=ack))
        if method != "subscribe" or not self._for_us(normal):
            return
        if key in client.feeds:
            self._push_feed(client.feeds[key], self._clock.now(), client, first=True)
        elif normal["type"] == "userFills":
            replay = (
                list(self._fills)[-self.config.faults.replay_fills :]
                if self.config.faults.replay_fills
                else []
            )
            history = WsUserFills(user=self.account, isSnapshot=True, fills=replay)
            await self._send(client, WsMessage(channel="userFills", data=history))
        elif normal["type"] == "userFundings":
            recent = WsUserFundings(
                user=self.account, isSnapshot=True, fundings=list(self._fundings)
            )
            await self._send(client, WsMessage(channel="userFundings", data=recent))

    def _for_us(self, sub: dict[str, Any]) -> bool:
        return (
            sub["type"] == "allMids"
            or sub.get("coin") == self.coin
            or sub.get("user") == self.account
        )

    @staticmethod
    def _channel(sub: dict[str, Any]) -> str:
        return "user" if sub["type"] == "userEvents" else str(sub["type"])

    async def _post(self, client: Peer, post_id: int, request: Any) -> None:
        try:
            if not isinstance(request, dict) or request.get("type") not in ("action", "info"):
                response = PostResponse(type="error", payload=WS_BAD_POST)
            elif request["type"] == "info":
                status, answer = self._info(request.get("payload"), via_ws=True)
                payload = request.get("payload")
                info_type = payload.get("type") if isinstance(payload, dict) else None
                response = (
                    PostResponse(type="info", payload=InfoPayload(type=info_type, data=answer))
                    if status == 200
                    else PostResponse(type="error", payload=f"{status} {answer}")
                )
            else:
                outcome = await self._exchange_request(request.get("payload"), via_ws=True)
                if outcome.lost:
                    return
                response = (
                    PostResponse(type="action", payload=outcome.payload)
                    if outcome.status == 200
                    else PostResponse(type="error", payload=f"{outcome.status} {outcome.payload}")
                )
            answer = PostData(id=post_id, response=response)
            await self._send(client, WsMessage(channel="post", data=answer))
        finally:
            client.pending_posts -= 1

    async def _send(self, client: Peer, message: WsMessage) -> None:
        await client.peer.send(ws_text(message))
