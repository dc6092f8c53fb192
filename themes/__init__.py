"""Colour themes as data: the packaged ``themes/*.toml`` and the user's own theme files.

A theme file is a flat TOML table of Textual theme colours (``primary``, ``background`` ...,
``dark``, ``ansi``) plus a ``[variables]`` table with our own names (``bid``, ``ask``,
``own-order``, ``stale``, ``danger`` ...; their fallbacks are ``VARIABLE_DEFAULTS``).  Files are
validated here, so a broken user theme becomes one readable line instead of a crash.

This module only turns files into ``textual.theme.Theme`` objects; it never registers them,
never writes a file and never forces colour (``NO_COLOR`` is Textual's business).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

PACKAGED_DIR = Path(__file__).resolve().parent
DEFAULT_THEME = "mm-dark"

# Our variables, used by tui/console.tcss; any theme (Textual's own included) falls back to these.
VARIABLE_DEFAULTS: dict[str, str] = {
    "bid": "#3fb950",
    "ask": "#f0524f",
    "own-order": "#f2c14e",
    "stale": "#7d8590",
    "danger": "#ff4d4a",
    "caution": "#e0a63a",
    "ok": "#3fb950",
    "muted": "#7d8590",
    "gauge-empty": "#2d333b",
}

_COLOURS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_FLAGS = ("dark", "ansi")


class ThemeError(ValueError):
    """A theme file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class ThemeSet:
    themes: tuple[Theme, ...]
    problems: tuple[str, ...]


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ThemeError(f"{path}: not valid TOML: nested too deep to read") from None
    return theme_from_dict(data, str(path))


def theme_from_dict(data: dict[str, object], source: str) -> Theme:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise ThemeError(f"{source}: 'name' must be a non-empty string on one printable line")
    allowed = {"name", "variables", *_COLOURS, *_FLAGS}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ThemeError(f"{source}: unknown key(s) {', '.join(unknown)}")
    if "primary" not in data:
        raise ThemeError(f"{source}: 'primary' is required")
    colours: dict[str, str] = {}
    for key in _COLOURS:
        if key in data:
            colours[key] = _colour(data[key], f"{source}: {key}")
    flags: dict[str, bool] = {}
    for key in _FLAGS:
        if key in data:
            value = data[key]
            if not isinstance(value, bool):
                raise ThemeError(f"{source}: '{key}' must be true or false, got {value!r}")
            flags[key] = value
    raw_vars = data.get("variables", {})
    if not isinstance(raw_vars, dict):
        raise ThemeError(f"{source}: [variables] must be a table")
    variables = {str(k): _colour(v, f"{source}: variables.{k}") for k, v in raw_vars.items()}
    return Theme(
        name=name.strip(),
        primary=colours.pop("primary"),
        variables=variables,
        **colours,  # type: ignore[arg-type]
        **flags,  # type: ignore[arg-type]
    )


def _colour(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{where} must be a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{where}: not a colour: {value!r}") from None
    return value


def packaged_themes() -> tuple[Theme, ...]:
    """The themes shipped with mm-console (a broken packaged file is a bug: it raises)."""
    return tuple(load_theme_file(p) for p in sorted(PACKAGED_DIR.glob("*.toml")))


def load_themes(user_dir: Path | None) -> ThemeSet:
    """Packaged themes, then the user's (``*.toml`` in ``user_dir``; a user theme with a
    packaged name replaces it, and says so).  Broken user files are reported, not raised."""
    themes = {t.name: t for t in packaged_themes()}
    packaged = set(themes)
    problems: list[str] = []
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                problems.append(str(exc))
                continue
            if theme.name in packaged:
                problems.append(f"{path}: replaces the built-in theme {theme.name!r}")
            themes[theme.name] = theme
    return ThemeSet(tuple(themes.values()), tuple(problems))
