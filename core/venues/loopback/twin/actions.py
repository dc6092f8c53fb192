"""``POST /exchange`` of the loopback twin (and WebSocket ``post`` requests of type ``action``).

A request is first charged IP weight (REST; over it is HTTP 429) or refused during a 429 storm
(WebSocket); its body is parsed strictly (``ExchangeRequest``; every cloid 16 bytes of hex; a
refusal is HTTP 422); an expired action is refused; its signer is recovered and must be the
account or one of its agents; its nonce is used (the 100 highest kept per signer); the
address's request budget is charged.  Only then does the embedded engine carry out the action:
``order``, ``cancel``, ``cancelByCloid`` and ``batchModify`` answered per item,
``scheduleCancel`` (arms the dead man's switch that ``base`` fires), ``updateLeverage`` and
``noop``.  The twin's fault plan may delay the answer or lose it (``Outcome.lost``).  A room of
its own because it is the write side, where the connector's signing and nonces are proved.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from core.commands import Cancel, Modify, Place, SetLeverage, TimeInForce
from core.events import (
    AckStatus,
    CancelAck,
    CancelRejected,
    Event,
    ModifyAck,
    ModifyRejected,
    PlaceAck,
    PlaceRejected,
    Side,
)
from core.units import Rounding, UnitError, wire
from core.venues.hyperliquid.budget import exchange_weight
from core.venues.hyperliquid.errors import (
    ACTION_EXPIRED,
    DESERIALIZE,
    NOT_PROCESSED,
    SCHEDULE_TOO_MANY,
    SCHEDULE_TOO_SOON,
    TOO_MANY_REQUESTS,
    Texts,
)
from core.venues.hyperliquid.mapping import side_from_is_buy
from core.venues.hyperliquid.nonces import epoch_ms
from core.venues.hyperliquid.signing import recover_signer
from core.venues.hyperliquid.wire import (
    BatchModifyAction,
    CancelAction,
    CancelByCloidAction,
    ErrorStatus,
    ExchangeAnswer,
    ExchangeRequest,
    FilledInfo,
    FilledStatus,
    ItemStatus,
    NoopAction,
    OkBody,
    OrderAction,
    OrderWire,
    RestingInfo,
    RestingStatus,
    ScheduleCancelAction,
    StatusesData,
    UpdateLeverageAction,
    action_dict,
)
from core.venues.loopback.twin.base import TwinBase
from core.venues.loopback.twin.common import CLOID

_KEEP_NONCES = 100
PRICE_BAND = Decimal("0.8")  # an order further than this from the reference price is refused
PRICE_BAND_TEXT = "Order price cannot be more than 80% away from the reference price"
SWITCH_WITH_POSITION = "Cannot switch leverage type with open position."
EMPTY_BATCH = "Empty batch: no orders."
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an ``/exchange`` request produced: 200 + answer, 422/429 + text, or lost."""

    status: int
    payload: ExchangeAnswer | str | None = None
    lost: bool = False


class _BadRequest(Exception):
    """A body the venue's parser would refuse: HTTP 422."""


_ACTION = TypeAdapter(ExchangeRequest)
_NOT_PROCESSED = ErrorStatus(error=NOT_PROCESSED)


