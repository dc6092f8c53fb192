"""Polymarket's two layers of authentication, built by the official client's own functions.

* L1 -- the ``ClobAuth`` EIP-712 message signed by the wallet (``POLY_ADDRESS``,
  ``POLY_SIGNATURE``, ``POLY_TIMESTAMP``, ``POLY_NONCE``): only to create or derive the API
  credentials (``POST /auth/api-key``, ``GET /auth/derive-api-key``), reference 2.
* L2 -- ``POLY_SIGNATURE = base64url(HMAC_SHA256(secret, timestamp + METHOD + path + body))`` on
  every private request, with the API key and passphrase; ``path`` without its query, ``body``
  the exact text sent (``body_text``: compact JSON, as PY2 sends it).

The headers come from ``py_clob_client_v2.headers`` (``create_level_1_headers``,
``create_level_2_headers``), never from a re-implementation: the venue checks them byte for byte.
They are computed in worker threads by ``signing.PmSigner``, never on the event loop.

``ApiCredentials`` holds the secret and the passphrase: its ``repr`` shows the key abbreviated
and hides the rest, it refuses to be pickled, and no error message here includes any of them
(D21).  The WebSocket user channel needs the raw credentials in its subscribe frame
(``ws_auth``): that frame is sent and never logged.

No I/O and no clock: timestamps are passed in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from py_clob_client_v2.clob_types import ApiCreds, RequestArgs
from py_clob_client_v2.headers.headers import create_level_1_headers, create_level_2_headers

POLY_ADDRESS = "POLY_ADDRESS"
POLY_SIGNATURE = "POLY_SIGNATURE"
POLY_TIMESTAMP = "POLY_TIMESTAMP"
POLY_NONCE = "POLY_NONCE"
POLY_API_KEY = "POLY_API_KEY"
POLY_PASSPHRASE = "POLY_PASSPHRASE"


class CredentialsError(Exception):
    """The venue's answer did not carry usable API credentials (never says what it carried)."""


class ApiCredentials:
    """The L2 API credentials: a key (a uuid, shown abbreviated), a secret and a passphrase
    (never shown)."""

    __slots__ = ("_passphrase", "_secret", "api_key")

    def __init__(self, api_key: str, secret: str, passphrase: str) -> None:
        if not api_key or not secret or not passphrase:
            raise CredentialsError("API credentials need a key, a secret and a passphrase")
        self.api_key = api_key
        self._secret = secret
        self._passphrase = passphrase

    @classmethod
    def from_answer(cls, answer: object) -> ApiCredentials:
        """``{"apiKey", "secret", "passphrase"}`` as ``/auth/api-key`` answers."""
        if not isinstance(answer, dict):
            raise CredentialsError("the credentials answer is not an object")
        values = [answer.get(k) for k in ("apiKey", "secret", "passphrase")]
        if not all(isinstance(v, str) and v for v in values):
            raise CredentialsError("the credentials answer lacks apiKey, secret or passphrase")
        key, secret, passphrase = (str(v) for v in values)
        return cls(key, secret, passphrase)

    def official(self) -> ApiCreds:
        """As the official client holds them (for its header functions only)."""
        return ApiCreds(
            api_key=self.api_key, api_secret=self._secret, api_passphrase=self._passphrase
        )

    def ws_auth(self) -> dict[str, str]:
        """The ``auth`` object of the user channel's subscribe frame (reference 5)."""
        return {"apiKey": self.api_key, "secret": self._secret, "passphrase": self._passphrase}

    @property
    def shown(self) -> str:
        key = self.api_key
        return key if len(key) <= 8 else f"{key[:4]}…{key[-4:]}"

    def __repr__(self) -> str:
        return f"ApiCredentials(api_key={self.shown}, secret=<redacted>, passphrase=<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("API credentials cannot be pickled or copied out of the process")


@dataclass(frozen=True, slots=True)
class _Address:
    """What ``create_level_2_headers`` reads of a signer: its address, nothing secret."""

    value: str

    def address(self) -> str:
        return self.value


def body_text(body: Any) -> str:
    """The exact text a JSON body is sent (and HMAC-signed) as: compact, UTF-8, as PY2 does."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def l1_headers(signer: Any, nonce: int, timestamp: int) -> dict[str, str]:
    """L1 headers for ``signer`` (the official ``py_clob_client_v2.signer.Signer``): an ECDSA
    signature, so call it from a worker thread."""
    headers = create_level_1_headers(signer, nonce=nonce, timestamp=timestamp)
    return {str(k): str(v) for k, v in headers.items()}


def l2_headers(
    address: str,
    creds: ApiCredentials,
    method: str,
    path: str,
    body: str | None,
    timestamp: int,
) -> dict[str, str]:
    """L2 headers of one request: ``path`` without its query, ``body`` the exact text sent."""
    args = RequestArgs(method=method, request_path=path, body=body, serialized_body=body)
    headers = create_level_2_headers(_Address(address), creds.official(), args, timestamp=timestamp)
    return {str(k): str(v) for k, v in headers.items()}
