"""Rate-limit accounting: how close we are to Hyperliquid's limits, before it says no.

Two budgets (reference 8).  Per IP: REST requests weigh 1 + floor(n/40) for an ``/exchange``
batch of n, 2 for light ``/info`` requests, 20 for most others (+1 per 20 items returned by fill
queries), 1200 per minute in all; WebSocket traffic counts against 2000 client messages a
minute.  Per address: every order, cancel or modify in an action counts once against
10 000 + 1 per USDC traded (``userRateLimit`` tells the real figures; we start from them and
count our own since).

``allows`` is how the connector slows down first: a placement that would take the IP weight
past ``headroom`` of the limit, or the address budget past its cap, is refused locally as a
rate-limit rejection, so the maker backs off before the exchange answers 429.  Cancels are
never refused here (D13).  ``view`` is the figure the console can show.

Time is passed in (the connector's monotonic clock); this module never sleeps and never sends.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

IP_WEIGHT_PER_MINUTE = 1200
WS_MESSAGES_PER_MINUTE = 2000
ADDRESS_INITIAL_BUDGET = 10_000
_WINDOW_S = 60.0

_LIGHT_INFO = frozenset(
    {
        "l2Book",
        "allMids",
        "clearinghouseState",
        "orderStatus",
        "spotClearinghouseState",
        "exchangeStatus",
    }
)
_PER_ITEM_INFO = frozenset({"userFills", "userFillsByTime", "historicalOrders", "recentTrades"})


def exchange_weight(items: int) -> int:
    """IP weight of one ``/exchange`` action carrying ``items`` orders or cancels."""
    return 1 + max(items, 0) // 40


def info_weight(request_type: str, items_returned: int = 0) -> int:
    """IP weight of one ``/info`` request (``items_returned`` for the per-item surcharge)."""
    if request_type in _LIGHT_INFO:
        return 2
    if request_type == "userRole":
        return 60
    extra = items_returned // 20 if request_type in _PER_ITEM_INFO else 0
    return 20 + extra


@dataclass(frozen=True, slots=True)
class BudgetView:
    """What the console shows: used and allowed, per budget."""

    ip_weight_used: int
    ip_weight_limit: int
    ws_messages_used: int
    ws_messages_limit: int
    address_used: int | None  # None until ``userRateLimit`` has answered
    address_cap: int | None
    refused_locally: int


class RateBudget:
    """Sliding one-minute windows for IP weight and WebSocket messages, plus the address
    budget."""

    def __init__(
        self,
        ip_weight_limit: int = IP_WEIGHT_PER_MINUTE,
        ws_message_limit: int = WS_MESSAGES_PER_MINUTE,
        headroom: float = 0.9,
    ) -> None:
        if not 0 < headroom <= 1:
            raise ValueError(f"headroom must be in (0, 1], got {headroom}")
        self.ip_weight_limit = ip_weight_limit
        self.ws_message_limit = ws_message_limit
        self.headroom = headroom
        self._ip: deque[tuple[float, int]] = deque()
        self._ip_total = 0
        self._ws: deque[float] = deque()
        self.address_used: int | None = None
        self.address_cap: int | None = None
        self.refused_locally = 0

    # ---- recording --------------------------------------------------------------------

    def record_rest(self, weight: int, now: float) -> None:
        self._expire(now)
        self._ip.append((now, weight))
        self._ip_total += weight

    def record_ws_message(self, now: float) -> None:
        self._expire(now)
        self._ws.append(now)

    def record_actions(self, items: int) -> None:
        """``items`` orders/cancels reached the venue: they count against the address."""
        if self.address_used is not None:
            self.address_used += items

    def set_address(self, used: int, cap: int) -> None:
        """The venue's own figures (``userRateLimit``)."""
        self.address_used = used
        self.address_cap = cap

    # ---- deciding ---------------------------------------------------------------------

    def allows(self, weight: int, items: int, now: float, *, via_ws: bool) -> str | None:
        """None when a placement of ``items`` may go out now; else why not (it is refused
        locally and counted).  Only placements ask: cancels always go (D13)."""
        self._expire(now)
        reason: str | None = None
        if via_ws:
            if len(self._ws) + 1 > self.ws_message_limit * self.headroom:
                reason = (
                    f"local rate budget: {len(self._ws)} of {self.ws_message_limit} WebSocket "
                    "messages used in the last minute"
                )
        elif self._ip_total + weight > self.ip_weight_limit * self.headroom:
            reason = (
                f"local rate budget: IP weight {self._ip_total} of {self.ip_weight_limit} used "
                "in the last minute"
            )
        if (
            reason is None
            and self.address_used is not None
            and self.address_cap is not None
            and self.address_used + items > self.address_cap
        ):
            reason = (
                f"local rate budget: address requests {self.address_used} of "
                f"{self.address_cap} used"
            )
        if reason is not None:
            self.refused_locally += 1
        return reason

    def view(self, now: float) -> BudgetView:
        self._expire(now)
        return BudgetView(
            ip_weight_used=self._ip_total,
            ip_weight_limit=self.ip_weight_limit,
            ws_messages_used=len(self._ws),
            ws_messages_limit=self.ws_message_limit,
            address_used=self.address_used,
            address_cap=self.address_cap,
            refused_locally=self.refused_locally,
        )

    def _expire(self, now: float) -> None:
        horizon = now - _WINDOW_S
        ip = self._ip
        while ip and ip[0][0] <= horizon:
            self._ip_total -= ip.popleft()[1]
        ws = self._ws
        while ws and ws[0] <= horizon:
            ws.popleft()
