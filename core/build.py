"""Which build is running: the hot modules of the pure core compiled by mypyc, or pure Python.

``setup.py`` compiles ``HOT_MODULES`` (it reads the tuple from this file) when a C compiler and
mypyc are present and ``MM_CONSOLE_PURE`` is not set; otherwise the same sources are installed
as they are.  Both builds behave the same (the test suite runs on the compiled one and
``tests/program/test_build.py`` runs a seed both ways); only the speed differs.

* ``describe()`` is what ``mm-console --version`` and the start-up line say.
* ``MM_CONSOLE_PURE=1`` at run time (``force_pure``, called from ``core/__init__``) loads the
  ``.py`` sources even where compiled modules are installed: the fallback, without reinstalling.
* ``field_hints`` reads a dataclass's field types.  A compiled class keeps only erased
  annotations (``int | None`` reads as ``type``, ``tuple[X, ...]`` as ``tuple``), so for one the
  annotations are read from its module's source, which is installed beside it, and evaluated in
  the compiled module's namespace; the codecs that walk type hints (the view's, the journal's)
  use this.
"""

from __future__ import annotations

import ast
import copyreg
import dataclasses
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import typing
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

# The modules mypyc compiles (setup.py reads this tuple with ast.literal_eval: keep it literal).
# The maker's rooms are not among them: they are mixins joined by multiple inheritance, which
# mypyc compiles only for traits, and tests replace their methods (ARCHITECTURE, issue 22).
# ``core.events`` is among them: a compiled module reads a native event's fields directly (the
# book applies a delta about twice as fast), where an interpreted event costs a generic lookup.
HOT_MODULES = (
    "core.events",
    "core.book",
    "core.units",
    "core.orders",
    "core.fills",
    "core.exposure",
    "core.strategy",
    "core.executor",
    "core.spread",
    "core.pnl",
    "core.settlement",
    "core.estimators.hawkes",
    "core.estimators.volatility",
)

PURE_ENV = "MM_CONSOLE_PURE"


def _is_extension(path: str | None) -> bool:
    return path is not None and path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def _origin(name: str) -> str | None:
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None)
    spec = importlib.util.find_spec(name)
    return spec.origin if spec is not None else None


def compiled_modules() -> list[str]:
    """The hot modules that load as compiled extension modules in this process."""
    return [name for name in HOT_MODULES if _is_extension(_origin(name))]


def stale_modules() -> list[str]:
    """Compiled modules whose source changed after they were built (an editable install whose
    ``.py`` was edited: the compiled module still runs until ``pip install -e .`` again).  Only
    in a checkout (``setup.py`` beside the package): an installed wheel's files carry the
    times the wheel gives them."""
    if not (Path(__file__).resolve().parent.parent / "setup.py").is_file():
        return []
    out = []
    for name in compiled_modules():
        origin = _origin(name)
        assert origin is not None
        source = _source_of(origin)
        if source is not None and source.stat().st_mtime > Path(origin).stat().st_mtime:
            out.append(name)
    return out


def describe() -> str:
    """One line: ``compiled (mypyc, 12 of 12 hot modules)`` or ``pure Python (...)``."""
    compiled = compiled_modules()
    if not compiled:
        why = f"{PURE_ENV} set" if os.environ.get(PURE_ENV, "") not in ("", "0") else "no build"
        return f"pure Python ({why})"
    text = f"compiled (mypyc, {len(compiled)} of {len(HOT_MODULES)} hot modules)"
    stale = stale_modules()
    if stale:
        text += f"; STALE, source edited since the build: {', '.join(stale)}"
    return text


def _source_of(origin: str) -> Path | None:
    """``core/book.cpython-311-x86_64-linux-gnu.so`` -> ``core/book.py`` if it exists."""
    path = Path(origin)
    stem = path.name.split(".", 1)[0]
    source = path.with_name(f"{stem}.py")
    return source if source.is_file() else None


class _SourceFirst:
    """A meta path finder that loads the ``.py`` of a compiled core module instead."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not name.startswith("core."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not _is_extension(spec.origin):
            return None
        assert spec.origin is not None
        source = _source_of(spec.origin)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(name, source)


def force_pure() -> None:
    """Load every core module from its source from now on (before any is imported)."""
    if not any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst())


@cache
def _class_annotations(path: Path) -> dict[str, dict[str, str]]:
    """Top-level class name -> {field: annotation text}, read from a module's source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {
                stmt.target.id: ast.unparse(stmt.annotation)
                for stmt in node.body
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
            }
    return out


def field_hints(cls: type[Any]) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, also for a class compiled by mypyc."""
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        module = sys.modules.get(klass.__module__)
        origin = getattr(module, "__file__", None)
        if module is None or not _is_extension(origin):
            own = inspect.get_annotations(klass)
            if own:
                resolved = typing.get_type_hints(klass)
                hints.update((field, resolved[field]) for field in own)
            continue
        assert origin is not None
        source = _source_of(origin)
        if source is None:
            raise TypeError(f"{klass.__qualname__}: compiled, and its source is not installed")
        names = vars(module)
        for field, text in _class_annotations(source).get(klass.__name__, {}).items():
            hints[field] = eval(text, names)  # the module's own annotation, as mypy read it
    return hints


def _rebuild(obj: Any) -> tuple[type[Any], tuple[Any, ...]]:
    return type(obj), tuple(getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init)


# Compiled classes whose ``__init__`` needs arguments: a native class always runs its
# ``__init__`` when created, so a copy is made through it (with these arguments, read from the
# original) and then given every attribute of the original.
_INIT_ARGS: dict[str, Callable[[Any], tuple[Any, ...]]] = {
    "core.executor.Executor": lambda o: (o._next_cloid, o.requote_threshold),
    "core.spread.SpreadPolicy": lambda o: (o.params,),
    "core.pnl.Costs": lambda o: (o.quote, 1),  # every attribute is then copied over
}


def _restore(cls: type[Any], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    obj = cls(*args)
    for attr, value in state.items():
        setattr(obj, attr, value)
    return obj


def _rebuild_with_state(obj: Any) -> tuple[Any, ...]:
    cls = type(obj)
    names = [a for klass in cls.__mro__ for a in getattr(klass, "__mypyc_attrs__", ())]
    state = {a: getattr(obj, a) for a in names if hasattr(obj, a)}
    return _restore, (cls, _INIT_ARGS[f"{cls.__module__}.{cls.__qualname__}"](obj), state)


def register_copy_reducers() -> None:
    """Let ``copy.deepcopy`` (the replay's checkpoints) and pickle copy compiled classes the
    default reduction cannot: a native frozen dataclass refuses the attribute-by-attribute
    restore, so it is rebuilt through its ``__init__`` (``__post_init__`` derives the rest,
    as on construction); a class whose ``__init__`` needs arguments, see ``_INIT_ARGS``.  The
    other compiled classes copy as mypyc makes them; pure classes keep the default."""
    for name in compiled_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if not isinstance(value, type) or value.__module__ != name:
                continue
            if dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
                copyreg.pickle(value, _rebuild)
            elif f"{name}.{value.__qualname__}" in _INIT_ARGS:
                copyreg.pickle(value, _rebuild_with_state)
