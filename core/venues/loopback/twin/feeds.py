"""The twin's market-data subscriptions, at the venue's cadence (issue 19).

Hyperliquid's market feeds are snapshots, each at a pace of its own, and a feed tuned on the
wrong pace is tuned wrong: ``l2Book`` pushes 20 levels at most every ~5 s, or 5 levels every
~0.5 s with ``"fast": true`` (the cadence changed in 2026, ``../shared/reference``);
``bbo`` only when the best bid or ask changed; ``allMids`` and ``activeAssetCtx`` when their
value changed.  The twin used to push the book every 0.1 s: staleness limits tuned on it
would kill a session on the venue.

A ``Feed`` is one client's subscription: what it was last sent and when it may next be pushed.
``normalise`` turns a subscription request into the venue's echo (or None: refused).  The
pushes themselves are the twin's clock turn (``base``): a feed is pushed when the market
changed since its last push, its interval has passed and its data differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SLOW_BOOK_S = 5.0  # l2Book without "fast": 20 levels at most every ~5 s
FAST_BOOK_S = 0.5  # l2Book with "fast": 5 levels every ~0.5 s
SLOW_LEVELS = 20
FAST_LEVELS = 5
_ON_CHANGE_S = 0.5  # bbo, allMids, activeAssetCtx: on change, once a block at most

MARKET_KINDS = ("l2Book", "bbo", "trades", "allMids", "activeAssetCtx")
USER_KINDS = ("orderUpdates", "userFills", "userEvents", "userFundings")


@dataclass(eq=False)
class Feed:
    """One client's market-data subscription and what it was last sent."""

    kind: str  # "l2Book", "bbo", "allMids", "activeAssetCtx"
    interval: float
    levels: int = 0  # l2Book only
    sent_version: int = -1  # the market's version at the last push
    last: Any = None  # the data last pushed (a push that would repeat it is skipped)
    next_at: float = 0.0


def normalise(sub: Any) -> dict[str, Any] | None:
    """The venue's echo of a subscription request, or None when it is not one."""
    if not isinstance(sub, dict) or not isinstance(sub.get("type"), str):
        return None
    kind = sub["type"]
    if kind in USER_KINDS:
        user = sub.get("user")
        return {"type": kind, "user": user.lower()} if isinstance(user, str) else None
    if kind == "allMids":
        dex = sub.get("dex")
        if dex not in (None, ""):
            return None  # no builder-deployed dex here
        return {"type": "allMids"}
    if kind not in MARKET_KINDS or not isinstance(sub.get("coin"), str):
        return None
    normal: dict[str, Any] = {"type": kind, "coin": sub["coin"]}
    if kind == "l2Book":
        sig, mantissa, fast = sub.get("nSigFigs"), sub.get("mantissa"), sub.get("fast")
        # Aggregated books (nSigFigs 2-5, mantissa) are not modelled: refused, never faked.
        if sig is not None or mantissa is not None or fast not in (None, True, False):
            return None
        normal["nSigFigs"] = sig
        normal["mantissa"] = mantissa
        if fast:
            normal["fast"] = True
    return normal


def feed_for(normal: dict[str, Any]) -> Feed | None:
    """The feed a normalised subscription opens (None: ``trades`` and user channels, which are
    pushed as they happen)."""
    kind = normal["type"]
    if kind == "l2Book":
        fast = bool(normal.get("fast"))
        return Feed(
            kind,
            FAST_BOOK_S if fast else SLOW_BOOK_S,
            FAST_LEVELS if fast else SLOW_LEVELS,
        )
    if kind in ("bbo", "allMids", "activeAssetCtx"):
        return Feed(kind, _ON_CHANGE_S)
    return None
