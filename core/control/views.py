"""``ConsoleView`` as plain data and back: what crosses the control socket to a console.

A view is a tree of frozen dataclasses, enums, decimals, tuples and enum-keyed dicts.  The
plan for each type is read once from its type hints: a dataclass becomes the list of its
``__init__`` fields in order (derived fields, such as the instrument's caches, are rebuilt by
the class itself), an enum its value, a ``Decimal`` its exact text, a tuple a list, a dict a
list of key/value pairs.  Decoding follows the same plan, so the console gets the very objects
the engine published -- typed, never a dict it has to trust.

Encoding runs on the engine's loop for every published view while a console is attached, so
what does not change between views (the event log, the fills) is encoded once per object.

Both ends run the same mm-console (the protocol's version says so, ``core.control.protocol``),
so the plan is the same on both sides; anything that does not fit it is a ``ViewCodecError``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from core.view import ConsoleView, FillView, LogEntry

Plan = tuple[Callable[[Any], Any], Callable[[Any], Any]]
_PLANS: dict[Any, Plan] = {}


class ViewCodecError(ValueError):
    """Data that is not a view this version can build."""


def _same(value: Any) -> Any:
    return value


def _plan(hint: Any) -> Plan:
    cached = _PLANS.get(hint)
    if cached is not None:
        return cached
    plan = _make(hint)
    _PLANS[hint] = plan
    return plan


def _make(hint: Any) -> Plan:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in (int, float, str, bool, type(None)):
        return _same, _same
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"a view field may be one type or None, not {hint}")
        enc, dec = _plan(inner[0])
        return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))
    if hint is Decimal:
        return str, _decimal
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return (lambda v: v.value), hint
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            enc, dec = _plan(args[0])
            if args[0] in _REUSED:
                enc = _remembered(enc)
            return (lambda v: [enc(x) for x in v]), (lambda v: tuple(dec(x) for x in v))
        plans = [_plan(a) for a in args]
        return (
            lambda v: [p[0](x) for p, x in zip(plans, v, strict=True)],
            lambda v: tuple(p[1](x) for p, x in zip(plans, v, strict=True)),
        )
    if origin is dict:
        (kenc, kdec), (venc, vdec) = _plan(args[0]), _plan(args[1])
        return (
            lambda v: [[kenc(k), venc(x)] for k, x in v.items()],
            lambda v: {kdec(k): vdec(x) for k, x in v},
        )
    if dataclasses.is_dataclass(hint):
        return _record(hint)  # type: ignore[arg-type]
    raise TypeError(f"no plan for {hint!r}")


# The event log's entries and the fills are the same objects from one view to the next (the
# maker keeps them in deques) and most of a view: each is encoded once and remembered.  An
# entry is remembered with the object itself, so its id cannot be reused while it is.
_REUSED = (LogEntry, FillView)
_MEMO_LIMIT = 8192


def _remembered(encode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    memo: dict[int, tuple[Any, Any]] = {}

    def cached(obj: Any) -> Any:
        hit = memo.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()  # old entries are gone from the views; start again
        data = encode(obj)
        memo[id(obj)] = (obj, data)
        return data

    return cached


def _decimal(text: Any) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError):
        raise ViewCodecError(f"not a decimal: {text!r}") from None


def _record(cls: type[Any]) -> Plan:
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = [f.name for f in fields]
    plans: list[Plan] = []
    _PLANS[cls] = (lambda v: _PLANS[cls][0](v), lambda v: _PLANS[cls][1](v))  # recursion

    def encode(obj: Any) -> list[Any]:
        return [p[0](getattr(obj, n)) for p, n in zip(plans, names, strict=True)]

    def decode(values: Any) -> Any:
        if not isinstance(values, list | tuple) or len(values) != len(plans):
            raise ViewCodecError(f"{cls.__name__}: expected {len(plans)} fields")
        return cls(*(p[1](x) for p, x in zip(plans, values, strict=True)))

    plans.extend(_plan(hints[n]) for n in names)
    return encode, decode


_ENCODE, _DECODE = _plan(ConsoleView)


def view_to_data(view: ConsoleView) -> list[Any]:
    return _ENCODE(view)  # type: ignore[no-any-return]


def view_from_data(data: Any) -> ConsoleView:
    try:
        return _DECODE(data)  # type: ignore[no-any-return]
    except ViewCodecError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise ViewCodecError(f"not a view: {exc}") from None
