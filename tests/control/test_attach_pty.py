"""``mm-console attach`` on a real pseudo-terminal (issue 18): Textual's real Linux driver,
keys as bytes a terminal emulator would write.  The first ``k`` paints the kill prompt, the
second kills the engine in the other process through the socket, ``q`` detaches and the
process exits 0 while the engine goes on, killed, for the next console to re-arm."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bench.live import attach_on_pty
from core.actions import Rearm
from core.view import Mode
from tests.control.kit import WAIT, attach, mode_is

pytestmark = pytest.mark.slow


def test_kill_from_an_attached_console_on_a_real_terminal(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = engine
    env = {**os.environ, "XDG_RUNTIME_DIR": str(path.parent.parent)}
    console, master, term = attach_on_pty("test-engine", env)
    try:
        assert term.painted(b"ATTACHED to test-engine", 0, WAIT), term.output[-2000:]
        watcher = attach(path)
        assert watcher.wait_for(mode_is(Mode.RUNNING), WAIT)
        mark = len(term.output)
        os.write(master, b"k")
        assert term.painted(b"stop quoting?", mark, WAIT), "the kill prompt is painted"
        os.write(master, b"k")
        assert watcher.wait_for(mode_is(Mode.KILLED), WAIT), "the kill reached the engine"
        os.write(master, b"q")
        assert console.wait(timeout=WAIT) == 0
        assert proc.poll() is None, "detaching left the engine running"
        assert watcher.latest_view is not None and watcher.latest_view.mode is Mode.KILLED
        watcher.operate(Rearm())
        assert watcher.wait_for(mode_is(Mode.RUNNING), WAIT)
        watcher.close()
    finally:
        if console.poll() is None:
            console.kill()
        os.close(master)
