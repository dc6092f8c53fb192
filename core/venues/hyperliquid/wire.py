"""Hyperliquid's wire format as pydantic models: what we send, what comes back.

Requests (``/exchange`` actions and their envelope, ``/info`` bodies, WebSocket methods) are
declared with their keys in the venue's canonical order, because the msgpack of the action is
what gets signed (reference 4.1): ``action_dict`` dumps a model in that order and leaves unset
optional keys out.  Request fields are strict (an int is an int), as the venue's own parser is —
the loopback twin answers a mistyped body with 422, like the real one.

Answers are parsed leniently: unknown keys are ignored (the venue adds fields over time) and
optional keys may be missing or ``null``.  Prices and sizes stay decimal strings here; they are
converted to ticks and lots once, in ``mapping``, with the instrument from ``meta``.

The loopback twin writes its answers and WebSocket messages with these same models
(``answer_json``: the keys it set, in the model's order).  Keys the connector never reads are
declared ``Unread``: any value is accepted there, so the venue changing one can never make a
message unreadable, and the twin can still write them as the venue does.

This module only describes shapes.  It never converts units, never signs and never does I/O.

Why one module of about 490 lines: it is a catalogue of the venue's message shapes, one small
model each, read like the reference it follows; splitting it would only scatter the catalogue.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter

Tif = Literal["Alo", "Ioc", "Gtc"]
WireSide = Literal["B", "A"]
# What the venue's ids and millisecond times can be: whole, not negative, within 64 bits.  A
# negative trade id or a time no clock can show is a corrupt message, turned away here.
Id = Annotated[StrictInt, Field(ge=0, lt=2**63)]
Millis = Annotated[StrictInt, Field(ge=0, lt=2**63)]
# A key of an answer that the connector never reads: never checked (see the module's docstring).
Unread = Any


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# ---- /exchange actions (canonical key order: reference 4.1) ------------------------------


class Limit(_Request):
    tif: Tif


class LimitOrderType(_Request):
    limit: Limit


class OrderWire(_Request):
    a: StrictInt  # asset id
    b: StrictBool  # is buy
    p: StrictStr  # limit price, canonical decimal string
    s: StrictStr  # size, canonical decimal string
    r: StrictBool  # reduce only
    t: LimitOrderType
    c: StrictStr | None = None  # cloid: 0x + 32 hex


class OrderAction(_Request):
    type: Literal["order"] = "order"
    orders: list[OrderWire]
    grouping: Literal["na"] = "na"


class CancelWire(_Request):
    a: StrictInt
    o: StrictInt


class CancelAction(_Request):
    type: Literal["cancel"] = "cancel"
    cancels: list[CancelWire]


class CancelByCloidWire(_Request):
    asset: StrictInt
    cloid: StrictStr


class CancelByCloidAction(_Request):
    type: Literal["cancelByCloid"] = "cancelByCloid"
    cancels: list[CancelByCloidWire]


class ModifyWire(_Request):
    oid: StrictInt | StrictStr  # an oid, or a cloid string
    order: OrderWire


class BatchModifyAction(_Request):
    type: Literal["batchModify"] = "batchModify"
    modifies: list[ModifyWire]


class ScheduleCancelAction(_Request):
    type: Literal["scheduleCancel"] = "scheduleCancel"
    time: StrictInt | None = None  # absent: clear the dead man's switch


class UpdateLeverageAction(_Request):
    type: Literal["updateLeverage"] = "updateLeverage"
    asset: StrictInt
    isCross: StrictBool
    leverage: StrictInt


class NoopAction(_Request):
    type: Literal["noop"] = "noop"


Action = Annotated[
    OrderAction
    | CancelAction
    | CancelByCloidAction
    | BatchModifyAction
    | ScheduleCancelAction
    | UpdateLeverageAction
    | NoopAction,
    Field(discriminator="type"),
]


def action_dict(action: BaseModel) -> dict[str, Any]:
    """The action exactly as it is signed and sent: canonical key order, unset keys absent."""
    return action.model_dump(exclude_none=True)


_JSON: TypeAdapter[Any] = TypeAdapter(Any)


def answer_json(value: Any) -> Any:
    """An answer (a model, or lists and dicts holding models) as JSON values, the way the
    venue writes it: the keys that were set, in each model's order; ``None`` set is ``null``."""
    return _JSON.dump_python(value, mode="json", exclude_unset=True)


class Signature(_Request):
    r: StrictStr
    s: StrictStr
    v: StrictInt


class ExchangeRequest(_Request):
    """The ``/exchange`` envelope; ``vaultAddress``/``expiresAfter`` may be absent or null."""

    action: Action
    nonce: StrictInt
    signature: Signature
    vaultAddress: StrictStr | None = None
    expiresAfter: StrictInt | None = None


# ---- /info requests and WebSocket subscriptions ------------------------------------------