class Actions(TwinBase):
    """The twin's ``/exchange`` room: one signed action, checked and carried out."""

    async def _exchange_request(self, body: Any, *, via_ws: bool) -> Outcome:
        items = _item_count(body)
        if not via_ws and not self._charge_ip(exchange_weight(items)):
            return Outcome(429, "null")
        if via_ws and self.fault_state.storming(self._clock.now()):
            self.fault_state.counts["http_429"] += 1
            return Outcome(429, f"429 {TOO_MANY_REQUESTS}")
        try:
            request = _ACTION.validate_python(body)
        except ValidationError as exc:
            return Outcome(422, f"{DESERIALIZE}{_first_error(exc)}")
        try:
            answer = self._act(request, items)
        except _BadRequest as exc:
            return Outcome(422, f"{DESERIALIZE}{exc}")
        faults = self.fault_state
        if faults.drop_answer():
            return Outcome(200, lost=True)
        if self.faults.answer_delay_s:
            faults.counts["answers_delayed"] += 1
            await asyncio.sleep(self.faults.answer_delay_s)
        return Outcome(200, answer)

    def _act(self, request: ExchangeRequest, items: int) -> ExchangeAnswer:
        _check_cloids(request.action)  # a parse error: before the signature and the nonce
        action = action_dict(request.action)
        now_ms = epoch_ms()
        if request.expiresAfter is not None and request.expiresAfter < now_ms:
            return _err(ACTION_EXPIRED)
        signature = request.signature.model_dump()
        try:
            signer = recover_signer(
                action,
                signature,
                request.nonce,
                request.vaultAddress,
                request.expiresAfter,
                is_mainnet=self.is_mainnet,
            )
        except Exception:  # an unrecoverable signature: no address at all
            self.fault_state.counts["bad_signatures"] += 1
            return _err(Texts.unknown_signer("0x" + "0" * 40))
        if signer.lower() not in self.signers:
            self.fault_state.counts["bad_signatures"] += 1
            return _err(Texts.unknown_signer(signer))
        problem = self._use_nonce(signer.lower(), request.nonce, now_ms)
        if problem is not None:
            self.fault_state.counts["bad_nonces"] += 1
            return _err(problem)
        if request.vaultAddress is not None:
            # This twin hosts one account and no vault or sub-account: an action for one must
            # not land on the account (it did), it is refused as the venue refuses an unknown one.
            return _err(f"Vault not registered: {request.vaultAddress.lower()}")
        act = request.action
        batch = isinstance(
            act, OrderAction | CancelAction | CancelByCloidAction | BatchModifyAction
        )
        if batch and not items:
            # Pre-validation: one top-level error for the batch (the venue's exact text for an
            # empty batch is not in any source read; the shape is what clients meet).
            return _err(EMPTY_BATCH)
        cancels = isinstance(act, CancelAction | CancelByCloidAction)
        if items:
            self._requests_used += items
            cap = self._request_cap(cancels=cancels)
            if self._requests_used > cap:
                self.fault_state.counts["address_limited"] += 1
                volume = str(self._volume.quantize(Decimal("0.01")))
                return _err(Texts.address_limited(self._requests_used, cap, volume))
        if isinstance(act, OrderAction):
            return _statuses("order", self._place_all(act.orders))
        if isinstance(act, CancelAction):
            return _statuses(
                "cancel",
                self._cancel_all_items(
                    [Cancel(None, c.o) for c in act.cancels], [c.a for c in act.cancels]
                ),
            )
        if isinstance(act, CancelByCloidAction):
            return _statuses(
                "cancel",
                self._cancel_all_items(
                    [Cancel(c.cloid.lower(), None) for c in act.cancels],
                    [c.asset for c in act.cancels],
                ),
            )
        if isinstance(act, BatchModifyAction):
            return _statuses("order", self._modify_all(act))
        if isinstance(act, ScheduleCancelAction):
            return self._schedule_cancel(act.time, now_ms)
        if isinstance(act, UpdateLeverageAction):
            return self._update_leverage(act)
        if isinstance(act, NoopAction):
            return _default()
        raise _BadRequest(f"unsupported action {act.type}")

    def _use_nonce(self, signer: str, nonce: int, now_ms: int) -> str | None:
        if not now_ms - 2 * _DAY_MS < nonce < now_ms + _DAY_MS:
            return Texts.nonce_outside_window(nonce)
        kept = self._nonces.setdefault(signer, [])
        if nonce in kept:
            return Texts.nonce_duplicate(nonce)
        if len(kept) >= _KEEP_NONCES and nonce < kept[0]:
            return Texts.nonce_too_low(nonce, kept[0])
        kept.append(nonce)
        kept.sort()
        if len(kept) > _KEEP_NONCES:
            del kept[0]
        return None

    def _order_fields(self, order: OrderWire) -> tuple[str, Side, int, int, TimeInForce] | str:
        """(engine key, side, ticks, lots, tif) or the per-order error text."""
        if order.a != self.asset:
            return Texts.invalid_order_asset(order.a)
        try:
            ticks = self.instrument.price_to_ticks(order.p, Rounding.EXACT)
        except UnitError:
            return self._texts.off_tick
        mid = self._mid()
        if mid is not None and abs(Decimal(order.p) - Decimal(mid)) > PRICE_BAND * Decimal(mid):
            return PRICE_BAND_TEXT
        if not order.r and self._past_tier(side_from_is_buy(order.b), ticks, order.s):
            return self._texts.max_position
        try:
            lots = self.instrument.size_to_lots(order.s, Rounding.EXACT)
        except UnitError:
            return self._texts.invalid_size
        if order.c is not None:
            key = order.c.lower()
        else:
            self._synthetic += 1
            key = f"twin-{self._synthetic}"
        side = side_from_is_buy(order.b)
        return key, side, ticks, lots, TimeInForce(order.t.limit.tif)

    def _past_tier(self, side: Side, ticks: int, size: str) -> bool:
        """The position this order could make would pass the margin tier's limit at the
        account's leverage (issue 19): the venue refuses it before it rests."""
        cap = self.instrument.tier_cap_value(self.exchange.leverage)
        if cap is None:
            return False
        try:
            lots = self.instrument.size_to_lots(size, Rounding.EXACT)
        except UnitError:
            return False  # the size check answers this one
        after = self._position + side.sign * lots
        return abs(after) > abs(self._position) and abs(after) * ticks > cap

    def _place_all(self, orders: list[OrderWire]) -> list[ItemStatus]:
        items: list[ItemStatus] = [_NOT_PROCESSED] * len(orders)
        places: list[tuple[int, Place]] = []
        for i, order in enumerate(orders):
            fields = self._order_fields(order)
            if isinstance(fields, str):
                items[i] = ErrorStatus(error=fields)
                continue
            key, side, ticks, lots, tif = fields
            self._pending[key] = (order.c, side, ticks, lots, tif.value)
            places.append((i, Place(key, side, ticks, lots, tif, order.r)))
        if places:
            answers = self._execute([p for _, p in places])
            by_key = {a.cloid: a for a in answers if isinstance(a, PlaceAck | PlaceRejected)}
            for i, place in places:
                items[i] = self._placement_status(by_key.get(place.cloid), orders[i].c)
        return items

    def _placement_status(self, answer: Event | None, cloid: str | None) -> ItemStatus:
        echo = {"cloid": cloid} if cloid is not None else {}
        if isinstance(answer, PlaceAck | ModifyAck):
            if answer.status is AckStatus.RESTING:
                return RestingStatus(resting=RestingInfo(oid=answer.oid, **echo))
            inst = self.instrument
            avg = inst.value_to_decimal(answer.filled_value) / inst.lots_to_size(answer.filled)
            filled = FilledInfo(
                totalSz=self._tr.size_text(answer.filled),
                avgPx=wire(avg.quantize(Decimal(1).scaleb(-8))),
                oid=answer.oid,
                **echo,
            )
            return FilledStatus(filled=filled)
        if isinstance(answer, PlaceRejected | ModifyRejected):
            return ErrorStatus(error=answer.reason)
        return _NOT_PROCESSED

    def _cancel_all_items(self, cancels: list[Cancel], assets: list[int]) -> list[ItemStatus]:
        items: list[ItemStatus] = [_NOT_PROCESSED] * len(cancels)
        todo = [(i, c) for i, c in enumerate(cancels) if assets[i] == self.asset]
        for i, _ in enumerate(cancels):
            if assets[i] != self.asset:
                items[i] = ErrorStatus(error=Texts.order_gone(assets[i]))
        if todo:
            answers = [
                a
                for a in self._execute([c for _, c in todo])
                if isinstance(a, CancelAck | CancelRejected)
            ]
            for (i, _), answer in zip(todo, answers, strict=False):
                items[i] = (
                    "success" if isinstance(answer, CancelAck) else ErrorStatus(error=answer.reason)
                )
        return items

    def _modify_all(self, action: BatchModifyAction) -> list[ItemStatus]:
        items: list[ItemStatus] = [_NOT_PROCESSED] * len(action.modifies)
        modifies: list[tuple[int, Modify]] = []
        for i, mod in enumerate(action.modifies):
            target = mod.oid if isinstance(mod.oid, int) else self._key_to_oid.get(mod.oid.lower())
            order = self._orders.get(target) if target is not None else None
            fields = self._order_fields(mod.order)
            if isinstance(fields, str):
                items[i] = ErrorStatus(error=fields)
                continue
            if target is None or order is None:
                items[i] = ErrorStatus(error=self._texts.modify_gone)
                continue
            key, side, ticks, lots, tif = fields
            self._pending[key] = (mod.order.c, side, ticks, lots, tif.value)
            modifies.append(
                (i, Modify(order.key, target, key, side, ticks, lots, tif, mod.order.r))
            )
        if modifies:
            answers = self._execute([m for _, m in modifies])
            by_new = {a.new_cloid: a for a in answers if isinstance(a, ModifyAck | ModifyRejected)}
            for i, mod_cmd in modifies:
                items[i] = self._placement_status(
                    by_new.get(mod_cmd.new_cloid), action.modifies[i].order.c
                )
        return items

    def _schedule_cancel(self, when: int | None, now_ms: int) -> ExchangeAnswer:
        if self._volume < self.faults.dead_man_min_volume:
            return _err(Texts.schedule_volume_gate(str(self._volume.quantize(Decimal("0.01")))))
        if when is None:
            self._dead_man_at = None
            return _default()
        if when < now_ms + 5000:
            return _err(SCHEDULE_TOO_SOON)
        if self._dead_man_fired >= 10:
            return _err(SCHEDULE_TOO_MANY)
        self._dead_man_at = when
        self._clock_driver.wake()
        return _default()

    def _update_leverage(self, action: UpdateLeverageAction) -> ExchangeAnswer:
        if action.asset != self.asset:
            return _err(Texts.invalid_asset(action.asset))
        cap = self.instrument.max_leverage
        if action.leverage > cap:
            return _err(Texts.leverage_above_cap(action.leverage, cap))
        if action.leverage < 1:
            return _err(Texts.invalid_leverage(action.leverage))
        if action.isCross != self._cross and self._position != 0:
            return _err(SWITCH_WITH_POSITION)
        self._cross = action.isCross
        self._execute([SetLeverage(action.leverage)])
        return _default()


