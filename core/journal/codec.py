"""The journal's words: events, actions and batches as msgpack bytes, and back.

Every value that crosses the maker's boundary is a frozen dataclass of ints, floats, strings,
enums and tuples (``core.events``, ``core.commands``, ``core.actions``), so one small codec
carries all of them exactly.  A record is the array ``[code, *fields]`` in declaration order;
an enum field is its value; a record inside a record (``OpenOrders.orders``, ``Batch.commands``)
is a nested array; floats are IEEE doubles, so a replayed ``now`` is the recorded one to the bit.

Speed matters because the journal sees every event the maker sees: each class gets an encoder
and a decoder generated once from its type hints (plain attribute reads into a tuple, enum
values from a dict), under a microsecond per event instead of the tens a generic walk costs.
The writer keeps records as tuples (``to_record``) and packs a whole slice of them in one call.

The layout of every class (its code, fields and enum values) is written into the journal
(``schema()``); a journal whose layout differs from this version's is refused, naming the
classes that changed (``schema_changes``), instead of being misread.  Nothing
here is a secret: the maker never sees a key, so no event, action or batch can carry one (D21).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any

import msgpack

from core import actions, commands, events
from core.build import field_hints

Encoder = Callable[[Any], tuple[Any, ...]]
Decoder = Callable[[tuple[Any, ...]], Any]


class CodecError(ValueError):
    """Bytes that are not a record this version knows how to build."""


def _records() -> list[type[Any]]:
    found: list[type[Any]] = []
    for union in (events.Event, commands.Command, actions.Action):
        found.extend(typing.get_args(union))
    return [*found, events.VenueOrder, commands.Batch]


_RECORDS = _records()
_ENUMS: list[type[enum.Enum]] = [
    events.Side,
    events.RejectionClass,
    events.Liquidity,
    events.AckStatus,
    events.VenueStatus,
    events.Channel,
    commands.TimeInForce,
]
CODES: dict[type[Any], int] = {cls: code for code, cls in enumerate(_RECORDS, start=1)}
_BY_CODE: dict[int, type[Any]] = {code: cls for cls, code in CODES.items()}


def _kind_of(hint: Any) -> tuple[str, Any]:
    """How one field is written: ``plain``, ``enum`` (its value), ``record`` (nested array),
    ``records`` (a tuple of records), each possibly None."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _kind_of(args[0])
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "enum", hint
    if hint in CODES:
        return "record", hint
    if origin is tuple and args and (args[0] in CODES or typing.get_args(args[0])):
        inner = args[0]
        if inner in CODES or all(a in CODES for a in typing.get_args(inner)):
            return "records", inner
    return "plain", None


def _compile(cls: type[Any]) -> tuple[Encoder, Decoder]:
    hints = field_hints(cls)  # the real types, also of a class compiled by mypyc
    names = [f.name for f in dataclasses.fields(cls)]
    enc_parts, dec_parts = [str(CODES[cls])], []
    env: dict[str, Any] = {"cls": cls, "enc": _encode_record, "dec": _decode_record}
    for i, name in enumerate(names):
        kind, ref = _kind_of(hints[name])
        value, raw = f"o.{name}", f"v[{i + 1}]"
        if kind == "enum":
            env[f"E{i}"] = ref
            # A dict from member to value: ``member.value`` goes through the enum's property
            # descriptor, several times slower, and the writer pays it on every event.
            env[f"V{i}"] = {member: member.value for member in ref}
            enc_parts.append(f"(None if {value} is None else V{i}[{value}])")
            dec_parts.append(f"(None if {raw} is None else E{i}({raw}))")
        elif kind == "record":
            enc_parts.append(f"(None if {value} is None else enc({value}))")
            dec_parts.append(f"(None if {raw} is None else dec({raw}))")
        elif kind == "records":
            enc_parts.append(f"tuple([enc(x) for x in {value}])")
            dec_parts.append(f"tuple([dec(x) for x in {raw}])")
        else:
            enc_parts.append(value)
            dec_parts.append(raw)
    source = (
        f"def encode(o):\n    return ({', '.join(enc_parts)},)\n"
        f"def decode(v):\n    return cls({', '.join(dec_parts)})\n"
    )
    exec(compile(source, f"<journal codec {cls.__name__}>", "exec"), env)
    return env["encode"], env["decode"]


_ENCODERS: dict[type[Any], Encoder] = {}
_DECODERS: dict[int, Decoder] = {}


def action_types() -> tuple[type[Any], ...]:
    """The operator's actions (what a console may send over the control socket)."""
    return typing.get_args(actions.Action)


def to_record(obj: Any) -> tuple[Any, ...]:
    """An event, action or batch as nested tuples of plain values (what the chunks hold)."""
    return _encode_record(obj)


def from_record(values: tuple[Any, ...]) -> Any:
    """The object ``to_record`` was given."""
    return _decode_record(values)


def _encode_record(obj: Any) -> tuple[Any, ...]:
    try:
        return _ENCODERS[type(obj)](obj)
    except KeyError:
        raise TypeError(f"the journal cannot record a {type(obj).__name__}") from None


def _decode_record(values: tuple[Any, ...]) -> Any:
    try:
        decoder = _DECODERS[values[0]]
    except (KeyError, IndexError, TypeError):
        raise CodecError(f"not a record this version knows: {values!r:.80}") from None
    try:
        return decoder(values)
    except (TypeError, ValueError, IndexError) as exc:
        name = _BY_CODE[values[0]].__name__
        raise CodecError(f"{name}: {exc}") from None


for _cls in _RECORDS:
    _ENCODERS[_cls], _DECODERS[CODES[_cls]] = _compile(_cls)

# ``surrogatepass``: a venue's JSON may carry a lone surrogate in a text ("\\ud800" is valid
# JSON); the journal keeps it exactly instead of failing on it.
_packer = msgpack.Packer(use_bin_type=True, unicode_errors="surrogatepass")


def encode(obj: Any) -> bytes:
    """An event, action or batch as bytes."""
    return _packer.pack(_encode_record(obj))  # type: ignore[no-any-return]


def pack(value: Any) -> bytes:
    """Plain values (records from ``to_record``, numbers, strings, tuples) as bytes."""
    return _packer.pack(value)  # type: ignore[no-any-return]


def decode(data: bytes) -> Any:
    """The object ``encode`` was given."""
    return _decode_record(unpack(data))


def unpack(data: bytes) -> Any:
    try:
        return msgpack.unpackb(data, use_list=False, raw=False, unicode_errors="surrogatepass")
    except Exception as exc:  # msgpack's own errors: truncated or not msgpack at all
        raise CodecError(f"unreadable record: {exc}") from None


def schema() -> dict[str, Any]:
    """Every record's code and fields and every enum's values, as this version writes them."""
    layout: dict[str, Any] = {
        cls.__name__: {"code": CODES[cls], "fields": [f.name for f in dataclasses.fields(cls)]}
        for cls in _RECORDS
    }
    for kind in _ENUMS:
        layout[kind.__name__] = {"values": [str(m.value) for m in kind]}
    return layout


def schema_changes(recorded: dict[str, Any]) -> list[str]:
    """How a journal's layout differs from this version's, one line per class; empty when
    every recorded record is read exactly as it was written."""
    ours = schema()
    changes = []
    for name in sorted(set(recorded) | set(ours)):
        if name not in ours:
            changes.append(f"{name}: recorded, unknown to this version")
        elif name not in recorded:
            changes.append(f"{name}: new in this version")
        elif recorded[name] != ours[name]:
            changes.append(f"{name}: recorded {recorded[name]}, now {ours[name]}")
    return changes
