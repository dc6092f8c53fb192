"""The engine the control tests attach to: ``mm-console --no-ui`` in a subprocess, serving a
socket in a private runtime directory of the test's own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "XDG_DATA_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mm_console",
            "--no-ui",
            "--seed",
            "6",
            "--no-journal",
            "--name",
            "test-engine",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the build it runs (compiled or pure), then:
    assert line.startswith("mm-console: build "), line
    line = proc.stderr.readline()  # blocks until it listens
    assert "consoles attach at" in line, line
    path = Path(line.rsplit(" ", 1)[-1].strip())
    yield proc, path
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
