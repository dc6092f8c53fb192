"""What the exchange has said but the client has not heard yet, and when it will hear it.

Two channels, as on a real venue: the websocket ``stream`` is one ordered connection (a message
never overtakes an earlier one, so its delivery times are made non-decreasing), while ``direct``
messages (request answers, each its own HTTP exchange, and connection notices) may arrive in
any order.  Between the two, anything goes: that is where a fill overtakes its placement
answer.  A ``held`` message is one the venue sends on the stream later than it made it (a fill
held back, a repeated fill, D33/D35): it joins the stream at its release time, behind what was
sent before then and ahead of what is sent after, and a disconnect loses it like anything in
flight.  Delivery order is (time, sequence number), so it is deterministic.  Messages are
groups of events (one websocket frame, one HTTP answer) so that a batch answer arrives in one
piece.  The queue never decides a delay itself and never reads a clock.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

from core.events import Event

_Message = tuple[float, int, list[Event]]


class DeliveryQueue:
    """Messages in flight to one client, on its stream and direct channels."""

    def __init__(self) -> None:
        self._stream: deque[_Message] = deque()
        self._direct: list[_Message] = []
        self._held: list[_Message] = []
        self._stream_tail = -math.inf
        self._seq = 0

    def stream(self, at: float, events: list[Event]) -> None:
        """Queue a websocket message; it cannot arrive before the previous one."""
        if at < self._stream_tail:
            at = self._stream_tail
        self._stream_tail = at
        self._seq += 1
        self._stream.append((at, self._seq, events))

    def direct(self, at: float, events: list[Event]) -> None:
        self._seq += 1
        heapq.heappush(self._direct, (at, self._seq, events))

    def hold(self, release_at: float, events: list[Event]) -> None:
        """A stream message the venue sends at ``release_at`` rather than now."""
        self._seq += 1
        heapq.heappush(self._held, (release_at, self._seq, events))

    @property
    def next_time(self) -> float:
        """When the next message is delivered or a held one joins the stream."""
        stream = self._stream[0][0] if self._stream else math.inf
        direct = self._direct[0][0] if self._direct else math.inf
        first = stream if stream < direct else direct
        if self._held and self._held[0][0] < first:
            return self._held[0][0]
        return first

    def pop_into(self, out: list[Event]) -> None:
        """Move the next message's events to ``out`` — or, when the next thing due is a held
        message's release, put it on the stream (``out`` is left as it was)."""
        stream = self._stream
        direct = self._direct
        held = self._held
        if held:
            release = held[0][0]
            if (not stream or release < stream[0][0]) and (not direct or release < direct[0][0]):
                _, _, events = heapq.heappop(held)
                self.stream(release, events)
                return
        if stream and direct:
            s, d = stream[0], direct[0]
            from_stream = s[0] < d[0] or (s[0] == d[0] and s[1] < d[1])
        else:
            from_stream = bool(stream)
        if from_stream:
            out.extend(stream.popleft()[2])
        else:
            out.extend(heapq.heappop(direct)[2])

    def drop_stream(self) -> int:
        """The websocket went down: everything still in flight on it, or held back to be sent
        on it, is lost; returns how many events."""
        dropped = sum(len(events) for _, _, events in self._stream)
        dropped += sum(len(events) for _, _, events in self._held)
        self._stream.clear()
        self._held.clear()
        return dropped
