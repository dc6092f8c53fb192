"""Kill under load through a real terminal: the console in a child process on a
pseudo-terminal with Textual's real Linux driver, the embedded exchange on the wall clock
pushing 5,000 and 20,000 events per second; the time from the confirming key's byte reaching
the terminal to the ``CancelAll`` reaching the venue's ``submit``.

``bench.bench_kill`` posts Textual ``Key`` messages straight into the app under
``App.run_test`` (the headless driver), so it skips the path an operator's key really takes:
terminal -> the driver's input thread (raw-mode reads, escape-sequence parsing) -> the app's
message queue, with the driver's writer thread painting the screen and the engine thread
competing for the same GIL.  Here nothing is bypassed: per load level a child process
(``python -m bench.kill_tty_child``) builds the engine (``bench.live.Engine.paced``: a Runner
on its own thread, the workload's market scaled to the rate) and the real ``ConsoleApp``
(``bench.live.console_app``) and calls ``app.run()`` with stdin, stdout and stderr on the slave
side of a pseudo-terminal of 160x48 (``TERM=xterm-256color``).  This process writes key bytes
to the master side and reads everything the console paints, as a terminal emulator would.

Clocks: the child writes to a pipe a line per ``CancelAll`` at the venue, timestamped with
``time.perf_counter`` at ``submit`` on the engine thread, and the engine's mode (polled every
5 ms) and events handled.  ``time.perf_counter`` is ``CLOCK_MONOTONIC`` on Linux, one clock
for every process, so the child's timestamps and this process's compare directly.

Repeatedly: wait until the maker is quoting (the engine's view: RUNNING with orders resting),
wait a random 20-120 ms, write ``k``, wait until the confirmation dialog is painted (its title,
``stop quoting?``, appears in the terminal output after the byte offset at which ``k`` was
written; the time is when this process read it), wait a random 50-250 ms (the operator reads
it), write ``k`` again — the clock starts just before the write — and wait for the next
``CancelAll`` at the venue; then re-arm (``r``; when ``let quoting start again?`` is painted,
``y``) and start over.  A press that cannot be timed (dialog not painted within 5 s, no
CancelAll within 5 s, ...) is counted by reason and the console brought back to a known state
(the dialog left to expire, re-armed if killed); a child that dies, or whose kill key stopped
bringing up the dialog (three presses in a row: no key can bring it back), is counted and
replaced by a fresh one.  Both are reported next to the figures.  At the end ``q`` is written
(the console cancels every order and exits).

Figures: confirm key -> CancelAll at the venue p50/p99/max (targets: p99 <= 20 ms at 5k/s,
<= 50 ms at 20k/s), first ``k`` -> dialog painted (read from the terminal) and the load
achieved.

    python -m bench.bench_kill_tty [--quick] [--presses N] [--rates 5000,20000] [--dump FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import random
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from bench.bench_kill import TARGET_P99_MS, failures_note, kill_results
from bench.results import Result

SIZE = (160, 48)  # columns, lines
MAX_FAILURES = 40
MAX_SESSIONS = 4
STUCK_AFTER = 3  # prompts in a row not painted: the console is replaced
CONFIRM_WINDOW_S = 2.0  # tui.emergency / tui.screens: a prompt left open expires after it
DIALOG_MARKER = b"stop quoting?"  # "KILL: cancel every order and stop quoting?"
REARM_MARKER = b"let quoting start again?"  # "Re-arm the kill switch and let quoting ..."
KEEP_BYTES = 1 << 16  # the tail of the terminal output kept in memory
START_TIMEOUT_S = 90.0  # the child calibrates the workload, starts the engine, syncs
QUIT_TIMEOUT_S = 20.0
POLL_S = 0.02

_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")


def _chunks(fd: int, halt: threading.Event) -> Iterator[bytes]:
    """What arrives on ``fd`` until ``halt`` is set or the other side is gone (EOF, or EIO
    once every holder of a pty's slave side has closed it)."""
    while not halt.is_set():
        try:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
        except OSError:
            return
        if not chunk:
            return
        yield chunk


class ChildDied(RuntimeError):
    """The console process ended while a press was being timed (counted, then replaced)."""


class _Watch:
    """The first appearance of ``marker`` in the terminal output after byte ``offset``."""

    def __init__(self, marker: bytes, offset: int) -> None:
        self.marker = marker
        self.offset = offset
        self.at: float | None = None
        self.seen = threading.Event()


class PtyOutput(threading.Thread):
    """Drains the pty master (the child blocks when its output is not read), keeps the last
    ``KEEP_BYTES`` and a running byte count, and times the markers it is asked to watch."""

    def __init__(self, fd: int, dump: BinaryIO | None = None) -> None:
        super().__init__(name="pty-reader", daemon=True)
        self.fd = fd
        self.dump = dump
        self.total = 0  # bytes read so far
        self._buf = bytearray()
        self._base = 0  # the offset of _buf[0] in the whole output
        self._watches: list[_Watch] = []
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def expect(self, marker: bytes) -> _Watch:
        """Watch for ``marker`` in the output from now on (call it before writing the key)."""
        with self._lock:
            watch = _Watch(marker, self.total)
            self._watches.append(watch)
        return watch

    def forget(self, watch: _Watch) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._watches.remove(watch)

    def tail(self, n: int = 4000) -> str:
        """The last ``n`` bytes of output without escape sequences (for error messages)."""
        with self._lock:
            data = bytes(self._buf[-n:])
        return _ANSI.sub(b"", data).decode("utf-8", "replace")

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        for chunk in _chunks(self.fd, self._halt):
            now = time.perf_counter()
            if self.dump is not None:
                self.dump.write(chunk)
            with self._lock:
                start = self.total
                self._buf += chunk
                self.total += len(chunk)
                for watch in list(self._watches):
                    # A marker may straddle two reads: look back by its length.
                    begin = max(watch.offset, start - len(watch.marker) + 1, self._base)
                    if self._buf.find(watch.marker, begin - self._base) >= 0:
                        watch.at = now
                        watch.seen.set()
                        self._watches.remove(watch)
                excess = len(self._buf) - KEEP_BYTES
                if excess > 0:
                    del self._buf[:excess]
                    self._base += excess


class Reports(threading.Thread):
    """Parses the child's report lines: CancelAll times, the engine's mode, events handled."""

    def __init__(self, fd: int) -> None:
        super().__init__(name="report-reader", daemon=True)
        self.fd = fd
        self.mode = ""
        self.orders = 0
        self.cancel_all: list[float] = []
        self.events: tuple[int, float] | None = None  # (events handled, at)
        self.exit_code = ""
        self.changed = threading.Condition()
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        pending = b""
        for chunk in _chunks(self.fd, self._halt):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            with self.changed:
                for line in lines:
                    with contextlib.suppress(ValueError, IndexError):  # not a report line
                        self._parse(line.decode().split())
                self.changed.notify_all()

    def _parse(self, words: list[str]) -> None:
        if not words:
            return
        kind = words[0]
        if kind == "cancel_all":
            self.cancel_all.append(float(words[1]))
        elif kind == "mode":
            self.mode, self.orders = words[1], int(words[2])
        elif kind == "events":
            self.events = (int(words[1]), float(words[2]))
        elif kind == "exit":
            self.exit_code = words[1]

    @property
    def quoting(self) -> bool:
        return self.mode == "RUNNING" and self.orders > 0

    def cancel_all_after(self, t0: float) -> float | None:
        return next((t for t in self.cancel_all if t >= t0), None)


class Child:
    """``python -m bench.kill_tty_child`` on a fresh pty of 160x48, with its two readers."""

    def __init__(self, rate: float, seed: int, dump: BinaryIO | None = None) -> None:
        master, slave = os.openpty()
        report_r, report_w = os.pipe()
        self.master, self.report_r = master, report_r
        try:
            columns, lines = SIZE
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
            env = dict(os.environ, TERM="xterm-256color")
            for name in ("COLUMNS", "LINES", "NO_COLOR"):
                env.pop(name, None)
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.kill_tty_child",
                    "--rate",
                    str(rate),
                    "--seed",
                    str(seed),
                    "--report-fd",
                    str(report_w),
                ],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                pass_fds=(report_w,),
                start_new_session=True,
                env=env,
                cwd=Path(__file__).resolve().parent.parent,
            )
        except BaseException:
            for fd in (master, report_r):
                os.close(fd)
            raise
        finally:
            os.close(slave)
            os.close(report_w)
        self.pty = PtyOutput(master, dump)
        self.reports = Reports(report_r)
        self.pty.start()
        self.reports.start()

    def send(self, key: bytes) -> float:
        """Write ``key`` to the terminal; the time just before the write."""
        t = time.perf_counter()
        os.write(self.master, key)
        return t

    def check(self) -> None:
        code = self.proc.poll()
        if code is not None:
            if code < 0:
                raise ChildDied(f"the console process was killed by {signal.Signals(-code).name}")
            lines = [line.strip() for line in self.pty.tail().splitlines() if line.strip()]
            last = lines[-1][:200] if lines else "no output"
            raise ChildDied(f"the console process exited with code {code} ({last})")

    def wait(self, check: Callable[[Reports], bool], timeout: float) -> bool:
        """Until ``check(reports)`` holds (False after ``timeout`` s); raises if the child died."""
        deadline = time.perf_counter() + timeout
        reports = self.reports
        with reports.changed:
            while not check(reports):
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self.check()
                reports.changed.wait(min(left, POLL_S))
        return True

    def painted(self, watch: _Watch, timeout: float) -> float | None:
        """When the watched marker was read from the terminal (None after ``timeout`` s)."""
        deadline = time.perf_counter() + timeout
        try:
            while not watch.seen.wait(POLL_S):
                if time.perf_counter() > deadline:
                    return None
                self.check()
            return watch.at
        finally:
            self.pty.forget(watch)

    def close(self) -> None:
        """``q`` (cancel every order and exit), then SIGTERM, then SIGKILL; close the fds."""
        proc = self.proc
        try:
            deadline = time.perf_counter() + QUIT_TIMEOUT_S
            while proc.poll() is None and time.perf_counter() < deadline:
                # Again every few seconds: a dialog left open reads (and drops) every key.
                with contextlib.suppress(OSError):
                    os.write(self.master, b"q")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(min(3.0, max(deadline - time.perf_counter(), 0.01)))
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5.0)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
        finally:
            for reader in (self.pty, self.reports):
                reader.stop()
            for reader in (self.pty, self.reports):
                reader.join(2.0)
            for fd in (self.master, self.report_r):
                with contextlib.suppress(OSError):
                    os.close(fd)


