"""Polymarket's two layers of authentication, and the order signature, checked as the CLOB does.

* L1 (``POST /auth/api-key``, ``GET /auth/derive-api-key``): the ``ClobAuth`` EIP-712 message
  (domain ``ClobAuthDomain`` version 1, the chain id, no contract) signed by the wallet; its
  signer is recovered from ``POLY_SIGNATURE`` with ``POLY_ADDRESS``/``POLY_TIMESTAMP``/
  ``POLY_NONCE`` and must be ``POLY_ADDRESS``.  The credentials are derived from a server seed and
  (address, nonce), so they are the same every time, as the venue's are.
* L2 (every private endpoint): ``base64url(HMAC_SHA256(base64url_decode(secret),
  timestamp + METHOD + path + body))`` over the raw body as sent and the path without its query.
* Orders: the V2 ``Order`` struct hashed under the exchange's domain (``Polymarket CTF Exchange``
  version 2, the standard or neg-risk V2 exchange of the chain, from the official client's own
  ``config.py``) gives the order id; the signature must recover to the order's signer (types
  0-2), or, for a deposit wallet (type 3, ERC-7739), its inner signature to the owner.

Hashing and recovery are eth_account's; nothing here is a hand-rolled curve.  No I/O, no clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from py_clob_client_v2.config import get_contract_config

CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
EXCHANGE_NAME = "Polymarket CTF Exchange"
EXCHANGE_VERSION = "2"
ZERO32 = "0x" + "0" * 64

_ORDER_FIELDS = [
    {"name": "salt", "type": "uint256"},
    {"name": "maker", "type": "address"},
    {"name": "signer", "type": "address"},
    {"name": "tokenId", "type": "uint256"},
    {"name": "makerAmount", "type": "uint256"},
    {"name": "takerAmount", "type": "uint256"},
    {"name": "side", "type": "uint8"},
    {"name": "signatureType", "type": "uint8"},
    {"name": "timestamp", "type": "uint256"},
    {"name": "metadata", "type": "bytes32"},
    {"name": "builder", "type": "bytes32"},
]
_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_ORDER_TYPE = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"
)
_TYPED_DATA_SIGN = (
    "TypedDataSign(Order contents,string name,string version,uint256 chainId,"
    f"address verifyingContract,bytes32 salt){_ORDER_TYPE}"
)
_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
POLY_1271 = 3


class AuthError(Exception):
    """A request the venue refuses for its credentials or signature."""


@dataclass(frozen=True, slots=True)
class Creds:
    """One credential set: ``apiKey``/``secret``/``passphrase`` of ``address`` and ``nonce``."""

    api_key: str
    secret: str
    passphrase: str
    address: str  # lower case
    nonce: int

    def wire(self) -> dict[str, str]:
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


def derive_creds(seed: bytes, address: str, nonce: int) -> Creds:
    """The credentials of (address, nonce): the same for the same server seed, every time."""
    address = address.lower()
    material = hmac.new(seed, f"{address}:{nonce}".encode(), hashlib.sha256).digest()
    more = hmac.new(seed, material, hashlib.sha256).digest()
    return Creds(
        api_key=str(uuid.UUID(bytes=material[:16], version=4)),
        secret=base64.urlsafe_b64encode(more).decode(),
        passphrase=material[16:].hex(),
        address=address,
        nonce=nonce,
    )


def recover_l1(chain_id: int, address: str, timestamp: str, nonce: int, signature: str) -> str:
    """The address that signed a ``ClobAuth`` message (raises ``AuthError`` if none)."""
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "ClobAuth": [
                {"name": "address", "type": "address"},
                {"name": "timestamp", "type": "string"},
                {"name": "nonce", "type": "uint256"},
                {"name": "message", "type": "string"},
            ],
        },
        "primaryType": "ClobAuth",
        "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": chain_id},
        "message": {
            "address": address,
            "timestamp": timestamp,
            "nonce": nonce,
            "message": CLOB_AUTH_MESSAGE,
        },
    }
    try:
        return str(
            Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
        )
    except Exception as exc:  # any malformed address or signature: no signer at all
        raise AuthError(str(exc)) from None


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The L2 signature of one request, as the official client computes it."""
    message = f"{timestamp}{method}{path}".encode() + body
    digest = hmac.new(base64.urlsafe_b64decode(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def hmac_ok(
    creds: Creds, signature: str, timestamp: str, method: str, path: str, body: bytes
) -> bool:
    try:
        expected = hmac_signature(creds.secret, timestamp, method, path, body)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected.encode(), signature.encode())


def exchange_address(chain_id: int, neg_risk: bool) -> str:
    """The V2 exchange that verifies an order: the official client's address for the chain."""
    config = get_contract_config(chain_id)
    return str(config.neg_risk_exchange_v2 if neg_risk else config.exchange_v2)


def _bytes32(value: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("not 32 bytes")
    return raw


def order_message(order: dict[str, Any]) -> dict[str, Any]:
    """The signed fields of a wire order, typed (``ValueError`` when one does not parse)."""
    side = {"BUY": 0, "SELL": 1}.get(order["side"])
    if side is None:
        raise ValueError(f"side {order['side']!r}")
    return {
        "salt": int(order["salt"]),
        "maker": str(order["maker"]),
        "signer": str(order["signer"]),
        "tokenId": int(order["tokenId"]),
        "makerAmount": int(order["makerAmount"]),
        "takerAmount": int(order["takerAmount"]),
        "side": side,
        "signatureType": int(order["signatureType"]),
        "timestamp": int(order["timestamp"]),
        "metadata": _bytes32(order["metadata"]),
        "builder": _bytes32(order["builder"]),
    }


def order_digest(message: dict[str, Any], chain_id: int, neg_risk: bool) -> tuple[bytes, Any]:
    """(the EIP-712 digest = the order id, the signable message) of an order."""
    typed = {
        "primaryType": "Order",
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "Order": _ORDER_FIELDS},
        "domain": {
            "name": EXCHANGE_NAME,
            "version": EXCHANGE_VERSION,
            "chainId": chain_id,
            "verifyingContract": exchange_address(chain_id, neg_risk),
        },
        "message": message,
    }
    signable = encode_typed_data(full_message=typed)
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    return digest, signable


def order_signer(
    message: dict[str, Any], signature: str, chain_id: int, neg_risk: bool
) -> tuple[str, str]:
    """(order id, the address whose key signed it); ``AuthError`` when nothing recovers.

    For a deposit wallet (type 3) the address is the owner that signed the ERC-7739 wrapper,
    which must also carry this order's own contents hash and the exchange's domain."""
    digest, signable = order_digest(message, chain_id, neg_risk)
    order_id = "0x" + digest.hex()
    try:
        if message["signatureType"] != POLY_1271:
            return order_id, str(Account.recover_message(signable, signature=signature))
        return order_id, _recover_1271(message, signature, chain_id, neg_risk)
    except Exception as exc:
        raise AuthError(str(exc)) from None


def _recover_1271(message: dict[str, Any], signature: str, chain_id: int, neg_risk: bool) -> str:
    raw = bytes.fromhex(signature.removeprefix("0x"))
    inner, app_domain, contents = raw[:65], raw[65:97], raw[97:129]
    domain = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(text=_DOMAIN_TYPE),
                keccak(text=EXCHANGE_NAME),
                keccak(text=EXCHANGE_VERSION),
                chain_id,
                exchange_address(chain_id, neg_risk),
            ],
        )
    )
    fields = [keccak(text=_ORDER_TYPE)] + [message[f["name"]] for f in _ORDER_FIELDS]
    ours = keccak(abi_encode(["bytes32"] + [f["type"] for f in _ORDER_FIELDS], fields))
    if app_domain != domain or contents != ours:
        raise AuthError("the wrapper does not carry this order")
    wrapped = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "bytes32", "uint256", "address", "bytes32"],
            [
                keccak(text=_TYPED_DATA_SIGN),
                ours,
                keccak(text="DepositWallet"),
                keccak(text="1"),
                chain_id,
                message["signer"],
                bytes(32),
            ],
        )
    )
    digest = keccak(b"\x19\x01" + domain + wrapped)
    return str(Account._recover_hash(digest, signature=inner))
