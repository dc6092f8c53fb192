"""Fill gaps: the venue says an order traded more than the fills we have seen (D33, D34).

A "filled" status, a cancel that reports a filled size, a status answer or an open-orders row
with less left than we think: each says how much of an order has traded.  Fills travel on their
own channel (D10), so for a moment they may simply be behind; but if they were lost (a dropped
message, a row we could not read, D34), the position stays short until the next periodic sync,
and every decision in between (limits, reduce-only sizes, the kill switch) is made on a wrong
position.  So a gap gets ``wait`` seconds for the fills to arrive on their own, and then one
fetch of the venue's fills by time (``FetchFills``), de-duplicated by trade id like any replay
(D4).  Gaps share fetches: one in flight at a time, looking back far enough for the oldest.  A
gap that outlives ``max_fetches`` fetches is handed to position reconciliation (D16) and closed.
A fill row we could not read is a gap too, with no order to check: one fetch closes it; so is
a position that drifts from the venue's (D16): the fills since the position last agreed are
fetched at once, instead of waiting for the drift to be seen twice while trades keep changing
it (a market where fills are lost never shows the same drift twice).

It decides when to fetch and how far back; the maker sends and counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.pacing import RetryPacing

LOST_ROW = ""  # the key of a gap left by a fill row we could not read (no order known)
DRIFT = "drift"  # the key of a gap the venue's position showed (never a cloid: those are 0x...)
_WHOLE = (LOST_ROW, DRIFT)  # gaps with no order to check: any fetch closes them
_MARGIN_S = 5.0  # fetched further back than the gap's start: clock skew, queueing at the venue
_ROW_LOOKBACK_S = 60.0  # a fill row we could not read is recent: it came on the live stream
MAX_LOOKBACK_S = 3600.0


@dataclass(slots=True)
class _Gap:
    venue_filled: int  # what the venue says traded (lots); 0 for a lost row
    since: float  # fills missing from here on (local clock): none can be older
    due: float
    noted_at: float  # a fetch sent before this cannot have looked for it
    fetches: int = 0


@dataclass(frozen=True, slots=True)
class FetchPlan:
    lookback_s: float
    reason: str


class FillGaps:
    """Open gaps by cloid (``LOST_ROW`` for unreadable rows), and the one fetch in flight."""

    __slots__ = ("_gaps", "_in_flight", "fetches", "max_fetches", "pacing", "timeout", "wait")

    def __init__(
        self, *, wait: float, pacing: RetryPacing, timeout: float, max_fetches: int = 3
    ) -> None:
        self.wait = wait
        self.pacing = pacing
        self.timeout = timeout
        self.max_fetches = max_fetches
        self._gaps: dict[str, _Gap] = {}
        self._in_flight: float | None = None  # when the fetch in flight was sent
        self.fetches = 0

    def __len__(self) -> int:
        return len(self._gaps)

    def __contains__(self, cloid: object) -> bool:
        return cloid in self._gaps

    def note(self, cloid: str, venue_filled: int, since: float, now: float) -> None:
        """The venue says ``cloid`` has ``venue_filled`` lots traded, more than we counted."""
        gap = self._gaps.get(cloid)
        if gap is None:
            self._gaps[cloid] = _Gap(venue_filled, since, now + self.wait, now)
        elif venue_filled > gap.venue_filled:
            gap.venue_filled = venue_filled

    def note_lost_row(self, now: float) -> None:
        """A fill row could not be read: one of our trades may be missing."""
        if LOST_ROW not in self._gaps:
            self._gaps[LOST_ROW] = _Gap(0, now - _ROW_LOOKBACK_S, now + self.wait, now)

    def note_drift(self, since: float, now: float) -> None:
        """The venue's position differs from ours: fetch our fills since ``since`` (when the
        two last agreed), after the usual wait for fills still on the wire."""
        gap = self._gaps.get(DRIFT)
        if gap is None:
            self._gaps[DRIFT] = _Gap(0, max(since, now - MAX_LOOKBACK_S), now + self.wait, now)
        elif since < gap.since:
            gap.since = since

    def close(self, cloid: str) -> None:
        self._gaps.pop(cloid, None)

    def open_gaps(self) -> list[tuple[str, int]]:
        """(cloid, lots the venue says traded) of every open gap with an order."""
        return [(c, g.venue_filled) for c, g in self._gaps.items() if c not in _WHOLE]

    def due(self, now: float) -> FetchPlan | None:
        """The fetch to send now, if a gap is due and none is in flight."""
        if self._in_flight is not None:
            if now - self._in_flight < self.timeout:
                return None
            self._in_flight = None  # its answer is lost: the gaps are still open
        if not any(g.due <= now for g in self._gaps.values()):
            return None
        oldest = min(g.since for g in self._gaps.values())
        self._in_flight = now
        self.fetches += 1
        lookback = min(MAX_LOOKBACK_S, now - oldest + _MARGIN_S)
        n = len(self._gaps)
        return FetchPlan(lookback, f"{n} fill gap{'s' if n != 1 else ''} (D33)")

    def fetched(self, now: float, *, failed: bool) -> list[str]:
        """The fetch was answered (``failed``: the venue could not be asked).  The gaps with
        no order are closed by any answer; the others stay until the caller closes the ones
        the fills filled, and are paced.  Only gaps noted before the fetch went out count: one
        noted while it was on its way may be older than it looked (a drift seen meanwhile
        once closed unfetched).  Returns the cloids given up on (past ``max_fetches``)."""
        sent = self._in_flight if self._in_flight is not None else now
        self._in_flight = None
        if not failed:
            for key in _WHOLE:
                gap = self._gaps.get(key)
                if gap is not None and gap.noted_at <= sent:
                    del self._gaps[key]
        given_up: list[str] = []
        for cloid, gap in list(self._gaps.items()):
            if gap.noted_at > sent:
                continue
            gap.fetches += 1
            if gap.fetches >= self.max_fetches and not failed:
                del self._gaps[cloid]
                given_up.append(cloid)
            else:
                gap.due = now + self.pacing.delay(gap.fetches)
        return given_up
