"""The loopback twin: the embedded exchange behind Hyperliquid's wire protocol.

``Twin`` serves ``POST /info``, ``POST /exchange`` and ``/ws`` (subscriptions, ``post``,
ping/pong) with Hyperliquid's paths and message shapes, backed by a ``SimExchange`` that it keeps
in step with the wall clock (as ``SimVenue`` does).  The real connector is tested against it
over real sockets, so what the twin checks, the connector must get right:

* every ``/exchange`` body is parsed strictly (a mistyped body is HTTP 422), the action is
  re-serialised in the venue's canonical key order and its signer recovered with source ``"b"``
  (``"a"`` when mainnet); a signer that is neither the account nor one of its agents gets
  ``L1 error: User or API Wallet 0x… does not exist.`` — so a signing bug fails the test;
* nonces are checked per signer (the 100 highest kept; reused, too-low and out-of-window ones
  are refused with ``Invalid nonce: ...``);
* orders are validated and matched by the embedded engine, with Hyperliquid's texts; answers
  are per item; fills go to ``userFills`` / ``userEvents`` and ``orderUpdates`` before the
  answer is written (fill-before-ack happens naturally); ``userFills`` opens with an
  ``isSnapshot`` replay of recent fills on every subscribe;
* IP weight (HTTP 429) and the per-address budget ("Too many cumulative requests sent ...") are
  accounted; ``scheduleCancel`` arms a dead man's switch that really cancels;
* the fault plan (``faults``) delays or drops answers, drops WebSocket connections and sends 429
  storms.

Every answer and WebSocket message is written with the connector's own wire models
(``core.venues.hyperliquid.wire``, through ``answer_json``), its conversions (``mapping``: units
and sides) and Hyperliquid's words (``errors``, ``statuses``): what the twin writes is what the
connector reads, by construction.

The exchange's own fault plan is switched off (answers are immediate; the twin's faults happen
on the wire).  One trading account is served.  Decimals appear here only at the wire boundary.

``Twin`` is put together from rooms, each a class in its own module that builds on the rooms it
names as its bases (and on no other), so that each job has a module of its own:

    common     Order, Peer, parse_json, ws_text: what every room uses
    base       TwinBase: the shared state, the clock's turn, the order registry, wire rows,
               pushes to subscribers, the IP and address budgets
    info       POST /info: the queries
    actions    POST /exchange: strict parsing, signer, nonce, budget, then each action
    websocket  /ws: subscriptions, post (on info and actions), ping
    api        Twin: the rooms put together; start/close, http, test hooks and inspection
"""

from core.venues.loopback.twin.api import Twin

__all__ = ["Twin"]
