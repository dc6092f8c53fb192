"""``PmTwin``: the Polymarket twin's rooms put together -- start/close, routing, auth, queries.

``request`` is the server's entry for every HTTP request: the public market data (``/book``,
``/markets/{id}``, ``/clob-markets/{id}``, ``/markets-by-token/{id}``, ``/tick-size``,
``/neg-risk``, ``/fee-rate``, ``/midpoint``, ``/price``, ``/time``, ``/version``, ``/ok``), L1
(``/auth/api-key``, ``/auth/derive-api-key``), and, behind L2, orders, cancels, listings,
balances and heartbeats; ``/_twin/...`` is the control API (``control``).  ``socket`` (in
``sockets``) serves ``/ws/market`` and ``/ws/user``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any

from core.clock import Clock
from core.simconfig import SimConfig
from core.venues.loopback.polymarket.auth import (
    AuthError,
    Creds,
    exchange_address,
    hmac_ok,
    recover_l1,
)
from core.venues.loopback.polymarket.control import Control
from core.venues.loopback.polymarket.market import UNITS_PER_LOT, PmOrder, PmTrade, Token
from core.venues.loopback.polymarket.settings import PmTwinSettings
from core.venues.loopback.polymarket.transport import PmReply, PmRequest
from core.venues.polymarket.errors import (
    COULD_NOT_DERIVE_API_KEY,
    INVALID_ASSET_TYPE,
    INVALID_L1_HEADERS,
    INVALID_ORDER_PARAMS,
    INVALID_PAYLOAD,
    INVALID_SIGNATURE_TYPE,
    INVALID_TOKEN_ID,
    INVALID_TRADE_PARAMS,
    MARKET_NOT_FOUND,
    NO_ORDERBOOK,
    ORDER_NOT_FOUND,
    UNAUTHORIZED,
)

FIRST_CURSOR = "MA=="
END_CURSOR = "LTE="
_ALLOWANCE = str(2**256 - 1)


class PmTwin(Control):
    """Polymarket's CLOB V2 for one binary market, backed by the embedded exchange."""

    def __init__(
        self, config: SimConfig, clock: Clock, settings: PmTwinSettings | None = None
    ) -> None:
        super().__init__(config, clock, settings)
        self._guards_init()

    # ---- life ----------------------------------------------------------------------------

    async def start(self) -> None:
        from core.venues.sim.exchange import SimExchange

        now = self._clock.now()
        self._exchange = SimExchange(self.config, start=now, name="pm-loopback")
        self._exchange.keep_trade_statuses = True
        self._exchange.connect(now)
        self._exchange.advance(now)  # the exchange's own hello: not for the wire
        self._driver = asyncio.create_task(self._clock_driver.run(), name="pm-twin-driver")

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        failure: BaseException | None = None
        if driver is not None:
            if driver.done() and not driver.cancelled():
                failure = driver.exception()  # the clock's turn died: say so, never hide it
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
        for sock in list(self.sockets):
            await sock.peer.close(1001, "server shutting down")
        if failure is not None:
            raise RuntimeError("the Polymarket twin's clock driver failed") from failure

    def _timers(self, now: float) -> float | None:
        times = [super()._timers(now), self._expiry_timer(now)]
        present = [t for t in times if t is not None]
        return min(present) if present else None

    # ---- routing -------------------------------------------------------------------------

    async def request(self, request: PmRequest) -> PmReply | None:
        method, path = request.method, request.path.rstrip("/") or "/"
        body: Any = None
        if request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                return PmReply.error(400, INVALID_PAYLOAD)
        if path.startswith("/_twin/"):
            return self.control(request, body)
        public = self._public(method, path, request.query, body)
        if public is not None:
            return public
        if path in ("/auth/api-key", "/auth/derive-api-key") and method in ("POST", "GET"):
            return self._l1(request, create=method == "POST")
        route = (method, path)
        known = route in _PRIVATE or (method == "GET" and path.startswith("/data/order/"))
        if not known:
            return PmReply.error(404, f"no route for {method} {path}")
        creds = self._l2(request)
        if creds is None:
            return PmReply.error(401, UNAUTHORIZED)
        if route in _PLACEMENTS:
            refused = self.scripted_refusal()
            if refused is not None:
                return refused
        reply = self._private(route, request, body, creds)
        if route in _WRITES and self.drop_this():
            return None  # carried out; the answer is lost on the way back
        return reply

    def _public(self, method: str, path: str, query: dict[str, str], body: Any) -> PmReply | None:
        if method == "POST" and path == "/books":
            if not isinstance(body, list):
                return PmReply.error(400, INVALID_PAYLOAD)
            wanted = [self.tokens.get(str(b.get("token_id"))) for b in body if isinstance(b, dict)]
            return PmReply.json([self.book_row(t) for t in wanted if t is not None])
        if method != "GET":
            return None
        if path == "/ok":
            return PmReply.json("OK")
        if path == "/time":
            return PmReply.json(int(self.epoch()))
        if path == "/version":
            return PmReply.json({"version": 2})
        if path == "/markets":
            # The CLOB's listing: the twin's one market on one page (the terminal cursor).
            return PmReply.json(
                {"limit": 1, "count": 1, "next_cursor": "LTE=", "data": [self._market_row()]}
            )
        for prefix in ("/markets/", "/clob-markets/", "/markets-by-token/"):
            if path.startswith(prefix):
                return self._market_info(prefix, path.removeprefix(prefix))
        name, _, tail = path.lstrip("/").partition("/")
        if name not in ("book", "tick-size", "neg-risk", "fee-rate", "midpoint", "price"):
            return None
        token = self.tokens.get(tail or query.get("token_id", ""))
        if token is None:
            return PmReply.error(
                404 if name == "book" else 400, NO_ORDERBOOK if name == "book" else INVALID_TOKEN_ID
            )
        if name == "book":
            return PmReply.json(self.book_row(token))
        if name == "tick-size":
            return PmReply.json({"minimum_tick_size": float(self.tick)})
        if name == "neg-risk":
            return PmReply.json({"neg_risk": self.settings.neg_risk})
        if name == "fee-rate":
            return PmReply.json({"base_fee": 0})
        bid, ask = self.best(token)
        if name == "midpoint":
            return PmReply.json({"mid": str((float(bid) + float(ask)) / 2)})
        side = query.get("side", "").upper()
        if side not in ("BUY", "SELL"):
            return PmReply.error(400, "Invalid side")
        return PmReply.json({"price": ask if side == "BUY" else bid})

    def _market_info(self, prefix: str, key: str) -> PmReply:
        tick = float(self.tick)
        min_size = float(self.size_text(self.min_lots))
        if prefix == "/markets-by-token/":
            if key not in self.tokens:
                return PmReply.error(404, MARKET_NOT_FOUND)
            return PmReply.json(
                {
                    "condition_id": self.condition_id,
                    "primary_token_id": self.yes.token_id,
                    "secondary_token_id": self.no.token_id,
                }
            )
        if key != self.condition_id:
            return PmReply.error(404, MARKET_NOT_FOUND)
        if prefix == "/clob-markets/":
            info: dict[str, Any] = {
                "t": [{"t": t.token_id, "o": t.outcome} for t in (self.yes, self.no)],
                "mts": tick,
                "mos": min_size,
                "mbf": 0,
                "tbf": 0,
                "fd": {"r": float(self.config.taker_fee_rate), "e": 1, "to": True},
            }
            if self.settings.neg_risk:
                info["nr"] = True
            return PmReply.json(info)
        return PmReply.json(self._market_row())

    def _market_row(self) -> dict[str, Any]:
        """The market as ``GET /markets/{condition_id}`` and the listing write it."""
        tick = float(self.tick)
        min_size = float(self.size_text(self.min_lots))
        tokens = []
        for token in (self.yes, self.no):
            bid, ask = self.best(token)
            tokens.append(
                {
                    "token_id": token.token_id,
                    "outcome": token.outcome,
                    "price": (float(bid) + float(ask)) / 2,
                    "winner": False,
                }
            )
        return {
            "condition_id": self.condition_id,
            "question_id": self.question_id,
            "question": f"Loopback twin market {self.instrument.symbol}?",
            "market_slug": f"loopback-twin-{self.instrument.symbol.lower()}",
            "tokens": tokens,
            "minimum_order_size": min_size,
            "minimum_tick_size": tick,
            "neg_risk": self.settings.neg_risk,
            "accepting_orders": self.mode not in ("cancel_only", "disabled"),
            "active": True,
            "closed": False,
            "enable_order_book": True,
            "maker_base_fee": 0,
            "taker_base_fee": 0,
            "seconds_delay": 0,
            "game_start_time": None,
        }

    # ---- auth ----------------------------------------------------------------------------

    def _l1(self, request: PmRequest, *, create: bool) -> PmReply:
        h = request.headers
        try:
            address, signature = h["poly_address"], h["poly_signature"]
            timestamp, nonce = h["poly_timestamp"], int(h.get("poly_nonce", "0"))
            signer = recover_l1(self.settings.chain_id, address, timestamp, nonce, signature)
        except (KeyError, ValueError, AuthError):
            return PmReply.error(401, INVALID_L1_HEADERS)
        if signer.lower() != address.lower():
            return PmReply.error(401, INVALID_L1_HEADERS)
        creds = self.creds_of(address, nonce)
        if not create and creds.api_key not in self.creds:
            return PmReply.error(400, COULD_NOT_DERIVE_API_KEY)
        self.creds[creds.api_key] = creds
        return PmReply.json(creds.wire())

    def _l2(self, request: PmRequest) -> Creds | None:
        """The credentials of a correctly signed L2 request, or None (401)."""
        h = request.headers
        creds = self.creds.get(h.get("poly_api_key", ""))
        if creds is None or h.get("poly_passphrase") != creds.passphrase:
            return None
        if h.get("poly_address", "").lower() != creds.address:
            return None
        ok = hmac_ok(
            creds,
            h.get("poly_signature", ""),
            h.get("poly_timestamp", ""),
            request.method,
            request.path,
            request.body,
        )
        return creds if ok else None

    # ---- private endpoints ---------------------------------------------------------------

    def _private(
        self, route: tuple[str, str], request: PmRequest, body: Any, creds: Creds
    ) -> PmReply:
        address = creds.address
        method, path = route
        if route == ("POST", "/order"):
            return self.post_order(body, creds, address)
        if route == ("POST", "/orders"):
            return self.post_orders(body, creds, address)
        if route == ("DELETE", "/order"):
            return self.cancel_one(body, creds, address)
        if route == ("DELETE", "/orders"):
            return self.cancel_many(body, creds, address)
        if route == ("DELETE", "/cancel-all"):
            return self.cancel_all(creds, address)
        if route == ("DELETE", "/cancel-market-orders"):
            return self.cancel_market(body, creds, address)
        if route == ("POST", "/v1/heartbeats"):
            hb = body.get("heartbeat_id", "") if isinstance(body, dict) else None
            if not isinstance(hb, str):
                return PmReply.error(400, INVALID_PAYLOAD)
            return self.heartbeat(creds.api_key, hb)
        if route == ("GET", "/data/orders"):
            return self._open_orders(request.query, address)
        if method == "GET" and path.startswith("/data/order/"):
            order = self.orders.get(path.removeprefix("/data/order/"))
            if order is None or order.placed_by != address:
                return PmReply.error(404, ORDER_NOT_FOUND)
            return PmReply.json(self.order_row(order))
        if route == ("GET", "/data/trades"):
            return self._trades(request.query, address)
        if route in (("GET", "/balance-allowance"), ("GET", "/balance-allowance/update")):
            return self._balance(request.query, update=path.endswith("/update"))
        if route == ("GET", "/auth/api-keys"):
            keys = [c.api_key for c in self.creds.values() if c.address == address]
            return PmReply.json({"apiKeys": keys})
        if route == ("DELETE", "/auth/api-key"):
            self.creds.pop(creds.api_key, None)
            return PmReply.json("OK")
        if route == ("GET", "/auth/ban-status/closed-only"):
            return PmReply.json({"closed_only": False})
        return PmReply.json({"scoring": False})  # GET /order-scoring

    def _open_orders(self, query: dict[str, str], address: str) -> PmReply:
        wanted = query.get("id")
        rows = [
            self.order_row(o)
            for o in self.orders.values()
            if o.placed_by == address
            and (o.order_id == wanted if wanted else o.status == "LIVE")
            and _matches(o.token, query, self.condition_id)
        ]
        return self._page(rows, query.get("next_cursor", FIRST_CURSOR), INVALID_ORDER_PARAMS)

    def _trades(self, query: dict[str, str], address: str) -> PmReply:
        try:
            before = int(query["before"]) if query.get("before") else None
            after = int(query["after"]) if query.get("after") else None
        except ValueError:
            return PmReply.error(400, INVALID_TRADE_PARAMS)
        maker = query.get("maker_address", "").lower()
        rows = [
            self.trade_row(t)
            for t in reversed(self.trades.values())
            if t.order.placed_by == address
            and _trade_wanted(t, query, self.condition_id, maker, before, after)
        ]
        return self._page(rows, query.get("next_cursor", FIRST_CURSOR), INVALID_TRADE_PARAMS)

    def _page(self, rows: list[dict[str, Any]], cursor: str, error: str) -> PmReply:
        """One page: cursors are base64 offsets, ``MA==`` (0) first, ``LTE=`` (-1) the end."""
        try:
            start = int(base64.b64decode(cursor or FIRST_CURSOR, validate=True).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return PmReply.error(400, error)
        if start < 0:
            start = len(rows)
        size = self.settings.page_size
        page = rows[start : start + size]
        end = start + size
        following = base64.b64encode(str(end).encode()).decode() if end < len(rows) else END_CURSOR
        return PmReply.json(
            {"limit": size, "next_cursor": following, "count": len(page), "data": page}
        )

    def _balance(self, query: dict[str, str], *, update: bool) -> PmReply:
        kind = query.get("asset_type", "")
        signature_type = query.get("signature_type", "0")
        if signature_type not in ("-1", "0", "1", "2", "3"):
            return PmReply.error(400, INVALID_SIGNATURE_TYPE)
        cash, shares = self.balances()
        if kind == "COLLATERAL":
            balance = cash
        elif kind == "CONDITIONAL":
            token = query.get("token_id", "")
            if token not in self.tokens:
                return PmReply.error(400, INVALID_TOKEN_ID)
            balance = shares * UNITS_PER_LOT if token == self.yes.token_id else 0
        else:
            return PmReply.error(400, INVALID_ASSET_TYPE)
        if update:
            return PmReply.json({})
        spenders = [exchange_address(self.settings.chain_id, n) for n in (False, True)]
        return PmReply.json(
            {"balance": str(balance), "allowances": dict.fromkeys(spenders, _ALLOWANCE)}
        )


_PLACEMENTS = {("POST", "/order"), ("POST", "/orders")}
_WRITES = {
    *_PLACEMENTS,
    ("DELETE", "/order"),
    ("DELETE", "/orders"),
    ("DELETE", "/cancel-all"),
    ("DELETE", "/cancel-market-orders"),
}
_PRIVATE = {
    ("POST", "/order"),
    ("POST", "/orders"),
    ("DELETE", "/order"),
    ("DELETE", "/orders"),
    ("DELETE", "/cancel-all"),
    ("DELETE", "/cancel-market-orders"),
    ("POST", "/v1/heartbeats"),
    ("GET", "/data/orders"),
    ("GET", "/data/trades"),
    ("GET", "/balance-allowance"),
    ("GET", "/balance-allowance/update"),
    ("GET", "/auth/api-keys"),
    ("DELETE", "/auth/api-key"),
    ("GET", "/auth/ban-status/closed-only"),
    ("GET", "/order-scoring"),
}


def _matches(token: Token, query: dict[str, str], condition_id: str) -> bool:
    market, asset = query.get("market"), query.get("asset_id")
    return (not market or market == condition_id) and (not asset or asset == token.token_id)


def _trade_wanted(
    trade: PmTrade,
    query: dict[str, str],
    condition_id: str,
    maker: str,
    before: int | None,
    after: int | None,
) -> bool:
    order: PmOrder = trade.order
    return (
        (not query.get("id") or query["id"] == trade.trade_id)
        and _matches(order.token, query, condition_id)
        and (not maker or maker == order.maker)
        and (before is None or trade.match_time < before)
        and (after is None or trade.match_time > after)
    )
