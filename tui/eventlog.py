"""The event log: what the engine did and why, newest first, filtered by order id and kind.

A line-API ``RowsView`` (``tui.lines``) because it holds thousands of entries; it keeps its own
history, since the engine's view carries only its last few hundred.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import ClassVar

from core.view import ConsoleView, LogEntry
from tui import fmt
from tui.lines import Row, RowsView


class EventLog(RowsView, can_focus=True):
    """The event log, newest first: ``HISTORY`` entries of its own, however fast the engine
    logs (the engine's view carries only its last few hundred), filtered by a cloid or oid
    (``filter``) and by kind (``kind``).  Order transitions flood it, so they are hidden
    unless asked for (``kind`` "all" or "transition") or an id is filtered (an order's history
    is its transitions).  Focus it (tab) to scroll back (issue 16)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log--time", "log--kind", "log--danger", "log--text"}
    _DANGER = frozenset({"kill", "rejection", "connection", "halt", "illegal"})
    VIRTUAL_STEP = 64
    HISTORY = 10_000
    # What the kind filter cycles through: None hides transitions, "all" shows everything.
    KINDS: tuple[str | None, ...] = (
        None,
        "all",
        "kill",
        "sweep",
        "reconcile",
        "fill",
        "venue",
        "connection",
        "operator",
        "recovery",
        "strategy",
        "transition",
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter = ""
        self.kind: str | None = None
        self._history: deque[LogEntry] = deque(maxlen=self.HISTORY)
        self._last: LogEntry | None = None  # the newest entry taken from a view
        self._shown: tuple[str, str | None] | None = None  # the filters the rows are for
        self._log_rows: list[Row] = []  # newest first, for the filters in ``_shown``
        self._hidden = 0  # transitions the default filter hides
        self._offset: float | None = None

    def cycle_kind(self) -> str | None:
        self.kind = self.KINDS[(self.KINDS.index(self.kind) + 1) % len(self.KINDS)]
        return self.kind

    def _matches(self, e: LogEntry) -> bool:
        key = self.filter.lower()
        if key and not (
            (e.cloid is not None and key in e.cloid.lower())
            or (e.oid is not None and key == str(e.oid))
        ):
            return False
        kind = self.kind
        if kind is None:
            return e.kind != "transition" or bool(key)
        return kind == "all" or e.kind == kind

    def _row(self, e: LogEntry) -> Row:
        kind_cls = "log--danger" if e.kind in self._DANGER else "log--kind"
        ids = f" [{fmt.short_cloid(e.cloid)}]" if e.cloid is not None else ""
        # UTC to the millisecond when the runner knows the calendar (issue 16), else the
        # session's own seconds (virtual time).
        offset = self._offset
        when = f"{e.time:10.1f}" if offset is None else fmt.utc(e.time + offset)
        return (
            (f"{when} ", "log--time"),
            (f"{e.kind:<10.10} ", kind_cls),
            (e.text + ids, "log--text"),
        )

    def _take_new(self, log: Sequence[LogEntry]) -> Sequence[LogEntry]:
        """The view's entries newer than the last one taken (entries are shared objects)."""
        last = self._last
        if last is not None:
            for i in range(len(log) - 1, -1, -1):
                if log[i] is last:
                    return log[i + 1 :]
        return log

    def show(self, view: ConsoleView) -> None:
        self._offset = view.epoch_offset
        new = self._take_new(view.log)
        if new:
            self._last = new[-1]
            self._history.extend(new)
        filters = (self.filter, self.kind)
        if self._shown != filters:
            self._shown = filters
            self._log_rows = [self._row(e) for e in reversed(self._history) if self._matches(e)]
            self._hidden = (
                sum(1 for e in self._history if e.kind == "transition")
                if self.kind is None and not self.filter
                else 0
            )
        elif new:
            fresh = [self._row(e) for e in reversed(new) if self._matches(e)]
            if self.kind is None and not self.filter:
                self._hidden += sum(1 for e in new if e.kind == "transition")
            if fresh:
                self._log_rows[:0] = fresh
                del self._log_rows[self.HISTORY :]
        else:
            return  # nothing new, nothing changed
        rows = list(self._log_rows)
        if self._hidden:
            rows.insert(0, ((f"{self._hidden} order transitions hidden", "log--kind"),))
        if not self._log_rows:
            if self.filter:
                empty = f"no log entries match {self.filter!r}"
            elif self.kind is None:
                empty = "nothing logged but order transitions (L shows them)"
            else:
                empty = f"no {self.kind} entries"
            rows.append(((empty, "log--kind"),))
        self.set_rows(rows)