class MetaRequest(_Request):
    type: Literal["meta"] = "meta"


class UserInfoRequest(_Request):
    """An ``/info`` request about one account that needs nothing but the user."""

    type: Literal["openOrders", "clearinghouseState", "userRateLimit"]
    user: StrictStr


class OrderStatusRequest(_Request):
    """``oid``: the order's oid, or its cloid."""

    type: Literal["orderStatus"] = "orderStatus"
    user: StrictStr
    oid: StrictInt | StrictStr | None


class UserFillsByTimeRequest(_Request):
    type: Literal["userFillsByTime"] = "userFillsByTime"
    user: StrictStr
    startTime: StrictInt


InfoRequest = MetaRequest | UserInfoRequest | OrderStatusRequest | UserFillsByTimeRequest


class CoinSubscription(_Request):
    """A market's stream."""

    type: Literal["l2Book", "trades"]
    coin: StrictStr


class FastBookSubscription(_Request):
    """The book at the pace a quoting engine needs: 5 levels about every 0.5 s.  Without
    ``fast`` the venue pushes 20 levels at most every ~5 s (since 2026), as long as the stale
    market data limit: a quiet market would look dead."""

    type: Literal["l2Book"]
    coin: StrictStr
    fast: Literal[True]


class UserSubscription(_Request):
    """An account's stream."""

    type: Literal["orderUpdates", "userFills", "userEvents", "userFundings"]
    user: StrictStr


def request_dict(
    request: InfoRequest | CoinSubscription | FastBookSubscription | UserSubscription,
) -> dict[str, Any]:
    """An ``/info`` request or a subscription as it is sent: every key, in the model's order."""
    return request.model_dump()


# ---- /exchange answers -------------------------------------------------------------------


class RestingInfo(_Answer):
    oid: Id
    cloid: str | None = None


class FilledInfo(_Answer):
    totalSz: str
    avgPx: str
    oid: Id
    cloid: str | None = None


class RestingStatus(_Answer):
    resting: RestingInfo


class FilledStatus(_Answer):
    filled: FilledInfo


class ErrorStatus(_Answer):
    error: str


# A bare string ("success", "waitingForFill", ...) or one of the objects above.
ItemStatus = RestingStatus | FilledStatus | ErrorStatus | str


class StatusesData(_Answer):
    statuses: list[ItemStatus]


class OkBody(_Answer):
    type: str
    data: StatusesData | None = None


class ExchangeAnswer(_Answer):
    """``{"status":"ok","response":{...}}`` or ``{"status":"err","response":"<text>"}``."""

    status: Literal["ok", "err"]
    response: OkBody | str


# ---- /info answers -----------------------------------------------------------------------


class AssetMeta(_Answer):
    name: str
    szDecimals: int
    maxLeverage: int
    onlyIsolated: bool = False
    isDelisted: bool = False
    marginTableId: int | None = None


class MarginTier(_Answer):
    lowerBound: str  # USD notional from which ``maxLeverage`` applies
    maxLeverage: int


class MarginTable(_Answer):
    description: str = ""
    marginTiers: list[MarginTier]


class Meta(_Answer):
    universe: list[AssetMeta]
    marginTables: list[tuple[int, MarginTable]] | None = None
    collateralToken: Unread = None


class AssetCtx(_Answer):
    """One market's live context in ``metaAndAssetCtxs`` (the twin answers it; the connector
    never asks)."""

    dayNtlVlm: str
    funding: str
    impactPxs: list[str] | None
    markPx: str
    midPx: str | None
    openInterest: str
    oraclePx: str
    premium: str | None
    prevDayPx: str


class BookLevel(_Answer):
    px: str
    sz: str
    n: int = 1


class L2Book(_Answer):
    coin: str
    time: Millis
    levels: tuple[list[BookLevel], list[BookLevel]]


class OpenOrder(_Answer):
    """``openOrders`` rows and the ``order`` of ``orderUpdates``; ``sz`` is what still rests."""

    coin: str
    side: WireSide
    limitPx: str
    sz: str
    oid: Id
    timestamp: Millis
    origSz: str | None = None
    cloid: str | None = None
    # ``frontendOpenOrders`` and ``orderStatus`` say more about the order:
    orderType: Unread = None
    tif: Unread = None
    reduceOnly: bool | None = None
    isTrigger: Unread = None
    triggerPx: Unread = None
    triggerCondition: Unread = None
    isPositionTpsl: Unread = None
    children: Unread = None


class OrderRef(_Answer):
    """The least of an ``openOrders`` row that names an order: enough to cancel it (D25, D34)."""

    coin: str
    oid: Id
    cloid: str | None = None


class LeverageWire(_Answer):
    type: str
    value: int


class PositionWire(_Answer):
    coin: str
    szi: str
    entryPx: str | None = None
    leverage: LeverageWire | None = None
    liquidationPx: Unread = None
    marginUsed: Unread = None
    maxLeverage: int | None = None
    positionValue: Unread = None
    returnOnEquity: Unread = None
    unrealizedPnl: Unread = None
    cumFunding: Unread = None  # a CumFunding


