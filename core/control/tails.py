"""The view's long sequences -- the event log, the fills -- sent to each console as what is new.

A view carries the last 500 log entries and the last 200 fills; from one view to the next
most of them are the same objects (the maker keeps them in bounded deques, appending at the
end).  Sending them whole, ten times a second, cost the engine most of a published view's
encoding, and cost the console the decoding and the garbage of 700 objects a view -- whose
collections (70-96 ms each, measured on the attached console) made the tail of the kill
prompt's latency.

So each console has a ``TailSender`` per sequence on the engine's side, holding the objects it
last sent that console, and a ``TailReceiver`` on its own side holding what it decoded.  A
frame says how many of the held items to keep (the longest run at the end of what was sent
that starts the new sequence, compared by identity) and carries only the items after them.
When the sequence was rewritten in the middle (a fill row replaced by its trade, D4) the run
is shorter or zero and more is sent: never a wrong list, only a longer frame.  Frames to one
console are written in order on one stream, and a console that skips frames skips them on the
engine's side, so the two ends always agree on what is held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


class TailError(ValueError):
    """A delta that does not fit what this console holds."""


def kept_run(sent: Sequence[Any], items: Sequence[Any]) -> int:
    """The largest ``k`` such that ``items[:k]`` are the last ``k`` objects of ``sent``."""
    if not sent or not items:
        return 0
    last = sent[-1]
    for j in range(min(len(items), len(sent)) - 1, -1, -1):
        if items[j] is last:
            k = j + 1
            start = len(sent) - k
            if all(items[i] is sent[start + i] for i in range(k)):
                return k
            return 0
    return 0


class TailSender:
    """The engine's side: what this console holds of one sequence."""

    __slots__ = ("_encode", "_sent")

    def __init__(self, encode: Callable[[Any], Any]) -> None:
        self._encode = encode
        self._sent: Sequence[Any] = ()

    def delta(self, items: Sequence[Any]) -> list[Any]:
        """``[keep, [new items encoded]]``, and this console now holds ``items``."""
        keep = kept_run(self._sent, items)
        encode = self._encode
        new = [encode(item) for item in items[keep:]]
        self._sent = items
        return [keep, new]


class TailReceiver:
    """The console's side: the decoded sequence, rebuilt from each delta."""

    __slots__ = ("_decode", "held")

    def __init__(self, decode: Callable[[Any], Any]) -> None:
        self._decode = decode
        self.held: tuple[Any, ...] = ()

    def apply(self, data: Any) -> tuple[Any, ...]:
        if not isinstance(data, list | tuple) or len(data) != 2:
            raise TailError(f"not a delta: {data!r:.80}")
        keep, new = data
        if not isinstance(keep, int) or not 0 <= keep <= len(self.held):
            raise TailError(f"keep {keep!r} of {len(self.held)} held")
        if not isinstance(new, list | tuple):
            raise TailError(f"new items are not a list: {new!r:.80}")
        decode = self._decode
        kept = self.held[len(self.held) - keep :] if keep else ()
        self.held = kept + tuple(decode(item) for item in new)
        return self.held
