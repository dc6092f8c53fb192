"""The Polymarket twin's scripting: what tests (and the operator, over HTTP) make it do.

Methods on the twin, and the same under ``/_twin/...`` on its port (127.0.0.1 only, no auth;
JSON bodies, answers ``{"ok": true, ...}`` or 400 ``{"error": ...}``):

========================  ===============================  ==================================
method                    HTTP                             what
========================  ===============================  ==================================
``take(buy, size, ...)``  ``POST /_twin/take``             a synthetic taker crosses the book
                          ``{"side","size","price"?,       now (fills our resting orders);
                          "token"?}``                      ``token`` defaults to YES
``script_trades(path,n)`` ``POST /_twin/trades``           the next ``n`` trades of ours go
                          ``{"path":[...],"count":n}``     MATCHED then ``path``, e.g.
                                                           ``["RETRYING","FAILED"]``
``change_tick(tick)``     ``POST /_twin/tick {"tick"}``    new tick: ``tick_size_change``
                                                           pushed, old-grid prices refused
``set_mode(mode, s)``     ``POST /_twin/mode``             normal, restarting, post_only,
                          ``{"mode","seconds"?}``          cancel_only, disabled
``restart(s, post_s)``    ``POST /_twin/restart``          425 for ``s``, then post-only
``storm(s)``              ``POST /_twin/storm``            429 on order endpoints for ``s``
``stall_ws()`` /          ``POST /_twin/ws {"action":      sockets go silent (no PONG either;
``resume_ws()`` /         "stall"|"resume"|"drop"}``       what they missed is never sent) /
``drop_ws()``                                              talk again / all closed abruptly
``fund(pusd, shares)``    ``POST /_twin/fund``             deposited pUSD, YES shares held
                          ``{"pusd"?,"shares"?}``
``refuse_next_posts(...)`` ``POST /_twin/refuse``           the next placements answered
                          ``{"status","error","count"?}``  ``status {"error"}``, not placed
``drop_next_answers(n)``  ``POST /_twin/drop {"count"?}``  the next writes done, unanswered
``state()``               ``GET /_twin/state``             mode, ids, tick, orders, trades,
                                                           heartbeats, sockets
========================  ===============================  ==================================
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from core.venues.loopback.polymarket.market import ONE, decimal_text
from core.venues.loopback.polymarket.sockets import Sockets
from core.venues.loopback.polymarket.transport import PmReply, PmRequest


class Control(Sockets):
    """Scripted behaviours (see the module's docstring)."""

    def take(
        self, buy: bool, size: Decimal | str, price: Decimal | str | None = None, token: str = ""
    ) -> None:
        """A synthetic taker buys (``buy``) or sells ``size`` shares of ``token`` (default YES)
        now, up to ``price`` if given: it trades with whatever rests there, ours included."""
        tok = self.tokens.get(token) if token else self.yes
        if tok is None:
            raise ValueError(f"unknown token {token!r}")
        lots = self.instrument.size_to_lots(Decimal(size))
        limit = None
        if price is not None:
            limit = self.instrument.price_to_ticks(Decimal(price))
        side, engine_limit = tok.to_engine(buy, limit if limit is not None else ONE // 2)
        self.exchange.inject_taker(side, lots, engine_limit if limit is not None else None)
        self._absorb(self.exchange.advance(self._clock.now()))
        self._flush_book()
        self._clock_driver.wake()

    def script_trades(self, path: list[str] | tuple[str, ...], count: int = 1) -> None:
        """The next ``count`` trades of ours follow MATCHED with ``path`` (its statuses evenly
        spaced over the settlement delay, ``SimConfig.settlement.delay_s``); it must end
        CONFIRMED or FAILED, which the exchange then applies (FAILED: reversed)."""
        self.exchange.script_settlement(tuple(path), count)

    def change_tick(self, tick: Decimal | str) -> None:
        """The market's tick becomes ``tick`` now: the exchange moves its grid (and its other
        makers re-quote), subscribers get ``tick_size_change`` for both tokens, and prices off
        the new grid are refused from then on.  Resting orders stay where they are (what the
        venue does with them is not documented)."""
        now = self._clock.now()
        self.exchange.change_tick(self.grid_of_tick(Decimal(tick)), now)
        self._absorb(self.exchange.advance(now))
        self._flush_book()
        self._clock_driver.wake()

    def stall_ws(self) -> None:
        self.ws_stalled = True

    def resume_ws(self) -> None:
        self.ws_stalled = False

    def drop_ws(self) -> None:
        """Every socket closed without a close frame, as a network failure would."""
        for sock in list(self.sockets):
            sock.peer.abort()
            self.sockets.discard(sock)

    def fund(self, pusd: Decimal | str | None = None, shares: Decimal | str | None = None) -> None:
        """Set the account's deposited pUSD and/or its YES shares (entered at the mark): the
        exchange's account, which balances and the ``not enough balance`` check read."""
        if pusd is not None:
            self.exchange.set_collateral(Decimal(pusd))
        if shares is not None:
            self.exchange.set_position(self.instrument.size_to_lots(Decimal(shares)))

    def state(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "account": self.account,
            "condition_id": self.condition_id,
            "tokens": {"yes": self.yes.token_id, "no": self.no.token_id},
            "tick": decimal_text(self.tick),
            "open_orders": [o.order_id for o in self.orders.values() if o.status == "LIVE"],
            "trades": {t.trade_id: t.status for t in self.trades.values()},
            "heartbeats": {
                k: {"expected": h.expected, "armed": h.deadline != float("inf")}
                for k, h in self.heartbeats.items()
            },
            "heartbeat_lapses": self.heartbeat_lapses,
            "sockets": len(self.sockets),
            "ws_stalled": self.ws_stalled,
        }

    def control(self, request: PmRequest, body: Any) -> PmReply:
        """``/_twin/...``: the methods above over HTTP."""
        what = request.path.removeprefix("/_twin/")
        args = body if isinstance(body, dict) else {}
        try:
            if request.method == "GET" and what == "state":
                return PmReply.json(self.state())
            if request.method != "POST":
                return PmReply.error(404, f"no control {request.method} {request.path}")
            if what == "take":
                side = str(args.get("side", "")).upper()
                if side not in ("BUY", "SELL"):
                    raise ValueError("side must be BUY or SELL")
                self.take(
                    side == "BUY", str(args["size"]), args.get("price"), args.get("token", "")
                )
            elif what == "trades":
                self.script_trades(list(args["path"]), int(args.get("count", 1)))
            elif what == "tick":
                self.change_tick(str(args["tick"]))
            elif what == "mode":
                seconds = args.get("seconds")
                self.set_mode(str(args["mode"]), None if seconds is None else float(seconds))
            elif what == "restart":
                post = args.get("post_only_s")
                self.restart(float(args["seconds"]), None if post is None else float(post))
            elif what == "storm":
                self.storm(float(args["seconds"]))
            elif what == "ws":
                action = {"stall": self.stall_ws, "resume": self.resume_ws, "drop": self.drop_ws}
                action[str(args["action"])]()
            elif what == "refuse":
                count = int(args.get("count", 1))
                self.refuse_next_posts(int(args["status"]), str(args["error"]), count)
            elif what == "drop":
                self.drop_next_answers(int(args.get("count", 1)))
            elif what == "fund":
                self.fund(args.get("pusd"), args.get("shares"))
            else:
                return PmReply.error(404, f"no control {request.path}")
        except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
            return PmReply.error(400, f"bad control request: {exc!r}")
        return PmReply.json({"ok": True, **self.state()})
