"""Where journals live, what they are called, how long they are kept, and opening one for a
session.

One file per session, named by when it started (UTC), the venue and the market, under the
user's data directory unless the config or ``--journal PATH`` says otherwise.  Retention runs
at start-up over the journal directory only, and only over files that look like our journals
(``session-*.sqlite`` with their WAL and shared-memory companions): oldest first until the
directory is within ``max_total_mb``, and any older than ``max_age_days``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.clock import unix_now
from core.config import JournalConfig
from core.journal.recorder import Journal
from core.maker.recipe import MakerRecipe
from core.session import Session

_NAME = re.compile(r"^session-\d{8}T\d{6}Z-[A-Za-z0-9_.-]+\.sqlite$")
_COMPANIONS = ("-wal", "-shm")
_ACTIVE_S = 60.0  # a journal written this recently may belong to a running session


class JournalUnavailable(Exception):
    """A required journal could not be created: the session must not trade."""


def default_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mm-console" / "journals"


def journal_dir(config: JournalConfig) -> Path:
    return Path(config.dir).expanduser() if config.dir else default_dir()


def new_path(directory: Path, venue_kind: str, symbol: str, now: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(unix_now() if now is None else now))
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{venue_kind}-{symbol}")
    path = directory / f"session-{stamp}-{label}.sqlite"
    n = 1
    while path.exists():  # two sessions started in the same second
        n += 1
        path = directory / f"session-{stamp}-{label}-{n}.sqlite"
    return path


def journals_in(directory: Path) -> list[Path]:
    """Our journals in a directory, oldest first (by name: the name is the start time)."""
    try:
        return sorted(p for p in directory.iterdir() if _NAME.match(p.name) and p.is_file())
    except OSError:
        return []


def _size(path: Path) -> int:
    total = 0
    for p in (path, *(path.with_name(path.name + c) for c in _COMPANIONS)):
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total


def prune(directory: Path, max_total_bytes: int, max_age_s: float, now: float) -> list[Path]:
    """Delete journals beyond the age limit, then the oldest until the rest fit the size
    limit.  Returns what was deleted.  Never touches a file that is not one of ours."""
    files = journals_in(directory)
    deleted = []
    sizes = {p: _size(p) for p in files}
    total = sum(sizes.values())
    for path in files:
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue
        if age < _ACTIVE_S:
            continue  # another session may be writing it right now
        if age > max_age_s or total > max_total_bytes:
            for p in (path, *(path.with_name(path.name + c) for c in _COMPANIONS)):
                with contextlib.suppress(OSError):  # one that cannot go never blocks a start
                    p.unlink()
            total -= sizes[path]
            deleted.append(path)
    return deleted


@dataclass(frozen=True, slots=True)
class Opened:
    journal: Journal | None
    notice: str | None  # one line for the operator: where it records, or why it does not


def open_for_session(
    config: JournalConfig,
    recipe: MakerRecipe,
    *,
    seed: int | None,
    path: Path | None = None,
    disabled: bool = False,
    on_failure: Callable[[str], None] | None = None,
) -> Opened:
    """The session's journal, or None with the reason.  ``JournalUnavailable`` when the
    config requires a journal that cannot be created (the session must refuse to start)."""
    if disabled or (path is None and not config.enabled):
        if config.required:
            raise JournalUnavailable(
                "journal.required = true, but journaling is switched off "
                "(--no-journal or journal.enabled = false)"
            )
        return Opened(None, None)
    try:
        if path is None:
            directory = journal_dir(config)
            directory.mkdir(parents=True, exist_ok=True)
            prune(
                directory, config.max_total_mb * 1_000_000, config.max_age_days * 86400, unix_now()
            )
            path = new_path(directory, recipe.config.venue.kind, recipe.instrument.symbol)
        journal = Journal(path, recipe, seed=seed, on_failure=on_failure, deferred=True)
    except (OSError, sqlite3.Error) as exc:
        why = f"cannot create the journal {path or journal_dir(config)}: {_reason(exc)}"
        if config.required:
            raise JournalUnavailable(why + " (journal.required = true)") from None
        return Opened(None, why + "; the session is not recorded")
    return Opened(journal, f"journal: {path}")


def attach(
    session: Session,
    *,
    path: Path | None = None,
    disabled: bool = False,
) -> str | None:
    """Give the session's runner its journal (the CLI's and the console's one way to do it).
    Returns the line to show the operator; ``JournalUnavailable`` when a required journal
    cannot be created."""
    runner = session.runner
    config = session.config.journal
    _survive_file_size_limits()
    opened = open_for_session(
        config,
        session.recipe,
        seed=session.seed,
        path=path,
        disabled=disabled,
        on_failure=runner.journal_failed,
    )
    runner.journal = opened.journal
    runner.journal_required = config.required
    if opened.journal is None and opened.notice is not None:
        runner.journal_problem = opened.notice
    return opened.notice


def _survive_file_size_limits() -> None:
    """A file-size limit (``ulimit -f``) ends a process that writes past it with SIGXFSZ by
    default; ignored, the write fails with EFBIG instead and the journal reports it like a
    full disk -- the engine keeps its orders under control either way."""
    if hasattr(signal, "SIGXFSZ") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
