"""``POST /info`` of the loopback twin (and WebSocket ``post`` requests of type ``info``).

``_info`` answers ``meta``, ``metaAndAssetCtxs``, ``spotMeta`` (the collateral token, no spot
market), ``spotMetaAndAssetCtxs``, ``spotClearinghouseState``, ``l2Book``, ``allMids``,
``openOrders`` / ``frontendOpenOrders``, ``clearinghouseState``, ``userFills`` /
``userFillsByTime``, ``orderStatus`` and ``userRateLimit`` with the connector's wire models, the
way Hyperliquid does: another user's account reads as empty, an unknown type is HTTP 422, a REST
query over the IP's weight is 429, a WebSocket one during a storm too. A room of its own because
it is the read side: it asks the exchange (``clearinghouseState`` through a ``SyncState``) and
refreshes what the order registry knows, but places, cancels and fills nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.commands import SyncState
from core.events import PositionSnapshot, VenueStatus
from core.units import wire
from core.venues.hyperliquid import statuses
from core.venues.hyperliquid.budget import info_weight
from core.venues.hyperliquid.errors import DESERIALIZE, TOO_MANY_REQUESTS
from core.venues.hyperliquid.nonces import epoch_ms
from core.venues.hyperliquid.wire import (
    AssetMeta,
    AssetPosition,
    ClearinghouseState,
    CumFunding,
    LeverageWire,
    MarginSummary,
    MarginTable,
    MarginTier,
    Meta,
    OpenOrder,
    OrderStatusAnswer,
    OrderStatusEntry,
    PositionWire,
    UserFunding,
    UserRateLimit,
)
from core.venues.loopback.twin.base import TwinBase
from core.venues.loopback.twin.common import CLOID, ZERO, Order

_MAX_FILLS_RETURNED = 2000


class Info(TwinBase):
    """The twin's ``/info`` room: one query, answered with the connector's wire models."""

    def _info(self, body: Any, *, via_ws: bool) -> tuple[int, Any]:
        """(200, the answer: models, or lists of them) or (422/429, the text)."""
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return 422, f"{DESERIALIZE}missing field `type`"
        kind = body["type"]
        user = str(body.get("user", "")).lower()
        ours = user == self.account
        if via_ws and self.fault_state.storming(self._clock.now()):
            self.fault_state.counts["http_429"] += 1  # a storm refuses WebSocket posts too
            return 429, TOO_MANY_REQUESTS
        if kind == "meta":
            answer: Any = self._meta()
        elif kind == "spotMeta":
            answer = _spot_meta()
        elif kind == "spotMetaAndAssetCtxs":
            answer = [_spot_meta(), []]
        elif kind == "spotClearinghouseState":
            answer = {"balances": []}  # this twin trades perpetuals only
        elif kind == "metaAndAssetCtxs":
            answer = [self._meta(), [self._asset_ctx(i) for i in range(self.asset + 1)]]
        elif kind == "l2Book":
            answer = self._book_json()
        elif kind == "allMids":
            mid = self._mid()
            answer = {self.coin: mid} if mid is not None else {}
        elif kind in ("openOrders", "frontendOpenOrders"):
            answer = self._open_orders(frontend=kind == "frontendOpenOrders") if ours else []
        elif kind == "clearinghouseState":
            answer = self._clearinghouse() if ours else _empty_clearinghouse()
        elif kind == "userFills":
            answer = list(reversed(self._fills))[:_MAX_FILLS_RETURNED] if ours else []
        elif kind == "userFillsByTime":
            start, end = body.get("startTime"), body.get("endTime")
            if not isinstance(start, int):
                return 422, f"{DESERIALIZE}startTime must be an integer"
            rows = (
                [
                    f
                    for f in self._fills
                    if f.time >= start and (not isinstance(end, int) or f.time <= end)
                ]
                if ours
                else []
            )
            answer = rows[:_MAX_FILLS_RETURNED]
        elif kind == "userFunding":
            start, end = body.get("startTime"), body.get("endTime")
            if not isinstance(start, int):
                return 422, f"{DESERIALIZE}startTime must be an integer"
            answer = (
                [
                    _funding_delta(f)
                    for f in self._fundings
                    if f.time >= start and (not isinstance(end, int) or f.time <= end)
                ][:_MAX_FILLS_RETURNED]
                if ours
                else []
            )
        elif kind == "orderStatus":
            answer = (
                self._order_status(body.get("oid"))
                if ours
                else OrderStatusAnswer(status=statuses.UNKNOWN_OID)
            )
        elif kind == "userRateLimit":
            answer = UserRateLimit(
                cumVlm=wire(self._volume),
                nRequestsUsed=self._requests_used if ours else 0,
                nRequestsCap=self._request_cap(cancels=False),
            )
        else:
            return 422, f"{DESERIALIZE}unknown variant `{kind}`"
        items = len(answer) if isinstance(answer, list) else 0
        if not via_ws and not self._charge_ip(info_weight(kind, items)):
            return 429, "null"
        return 200, answer

    def _meta(self) -> Meta:
        """Our coin at index ``asset`` (its asset id); delisted fillers before it."""
        universe = [
            AssetMeta(name=f"OLD{i}", szDecimals=2, maxLeverage=3, isDelisted=True)
            for i in range(self.asset)
        ]
        tiers = self.instrument.margin_tiers
        table_id = 50 if tiers else None
        universe.append(
            AssetMeta(
                name=self.coin,
                szDecimals=self.instrument.sz_decimals,
                maxLeverage=self.instrument.max_leverage,
                **({"marginTableId": table_id} if table_id is not None else {}),
            )
        )
        tables = (
            [
                (
                    table_id,
                    MarginTable(
                        description=f"tiered {self.coin}",
                        marginTiers=[
                            MarginTier(lowerBound=wire(bound), maxLeverage=leverage)
                            for bound, leverage in tiers
                        ],
                    ),
                )
            ]
            if table_id is not None
            else []
        )
        return Meta(universe=universe, marginTables=tables, collateralToken=0)

    def _open_orders(self, *, frontend: bool) -> list[OpenOrder]:
        rows: list[OpenOrder] = []
        for vo in self.exchange.open_orders():
            order = self._orders.get(vo.oid)
            if order is None:
                order = Order(
                    vo.oid, vo.cloid or "", vo.cloid, vo.side, vo.price, vo.orig_size, epoch_ms()
                )
                self._orders[vo.oid] = order
            order.remaining = vo.size
            if frontend:
                row = self._order_row(
                    order,
                    orderType="Limit",
                    tif=order.tif,
                    reduceOnly=False,
                    isTrigger=False,
                    triggerPx=ZERO,
                    triggerCondition="N/A",
                    isPositionTpsl=False,
                    children=[],
                    cloid=order.cloid,
                )
            else:
                row = self._order_row(order)
            rows.append(row)
        return rows

    def _clearinghouse(self) -> ClearinghouseState:
        """The account as the venue reports it: the position at the mark (the mid), its
        unrealised PnL, the margin it uses at its leverage, the cross liquidation price, and
        the account value (collateral + closed PnL - fees + unrealised)."""
        snapshot = next(
            (
                e
                for e in self._execute([SyncState("clearinghouseState")])
                if isinstance(e, PositionSnapshot)
            ),
            None,
        )
        inst = self.instrument
        mid = self._mid()
        mark = Decimal(mid) if mid is not None else None
        value = self.account_value(mark)
        margin_used = ntl = maintenance = Decimal(0)
        positions: list[AssetPosition] = []
        lots = snapshot.position if snapshot is not None else 0
        if snapshot is not None and lots:
            size = inst.lots_to_size(abs(lots))
            signed = size if lots > 0 else -size
            entry = (
                self._entry
                if self._position == lots or snapshot.entry_value is None
                else inst.value_to_decimal(snapshot.entry_value) / size
            )
            at = mark if mark is not None else entry
            leverage = self.exchange.leverage
            ntl = size * at
            margin_used = ntl / leverage
            maintenance = ntl / (2 * inst.max_leverage)
            unrealized = (at - entry) * signed
            position = PositionWire(
                coin=self.coin,
                szi=self._tr.signed_size_text(lots),
                entryPx=_usd(entry),
                leverage=LeverageWire(
                    type="cross" if self._cross else "isolated", value=self.exchange.leverage
                ),
                liquidationPx=_liquidation_px(signed, entry, value - unrealized, inst.max_leverage),
                marginUsed=_usd(margin_used),
                maxLeverage=inst.max_leverage,
                positionValue=_usd(ntl),
                returnOnEquity=_usd(unrealized / (size * entry / leverage)),
                unrealizedPnl=_usd(unrealized),
                # Funding paid (received: negative), as the venue counts it.
                cumFunding=CumFunding(
                    allTime=wire(-self._funding),
                    sinceChange=wire(-self._funding_since_change),
                    sinceOpen=wire(-self._funding_since_open),
                ),
            )
            positions.append(AssetPosition(type="oneWay", position=position))
        signed_ntl = ntl if lots >= 0 else -ntl
        summary = MarginSummary(
            accountValue=_usd(value),
            totalMarginUsed=_usd(margin_used),
            totalNtlPos=_usd(ntl),
            totalRawUsd=_usd(value - signed_ntl),
        )
        return ClearinghouseState(
            assetPositions=positions,
            crossMaintenanceMarginUsed=_usd(maintenance),
            crossMarginSummary=summary,
            marginSummary=summary,
            withdrawable=_usd(max(value - margin_used, Decimal(0))),
            time=epoch_ms(),
        )

    def _order_status(self, key: Any) -> OrderStatusAnswer:
        oid: int | None = None
        cloid: str | None = None
        if isinstance(key, int) and not isinstance(key, bool):
            oid = key
        elif isinstance(key, str) and CLOID.fullmatch(key):
            cloid = key.lower()
            oid = self._key_to_oid.get(cloid)
        else:
            return OrderStatusAnswer(status=statuses.UNKNOWN_OID)
        report = self.exchange.order_status(oid, cloid)
        order = self._orders.get(report.oid) if report.oid is not None else None
        if report.status is VenueStatus.NOT_FOUND or order is None:
            return OrderStatusAnswer(status=statuses.UNKNOWN_OID)
        # Like the venue, ``sz`` of an order that is done is what it never filled (0 if filled).
        if report.status is VenueStatus.OPEN:
            order.remaining = report.remaining
        else:
            order.remaining = max(order.orig - report.filled, 0)
        row = self._order_row(order, orderType="Limit", reduceOnly=False, tif=order.tif)
        raw = report.raw_status
        if raw == statuses.CANCELED and order.status == statuses.SCHEDULED_CANCEL:
            raw = order.status  # the dead man's switch cancelled it: the venue says so
        entry = OrderStatusEntry(order=row, status=raw, statusTimestamp=order.status_ms)
        return OrderStatusAnswer(status="order", order=entry)


def _clearinghouse_state(positions: list[AssetPosition], equity: str) -> ClearinghouseState:
    summary = MarginSummary(
        accountValue=equity, totalMarginUsed=ZERO, totalNtlPos=ZERO, totalRawUsd=equity
    )
    return ClearinghouseState(
        assetPositions=positions,
        crossMaintenanceMarginUsed=ZERO,
        crossMarginSummary=summary,
        marginSummary=summary,
        withdrawable=equity,
        time=epoch_ms(),
    )


def _usd(amount: Decimal) -> str:
    return wire(amount.quantize(Decimal("0.000001")))


def _liquidation_px(
    signed: Decimal, entry: Decimal, cash: Decimal, max_leverage: int
) -> str | None:
    """Cross margin: the mark at which the account value falls to the maintenance margin
    (half the initial margin at the asset's maximum leverage): ``cash + s (p - e) = m |s| p``.
    None when no positive price liquidates (the account could carry the position to zero)."""
    m = Decimal(1) / (2 * max_leverage)
    price = (signed * entry - cash) / (signed - m * abs(signed))
    return _usd(price) if price > 0 else None


def _spot_meta() -> dict[str, Any]:
    """No spot market here, only the collateral token: what the official SDK's default
    ``Info(url)`` and ``Exchange(wallet, url)`` read before anything else (they failed on a
    422 and, with the SDK's WebSocket thread running, hung the process)."""
    usdc = {
        "name": "USDC",
        "szDecimals": 8,
        "weiDecimals": 8,
        "index": 0,
        "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
        "isCanonical": True,
        "evmContract": None,
        "fullName": None,
    }
    return {"universe": [], "tokens": [usdc]}


def _empty_clearinghouse() -> ClearinghouseState:
    return _clearinghouse_state([], ZERO)


def _funding_delta(row: UserFunding) -> dict[str, Any]:
    """A payment as ``userFunding`` answers it: the ledger's shape (``delta`` of type
    ``funding``), not the stream's row."""
    return {
        "time": row.time,
        "hash": "0x" + "0" * 64,
        "delta": {
            "type": "funding",
            "coin": row.coin,
            "usdc": row.usdc,
            "szi": row.szi,
            "fundingRate": row.fundingRate,
            "nSamples": row.nSamples,
        },
    }
