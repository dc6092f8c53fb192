"""Where the console keeps its own files: the user state file and the user theme folder.

The state file (``state.toml``) remembers what the operator chose on screen (the theme).  It is
written with tomli-w, atomically, and is never the user's ``config.toml``: the console never
rewrites configuration.  ``MM_CONSOLE_STATE_DIR`` moves the state file (tests, shared hosts);
user themes live in ``$XDG_CONFIG_HOME/mm-console/themes`` (``~/.config`` by default).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import tomli_w

STATE_DIR_ENV = "MM_CONSOLE_STATE_DIR"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mm-console"


def user_theme_dir() -> Path:
    return config_dir() / "themes"


def state_path() -> Path:
    override = os.environ.get(STATE_DIR_ENV)
    return (Path(override) if override else config_dir()) / "state.toml"


class StateStore:
    """A tiny key/value file; unreadable or broken files read as empty (never fatal)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, object]:
        try:
            return tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
            return {}

    def theme(self) -> str | None:
        value = self.read().get("theme")
        return value if isinstance(value, str) and value else None

    def save_theme(self, name: str) -> None:
        data = self.read()
        data["theme"] = name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".toml.tmp")
        tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
        tmp.replace(self.path)
