"""The console's key map as data, and what a key map must never do (issue 16, D13, D18).

The console draws its bindings, footer and help from this map; ``[ui.keys]`` in the config
overrides it per action id.  A map that can disarm the console is refused when the config is
read (``config check`` and start-up, exit 2), one line per problem:

* two actions on one key (``kill = "c"`` once made ``c`` send a cancel-all and no key kill);
* kill, cancel-all or quit without a key;
* an action on a key that text fields and dialogs take for themselves (editing, confirming,
  leaving: ``escape``, ``enter``, ``y`` confirms a kill ...): such a key would never reach it.

This module names keys the way Textual does (``slash``, ``question_mark``, ``ctrl+q``) but never
imports it: ``core`` stays free of the screen.
"""

from __future__ import annotations

from collections.abc import Mapping

# Action id -> its default keys (comma-separated), in the order the help screen lists them.
DEFAULT_KEYS: dict[str, str] = {
    "kill": "k",
    "cancel_all": "c",
    "pause": "p",
    "pause_cancel": "P",
    "cancel_selected": "x",
    "rearm": "r",
    "filter_log": "slash",
    "log_kind": "L",
    "help": "question_mark,f1",
    "theme": "t",
    "quit": "q",
}
# Actions that must always have a key: the ways out of trouble.
ESSENTIAL = ("kill", "cancel_all", "quit")
# Keys the console itself, its text fields and its dialogs use: never an action's key.
TAKEN: dict[str, str] = {
    "escape": "closes fields and aborts a kill prompt",
    "enter": "submits fields and dialogs",
    "tab": "moves the focus",
    "shift+tab": "moves the focus",
    "backspace": "edits text fields",
    "delete": "edits text fields",
    "space": "is typed into text fields",
    "up": "moves the selection",
    "down": "moves the selection",
    "left": "moves the cursor in text fields",
    "right": "moves the cursor in text fields",
    "home": "moves the cursor in text fields",
    "end": "moves the cursor in text fields",
    "y": "confirms a kill or a re-arm",
    "n": "declines a confirmation",
    "ctrl+c": "copies text",
    "ctrl+p": "opens the command palette",
    "ctrl+q": "quits (always)",
}


def keys_of(keys: str) -> list[str]:
    """``"question_mark, f1"`` -> ``["question_mark", "f1"]``."""
    return [k.strip() for k in keys.split(",") if k.strip()]


def effective(overrides: Mapping[str, str]) -> dict[str, list[str]]:
    """Every action's keys once ``overrides`` (``[ui.keys]``) are applied to the defaults."""
    return {action: keys_of(overrides.get(action, keys)) for action, keys in DEFAULT_KEYS.items()}


def problems(overrides: Mapping[str, str]) -> list[str]:
    """What makes a key map unsafe, one line each, naming the key and the actions (none: [])."""
    found: list[str] = []
    bound = effective(overrides)
    for action in ESSENTIAL:
        if not bound[action]:
            found.append(f"{action} needs a key")
    owners: dict[str, list[str]] = {}
    for action, keys in bound.items():
        for key in keys:
            owners.setdefault(key, []).append(action)
            if key in TAKEN:
                found.append(
                    f"{action} = {key!r}: {key} {TAKEN[key]}; choose another key for {action}"
                )
    for key, actions in owners.items():
        if len(actions) > 1:
            found.append(
                f"{key!r} is bound to {' and '.join(actions)}: one key, one action "
                f"(set a different key for all but one of them)"
            )
    return found
