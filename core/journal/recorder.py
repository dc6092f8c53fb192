"""The runner's side of the journal: each input the maker receives, and what it returned.

``Journal`` is what the shell holds: ``start``, ``event``, ``tick`` and ``action`` are called
right after the maker's own call, on the engine's loop, with the batches it returned.  Each one
stamps the input (the ``now`` the maker was given, local wall time, the venue's time when the
event carries one, who asked for an action) and appends one tuple to the writer's queue: no
encoding and no I/O on the engine's loop (``core.journal.writer`` does both on its thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.actions import Action
from core.commands import Batch
from core.events import Event
from core.journal.meta import session_meta
from core.journal.writer import JournalWriter, WriterStatus
from core.maker.recipe import MakerRecipe

_NO_BATCHES: tuple[Batch, ...] = ()


class Journal:
    def __init__(
        self,
        path: Path,
        recipe: MakerRecipe,
        *,
        seed: int | None,
        flush_interval: float = 0.1,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        """Create the file now (``OSError``/``sqlite3.Error`` when it cannot be)."""
        self.path = path
        meta = session_meta(recipe, seed=seed, started_wall=time.time())
        self._writer = JournalWriter(
            path, meta, flush_interval=flush_interval, on_failure=on_failure
        )
        self._put = self._writer.put
        self._seq = 0
        self._violation: dict[str, Any] | None = None

    def _record(
        self,
        kind: str,
        name: str,
        now: float,
        venue_time: float | None,
        source: str | None,
        raised: bool,
        obj: Any,
        batches: Sequence[Batch],
    ) -> None:
        self._seq += 1
        self._put(
            (
                self._seq,
                kind,
                name,
                now,
                time.time(),
                venue_time,
                source,
                raised,
                obj,
                tuple(batches),
            )
        )

    def start(self, now: float, batches: Sequence[Batch]) -> None:
        self._record("start", "start", now, None, None, False, None, batches)

    def event(
        self, event: Event, now: float, batches: Sequence[Batch] | None, raised: bool = False
    ) -> None:
        self._record(
            "event",
            type(event).__name__,
            now,
            getattr(event, "venue_time", None),
            None,
            raised,
            event,
            batches or _NO_BATCHES,
        )

    def tick(
        self, now: float, loop_lag: float, batches: Sequence[Batch] | None, raised: bool = False
    ) -> None:
        self._record("tick", "tick", now, None, None, raised, loop_lag, batches or _NO_BATCHES)

    def action(
        self,
        action: Action,
        source: str,
        now: float,
        batches: Sequence[Batch] | None,
        raised: bool = False,
    ) -> None:
        self._record(
            "action",
            type(action).__name__,
            now,
            None,
            source,
            raised,
            action,
            batches or _NO_BATCHES,
        )

    def violation(self, invariant: str, now: float, detail: str) -> None:
        """The swarm's probe: the recorded run broke an invariant just after the last input
        recorded (written with the end facts; replay shows it as a mark)."""
        self._violation = {
            "invariant": invariant,
            "time": now,
            "seq": self._seq,
            "detail": detail[:2000],
        }

    def status(self) -> WriterStatus:
        return self._writer.status()

    def close(self, end: dict[str, Any] | None = None) -> WriterStatus:
        facts: dict[str, Any] = {"ended_wall": time.time(), **(end or {})}
        if self._violation is not None:
            facts["violation"] = self._violation
        return self._writer.close(facts)
