"""``POST /order``, ``POST /orders`` and the cancels of the Polymarket twin.

A placement is checked as the CLOB checks it, request first (the whole batch fails): payload
shape (``Invalid order payload``; ``salt`` must be a JSON number), ``owner`` = the API key,
``signer`` = ``POLY_ADDRESS`` (types 0-2), the EIP-712 signature against the market's V2
exchange (``invalid signature``), the maker allowed; then each order on its own: token, order
type and expiration, amounts (2 decimals of shares; the implied price on the market's current
tick -- reference 3: any amounts whose price is on the tick are accepted), bounds, minimum
size, duplicate id, post-only crossing, FOK fillable, FAK matchable.  Only orders that pass
reach the exchange, in one batch (in order, so each item's balance check sees the ones before
it); the exchange checks the balance (pUSD for a bid, settled shares for an ask, net of open
orders and unsettled trades) and its answers become the per-item results (``live`` /
``matched`` with ``tradeIDs``).  The texts are the connector's
(``core.venues.polymarket.errors``), so both sides speak the same words.

Cancels answer ``{"canceled": [...], "not_canceled": {id: reason}}`` and work in cancel-only
and post-only modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from core.commands import Cancel, Command, Place, TimeInForce
from core.events import AckStatus, CancelAck, Event, PlaceAck, PlaceRejected, Side
from core.venues.loopback.polymarket.auth import (
    POLY_1271,
    AuthError,
    Creds,
    order_message,
    order_signer,
)
from core.venues.loopback.polymarket.guards import Guards
from core.venues.loopback.polymarket.market import ONE, UNITS_PER_LOT, PmOrder, decimal_text
from core.venues.loopback.polymarket.transport import PmReply
from core.venues.polymarket.errors import (
    ALREADY_MATCHED_LOWER,
    FAK_NO_MATCH,
    FOK_NOT_FILLED,
    INVALID_AMOUNTS_BUY,
    INVALID_AMOUNTS_SELL,
    INVALID_EXPIRATION,
    INVALID_ORDER_ID,
    INVALID_ORDER_PAYLOAD,
    INVALID_PAYLOAD,
    INVALID_SIGNATURE,
    INVALID_TOKEN_ID,
    MAKER_NOT_ALLOWED,
    MAX_BATCH_CANCELS,
    MAX_BATCH_ORDERS,
    NOT_ENOUGH_BALANCE,
    NOT_FOUND_OR_CANCELED,
    OWNER_NOT_API_KEY,
    POST_ONLY_CROSSES,
    POST_ONLY_MODE,
    SIGNER_NOT_API_KEY,
    Texts,
)
from core.venues.polymarket.ids import is_order_id

ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")


class _Refused(Exception):
    """A request-level refusal: HTTP 400 ``{"error": text}`` for the whole request."""


@dataclass
class _Item:
    """One order of a request, checked: its record and the exchange command, or the refusal."""

    order: PmOrder | None = None
    place: Place | None = None
    error: str = ""
    success_with_error: bool = False  # post-only mode's shape: success true, errorMsg, no id


class Orders(Guards):
    """The twin's placements and cancels."""

    # ---- placements ----------------------------------------------------------------------

    def post_order(self, body: Any, creds: Creds, poly_address: str) -> PmReply:
        if not isinstance(body, dict):
            return PmReply.error(400, INVALID_ORDER_PAYLOAD)
        refusal = self.mode_refusal(placing=True, post_only=body.get("postOnly") is True)
        if refusal is not None:
            return refusal
        limited, headers = self.charge(poly_address, "order", 1)
        if limited is not None:
            return limited
        try:
            items = self._check_all([body], creds, poly_address)
        except _Refused as exc:
            return PmReply.error(400, str(exc), headers)
        result = self._run(items)[0]
        if result["errorMsg"] and self.settings.order_errors_as_400:
            return PmReply.error(400, result["errorMsg"], headers)
        return PmReply.json(result, headers=headers)

    def post_orders(self, body: Any, creds: Creds, poly_address: str) -> PmReply:
        if not isinstance(body, list) or not body:
            return PmReply.error(400, INVALID_ORDER_PAYLOAD)
        if len(body) > MAX_BATCH_ORDERS:
            return PmReply.error(400, Texts.too_many_orders(len(body)))
        refusal = self.mode_refusal(placing=True)
        if refusal is not None:
            return refusal
        limited, headers = self.charge(poly_address, "order", len(body))
        if limited is not None:
            return limited
        try:
            items = self._check_all(body, creds, poly_address)
        except _Refused as exc:
            return PmReply.error(400, str(exc), headers)
        return PmReply.json(self._run(items), headers=headers)

    def _check_all(self, bodies: list[Any], creds: Creds, poly_address: str) -> list[_Item]:
        parsed = [self._request_checks(b, creds, poly_address) for b in bodies]
        items: list[_Item] = []
        seen: set[str] = set()
        for body, (order_id, message) in zip(bodies, parsed, strict=True):
            item = self._order_checks(body, order_id, message, creds, seen)
            if item.order is not None:
                seen.add(order_id)
            items.append(item)
        return items

    def _request_checks(
        self, body: Any, creds: Creds, poly_address: str
    ) -> tuple[str, dict[str, Any]]:
        """(order id, signed fields) of one order, or ``_Refused`` for the whole request."""
        if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
            raise _Refused(INVALID_ORDER_PAYLOAD)
        wire = body["order"]
        salt = wire.get("salt")
        if not isinstance(salt, int) or isinstance(salt, bool) or salt < 0:
            raise _Refused(INVALID_ORDER_PAYLOAD)
        try:
            message = order_message(wire)
            signature = str(wire["signature"])
        except (KeyError, ValueError, TypeError):
            raise _Refused(INVALID_ORDER_PAYLOAD) from None
        if body.get("owner") != creds.api_key:
            raise _Refused(OWNER_NOT_API_KEY)
        kind = message["signatureType"]
        if kind not in (0, 1, 2, POLY_1271):
            raise _Refused(INVALID_ORDER_PAYLOAD)
        if kind != POLY_1271 and message["signer"].lower() != poly_address:
            raise _Refused(SIGNER_NOT_API_KEY)
        if kind == POLY_1271 and message["signer"].lower() != message["maker"].lower():
            raise _Refused(INVALID_SIGNATURE)
        try:
            order_id, signed_by = order_signer(
                message, signature, self.settings.chain_id, self.settings.neg_risk
            )
        except AuthError:
            raise _Refused(INVALID_SIGNATURE) from None
        expected = poly_address if kind == POLY_1271 else message["signer"].lower()
        if signed_by.lower() != expected:
            raise _Refused(INVALID_SIGNATURE)
        maker = message["maker"].lower()
        if self.account is None:
            self.account = maker
        if maker != self.account:
            raise _Refused(MAKER_NOT_ALLOWED)
        return order_id, message

    def _order_checks(
        self,
        body: dict[str, Any],
        order_id: str,
        message: dict[str, Any],
        creds: Creds,
        seen: set[str],
    ) -> _Item:
        token = self.tokens.get(str(message["tokenId"]))
        if token is None:
            return _Item(error=INVALID_TOKEN_ID)
        order_type = body.get("orderType", "GTC")
        post_only = body.get("postOnly", False)
        if order_type not in ORDER_TYPES or not isinstance(post_only, bool):
            return _Item(error=INVALID_ORDER_PAYLOAD)
        if post_only and order_type in ("FOK", "FAK"):
            return _Item(error=INVALID_ORDER_PAYLOAD)
        if self.mode == "post_only" and not post_only:
            return _Item(error=POST_ONLY_MODE, success_with_error=True)
        expiration = str(body["order"].get("expiration", "0"))
        if not self._expiration_ok(order_type, expiration):
            return _Item(error=INVALID_EXPIRATION)
        buy = message["side"] == 0
        priced = self._price_and_size(order_id, buy, message, order_type)
        if isinstance(priced, str):
            return _Item(error=priced)
        price, lots = priced
        if lots < self.min_lots:
            size = self.size_text(lots)
            return _Item(error=Texts.size_below_min(order_id, size, self.size_text(self.min_lots)))
        if order_id in self.orders or order_id in seen:
            return _Item(error=Texts.duplicated(order_id))
        side, engine_price = token.to_engine(buy, price)
        book = self.exchange.book
        crosses = book.crosses(side, engine_price)
        if post_only and crosses:
            return _Item(error=POST_ONLY_CROSSES)
        if order_type == "FOK" and self._depth_to(side, engine_price) < lots:
            return _Item(error=FOK_NOT_FILLED)
        if order_type == "FAK" and not crosses:
            return _Item(error=FAK_NO_MATCH)
        tif = (
            TimeInForce.ALO
            if post_only
            else (TimeInForce.IOC if order_type in ("FOK", "FAK") else TimeInForce.GTC)
        )
        order = PmOrder(
            order_id=order_id,
            token=token,
            buy=buy,
            price=price,
            size=lots,
            order_type=order_type,
            expiration=expiration,
            owner=creds.api_key,
            maker=message["maker"].lower(),
            placed_by=creds.address,
            created_at=int(self.epoch()),
        )
        return _Item(order=order, place=Place(order_id, side, engine_price, lots, tif))

    def _expiration_ok(self, order_type: str, expiration: str) -> bool:
        try:
            when = int(expiration)
        except ValueError:
            return False
        if order_type != "GTD":
            return when == 0
        return when >= self.epoch() + self.settings.min_gtd_s

    def _price_and_size(
        self, order_id: str, buy: bool, message: dict[str, Any], order_type: str
    ) -> tuple[int, int] | str:
        """(price ticks on the token, lots) from the signed amounts, or the refusal."""
        maker, taker = message["makerAmount"], message["takerAmount"]
        shares, cash = (taker, maker) if buy else (maker, taker)
        if shares <= 0 or cash <= 0:
            return INVALID_ORDER_PAYLOAD
        market = order_type in ("FOK", "FAK")
        if buy and market and (maker % UNITS_PER_LOT or taker % 100):
            return INVALID_AMOUNTS_BUY
        if not buy and maker % UNITS_PER_LOT:
            return INVALID_AMOUNTS_SELL
        if buy and not market and taker % UNITS_PER_LOT:
            return INVALID_AMOUNTS_BUY
        exact = Fraction(cash, shares) * ONE  # ticks of 0.0001
        grid = self.instrument.grid
        tick_text = decimal_text(self.tick)
        if market:
            ticks = round(exact / grid) * grid  # a marketable order's worst price, on the grid
        elif exact.denominator != 1 or exact.numerator % grid:
            shown = str(Decimal(cash) / Decimal(shares))
            return Texts.price_breaks_tick(order_id, shown, tick_text)
        else:
            ticks = exact.numerator
        if not grid <= ticks <= ONE - grid:
            shown = str(Decimal(cash) / Decimal(shares))
            return Texts.price_breaks_tick(order_id, shown, tick_text)
        return ticks, shares // UNITS_PER_LOT

    def _depth_to(self, side: Side, limit: int) -> int:
        """Lots on the other side an order of ``side`` could take up to ``limit``."""
        total = 0
        for price, size in self.exchange.book.depth(side.opposite):
            if (side is Side.BID and price > limit) or (side is Side.ASK and price < limit):
                break
            total += size
        return total

    def _run(self, items: list[_Item]) -> list[dict[str, Any]]:
        """Send the orders that passed to the exchange, in one batch; the per-item results."""
        for item in items:
            if item.order is not None:
                self.orders[item.order.order_id] = item.order
                if item.order.order_type == "GTD":
                    self.gtd.add(item.order.order_id)
        self._forget_old_orders()
        places = [item.place for item in items if item.place is not None]
        answers: dict[str, Event] = {}
        if places:
            for answer in self._execute(list[Command](places)):
                if isinstance(answer, PlaceAck | PlaceRejected):
                    answers[answer.cloid] = answer
        return [self._result(item, answers) for item in items]

    def _result(self, item: _Item, answers: dict[str, Event]) -> dict[str, Any]:
        if item.order is None:
            return {
                "success": item.success_with_error,
                "errorMsg": item.error,
                "orderID": "",
                "status": "",
                "makingAmount": "",
                "takingAmount": "",
            }
        order = item.order
        answer = answers.get(order.order_id)
        if not isinstance(answer, PlaceAck):
            del self.orders[order.order_id]
            reason = answer.reason if isinstance(answer, PlaceRejected) else ""
            return self._result(_Item(error=self._venue_words(reason, order)), answers)
        if order.engine_oid is None:
            self._bind(order, answer.oid)
        if order.order_type in ("FOK", "FAK") and order.status == "LIVE":
            order.status = "MATCHED" if order.matched else "CANCELED"
        trades = [self.trades[t] for t in order.trades if t in self.trades]
        shares = sum(t.size for t in trades)
        cash = sum(t.size * t.price for t in trades)
        making, taking = (cash, shares) if order.buy else (shares, cash)
        matched = answer.status is not AckStatus.RESTING
        return {
            "success": True,
            "errorMsg": "",
            "orderID": order.order_id,
            "status": "matched" if matched else "live",
            "makingAmount": self._amount(making, order.buy) if matched else "",
            "takingAmount": self._amount(taking, not order.buy) if matched else "",
            "transactionsHashes": [],
            "tradeIDs": [t.trade_id for t in trades],
        }

    def _venue_words(self, reason: str, order: PmOrder) -> str:
        """The exchange's refusal, already in the CLOB's words (a binary market speaks
        Polymarket's, ``core.venues.sim.dialect``): its balance check is the venue's ``not
        enough balance / allowance``; the others are caught before it and only race here (a
        tick change).  The exchange holds one book, YES: a tick refusal of an order on NO
        names the YES price, so it is said again with the order's own."""
        if order.token.mirrored and reason.startswith(f"order {order.order_id} is invalid. Price"):
            price = self.price_text(order.price)
            return Texts.price_breaks_tick(order.order_id, price, decimal_text(self.tick))
        return reason or NOT_ENOUGH_BALANCE

    def _amount(self, value: int, cash: bool) -> str:
        """Millionths of pUSD (``cash``) or lots, as a decimal string."""
        return decimal_text(
            Decimal(value).scaleb(-6) if cash else self.instrument.lots_to_size(value)
        )

    # ---- cancels -------------------------------------------------------------------------

    def _cancel_guard(self, poly_address: str, cost: int) -> tuple[PmReply | None, dict[str, str]]:
        refusal = self.mode_refusal(placing=False)
        if refusal is not None:
            return refusal, {}
        return self.charge(poly_address, "cancel", cost)

    def cancel_one(self, body: Any, creds: Creds, poly_address: str) -> PmReply:
        if not isinstance(body, dict) or not isinstance(body.get("orderID"), str):
            return PmReply.error(400, INVALID_ORDER_PAYLOAD)
        if not is_order_id(body["orderID"]):
            return PmReply.error(400, INVALID_ORDER_ID)
        return self._cancel_ids([body["orderID"]], creds, poly_address)

    def cancel_many(self, body: Any, creds: Creds, poly_address: str) -> PmReply:
        if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
            return PmReply.error(400, INVALID_ORDER_PAYLOAD)
        if len(body) > MAX_BATCH_CANCELS:
            return PmReply.error(400, Texts.too_many_cancels())
        return self._cancel_ids(list(dict.fromkeys(body)), creds, poly_address)

    def cancel_all(self, creds: Creds, poly_address: str) -> PmReply:
        ids = [o.order_id for o in self._live(creds)]
        return self._cancel_ids(ids, creds, poly_address, cost=1 + len(ids))

    def cancel_market(self, body: Any, creds: Creds, poly_address: str) -> PmReply:
        if not isinstance(body, dict):
            return PmReply.error(400, INVALID_PAYLOAD)
        market, asset = body.get("market") or "", body.get("asset_id") or ""
        if not market and not asset:
            return PmReply.error(400, INVALID_PAYLOAD)
        ids = [
            o.order_id
            for o in self._live(creds)
            if (not market or market == self.condition_id)
            and (not asset or asset == o.token.token_id)
        ]
        return self._cancel_ids(ids, creds, poly_address, cost=1 + len(ids))

    def _live(self, creds: Creds) -> list[PmOrder]:
        """The open orders of the address these credentials belong to."""
        return [
            o for o in self.orders.values() if o.status == "LIVE" and o.placed_by == creds.address
        ]

    def _cancel_ids(
        self, ids: list[str], creds: Creds, poly_address: str, cost: int | None = None
    ) -> PmReply:
        refusal, headers = self._cancel_guard(poly_address, len(ids) if cost is None else cost)
        if refusal is not None:
            return refusal
        canceled: list[str] = []
        not_canceled: dict[str, str] = {}
        commands: list[Command] = []
        for order_id in ids:
            order = self.orders.get(order_id)
            if order is None or order.status == "CANCELED" or order.placed_by != creds.address:
                not_canceled[order_id] = NOT_FOUND_OR_CANCELED
            elif order.status == "MATCHED":
                not_canceled[order_id] = ALREADY_MATCHED_LOWER
            else:
                commands.append(Cancel(order.order_id, order.engine_oid))
        if commands:
            for answer in self._execute(commands):
                if isinstance(answer, CancelAck) and answer.cloid is not None:
                    canceled.append(answer.cloid)
        for command in commands:
            assert isinstance(command, Cancel) and command.cloid is not None
            if command.cloid not in canceled:
                order = self.orders[command.cloid]
                gone = ALREADY_MATCHED_LOWER if order.status == "MATCHED" else NOT_FOUND_OR_CANCELED
                not_canceled[command.cloid] = gone
        return PmReply.json({"canceled": canceled, "not_canceled": not_canceled}, headers=headers)

    # ---- GTD expiry ----------------------------------------------------------------------

    def _expiry_timer(self, now: float) -> float | None:
        """GTD orders leave the book a minute before their ``expiration`` (reference 1)."""
        due: float | None = None
        epoch = self.epoch(now)
        expired: list[Command] = []
        for order_id in list(self.gtd):
            order = self.orders[order_id]
            if order.status != "LIVE":
                self.gtd.discard(order_id)
                continue
            ends = int(order.expiration) - 60
            if ends <= epoch:
                expired.append(Cancel(order.order_id, order.engine_oid))
            else:
                at = now + (ends - epoch)
                due = at if due is None else min(due, at)
        if expired:
            self._execute(expired)
        return due
