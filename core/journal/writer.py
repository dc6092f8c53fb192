"""The journal's writer: a thread of its own, batched transactions, never in the engine's way.

The engine's loop only appends a tuple to a deque (``Journal.put``, tens of nanoseconds); this
thread wakes every ``flush_interval`` (0.1 s), encodes what has accumulated and commits it in
one transaction.  A SIGKILL therefore loses at most what arrived since the last commit: one
flush interval plus the time a commit takes (measured in ``bench/bench_journal.py``).

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

from core.commands import CancelAll
from core.journal import codec
from core.journal.store import connect_for_writing

# Pending records beyond which the writer is declared unable to keep up (about a minute of a
# saturated engine): memory must not grow without bound behind a stalled disk.
MAX_PENDING = 2_000_000

Record = tuple[int, str, str, float, float, float | None, str | None, bool, Any, tuple[Any, ...]]


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
        self._pending: deque[tuple[float, Record]] = deque()
        self._recorded = 0
        self._dropped = 0
        self._size = 0
        self._failed: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mm-journal", daemon=True)
        self._thread.start()

    # ---- the engine's side (any thread) ------------------------------------------------

    def put(self, record: Record) -> None:
        if self._failed is not None:
            self._dropped += 1
            return
        self._pending.append((time.monotonic(), record))

    def status(self) -> WriterStatus:
        pending = self._pending
        oldest = pending[0][0] if pending else None
        return WriterStatus(
            recorded=self._recorded,
            dropped=self._dropped,
            pending=len(pending),
            lag_s=0.0 if oldest is None else max(0.0, time.monotonic() - oldest),
            size_bytes=self._size,
            failed=self._failed,
        )

    def close(self, end: dict[str, Any] | None = None) -> WriterStatus:
        """Write what is pending and the end facts, then close the file (idempotent)."""
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            if self._failed is None and end:
                with contextlib.suppress(sqlite3.Error, OSError):
                    self._write_meta(end)
            with contextlib.suppress(sqlite3.Error, OSError):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
            self._size = _size_of(self.path)
        return self.status()

    # ---- the writer's thread ----------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        taken = [pending.popleft()[1] for _ in range(len(pending))]
        if self._failed is not None:
            self._dropped += len(taken)
            return
        records, marks = [], []
        for seq, kind, name, mono, wall, venue_time, source, raised, obj, batches in taken:
            if kind == "tick":
                payload = codec.encode_value(obj)
            elif obj is None:
                payload = None
            else:
                payload = codec.encode(obj)
            encoded = [codec.encode(b) for b in batches]
            records.append(
                (seq, kind, name, mono, wall, venue_time, source, raised, payload, encoded)
            )
            marks.extend(marks_of(seq, kind, name, wall, source, raised, obj, batches))
        first, last = records[0], records[-1]
        chunk = (
            first[0],
            last[0],
            len(records),
            first[3],
            last[3],
            first[4],
            last[4],
            zlib.compress(codec.encode_value(records), 6),
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
_TEXT = 300


def marks_of(
    seq: int,
    kind: str,
    name: str,
    wall: float,
    source: str | None,
    raised: bool,
    obj: Any,
    batches: tuple[Any, ...],
) -> list[tuple[int, str, float, str, str]]:
    """The ``marks`` rows of one input: what a post-mortem looks for first."""
    found = []
    if kind == "action":
        found.append((seq, "operator", wall, name, f"{obj!r} from {source}"[:_TEXT]))
    elif name in _REJECTIONS:
        found.append((seq, "rejection", wall, name, repr(obj)[:_TEXT]))
    elif name in _RECONNECTS:
        found.append((seq, "reconnect", wall, name, repr(obj)[:_TEXT]))
    if raised:
        found.append((seq, "raised", wall, name, "the maker raised on this input"))
    for batch in batches:
        for command in batch.commands:
            if isinstance(command, CancelAll) and command.reason.startswith(("kill", "halt")):
                found.append((seq, "kill", wall, name, command.reason[:_TEXT]))
                return found
    return found


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
