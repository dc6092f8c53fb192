"""The build: the hot modules of the pure core compiled by mypyc where that is possible, pure
Python everywhere else.  Everything else about the package is in ``pyproject.toml``.

``pip install -e .`` and ``pip install .`` compile ``core.build.HOT_MODULES`` (read from
``core/build.py``) when all of these hold, and install the same sources uncompiled otherwise:

* ``MM_CONSOLE_PURE`` is not set (``MM_CONSOLE_PURE=1 pip install .`` builds a pure wheel);
* the interpreter is CPython and mypyc imports (it comes with mypy, a build requirement);
* a C compiler is on the PATH.

If compiling fails anyway, the build says why and goes on pure: an install never fails for
want of a compiler.  ``mm-console --version`` says which build is running.
"""

from __future__ import annotations

import ast
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def hot_modules() -> list[str]:
    tree = ast.parse((HERE / "core" / "build.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "HOT_MODULES"
        ):
            return list(ast.literal_eval(node.value))
    raise RuntimeError("core/build.py has no HOT_MODULES")


def _say(text: str) -> None:
    print(f"mm-console build: {text}", file=sys.stderr, flush=True)


def _c_compiler() -> str | None:
    try:
        from setuptools._distutils.ccompiler import new_compiler
        from setuptools._distutils.sysconfig import customize_compiler

        compiler: Any = new_compiler()
        customize_compiler(compiler)
        executable = compiler.compiler_so[0]
    except Exception:  # no usable compiler configuration at all
        return None
    found: str | None = shutil.which(executable)
    return found


def extensions() -> list[Any]:
    if os.environ.get("MM_CONSOLE_PURE", "") not in ("", "0"):
        _say("MM_CONSOLE_PURE is set: pure Python")
        return []
    if platform.python_implementation() != "CPython":
        _say(f"{platform.python_implementation()}: pure Python")
        return []
    if _c_compiler() is None:
        _say("no C compiler: pure Python")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("mypyc is not installed: pure Python")
        return []
    paths = [str(Path(*name.split("."))) + ".py" for name in hot_modules()]
    _say(f"compiling {len(paths)} modules with mypyc")
    cwd = os.getcwd()
    os.chdir(HERE)  # mypyc names the modules from paths relative to the project
    try:
        # The build's own mypy settings (mypy.build.ini): the compiled modules import nothing
        # outside the standard library and core, and none of the test-time plugins.
        exts: list[Any] = mypycify(
            ["--config-file", "mypy.build.ini", *paths], opt_level="3", group_name="core"
        )
    except BaseException as exc:  # mypyc exits on a type error: stay installable
        _say(f"mypyc failed ({exc!r}): pure Python")
        return []
    finally:
        os.chdir(cwd)
    return exts


class BuildExtOrPure(build_ext):
    """Build the compiled modules; if the C compiler fails, remove what was built and go on
    pure (every module still has its ``.py``)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            _say(f"compiling failed ({exc}): pure Python")
            for output in self.get_outputs():
                Path(output).unlink(missing_ok=True)
            self.extensions = []


class BuildPyWithDefaults(build_py):
    """Carry the default config inside the package as ``core/defaults/config.toml``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads config.toml at the top of the checkout
        target = Path(self.build_lib) / "core" / "defaults"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / "config.toml", target / "config.toml")


setup(
    ext_modules=extensions(),
    cmdclass={"build_ext": BuildExtOrPure, "build_py": BuildPyWithDefaults},
)
