"""FillLedger: every fill is counted exactly once (D4).

Two traps, one ledger:

* A trade id (tid) seen twice is a replay (reconnects replay fills): ignore it.  Memory is
  bounded both by count and by age — a market maker runs for weeks, and an unbounded set of tids
  is a slow leak.  A replay of a forgotten tid would be counted again, and venues bound their
  replays by *count*, not age (Hyperliquid's userFills snapshot is its most recent fills, however
  old): so age never evicts the newest ``min_keep`` tids, which exceed any venue's replay.
* A placement answer reports an immediate fill as a total without tids; the stream later reports
  the same trades again with tids.  The ledger remembers the immediate *amount* per order and
  skips that much of the order's later stream fills: ``skip = min(remaining_immediate, size)``.

This module never decides an order's state; ``core.orders`` does, using what the ledger says.
"""

from __future__ import annotations

import enum
from collections import OrderedDict

from core.events import Side

# What a trade id stands for: side, price (ticks), size (lots), the oid when known and the fee
# in millionths (D36: the venue's history and its stream must agree on what it charged).
Fingerprint = tuple[Side, int, int, int | None, int]


class Sighting(enum.Enum):
    NEW = "new"
    REPEAT = "repeat"  # a replay: the same trade told again (D4)
    CONFLICT = "conflict"  # the same trade id with different content (D35)


def _agree(a: Fingerprint | None, b: Fingerprint) -> bool:
    """Two tellings of one trade agree on side, price, size and fee, and on the oid when both
    name one (a replay may leave the oid or cloid out)."""
    if a is None:
        return True
    if a[:3] != b[:3] or a[4] != b[4]:
        return False
    return a[3] is None or b[3] is None or a[3] == b[3]


class FillLedger:
    """Trade-id de-duplication with bounded memory, and immediate-fill amounts per order."""

    __slots__ = ("_immediate", "_tids", "duplicates", "max_tids", "min_keep", "retention")

    def __init__(
        self, max_tids: int = 50_000, retention: float = 6 * 3600.0, min_keep: int | None = None
    ) -> None:
        keep = min(10_000, max_tids) if min_keep is None else min_keep
        if max_tids < 1 or retention <= 0 or not 0 <= keep <= max_tids:
            raise ValueError("FillLedger needs max_tids >= 1, retention > 0, 0 <= min_keep <= max")
        self.max_tids = max_tids
        self.retention = retention
        self.min_keep = keep
        self._tids: OrderedDict[int, tuple[float, Fingerprint | None]] = OrderedDict()
        self._immediate: dict[str, int] = {}
        self.duplicates = 0

    def __len__(self) -> int:
        return len(self._tids)

    def seen(self, tid: int) -> bool:
        """Whether ``tid`` has been counted (or was history) and is still remembered."""
        return tid in self._tids

    def first_sighting(self, tid: int, now: float) -> bool:
        """Record ``tid``; False (and a duplicate counted) when it was seen before."""
        return self.sighting(tid, now, None) is Sighting.NEW

    def sighting(self, tid: int, now: float, fingerprint: Fingerprint | None) -> Sighting:
        """Record ``tid`` with what it says; a repeat is a duplicate (counted), and one that
        disagrees with the first telling is a conflict (D35)."""
        tids = self._tids
        seen = tids.get(tid)
        if seen is not None:
            self.duplicates += 1
            if fingerprint is not None and not _agree(seen[1], fingerprint):
                return Sighting.CONFLICT
            return Sighting.REPEAT
        tids[tid] = (now, fingerprint)
        if len(tids) > self.max_tids:
            tids.popitem(last=False)
        self._forget_older_than(now - self.retention)
        return Sighting.NEW

    def _forget_older_than(self, horizon: float) -> None:
        tids = self._tids
        while len(tids) > self.min_keep:
            oldest_tid = next(iter(tids))
            if tids[oldest_tid][0] >= horizon:
                return
            del tids[oldest_tid]

    def register_immediate(self, cloid: str, lots: int) -> None:
        """The placement answer said ``lots`` traded at once: the stream will repeat them."""
        if lots < 0:
            raise ValueError(f"immediate fill amount must be >= 0, got {lots}")
        if lots:
            self._immediate[cloid] = self._immediate.get(cloid, 0) + lots

    def consume_immediate(self, cloid: str | None, lots: int) -> int:
        """How much of a stream fill of ``lots`` is a repeat of an immediate fill (to skip)."""
        if cloid is None:
            return 0
        remaining = self._immediate.get(cloid, 0)
        if not remaining:
            return 0
        skip = min(remaining, lots)
        if remaining == skip:
            del self._immediate[cloid]
        else:
            self._immediate[cloid] = remaining - skip
        return skip

    def immediate_remaining(self, cloid: str) -> int:
        return self._immediate.get(cloid, 0)

    def forget_order(self, cloid: str) -> None:
        """Called when an order is pruned: its immediate amount can no longer be repeated."""
        self._immediate.pop(cloid, None)
