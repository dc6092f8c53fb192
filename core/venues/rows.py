"""Reading a venue's messages without trusting them (D34), for every venue.

A message of many rows (fills, order updates, trades, open orders) is read row by row: each good
row becomes its event, a row that cannot be read is counted and kept aside (``Rows``), and the
message is reported once (``Rows.report``), never dropped whole for one bad row.  A message that
cannot be read at all raises ``MappingError``; the venue reports it and changes nothing.  These
are the venue-neutral parts of a connector's mapping: Hyperliquid's and Polymarket's share them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from core.events import Channel, MalformedMessage

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# Ticks, lots or values a signed 64-bit integer cannot hold: no venue sends such a number,
# so a message carrying one is corrupt (it would otherwise make nonsense of PnL and limits).
MAX_UNITS = 2**63

# How much of a row's problem a report quotes: enough to find the row, never a whole hostile value.
_PROBLEM_CHARS = 160


class MappingError(ValueError):
    """A venue message that does not fit the instrument or the schema."""


@dataclass(frozen=True, slots=True)
class Rows(Generic[T]):
    """What could be read of a message of many rows (D34).

    ``items`` are the good rows of our market, read; ``good`` counts every good row (one of
    another market is good but gives nothing).  ``unread`` keeps the raw rows that could not be
    read, so the venue can still learn what little it safely can from them (a fill's time or
    trade id, ``raw_int``); ``problem`` is the first of them, for the report."""

    items: list[T]
    good: int
    unread: list[Any] = field(default_factory=list)
    problem: str = ""

    @property
    def bad(self) -> int:
        return len(self.unread)

    def report(self, channel: Channel, what: str) -> MalformedMessage | None:
        """The one report of the message (``what``: where it came from), or None when every
        row was read."""
        if not self.unread:
            return None
        text = f"{what}: {self.bad} of {self.good + self.bad} rows unreadable ({self.problem})"
        return MalformedMessage(channel, self.bad, self.good, text)


def read_rows(data: object, read: Callable[[Any], T | None], what: str) -> Rows[T]:
    """``data`` (a list: anything else is a message that cannot be read at all) read row by
    row; ``read`` raises ``MappingError`` for a bad row and returns None for a good row that is
    not ours."""
    if not isinstance(data, list):
        raise MappingError(f"{what}: expected a list, got {type(data).__name__}")
    items: list[T] = []
    unread: list[Any] = []
    problem = ""
    for index, row in enumerate(data):
        try:
            item = read(row)
        except MappingError as exc:
            if not unread:
                problem = f"row {index}: {exc}"[:_PROBLEM_CHARS]
            unread.append(row)
            continue
        if item is not None:
            items.append(item)
    return Rows(items, len(data) - len(unread), unread, problem)


def raw_int(row: object, key: str) -> int | None:
    """``row[key]`` of a row that could not be read as a whole, when it is a number the venue
    could have sent there (an id, a time in ms: whole, not negative, within 64 bits)."""
    value = row.get(key) if isinstance(row, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_UNITS:
        return value
    return None


def parse_or_raise(model: type[M], data: object) -> M:
    """Validate ``data`` as ``model``; a schema mismatch becomes a ``MappingError``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise MappingError(f"{model.__name__}: {where}: {first['msg']}") from None
