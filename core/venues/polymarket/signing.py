"""Signing for Polymarket, with the official client's builders, off the event loop.

An order is the V2 ``Order`` struct (reference 3) signed under EIP-712 with the domain of the
standard or the neg-risk V2 exchange of the chain.  ``PmSigner`` builds it with
``py_clob_client_v2``'s ``ExchangeOrderBuilderV2`` (salt, timestamp, the typed data, the
signature -- ERC-7739-wrapped for a deposit wallet) and also takes its EIP-712 digest
(``build_order_hash``): that digest is the ``orderID`` the CLOB will answer with, so the
connector knows cloid <-> order id before the request leaves (D2).

Amounts are computed here exactly from integer ticks and lots (``order_amounts``): one tick x
one lot is one millionth of pUSD, the venue's base unit, so ``maker = lots x ticks`` and
``taker = lots x 10^4`` for a bid (the other way round for an ask), with no binary float in the
order path (D20).  The official client's float rounding (``OrderBuilder.get_order_amounts``)
gives the same integers for every price on the grid; the tests hold the two together.

Two worker threads, so that neither the loop nor a cancel waits behind a signature (D13):
``pm-sign`` for ECDSA (orders and L1 headers, about a millisecond each), ``pm-auth`` for the
L2 HMAC headers of every request (microseconds, but never queued behind a batch of 15 orders).
Timestamps are read in the thread right before signing.

The private key stays in the official ``Signer`` object held here (plain attribute, default
``repr``): it is never logged, never in a repr of ours (``PmSigner.__repr__`` shows the
address abbreviated), never in an exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.order_utils import (
    ExchangeOrderBuilderV2,
    OrderDataV2,
    Side,
    SignatureTypeV2,
    SignedOrderV2,
    generate_order_salt,
)
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from py_clob_client_v2.signer import Signer as OfficialSigner

from core.clock import unix_now
from core.events import Side as CoreSide
from core.venues.keys import PrivateKey, abbreviate
from core.venues.polymarket.auth import ApiCredentials, l1_headers, l2_headers

POLYGON = 137
AMOY = 80002
BYTES32_ZERO = "0x" + "0" * 64
# Base units (1e-6) of one lot (0.01 share).
UNITS_PER_LOT = 10_000

R = TypeVar("R")


def order_amounts(side: CoreSide, ticks: int, lots: int) -> tuple[int, int]:
    """``(makerAmount, takerAmount)`` in base units for ``lots`` at ``ticks`` (tick 0.0001,
    lot 0.01 share): a bid gives pUSD for shares, an ask shares for pUSD."""
    if ticks <= 0 or lots <= 0:
        raise ValueError("an order needs a price and a size above zero")
    value = ticks * lots  # pUSD base units: 1e-4 x 1e-2 = 1e-6
    shares = lots * UNITS_PER_LOT
    return (value, shares) if side is CoreSide.BID else (shares, value)


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """What to sign: one limit order on ``token_id`` (a decimal string)."""

    token_id: str
    side: CoreSide
    ticks: int
    lots: int
    neg_risk: bool
    expiration: int = 0  # unix seconds, GTD only; not signed (reference 3)


@dataclass(frozen=True, slots=True)
class SignedOrder:
    """A signed order and its EIP-712 digest (the venue's ``orderID``), lower-case hex."""

    order: SignedOrderV2
    order_id: str

    def body(self, owner: str, order_type: str, post_only: bool) -> dict[str, Any]:
        """One entry of ``POST /orders`` (the official ``order_to_json_v2``)."""
        body: dict[str, Any] = order_to_json_v2(self.order, owner, order_type, post_only, False)
        return body


class PmSigner:
    """One wallet, its signature type and funder, and its two threads."""

    def __init__(
        self,
        key: PrivateKey,
        *,
        chain_id: int = POLYGON,
        signature_type: int = int(SignatureTypeV2.EOA),
        funder: str | None = None,
        salts: Callable[[], int] | None = None,
        clock_ms: Callable[[], int] | None = None,
        clock_s: Callable[[], int] | None = None,
    ) -> None:
        self._official = OfficialSigner(key.reveal(), chain_id)
        self.chain_id = chain_id
        self.address: str = self._official.address()
        self.signature_type = SignatureTypeV2(signature_type)
        self.funder: str = funder if funder else self.address
        # The order's signer: the EOA, except a deposit wallet signs as itself (reference 2).
        self.order_signer = (
            self.funder if self.signature_type is SignatureTypeV2.POLY_1271 else self.address
        )
        contracts = get_contract_config(chain_id)
        salt_source = salts if salts is not None else _official_salt
        self._builders = {
            neg: ExchangeOrderBuilderV2(
                contracts.neg_risk_exchange_v2 if neg else contracts.exchange_v2,
                chain_id,
                self._official,
                generate_salt=lambda: str(salt_source()),
            )
            for neg in (False, True)
        }
        self._ms = clock_ms if clock_ms is not None else _now_ms
        self._s = clock_s if clock_s is not None else _now_s
        self._sign_pool: ThreadPoolExecutor | None = None
        self._auth_pool: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return (
            f"PmSigner(address={abbreviate(self.address)}, funder={abbreviate(self.funder)}, "
            f"type={self.signature_type.name}, chain={self.chain_id})"
        )

    # ---- blocking (call from a worker thread, or in tests) ------------------------------

    def sign_order(self, spec: OrderSpec) -> SignedOrder:
        """Build, sign and hash one order."""
        maker_amount, taker_amount = order_amounts(spec.side, spec.ticks, spec.lots)
        builder = self._builders[spec.neg_risk]
        data = OrderDataV2(
            maker=self.funder,
            tokenId=spec.token_id,
            makerAmount=str(maker_amount),
            takerAmount=str(taker_amount),
            side=Side.BUY if spec.side is CoreSide.BID else Side.SELL,
            signer=self.order_signer,
            signatureType=self.signature_type,
            timestamp=str(self._ms()),
            metadata=BYTES32_ZERO,
            builder=BYTES32_ZERO,
            expiration=str(spec.expiration),
        )
        order = builder.build_order(data)
        typed = builder.build_order_typed_data(order)
        signature = builder.build_order_signature(typed)
        digest = builder.build_order_hash(typed)
        fields = {name: getattr(order, name) for name in order.__dataclass_fields__}
        return SignedOrder(SignedOrderV2(**fields, signature=signature), digest.lower())

    def l1(self, nonce: int) -> dict[str, str]:
        return l1_headers(self._official, nonce, self._s())

    def l2(self, creds: ApiCredentials, method: str, path: str, body: str | None) -> dict[str, str]:
        return l2_headers(self.address, creds, method, path, body, self._s())

    # ---- in the threads -----------------------------------------------------------------

    async def sign_orders(self, specs: Sequence[OrderSpec]) -> list[SignedOrder]:
        """Every order of a batch, signed in ``pm-sign`` in one hop."""
        return await self._in_sign(lambda: [self.sign_order(s) for s in specs])

    async def l1_headers(self, nonce: int = 0) -> dict[str, str]:
        return await self._in_sign(lambda: self.l1(nonce))

    async def l2_headers(
        self, creds: ApiCredentials, method: str, path: str, body: str | None
    ) -> dict[str, str]:
        if self._auth_pool is None:
            self._auth_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pm-auth")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._auth_pool, lambda: self.l2(creds, method, path, body)
        )

    async def _in_sign(self, work: Callable[[], R]) -> R:
        if self._sign_pool is None:
            self._sign_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pm-sign")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._sign_pool, work)

    def close(self) -> None:
        for pool in (self._sign_pool, self._auth_pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self._sign_pool = self._auth_pool = None


def _official_salt() -> int:
    return int(generate_order_salt())


def _now_ms() -> int:
    return int(unix_now() * 1000)


def _now_s() -> int:
    return int(unix_now())
