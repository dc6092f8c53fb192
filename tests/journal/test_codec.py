"""The journal's codec: every event, command, batch and action comes back exactly as it went
in (issue 17), and a journal written with another record layout is named, never misread."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import actions, commands, events
from core.build import field_hints
from core.journal import codec

_FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
_RECORDS = [
    *typing.get_args(events.Event),
    *typing.get_args(commands.Command),
    *typing.get_args(actions.Action),
    events.VenueOrder,
    commands.Batch,
]


def _values(hint: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_values(a) for a in args))
    if hint is type(None):
        return st.none()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if dataclasses.is_dataclass(hint):
        return _record(hint)  # type: ignore[arg-type]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_values(args[0]), max_size=3).map(tuple)
        return st.tuples(*(_values(a) for a in args))
    return {
        int: st.integers(-(2**62), 2**62),
        float: _FLOATS,
        str: st.text(max_size=40),
        bool: st.booleans(),
    }[hint]


def _record(cls: type[Any]) -> st.SearchStrategy[Any]:
    hints = field_hints(cls)
    return st.builds(
        cls,
        **{
            f.name: st.deferred(lambda h=hints[f.name]: _values(h)) for f in dataclasses.fields(cls)
        },
    )


@pytest.mark.parametrize("cls", _RECORDS, ids=lambda c: c.__name__)
@given(data=st.data())
def test_every_record_round_trips_exactly(cls: type[Any], data: st.DataObject) -> None:
    obj = data.draw(_record(cls))
    raw = codec.encode(obj)
    back = codec.decode(raw)
    assert back == obj
    assert type(back) is type(obj)
    assert codec.encode(back) == raw  # the bytes verify compares are stable
    assert codec.from_record(codec.unpack(codec.pack(codec.to_record(obj)))) == obj


def test_a_float_time_comes_back_to_the_bit() -> None:
    t = 23497.835123456789
    delta = events.BookDelta(events.Side.BID, 1, 2, t)
    assert codec.decode(codec.encode(delta)).venue_time.hex() == t.hex()


def test_garbage_is_a_codec_error_not_a_crash() -> None:
    for raw in (b"", b"\xc1", codec.pack((9999, 1, 2)), codec.pack("text")):
        with pytest.raises(codec.CodecError):
            codec.decode(raw)


def test_a_changed_layout_is_named_class_by_class() -> None:
    recorded = codec.schema()
    assert codec.schema_changes(recorded) == []
    recorded["Fill"] = {"code": recorded["Fill"]["code"], "fields": ["tid", "oid"]}
    recorded["Gone"] = {"code": 999, "fields": []}
    changes = codec.schema_changes(recorded)
    assert any(line.startswith("Fill: recorded") for line in changes)
    assert any(line.startswith("Gone: recorded, unknown") for line in changes)
