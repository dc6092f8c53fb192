"""The attached console under Textual's pilot (issue 18): the same panes and keys, fed over
the socket by an engine in a subprocess.  ``k`` twice kills the engine (judged by the
console's emergency path, sent over the socket), ``q`` detaches and leaves the engine as it
was, and an engine that goes away is said at once, loudly, with keys that no longer send."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from core.actions import Kill
from core.control.client import ControlClient
from core.view import Mode
from tests.control.kit import WAIT, attach, mode_is
from tests.tui.test_tui import SIZE, FakeClock, settle, until
from tui.attach import AttachedApp
from tui.screens import ConfirmScreen

pytestmark = pytest.mark.slow


def app_for(client: ControlClient) -> AttachedApp:
    return AttachedApp(client, clock=FakeClock())


@pytest.mark.asyncio
async def test_kill_from_the_attached_console_then_detach(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = engine
    client = attach(path)
    assert client.wait_for(mode_is(Mode.RUNNING), WAIT)
    app = app_for(client)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view is not None, "a view from the engine")
        assert "ATTACHED to test-engine" in str(app.bar.render())
        await pilot.press("k", "k")
        assert client.wait_for(mode_is(Mode.KILLED), WAIT), "the kill reached the engine"
        await until(pilot, lambda: app.view is not None and app.view.mode is Mode.KILLED, "shown")
        await pilot.press("q")
        await settle(pilot)
    client.close()
    watcher = attach(path)
    assert watcher.latest_view is not None and watcher.latest_view.mode is Mode.KILLED
    assert watcher.attached == 1  # the console that left is gone, nothing else changed
    watcher.close()
    assert proc.poll() is None


@pytest.mark.asyncio
async def test_a_lost_engine_is_said_loudly_and_keys_do_not_send(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = engine
    client = attach(path)
    app = app_for(client)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view is not None, "a view from the engine")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert client.wait_for(lambda c: c.lost is not None, WAIT)
        app._show_bar()  # what the bar's timer does, now
        await until(pilot, lambda: "ENGINE LOST" in str(app.bar.render()), "lost")
        assert not app.emergency.enabled
        app.action_pause()
        await settle(pilot)
        said = " ".join(n.message for n in app._notifications)
        assert "not sent" in said


@pytest.mark.asyncio
async def test_read_only_badge_and_no_stop(engine: tuple[subprocess.Popen[str], Path]) -> None:
    _, path = engine
    client = attach(path, read_only=True)
    app = app_for(client)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view is not None, "a view from the engine")
        assert "READ-ONLY" in str(app.bar.render())
        await pilot.press("S")
        await settle(pilot)
        assert "cannot stop the engine" in " ".join(n.message for n in app._notifications)
    client.close()


@pytest.mark.asyncio
async def test_a_console_attached_to_a_killed_engine_rearms_it(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    """The operator's round trip: kill from one console, detach, attach again later and re-arm
    -- the new console must offer ``r`` and the engine must quote again."""
    proc, path = engine
    killer = attach(path)
    assert killer.wait_for(mode_is(Mode.RUNNING), WAIT)
    killer.operate(Kill("operator"))
    assert killer.wait_for(mode_is(Mode.KILLED), WAIT)
    killer.close()
    client = attach(path)
    app = app_for(client)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.view is not None, "a view from the engine")
        view = app.view
        assert view is not None and view.last_sweep is not None
        verified = [e.time for e in view.log if e.text.startswith("venue verified empty")]
        # D25: the header says when the venue was verified empty, not when this console
        # first saw it (a console attached later used to show its own attach time).
        assert view.last_sweep.at == verified[-1] < view.time
        assert app.check_action("rearm", ()) is True, "the footer offers r"
        assert app.active_bindings["q"].binding.description == "Detach"
        await pilot.press("r")
        # The engine is another process streaming views into this app: under load a round of
        # messages is short and many pass before the question's screen is mounted.
        await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmScreen),
            "the re-arm question",
            rounds=600,
        )
        await pilot.press("r")
        assert client.wait_for(mode_is(Mode.RUNNING), WAIT), "re-armed at the engine"
        await pilot.press("q")
        await settle(pilot)
    client.close()
    assert proc.poll() is None
