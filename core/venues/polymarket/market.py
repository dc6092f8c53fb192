"""Which Polymarket market we trade, read from the venue, never from our config (D20, D39).

A market maker quotes one outcome token of one binary market.  ``PmMarket`` names it: the
condition id, our token and the other outcome's token (a maker fill may come on that one,
reference 5), the tick, the minimum size, the neg-risk flag (it picks the exchange that signs,
reference 3), and the question and outcome texts for the operator.

``fetch_market(api_url, market_ref)`` resolves a reference -- a condition id (``0x`` + 64 hex,
optionally ``:<outcome>``, e.g. ``0xabc…:No``), a token id (decimal), a market slug (looked up
in the CLOB's ``/markets`` listing, ``market_slug``) or ``only`` (the venue's one market
accepting orders: the loopback twin serves one; a venue listing more is refused, never
guessed) -- with public GETs:
``/markets/{condition_id}`` (or ``/clob-markets/{condition_id}``) for the tokens, and the
token's own ``/tick-size``, ``/neg-risk`` and ``/book`` for what the order path needs.  It runs
once, synchronously, before anything trades (like Hyperliquid's ``fetch_instrument``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from core.units import Instrument, UnitError
from core.venues.polymarket.wire import (
    Book,
    ClobMarket,
    Market,
    MarketByToken,
    NegRiskAnswer,
    Num,
    Page,
    TickSizeAnswer,
)
from core.venues.rows import MappingError, parse_or_raise

_CONDITION = re.compile(r"^0x[0-9a-fA-F]{64}$")
_TOKEN = re.compile(r"^[0-9]{1,100}$")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ONLY = "only"  # the venue's one market accepting orders
_LISTING_PAGES = 200  # pages of /markets read looking for a slug before giving up
_TICKS = (
    Decimal("0.1"),
    Decimal("0.01"),
    Decimal("0.005"),
    Decimal("0.0025"),
    Decimal("0.001"),
    Decimal("0.0001"),
)


class MarketError(Exception):
    """The market cannot be resolved or traded: the message says which and why."""


@dataclass(frozen=True, slots=True)
class PmMarket:
    condition_id: str
    token_id: str
    other_token_id: str
    outcome: str
    other_outcome: str
    question: str
    tick: Decimal
    min_size: Decimal
    neg_risk: bool

    @property
    def symbol(self) -> str:
        """A short, file-name-safe name: ``PM-<first 8 hex of the condition>-<OUTCOME>``."""
        outcome = re.sub(r"[^A-Za-z0-9]+", "", self.outcome)[:12].upper() or "OUT"
        return f"PM-{self.condition_id[2:10]}-{outcome}"

    @property
    def title(self) -> str:
        """What the operator reads: the question and the outcome we quote."""
        return f"{self.question} [{self.outcome}]" if self.question else self.symbol

    def instrument(self) -> Instrument:
        """The core's instrument: the venue's tick as its grid, the title for display."""
        inst = Instrument.polymarket(self.symbol, self.tick, self.min_size)
        return dataclasses.replace(inst, title=self.title)


def decimal_of(value: Num | None, what: str) -> Decimal:
    """A venue number (string or JSON number) as a finite positive Decimal."""
    if value is None or isinstance(value, bool):
        raise MarketError(f"{what}: missing")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise MarketError(f"{what}: not a number ({str(value)[:40]!r})") from None
    if not d.is_finite() or d <= 0:
        raise MarketError(f"{what}: must be a finite number above 0 (got {str(value)[:40]})")
    return d


def tick_of(value: Num | None) -> Decimal:
    """One of the venue's ticks (reference 1), or ``MarketError``."""
    d = decimal_of(value, "tick size")
    if d not in _TICKS:
        raise MarketError(
            f"tick size {d} is not one of the venue's ({', '.join(map(str, _TICKS))})"
        )
    return d.normalize()


