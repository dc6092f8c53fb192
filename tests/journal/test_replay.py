"""Replay (issue 17): a recorded run fed through a fresh maker reproduces every batch; a maker
that decides differently is caught at the first input where it does; a failing swarm seed
leaves evidence that replays to its violation; a journal of another format, layout or version
says so.  Journals here come from the swarm's seeds in virtual time: deterministic."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from core.events import Event, Fill
from core.harness.swarm import run_seed
from core.journal import codec
from core.journal.meta import engine_fingerprint
from core.journal.replay import Replay, verify
from core.journal.store import JournalError, JournalReader
from core.maker import MarketMaker
from core.maker.recipe import MakerRecipe
from core.view import Mode
from mm_console.cli import main

SEED = 24  # its operator script kills at 3.8 s and re-arms later
DURATION = 20.0


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("journal") / "seed.sqlite"
    result = run_seed(SEED, DURATION, journal=path)
    assert result.invariant is None
    return path


def test_a_recorded_run_verifies_batch_for_batch(recorded: Path) -> None:
    report = verify(recorded)
    assert report.ok, report.lines()
    assert report.inputs > 1000 and report.batches > 50
    assert report.warnings == []
    assert "verified: every recorded batch was reproduced exactly" in report.lines()


def test_the_cli_verifies_and_exits_0(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--verify", str(recorded)]) == 0
    assert "reproduced exactly" in capsys.readouterr().out


def test_a_non_deterministic_maker_is_caught_at_its_first_divergence(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A maker whose ids are drawn at random (what a maker reading the clock or chance would
    be) cannot reproduce its journal: --verify names the input, the recorded batches and the
    replayed ones, and exits 1."""
    build = MakerRecipe.build
    chance = random.Random(1)

    def random_ids(self: MakerRecipe) -> MarketMaker:
        maker = build(self)
        return MarketMaker(
            maker.params, self.instrument, venue=self.venue, cloid_prefix=chance.getrandbits(32)
        )

    monkeypatch.setattr(MakerRecipe, "build", random_ids)
    report = verify(recorded)
    assert not report.ok
    d = report.divergence
    assert d is not None and d.index > 1
    assert d.expected != d.produced
    assert main(["replay", "--verify", str(recorded)]) == 1
    out = capsys.readouterr().out
    assert f"first divergence at input {d.index}" in out
    assert "recorded:" in out and "replayed:" in out


def test_a_failing_seed_leaves_evidence_that_replays_to_its_violation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 item 5: the maker raises on its first fill (broken on purpose); the journal
    holds the run up to that input, marked as raised; replaying it with the same maker
    reproduces every batch and the raise, and the violation is a mark to jump to."""
    handle = MarketMaker.handle

    def fragile(self: MarketMaker, event: Event, now: float) -> list:  # type: ignore[type-arg]
        if isinstance(event, Fill):
            raise RuntimeError("broken on purpose")
        return handle(self, event, now)

    monkeypatch.setattr(MarketMaker, "handle", fragile)
    path = tmp_path / "failing.sqlite"
    result = run_seed(SEED, DURATION, journal=path)
    assert result.invariant == "maker_never_raises"
    report = verify(path)
    assert report.ok, report.lines()
    assert any("broke maker_never_raises" in w for w in report.warnings)
    with JournalReader(path) as reader:
        replay = Replay(reader)
        (at,) = replay.marks["violation"]
        assert replay.rows[at - 1].raised and replay.rows[at - 1].name == "Fill"
        assert at == replay.total  # the run stopped there
    monkeypatch.setattr(MarketMaker, "handle", handle)  # the fixed maker no longer raises
    fixed = verify(path)
    assert fixed.divergence is not None and fixed.divergence.expected == ["raised"]


def test_seeking_back_and_forth_shows_the_same_engine(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.journal.replay.CHECKPOINT_EVERY", 500)
    with JournalReader(recorded) as reader:
        replay = Replay(reader)
        (kill,) = replay.marks["kill"][:1]
        replay.seek(kill)
        killed = replay.view()
        assert killed is not None and killed.mode is Mode.KILLED
        far = min(replay.total, kill + 1700)
        replay.seek(far)
        later = [codec.to_record(b) for b in replay.maker.tick(replay.rows[far - 1].mono + 0.05)]
        replay.seek(1)
        first = replay.view()
        assert first is not None and first.mode is Mode.STARTING
        replay.seek(kill)  # from the start again: the same picture
        again = replay.view()
        assert again is not None
        assert (again.mode, again.position, again.orders) == (
            killed.mode,
            killed.position,
            killed.orders,
        )
        replay.seek(far)  # from a checkpoint: the same decisions
        assert replay.position == far
        assert [
            codec.to_record(b) for b in replay.maker.tick(replay.rows[far - 1].mono + 0.05)
        ] == later


def test_marks_find_kills_operator_actions_and_reconnects(recorded: Path) -> None:
    with JournalReader(recorded) as reader:
        replay = Replay(reader)
        marks = replay.marks
        names = {replay.rows[i - 1].name for i in marks["operator"]}
        assert {"Kill", "Rearm"} <= names
        assert marks["kill"] and marks["kill"][0] in marks["operator"]  # the operator's k
        assert replay.next_mark("kill") == marks["kill"][0]
        replay.seek(marks["kill"][0])
        assert replay.previous_mark("kill") is None
        rows = reader.marks()
        assert any(kind == "operator" and "Kill" in text for _, kind, _, _, text in rows)


def _copy(recorded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.sqlite"
    shutil.copy(recorded, copy)
    return copy


def _set_meta(path: Path, key: str, value: object) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(value), key))


def test_another_format_is_refused_by_name(recorded: Path, tmp_path: Path) -> None:
    path = _copy(recorded, tmp_path)
    _set_meta(path, "format", 99)
    with pytest.raises(JournalError, match="journal format 99, this mm-console reads format 1"):
        verify(path)
    assert main(["replay", "--verify", str(path)]) == 2


def test_another_record_layout_is_refused_naming_the_classes(
    recorded: Path, tmp_path: Path
) -> None:
    path = _copy(recorded, tmp_path)
    schema = codec.schema()
    schema["Fill"]["fields"] = ["tid", "price"]
    _set_meta(path, "schema", schema)
    with pytest.raises(JournalError, match=r"another record layout.*Fill: recorded"):
        verify(path)


def test_another_version_or_engine_build_is_said_before_the_replay(
    recorded: Path, tmp_path: Path
) -> None:
    path = _copy(recorded, tmp_path)
    _set_meta(path, "version", "0.0.1")
    _set_meta(path, "engine", "0123456789abcdef")
    report = verify(path)
    assert report.ok  # the same engine, in truth: it still reproduces every batch
    assert any("recorded by mm-console 0.0.1" in w for w in report.warnings)
    assert any(f"this one is {engine_fingerprint()}" in w for w in report.warnings)


def test_not_a_journal_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(JournalError, match="not an mm-console journal"):
        JournalReader(junk)
    with pytest.raises(JournalError, match="no such journal"):
        JournalReader(tmp_path / "missing.sqlite")