def _killed(r: Reports) -> bool:
    return r.mode == "KILLED"


def _rearm(child: Child) -> bool:
    """Re-arm through the keys (r, then y in the dialog), as an operator would."""
    for _ in range(3):
        if not child.wait(_killed, 5.0):
            return not _killed(child.reports)
        # The console polls the engine's view at refresh_hz: r is enabled once it shows KILLED.
        time.sleep(0.25)
        watch = child.pty.expect(REARM_MARKER)
        child.send(b"r")
        if child.painted(watch, 5.0) is not None:
            child.send(b"y")
            if child.wait(lambda r: r.mode != "KILLED", 5.0):
                return True
        time.sleep(CONFIRM_WINDOW_S + 0.5)  # let a dialog left open expire
    return False


def _fail(child: Child, out: dict[str, Any], reason: str) -> None:
    """Count a press that could not be timed and bring the console back to a known state."""
    out["failed"][reason] = out["failed"].get(reason, 0) + 1
    time.sleep(CONFIRM_WINDOW_S + 0.5)  # a dialog left open expires by itself
    if _killed(child.reports):
        _rearm(child)


def _drive(child: Child, presses: int, rng: random.Random, out: dict[str, Any]) -> None:
    """One child: press until ``out`` holds ``presses`` timings.  Results go into ``out`` as
    they come, so they survive a child that dies."""
    reports = child.reports
    if not child.wait(lambda r: r.quoting, START_TIMEOUT_S):
        raise RuntimeError(f"the engine never started quoting (mode {reports.mode or '-'})")
    time.sleep(1.0)  # settle
    start, events0 = time.perf_counter(), reports.events
    unpainted = 0  # presses in a row whose prompt was not painted
    try:
        while len(out["confirm"]) < presses and sum(out["failed"].values()) < MAX_FAILURES:
            if reports.mode == "HALTED":
                raise RuntimeError("the engine halted")
            if not child.wait(lambda r: r.quoting, 15.0):
                _fail(child, out, "the maker was not quoting again within 15 s")
                continue
            time.sleep(rng.uniform(0.02, 0.12))
            watch = child.pty.expect(DIALOG_MARKER)
            first = child.send(b"k")
            painted = child.painted(watch, 5.0)
            if painted is None:
                _fail(child, out, "the confirmation dialog was not painted within 5 s")
                unpainted += 1
                if unpainted >= STUCK_AFTER:
                    # No operator key brings the prompt back: a fresh console does.
                    raise RuntimeError(
                        f"the kill key stopped showing the prompt ({unpainted} presses in a "
                        f"row, engine {reports.mode})"
                    )
                continue
            unpainted = 0
            out["dialog"].append(painted - first)
            # The operator reads the dialog, then confirms.
            time.sleep(rng.uniform(0.05, 0.25))
            confirm = child.send(b"k")

            def arrived(r: Reports, t: float = confirm) -> bool:
                return r.cancel_all_after(t) is not None

            if not child.wait(arrived, 5.0):
                late = confirm - painted > CONFIRM_WINDOW_S
                _fail(
                    child,
                    out,
                    "the dialog's 2 s window ran out before the confirm key"
                    if late
                    else "no CancelAll at the venue within 5 s of the confirm key",
                )
                continue
            at = reports.cancel_all_after(confirm)
            assert at is not None
            out["confirm"].append(at - confirm)
            _rearm(child)
    finally:
        events1 = reports.events
        out["press_seconds"] += time.perf_counter() - start
        if events0 is not None and events1 is not None and events1[1] > events0[1]:
            out["press_events"] += events1[0] - events0[0]
            out["events_seconds"] += events1[1] - events0[1]


