"""Where control sockets live, and the checks that keep them private (D21).

Sockets are in ``$XDG_RUNTIME_DIR/mm-console/`` (the user's own tmpfs, cleared at logout), or
``/tmp/mm-console-<uid>/`` without one; the directory is created mode 0700 and must be ours
and private, or the engine refuses to serve (another user could otherwise swap the socket).
Each socket file is mode 0600, and every peer's uid is checked on connect: never TCP, never
another user.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ControlPathError(Exception):
    """The socket's place is unsafe or unusable; the message says why and what to do."""


def socket_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "mm-console"
    return Path("/tmp") / f"mm-console-{os.getuid()}"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ControlPathError(
            f"engine name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-'"
        )
    return name


def socket_path(name: str) -> Path:
    return socket_dir() / f"{check_name(name)}.sock"


def private_dir(directory: Path) -> Path:
    """Create ``directory`` mode 0700, or check that the existing one is ours and private."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError as exc:
        raise ControlPathError(f"cannot create {directory}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ControlPathError(f"{directory} is not a directory")
    if info.st_uid != os.getuid():
        raise ControlPathError(f"{directory} belongs to another user; refusing to serve there")
    if info.st_mode & 0o077:
        raise ControlPathError(
            f"{directory} is open to other users (mode {stat.S_IMODE(info.st_mode):o}); "
            f"chmod 700 {directory}"
        )
    return directory
