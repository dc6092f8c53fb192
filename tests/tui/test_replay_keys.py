"""The replay console's keys (issue 17): play and pause, step, speed, jump to the next and
previous kill, rejection, reconnect or operator action, back to the start; the emergency and
order keys do nothing and say so.  The journal is a swarm seed's, recorded in virtual time;
the app's clock is a fake one, so playback moves only when the test says."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.harness.swarm import run_seed
from core.journal.replay import Replay
from core.journal.store import JournalReader
from core.view import Mode
from tests.tui.test_tui import SIZE, FakeClock, settle, until
from tui.replay import ReplayApp


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "seed24.sqlite"
    assert run_seed(24, 20.0, journal=path).invariant is None  # a kill at 3.8 s, then a re-arm
    return path


def make(journal: Path, clock: FakeClock, **kwargs) -> ReplayApp:
    app = ReplayApp(Replay(JournalReader(journal)), clock=clock, autoplay=False, **kwargs)
    said: list[str] = []
    notify = app.notify

    def keep(message: str, **kw) -> None:  # toasts expire; a slow machine must not lose one
        said.append(message)
        notify(message, **kw)

    app.notify = keep  # type: ignore[method-assign]
    app.said = said  # type: ignore[attr-defined]
    return app


def notices(app: ReplayApp) -> list[str]:
    return list(app.said)  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_n_jumps_to_the_kill_and_the_console_shows_it(journal: Path) -> None:
    clock = FakeClock()
    app = make(journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.replay.position == 1
        await pilot.press("n")  # marks start on kills
        await until(pilot, lambda: app.view is not None and app.view.mode is Mode.KILLED, "killed")
        kill = app.replay.marks["kill"][0]
        assert app.replay.position == kill
        assert "kill: input" in " ".join(notices(app))
        assert "REPLAY" in str(app.bar.render()) and f"input {kill:,}/" in str(app.bar.render())
        await pilot.press("N")  # no kill before the first one
        await settle(pilot)
        assert app.replay.position == kill
        assert "no previous kill" in " ".join(notices(app))


@pytest.mark.asyncio
async def test_m_chooses_what_n_and_shift_n_jump_to(journal: Path) -> None:
    app = make(journal, FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for kind in ("rejection", "reconnect", "operator"):
            await pilot.press("m")
            await settle(pilot)
            assert app.mark_kind == kind
        operator = app.replay.marks["operator"]
        await pilot.press("n", "n")
        await until(pilot, lambda: app.replay.position == operator[1], "second operator action")
        await pilot.press("N")
        await until(pilot, lambda: app.replay.position == operator[0], "back to the first")
        assert app.replay.row(app.replay.position).kind == "action"


@pytest.mark.asyncio
async def test_step_play_pause_speed_and_home(journal: Path) -> None:
    clock = FakeClock()
    app = make(journal, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("full_stop", "full_stop")
        await until(pilot, lambda: app.replay.position == 3, "two steps")
        assert not app.playing
        await pilot.press("plus", "plus")
        await settle(pilot)
        assert app.speed == 4.0
        await pilot.press("minus")
        await settle(pilot)
        assert app.speed == 2.0
        await pilot.press("space")
        await settle(pilot)
        assert app.playing
        start = app.replay.position
        app._frame()  # the first frame after play starts the clock
        clock.now += 1.0  # one second of wall time at 2x: two recorded seconds
        app._frame()
        row = app.replay.row(app.replay.position)
        assert app.replay.position > start and row is not None
        assert row.mono <= app.replay.rows[0].mono + 2.0 + 0.01
        await pilot.press("space")
        await settle(pilot)
        assert not app.playing
        await pilot.press("home")
        await until(pilot, lambda: app.replay.position == 1, "back to the start")


@pytest.mark.asyncio
async def test_emergency_and_order_keys_do_nothing_and_say_so(journal: Path) -> None:
    app = make(journal, FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")  # at the kill: a live console would offer re-arm here
        await until(pilot, lambda: app.view is not None and app.view.mode is Mode.KILLED, "kill")
        position = app.replay.position
        for key in ("k", "c", "p", "P", "x", "r"):
            await pilot.press(key)
            await settle(pilot)
        labels = ("KILL", "Cancel all", "Pause", "Pause+cxl", "Re-arm")
        await until(
            pilot,
            lambda: all(f"{x}: does nothing in replay" in " ".join(notices(app)) for x in labels),
            "each order key said it does nothing",
        )
        assert app.replay.position == position  # nothing moved, nothing sent
        assert app.view is not None and app.view.mode is Mode.KILLED
        await pilot.press("q")
        await settle(pilot)
    assert app.return_code in (0, None)
