"""The process around the console: the engine on its own thread, Textual on the main one.

``run_console`` builds a session, runs ``Runner.run`` in ``asyncio.run`` on a thread of its own
(painting or a slow SSH link never stalls quoting) and runs ``ConsoleApp`` (``tui.app``) on the
main thread.  Stopping: ``q`` asks the runner to stop (the runner cancels every order and
verifies the venue is empty first); the app exits when the engine thread ends, as it does when
a ``--duration`` runs out.  SIGHUP (terminal gone) and SIGTERM do the same; whatever way the
app ends, the engine is stopped and joined before the process exits.  Exit code 0, or 3 when
the run ended HALTED, with orders left on the venue, or with engine errors (as the headless
command).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from core.config import Config
from core.exitcodes import EXIT_HALTED, EXIT_USAGE
from core.gcpolicy import quiet_collector
from core.reporter import session_summary, summary_lines
from core.runner import RunResult
from core.view import ConsoleView
from themes import load_themes
from tui.app import ConsoleApp
from tui.state import StateStore, state_path, user_theme_dir

_TEARDOWN_GRACE_S = 3.0  # how long a stopped engine gets to finish before the process exits


def run_console(
    config: Config,
    *,
    seed: int | None,
    duration: float | None,
    read_only: bool,
    journal: Path | None = None,
    no_journal: bool = False,
    metrics_port: int | None = None,
) -> int:
    from core.journal.files import JournalUnavailable, attach
    from core.session import SessionError, build_session

    metrics = None
    try:
        session = build_session(config, seed=seed)
        if metrics_port is not None:  # before the journal: a refusal leaves no file
            from core.metrics import MetricsExporter

            metrics = MetricsExporter()
            metrics.serve(metrics_port)
        attach(session, path=journal, disabled=no_journal)
    except (SessionError, JournalUnavailable) as exc:
        print(f"mm-console: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(
            f"mm-console: cannot serve metrics on 127.0.0.1:{metrics_port}: {exc}", file=sys.stderr
        )
        return EXIT_USAGE
    runner = session.runner
    runner.paced_collections = True  # collections between events (core/gcpolicy.py)
    if metrics is not None:
        runner.on_view = metrics.update
    outcome: dict[str, Any] = {}
    # Two busy threads share one GIL: the screen and the engine.  Python hands the GIL over
    # every 5 ms by default, so a key press or a kill could wait behind a frame being painted;
    # a 1 ms switch interval bounds that wait (the cost is a little more switching).
    sys.setswitchinterval(0.001)

    def engine() -> None:
        try:
            outcome["result"] = asyncio.run(runner.run(duration))
        except BaseException as exc:  # reported after the screen is gone
            outcome["error"] = exc

    thread = threading.Thread(target=engine, name="mm-engine", daemon=True)
    thread.start()
    hangup = threading.Event()
    returned = threading.Event()
    terminal_gone = _terminal_watch()

    def gone() -> bool:
        if terminal_gone():
            hangup.set()
        return hangup.is_set()

    def exit_when_stuck() -> None:
        """Textual cannot always restore a terminal that has gone away (its writer blocks), so
        once the terminal hung up and the engine has stopped, the process ends regardless."""
        hangup.wait()
        thread.join(runner.stop_timeout + 5.0)
        if not returned.wait(_TEARDOWN_GRACE_S):
            os._exit(_report(outcome, thread.is_alive(), runner.latest_view))

    threading.Thread(target=exit_when_stuck, name="mm-hangup", daemon=True).start()
    app = ConsoleApp(
        view_source=lambda: runner.latest_view,
        operate=lambda action: runner.operate(action, "console"),
        request_stop=runner.request_stop,
        engine_finished=lambda: not thread.is_alive(),
        terminal_gone=gone,
        started=quiet_collector,
        ui=config.ui,
        read_only=read_only,
        themes=load_themes(user_theme_dir()),
        state=StateStore(state_path()),
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if signum != signal.SIGTERM:
            hangup.set()
        runner.request_stop(f"{name}: terminal gone" if hangup.is_set() else f"{name} received")

    previous = {sig: signal.signal(sig, on_signal) for sig in _stop_signals()}
    try:
        app.run()
    finally:
        if thread.is_alive():
            runner.request_stop("console closed")
        thread.join(runner.stop_timeout + 5.0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if metrics is not None:
            metrics.close()
    returned.set()
    return _report(outcome, thread.is_alive(), runner.latest_view)


def _terminal_watch() -> Callable[[], bool]:
    """A check that the terminal we started on has hung up (an SSH link that dropped without
    a SIGHUP reaching us): the descriptors that were terminals now answer EIO."""
    fds = []
    for stream in (sys.__stdin__, sys.__stderr__):
        if stream is not None and stream.isatty():
            fds.append(stream.fileno())

    def gone() -> bool:
        for fd in fds:
            try:
                os.get_terminal_size(fd)
            except OSError as exc:
                if exc.errno == errno.EIO:
                    return True
        return False

    return gone


def _stop_signals() -> list[signal.Signals]:
    names = ("SIGHUP", "SIGTERM")
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


def _report(outcome: dict[str, Any], still_running: bool, view: ConsoleView | None) -> int:
    """Print how the run ended (to a terminal that may be gone: errors ignored); exit code."""
    code = _exit_code(outcome, still_running)
    with contextlib.suppress(OSError, ValueError):
        _print_summary(outcome, still_running, view)
    return code


def _exit_code(outcome: dict[str, Any], still_running: bool) -> int:
    if still_running or "error" in outcome:
        return EXIT_HALTED
    result: RunResult = outcome["result"]
    return result.exit_code


def _print_summary(outcome: dict[str, Any], still_running: bool, view: ConsoleView | None) -> None:
    if still_running:
        print("mm-console: the engine did not stop in time; check the venue", file=sys.stderr)
        return
    if "error" in outcome:
        print(f"mm-console: engine failed: {outcome['error']!r}", file=sys.stderr)
        return
    result: RunResult = outcome["result"]
    # The same numbers as the headless summary (issue 16 item 6).
    instrument = view.instrument if view is not None else None
    if instrument is None:
        print(f"stopped: {result.reason}; mode {result.mode.value}", flush=True)
    else:
        print("\n".join(summary_lines(session_summary(instrument, view, result))), flush=True)
    for error in result.errors:
        print(error, file=sys.stderr)
