"""The layers of the code, enforced (issue 15 item 4): a wrong-way import fails the test run.

The rules are import-linter contracts in ``pyproject.toml`` (``[tool.importlinter]``); this file
runs them, so ``python -m pytest`` enforces them.  Imports count wherever they are written: at
the top of a module or lazily inside a function.

* ``pure-core`` -- the pure core is sans-I/O.  It is every module of ``core`` that decides or
  describes: the maker (the package ``core.maker``: every room of it counts as the
  maker), the parts it is built from (orders, fills, book, exposure, rejections, recovery,
  reconcile, risk, strategy, executor, pacing, oidnews, fillgaps, view), the vocabulary (units,
  events, commands, actions), the configuration (config, simconfig, keymap, demo) and the exit
  codes.  It imports no ``asyncio``, threads, ``time``, ``random``, socket, Textual, Rich, httpx,
  websockets, h11 or venue library, and none of the shell: ``core.clock`` (the one reader of
  the time), ``core.runner``, ``core.session``, ``core.reporter``, ``core.gcpolicy``, the venues
  (``core.venues``) or the simulation harness (``core.harness``), nor anything above ``core``.
* ``core-below-screen`` -- nothing in ``core`` (shell included) imports ``tui``, ``themes``,
  ``mm_console``, Textual or Rich.  The program that wires the engine to the screen is
  ``mm_console.cli``, above both.
* ``venues-below-maker`` -- ``core.venues`` never imports the maker, the parts it decides with
  (orders, executor, reconcile, risk, strategy, view), the config, or the shell above it; a
  venue speaks events and commands (and units, rejections, clock, simconfig).
* ``tui-reads-views`` -- the console never imports ``core.maker`` itself (it reads
  ``ConsoleView`` and calls ``Runner.operate``).
* ``engine-layers`` -- inside the pure core, dependencies point downwards, layer by layer: maker;
  reconcile, executor, config; orders, recovery, view, simconfig; commands, fills, book,
  exposure, rejections, strategy, oidnews, fillgaps, risk, keymap; units, events, actions,
  pacing, exitcodes.  (risk importing the view, as it once did, is refused.)

Two more checks live here: every module directly under ``core`` is classified (pure core or
shell), so a new module cannot slip past the rules; and at run time the headless path
(``mm_console.cli`` and the engine it runs) loads no Textual, Rich or ``tui``, because
``mm_console.cli`` imports the console lazily.

A check that cannot fail is a defect, so each rule is broken on purpose in a copy of the source
tree (``tmp_path``) and the check must report that very import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "tui", "themes", "mm_console")
_LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
)
# What the program's headless path imports; none of it may load the screen.
_HEADLESS = ("mm_console.cli", "core.session", "core.reporter", "core.runner")
_HEADLESS_CHECK = (
    f"import sys, {', '.join(_HEADLESS)}; "
    "screen = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tui')); "
    "assert not screen, screen"
)


def _python(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    """``python -c code`` in a fresh interpreter that imports the packages under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the tree at ``root`` with its own pyproject.toml (no cache)."""
    return _python(root, _LINT)


def unclassified(root: Path) -> list[str]:
    """Modules directly under ``root/core`` that are neither in the pure core nor named as
    shell modules it must not import (``pure-core``'s two lists)."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    (pure,) = (c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "pure-core")
    known = set(pure["source_modules"]) | set(pure["forbidden_modules"])
    found = sorted(
        f"core.{p.stem}"
        for p in (root / "core").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    )
    return [m for m in found if m not in known]


def _copy(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(root: Path, module: str, text: str) -> None:
    with (root / module).open("a", encoding="utf-8") as f:
        f.write(text)


# ---- the rules hold today ------------------------------------------------------------


def test_the_layers_hold() -> None:
    proc = lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_every_core_module_is_classified() -> None:
    assert unclassified(ROOT) == [], (
        "put each new module of core in pyproject.toml's pure-core contract: in source_modules "
        "(sans-I/O) or, for the shell, in forbidden_modules"
    )


def test_the_headless_path_never_loads_the_screen() -> None:
    """A server without a terminal must not need, or pay for, the screen."""
    proc = _python(ROOT, _HEADLESS_CHECK)
    assert proc.returncode == 0, proc.stderr


# ---- and each check fails when its rule is broken ----------------------------------------

_LAZY = "\n\ndef _late_import() -> None:\n    {}  # noqa\n"
BREAKS = {
    "pure core imports asyncio": (
        "core/risk.py",
        "\nimport asyncio  # noqa\n",
        ["core.risk is not allowed to import asyncio"],
    ),
    "pure core reads the clock": (
        "core/strategy.py",
        _LAZY.format("from core.clock import WallClock"),
        ["core.strategy is not allowed to import core.clock"],
    ),
    "maker imports a venue": (
        "core/config.py",
        _LAZY.format("import core.venues.sim.exchange"),
        [
            "core.config is not allowed to import core.venues",
            "core.maker is not allowed to import core.venues",
        ],
    ),
    "core imports tui lazily": (
        "core/reporter.py",
        _LAZY.format("import tui.fmt"),
        ["core is not allowed to import tui"],
    ),
    "venue imports the maker": (
        "core/venues/sim/engine.py",
        _LAZY.format("from core.maker import MarketMaker"),
        ["core.venues is not allowed to import core.maker"],
    ),
    "console imports the maker": (
        "tui/fmt.py",
        "\nimport core.maker  # noqa\n",
        ["tui is not allowed to import core.maker"],
    ),
    "risk imports the view (wrong way)": (
        "core/risk.py",
        "\nfrom core.view import Mode  # noqa\n",
        ["core.risk is not allowed to import core.view"],
    ),
}


def test_the_unbroken_copy_passes(tmp_path: Path) -> None:
    """The copy the breakages below start from is clean: what they find, they caused."""
    proc = lint(_copy(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_a_broken_rule_fails_the_check(tmp_path: Path, case: str) -> None:
    module, text, reported = BREAKS[case]
    root = _copy(tmp_path)
    _append(root, module, text)
    proc = lint(root)
    assert proc.returncode != 0, proc.stdout
    for line in reported:
        assert line in proc.stdout, proc.stdout


def test_rules_on_the_maker_cover_every_room_of_the_package(tmp_path: Path) -> None:
    """``core.maker`` is a package: a room of it that takes a clock, and a venue that imports
    that room, are both refused."""
    root = _copy(tmp_path)
    package = root / "core" / "maker"
    (package / "_probe.py").write_text("import time  # noqa\n", encoding="utf-8")
    _append(root, "core/venues/sim/book.py", _LAZY.format("import core.maker._probe"))
    proc = lint(root)
    assert proc.returncode != 0, proc.stdout
    assert "core.maker is not allowed to import time" in proc.stdout, proc.stdout
    assert "core.maker._probe -> time" in proc.stdout, proc.stdout
    assert "core.venues is not allowed to import core.maker" in proc.stdout, proc.stdout


def test_a_new_unclassified_core_module_is_reported(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "core" / "newcomer.py").write_text('"""Not in any list yet."""\n', encoding="utf-8")
    (root / "core" / "newpackage").mkdir()
    (root / "core" / "newpackage" / "__init__.py").write_text("", encoding="utf-8")
    assert unclassified(root) == ["core.newcomer", "core.newpackage"]


def test_the_headless_check_fails_when_the_program_loads_the_screen(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _append(root, "mm_console/cli.py", "\nimport rich.console  # noqa\n")
    proc = _python(root, _HEADLESS_CHECK)
    assert proc.returncode != 0
    assert "rich" in proc.stderr, proc.stderr
