"""What the review of issue 17 found, kept fixed: a journal writer never dies silently, a
damaged or foreign journal is a clear error, not a traceback, and the exports read right."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from core.config import Config
from core.events import Disconnected
from core.journal.export import _avg
from core.journal.recorder import Journal
from core.journal.replay import verify
from core.journal.store import JournalError, JournalReader
from core.maker.recipe import MakerRecipe
from core.simconfig import SimConfig
from mm_console.cli import main


def _journal(path: Path, **kw: object) -> Journal:
    inst = SimConfig().instrument()
    return Journal(path, MakerRecipe(Config(), inst, False, "test", 1), seed=None, **kw)


def test_a_lone_surrogate_from_the_venue_is_recorded_exactly(tmp_path: Path) -> None:
    """'"\\ud800"' is valid JSON: a venue's text may carry it; the writer must neither die nor
    fail on it (the review: one such event killed the writer thread silently)."""
    j = _journal(tmp_path / "j.sqlite")
    odd = Disconnected("gone \ud800 away")
    j.event(odd, 1.0, None)
    status = j.close()
    assert status.failed is None and status.recorded == 1
    with JournalReader(tmp_path / "j.sqlite") as reader:
        (row,) = list(reader.inputs())
        (mark,) = reader.marks()
    from core.journal.codec import from_record

    assert from_record(row.payload) == odd
    assert "\\ud800" in mark[4]  # the marks table holds valid text


def test_any_writer_failure_is_reported_once(tmp_path: Path, monkeypatch) -> None:
    told: list[str] = []
    j = _journal(tmp_path / "j.sqlite", on_failure=told.append)
    monkeypatch.setattr("core.journal.writer.codec.pack", lambda v: 1 / 0)
    j.event(Disconnected("x"), 1.0, None)
    status = j.close()
    assert status.failed is not None and "ZeroDivisionError" in status.failed
    assert len(told) == 1
    with JournalReader(tmp_path / "j.sqlite") as reader:
        assert reader.meta["failed"] == status.failed  # the end facts say so


def test_an_empty_journal_has_nothing_to_verify(tmp_path: Path) -> None:
    _journal(tmp_path / "empty.sqlite").close()
    with pytest.raises(JournalError, match="holds no inputs"):
        verify(tmp_path / "empty.sqlite")
    assert main(["replay", "--verify", str(tmp_path / "empty.sqlite")]) == 2


def test_a_damaged_journal_is_a_clear_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "d.sqlite"
    j = _journal(path)
    for n in range(200):
        j.event(Disconnected(f"reason {n}" * 20), float(n), None)
    j.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE chunks SET data = X'00112233'")
    for argv in (
        ["replay", "--verify", str(path)],
        ["journal", "fills", str(path)],
        ["journal", "show", str(path), "--all"],
    ):
        assert main(argv) == 2, argv
        assert "damaged" in capsys.readouterr().err


def test_an_average_price_prints_as_a_price() -> None:
    inst = SimConfig().instrument()
    ticks = int(Decimal(3000) / inst.tick_size)
    assert _avg(inst, ticks * 5, 5) == "3000"
