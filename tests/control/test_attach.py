"""Attach and detach (issue 18): a headless engine in a subprocess serves its control socket;
consoles attach, watch, act and leave, and the engine never notices them come and go.  The
engine runs on the wall clock (a real subprocess); every wait is on the client's view stream
(``ControlClient.wait_for``), never a sleep."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.actions import Kill, Pause, Rearm
from core.control.client import AttachError, ControlClient, probe
from core.control.paths import ControlPathError, private_dir
from core.control.protocol import frame
from core.view import Mode
from tests.control.kit import WAIT, attach, mode_is

pytestmark = pytest.mark.slow


def test_the_socket_is_private(engine: tuple[subprocess.Popen[str], Path]) -> None:
    _, path = engine
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.name == "test-engine.sock"


def test_kill_through_the_socket_then_detach_and_rearm_from_another(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = engine
    first = attach(path)
    assert first.wait_for(mode_is(Mode.RUNNING), WAIT)
    first.operate(Kill("test"))
    assert first.wait_for(mode_is(Mode.KILLED), WAIT)
    view = first.latest_view
    assert view is not None and "test" in view.mode_reason
    first.close()  # detach: the engine goes on, still killed
    second = attach(path)
    assert second.latest_view is not None and second.latest_view.mode is Mode.KILLED
    second.operate(Rearm())
    assert second.wait_for(mode_is(Mode.RUNNING), WAIT)
    second.close()
    assert proc.poll() is None, "the engine never noticed the consoles come and go"


def test_two_consoles_see_each_other_and_a_killed_one_changes_nothing(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = engine
    watcher = attach(path)
    assert watcher.wait_for(mode_is(Mode.RUNNING), WAIT)
    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path;"
            "from core.control.client import ControlClient;"
            "c = ControlClient.attach(Path(sys.argv[1])); print('attached', flush=True);"
            "sys.stdin.read()",  # attached until killed: no sleep
            str(path),
        ],
        stdin=subprocess.PIPE,  # never closed: it stays attached until killed
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout is not None and other.stdout.readline().strip() == "attached"
    assert watcher.wait_for(lambda c: c.attached == 2, WAIT)
    other.kill()  # kill -9: a console gone without a word
    other.wait(timeout=10)
    assert watcher.wait_for(lambda c: c.attached == 1, WAIT)
    assert watcher.wait_for(mode_is(Mode.RUNNING), WAIT)
    assert probe(path)["attached"] == 1
    watcher.close()
    assert proc.poll() is None


def test_a_read_only_console_is_refused_by_the_engine(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    _, path = engine
    ro = attach(path, read_only=True)
    assert ro.wait_for(mode_is(Mode.RUNNING), WAIT)
    ro.operate(Kill("watching only"))
    ro.operate(Pause())
    assert ro.wait_for(lambda c: len(c.refusals) == 2, WAIT)
    assert all("read-only" in why for why in ro.refusals)
    seq_view = ro.latest_view
    assert ro.wait_for(lambda c: c.latest_view is not seq_view, WAIT)  # a later view:
    assert ro.latest_view is not None and ro.latest_view.mode is Mode.RUNNING  # not killed
    ro.close()


def test_a_lost_engine_is_said_at_once_and_keys_are_not_sent(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, path = engine
    client = attach(path)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert client.wait_for(lambda c: c.lost is not None, WAIT)
    assert "stopped" in (client.lost or "")
    with pytest.raises(RuntimeError, match="not connected"):
        client.operate(Kill("too late"))
    assert not path.exists(), "the engine removes its socket"


def test_another_protocol_version_is_refused_by_name(
    engine: tuple[subprocess.Popen[str], Path],
) -> None:
    _, path = engine
    with socket.socket(socket.AF_UNIX) as raw:
        raw.settimeout(10)
        raw.connect(str(path))
        raw.sendall(frame({"t": "hello", "v": 999, "pid": 1}))
        answer = raw.recv(4096)
    assert b"refused" in answer and b"same mm-console version" in answer


def test_a_second_engine_cannot_take_the_name(
    engine: tuple[subprocess.Popen[str], Path], tmp_path: Path
) -> None:
    _, path = engine
    env = {**os.environ, "XDG_RUNTIME_DIR": str(path.parent.parent)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mm_console",
            "--no-ui",
            "--duration",
            "1",
            "--no-journal",
            "--name",
            "test-engine",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "an engine already serves" in proc.stderr and "Traceback" not in proc.stderr


def test_an_open_socket_directory_is_refused(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    with pytest.raises(ControlPathError, match="open to other users"):
        private_dir(loose)


def test_no_engine_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AttachError, match="no engine at"):
        ControlClient.attach(tmp_path / "none.sock")


def test_in_process_read_only_points_to_attach() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mm_console", "--read-only"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "mm-console attach --read-only" in proc.stderr


def test_another_users_console_is_refused(tmp_path: Path) -> None:
    """SO_PEERCRED: a peer whose uid is not the engine's is refused before it says a word
    (the test cannot be another user; it makes the engine believe it is one)."""
    import asyncio

    from core.control import server as server_module

    async def scenario() -> bytes:
        runtime = tmp_path / "rt"
        runtime.mkdir(mode=0o700)
        srv = server_module.ControlServer(runtime / "x.sock", name="x")

        class NoRunner:
            latest_view = None
            started_at = None

        await srv.start(NoRunner())  # type: ignore[arg-type]
        reader, writer = await asyncio.open_unix_connection(str(srv.path))
        answer = await reader.read(4096)
        writer.close()
        await srv.close("done")
        assert srv.refused == 1
        return answer

    real = server_module.peer_uid
    server_module.peer_uid = lambda sock: (real(sock) or 0) + 1  # type: ignore[assignment]
    try:
        answer = asyncio.run(scenario())
    finally:
        server_module.peer_uid = real
    assert b"refused" in answer and b"another user" in answer


def test_read_only_in_the_config_is_refused_in_process_too(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[ui]\nread_only = true\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mm_console", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "ui.read_only = true is for watching" in proc.stderr