def fetch_market(api_url: str, market_ref: str, timeout_s: float = 5.0) -> PmMarket:
    """The market ``market_ref`` names, read from the venue at ``api_url``."""
    ref, _, wanted = market_ref.strip().partition(":")
    with httpx.Client(base_url=api_url.rstrip("/"), timeout=timeout_s) as client:
        if _TOKEN.match(ref):
            by_token = parse(MarketByToken, _get(client, f"/markets-by-token/{ref}"))
            condition, token_wanted = by_token.condition_id, ref
        elif _CONDITION.match(ref):
            condition, token_wanted = ref.lower(), ""
        elif ref == ONLY or _SLUG.match(ref):
            condition, token_wanted = _listed(client, ref), ""
        else:
            raise MarketError(
                f"market {ref[:80]!r}: expected a condition id (0x + 64 hex, optionally "
                f":<outcome>), a token id (decimal digits), a market slug or {ONLY!r}"
            )
        question, tokens, min_size = _tokens(client, condition)
        if len(tokens) != 2:
            raise MarketError(f"market {condition}: expected two outcome tokens, got {len(tokens)}")
        index = _choose(tokens, token_wanted, wanted, condition)
        token, outcome = tokens[index]
        other, other_outcome = tokens[1 - index]
        tick = tick_of(parse(TickSizeAnswer, _get(client, "/tick-size", token)).minimum_tick_size)
        neg_risk = parse(NegRiskAnswer, _get(client, "/neg-risk", token)).neg_risk
        if min_size is None:
            book = parse(Book, _get(client, "/book", token))
            min_size = decimal_of(book.min_order_size, "minimum order size")
    market = PmMarket(
        condition, token, other, outcome, other_outcome, question, tick, min_size, neg_risk
    )
    try:
        market.instrument()
    except UnitError as exc:
        raise MarketError(f"market {condition}: {exc}") from None
    return market


def _listed(client: httpx.Client, ref: str) -> str:
    """The condition id of the market with slug ``ref``, or of the only market accepting
    orders when ``ref`` is ``only``, from ``GET /markets`` (paginated, ``LTE=`` at the end)."""
    cursor = "MA=="
    found: list[str] = []
    for _ in range(_LISTING_PAGES):
        page = parse(Page, _get_params(client, "/markets", {"next_cursor": cursor}))
        for row in page.data:
            try:
                market: Market = parse(Market, row)
            except MarketError:
                continue  # an unreadable row names no market we could trade
            if ref == ONLY:
                if market.accepting_orders is not False and market.closed is not True:
                    found.append(market.condition_id.lower())
            elif market.market_slug == ref:
                return market.condition_id.lower()
        if ref == ONLY and len(found) > 1:
            break
        cursor = page.next_cursor or "LTE="
        if cursor == "LTE=":
            break
    if ref != ONLY:
        raise MarketError(f"no market with slug {ref!r}: name it by condition id or token id")
    if len(found) != 1:
        many = "more than one market" if found else "no market"
        raise MarketError(
            f"the venue lists {many} accepting orders: name the one to quote with --market "
            "(a condition id, token id or slug)"
        )
    return found[0]


def parse(model: type[Any], data: object) -> Any:
    try:
        return parse_or_raise(model, data)
    except MappingError as exc:
        raise MarketError(f"unreadable answer: {exc}") from None


def _tokens(
    client: httpx.Client, condition: str
) -> tuple[str, list[tuple[str, str]], Decimal | None]:
    """The question, the two (token id, outcome) pairs and the minimum size (None: ask the
    book), from ``/markets`` or, failing that, ``/clob-markets``."""
    try:
        market = parse(Market, _get(client, f"/markets/{condition}"))
    except MarketError as first:
        try:
            clob = parse(ClobMarket, _get(client, f"/clob-markets/{condition}"))
        except MarketError:
            raise first from None
        min_size = decimal_of(clob.mos, "minimum order size") if clob.mos is not None else None
        return "", [(t.t, t.o or f"outcome {i}") for i, t in enumerate(clob.t)], min_size
    if market.accepting_orders is False or market.closed is True:
        raise MarketError(f"market {condition} is not accepting orders")
    min_size = (
        decimal_of(market.minimum_order_size, "minimum order size")
        if market.minimum_order_size is not None
        else None
    )
    pairs = [(t.token_id, t.outcome or f"outcome {i}") for i, t in enumerate(market.tokens)]
    return market.question or "", pairs, min_size


def _choose(tokens: list[tuple[str, str]], token: str, outcome: str, condition: str) -> int:
    for i, (tid, name) in enumerate(tokens):
        if token and tid == token:
            return i
        if not token and outcome and name.lower() == outcome.lower():
            return i
    if token or outcome:
        names = ", ".join(name for _, name in tokens)
        raise MarketError(f"market {condition} has no outcome {outcome or token!r} ({names})")
    return 0


def _get(client: httpx.Client, path: str, token: str | None = None) -> object:
    return _get_params(client, path, {"token_id": token} if token is not None else None)


def _get_params(client: httpx.Client, path: str, params: dict[str, str] | None) -> object:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise MarketError(
            f"cannot reach {client.base_url}{path}: {exc or type(exc).__name__}"
        ) from None
    if response.status_code != 200:
        raise MarketError(f"{path} answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except (ValueError, RecursionError):
        raise MarketError(f"{path} answered with something that is not JSON") from None
