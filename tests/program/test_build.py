"""The two builds (issue 22): the hot modules compiled by mypyc, or pure Python.

Whichever this install is, the other one is reachable without reinstalling
(``MM_CONSOLE_PURE=1`` loads the sources, ``core/build.py``), and both must behave the same:
a swarm seed's whole trace is compared between the two, byte for byte.  CI installs the
compiled build, so there this is compiled against pure; without a compiler it is pure
against pure and still proves the fallback runs.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import subprocess
import sys
import typing

import pytest

from core.build import HOT_MODULES, PURE_ENV, compiled_modules, describe, field_hints

_CHILD = r"""
import dataclasses, hashlib, importlib, io, json, sys
from core.build import HOT_MODULES, compiled_modules, describe, field_hints
from core.harness.swarm import run_seed
import core.book

hints = {}
for name in HOT_MODULES:
    for key, value in vars(importlib.import_module(name)).items():
        if isinstance(value, type) and value.__module__ == name and dataclasses.is_dataclass(value):
            hints[f"{name}.{key}"] = {k: repr(v) for k, v in field_hints(value).items()}

trace = io.StringIO()
result = run_seed(int(sys.argv[1]), duration=20.0, trace=trace)
print(json.dumps({
    "build": describe(),
    "compiled": compiled_modules(),
    "book": core.book.__file__,
    "events": result.events,
    "invariant": result.invariant,
    "faults": result.fault_counts,
    "trace_lines": trace.getvalue().count("\n"),
    "trace": hashlib.sha256(trace.getvalue().encode()).hexdigest(),
    "hints": hints,
}))
"""


def _run_child(seed: int, *, pure: bool) -> dict[str, typing.Any]:
    env = {k: v for k, v in os.environ.items() if k != PURE_ENV}
    if pure:
        env[PURE_ENV] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(seed)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, typing.Any] = json.loads(proc.stdout)
    return out


def test_a_build_is_all_compiled_or_all_pure() -> None:
    compiled = compiled_modules()
    assert compiled in ([], list(HOT_MODULES)), compiled
    assert describe().startswith("compiled" if compiled else "pure Python")


def test_the_pure_fallback_and_the_installed_build_run_a_seed_identically() -> None:
    pure = _run_child(1003, pure=True)
    installed = _run_child(1003, pure=False)
    assert pure["compiled"] == [] and pure["build"].startswith("pure Python")
    assert pure["book"].endswith("book.py")
    assert installed["compiled"] == compiled_modules()
    assert pure["trace_lines"] > 100
    assert len(pure["hints"]) >= 10
    for key in ("events", "invariant", "faults", "trace_lines", "trace", "hints"):
        assert pure[key] == installed[key], (key, pure["build"], installed["build"])


def test_version_says_which_build_runs() -> None:
    env = {k: v for k, v in os.environ.items() if k != PURE_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "mm_console", "--version"],
        capture_output=True,
        text=True,
        env={**env, PURE_ENV: "1"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("mm-console ") and "pure Python" in proc.stdout


@pytest.mark.parametrize("name", HOT_MODULES)
def test_field_hints_are_the_declared_types_in_either_build(name: str) -> None:
    """The view's and the journal's codecs read field types; a compiled class keeps only
    erased ones, so ``field_hints`` reads them from the source: the same as pure Python."""
    module = importlib.import_module(name)
    for value in vars(module).values():
        if isinstance(value, type) and value.__module__ == name and dataclasses.is_dataclass(value):
            hints = field_hints(value)
            for f in dataclasses.fields(value):
                assert f.name in hints, (value, f.name)
            if name not in compiled_modules():
                assert hints == typing.get_type_hints(value)


def test_every_compiled_class_that_needs_init_arguments_can_be_copied() -> None:
    """The replay deep-copies the maker; a compiled class whose ``__init__`` needs arguments
    copies only through ``core.build._INIT_ARGS`` (a frozen dataclass through its fields)."""
    import enum

    from core.build import _INIT_ARGS

    for name in compiled_modules():
        for value in vars(importlib.import_module(name)).values():
            if not isinstance(value, type) or value.__module__ != name:
                continue
            # A NamedTuple (core.strategy.Quote, core.orders.Transition) is a tuple: it copies
            # through tuple's own reduction (__getnewargs__), compiled or not.
            if issubclass(value, enum.Enum | BaseException | tuple) or (
                dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen
            ):
                continue
            try:
                value.__new__(value)
            except TypeError:
                assert f"{name}.{value.__qualname__}" in _INIT_ARGS, value
