"""The runner's side of the journal: each input the maker receives, and what it returned.

``Journal`` is what the shell holds: ``start``, ``event``, ``tick`` and ``action`` are called
right after the maker's own call, on the engine's loop, with the batches it returned.  Each one
stamps the input (the ``now`` the maker was given, local wall time, the venue's time when the
event carries one, who asked for an action) and appends it, in the order the maker received
it, to a list.

Encoding (``codec.to_record``, about a microsecond an input) happens on the engine's thread
too, but *after* the reaction has gone out: the runner records an input right after the maker's
call -- before any ``await``, so that the order is the maker's -- and calls ``settle()`` once
the batches are submitted.  (An encoder on the writer's thread would fight the engine for the
interpreter on every event: measured, that cost a third of the engine's throughput and
milliseconds of reaction time; see ``bench/bench_journal.py``.)  With ``deferred=False``
(the swarm's probe, tools) each input is encoded as it is recorded.  The writer's thread only
packs, compresses and commits (``core.journal.writer``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.actions import Action
from core.clock import unix_now
from core.commands import Batch
from core.events import Event
from core.journal.meta import session_meta
from core.journal.writer import JournalWriter, RawInput, WriterStatus, encode_input
from core.maker.recipe import MakerRecipe

_wall = unix_now


class Journal:
    def __init__(
        self,
        path: Path,
        recipe: MakerRecipe,
        *,
        seed: int | None,
        flush_interval: float = 0.1,
        on_failure: Callable[[str], None] | None = None,
        deferred: bool = False,
    ) -> None:
        """Create the file now (``OSError``/``sqlite3.Error`` when it cannot be).
        ``deferred``: inputs wait for ``settle()`` to be encoded (the runner's way)."""
        self.path = path
        meta = session_meta(recipe, seed=seed, started_wall=unix_now())
        self._writer = JournalWriter(
            path, meta, flush_interval=flush_interval, on_failure=on_failure
        )
        self._seq = 0
        self._violation: dict[str, Any] | None = None
        self._deferred = deferred
        self._raw: list[RawInput] = []

    def _record(
        self,
        kind: str,
        name: str,
        now: float,
        venue_time: float | None,
        source: str | None,
        raised: bool,
        obj: Any,
        batches: Sequence[Batch] | None,
    ) -> None:
        self._seq += 1
        raw = (self._seq, kind, name, now, _wall(), venue_time, source, raised, obj, batches or ())
        if self._deferred:
            self._raw.append(raw)
        else:
            self._writer.put_many([encode_input(raw)])

    def settle(self) -> None:
        """Encode what was recorded since the last call and hand it to the writer (the
        runner calls this once a reaction's batches are on their way)."""
        raw = self._raw
        if raw:
            self._raw = []
            self._writer.put_many(list(map(encode_input, raw)))

    def start(self, now: float, batches: Sequence[Batch]) -> None:
        self._record("start", "start", now, None, None, False, None, batches)

    def event(
        self, event: Event, now: float, batches: Sequence[Batch] | None, raised: bool = False
    ) -> None:
        # The hot path (every market data event): ``_record`` written out, one call less.
        self._seq = seq = self._seq + 1
        raw = (
            seq,
            "event",
            type(event).__name__,
            now,
            _wall(),
            getattr(event, "venue_time", None),
            None,
            raised,
            event,
            batches or (),
        )
        if self._deferred:
            self._raw.append(raw)
        else:
            self._writer.put_many([encode_input(raw)])

    def tick(
        self, now: float, loop_lag: float, batches: Sequence[Batch] | None, raised: bool = False
    ) -> None:
        self._record("tick", "tick", now, None, None, raised, loop_lag, batches)

    def action(
        self,
        action: Action,
        source: str,
        now: float,
        batches: Sequence[Batch] | None,
        raised: bool = False,
    ) -> None:
        self._record("action", type(action).__name__, now, None, source, raised, action, batches)

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
        self.settle()
        facts: dict[str, Any] = {"ended_wall": unix_now(), **(end or {})}
        if self._violation is not None:
            facts["violation"] = self._violation
        return self._writer.close(facts)
