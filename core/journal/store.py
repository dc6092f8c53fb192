"""The journal file: one SQLite database per session, its tables, and reading it back.

SQLite because it is the embedded default everyone can open (``sqlite3 FILE``, ``.tables``,
``SELECT * FROM marks``), survives a killed writer (WAL: a committed transaction is in the file
the moment the write returns, so a SIGKILL loses only what was not yet committed), and needs
nothing beyond the standard library.  The tables:

- ``meta``: one row per fact about the session, values as JSON text: the journal format,
  mm-console's version, the venue, the instrument, the config (TOML), the seed, the cloid
  prefix, the codec's schema, when it started and how it ended;
- ``chunks``: everything the maker was given and everything it returned, in order, one row per
  writer flush (about 0.1 s): the range of sequence numbers, monotonic and wall times it
  covers, and ``data``: zlib over msgpack arrays of inputs (one array per slice the writer
  encoded at a time).  Each input is ``[seq, kind,
  name, mono, wall, venue_time, source, raised, payload, [batch, ...]]``: ``kind`` is
  ``start``, ``event``, ``tick`` or ``action``; ``mono`` the ``now`` the maker was passed;
  ``wall`` local Unix time; ``venue_time`` the venue's stamp when the event carries one;
  ``source`` who asked (operator actions); ``raised`` when the maker raised on it (a bug,
  recorded); ``payload`` the record and ``batch`` each batch returned, as the codec's nested
  arrays (``core.journal.codec.to_record``).  Compressed in chunks, a default quoting
  session's journal is about a third of one row per input (``bench/bench_journal.py``
  reports MB per hour);
- ``marks``: one readable row per input worth finding -- operator actions, rejections,
  reconnects, kills and halts (the batch with their cancel-all), inputs the maker raised on --
  with its sequence number, wall time and a line of text: the post-mortem's index.

"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

FORMAT = 1  # bump when the tables change; a journal of another format is refused by name

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    first_seq INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    inputs INTEGER NOT NULL,
    first_mono REAL NOT NULL,
    last_mono REAL NOT NULL,
    first_wall REAL NOT NULL,
    last_wall REAL NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    wall REAL NOT NULL,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (seq, kind)
) WITHOUT ROWID;
"""


class JournalError(Exception):
    """A journal that cannot be read: missing, not a journal, another format, damaged."""


@dataclass(frozen=True, slots=True)
class InputRow:
    seq: int
    kind: str
    name: str
    mono: float
    wall: float
    venue_time: float | None
    source: str | None
    raised: bool
    payload: Any  # the record (``codec.to_record``); a tick's loop lag; None for start
    batches: tuple[tuple[Any, ...], ...]  # what the maker returned for it, as records


def connect_for_writing(path: Path) -> sqlite3.Connection:
    """A new journal (the file must not exist: one file is one session)."""
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL: a commit is durable against a killed process (the OS has the WAL), not against
    # a power cut; that is the journal's promise, and it keeps commits cheap.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    return conn


class JournalReader:
    """A finished (or still growing, or killed) journal, opened read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise JournalError(f"{path}: no such journal")
        try:
            # Read-only, but not immutable: a journal killed mid-run still has its WAL beside
            # it, and SQLite replays it on open.
            self._conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            rows = self._conn.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{path}: not an mm-console journal ({exc})") from None
        try:
            self.meta: dict[str, Any] = {key: json.loads(value) for key, value in rows}
        except ValueError as exc:
            raise JournalError(f"{path}: damaged meta table ({exc})") from None
        fmt = self.meta.get("format")
        if fmt != FORMAT:
            raise JournalError(
                f"{path}: journal format {fmt!r}, this mm-console reads format {FORMAT} "
                f"(written by mm-console {self.meta.get('version', '?')})"
            )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def require_layout(self) -> None:
        """Refuse a journal whose records this version would misread (another layout)."""
        from core.journal.codec import schema_changes

        changes = schema_changes(self.meta.get("schema", {}))
        if changes:
            raise JournalError(
                f"{self.path}: recorded by mm-console {self.meta.get('version', '?')} with "
                f"another record layout; this version cannot read it: " + "; ".join(changes[:5])
            )

    def _rows(self, sql: str) -> list[Any]:
        try:
            return self._conn.execute(sql).fetchall()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: damaged ({exc})") from None

    def count(self) -> int:
        return int(self._rows("SELECT coalesce(sum(inputs), 0) FROM chunks")[0][0])

    def span(self) -> tuple[float, float] | None:
        """The first and last ``now`` recorded (monotonic seconds), None when empty."""
        row = self._rows("SELECT min(first_mono), max(last_mono) FROM chunks")[0]
        return None if row[0] is None else (float(row[0]), float(row[1]))

    def marks(self) -> list[tuple[int, str, float, str, str]]:
        """(seq, kind, wall, name, text) of every marked input, in order."""
        return self._rows("SELECT seq, kind, wall, name, text FROM marks ORDER BY seq, kind")

    def inputs(self) -> Iterator[InputRow]:
        try:
            chunks = self._conn.execute("SELECT first_seq FROM chunks ORDER BY first_seq")
            starts = [first for (first,) in chunks]
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: damaged ({exc})") from None
        for first in starts:
            try:
                (data,) = self._conn.execute(
                    "SELECT data FROM chunks WHERE first_seq = ?", (first,)
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                raise JournalError(
                    f"{self.path}: the chunk from input {first} is damaged ({exc})"
                ) from None
            try:
                unpacker = msgpack.Unpacker(
                    use_list=False, raw=False, unicode_errors="surrogatepass"
                )
                unpacker.feed(zlib.decompress(data))
                rows = [
                    InputRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9])
                    for records in unpacker
                    for r in records
                ]
            except (zlib.error, ValueError, TypeError, IndexError) as exc:
                raise JournalError(
                    f"{self.path}: the chunk from input {first} is damaged ({exc})"
                ) from None
            yield from rows

    def size_bytes(self) -> int:
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
