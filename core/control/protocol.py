"""The control socket's protocol: versioned, length-prefixed msgpack messages (issue 18).

Every message is a 4-byte big-endian length and a msgpack map with a type ``t``.  A console
opens with ``hello`` (the protocol version, read-only or not, its pid); the engine answers
``welcome`` (its name, venue, market, pid) or ``refused`` (why), then streams ``view`` frames
(the newest view only: a console that reads slowly skips frames, the engine never waits) and
answers each ``action`` with ``done`` (passed to the engine, or refused and why).  ``hello``
with ``probe`` gets the ``welcome`` and the connection closes (``mm-console ls``).  A version
mismatch is refused by both ends, by name.

Actions travel as the journal's records (``core.journal.codec``), views as
``core.control.views`` data without their log and fills, which follow in the same ``view``
message as what that console does not hold yet (``core.control.tails``): both ends run the
same version, which ``hello`` checks.
"""

from __future__ import annotations

import struct
from typing import Any

import msgpack

VERSION = 2  # 2: a view's log and fills travel as what the console lacks
MAX_MESSAGE = 16 * 1024 * 1024  # a view is about 60 kB; anything near this is not ours
_LENGTH = struct.Struct(">I")


class ProtocolError(Exception):
    """A message that is not this protocol's: the connection is closed, with this reason."""


def frame(message: dict[str, Any]) -> bytes:
    body = msgpack.packb(message, use_bin_type=True)
    return _LENGTH.pack(len(body)) + body  # type: ignore[no-any-return]


def length_of(header: bytes) -> int:
    (n,) = _LENGTH.unpack(header)
    if n > MAX_MESSAGE:
        raise ProtocolError(f"a message of {n:,} bytes is not this protocol's")
    return int(n)


def parse(body: bytes) -> dict[str, Any]:
    try:
        message = msgpack.unpackb(body, raw=False, use_list=False, strict_map_key=False)
    except Exception as exc:  # msgpack's own errors: not msgpack at all
        raise ProtocolError(f"unreadable message: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("a message without a type")
    return message


HEADER_SIZE = _LENGTH.size
