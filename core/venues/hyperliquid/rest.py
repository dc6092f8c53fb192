"""The REST transport: ``POST /info`` and ``POST /exchange`` over one pooled httpx connection.

One ``httpx.AsyncClient`` with a single keep-alive connection and explicit timeouts; every
request is weighed against the IP budget (``budget``).  Outcomes are told apart by what they
mean for an order, because that is what the venue maps them to:

* ``RestRefused`` — the venue answered and did not act: HTTP 429 (``rate_limited``), another 4xx
  (e.g. 422 for a malformed body), or the connection could not even be opened (nothing sent);
* ``RestUnknown`` — the request may have reached the venue but no answer came back (timeout,
  dropped connection, 5xx): the outcome is unknown (D8).

This module never signs, never retries an action (a retry could place twice) and never maps an
answer to core events.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from core.clock import Clock
from core.units import Instrument
from core.venues.hyperliquid.budget import RateBudget, exchange_weight, info_weight
from core.venues.hyperliquid.mapping import Translator
from core.venues.hyperliquid.meta import instrument_from_meta
from core.venues.hyperliquid.wire import Meta, request_dict
from core.venues.rows import parse_or_raise


class RestRefused(Exception):
    """The request was not acted on.  ``rate_limited`` for HTTP 429."""

    def __init__(self, text: str, *, status: int | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.status = status

    @property
    def rate_limited(self) -> bool:
        return self.status == 429


class RestUnknown(Exception):
    """No answer: the request may or may not have been executed."""


class RestClient:
    def __init__(
        self, base_url: str, *, timeout_s: float, budget: RateBudget, clock: Clock
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._budget = budget
        self._clock = clock
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"Content-Type": "application/json"},
        )

    async def info(self, body: dict[str, Any]) -> Any:
        """An ``/info`` request; its weight depends on the type and on what came back."""
        answer = await self._post("/info", body)
        items = len(answer) if isinstance(answer, list) else 0
        self._budget.record_rest(info_weight(str(body.get("type")), items), self._clock.now())
        return answer

    async def exchange(self, body: dict[str, Any], items: int) -> Any:
        """A signed ``/exchange`` request carrying ``items`` orders or cancels."""
        self._budget.record_rest(exchange_weight(items), self._clock.now())
        return await self._post("/exchange", body)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = await self._client.post(path, content=json.dumps(body))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise RestRefused(f"cannot reach {self.base_url}: {_brief(exc)}") from None
        except httpx.TimeoutException as exc:
            raise RestUnknown(f"no answer from {path} in time ({_brief(exc)})") from None
        except httpx.HTTPError as exc:
            raise RestUnknown(f"{path}: connection lost ({_brief(exc)})") from None
        status = response.status_code
        if status == 429:
            raise RestRefused("HTTP 429 Too Many Requests", status=429)
        if 400 <= status < 500:
            raise RestRefused(f"HTTP {status}: {response.text[:300]}", status=status)
        if status != 200:
            raise RestUnknown(f"HTTP {status} from {path}: {response.text[:200]}")
        try:
            return response.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deep to read
            raise RestUnknown(f"{path} answered with something that is not JSON") from None

    async def aclose(self) -> None:
        await self._client.aclose()


def _brief(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def fetch_instrument(base_url: str, symbol: str, timeout_s: float) -> Instrument:
    """Read ``meta`` once, synchronously, before anything trades: the instrument's grids and
    asset id come from the venue, never from our config (D20).  Raises ``RestRefused`` /
    ``RestUnknown`` (unreachable) or ``MappingError`` (not listed)."""
    url = base_url.rstrip("/") + "/info"
    try:
        body = request_dict(Translator.meta_request())
        response = httpx.post(url, json=body, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise RestUnknown(f"cannot reach {base_url}: {_brief(exc)}") from None
    if response.status_code != 200:
        raise RestRefused(
            f"{url} answered HTTP {response.status_code}", status=response.status_code
        )
    try:
        meta = parse_or_raise(Meta, response.json())
    except ValueError as exc:
        raise RestUnknown(f"{url}: unreadable meta ({exc})") from None
    return instrument_from_meta(meta.universe, symbol, meta.marginTables)
