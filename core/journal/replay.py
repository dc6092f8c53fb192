"""Replay: a recorded session fed through a fresh ``MarketMaker``, decision by decision.

The maker is sans-I/O and deterministic (time is passed in, nothing is drawn at random), so its
recorded inputs -- each event, tick and operator action with the ``now`` it was given -- are
enough to rebuild every state it was in.  ``Replay`` builds the maker from the journal's recipe
(``core.journal.meta``) and applies the inputs one at a time; after each it can compare the
batches the maker returned now with the batches it returned then, byte for byte.

- ``verify`` runs a whole journal headless and reports the first divergence (the input's
  index, what was recorded, what was produced): proof that the journal is complete and that
  this build of the engine decides as the recording one did.
- The console's replay (``tui.replay``) steps a ``Replay`` and shows ``view()``; jumping back
  rebuilds the maker and runs forward again from the nearest checkpoint (a deep copy of the
  maker taken every ``CHECKPOINT_EVERY`` inputs as play passes them).
- ``marks`` lists the inputs worth jumping to, from the journal's ``marks`` table: kills (a
  batch with a kill's or a halt's cancel-all), rejections, reconnects, operator actions.

A journal from another version, or another build of the engine, is named as such; one whose
record layout differs is refused with the classes that changed (``JournalError``).
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.build import register_copy_reducers
from core.clock import counter
from core.journal import codec
from core.journal.meta import engine_fingerprint, recipe_from, version
from core.journal.store import InputRow, JournalError, JournalReader
from core.maker import MarketMaker
from core.view import ConsoleView

register_copy_reducers()  # the checkpoints deep-copy the maker, compiled parts and all

Record = tuple[Any, ...]
CHECKPOINT_EVERY = 5000
MARK_KINDS = ("kill", "rejection", "reconnect", "operator", "violation")


@dataclass(frozen=True, slots=True)
class Divergence:
    index: int  # the input's sequence number (1 is the first)
    name: str  # what the input was
    expected: list[Any]  # the batches recorded (decoded), or "raised"
    produced: list[Any]  # the batches the replayed maker returned

    def lines(self) -> list[str]:
        return [
            f"first divergence at input {self.index} ({self.name}):",
            f"  recorded: {_show(self.expected)}",
            f"  replayed: {_show(self.produced)}",
        ]


def _show(batches: list[Any]) -> str:
    if not batches:
        return "nothing"
    return "; ".join(repr(b) for b in batches)


@dataclass(slots=True)
class VerifyReport:
    path: Path
    inputs: int = 0
    batches: int = 0
    recorded_s: float = 0.0  # the session's length (first to last input, monotonic)
    elapsed_s: float = 0.0  # how long the replay took
    divergence: Divergence | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None

    def lines(self) -> list[str]:
        speed = self.recorded_s / self.elapsed_s if self.elapsed_s > 0 else float("inf")
        out = list(self.warnings)
        out.append(
            f"{self.path}: {self.inputs:,} inputs, {self.batches:,} batches, "
            f"{self.recorded_s:,.1f} s recorded, replayed in {self.elapsed_s:.2f} s "
            f"({speed:,.0f}x real time)"
        )
        if self.divergence is None:
            out.append("verified: every recorded batch was reproduced exactly")
        else:
            out.extend(self.divergence.lines())
        return out


class Replay:
    """A journal and a maker rebuilt from it, at some position in the recording."""

    def __init__(self, reader: JournalReader, *, checkpoints: bool = True) -> None:
        self.reader = reader
        self.meta = reader.meta
        reader.require_layout()
        self.recipe = recipe_from(self.meta, str(reader.path))
        self.rows: list[InputRow] = list(reader.inputs())
        self.marks = self._marks(reader.marks())
        self.maker: MarketMaker = self.recipe.build()
        self.position = 0  # how many inputs have been applied
        self._checkpointing = checkpoints
        self._checkpoints: dict[int, MarketMaker] = {0: copy.deepcopy(self.maker)}

    # ---- what the recording is --------------------------------------------------------

    def warnings(self) -> list[str]:
        return warnings_for(self.meta)

    @property
    def total(self) -> int:
        return len(self.rows)

    def row(self, position: int) -> InputRow | None:
        """The input applied last when ``position`` inputs have been applied."""
        return self.rows[position - 1] if 0 < position <= len(self.rows) else None

    @staticmethod
    def expected(row: InputRow) -> list[Record]:
        return list(row.batches)

    # ---- stepping ---------------------------------------------------------------------

    def step(self) -> tuple[InputRow, list[Record], bool] | None:
        """Apply the next input: (the row, the batches produced as records; raised)."""
        if self.position >= len(self.rows):
            return None
        row = self.rows[self.position]
        produced, raised = apply(self.maker, row)
        self.position += 1
        if (
            self._checkpointing
            and self.position % CHECKPOINT_EVERY == 0
            and self.position not in self._checkpoints
        ):
            self._checkpoints[self.position] = copy.deepcopy(self.maker)
        return row, produced, raised

    def seek(self, position: int) -> None:
        """Be at ``position`` (inputs applied): forward by stepping, backward from the nearest
        checkpoint at or before it."""
        position = max(0, min(position, len(self.rows)))
        if position < self.position:
            start = max(p for p in self._checkpoints if p <= position)
            self.maker = copy.deepcopy(self._checkpoints[start])
            self.position = start
        while self.position < position:
            self.step()

    def play_until(self, mono: float, budget_s: float) -> bool:
        """Apply inputs recorded up to ``mono`` for at most ``budget_s`` of real time; True
        when it got there."""
        deadline = counter() + budget_s
        rows = self.rows
        while self.position < len(rows) and rows[self.position].mono <= mono:
            self.step()
            if counter() > deadline:
                return self.position >= len(rows) or rows[self.position].mono > mono
        return True

    # ---- marks --------------------------------------------------------------------------

    def _marks(self, rows: list[tuple[int, str, float, str, str]]) -> dict[str, list[int]]:
        """Positions (1-based input counts) of the inputs worth jumping to, by kind."""
        where = {row.seq: i for i, row in enumerate(self.rows, start=1)}
        marks: dict[str, list[int]] = {kind: [] for kind in MARK_KINDS}
        for seq, kind, _wall, _name, _text in rows:
            if kind in marks and seq in where:
                marks[kind].append(where[seq])
        violation = self.meta.get("violation")
        if isinstance(violation, dict) and violation.get("seq") in where:
            marks["violation"].append(where[violation["seq"]])
        return {kind: sorted(set(found)) for kind, found in marks.items()}

    def next_mark(self, kind: str) -> int | None:
        found = self.marks[kind]
        i = bisect.bisect_right(found, self.position)
        return found[i] if i < len(found) else None

    def previous_mark(self, kind: str) -> int | None:
        found = self.marks[kind]
        i = bisect.bisect_left(found, self.position)
        return found[i - 1] if i > 0 else None

    # ---- the picture --------------------------------------------------------------------

    def view(self) -> ConsoleView | None:
        row = self.row(self.position)
        if row is None:
            return None
        first = self.rows[0]
        view = self.maker.view(row.mono)
        return dataclasses.replace(view, epoch_offset=row.wall - row.mono, started=first.mono)


def apply(maker: MarketMaker, row: InputRow) -> tuple[list[Record], bool]:
    """Give the maker one recorded input as the session did; the batches it returns, as
    records, and whether it raised (the runner records a raise and carries on; so does
    replay)."""
    try:
        if row.kind == "event":
            batches = maker.handle(codec.from_record(row.payload), row.mono)
        elif row.kind == "tick":
            maker.loop_lag = float(row.payload or 0.0)
            batches = maker.tick(row.mono)
        elif row.kind == "action":
            batches = maker.operate(codec.from_record(row.payload), row.mono)
        elif row.kind == "start":
            batches = maker.start(row.mono)
        else:
            raise JournalError(f"input {row.seq}: unknown kind {row.kind!r}")
    except JournalError:
        raise
    except codec.CodecError as exc:
        raise JournalError(f"input {row.seq} ({row.name}) cannot be read: {exc}") from None
    except Exception:
        return [], True
    return [codec.to_record(b) for b in batches], False


def verify(path: Path, *, on_progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Replay a whole journal headless; stop at the first input whose batches differ.  The
    inputs are streamed chunk by chunk (a day's journal never sits in memory); a journal with
    no inputs is a ``JournalError`` (there is nothing to verify)."""
    report = VerifyReport(path)
    with JournalReader(path) as reader:
        reader.require_layout()
        maker = recipe_from(reader.meta, str(path)).build()
        report.warnings = warnings_for(reader.meta)
        span = reader.span()
        if span is None:
            raise JournalError(f"{path}: the journal holds no inputs: nothing to verify")
        report.recorded_s = span[1] - span[0]
        total = reader.count()
        began = counter()
        for i, row in enumerate(reader.inputs(), start=1):
            produced, raised = apply(maker, row)
            report.inputs = i
            expected = row.batches
            report.batches += len(expected)
            # Byte for byte: 1 == 1.0 == True in Python, never in the journal.
            same = not (produced or expected) or codec.pack(produced) == codec.pack(expected)
            if not same or raised != row.raised:
                report.divergence = Divergence(
                    row.seq,
                    row.name if row.kind != "tick" else "tick",
                    ["raised"] if row.raised else [codec.from_record(b) for b in expected],
                    ["raised"] if raised else [codec.from_record(b) for b in produced],
                )
                break
            if on_progress is not None and i % 10000 == 0:
                on_progress(i, total)
        report.elapsed_s = counter() - began
    return report


def warnings_for(meta: dict[str, Any]) -> list[str]:
    """Said before a replay: another version or engine build may decide differently; the
    recorded run broke an invariant; the session did not end cleanly."""
    out = []
    recorded, ours = meta.get("version"), version()
    if recorded != ours:
        out.append(f"recorded by mm-console {recorded}; this is {ours}")
    engine = meta.get("engine")
    if engine != engine_fingerprint():
        out.append(
            f"recorded by another build of the engine ({engine}; this one is "
            f"{engine_fingerprint()}): decisions may differ"
        )
    violation = meta.get("violation")
    if isinstance(violation, dict):
        out.append(
            f"the recorded run broke {violation.get('invariant')} at "
            f"t={violation.get('time', 0):.3f}s, just after input {violation.get('seq')}: "
            f"{str(violation.get('detail', '')).splitlines()[0][:200]}"
        )
    if meta.get("failed"):
        out.append(f"the journal stopped recording during the session: {meta['failed']}")
    elif "ended_wall" not in meta:
        out.append("the session did not end cleanly (killed?): its last inputs may be missing")
    return out
