"""The journal's writer: a thread of its own, batched transactions, never in the engine's way.

The engine's thread hands over inputs already encoded (``encode_input``, called by
``core.journal.recorder``); this thread wakes every ``flush_interval`` (0.1 s), packs what has
accumulated (in slices, letting go of the interpreter between them), compresses it (zlib
releases the interpreter) and commits it in one transaction.  A SIGKILL therefore loses at
most what arrived since the last commit: one flush interval plus the time a commit takes
(measured in ``bench/bench_journal.py``).

A failure to write -- a full disk, a file-size limit, a directory that went away -- is
reported once through ``on_failure`` and the writer stops writing (records are dropped and
counted); what the engine does about it (continue, or halt when the journal is required) is
the caller's decision.  The writer never raises into the engine.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.clock import counter, monotonic_now
from core.commands import CancelAll
from core.journal import codec
from core.journal.codec import to_record
from core.journal.store import connect_for_writing

SLICE = 128  # records packed in one call (a C call: it holds the interpreter, ~50 us)
HOLD_S = 0.0001  # the writer packs for at most about this long before letting go
# Pending inputs beyond which the writer is declared unable to keep up (about 200 MB; at a
# live session's rate, a quarter of an hour of a stalled disk).
MAX_PENDING = 300_000

# An input as recorded: seq, kind, name, mono, wall, venue_time, source, raised, the event or
# action (a tick's loop lag), the batches returned.
RawInput = tuple[int, str, str, float, float, float | None, str | None, bool, Any, Any]
Mark = tuple[int, str, float, str, str]
# The same with the event and batches as codec records, and its marks rows.
Encoded = tuple[RawInput, list[Mark] | None]


def encode_input(raw: RawInput) -> Encoded:
    """An input as the chunks hold it (``codec.to_record``), with its ``marks`` rows (None
    for most: no list is made for an input that is not marked)."""
    seq, kind, name, mono, wall, venue_time, source, raised, obj, batches = raw
    if batches:
        return (
            (
                seq,
                kind,
                name,
                mono,
                wall,
                venue_time,
                source,
                raised,
                None if obj is None or kind == "tick" else to_record(obj),
                tuple([to_record(b) for b in batches]),
            ),
            marks_of(seq, kind, name, wall, source, raised, obj, batches) or None,
        )
    if kind == "event" and name not in MARKED_NAMES and not raised:
        return (seq, kind, name, mono, wall, venue_time, None, False, to_record(obj), ()), None
    payload = obj if kind == "tick" or obj is None else to_record(obj)
    marks = marks_of(seq, kind, name, wall, source, raised, obj, batches) or None
    return (seq, kind, name, mono, wall, venue_time, source, raised, payload, ()), marks


@dataclass(frozen=True, slots=True)
class WriterStatus:
    recorded: int  # inputs committed to the file
    dropped: int  # inputs never written (after a failure)
    pending: int  # waiting for the next commit
    lag_s: float  # how long the oldest waiting input has waited (0 when none)
    size_bytes: int  # the file with its WAL, at the last commit
    failed: str | None  # why writing stopped, if it did


class JournalWriter:
    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        *,
        flush_interval: float = 0.1,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        """Create the file and write its meta table now, on the caller's thread, so that a
        journal that cannot be created is known before the session trades (``OSError`` or
        ``sqlite3.Error`` from here)."""
        self.path = path
        self.flush_interval = flush_interval
        self.on_failure = on_failure
        self._conn = connect_for_writing(path)
        self._write_meta(meta)
        self._pending: deque[Encoded] = deque()
        self._since: float | None = None  # when the oldest input now pending was handed over
        self._recorded = 0
        self._dropped = 0
        self._size = 0
        self._failed: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mm-journal", daemon=True)
        self._thread.start()

    # ---- the engine's side (any thread) ------------------------------------------------

    def put_many(self, records: list[Encoded]) -> None:
        if self._failed is not None:
            self._dropped += len(records)
            return
        if self._since is None:
            self._since = monotonic_now()
        self._pending.extend(records)
        if len(self._pending) > MAX_PENDING:
            # A disk that stalls must not grow the engine's memory without bound.
            self._fail("the journal cannot keep up with the engine (disk stalled?)", 0)

    def status(self) -> WriterStatus:
        since = self._since
        return WriterStatus(
            recorded=self._recorded,
            dropped=self._dropped,
            pending=len(self._pending),
            lag_s=0.0 if since is None else max(0.0, monotonic_now() - since),
            size_bytes=self._size,
            failed=self._failed,
        )

    def close(self, end: dict[str, Any] | None = None) -> WriterStatus:
        """Write what is pending and the end facts, then close the file (idempotent)."""
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            if end:
                facts = end if self._failed is None else {**end, "failed": self._failed}
                with contextlib.suppress(sqlite3.Error, OSError):
                    self._write_meta(facts)  # best effort after a failure
            with contextlib.suppress(sqlite3.Error, OSError):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
            self._size = _size_of(self.path)
        return self.status()

    # ---- the writer's thread ----------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self._flush_reporting()
        self._flush_reporting()

    def _flush_reporting(self) -> None:
        """Whatever goes wrong is a failure reported once, never a writer that died
        silently while the engine goes on believing it records."""
        try:
            self._flush()
        except Exception as exc:
            if self._failed is None:
                self._fail(f"the journal's writer failed: {exc!r}"[:300], len(self._pending))
            self._pending.clear()

    def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        self._since = None
        taken = [pending.popleft() for _ in range(len(pending))]
        if self._failed is not None:
            self._dropped += len(taken)
            return
        slices = []
        marks: list[Mark] = []
        clock = counter
        held_since = clock()
        for start in range(0, len(taken), SLICE):
            part = taken[start : start + SLICE]
            slices.append(codec.pack([record for record, _ in part]))
            for _, found in part:
                if found:
                    marks.extend(found)
            if clock() - held_since > HOLD_S:
                # Let the engine's thread have the interpreter: packing a saturated engine's
                # tenth of a second must not hold it for milliseconds.
                time.sleep(0)
                held_since = clock()
        first, last = taken[0][0], taken[-1][0]
        chunk = (
            first[0],
            last[0],
            len(taken),
            first[3],
            last[3],
            first[4],
            last[4],
            zlib.compress(b"".join(slices), 6),  # zlib lets go of the interpreter meanwhile
        )
        try:
            with self._conn:  # one transaction per flush
                self._conn.execute("BEGIN")
                self._conn.execute("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", chunk)
                self._conn.executemany("INSERT INTO marks VALUES (?, ?, ?, ?, ?)", marks)
        except (sqlite3.Error, OSError) as exc:
            self._fail(_why(exc), len(taken))
            return
        self._recorded += len(taken)
        self._size = _size_of(self.path)
        if len(pending) > MAX_PENDING:
            self._fail("the journal cannot keep up with the engine", len(pending))
            pending.clear()

    def _fail(self, reason: str, lost: int) -> None:
        self._failed = reason
        self._dropped += lost
        if self.on_failure is not None:
            with contextlib.suppress(Exception):  # the report must never take the writer down
                self.on_failure(reason)

    def _write_meta(self, facts: dict[str, Any]) -> None:
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in facts.items()],
            )


_REJECTIONS = frozenset({"PlaceRejected", "ModifyRejected", "CancelRejected"})
_RECONNECTS = frozenset({"Connected", "Disconnected"})
MARKED_NAMES = _REJECTIONS | _RECONNECTS
_TEXT = 300


def marks_of(
    seq: int,
    kind: str,
    name: str,
    wall: float,
    source: str | None,
    raised: bool,
    obj: Any,
    batches: Any,
) -> list[Mark]:
    """The ``marks`` rows of one input: what a post-mortem looks for first."""
    found = []
    if kind == "action":
        found.append((seq, "operator", wall, name, _text(f"{obj!r} from {source}")))
    elif name in _REJECTIONS:
        found.append((seq, "rejection", wall, name, _text(repr(obj))))
    elif name in _RECONNECTS:
        found.append((seq, "reconnect", wall, name, _text(repr(obj))))
    if raised:
        found.append((seq, "raised", wall, name, "the maker raised on this input"))
    for batch in batches:
        for command in batch.commands:
            if isinstance(command, CancelAll) and command.reason.startswith(("kill", "halt")):
                found.append((seq, "kill", wall, name, _text(command.reason)))
                return found
    return found


def _text(text: str) -> str:
    """A line for the ``marks`` table: short, and valid UTF-8 whatever the venue sent."""
    return text[:_TEXT].encode("utf-8", "backslashreplace").decode("utf-8")


def _size_of(path: Path) -> int:
    total = 0
    for p in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError) and "full" in text:
        return f"disk full ({text})"
    return text
