"""The REST transport to Polymarket's CLOB: public, L1 and L2 requests over pooled httpx.

Several keep-alive connections, so a cancel never waits for a placement's answer on a shared
socket (D13); the heartbeat gets a client of its own (``PmRest`` per task).  Private requests
carry L2 headers computed over the exact body text sent (``auth.body_text``) by the signer's
``pm-auth`` thread; the credential endpoints carry L1 headers from its ``pm-sign`` thread.

Outcomes are told apart by what they mean for an order:

* ``RestRefused`` -- the venue answered and did not act: any 4xx (``status`` 429 is a rate
  limit, 425 the engine restarting), a 503 operating mode (post-only, cancel-only, disabled),
  a 500 whose text says the order was not inserted (``errors.is_not_placed``), or the
  connection could not even be opened.  ``retry_after`` from ``Retry-After`` or the body's
  ``retry_after_seconds`` (D29); ``expected_id`` the heartbeat id a refused heartbeat names.
* ``RestUnknown`` -- the request may have reached the venue but no answer came back (timeout,
  dropped connection, another 5xx): the outcome is unknown (D8).

This module never retries (a retry could place twice), never maps answers to core events, and
never puts a header, a secret or a body it sent into an exception.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
from pydantic import ValidationError

from core.venues.polymarket.auth import ApiCredentials, body_text
from core.venues.polymarket.errors import is_not_placed
from core.venues.polymarket.signing import PmSigner
from core.venues.polymarket.wire import END_CURSOR, FIRST_CURSOR, ErrorAnswer, Page

# A listing longer than this many pages is a venue gone wrong, not an account.
MAX_PAGES = 200


class RestRefused(Exception):
    """The request was not acted on."""

    def __init__(
        self,
        text: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        expected_id: str | None = None,
    ) -> None:
        super().__init__(text)
        self.text = text
        self.status = status
        self.retry_after = retry_after
        self.expected_id = expected_id

    @property
    def rate_limited(self) -> bool:
        """The venue asked us to wait (429, or 425 while its engine restarts): pace (D29)."""
        return self.status in (425, 429)


class RestUnknown(Exception):
    """No answer: the request may or may not have been executed."""


class PmRest:
    def __init__(
        self,
        base_url: str,
        signer: PmSigner,
        *,
        timeout_s: float,
        connections: int = 8,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._signer = signer
        self.creds: ApiCredentials | None = None
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"Content-Type": "application/json", "Accept": "*/*"},
        )

    async def public(self, path: str, params: dict[str, str] | None = None) -> Any:
        return await self._send("GET", path, params, None, {}, None)

    async def l1(self, method: str, path: str, nonce: int) -> Any:
        """A credential request signed with the wallet (L1)."""
        headers = await self._signer.l1_headers(nonce)
        return await self._send(method, path, None, None, headers, None)

    async def private(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        timeout_s: float | None = None,
    ) -> Any:
        """An L2 request: the HMAC covers ``path`` (never the query) and the body as sent."""
        creds = self.creds
        if creds is None:
            raise RestRefused("no API credentials yet")
        text = None if body is None else body_text(body)
        headers = await self._signer.l2_headers(creds, method, path, text)
        return await self._send(method, path, params, text, headers, timeout_s)

    async def pages(self, path: str, params: dict[str, str]) -> list[Any]:
        """Every row of a paginated L2 listing, cursor by cursor until ``LTE=``."""
        rows: list[Any] = []
        cursor = FIRST_CURSOR
        for _ in range(MAX_PAGES):
            answer = await self.private("GET", path, params={**params, "next_cursor": cursor})
            try:
                page = Page.model_validate(answer)
            except ValidationError:
                raise RestUnknown(f"{path}: not a page of rows") from None
            rows.extend(page.data)
            if not page.next_cursor or page.next_cursor in (END_CURSOR, cursor):
                return rows
            cursor = page.next_cursor
        raise RestUnknown(f"{path}: more than {MAX_PAGES} pages")

    async def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        text: str | None,
        headers: dict[str, str],
        timeout_s: float | None,
    ) -> Any:
        content = None if text is None else text.encode()
        extra: dict[str, Any] = {} if timeout_s is None else {"timeout": timeout_s}
        try:
            response = await self._client.request(
                method, path, params=params, content=content, headers=headers, **extra
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise RestRefused(f"cannot reach {self.base_url}: {_brief(exc)}") from None
        except httpx.TimeoutException as exc:
            raise RestUnknown(f"no answer from {method} {path} in time ({_brief(exc)})") from None
        except httpx.HTTPError as exc:
            raise RestUnknown(f"{method} {path}: connection lost ({_brief(exc)})") from None
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except (ValueError, RecursionError):  # not JSON, or nested too deep to read
                return response.text
        error = _error(response)
        text_out = error.text or response.text[:300] or f"HTTP {status}"
        retry = _retry_after(response.headers.get("Retry-After"), error.retry_after_seconds)
        if status < 500 or status == 503 or is_not_placed(text_out):
            raise RestRefused(
                text_out, status=status, retry_after=retry, expected_id=error.heartbeat_id
            )
        raise RestUnknown(f"HTTP {status} from {method} {path}: {text_out[:200]}")

    async def aclose(self) -> None:
        await self._client.aclose()


def _error(response: httpx.Response) -> ErrorAnswer:
    try:
        return ErrorAnswer.model_validate(response.json())
    except (ValueError, ValidationError, RecursionError):
        return ErrorAnswer()


def _retry_after(header: str | None, body: object) -> float | None:
    for value in (header, body):
        if value is None or isinstance(value, bool):
            continue
        try:
            seconds = float(str(value).strip())
        except ValueError:
            continue  # an HTTP date: not worth a parser; the maker's own backoff applies
        if math.isfinite(seconds) and 0 <= seconds <= 3600:
            return seconds
    return None


def _brief(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