class CumFunding(_Answer):
    """A position's ``cumFunding`` (the twin writes it; the connector does not read it)."""

    allTime: str
    sinceChange: str
    sinceOpen: str


class AssetPosition(_Answer):
    type: str = "oneWay"
    position: PositionWire


class MarginSummary(_Answer):
    """``marginSummary`` / ``crossMarginSummary`` (the twin writes them; the connector does
    not read them)."""

    accountValue: str
    totalMarginUsed: str
    totalNtlPos: str
    totalRawUsd: str


class ClearinghouseState(_Answer):
    assetPositions: list[AssetPosition]
    crossMaintenanceMarginUsed: Unread = None
    crossMarginSummary: Unread = None  # a MarginSummary
    marginSummary: Unread = None  # a MarginSummary
    withdrawable: str | None = None
    time: Millis | None = None


class FillLiquidation(_Answer):
    """The ``liquidation`` object of a fill: present only on liquidation fills; it names the
    liquidated user when the fill is the liquidator's side."""

    liquidatedUser: str | None = None
    markPx: str
    method: str


class UserFill(_Answer):
    coin: str
    px: str
    sz: str
    side: WireSide
    time: Millis
    startPosition: str = "0"
    dir: str = ""
    closedPnl: str = "0"
    hash: str = ""
    oid: Id
    crossed: StrictBool
    fee: str = "0"
    tid: Id
    feeToken: str = "USDC"
    cloid: str | None = None
    builderFee: str | None = None  # present only when non-zero
    liquidation: FillLiquidation | None = None
    twapId: int | None = None


class OrderStatusEntry(_Answer):
    order: OpenOrder
    status: str
    statusTimestamp: Millis


class OrderStatusAnswer(_Answer):
    """``{"status":"order","order":{...}}`` or ``{"status":"unknownOid"}``."""

    status: str
    order: OrderStatusEntry | None = None


class UserRateLimit(_Answer):
    cumVlm: str
    nRequestsUsed: int
    nRequestsCap: int


# ---- WebSocket -------------------------------------------------------------------------


class WsMessage(_Answer):
    channel: str
    data: Any = None


class WsTrade(_Answer):
    coin: str
    side: WireSide
    px: str
    sz: str
    hash: str = ""
    time: Millis
    tid: Id
    users: Unread = None  # [buyer, seller]


class WsUserFills(_Answer):
    """Channel ``userFills``; the ``fills`` rows are read one by one (``UserFill``, D34)."""

    user: str | None = None
    isSnapshot: bool | None = None
    fills: list[Any]


class UserFunding(_Answer):
    """One funding payment (``userFundings`` rows, the ``funding`` of channel ``user``):
    ``usdc`` is what the account received (negative: paid)."""

    time: Millis
    coin: str
    usdc: str
    szi: str | None = None
    fundingRate: str = ""
    nSamples: int | None = None


class WsUserFundings(_Answer):
    """Channel ``userFundings``: the first message after a subscribe is the recent history
    (``isSnapshot``); rows are read one by one (``UserFunding``, D34)."""

    user: str | None = None
    isSnapshot: bool | None = None
    fundings: list[Any]


class NonUserCancel(_Answer):
    coin: str
    oid: Id


class AccountLiquidation(_Answer):
    """``{"liquidation": {...}}`` on channel ``user``: a liquidation the account took part in,
    as liquidated user or as liquidator."""

    lid: int | None = None
    liquidator: str | None = None
    liquidated_user: str
    liquidated_ntl_pos: str | None = None
    liquidated_account_value: str | None = None


class WsUserEvent(_Answer):
    """Channel ``user`` (the ``userEvents`` subscription): one of these keys is set.  Its
    ``fills`` and ``funding`` are not read (they come on ``userFills`` and ``userFundings``
    too, with their replay); ``nonUserCancel``
    rows are read one by one (``NonUserCancel``, D34)."""

    fills: Unread = None
    nonUserCancel: list[Any] | None = None
    funding: Unread = None  # taken from userFundings, which replays what a reconnect missed
    liquidation: AccountLiquidation | None = None


class SubscriptionResponse(_Answer):
    """Channel ``subscriptionResponse``: a subscription acknowledged (the connector counts
    them)."""

    method: str
    subscription: dict[str, Any]


class InfoPayload(_Answer):
    """The ``payload`` of an ``info`` post answer: the request type and its ``/info`` answer."""

    type: Any = None
    data: Any = None


class PostResponse(_Answer):
    """``action``: the ``/exchange`` answer; ``info``: an ``InfoPayload``; ``error``: text."""

    type: Literal["action", "info", "error"]
    payload: Any = None


class PostData(_Answer):
    id: int
    response: PostResponse
