"""Text for numbers on screen: prices, sizes, money, ages, ids.

Prices and sizes arrive as integer ticks and lots and are turned into decimals by the view's
``Instrument`` (never binary floats).  Pure functions; nothing here reads a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.units import Instrument


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def price(inst: Instrument, ticks: int | None) -> str:
    """A price with the venue tick's number of decimals (0.49 on a 0.01 Polymarket grid,
    D39: the tick can change), so a column of prices lines up."""
    if ticks is None:
        return "-"
    return f"{inst.ticks_to_price(ticks):.{_places(inst.venue_tick)}f}"


def size(inst: Instrument, lots: int) -> str:
    return f"{inst.lots_to_size(lots):.{_places(inst.lot_size)}f}"


def signed_size(inst: Instrument, lots: int) -> str:
    text = size(inst, abs(lots))
    return f"-{text}" if lots < 0 else f"+{text}" if lots > 0 else text


def money(value: float) -> str:
    return f"{value:+,.2f}"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f}s"
    return ago(seconds)


def ago(seconds: float | None) -> str:
    """How long ago, in whole seconds: for history (fills, rejections), whose rows then change
    once a second instead of on every frame."""
    if seconds is None:
        return "-"
    if seconds < 600:
        return f"{seconds:.0f}s"
    if seconds < 36000:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def utc(epoch: float | None) -> str:
    """Unix seconds as the UTC time of day to the millisecond ("09:58:01.123"): the time an
    operator matches against the venue's records and an incident timeline."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S.%f")[:12]


def fit(number: str, width: int) -> str:
    """A decimal number shortened to ``width`` characters by dropping decimals (display only;
    the whole part is never cut)."""
    if len(number) <= width or "." not in number:
        return number
    whole = number.index(".")
    return number[: max(width, whole)].rstrip(".")


def short_tid(tid: int | None, width: int = 9) -> str:
    """A trade id in ``width`` columns: Hyperliquid's are 50-bit numbers (15 digits), whose
    tail tells them apart; "imm" for an immediate fill reported without one (D4)."""
    if tid is None:
        return "imm"
    text = str(tid)
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def short_cloid(cloid: str, keep: int = 6) -> str:
    """The distinctive tail of a client order id (the head is the session prefix)."""
    return cloid if len(cloid) <= keep + 1 else "…" + cloid[-keep:]


def bar(fraction: float, width: int) -> tuple[str, str]:
    """A gauge as (filled, empty) block strings for ``fraction`` in [0, 1] (clamped)."""
    width = max(0, width)
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled, "░" * (width - filled)
