"""Start-up: ``mm-console --no-ui`` to the first quote sent, and ``mm-console`` to the first
full frame, each from the moment the process is spawned.

* Headless: the child is ``python -c`` running exactly what the ``mm-console`` script runs
  (``mm_console.cli.main(["--no-ui", ...])``) with one addition made before it: the embedded
  venue's ``submit`` writes ``time.monotonic()`` to stderr when the first ``Place``/``Modify``
  reaches it.  (The JSON status lines come once a second, too coarse to time a one-second target.)
  The first quote needs the start-up reconciliation first — sync, cancel-all, two empty
  snapshots at least 0.3 s apart (D19, D25) — so part of this time is the protocol, not the
  code.  The time to the first status line of the real ``mm-console --no-ui --json`` is
  reported too.
* Console: the real ``mm-console`` in a pseudo-terminal of 160x48 (``TERM=xterm-256color``);
  the output is read as it comes, and the first full frame is the moment the screen has been
  written from the header (which shows the venue from the engine's first view) down to the
  footer.  Then ``q`` is sent (the console cancels everything and exits).

``time.monotonic`` is the same clock in parent and child.  Targets: first quote <= 1 s,
first frame <= 1.5 s.

    python -m bench.bench_startup [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from bench.results import Result

QUOTE_TARGET_S = 1.0
FRAME_TARGET_S = 1.5

_HEADLESS_CHILD = """
import sys, time
from core.commands import Modify, Place
from core.venues.sim.venue import SimVenue
_submit = SimVenue.submit
_seen = []
async def submit(self, batch):
    if not _seen and any(isinstance(c, (Place, Modify)) for c in batch.commands):
        _seen.append(time.monotonic())
        print(f"FIRST_QUOTE {_seen[0]!r}", file=sys.stderr, flush=True)
    await _submit(self, batch)
SimVenue.submit = submit
from mm_console.cli import main
raise SystemExit(main(["--no-ui", "--json", "--duration", "5"]))
"""


def _mm_console() -> list[str]:
    exe = shutil.which("mm-console", path=str(Path(sys.executable).parent))
    if exe is None:
        return [sys.executable, "-c", "from mm_console.cli import main; raise SystemExit(main())"]
    return [exe]


def headless_first_quote(timeout: float = 20.0) -> float:
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", _HEADLESS_CHILD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            if line.startswith("FIRST_QUOTE "):
                return float(line.split()[1]) - t0
        raise RuntimeError("the headless child never quoted")
    finally:
        proc.send_signal(signal.SIGINT)  # graceful stop: cancel all, exit
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def headless_first_status_line(timeout: float = 20.0) -> float:
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [*_mm_console(), "--no-ui", "--json", "--duration", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("mm-console --no-ui printed nothing")
        return time.monotonic() - t0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def console_first_frame(timeout: float = 30.0) -> tuple[float, float]:
    """(first output byte, first full frame), seconds from spawn."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="160", LINES="48")
    env.pop("NO_COLOR", None)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [*_mm_console(), "--duration", "20"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    buf = b""
    first_byte = frame = None
    header_at = -1
    try:
        deadline = t0 + timeout
        while frame is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                break
            now = time.monotonic()
            if first_byte is None:
                first_byte = now - t0
            buf += chunk
            if header_at < 0:
                header_at = buf.find(b"sim (")
            # The footer is the last line of a full screen: the last key label after the header.
            if header_at >= 0 and buf.find(b"Quit", header_at) >= 0:
                frame = now - t0
        if frame is None or first_byte is None:
            raise RuntimeError("mm-console never painted a full frame")
        return first_byte, frame
    finally:
        with contextlib.suppress(OSError):
            os.write(master, b"q")
        end = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        os.close(master)


def run(quick: bool = False, repeats: int | None = None) -> list[Result]:
    repeats = repeats if repeats is not None else (2 if quick else 5)
    quotes, lines, bytes_, frames = [], [], [], []
    for _ in range(repeats):
        quotes.append(headless_first_quote())
        lines.append(headless_first_status_line())
        first_byte, frame = console_first_frame()
        bytes_.append(first_byte)
        frames.append(frame)
    return [
        Result(
            "start-up: --no-ui to first quote sent",
            quotes,
            "s",
            target=("<=", QUOTE_TARGET_S),
            note="includes the start-up reconciliation (sync, cancel-all, verified empty twice)",
        ),
        Result("start-up: --no-ui to first status line", lines, "s", note="the real mm-console"),
        Result("start-up: console to first output", bytes_, "s", note="pty 160x48"),
        Result(
            "start-up: console to first full frame",
            frames,
            "s",
            target=("<=", FRAME_TARGET_S),
            note="pty 160x48, header (first view) down to the footer",
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--repeats", type=int)
    args = ap.parse_args()
    for r in run(args.quick, args.repeats):
        print(r.line())


if __name__ == "__main__":
    main()