def _check_cloids(action: Any) -> None:
    """The venue parses every cloid as 16 bytes of hex: anything else is HTTP 422."""
    if isinstance(action, OrderAction):
        cloids = [o.c for o in action.orders]
    elif isinstance(action, BatchModifyAction):
        cloids = [m.order.c for m in action.modifies]
        cloids += [m.oid for m in action.modifies if isinstance(m.oid, str)]
    elif isinstance(action, CancelByCloidAction):
        cloids = [c.cloid for c in action.cancels]
    else:
        return
    for cloid in cloids:
        if cloid is not None and not CLOID.fullmatch(cloid):
            raise _BadRequest(f"invalid cloid {cloid!r}: expected 0x and 32 hex digits")


def _item_count(body: Any) -> int:
    """How many orders/cancels an action carries (for weights and the address budget)."""
    if not isinstance(body, dict) or not isinstance(body.get("action"), dict):
        return 0
    action = body["action"]
    for key in ("orders", "cancels", "modifies"):
        items = action.get(key)
        if isinstance(items, list):
            return len(items)
    return 1


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def _err(text: str) -> ExchangeAnswer:
    return ExchangeAnswer(status="err", response=text)


def _default() -> ExchangeAnswer:
    return ExchangeAnswer(status="ok", response=OkBody(type="default"))


def _statuses(kind: str, items: list[ItemStatus]) -> ExchangeAnswer:
    data = StatusesData(statuses=items)
    return ExchangeAnswer(status="ok", response=OkBody(type=kind, data=data))