def measure(rate: float, presses: int, seed: int = 11, dump: Path | None = None) -> dict[str, Any]:
    """Children at ``rate`` until ``presses`` kills were timed (a child that dies is counted
    and replaced by a fresh one)."""
    rng = random.Random(seed)
    out: dict[str, Any] = {
        "confirm": [],
        "dialog": [],
        "failed": {},
        "crashes": [],
        "press_seconds": 0.0,
        "press_events": 0,
        "events_seconds": 0.0,
    }
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(dump.open("ab")) if dump is not None else None
        for _ in range(MAX_SESSIONS):
            child = Child(rate, seed, sink)
            try:
                _drive(child, presses, rng, out)
            except Exception as exc:
                out["crashes"].append(f"{type(exc).__name__}: {exc}")
            finally:
                child.close()
            if len(out["confirm"]) >= presses or sum(out["failed"].values()) >= MAX_FAILURES:
                break
    return out


def run(
    quick: bool = False,
    presses: int | None = None,
    rates: tuple[int, ...] = (5000, 20000),
    verbose: bool = True,
    dump: Path | None = None,
) -> list[Result]:
    presses = presses if presses is not None else (15 if quick else 200)
    results: list[Result] = []
    for rate in rates:
        out = measure(rate, presses, dump=dump)
        k = f"{rate // 1000}k/s"
        confirm_ms = [1e3 * x for x in out["confirm"]]
        dialog_ms = [1e3 * x for x in out["dialog"]]
        n = len(confirm_ms)
        rate_seen = out["press_events"] / max(out["events_seconds"], 1e-9)
        load = (
            f"{n} presses in {out['press_seconds']:.0f} s at {rate_seen:,.0f} events/s handled; "
            f"pty {SIZE[0]}x{SIZE[1]}, real Linux driver"
        )
        load += failures_note(out, "the console process failed", "restarted")
        if verbose:
            print(f"  {k}: {load}", flush=True)
        if not n:
            results.append(
                Result.skipped_because(f"kill (tty) @{k}: confirm key -> CancelAll", load)
            )
            continue
        results += kill_results(
            "kill (tty)", k, confirm_ms, dialog_ms, load, TARGET_P99_MS.get(rate)
        )
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--presses", type=int)
    ap.add_argument("--rates", default="5000,20000", help="events per second, comma-separated")
    ap.add_argument("--dump", type=Path, help="append everything the console paints to FILE")
    args = ap.parse_args()
    rates = tuple(int(r) for r in args.rates.split(","))
    for r in run(args.quick, args.presses, rates, dump=args.dump):
        print(r.line())


if __name__ == "__main__":
    main()
