"""Signing Hyperliquid L1 actions with the official SDK's helpers, off the event loop.

Every action we send (order, cancel, batchModify, scheduleCancel, updateLeverage, noop) is an L1
action: the SDK's ``sign_l1_action`` hashes the msgpack of the action with the nonce, the vault
tag and the optional expiry, wraps the hash in the EIP-712 "phantom agent" and signs it with
secp256k1 (reference 4.1).  Mainnet signs with source ``"a"``, everything else (testnet, the
loopback twin) with ``"b"``.  A whole batch is one action, so one signature.

Signing costs about 1 ms with eth-keys' coincurve backend and about 13 ms with its pure-Python
fallback; ``ecdsa_backend`` says which one is in use so that start-up can report it.  A
``Signer`` signs in its own worker thread (``signed``), so cancels, the WebSocket reader and the
screen never wait behind a signature; the nonce is drawn in that thread right before signing,
so nonces are handed out in the order actions are signed.

The private key stays inside the SDK's wallet object held by the signer: never logged, never in
a repr, never in an exception.  ``recover_signer`` is the verifying side, used by the loopback
twin.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from eth_account import Account
from hyperliquid.utils import signing as sdk

from core.venues.hyperliquid.nonces import NonceSource
from core.venues.keys import PrivateKey, abbreviate

JsonDict = dict[str, Any]


def ecdsa_backend() -> str:
    """The ECDSA backend eth-keys signs with: ``"coincurve"`` or ``"pure-python"``."""
    from eth_keys.backends import get_backend

    name = type(get_backend()).__name__
    return "coincurve" if "CoinCurve" in name else "pure-python"


def action_hash(
    action: JsonDict, nonce: int, vault_address: str | None, expires_after: int | None
) -> bytes:
    """The connectionId the phantom agent carries (msgpack ‖ nonce ‖ vault tag ‖ expiry)."""
    return cast(bytes, sdk.action_hash(action, vault_address, nonce, expires_after))


class Signer:
    """One signing key, its nonce source and its signing thread."""

    def __init__(
        self,
        key: PrivateKey,
        *,
        is_mainnet: bool,
        vault_address: str | None = None,
        nonces: NonceSource | None = None,
    ) -> None:
        self._wallet = Account.from_key(key.reveal())
        self.address: str = self._wallet.address
        self.is_mainnet = is_mainnet
        self.vault_address = vault_address.lower() if vault_address else None
        self.nonces = nonces if nonces is not None else NonceSource()
        self._executor: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        network = "mainnet" if self.is_mainnet else "testnet"
        return f"Signer(address={abbreviate(self.address)}, network={network})"

    def sign(self, action: JsonDict, nonce: int, expires_after: int | None = None) -> JsonDict:
        """``{"r": hex, "s": hex, "v": 27|28}`` for ``action`` at ``nonce`` (blocking)."""
        signature = sdk.sign_l1_action(
            self._wallet, action, self.vault_address, nonce, expires_after, self.is_mainnet
        )
        return cast(JsonDict, signature)

    def envelope(self, action: JsonDict, expires_after: int | None = None) -> JsonDict:
        """The ``/exchange`` body: a fresh nonce, the signature, the vault, and the time (epoch
        ms) after which the venue refuses the action instead of executing it (blocking)."""
        nonce = self.nonces.next()
        return {
            "action": action,
            "nonce": nonce,
            "signature": self.sign(action, nonce, expires_after),
            "vaultAddress": self.vault_address,
            "expiresAfter": expires_after,
        }

    async def signed(self, action: JsonDict, expires_after: int | None = None) -> JsonDict:
        """``envelope`` in the signing thread; the event loop keeps running meanwhile."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl-sign")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.envelope, action, expires_after)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def recover_signer(
    action: JsonDict,
    signature: JsonDict,
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    *,
    is_mainnet: bool,
) -> str:
    """The address that signed ``action`` (checksummed).  A wrong signature does not fail: it
    recovers some other address, exactly as the venue does (reference 4.1)."""
    vrs = (int(signature["v"]), int(str(signature["r"]), 16), int(str(signature["s"]), 16))
    address = sdk.recover_agent_or_user_from_l1_action(
        action,
        {"v": vrs[0], "r": vrs[1], "s": vrs[2]},
        vault_address,
        nonce,
        expires_after,
        is_mainnet,
    )
    return cast(str, address)
