"""``ConsoleView`` as plain data and back: what crosses the control socket to a console.

A view is a tree of frozen dataclasses, enums, decimals, tuples and enum-keyed dicts.  The
plan for each type is read once from its type hints: a dataclass becomes the array of its
``__init__`` fields in order (derived fields, such as the instrument's caches, are rebuilt by
the class itself; plain numbers, text and None are taken as they are), an enum its value, a
``Decimal`` its exact text, a tuple a list, a dict a list of key/value pairs.  Decoding
follows the same plan, so the console gets the very objects the engine published -- typed,
never a dict it has to trust.

Encoding runs on the engine's loop for every published view while a console is attached, so
the view goes in two parts: the view without its event log and fills, encoded once per
published view (about 0.2 ms), and those two long sequences, sent to each console as what it
does not hold yet (``core.control.tails``).

Both ends run the same mm-console (the protocol's version says so, ``core.control.protocol``),
so the plan is the same on both sides; anything that does not fit it is a ``ViewCodecError``.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import types
import typing
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from core.build import field_hints
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
        if enc is _same and dec is _same:
            return _same, _same
        return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))
    if hint is Decimal:
        return str, _decimal
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return (lambda v: v.value), hint
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            enc, dec = _plan(args[0])
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


def _decimal(text: Any) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError):
        raise ViewCodecError(f"not a decimal: {text!r}") from None


def _record(cls: type[Any]) -> Plan:
    hints = field_hints(cls)  # the real types, also of a class compiled by mypyc
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    _PLANS[cls] = (lambda v: _PLANS[cls][0](v), lambda v: _PLANS[cls][1](v))  # recursion
    plans = [_plan(hints[n]) for n in names]
    # Plain fields (numbers, text, None) go as they are; only the others are converted.
    encoders = [(i, p[0]) for i, p in enumerate(plans) if p[0] is not _same]
    decoders = [(i, p[1]) for i, p in enumerate(plans) if p[1] is not _same]
    read = operator.attrgetter(*names) if len(names) > 1 else (lambda o: (getattr(o, names[0]),))
    width = len(names)

    def encode(obj: Any) -> list[Any]:
        values = list(read(obj))
        for i, enc in encoders:
            values[i] = enc(values[i])
        return values

    def decode(values: Any) -> Any:
        if not isinstance(values, list | tuple) or len(values) != width:
            raise ViewCodecError(f"{cls.__name__}: expected {width} fields")
        values = list(values)
        for i, dec in decoders:
            values[i] = dec(values[i])
        return cls(*values)

    if not encoders:
        return read, decode  # a tuple of plain fields is already what goes on the wire
    return encode, decode


_ENCODE, _DECODE = _plan(ConsoleView)


def view_to_data(view: ConsoleView) -> list[Any]:
    """The whole view (its log and fills in it)."""
    return _ENCODE(view)  # type: ignore[no-any-return]


def view_from_data(data: Any) -> ConsoleView:
    try:
        return _DECODE(data)  # type: ignore[no-any-return]
    except ViewCodecError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise ViewCodecError(f"not a view: {exc}") from None


def bare_view_to_data(view: ConsoleView) -> list[Any]:
    """The view without its log and fills, which travel as tails."""
    return view_to_data(dataclasses.replace(view, log=(), fills=()))


def view_with_tails(
    data: Any, log: tuple[LogEntry, ...], fills: tuple[FillView, ...]
) -> ConsoleView:
    """A bare view's data and the log and fills a console holds: the view."""
    return dataclasses.replace(view_from_data(data), log=log, fills=fills)


def item_codec(cls: type[LogEntry] | type[FillView]) -> Plan:
    """Encode and decode one log entry or fill (each ``ViewCodecError`` on bad data)."""
    encode, decode = _plan(cls)

    def checked(data: Any) -> Any:
        try:
            return decode(data)
        except ViewCodecError:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise ViewCodecError(f"not a {cls.__name__}: {exc}") from None

    return encode, checked
